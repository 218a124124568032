"""Shared fixtures: a fresh store per test on SQLite and on a real PostgreSQL server,
small hand-made frames in the shape of ``data/measures.csv``, and for the browser tests one
headless Chromium plus a database and a live server per test module."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import date

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import create_engine, text
from streamlit.runtime.pages_manager import PagesManager

from bench.live import (
    BROWSER_USER,
    CHROMIUM,
    add_account,
    exceptions_on,
    launch_chromium,
    open_signed_in,
    streamlit_server,
)
from tracker.schema import MEASURE_COLUMNS, SUPERVISOR
from tracker.store import Store, make_engine

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_reason() -> str | None:
    """None when the server answers, else why the PostgreSQL half is skipped."""
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to reach the server means: skip, with the reason
        return f"PostgreSQL at {PG_URL} not reachable: {exc.__class__.__name__}: {exc}"


_PG_REASON = _postgres_reason()


@pytest.fixture(autouse=True)
def _apptest_runs_the_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest re-detects the ``pages/`` folder before every run and then runs a page file
    alone (multipage v1), skipping dashboard.py and its sidebar; an st.navigation app never
    wants that."""
    original = PagesManager.__init__

    def init(self, *args, **kwargs) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(autouse=True)
def _setup_code_in_tmp(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first start under test writes its setup code beside the test, not into data/."""
    monkeypatch.setenv("TRACKER_SETUP_CODE_FILE", str(tmp_path / "setup-code"))


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for every browser test; under CI a missing browser fails."""
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is missing"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A desktop-wide tab of the shared Chromium; the test fails if the app showed an
    exception in it."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    yield page
    assert exceptions_on(page) == []
    page.close()


@pytest.fixture(scope="module")
def seed_browser_database() -> Callable[[str], None]:
    """What a browser test module's database holds besides the seeds and the supervisor
    ``BROWSER_USER``: a module needing more (another account, progress) overrides this
    fixture with its own ``(url) -> None``."""
    return lambda url: None


@pytest.fixture(scope="module")
def database(tmp_path_factory, seed_browser_database) -> str:
    """A throwaway SQLite database for one browser test module: the seeds of
    data/measures.csv, the supervisor ``BROWSER_USER`` and the module's own seed data."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 't.db'}"
    add_account(url, BROWSER_USER, SUPERVISOR)
    seed_browser_database(url)
    return url


@pytest.fixture(scope="module")
def server(database, chromium) -> Iterator[str]:
    """``streamlit run dashboard.py`` on ``database`` for one module, past its first session
    (a new server's first run does start-up work that would slow the first test); yields the
    base URL."""
    with streamlit_server(database) as base:
        page = chromium.new_page()
        try:
            open_signed_in(page, base)
        finally:
            page.close()
        yield base


@pytest.fixture(scope="session")
def pg_available() -> None:
    if _PG_REASON:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must test against PostgreSQL: {_PG_REASON}")
        pytest.skip(_PG_REASON)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A database URL for an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    request.getfixturevalue("pg_available")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def make_store(db_url):
    """Build a store on the test database, synced from the given measures frame."""
    stores: list[Store] = []

    def factory(measures: pd.DataFrame) -> Store:
        store = Store(make_engine(db_url))
        store.create_schema()
        store.sync(measures)
        stores.append(store)
        return store

    yield factory
    for store in stores:
        store.engine.dispose()


def measures_frame(rows: list[dict]) -> pd.DataFrame:
    """A measures.csv-shaped frame from short row dicts (defaults fill the rest)."""
    defaults = {
        "policy_id": "demo-2026-1",
        "policy_title": "示范政策",
        "doc_no": "沪府办发〔2026〕1号",
        "issuer": "上海市人民政府办公厅",
        "issue_date": "2026-01-10",
        "effective_from": "2026-02-01",
        "effective_to": "2028-01-31",
        "source_url": "",
        "section_no": 1,
        "section_title": "一、示范",
        "measure_title": "示范措施",
        "task_seq": 1,
        "task_text": "示范任务",
        "unit_full_name": "",
        "unit_kind": "municipal",
        "due_hint": "",
    }
    frame = pd.DataFrame([{**defaults, **row} for row in rows])
    if "unit_full_name" in frame:
        frame["unit_full_name"] = frame["unit_full_name"].where(
            frame["unit_full_name"] != "", frame["unit"]
        )
    return frame[MEASURE_COLUMNS]


def tasks_frame(tasks: list[tuple[str, str, str, str, int]]) -> pd.DataFrame:
    """A measures frame from (task_id, task text, unit, role, rank) tuples; the measure number
    is read from the id (``demo-m02-t1`` belongs to measure 2)."""
    return measures_frame(
        [
            {
                "measure_no": int(task_id.split("-m")[1][:2]),
                "task_id": task_id,
                "task_seq": int(task_id.rsplit("-t", 1)[1]),
                "task_text": text,
                "unit": unit,
                "role": role,
                "unit_rank": rank,
            }
            for task_id, text, unit, role, rank in tasks
        ]
    )


@pytest.fixture
def app_env_of(tmp_path, monkeypatch) -> Iterator[Callable[[pd.DataFrame], str]]:
    """Point the dashboard (AppTest or a server) at a fresh SQLite database seeded from the
    given measures frame, with every cache and setting that could leak in cleared; returns the
    database URL."""

    def make(measures: pd.DataFrame) -> str:
        csv = tmp_path / "measures.csv"
        measures.to_csv(csv, index=False, encoding="utf-8-sig")
        url = f"sqlite:///{tmp_path / 't.db'}"
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("TRACKER_MEASURES_CSV", str(csv))
        for name in (
            "TRACKER_ADMIN_USER",
            "TRACKER_ADMIN_PASSWORD",
            "TRACKER_PERIOD",
            "TRACKER_SESSION_MINUTES",
        ):
            monkeypatch.delenv(name, raising=False)
        st.cache_data.clear()
        st.cache_resource.clear()
        return url

    yield make
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def small_measures() -> pd.DataFrame:
    """Two measures, three tasks, six assignments, three units."""
    return measures_frame(
        [
            {
                "measure_no": 1,
                "task_id": "demo-m01-t1",
                "task_seq": 1,
                "unit": "市科委",
                "role": "lead",
                "unit_rank": 1,
            },
            {
                "measure_no": 1,
                "task_id": "demo-m01-t1",
                "task_seq": 1,
                "unit": "市教委",
                "role": "support",
                "unit_rank": 2,
            },
            {
                "measure_no": 1,
                "task_id": "demo-m01-t2",
                "task_seq": 2,
                "unit": "市教委",
                "role": "lead",
                "unit_rank": 1,
            },
            {
                "measure_no": 2,
                "task_id": "demo-m02-t1",
                "task_seq": 1,
                "unit": "市科委",
                "role": "lead",
                "unit_rank": 1,
            },
            {
                "measure_no": 2,
                "task_id": "demo-m02-t1",
                "task_seq": 1,
                "unit": "市财政局",
                "role": "support",
                "unit_rank": 2,
            },
            {
                "measure_no": 2,
                "task_id": "demo-m02-t1",
                "task_seq": 1,
                "unit": "市教委",
                "role": "support",
                "unit_rank": 3,
            },
        ]
    )


@pytest.fixture
def today() -> date:
    return date(2026, 11, 23)
