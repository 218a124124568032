"""The shared sidebar filters, kept in the URL query string so a link reproduces the view."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tracker.filters import Filters
from tracker.schema import LIGHT_LABELS, ROLE_LABELS, STATUS_LABELS

_KEY = "filters"


def sidebar(assignments: pd.DataFrame) -> Filters:
    """Draw the filters in the sidebar, sync them with ``st.query_params``, return them."""
    wanted = Filters.from_query({k: st.query_params.get_all(k) for k in st.query_params})
    policies = dict(zip(assignments["policy_id"], assignments["policy_title"], strict=False))
    units = sorted(assignments["unit"].unique()) if len(assignments) else []
    with st.sidebar:
        st.subheader("筛选")
        chosen = Filters(
            policy=_multi("政策", list(policies), wanted.policy, policies.get),
            unit=_multi("责任单位", units, wanted.unit),
            role=_multi("角色", list(ROLE_LABELS), wanted.role, ROLE_LABELS.get),
            status=_multi("状态", list(STATUS_LABELS), wanted.status, STATUS_LABELS.get),
            light=_multi("预警灯", list(LIGHT_LABELS), wanted.light, LIGHT_LABELS.get),
        )
    if chosen.to_query() != wanted.to_query():
        st.query_params.from_dict(chosen.to_query())
    st.session_state[_KEY] = chosen
    return chosen


def current() -> Filters:
    """The filters the sidebar set on this run (all rows when there is no sidebar)."""
    return st.session_state.get(_KEY, Filters())


def _multi(label, options, default, format_func=None) -> tuple[str, ...]:
    default = [v for v in default if v in options]
    picked = st.multiselect(
        label,
        options,
        default=default,
        format_func=(lambda v: format_func(v) or v) if format_func else str,
        key=f"filter_{label}",
    )
    return tuple(picked)
