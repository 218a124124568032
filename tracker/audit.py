"""The audit trail across tasks: the append-only history with Chinese headers, for the 审计
page and its Excel export.

>>> audit_table(store.history(units=["市科委"]), {"p1": "示范政策"})   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from tracker.editing import HISTORY_COLUMNS, history_table

AUDIT_COLUMNS: list[str] = ["任务编号", "政策", *HISTORY_COLUMNS]


def audit_table(history: pd.DataFrame, policy_titles: Mapping[str, str]) -> pd.DataFrame:
    """``Store.history`` rows, newest first, with task id and policy title in front."""
    if history.empty:
        return pd.DataFrame(columns=AUDIT_COLUMNS)
    shown = history_table(history)
    shown.insert(0, "政策", history["policy_id"].map(policy_titles).fillna(history["policy_id"]))
    shown.insert(0, "任务编号", history["task_id"].astype(str).to_numpy())
    return shown[AUDIT_COLUMNS]
