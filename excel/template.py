"""The offline fill-in template (填报模板) for one responsible unit.

Key columns (task id, unit, role, task text, policy/measure) are locked by sheet protection;
status (dropdown from the vocabulary), percent (whole number 0–100), due date and the four text
fields are unlocked and validated.  A hidden 版本 column carries each row's version so an edit
made on a stale copy is caught on import, and the unit is recorded three ways: the title cell,
every row's 责任单位 column and the workbook defined name ``TRACKER_UNIT``.

Text goes out exactly as stored, so an untouched template imports back with no change: see
:func:`excel.kit.excel_text` for the escapes that takes (every workbook's cells take them).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from openpyxl.utils import get_column_letter

from excel.kit import (
    TASK_ID_HEADER,
    TASK_TEXT_HEADER,
    UNIT_HEADER,
    VERSION_HEADER,
    Column,
    date_validation,
    define_text,
    labelled,
    new_workbook,
    percent_validation,
    prepare_sheet,
    render_rows,
    save_with_rows,
    setup_print,
    status_rules,
    status_validation,
    styled,
)
from tracker.aggregate import derive
from tracker.errors import TrackerError
from tracker.evidence import max_bytes
from tracker.progress import now
from tracker.schema import PROGRESS_FIELDS, STATUS_LABELS

SHEET_TEMPLATE, SHEET_HELP = "进度填报", "填报说明"
UNIT_NAME = "TRACKER_UNIT"  # workbook defined name holding the template's unit
KIND_NAME = "TRACKER_TEMPLATE"  # marks the workbook as a fill-in template (value: format version)
TEMPLATE_FORMAT = "1"

TEMPLATE_COLUMNS: list[Column] = [
    Column("task_id", TASK_ID_HEADER, 18),
    Column("unit", UNIT_HEADER, 14),
    Column("role_label", "角色", 6, style="r_center"),
    Column("task_text", TASK_TEXT_HEADER, 46, style="r_wrap"),
    Column("status_label", PROGRESS_FIELDS["status"], 9, style="t_input_center"),
    Column("percent", PROGRESS_FIELDS["percent"], 9, "int", "t_input_int"),
    Column("due_date", PROGRESS_FIELDS["due_date"], 12, "date", "t_input_date"),
    Column("note", PROGRESS_FIELDS["note"], 32, style="t_input"),
    Column("next_step", PROGRESS_FIELDS["next_step"], 26, style="t_input"),
    Column("problems", PROGRESS_FIELDS["problems"], 22, style="t_input"),
    Column("evidence", PROGRESS_FIELDS["evidence"], 18, style="t_input"),
    Column("doc_no", "文号", 20),
    Column("measure_no", "措施", 6, "int", "r_int"),
    Column("measure_title", "措施名称", 24, style="r_wrap"),
    Column("version", VERSION_HEADER, 6, "int", "r_int", hidden=True),
]

HELP_LINES = [
    "填报说明",
    "",
    "1. 本模板仅供「{unit}」填报，共 {count} 条任务分工；请勿增删行、勿修改「任务编号」「责任单位」等灰色锁定列。",
    "2. 只需填写浅黄色单元格：状态、完成比例(%)、完成时限、进展情况、下一步计划、存在问题、佐证材料。",
    "3. 状态请从下拉列表选择：" + "、".join(STATUS_LABELS.values()) + "。",
    "4. 完成比例填 0 到 100 之间的整数；状态为「已完成」时完成比例须为 100。",
    "5. 状态为「滞后」或「暂缓」时，必须在「进展情况」中说明原因。",
    "6. 完成时限请填写日期，如 2026-12-31。",
    "7. 请直接填写内容，不要使用公式；以 = + - @ 开头的文字会按原样保存。",
    "8. 隐藏的「版本」列用于发现他人同时修改的记录，请勿改动；若导入时提示冲突，请核对后重新下载模板填报。",
    "9. 填好后在督办台「导入导出」页面上传本文件：先预览将要修改的内容，确认后再保存。",
    "10. 「佐证材料」列只填文字说明；佐证文件（PDF、Word、Excel、JPG、PNG，每个不超过 {max_mb} MB）"
    "请在督办台「报送」或「进度填报」页面逐项上传，不能放进本模板。",
    "",
    "模板生成日期：{today}",
]


def template_rows(assignments: pd.DataFrame, unit: str) -> pd.DataFrame:
    """The unit's assignments in template order; raises TrackerError for an unknown unit and
    for a collective whose rows are its members' roll-up (each member fills in its own)."""
    rows = assignments[assignments["unit"] == unit]
    if "rollup" in rows and rows["rollup"].any():
        members = assignments.loc[assignments["collective"] == unit, "unit"].unique()
        rows = rows[~rows["rollup"].to_numpy(dtype=bool)]
        if rows.empty:
            raise TrackerError(
                f"「{unit}」由各成员单位分别填报，请为成员单位生成模板："
                + "、".join(members[:5])
                + ("等" if len(members) > 5 else "")
            )
    if rows.empty:
        raise TrackerError(f"单位「{unit}」没有任务分工，无法生成填报模板")
    return rows


def build_template(assignments: pd.DataFrame, unit: str, *, today: date | None = None) -> bytes:
    """The fill-in template (.xlsx bytes) for ``unit``'s assignments."""
    today = today or now().date()
    rows = labelled(template_rows(derive(assignments, today), unit))
    wb = new_workbook()
    wb.properties.title = f"政策任务进度填报模板（{unit}）"
    wb.properties.creator = "政策任务督办台"
    define_text(wb, UNIT_NAME, unit)
    define_text(wb, KIND_NAME, TEMPLATE_FORMAT)

    ws = wb.create_sheet(SHEET_TEMPLATE)
    style_ids = prepare_sheet(ws, TEMPLATE_COLUMNS)
    last = len(rows) + 2
    letter = {c.key: get_column_letter(i) for i, c in enumerate(TEMPLATE_COLUMNS, start=1)}

    def span(key: str) -> str:
        return f"{letter[key]}3:{letter[key]}{last}"

    ws.freeze_panes = "B3"
    ws.auto_filter.ref = f"A2:{get_column_letter(len(TEMPLATE_COLUMNS))}{last}"
    setup_print(ws, "1:2")
    status_rules(ws, span("status_label"))
    ws.data_validations.append(status_validation(span("status_label")))
    ws.data_validations.append(percent_validation(span("percent")))
    ws.data_validations.append(date_validation(span("due_date")))
    protection = ws.protection
    protection.sheet = True
    # Users may still resize, filter and sort; they may not edit locked cells or insert/delete.
    protection.formatColumns = False
    protection.formatRows = False
    protection.autoFilter = False
    protection.sort = False
    title = (
        f"政策任务进度填报模板　填报单位：{unit}　生成日期：{today.isoformat()}　共 {len(rows)} 条"
    )
    ws.append([styled(ws, title, "r_title")])
    ws.append([styled(ws, c.header, "r_header") for c in TEMPLATE_COLUMNS])
    block = render_rows(rows, TEMPLATE_COLUMNS, style_ids, first_row=3)

    help_ws = wb.create_sheet(SHEET_HELP)
    help_ws.column_dimensions["A"].width = 110
    for number, line in enumerate(HELP_LINES):
        text = line.format(
            unit=unit, count=len(rows), today=today.isoformat(), max_mb=max_bytes() // 1048576
        )
        help_ws.append([styled(help_ws, text, "r_title" if number == 0 else "r_help")])
    help_ws.protection.sheet = True
    return save_with_rows(wb, {ws: block})
