"""The notice log (通知记录) as a workbook: one row per notice and receiver, as the page
shows it under its filters.  Every text cell is a string cell (``excel.kit.styled``), so a
title such as ``=HYPERLINK(…)`` stays text.
"""

from __future__ import annotations

import pandas as pd

from excel.kit import new_workbook, workbook_bytes
from excel.reminders import _sheet

SHEET_NOTICES = "通知记录"


def build_notices_workbook(table: pd.DataFrame, title: str) -> bytes:
    """``table`` (``pagelogic.notices.notice_table``) under ``title``, as .xlsx bytes."""
    wb = new_workbook()
    _sheet(wb, SHEET_NOTICES, table, title)
    wb.properties.title = title
    wb.properties.creator = "政策任务督办台"
    return workbook_bytes(wb)
