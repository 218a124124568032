"""The per-unit fill-in template: only the unit's rows, locked keys, validated inputs, the
hidden version column, the unit recorded in the workbook, and the Chinese instructions."""

from __future__ import annotations

import io
from datetime import date, timedelta
from xml.sax.saxutils import escape

import openpyxl
import pandas as pd
import pytest
import python_calamine
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from excel.kit import excel_text
from excel.template import (
    KIND_NAME,
    SHEET_HELP,
    SHEET_TEMPLATE,
    UNIT_NAME,
    build_template,
)
from tests.test_excel_import import raw_xlsx
from tracker.errors import TrackerError
from tracker.progress import EARLIEST_DUE, LATEST_DUE, PERCENT_ERROR
from tracker.schema import STATUS_LABELS

EDITABLE = ["状态", "完成比例(%)", "完成时限", "进展情况", "下一步计划", "存在问题", "佐证材料"]
LOCKED = ["任务编号", "责任单位", "角色", "任务内容", "版本"]


@pytest.fixture
def template(make_store, small_measures, today):
    store = make_store(small_measures)
    return store, openpyxl.load_workbook(
        io.BytesIO(build_template(store.assignments(), "市教委", today=today))
    )


def _columns(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[2]}


def test_sheets_unit_and_rows(template) -> None:
    store, wb = template
    assert wb.sheetnames == [SHEET_TEMPLATE, SHEET_HELP]
    assert wb.defined_names[UNIT_NAME].attr_text == '"市教委"'
    assert wb.defined_names[KIND_NAME].attr_text == '"1"'
    ws = wb[SHEET_TEMPLATE]
    assert "填报单位：市教委" in ws["A1"].value
    cols = _columns(ws)
    for header in [*LOCKED, *EDITABLE]:
        assert header in cols
    df = store.assignments()
    expected = df[df.unit == "市教委"]
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert len(rows) == len(expected) == 3
    assert {r[cols["责任单位"] - 1] for r in rows} == {"市教委"}
    assert sorted(r[cols["任务编号"] - 1] for r in rows) == sorted(expected.task_id)
    assert {r[cols["版本"] - 1] for r in rows} == set(expected.version)
    assert {r[cols["状态"] - 1] for r in rows} == {STATUS_LABELS["not_started"]}


def test_keys_locked_inputs_unlocked_version_hidden(template) -> None:
    _store, wb = template
    ws = wb[SHEET_TEMPLATE]
    cols = _columns(ws)
    assert ws.protection.sheet
    for header in LOCKED:
        assert ws.cell(row=3, column=cols[header]).protection.locked, header
    for header in EDITABLE:
        assert not ws.cell(row=3, column=cols[header]).protection.locked, header
    version_letter = openpyxl.utils.get_column_letter(cols["版本"])
    assert ws.column_dimensions[version_letter].hidden
    assert ws.freeze_panes == "B3"


def test_data_validation(template) -> None:
    _store, wb = template
    ws = wb[SHEET_TEMPLATE]
    cols = _columns(ws)
    letter = {h: openpyxl.utils.get_column_letter(c) for h, c in cols.items()}
    found = {dv.type: dv for dv in ws.data_validations.dataValidation}
    status = found["list"]
    assert status.formula1 == '"' + ",".join(STATUS_LABELS.values()) + '"'
    assert str(status.sqref) == f"{letter['状态']}3:{letter['状态']}5"
    percent = found["whole"]
    assert (percent.operator, percent.formula1, percent.formula2) == ("between", "0", "100")
    assert str(percent.sqref) == f"{letter['完成比例(%)']}3:{letter['完成比例(%)']}5"
    assert str(found["date"].sqref).startswith(letter["完成时限"])


def test_validations_follow_the_stores_rules(template) -> None:
    """What Excel refuses while typing is what the store refuses on import, in its words."""
    _store, wb = template
    found = {dv.type: dv for dv in wb[SHEET_TEMPLATE].data_validations.dataValidation}
    assert found["whole"].error == PERCENT_ERROR
    span = (found["date"].formula1, found["date"].formula2)
    days = tuple(date(1899, 12, 30) + timedelta(days=int(n)) for n in span)
    assert days == (EARLIEST_DUE, LATEST_DUE)


def test_instructions_in_chinese(template) -> None:
    _store, wb = template
    text = "\n".join(str(c.value) for c in wb[SHEET_HELP]["A"] if c.value)
    assert text.startswith("填报说明")
    assert "市教委" in text and "下拉列表" in text and "版本" in text
    # Evidence files are not in the workbook: the help says where they go, and the limit.
    assert "佐证文件" in text and "「报送」或「进度填报」页面逐项上传" in text and "20 MB" in text


def test_unknown_unit_is_refused(make_store, small_measures) -> None:
    store = make_store(small_measures)
    with pytest.raises(TrackerError, match="无此单位"):
        build_template(store.assignments(), "无此单位")


# --- text goes out exactly as stored -------------------------------------------------


def _read_back(text: str) -> str:
    """``text`` written as the template writes a cell, then read by the importer's reader."""
    body = escape(excel_text(pd.Series([text]))[0])
    cell = f'<c r="A1" t="inlineStr"><is><t xml:space="preserve">{body}</t></is></c>'
    data = raw_xlsx(f'<row r="1">{cell}</row>')
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return book.get_sheet_by_name("数据").to_python()[0][0]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="_xX05Ffa19\r\n\t 中", max_size=30) | st.text(max_size=30))
def test_any_text_reads_back_as_written(text) -> None:
    """Literal ``_x0041_``, overlapping ``_x005F_x0041_``, CR: each read back unchanged.
    The noncharacters U+FFFE and U+FFFF are left out: XML cannot hold them, calamine does
    not decode their ``_xFFFE_`` escape, and the store refuses them on entry
    (``tracker.progress.text_problem``), so no stored text carries one."""
    assume(not ({"\ufffe", "\uffff"} & set(text)))
    assert _read_back(text) == text


def test_template_cells_hold_the_stored_text(make_store, small_measures, today) -> None:
    store = make_store(small_measures)
    rows = store.assignments()
    rows.loc[rows.unit == "市教委", "note"] = "_x0041_ 与 _x005F_x0041_\r\n第二行"
    data = build_template(rows, "市教委", today=today)
    sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    grid = sheet.get_sheet_by_name(SHEET_TEMPLATE).to_python()
    column = grid[1].index("进展情况")
    assert {r[column] for r in grid[2:]} == {"_x0041_ 与 _x005F_x0041_\r\n第二行"}
