"""A live dashboard for browser work: ``streamlit run`` on a free port, headless Chromium
from the system package, the waits that tell when Streamlit has drawn, signing in through
the form, and a demo database whose charts show every colour.

Shared by the browser tests, ``python -m bench.browser`` and ``scripts/screenshots.py``,
so all three start the server and the browser the same way.  Playwright is imported by
the callers; the functions here take its ``Browser``/``Page`` objects.
"""

from __future__ import annotations

import ast
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from loaders.store_sync import open_store
from tracker.progress import Update, now, period_of

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def _navigation() -> list[tuple[str, str, str]]:
    """(script name, url path, title) of each page in navigation order, read from ``PAGES``
    in dashboard.py (a literal; importing the frame would run Streamlit), so a page added
    to the navigation is tested and photographed without a second list to keep."""
    tree = ast.parse((ROOT / "dashboard.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "PAGES" for target in node.targets
        ):
            sections = ast.literal_eval(node.value)
            return [
                (Path(script).stem, path, title)
                for pages in sections.values()
                for script, title, _icon, path, _right in pages
            ]
    raise LookupError("dashboard.py defines no PAGES")


# url path ("" is the default page) and title of each page: {"overview": "", "by_unit": ...}
_PAGES = _navigation()
PAGE_PATHS: dict[str, str] = {name: path for name, path, _title in _PAGES}
PAGE_TITLES: dict[str, str] = {name: title for name, _path, title in _PAGES}
BROWSER_USER = "督办浏览器"
BROWSER_PASSWORD = "browser-pass-123"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server(
    database_url: str,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    script: str = "dashboard.py",
) -> Iterator[str]:
    """Run ``script`` (the dashboard) on a free local port; yield its base URL; always stop it."""
    with streamlit_process(database_url, env=env, timeout=timeout, script=script) as (base, _):
        yield base


@contextmanager
def streamlit_process(
    database_url: str,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    script: str = "dashboard.py",
) -> Iterator[tuple[str, subprocess.Popen]]:
    """:func:`streamlit_server` that also yields the server's process (to read its memory)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    environment = {**os.environ, "DATABASE_URL": database_url, **(env or {})}
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process, timeout)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_healthy(base: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not answer at {base} within {timeout}s")


def peak_rss_mb(pid: int) -> float:
    """The largest resident set process ``pid`` has had so far (``VmHWM``), in MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise LookupError(f"no VmHWM for process {pid}")


def launch_chromium(playwright):
    """Headless Chromium from the system package, with the flags containers need."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_until_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait until the script run finished and no skeleton placeholder is left."""
    idle = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    page.wait_for_selector(idle, timeout=timeout_ms)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(800)  # let charts lay out; then make sure no rerun started
    page.wait_for_selector(idle, timeout=timeout_ms)


def exceptions_on(page) -> list[str]:
    """Texts of the Streamlit exception boxes on the page (empty when healthy)."""
    return [box.inner_text() for box in page.locator('[data-testid="stException"]').all()]


def add_account(database_url: str, username: str, role: str, units=(), password=BROWSER_PASSWORD):
    """Create (and seed) the database and an account in it before the server starts."""
    store = open_store(database_url)
    try:
        store.accounts.add(username, role=role, units=units, password=password)
    finally:
        store.engine.dispose()


def open_signed_in(
    page, url: str, username: str = BROWSER_USER, password: str = BROWSER_PASSWORD
) -> None:
    """Open ``url`` (a new Streamlit session), sign in through the form, wait for the page."""
    page.goto(url)
    wait_until_idle(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector("text=已登录", timeout=60_000)
    wait_until_idle(page)


# status, percent, due date offset (days from today), note: cycled over lead assignments
DEMO = [
    ("done", 100, -30, "已完成并报送成果"),
    ("in_progress", 60, 90, "按计划推进"),
    ("in_progress", 30, 20, "推进中，临近时限"),
    ("delayed", 20, -10, "配套资金尚未到位"),
    ("not_started", 0, 180, ""),
    ("done", 100, -5, "已完成"),
    ("on_hold", 10, 120, "等待上级部署"),
]


DEMO_USER, DEMO_PASSWORD = "演示督办员", "demo-password-1"
DEMO_STAFF, DEMO_UNIT = "演示填报员", "市科委"
DEMO_DAYS_AGO = 20  # the demo progress is dated this long ago: some done tasks are on time


def seed_demo_progress(url: str) -> None:
    """Give lead and support rows varied, valid progress so every status and light appears.

    Written as of ``DEMO_DAYS_AGO`` days ago, so a task marked done with a deadline since
    then counts as done on time in 通报 and one due before as done late."""
    store = open_store(url)
    rows = store.assignments()
    today = now().date()  # the dashboard's today (Shanghai), not the machine's
    ranks = rows["unit_rank"].fillna(0).astype(int).tolist()
    ids, versions = rows["assignment_id"].tolist(), rows["version"].tolist()
    updates = []
    for i, (aid, version, rank) in enumerate(zip(ids, versions, ranks, strict=True)):
        status, percent, offset, note = DEMO[(i * 3 + rank) % len(DEMO)]
        changes: dict[str, object] = {"status": status, "percent": percent, "note": note}
        changes["due_date"] = (today + timedelta(days=offset)).isoformat()
        updates.append(Update(int(aid), int(version), changes))
    store.accounts.add(DEMO_USER, role="supervisor", password=DEMO_PASSWORD)
    account = store.accounts.sign_in(DEMO_USER, DEMO_PASSWORD)
    written = now() - timedelta(days=DEMO_DAYS_AGO)
    result = store.apply(updates, user=account, source="web", at=written)
    print(f"demo progress: {result.changed_assignments} assignments updated")
    store.engine.dispose()


def seed_demo_workflow(url: str) -> None:
    """After :func:`seed_demo_progress`: a 填报员 of ``DEMO_UNIT`` signs for its lead tasks
    and reports some (one accepted, one sent back, the rest waiting for review), asks for
    more time on one, and the supervisor reminds a few units, so 报送, 审核 and 催办 show
    their tables."""
    from tracker.supervision import Supervision

    store = open_store(url)
    try:
        store.accounts.add(DEMO_STAFF, role="staff", units=[DEMO_UNIT], password=DEMO_PASSWORD)
        staff = store.accounts.sign_in(DEMO_STAFF, DEMO_PASSWORD)
        supervisor = store.accounts.sign_in(DEMO_USER, DEMO_PASSWORD)
        flow = Supervision(store)
        rows = store.assignments()
        today = now().date()
        period = period_of(today)
        leads = rows[(rows["unit"] == DEMO_UNIT) & (rows["role"] == "lead")]
        ids = [int(a) for a in leads["assignment_id"]]
        for aid in ids[:8]:
            flow.acknowledge(aid, user=staff)
        for aid in ids[:5]:
            flow.submit(aid, "本期按计划推进，已召开专题会议部署。", user=staff)
        flow.accept(ids[0], period, user=supervisor)
        flow.send_back(ids[1], period, "请补充佐证材料和下一步计划。", user=supervisor)
        open_due = leads[(leads["due_date"].notna()) & (leads["status"] != "done")]
        for aid, due in zip(open_due["assignment_id"], open_due["due_date"], strict=True):
            if date.fromisoformat(str(due)[:10]) > today:
                later = date.fromisoformat(str(due)[:10]) + timedelta(days=60)
                flow.request_extension(int(aid), later, "配套资金下达较晚", user=staff)
                break
        flow.remind(
            [(unit, 3, f"请{unit}尽快报送本期进展。") for unit in ("市科委", "市教委", "市商务委")],
            user=supervisor,
        )
    finally:
        store.engine.dispose()
    print("demo workflow: reports, a review, an extension request and reminders")
