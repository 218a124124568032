"""The shared sidebar filters (in a popover), kept in the URL query string so a link reproduces the view.

The query string is read once per session to seed the widgets (so an opened link shows its
view); afterwards the widgets are the truth and every run writes them back to the URL.
Writing back also restores the filters after a page switch, which clears the query string.
Only the filter keys are touched, so other pages' query parameters survive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields

import streamlit as st

from pagelogic.views import FilterOptions
from tracker.filters import FILTER_LABELS, VALUE_LABELS, Filters
from webui import safe

_KEY = "filters"


def widget_key(name: str) -> str:
    """Session-state key of the sidebar multiselect for filter ``name`` (tests use it)."""
    return f"filter_{name}"


def sidebar(choices: FilterOptions) -> Filters:
    """Draw the filters in the sidebar, sync them with ``st.query_params``, return them.

    ``choices`` is ``pagelogic.views.filter_options``: policy id -> label, and the unit names.
    """
    wanted = Filters.from_query({k: st.query_params.get_all(k) for k in st.query_params})
    policies, units = choices.policies, choices.units
    options: dict[str, tuple[list[str], Callable[[str], str] | None]] = {
        "policy": (list(policies), policies.get),
        "unit": (units, None),
        **{name: (list(labels), labels.get) for name, labels in VALUE_LABELS.items()},
    }
    # In a popover: the browser builds its lists only when it is opened.  Drawn open in the
    # sidebar, five lists (1,000 policies and hundreds of units at city scale) were rebuilt
    # on every page switch, 60-80 ms of each at 100,000 assignments.
    with st.sidebar.popover("筛选", icon=":material/filter_list:", width="stretch"):
        picked = {
            name: _multi(name, values, getattr(wanted, name), label_of)
            for name, (values, label_of) in options.items()
        }
    chosen = Filters(**picked)
    if chosen.to_query():
        shown = safe.plain(chosen.describe(policies))
        st.sidebar.caption(f"当前筛选：{shown}（可复制地址栏链接分享此视图）")
    else:
        st.sidebar.caption("当前筛选：全部")
    _write_query(chosen)
    st.session_state[_KEY] = chosen
    return chosen


def current() -> Filters:
    """The filters the sidebar set on this run (all rows when there is no sidebar)."""
    return st.session_state.get(_KEY, Filters())


def _multi(
    name: str,
    options: list[str],
    from_url: tuple[str, ...],
    label_of: Callable[[str], str | None] | None,
) -> tuple[str, ...]:
    key = widget_key(name)
    if key not in st.session_state:  # first run of this session: the link decides
        st.session_state[key] = [v for v in from_url if v in options]
    else:  # keep only values still offered (data may have changed)
        st.session_state[key] = [v for v in st.session_state[key] if v in options]
    picked = st.multiselect(
        FILTER_LABELS[name],
        options,
        format_func=(lambda v: label_of(v) or v) if label_of else str,
        key=key,
        placeholder="全部",
        select_all=False,  # choosing every value is what 全部 (nothing chosen) already means
    )
    return tuple(picked)


def _write_query(chosen: Filters) -> None:
    """Mirror the filters into the URL, leaving unrelated parameters alone."""
    for f in fields(chosen):
        values = list(getattr(chosen, f.name))
        if values:
            if st.query_params.get_all(f.name) != values:
                st.query_params[f.name] = values
        elif f.name in st.query_params:
            del st.query_params[f.name]
