"""Cached access to the store for every page.

The store handle is a process-wide resource; the assignment table is cached per data
revision, so a save anywhere (web, Excel import, CLI) invalidates it on the next rerun.
Nothing cached here depends on who is signed in.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from tracker.aggregate import with_lead_unit
from tracker.progress import now, warning_light
from tracker.store import Store, database_url


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    return Store.open(url)


def get_store() -> Store:
    """The store for ``DATABASE_URL`` (default: data/tracker.db, created and seeded)."""
    return _store(database_url())


@st.cache_data(show_spinner=False, max_entries=4)
def _assignments(url: str, revision: int, today: date) -> pd.DataFrame:
    frame = _store(url).assignments()
    frame["light"] = warning_light(frame, today)
    return with_lead_unit(frame)


def assignments() -> pd.DataFrame:
    """Every live assignment with progress, its warning light as of today and its task's
    ``lead_unit`` (computed before any filter, so a task keeps naming its lead)."""
    store = get_store()
    return _assignments(database_url(), store.revision(), now().date())


def today() -> date:
    """Shanghai calendar day: the reference for lights and staleness."""
    return now().date()


def download_csv(frame: pd.DataFrame, file_name: str, label: str = "下载数据（CSV）") -> None:
    """A download button for a chart's data; UTF-8 with BOM so Excel opens Chinese cleanly."""
    st.download_button(
        label,
        frame.to_csv(index=False).encode("utf-8-sig"),
        file_name=file_name,
        mime="text/csv",
        key=f"download_{file_name}",
        on_click="ignore",
    )
