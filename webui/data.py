"""Cached access to the store for every page.

Three layers, all keyed by the store's data revision, so a save anywhere (web, Excel import,
CLI) shows on the next rerun and nothing needs clearing by hand:

- the store handle: one per process (``st.cache_resource``);
- the assignment table with lights and lead units: one shared, read-only frame per revision
  (``st.cache_resource``: at 100,000 rows, copying it out of ``st.cache_data`` on every rerun
  would alone cost more than the rerun budget);
- each page's view (``pagelogic.views``): ``st.cache_resource`` per revision, filters and
  arguments, so a rerun only draws.  Shared and read-only like the rows: ``st.cache_data``
  pickled every view on its first load and unpickled it on every rerun (任务清单's view is
  38 MB pickled at 100,000 rows: 0.19 s of its first load, 45 ms of each rerun).  The first
  run that reads a newer revision or a new day lets go of every older view
  (:func:`_now_reading`).

Nothing cached here depends on who is signed in.
"""

from __future__ import annotations

import gc
import importlib
import threading
from collections.abc import Callable
from datetime import date

import pandas as pd
import streamlit as st
import streamlit.emojis  # noqa: F401  (see below)

from loaders.store_sync import open_store
from loaders.table_csv import csv_bytes
from pagelogic import editing
from tracker.aggregate import derive
from tracker.labels import SHOW_IDS, TASK_ID
from tracker.progress import now
from tracker.store import Store, database_url
from tracker.supervision import Supervision
from webui import filters


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    return open_store(url)


def get_store() -> Store:
    """The store for ``DATABASE_URL`` (default: data/tracker.db), created or migrated and
    synced from the measures file on the first call in this process."""
    return _store(database_url())


@st.cache_resource(show_spinner=False, max_entries=2)
def _assignments(url: str, revision: int, today: date) -> pd.DataFrame:
    return derive(_store(url).assignments(), today)


def assignments() -> pd.DataFrame:
    """Every live assignment with progress, its warning light as of today and its task's
    ``lead_unit`` (computed before any filter, so a task keeps naming its lead).

    Shared by every session: treat it as read-only (derive, never assign into it).
    """
    return _assignments(*_now_reading())


@st.cache_resource(show_spinner=False, max_entries=256)
def _view(name: str, _builder: Callable, url: str, revision: int, today: date, chosen, args: tuple):
    rows = _assignments(url, revision, today)
    return _builder(rows if chosen is None else chosen.apply(rows), today, *args)


def view(builder: Callable, *args, filtered: bool = True):
    """``builder(rows, today, *args)`` from ``pagelogic.views``, cached per data revision,
    sidebar filters (unless ``filtered=False``) and ``args``.  Shared by every session:
    read it, never assign into it."""
    name = f"{builder.__module__}.{builder.__qualname__}"
    chosen = filters.current() if filtered else None
    return _view(name, builder, *_now_reading(), chosen, args)


@st.cache_resource(show_spinner=False, max_entries=32)
def _supervised(
    name: str, _method: Callable, url: str, revision: int, seen: tuple, today: date, args: tuple
):
    return _method(Supervision(_store(url)), _assignments(url, revision, today), today, *args)


def supervised(method: Callable, *args):
    """``method(supervision, rows, today, *args)``, a read of :class:`Supervision` (报送's
    board, 催办's list, 通报's rankings), cached until a save, a supervision step or a
    reminder.  Shared and read-only like :func:`assignments`: copying 100,000 reminder items
    out of ``st.cache_data`` took half of 催办's rerun."""
    name = f"{method.__module__}.{method.__qualname__}"
    url, revision, day = _now_reading()
    seen = Supervision(get_store()).high_water()
    return _supervised(name, method, url, revision, seen, day, args)


# The newest (revision, day) a run has read, per database.
_newest: dict[str, tuple[int, date]] = {}
_newest_lock = threading.Lock()


def _now_reading() -> tuple[str, int, date]:
    """The database, its revision and today: every cache key here starts with them.  On the
    first run that reads a newer revision or a new day, every kept view and supervision read
    is dropped.

    No run asks for an older revision again (it only grows), but their views stayed until
    256 were kept: at 100,000 assignments the server grew by about 70 MB for every save
    after which someone went round the pages (527 MB to 864 MB in five such rounds).
    """
    url, revision, day = database_url(), get_store().revision(), today()
    with _newest_lock:
        newer = (revision, day) > _newest.setdefault(url, (revision, day))
        if newer:
            _newest[url] = (revision, day)
    if newer:
        _view.clear()
        _supervised.clear()
    return url, revision, day


