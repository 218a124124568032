"""The reminder list (催办清单) as a workbook: the list, one row per item, and a summary per
unit.  Every text cell is a string cell (``excel.kit.styled``), so a task text
such as ``=HYPERLINK(…)`` stays text.

>>> data = build_reminder_workbook(reminder_list(rows, today, 15), summary, "催办清单")  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.utils import get_column_letter

from excel.kit import Sheet, new_workbook, setup_print, styled, workbook_bytes
from tracker.progress import is_blank

SHEET_LIST = "催办清单"
SHEET_SUMMARY = "按单位汇总"
WIDTHS = {
    "责任单位": 16,
    "任务": 18,
    "任务编号": 24,
    "任务内容": 50,
    "催办事项": 22,
    "最近催办": 18,
}


def build_reminder_workbook(reminders: pd.DataFrame, summary: pd.DataFrame, title: str) -> bytes:
    """``reminders`` (``tracker.reminders.reminder_list``) and ``summary``
    (``reminder_summary``) under ``title``, as .xlsx bytes."""
    wb = new_workbook()
    _sheet(wb, SHEET_LIST, reminders, title)
    _sheet(wb, SHEET_SUMMARY, summary, title)
    wb.properties.title = title
    wb.properties.creator = "政策任务督办台"
    return workbook_bytes(wb)


def _sheet(wb: Workbook, name: str, table: pd.DataFrame, title: str) -> None:
    ws = wb.create_sheet(name)
    for index, column in enumerate(table.columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = WIDTHS.get(column, 11)
    ws.freeze_panes = "A3"
    if len(table.columns):
        last = get_column_letter(len(table.columns))
        ws.auto_filter.ref = f"A2:{last}{len(table) + 2}"
    setup_print(ws, "1:2")
    ws.append([styled(ws, title, "r_title")])
    ws.append([styled(ws, str(c), "r_header") for c in table.columns])
    for values in table.itertuples(index=False):
        ws.append([_cell(ws, value) for value in values])


def _cell(ws: Sheet, value: object) -> Cell:
    if is_blank(value):
        return styled(ws, None, "r_text")
    if isinstance(value, datetime):  # pandas.Timestamp too
        return styled(ws, pd.Timestamp(value).to_pydatetime(), "r_datetime")
    if isinstance(value, date):
        return styled(ws, value, "r_date")
    if isinstance(value, bool | np.bool_):
        return styled(ws, "是" if value else "", "r_center")
    if isinstance(value, int | np.integer):
        return styled(ws, int(value), "r_int")
    if isinstance(value, float):
        return styled(ws, value, "r_int" if value.is_integer() else "r_text")
    return styled(ws, str(value), "r_wrap")
