"""Hostile, absurd and stale imports: each refused with a message naming where,
never a crash, an overflow, a silent overwrite or a silent change of what was saved.

Workbooks are edited at the XML level where a user's Excel could not produce the value (a
number ``1e400`` in a cell, a date cell holding -1e12, a NUL written as ``_x0000_``) or
where an attacker would (one value at XFD100000 in a 17 KB file)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
import zipfile
from datetime import date
from xml.sax.saxutils import escape

import openpyxl
import pandas as pd
import pytest
import python_calamine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.faults.hostile_corpus import COMMENTS_XML, with_unread_part
from excel.kit import excel_text
from excel.read import plan_updates, read_sheet
from excel.safety import (
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_SHEET_ROWS,
    MAX_UNREAD_PART_BYTES,
    column_letters,
    open_package,
    sheet_extent,
)
from excel.template import SHEET_TEMPLATE, TEMPLATE_COLUMNS
from tests.conftest import measures_frame
from tests.factories import row_of, signed_in
from tests.test_excel_import import fill, raw_xlsx, run, template_for
from tracker.errors import ImportFileError, ValidationError
from tracker.progress import IN_PROGRESS_AT_100, PERCENT_ERROR, Update
from tracker.store import Store

LETTER = {c.header: column_letters(i) for i, c in enumerate(TEMPLATE_COLUMNS, start=1)}
EDITABLE = ["状态", "完成比例(%)", "完成时限", "进展情况", "下一步计划", "存在问题", "佐证材料"]
SHEET_XML = "xl/worksheets/sheet1.xml"


@pytest.fixture
def store(make_store, small_measures):
    return make_store(small_measures)


class Raw(str):
    """Text written into the cell's XML as given: ``_x0000_`` stays an escape for a NUL."""


class Number(str):
    """A numeric cell's ``<v>`` exactly as given (``1e400``, ``-1e12``)."""


def cell_xml(ref: str, style: str, value: object) -> str:
    """One ``<c>`` element holding ``value`` as Excel would store it (keeping the style)."""
    if value is None:
        return f'<c r="{ref}"{style}/>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Number):
        return (
            f'<c r="{ref}"{style}><v>{value if isinstance(value, Number) else repr(value)}</v></c>'
        )
    text = value if isinstance(value, Raw) else excel_text(pd.Series([value], dtype=object))[0]
    body = escape(text)
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{body}</t></is></c>'


