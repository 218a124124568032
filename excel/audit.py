"""The audit trail as a workbook: one sheet, a title row naming the filters, then one row
per recorded change.  Every text cell is a string cell, so a note such as ``=HYPERLINK(…)``
stays text.

>>> data = build_audit_workbook(audit_table(history, titles), "审计记录（市科委）")  # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd
from openpyxl.utils import get_column_letter

from excel.kit import new_workbook, setup_print, styled, workbook_bytes

SHEET = "审计记录"
WIDTHS = {"任务编号": 26, "政策": 30, "原值": 30, "新值": 30, "时间": 18}


def build_audit_workbook(table: pd.DataFrame, title: str) -> bytes:
    """``table`` (``tracker.audit.audit_table``) under ``title`` as .xlsx bytes."""
    wb = new_workbook()
    ws = wb.create_sheet(SHEET)
    for index, column in enumerate(table.columns):
        ws.column_dimensions[get_column_letter(index + 1)].width = WIDTHS.get(column, 12)
    setup_print(ws, "2:2")
    ws.append([styled(ws, title, "r_title")])
    ws.append([styled(ws, str(c), "r_header") for c in table.columns])
    for values in table.itertuples(index=False):
        ws.append(
            [
                styled(ws, value.to_pydatetime(), "r_datetime")
                if isinstance(value, pd.Timestamp)
                else styled(ws, "" if pd.isna(value) else str(value), "r_wrap")
                for value in values
            ]
        )
    return workbook_bytes(wb)
