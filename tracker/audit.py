"""The audit trail across tasks: the append-only history with Chinese headers, for the 审计
page and its Excel export.

>>> audit_table(store.history(units=["市科委"]), {"p1": "示范政策"})   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from tracker.progress import is_blank
from tracker.schema import (
    EVIDENCE_FILE_FIELD,
    PROGRESS_FIELDS,
    SOURCE_API,
    SOURCE_WEB,
    STATUS_LABELS,
)

# What a history row's ``source`` says, as people read it (see :func:`source_label`).
SOURCE_LABELS: dict[str, str] = {SOURCE_WEB: "网页填报", SOURCE_API: "接口"}
# History fields beyond the progress fields: a sync moving, rewording or archiving a task.
HISTORY_FIELD_LABELS: dict[str, str] = {
    **PROGRESS_FIELDS,
    "task_id": "任务编号",
    "task_text": "任务内容",
    "archived": "已归档",
    EVIDENCE_FILE_FIELD: "佐证文件",
}
HISTORY_COLUMNS: list[str] = [
    "责任单位",
    "字段",
    "原值",
    "新值",
    "修改人",
    "时间",
    "来源",
    "报告期",
]

AUDIT_COLUMNS: list[str] = ["任务编号", "政策", *HISTORY_COLUMNS]


def audit_table(history: pd.DataFrame, policy_titles: Mapping[str, str]) -> pd.DataFrame:
    """``Store.history`` rows, newest first, with task id and policy title in front."""
    if history.empty:
        return pd.DataFrame(columns=AUDIT_COLUMNS)
    shown = history_table(history)
    titles = history["policy_id"].map(policy_titles).astype(object)  # all-missing: not float
    shown.insert(0, "政策", titles.fillna(history["policy_id"]))
    shown.insert(0, "任务编号", history["task_id"].astype(str).to_numpy())
    return shown[AUDIT_COLUMNS]


def source_label(source: object) -> str:
    """Where a history row came from, as people read it: 网页填报, 接口, the file an import
    read (``Excel导入：市科委.xlsx``), a revision of the task list (``任务清单修订（ab12…）``);
    sources written in Chinese (``政策库：…``, ``延期申请#3``) as they are.

    >>> [source_label(s) for s in ("web", "revision:0123456789ab", "市科委.xlsx")]
    ['网页填报', '任务清单修订（0123456789ab）', 'Excel导入：市科委.xlsx']
    """
    text = "" if source is None or is_blank(source) else str(source)
    if text in SOURCE_LABELS:
        return SOURCE_LABELS[text]
    if text.startswith("revision:"):  # Store.sync without a named source
        return f"任务清单修订（{text.removeprefix('revision:')}）"
    if text.startswith("measures.csv "):  # loaders.store_sync: the CLI and the 政策库 page
        return f"任务清单同步（{text.removeprefix('measures.csv ')}）"
    if text.lower().endswith((".xlsx", ".xlsm", ".xls", ".csv")):  # an import names its file
        return f"Excel导入：{text}"
    return text


def history_table(history: pd.DataFrame) -> pd.DataFrame:
    """A change log (``Store.history``) with Chinese headers and labels, newest first:
    progress fields and the fields a sync writes (任务编号, 任务内容, 已归档) by name, status
    codes as labels, each source as :func:`source_label` says it."""
    if history.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)

    def shown(field: str, value: object) -> str:
        text = "" if value is None or is_blank(value) else str(value)
        return STATUS_LABELS.get(text, text) if field == "status" else text

    return pd.DataFrame(
        {
            "责任单位": history["unit"].astype(str),
            "字段": history["field"].map(HISTORY_FIELD_LABELS).fillna(history["field"]),
            "原值": [
                shown(f, v) for f, v in zip(history["field"], history["old_value"], strict=True)
            ],
            "新值": [
                shown(f, v) for f, v in zip(history["field"], history["new_value"], strict=True)
            ],
            "修改人": history["changed_by"].astype(str),
            "时间": pd.to_datetime(history["changed_at"]),
            "来源": history["source"].map(source_label),
            "报告期": history["period"].astype(str),
        }
    ).reset_index(drop=True)
