"""Two Streamlit servers on different ports, each with its own copy of the files, against
one PostgreSQL database, in a real browser: a save on A shows on B after a rerun, a policy
published on A is listed on B (and B offers no revision undoing it), and two publishes of
one policy at once leave one edition and a clear message for the other."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.live import (
    BROWSER_USER,
    add_account,
    open_signed_in,
    streamlit_server,
)
from tests.conftest import PG_URL
from tests.update_grid import PERCENT, edit_cell, grid_cell, open_update, tab_panel
from tracker import sources
from tracker.schema import MEASURES_CSV, SOURCES_DIR, SUPERVISOR, UNITS_CSV
from tracker.store import Store, make_engine

ROOT = Path(__file__).resolve().parent.parent
UPLOAD = ROOT / "tests" / "data" / "uploads" / "shuzi-keji-2025-8.txt"
TITLE = "推进数字科技服务高质量发展的若干措施"  # the upload's title line, read by hand


def _site(folder: Path) -> dict[str, str]:
    """A server's own disk: copies of the shipped sources, register and measures table."""
    shutil.copytree(SOURCES_DIR, folder / "sources")
    shutil.copy(UNITS_CSV, folder / "units.csv")
    shutil.copy(MEASURES_CSV, folder / "measures.csv")
    return {
        "TRACKER_SOURCES_DIR": str(folder / "sources"),
        "TRACKER_UNITS_CSV": str(folder / "units.csv"),
        "TRACKER_MEASURES_CSV": str(folder / "measures.csv"),
    }


@pytest.fixture(scope="module")
def shared_database(pg_available) -> Iterator[str]:
    """One PostgreSQL schema for the module, seeded, with the browser's supervisor."""
    schema = f"two_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    add_account(url, BROWSER_USER, SUPERVISOR)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="module")
def servers(shared_database, chromium, tmp_path_factory) -> Iterator[dict]:
    sites = {name: _site(tmp_path_factory.mktemp(f"server-{name}")) for name in "ab"}
    with (
        streamlit_server(shared_database, env=sites["a"]) as a,
        streamlit_server(shared_database, env=sites["b"]) as b,
    ):
        yield {"a": a, "b": b, "sites": sites}


def _add(site: dict[str, str], db: str, file: Path, *extra: str) -> subprocess.Popen:
    """``python -m loaders add FILE --yes`` on a server's own files."""
    command = [sys.executable, "-m", "loaders", "add", str(file), "--user", BROWSER_USER]
    return subprocess.Popen(
        [*command, "--yes", "--db", db, *extra],
        cwd=ROOT,
        env={**os.environ, **site},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_save_on_a_shows_on_b_after_a_rerun(chromium, page, servers):
    other = chromium.new_page(viewport={"width": 1400, "height": 1000})
    open_update(other, servers["b"], "市商务委")
    before = grid_cell(tab_panel(other), PERCENT, 0).text_content()
    value = "37" if before != "37" else "38"
    open_update(page, servers["a"], "市商务委")
    edit_cell(page, tab_panel(page), PERCENT, 0, value)
    page.get_by_role("button", name="保存修改").click()
    page.wait_for_selector("text=已保存 1 条")
    # B's next run (a new session there: the page's draft keeps what a session loaded)
    # reads through B's caches, keyed on the database revision A just moved.
    open_update(other, servers["b"], "市商务委")
    assert grid_cell(tab_panel(other), PERCENT, 0).text_content() == value
    other.close()


def test_a_policy_published_on_a_is_listed_on_b(page, servers, shared_database):
    alias = ["--unit-alias", "市低碳办=市生态环境局"]
    done = _add(servers["sites"]["a"], shared_database, UPLOAD, *alias)
    out, err = done.communicate(timeout=120)
    assert done.returncode == 0, err
    open_signed_in(page, f"{servers['b']}/policies")
    page.get_by_text("已发布政策", exact=True).wait_for()
    # The list of policies is the page's last grid (待明确的责任单位 comes before it).
    listing = page.locator('[data-testid="stDataFrame"]').last
    listing.wait_for()
    assert listing.get_by_text(TITLE).count() >= 1
    # B's own measures.csv is behind: it offers no revision that would remove the policy.
    assert page.get_by_text("待确认的修订").count() == 0


def test_two_publishes_of_one_policy_at_once_leave_one_edition(servers, shared_database):
    seed = next(SOURCES_DIR.glob("*hufubangui-2024-14.txt")).read_text(encoding="utf-8")
    revised = seed[: seed.index("（十）强化服务保障")] + seed[seed.index("本措施自") :]
    runs = []
    for name in "ab":
        file = Path(servers["sites"][name]["TRACKER_SOURCES_DIR"]).parent / "hufubangui-2024-14.txt"
        file.write_text(revised, encoding="utf-8")
        runs.append(_add(servers["sites"][name], shared_database, file))
    results = [(run.wait(timeout=180), run.communicate()[1]) for run in runs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert "已被他人同步或修订" in refused or "刚由他人发布" in refused, refused
    store = Store(make_engine(shared_database))
    editions = [name for name, _ in sources.stored_texts(store) if "hufubangui-2024-14" in name]
    assert len(editions) == 1
    assert "强化服务保障" not in dict(sources.stored_texts(store))[editions[0]].decode()
    store.engine.dispose()