def with_cells(data: bytes, cells: dict[str, object], member: str = SHEET_XML) -> bytes:
    """``data`` with the given cells (``"F3"``) of the sheet replaced at the XML level."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            body = zin.read(info.filename)
            if info.filename == member:
                xml = body.decode()
                for ref, value in cells.items():
                    pattern = rf'<c r="{ref}"( s="\d+")?[^>]*?(?:/>|>.*?</c>)'
                    found = re.search(pattern, xml, re.DOTALL)
                    assert found, ref
                    new = cell_xml(ref, found.group(1) or "", value)
                    xml = xml[: found.start()] + new + xml[found.end() :]
                body = xml.encode()
            zout.writestr(info, body)
    return out.getvalue()


def at(header: str, row: int = 3) -> str:
    return f"{LETTER[header]}{row}"


def sheet_xlsx(sheet_data: str, *, before: str = "") -> bytes:
    """A minimal workbook whose one sheet ("数据") holds exactly the given XML."""
    data = raw_xlsx(sheet_data)
    if not before:
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            body = zin.read(info.filename)
            if info.filename == SHEET_XML:
                body = body.replace(b"<sheetData>", before.encode() + b"<sheetData>", 1)
            zout.writestr(info, body)
    return out.getvalue()


HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>任务编号</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>责任单位</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>状态</t></is></c></row>'
)
FAR = '<c r="XFD100000" t="inlineStr"><is><t>x</t></is></c>'

# Each puts one value far beyond the caps, each in a way a reader honours.
FAR_AWAY = {
    "cell reference": f'<row r="100000">{FAR}</row>',
    "lower-case reference": f'<row r="100000">{FAR.replace("XFD", "xfd")}</row>',
    "second r attribute": '<row r="2"><c r="A2" r="XFD100000"><v>1</v></c></row>',
    "r not first": '<row r="2"><c s="0" r="XFD100000"><v>1</v></c></row>',
    "prefixed element": (
        '<row r="2"><x:c xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        ' r="XFD100000"><x:v>1</x:v></x:c></row>'
    ),
    "cells without r": '<row r="2">' + "<c><v>1</v></c>" * (MAX_COLUMNS + 1) + "</row>",
    "rows without r": "".join(f"<row><c><v>{n}</v></c></row>" for n in range(MAX_SHEET_ROWS + 1)),
    "too many cells": f'<row r="{MAX_CELLS // MAX_COLUMNS + 2}"><c r="{column_letters(MAX_COLUMNS)}{MAX_CELLS // MAX_COLUMNS + 2}"><v>1</v></c></row>',
}


# --- 1. a sparse sheet that a reader would expand into gigabytes ------------------------------


@pytest.mark.parametrize("rows", FAR_AWAY.values(), ids=FAR_AWAY.keys())
def test_cells_beyond_the_caps_are_refused_before_any_read(rows) -> None:
    data = sheet_xlsx(HEADER_ROW + rows)
    assert len(data) < 1024 * 1024
    start = time.perf_counter()
    with pytest.raises(ImportFileError, match="上限") as info:
        open_package(data, "far.xlsx")
    assert time.perf_counter() - start < 3
    assert (info.value.file, info.value.sheet) == ("far.xlsx", "数据")
    assert "far.xlsx" in str(info.value) and "数据" in str(info.value)


def test_a_declared_dimension_beyond_the_caps_is_refused() -> None:
    data = sheet_xlsx(HEADER_ROW, before='<dimension ref="A1:XFD100000"/>')
    with pytest.raises(ImportFileError, match="XFD100000") as info:
        open_package(data, "dim.xlsx")
    assert info.value.sheet == "数据"


def test_the_command_line_refuses_a_far_cell_with_exit_2(tmp_path, small_measures) -> None:
    """The 17 KB file that made ``python -m loaders import --dry-run`` abort (exit 134)."""
    csv = tmp_path / "measures.csv"
    small_measures.to_csv(csv, index=False, encoding="utf-8-sig")
    env = {
        **__import__("os").environ,
        "TRACKER_MEASURES_CSV": str(csv),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key in ("TRACKER_MEASURES_CSV", "DATABASE_URL"):
            patch.setenv(key, env[key])
        signed_in(Store.open(), "张三")
    far = tmp_path / "far.xlsx"
    far.write_bytes(sheet_xlsx(HEADER_ROW + FAR_AWAY["cell reference"]))
    done = subprocess.run(
        [sys.executable, "-m", "loaders", "import", str(far), "--user", "张三", "--dry-run"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "far.xlsx" in done.stderr and "数据" in done.stderr and "上限" in done.stderr


SHEET_ROW = st.tuples(
    st.one_of(st.none(), st.integers(1, 40)),  # the row's r
    st.booleans(),  # written <row/>
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.tuples(st.integers(1, 30), st.integers(1, 40))),  # r
            st.sampled_from(
                ["plain", "lower", "second r", "spaced second r", "r last", "prefixed", "empty"]
            ),
            st.one_of(st.none(), st.tuples(st.integers(1, 30), st.integers(1, 40))),
        ),
        max_size=6,
    ),
)


def _sheet_data(rows) -> str:
    out = []
    for row_r, self_closing, cells in rows:
        attr = f' r="{row_r}"' if row_r else ""
        if self_closing:
            out.append(f"<row{attr}/>")
            continue
        parts = []
        for ref, form, other in cells:
            name = f"{column_letters(ref[0])}{ref[1]}" if ref else None
            r = f' r="{name}"' if name else ""
            second = f"{column_letters(other[0])}{other[1]}" if other else "A1"
            if form == "lower" and name:
                r = r.lower()
            elif form == "second r" and name:
                r += f' r="{second}"'
            elif form == "spaced second r" and name:
                r += f" r\n = '{second}'"
            elif form == "r last" and name:
                r = f' s="0"{r}'
            tag = "x:c" if form == "prefixed" else "c"
            xmlns = ' xmlns:x="urn:x"' if form == "prefixed" else ""
            if form == "empty":
                parts.append(f"<c{r}/>")
            else:
                parts.append(f"<{tag}{xmlns}{r}><v>1</v></{tag}>")
        out.append(f"<row{attr}>{''.join(parts)}</row>")
    return "".join(out)


@settings(max_examples=150, deadline=None)
@given(st.lists(SHEET_ROW, max_size=8))
def test_extent_is_never_smaller_than_what_the_reader_builds(rows) -> None:
    sheet_data = _sheet_data(rows)
    data = sheet_xlsx(sheet_data)
    xml = zipfile.ZipFile(io.BytesIO(data)).read(SHEET_XML)
    ours = sheet_extent(xml)
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        end = book.get_sheet_by_name("数据").end
    except python_calamine.CalamineError:
        return  # the reader refuses it too; no grid is built
    if end is None:
        return
    assert ours is not None
    assert ours.rows >= end[0] + 1 and ours.columns >= end[1] + 1


# --- 2. numbers that are not numbers, dates that are not dates --------------------------------


@pytest.mark.parametrize(
    "value",
    [float("inf"), float("-inf"), float("nan"), Number("1e400"), "inf", "-inf", "1e400", "nan"],
    ids=["inf", "-inf", "nan", "1e400", "'inf'", "'-inf'", "'1e400'", "'nan'"],
)
def test_percent_that_is_not_a_number_is_a_located_problem(store, value) -> None:
    data = with_cells(template_for(store), {at("完成比例(%)"): value})
    result = run(store, data)
    assert not result.written
    [problem] = result.problems
    assert (problem.sheet, problem.row, problem.column) == (SHEET_TEMPLATE, 3, "完成比例(%)")
    assert problem.message == PERCENT_ERROR


@pytest.mark.parametrize(
    "header, message",
    [("进展情况", "不是有效的数值（inf）"), ("状态", "状态必须是以下之一：")],
)
def test_a_number_that_is_not_one_is_refused_by_its_columns_rule(store, header, message) -> None:
    """``1e400`` reads as infinity: never a blank, never the text 'inf'."""
    data = with_cells(template_for(store), {at(header): Number("1e400")})
    result = run(store, data)
    [problem] = result.problems
    assert (problem.sheet, problem.row, problem.column) == (SHEET_TEMPLATE, 3, header)
    assert problem.message.startswith(message)
    assert not result.written


def test_a_row_of_only_spaces_is_not_a_data_row(store) -> None:
    """Spaces left under the table are blank, as everywhere else, not a row lacking its id."""
    wb = openpyxl.load_workbook(io.BytesIO(template_for(store)))
    ws = wb[SHEET_TEMPLATE]
    [note] = [c.column for c in ws[2] if c.value == "进展情况"]
    ws.cell(row=ws.max_row + 1, column=note).value = "   "
    out = io.BytesIO()
    wb.save(out)
    result = run(store, out.getvalue(), dry_run=True)
    assert result.ok and result.rows_read == 3


@pytest.mark.parametrize("serial", ["-1e12", "-1e15", "1e300", "nan"])
def test_an_absurd_date_serial_is_located_not_a_reader_panic(store, serial) -> None:
    """The due-date column is date-formatted: the reader turns its numbers into dates."""
    data = with_cells(template_for(store), {at("完成时限"): Number(serial)})
    try:
        result = run(store, data)
    except ImportFileError as error:  # the reader cannot turn it into a date at all
        assert (error.file, error.sheet, error.row, error.column) == (
            "市教委.xlsx",
            SHEET_TEMPLATE,
            3,
            LETTER["完成时限"],
        )
        assert serial in str(error)
        return
    [problem] = result.problems
    assert (problem.row, problem.column) == (3, "完成时限")
    assert not result.written


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-31garbage",
        "0001-01-01",
        "1999-12-31",
        "2100-01-01",
        "9999-12-31",
        date(1, 1, 1),
        "2025-13-45",  # never rolled over into another day
        "2099-12-31",  # after the policy's 有效期 (2028-01-31)
        date(2025, 3, 5),  # before the policy was issued (2026-01-10)
    ],
)
def test_due_dates_not_a_day_or_outside_the_policy_are_refused(store, value) -> None:
    if isinstance(value, date):
        data = fill(template_for(store), {("demo-m01-t2", "市教委"): {"完成时限": value}})
    else:
        data = with_cells(template_for(store), {at("完成时限", 4): value})
    result = run(store, data)
    assert not result.written
    [problem] = result.problems
    assert (problem.row, problem.column) == (4, "完成时限")
    aid = row_of(store, "demo-m01-t2", "市教委").assignment_id
    with pytest.raises(ValidationError):  # the same rule when the web editor saves
        store.apply([Update(aid, 0, {"due_date": value})], user=signed_in(store), source="web")


def test_a_due_date_typed_as_a_date_in_range_still_imports(store) -> None:
    data = fill(template_for(store), {("demo-m01-t2", "市教委"): {"完成时限": date(2027, 6, 30)}})
    assert run(store, data).written
    assert row_of(store, "demo-m01-t2", "市教委").due_date == pd.Timestamp("2027-06-30")


# --- 3. no 版本 column: never an overwrite ----------------------------------------------------


def _without_version(data: bytes) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[SHEET_TEMPLATE]
    ws.delete_cols([c.column for c in ws[2] if c.value == "版本"][0])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_without_the_version_column_a_row_saved_since_is_a_conflict(store) -> None:
    other = signed_in(store, "赵六")
    saved_before = row_of(store, "demo-m02-t1", "市教委")
    store.apply(
        [Update(saved_before.assignment_id, 0, {"status": "推进中", "percent": 20})],
        user=other,
        source="web",
    )
    data = _without_version(
        fill(
            template_for(store),  # made now: demo-m02-t1 as 赵六 left it
            {
                ("demo-m01-t1", "市教委"): {"进展情况": "我的进展"},
                ("demo-m01-t2", "市教委"): {"进展情况": "我也改了"},
            },
        )
    )
    # After the file was made, 赵六 saves demo-m01-t1 again (a save racing the file).
    raced = row_of(store, "demo-m01-t1", "市教委")
    store.apply(
        [Update(raced.assignment_id, raced.version, {"note": "赵六的进展"})],
        user=other,
        source="web",
    )
    result = run(store, data)
    assert [c.task_id for c in result.conflicts] == ["demo-m01-t1"]
    assert row_of(store, "demo-m01-t1", "市教委").note == "赵六的进展", "never reverted"
    assert row_of(store, "demo-m01-t2", "市教委").note == "我也改了", "never saved: applied"
    assert row_of(store, "demo-m02-t1", "市教委").percent == 20, "equal to the file: kept"
    assert result.changed_assignments == 1
    assert any("版本" in w.message for w in result.warnings)


# --- 4. round trip: an untouched template changes nothing ------------------------------------

ROUND_TRIP_TEXT = {
    "note": "_x0041_ 与 _x005F_x0041_ 和 _x00e9_ 原样保存",
    "next_step": '第一行\r\n第二行\t制表 & <标记> "引号"',
    "problems": "长" * 32_767,
    "evidence": '=HYPERLINK("http://example.com") 😀',
}


def test_an_untouched_template_imports_back_with_no_change(store) -> None:
    target = row_of(store, "demo-m01-t2", "市教委")
    store.apply(
        [Update(target.assignment_id, 0, {"status": "推进中", "percent": 30, **ROUND_TRIP_TEXT})],
        user=signed_in(store, "赵六"),
        source="web",
    )
    data = template_for(store)
    parsed = read_sheet(open_package(data, "市教委.xlsx"))
    [row] = [r for r in parsed.rows if r.task_id == "demo-m01-t2"]
    assert {k: row.changes[k] for k in ROUND_TRIP_TEXT} == ROUND_TRIP_TEXT
    result = run(store, data)
    assert result.ok and result.diffs.empty and not result.written
    assert result.skipped_unchanged_stale == 0
    assert row_of(store, "demo-m01-t2", "市教委").note == ROUND_TRIP_TEXT["note"]


@pytest.mark.parametrize(
    "text",
    ["资金\x00未到位", "资金\x01未到位", "\x1f尾部会被 strip 吃掉", "长" * 32_768],
    ids=["NUL", "U+0001", "U+001F at the start", "32,768 characters"],
)
def test_text_excel_cannot_hold_is_refused_at_entry(store, text) -> None:
    aid = row_of(store, "demo-m01-t2", "市教委").assignment_id
    with pytest.raises(ValidationError) as info:
        store.apply([Update(aid, 0, {"note": text})], user=signed_in(store), source="web")
    [problem] = info.value.problems
    assert problem.column == "进展情况"
    assert store.history().empty


@pytest.mark.parametrize(
    "cell, column",
    [
        ({"进展情况": Raw("备注_x0000_后文")}, "进展情况"),
        ({"佐证材料": Raw("附件_x0001_")}, "佐证材料"),
        ({"下一步计划": "长" * 32_768}, "下一步计划"),
        ({"任务编号": Raw("demo-m01-t2_x0000_")}, "任务编号"),
    ],
    ids=["NUL note", "U+0001 evidence", "too long", "NUL task id"],
)
def test_text_a_file_should_not_hold_is_a_located_problem(store, cell, column) -> None:
    """``_x0000_`` in a file reads as a NUL: refused at its cell, never sent to PostgreSQL."""
    [(header, value)] = cell.items()
    data = with_cells(template_for(store), {at(header, 4): value})
    result = run(store, data)
    assert not result.written
    [problem] = result.problems
    assert (problem.sheet, problem.row, problem.column) == (SHEET_TEMPLATE, 4, column)
    assert store.history().empty


# --- 5. one percent rule, one message, in the editor's and the import's path ------------------


@pytest.mark.parametrize(
    "changes, cells, message",
    [
        ({"percent": 150}, {"完成比例(%)": 150}, PERCENT_ERROR),
        ({"percent": -5}, {"完成比例(%)": -5}, PERCENT_ERROR),
        (
            {"status": "推进中", "percent": 100},
            {"状态": "推进中", "完成比例(%)": 100},
            IN_PROGRESS_AT_100,
        ),
    ],
    ids=["150", "-5", "推进中 at 100"],
)
def test_one_percent_rule_for_editor_and_import(store, changes, cells, message) -> None:
    aid = row_of(store, "demo-m01-t2", "市教委").assignment_id
    with pytest.raises(ValidationError) as info:
        store.apply([Update(aid, 0, changes)], user=signed_in(store), source="web")
    assert [p.message for p in info.value.problems] == [message]
    result = run(store, fill(template_for(store), {("demo-m01-t2", "市教委"): cells}))
    assert [p.message for p in result.problems] == [message]
    assert not result.written


# --- 6. headers: renamed or doubled is refused, not ignored -----------------------------------


def _edit_header(data: bytes, old: str, new: str | None, *, append: str | None = None) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[SHEET_TEMPLATE]
    if new is not None:
        [cell] = [c for c in ws[2] if c.value == old]
        cell.value = new
    if append is not None:
        ws.cell(2, ws.max_column + 1).value = append
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("renamed", ["完成比例", "完成比例%", "完成 比例", "(完成比例)"])
def test_a_renamed_progress_header_is_refused(store, renamed) -> None:
    data = _edit_header(
        fill(template_for(store), {("demo-m01-t2", "市教委"): {"完成比例(%)": 50}}),
        "完成比例(%)",
        renamed,
    )
    with pytest.raises(ImportFileError) as info:
        run(store, data)
    error = info.value
    assert (error.file, error.sheet) == ("市教委.xlsx", SHEET_TEMPLATE)
    assert renamed.strip() in str(error) and "完成比例(%)" in str(error)
    assert store.history().empty


def test_a_template_whose_progress_header_is_gone_is_refused(store) -> None:
    data = _edit_header(template_for(store), "完成比例(%)", "完成率")
    with pytest.raises(ImportFileError, match="完成比例") as info:
        run(store, data)
    assert info.value.sheet == SHEET_TEMPLATE


def test_a_duplicate_progress_column_is_refused(store) -> None:
    data = _edit_header(template_for(store), "", None, append="进展情况")
    with pytest.raises(ImportFileError, match="进展情况") as info:
        run(store, data)
    error = info.value
    assert (error.file, error.sheet, error.column) == ("市教委.xlsx", SHEET_TEMPLATE, "进展情况")
    assert "2 次" in str(error)


def test_a_header_typed_with_full_width_brackets_is_the_same_header(store) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["任务编号", "责任单位", "状态", "完成比例（%）"])
    ws.append(["demo-m01-t2", "市教委", "推进中", 35])
    out = io.BytesIO()
    wb.save(out)
    assert run(store, out.getvalue(), name="自制.xlsx").written
    assert row_of(store, "demo-m01-t2", "市教委").percent == 35


# --- 7. the summary says what the mode did ----------------------------------------------------


def test_a_fully_refused_partial_import_does_not_claim_all_or_nothing(store) -> None:
    data = fill(template_for(store), {("demo-m01-t2", "市教委"): {"完成比例(%)": 101}})
    partial = run(store, data)
    assert not partial.written and partial.problems
    assert "全部成功才保存" not in partial.summary()
    assert "未写入任何修改" in partial.summary()
    strict = run(store, data, all_or_nothing=True)
    assert "按“全部成功才保存”要求" in strict.summary()


# --- 8. conflict detection is set-based -------------------------------------------------------


def test_a_stale_file_of_thousands_of_rows_is_planned_in_one_go(make_store) -> None:
    """Every row of a 2,000-row file saved by someone else since: was ~2 ms per row."""
    n = 2_000
    store = make_store(
        measures_frame(
            [
                {
                    "measure_no": i // 100 + 1,
                    "task_id": f"big-m{i // 100 + 1:02d}-t{i % 100 + 1}",
                    "task_seq": i % 100 + 1,
                    "unit": "市教委",
                    "role": "lead",
                    "unit_rank": 1,
                }
                for i in range(n)
            ]
        )
    )
    data = template_for(store)
    rows = store.assignments()
    store.apply(
        [Update(a, 0, {"note": f"他人 {a}"}) for a in rows.assignment_id],
        user=signed_in(store, "赵六"),
        source="web",
    )
    parsed = read_sheet(open_package(data, "big.xlsx"))
    start = time.perf_counter()
    updates, problems, kept = plan_updates(store, parsed)
    elapsed = time.perf_counter() - start
    assert not problems and len(kept) == n
    assert not any("note" in u.changes for u in updates), "their newer notes are kept"
    assert elapsed < 2.0, f"{elapsed:.1f} s for {n} stale rows"


# --- 9. a second preview after 确认导入 blames nobody -----------------------------------------


def test_previewing_the_file_just_imported_shows_no_change_and_no_one_else(store) -> None:
    data = fill(
        template_for(store),
        {
            ("demo-m01-t1", "市教委"): {"状态": "推进中", "完成比例(%)": 10},
            ("demo-m01-t2", "市教委"): {"进展情况": "已启动"},
        },
    )
    assert run(store, data).written  # 确认导入
    again = run(store, data, dry_run=True)
    assert again.ok and again.diffs.empty and not again.conflicts
    assert again.skipped_unchanged_stale == 0, "the user's own rows are not someone else's"


# --- the importer never raises on what a cell holds -------------------------------------------

CELL_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.text(alphabet="_x0123456789ABCDEFabcdef\x00\x01\r\n\t 推进中已完成", max_size=20),
    st.sampled_from(["推进中", "已完成", "滞后", "2026-12-31", "2026年12月31日", "50%", "1e400"]),
    st.dates().map(lambda d: Number(str((d - date(1899, 12, 30)).days))),
    st.sampled_from([Number("-1e12"), Number("1e400"), Raw("_x0000_"), Raw("_xD800_")]),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.dictionaries(st.sampled_from(EDITABLE), CELL_VALUES, min_size=1))
def test_any_cell_values_import_or_are_refused_where_they_are(store, values) -> None:
    cells = {}
    for header, value in values.items():
        cells[at(header)] = value
    data = with_cells(template_for(store), cells)
    try:
        result = run(store, data)
    except ImportFileError as error:  # only a value the reader cannot even read as a date
        assert error.row == 3 and error.column and error.sheet == SHEET_TEMPLATE
        return
    for problem in result.problems:
        assert problem.sheet == SHEET_TEMPLATE and problem.row == 3


# --- parts the importer never reads: judged by declared size, never inflated ------------------


def _inflated_names(monkeypatch) -> list[str]:
    """The zip members the gate inflates from now on, in order."""
    import excel.safety

    names: list[str] = []
    original = excel.safety._read_capped

    def recording(zf, name, file_name):
        names.append(name)
        return original(zf, name, file_name)

    monkeypatch.setattr(excel.safety, "_read_capped", recording)
    return names


@pytest.mark.parametrize("part", [COMMENTS_XML, "customXml/item1.xml", "xl/media/unused.bin"])
def test_a_huge_part_nobody_reads_is_refused_before_it_is_inflated(store, monkeypatch, part):
    """33 MB packing 47:1 passes the ratio check; its declared size alone refuses it."""
    data = with_unread_part(template_for(store), part, MAX_UNREAD_PART_BYTES + 1024 * 1024)
    inflated = _inflated_names(monkeypatch)
    with pytest.raises(ImportFileError) as info:
        run(store, data)
    assert part in str(info.value) and "32 MB" in str(info.value)
    assert info.value.file == "市教委.xlsx"
    assert part not in inflated and SHEET_XML not in inflated  # refused before the sheet too
    assert store.history().empty


def test_a_part_nobody_reads_is_never_inflated_even_when_its_size_lies(store, monkeypatch):
    """Headers claiming 100 bytes for a 64 MB comment part: never inflated, so the lie costs
    nothing; the sheet itself is read and checked as usual."""
    data = with_unread_part(template_for(store), COMMENTS_XML, 64 * 1024 * 1024, lying=True)
    inflated = _inflated_names(monkeypatch)
    result = run(store, data)
    assert result.ok and result.rows_read == 3 and result.diffs.empty
    assert COMMENTS_XML not in inflated and SHEET_XML in inflated
