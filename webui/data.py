"""Cached access to the store for every page.

The store handle is a process-wide resource; the assignment table is cached per data
revision, so a save anywhere (web, Excel import, CLI) invalidates it on the next rerun.
Nothing cached here depends on who is signed in.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

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
    return frame


def assignments() -> pd.DataFrame:
    """Every live assignment with progress and its warning light, as of today."""
    store = get_store()
    return _assignments(database_url(), store.revision(), now().date())


def today() -> date:
    return now().date()