@st.cache_data(show_spinner=False, max_entries=32)
def _history(url: str, revision: int, query: dict) -> pd.DataFrame:
    return _store(url).history(**query)


def history(**query) -> pd.DataFrame:
    """:meth:`Store.history` cached per data revision and query (审计 and a task's history
    on 进度填报: a rerun at 100,000 assignments re-ran the same query for ~0.9 s)."""
    url, revision, _day = _now_reading()
    return _history(url, revision, query)


@st.cache_data(show_spinner=False, max_entries=64)
def _unit_trend(url: str, revision: int, today: date, unit: str) -> pd.DataFrame:
    ids = editing.unit_assignment_ids(_assignments(url, revision, today), unit)
    return editing.period_trend(_store(url).snapshots(unit=unit), ids)


def unit_trend(unit: str) -> pd.DataFrame:
    """Share done per reporting period for one unit's assignments."""
    return _unit_trend(*_now_reading(), unit)


def today() -> date:
    """Shanghai calendar day: the reference for lights and staleness."""
    return now().date()


def download_csv(frame: pd.DataFrame, file_name: str, label: str = "下载数据（CSV）") -> None:
    """A download button for a table's data, built only when clicked (large tables would
    otherwise be serialised on every rerun) by :func:`loaders.table_csv.csv_bytes`."""
    st.download_button(
        label,
        lambda: csv_bytes(frame),
        file_name=file_name,
        mime="text/csv",
        key=f"download_{file_name}",
        on_click="ignore",
    )


def task_id_toggle(key: str) -> dict:
    """A 「显示任务编号」 toggle above a table that names tasks by 文号 and measure
    (:mod:`tracker.labels`): the ``column_config`` hiding the 任务编号 column unless asked."""
    shown = st.toggle(SHOW_IDS, value=False, key=key, help="任务编号供与导出文件、系统记录核对")
    return {} if shown else {TASK_ID: None}


def table(shown, key: str, *, empty: str = "没有符合条件的数据。", **kwargs):
    """A ``pagelogic.views.Table``: its first rows and a note when cut; ``empty`` instead of
    a grid with no rows (which would say "empty" in English); missing values as "—".
    Returns what ``st.dataframe`` returns (the selection, with ``on_select``), or ``None``."""
    if not len(shown):
        st.info(empty)
        return None
    drawn = st.dataframe(
        shown.shown, hide_index=True, width="stretch", key=key, placeholder="—", **kwargs
    )
    if shown.cut:
        st.caption(f"仅显示前 {len(shown.shown):,} 行，共 {len(shown):,} 行；下载 CSV 查看全部。")
    return drawn


def header_width(header: str) -> int:
    """Pixels a grid column needs to show ``header`` whole: 14 per Chinese (full-width)
    character, 8 per other, and room for the padding and the column menu."""
    return sum(14 if ord(ch) > 0x2E7F else 8 for ch in header) + 40


def whole_headers(headers: list[str]) -> dict:
    """``column_config`` giving every column at least its header's width (the import
    conflict table cut "您的修改（未保存）" off at the default width)."""
    return {h: st.column_config.Column(h, width=header_width(h)) for h in headers}


# Streamlit runs a full gc.collect() after every script run (runner.postScriptGC).  With the
# ~170,000 long-lived objects streamlit, pandas, plotly and SQLAlchemy create on import,
# each took 100-300 ms, holding the GIL, so a page switch's last messages waited for it.
# The modules live as long as the process: leave them out of every later collection.
# Streamlit's emoji catalogue is imported here too: st.info/warning/success look for a
# leading emoji in any non-ASCII text (all of ours), and the first such call in a process
# compiled a regex of every emoji, 0.2-0.4 s of whichever page's first load drew it.  So
# are the modules only some pages import (workbooks, evidence images): the first visit to
# 进度填报 or 审计 in a process spent 0.1-0.2 s importing them.  The list is kept complete by
# tests/test_layering.py; it comes last, as webui.auth and webui.drafts import this module.
_PAGE_MODULES = (
    "excel.audit",
    "excel.notices",
    "excel.read",
    "excel.reminders",
    "excel.report",
    "loaders.policy_files",
    "loaders.policy_report",
    "pagelogic.accounts",
    "pagelogic.deadlines",
    "pagelogic.notices",
    "tracker.audit",
    "tracker.contacts",
    "tracker.crosspolicy",
    "webui.auth",
    "webui.drafts",
    "webui.evidence",
)
for _module in _PAGE_MODULES:
    importlib.import_module(_module)
gc.freeze()
