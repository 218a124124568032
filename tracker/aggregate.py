"""Aggregations: pure functions, DataFrame in, DataFrame out (no Streamlit, no database)."""

from __future__ import annotations

import pandas as pd

from tracker.schema import LIGHT_LABELS, ROLE_LABELS, STATUS_LABELS

TASK_TABLE_COLUMNS = {
    "doc_no": "文号",
    "measure_no": "措施",
    "measure_title": "措施名称",
    "task_id": "任务编号",
    "task_text": "任务内容",
    "unit": "责任单位",
    "role": "角色",
    "status": "状态",
    "percent": "完成比例(%)",
    "due_date": "完成时限",
    "light": "预警",
    "updated_by": "更新人",
    "updated_at": "更新时间",
}


def task_table(assignments: pd.DataFrame) -> pd.DataFrame:
    """The flattened agency-by-task table with Chinese headers and labels, for display."""
    table = assignments.reindex(columns=list(TASK_TABLE_COLUMNS)).copy()
    table["role"] = table["role"].map(ROLE_LABELS)
    table["status"] = table["status"].map(STATUS_LABELS)
    table["light"] = table["light"].map(LIGHT_LABELS)
    table["due_date"] = pd.to_datetime(table["due_date"]).dt.date
    return table.rename(columns=TASK_TABLE_COLUMNS)
