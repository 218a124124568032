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
from pathlib import Path

from loaders import demo
from loaders.store_sync import open_store

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
    """Open ``url`` (a new Streamlit session), sign in through the form, wait for the page.
    A browser that signed in before sends its session cookie and gets no form: kept when
    it is ``username``'s, else signed out first."""
    page.goto(url)
    wait_until_idle(page)
    signed_in = page.locator('[data-testid="stSidebar"]').get_by_text("已登录")
    if page.get_by_label("用户名").count() == 0 and signed_in.count():
        if username in signed_in.first.inner_text():
            return
        page.get_by_role("button", name="退出登录").click()
        wait_until_idle(page)
        page.goto(url)
        wait_until_idle(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector("text=已登录", timeout=60_000)
    wait_until_idle(page)


DEMO_USER, DEMO_PASSWORD = "演示督办员", "demo-password-1"
DEMO_STAFF, DEMO_UNIT = "演示填报员", demo.DEMO_UNIT


def seed_demo_progress(url: str) -> None:
    """Varied progress on every row as ``DEMO_USER`` (:func:`loaders.demo.seed_progress`)."""
    demo.seed_progress(url, DEMO_USER, DEMO_PASSWORD)


def seed_demo_workflow(url: str) -> None:
    """Reports, reviews, an extension request and reminders (:func:`loaders.demo.seed_workflow`)."""
    demo.seed_workflow(url, DEMO_USER, DEMO_STAFF, DEMO_PASSWORD)
