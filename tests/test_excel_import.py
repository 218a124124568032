"""Importing filled workbooks: the round trip, every validation error with its location,
stale rows as conflicts, dry run vs apply, partial vs all-or-nothing, the error report, and
every kind of file that must be refused cleanly (each built for real in the test)."""

from __future__ import annotations

import io
import struct
import zipfile
from datetime import date

import openpyxl
import pandas as pd
import pytest
import python_calamine

from excel.read import (
    conflicts_frame,
    diffs_frame,
    error_report,
    import_workbook,
    problems_frame,
)
from excel.report import SHEET_DETAIL, build_report
from excel.safety import MAX_ROWS, formula_cells, open_package
from excel.template import SHEET_TEMPLATE, build_template
from tests.factories import row_of, signed_in
from tracker.errors import ImportFileError, ValidationError
from tracker.progress import Update
from tracker.store import Store

# --- helpers -------------------------------------------------------------------------


def template_for(store, unit: str = "市教委") -> bytes:
    return build_template(store.assignments(), unit, today=date(2026, 11, 23))


def fill(
    data: bytes,
    edits: dict[tuple[str, str], dict[str, object]],
    *,
    sheet: str = SHEET_TEMPLATE,
    header_row: int = 2,
    as_text: bool = True,
) -> bytes:
    """Edit a workbook as a user would in Excel: find rows by (任务编号, 责任单位), set cells.

    Strings are typed as text (openpyxl would otherwise store "=..." as a formula), unless
    ``as_text`` is False, which is how the tests put real formulas in.
    """
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[sheet]
    cols = {c.value: c.column for c in ws[header_row] if c.value}
    for row in range(header_row + 1, ws.max_row + 1):
        key = (ws.cell(row, cols["任务编号"]).value, ws.cell(row, cols["责任单位"]).value)
        for header, value in edits.get(key, {}).items():
            cell = ws.cell(row, cols[header])
            cell.value = value
            if as_text and isinstance(value, str):
                cell.data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def run(store, data: bytes, name: str = "市教委.xlsx", **kwargs):
    if "user" not in kwargs:
        kwargs["user"] = signed_in(store, "王五")
    return import_workbook(store, data, file_name=name, **kwargs)


_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_BOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="数据" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_BOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
_SHEET_HEAD = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def inline_row(number: int, values: list[str]) -> str:
    cells = "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def raw_xlsx(
    rows_xml: str = "",
    *,
    shared: str = '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"/>',
    prolog: str = "",
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A minimal workbook written by hand, so hostile parts can be put in exactly."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _BOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS)
        zf.writestr(
            "xl/worksheets/sheet1.xml",
            _SHEET_HEAD.replace("<worksheet", prolog + "<worksheet", 1)
            + f"<sheetData>{rows_xml}</sheetData></worksheet>",
        )
        zf.writestr("xl/sharedStrings.xml", '<?xml version="1.0" encoding="UTF-8"?>' + shared)
        for name, body in (extra or {}).items():
            zf.writestr(name, body)
    return out.getvalue()


def compound_file(stream_names: list[str]) -> bytes:
    """A real (if tiny) OLE2 compound file with empty streams, as .xls / encrypted .xlsx are."""
    end, free, fat_sector, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 76, 0, *([free] * 108))
    fat = struct.pack("<128I", fat_sector, end, *([free] * 126))

    def entry(name: str, kind: int, left=nostream, right=nostream, child=nostream) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        body = bytearray(128)
        body[: len(raw)] = raw
        struct.pack_into("<HBBIII", body, 64, len(raw), kind, 1, left, right, child)
        struct.pack_into("<IQ", body, 116, end, 0)
        return bytes(body)

    names = sorted(stream_names, key=lambda n: (len(n), n.upper()))
    entries = [entry("Root Entry", 5, child=1 if names else nostream)]
    for index, name in enumerate(names, start=1):
        entries.append(entry(name, 2, right=index + 1 if index < len(names) else nostream))
    directory = b"".join(entries).ljust(512, b"\0")
    return bytes(header) + fat + directory


# --- round trip ------------------------------------------------------------------------


@pytest.fixture
def store(make_store, small_measures):
    return make_store(small_measures)


def test_round_trip_template_fill_import_export(store) -> None:
    filled = fill(
        template_for(store),
        {
            ("demo-m01-t1", "市教委"): {
                "状态": "滞后",
                "进展情况": "资金未到位",
                "完成时限": date(2026, 12, 31),
            },
            ("demo-m01-t2", "市教委"): {
                "状态": "推进中",
                "完成比例(%)": 40,
                "下一步计划": "=1+1",
                "佐证材料": "附件1",
            },
            ("demo-m02-t1", "市教委"): {"状态": "已完成", "完成比例(%)": 100, "存在问题": "@无"},
        },
    )
    preview = run(store, filled, dry_run=True)
    assert preview.ok and preview.dry_run and not preview.written
    assert preview.changed_assignments == 3
    assert store.history().empty, "a dry run writes nothing"
    table = diffs_frame(preview)
    # The task by 文号·措施-任务 as people know it; the file's 任务编号 last.
    assert list(table.columns) == ["行号", "任务", "责任单位", "字段", "原值", "新值", "任务编号"]
    late = table[(table["任务编号"] == "demo-m01-t1") & (table["字段"] == "状态")].iloc[0]
    assert (late["任务"], late["原值"], late["新值"]) == ("〔2026〕1号·1-1", "未启动", "滞后")

    applied = run(store, filled)
    assert applied.ok and applied.written and not applied.dry_run
    assert applied.diffs.reset_index(drop=True).equals(preview.diffs.reset_index(drop=True))
    r1 = row_of(store, "demo-m01-t1", "市教委")
    assert (r1.status, r1.note, r1.due_date.date()) == ("delayed", "资金未到位", date(2026, 12, 31))
    r2 = row_of(store, "demo-m01-t2", "市教委")
    assert (r2.status, r2.percent, r2.next_step, r2.evidence) == (
        "in_progress",
        40,
        "=1+1",
        "附件1",
    )
    r3 = row_of(store, "demo-m02-t1", "市教委")
    assert (r3.status, r3.percent, r3.problems) == ("done", 100, "@无")
    assert row_of(store, "demo-m01-t1", "市科委").status == "not_started"
    history = store.history()
    assert set(history.source) == {"市教委.xlsx"} and set(history.changed_by) == {"王五"}

    again = run(store, filled)
    assert again.ok and not again.written and again.diffs.empty
    assert len(store.history()) == len(history), "re-importing the same file changes nothing"

    detail = openpyxl.load_workbook(io.BytesIO(build_report(store.assignments())))[SHEET_DETAIL]
    rows = list(detail.iter_rows(min_row=2, values_only=True))
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    shown = frame[(frame["任务编号"] == "demo-m01-t2") & (frame["责任单位"] == "市教委")].iloc[0]
    assert (shown["状态"], shown["完成比例(%)"], shown["下一步计划"]) == ("推进中", 40, "=1+1")
    assert shown["更新人"] == "王五"


def test_import_from_the_exported_detail_sheet(store) -> None:
    report = build_report(store.assignments())
    edited = fill(
        report,
        {("demo-m02-t1", "市财政局"): {"状态": "推进中", "完成比例(%)": 30}},
        sheet=SHEET_DETAIL,
    )
    result = run(store, edited, name="进度报表.xlsx")
    assert result.ok and result.sheet == SHEET_DETAIL and result.unit is None
    assert result.rows_read == 6 and result.changed_assignments == 1
    assert row_of(store, "demo-m02-t1", "市财政局").percent == 30


TRICKY_TEXTS = {
    "note": "_x0041_ literal",
    "next_step": "_x005F_x0041_",
    "problems": "_x000D_ and a real\r\nline break",
    "evidence": "x\ry _X004a_ _x12_ __x0041__",
}


def test_report_round_trip_keeps_every_text_as_stored(store) -> None:
    """The report's 明细 exported and imported back unchanged changes nothing: text that
    looks like an OOXML escape, and carriage returns, come back exactly as stored."""
    aid = int(row_of(store, "demo-m01-t2", "市教委").assignment_id)
    store.apply([Update(aid, 0, dict(TRICKY_TEXTS))], user=signed_in(store), source="test")
    report = build_report(store.assignments())
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(report))
    grid = book.get_sheet_by_name(SHEET_DETAIL).to_python()
    header = grid[1]
    shown = next(
        r
        for r in grid[2:]
        if r[header.index("任务编号")] == "demo-m01-t2" and r[header.index("责任单位")] == "市教委"
    )
    labels = {
        "note": "进展情况",
        "next_step": "下一步计划",
        "problems": "存在问题",
        "evidence": "佐证材料",
    }
    assert {k: shown[header.index(v)] for k, v in labels.items()} == TRICKY_TEXTS
    result = run(store, report, name="进度报表.xlsx")
    assert result.ok and result.diffs.empty and not result.written
    stored = row_of(store, "demo-m01-t2", "市教委")
    assert {k: stored[k] for k in TRICKY_TEXTS} == TRICKY_TEXTS


def test_headers_found_by_name_below_a_title_with_extra_columns(store) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "我的表"
    ws.append(["市教委三季度进度"])
    ws.append([])
    ws.append(["备注", "状态", "责任单位", "无关列", "任务编号", "完成比例(%)"])
    ws.append(["随便写", "推进中", "市教委", 123, "demo-m01-t2", 20])
    out = io.BytesIO()
    wb.save(out)
    result = run(store, out.getvalue(), name="自制.xlsx")
    assert result.ok and result.written
    assert result.warnings and "版本" in str(result.warnings[0])
    r = row_of(store, "demo-m01-t2", "市教委")
    assert (r.status, r.percent) == ("in_progress", 20)


# --- validation: every error names sheet, row, column and value ---------------------


def test_every_kind_of_bad_row_is_reported_and_nothing_is_written(store) -> None:
    template = template_for(store)
    bad = fill(
        template,
        {
            ("demo-m01-t1", "市教委"): {"状态": "差不多", "完成比例(%)": 150},
            ("demo-m01-t2", "市教委"): {"完成比例(%)": "一半", "完成时限": "明年"},
            ("demo-m02-t1", "市教委"): {"任务编号": "demo-m99-t9"},
        },
    )
    wb = openpyxl.load_workbook(io.BytesIO(bad))
    ws = wb[SHEET_TEMPLATE]
    cols = {c.value: c.column for c in ws[2]}
    ws.append([None] * ws.max_column)
    for header, value in (
        ("任务编号", "demo-m01-t2"),
        ("责任单位", "市教委"),
        ("版本", 0),
        ("状态", "推进中"),
    ):
        ws.cell(6, cols[header]).value = value  # a duplicate of row 4
    for header, value in (("任务编号", "demo-m02-t1"), ("责任单位", "市科委"), ("版本", 0)):
        ws.cell(7, cols[header]).value = value  # another unit's row in 市教委's template
    ws.cell(7, cols["完成比例(%)"]).value = "=50"  # a formula, not a value
    ws.cell(8, cols["任务编号"]).value = "demo-m01-t1"
    ws.cell(8, cols["责任单位"]).value = "市教委"
    ws.cell(8, cols["版本"]).value = 0
    ws.cell(8, cols["完成时限"]).value = 46000  # a number, not a date
    out = io.BytesIO()
    wb.save(out)
    data = out.getvalue()

    for kwargs in ({"all_or_nothing": True}, {"all_or_nothing": False}, {"dry_run": True}):
        result = run(store, data, **kwargs)
        found = {(p.row, p.column): p for p in result.problems}
        assert all(p.sheet == SHEET_TEMPLATE for p in result.problems)
        assert found[(3, "状态")].value == "差不多"
        assert found[(3, "完成比例(%)")].value == 150
        assert found[(4, "完成比例(%)")].value == "一半"
        assert found[(4, "完成时限")].value == "明年"
        assert (
            "未知的任务编号" in found[(5, "任务编号")].message
            and found[(5, "任务编号")].value == "demo-m99-t9"
        )
        assert "重复" in found[(6, "任务编号")].message
        assert (
            "其他单位" in found[(7, "责任单位")].message
            and found[(7, "责任单位")].value == "市科委"
        )
        assert "公式" in found[(7, "完成比例(%)")].message
        assert "日期" in found[(8, "完成时限")].message and found[(8, "完成时限")].value == 46000
        assert "重复" in found[(8, "任务编号")].message
        assert not result.written and result.diffs.empty
        assert store.history().empty
        assert "第7行" in str(found[(7, "完成比例(%)")]) and "完成比例(%)" in str(
            found[(7, "完成比例(%)")]
        )


def test_partial_writes_valid_rows_all_or_nothing_writes_none(store) -> None:
    data = fill(
        template_for(store),
        {
            ("demo-m01-t1", "市教委"): {"完成比例(%)": 101},
            ("demo-m01-t2", "市教委"): {"状态": "推进中", "完成比例(%)": 10},
            ("demo-m02-t1", "市教委"): {"状态": "滞后", "进展情况": ""},  # delayed needs a note
        },
    )
    strict = run(store, data, all_or_nothing=True)
    assert not strict.written and store.history().empty
    assert {p.row for p in strict.problems} == {3, 5}
    assert "全部成功才保存" in strict.summary()

    partial = run(store, data)
    assert partial.written and partial.changed_assignments == 1
    assert partial.refused_rows == 2
    assert row_of(store, "demo-m01-t2", "市教委").percent == 10
    assert row_of(store, "demo-m02-t1", "市教委").status == "not_started"

    report = openpyxl.load_workbook(io.BytesIO(error_report(partial)))
    errors = report["错误清单"]
    assert [c.value for c in errors[2]] == [
        "工作表",
        "行号",
        "列",
        "值",
        "任务",
        "任务编号",
        "原因",
    ]
    listed = list(errors.iter_rows(min_row=3, values_only=True))
    assert {r[1] for r in listed} == {3, 5}
    assert len(listed) == len(problems_frame(partial)) == len(partial.problems)


def test_user_is_required(store) -> None:
    with pytest.raises(ValidationError):
        run(store, template_for(store), user="  ")


# --- stale rows --------------------------------------------------------------------------


def test_stale_edit_is_a_conflict_with_both_values(store) -> None:
    template = template_for(store)
    current = row_of(store, "demo-m01-t2", "市教委")
    store.apply(
        [Update(current.assignment_id, current.version, {"status": "推进中", "percent": 70})],
        user=signed_in(store, "赵六"),
        source="web",
    )
    data = fill(
        template,
        {
            ("demo-m01-t2", "市教委"): {"完成比例(%)": 30},
            ("demo-m02-t1", "市教委"): {"状态": "推进中", "完成比例(%)": 5},
        },
    )
    result = run(store, data, dry_run=True)
    assert len(result.conflicts) == 1
    conflict = result.conflicts[0]
    assert (conflict.task_id, conflict.updated_by) == ("demo-m01-t2", "赵六")
    assert conflict.theirs == {"完成比例(%)": "70"} and conflict.mine == {"完成比例(%)": "30"}
    assert result.rows_by_assignment[conflict.assignment_id] == 4
    table = conflicts_frame(result)
    assert table.iloc[0]["row"] == 4 and "70" in table.iloc[0]["theirs"]
    assert table.iloc[0]["task"] == "〔2026〕1号·1-2"

    applied = run(store, data)
    assert applied.written and len(applied.conflicts) == 1
    assert row_of(store, "demo-m01-t2", "市教委").percent == 70, "never applied silently"
    assert row_of(store, "demo-m02-t1", "市教委").percent == 5

    strict = run(
        store, fill(template, {("demo-m01-t2", "市教委"): {"完成比例(%)": 30}}), all_or_nothing=True
    )
    assert not strict.written and len(strict.conflicts) == 1


def test_stale_row_the_user_did_not_touch_is_skipped_quietly(store) -> None:
    template = template_for(store)
    current = row_of(store, "demo-m01-t2", "市教委")
    store.apply(
        [Update(current.assignment_id, current.version, {"status": "推进中", "percent": 70})],
        user=signed_in(store, "赵六"),
        source="web",
    )
    data = fill(template, {("demo-m01-t1", "市教委"): {"状态": "推进中"}})
    result = run(store, data)
    assert result.ok and result.written and result.changed_assignments == 1
    assert result.skipped_unchanged_stale == 1
    assert row_of(store, "demo-m01-t2", "市教委").percent == 70


# --- refused files ----------------------------------------------------------------------


def _refused(store, data: bytes, name: str, match: str) -> None:
    with pytest.raises(ImportFileError, match=match) as info:
        run(store, data, name=name)
    assert info.value.file == name and name in str(info.value)


def test_not_xlsx_files_are_refused(store) -> None:
    _refused(
        store, "任务编号,责任单位\ndemo-m01-t1,市教委\n".encode("utf-8-sig"), "a.csv", "不是 Excel"
    )
    _refused(store, bytes(range(256)) * 64, "random.xlsx", "不是 Excel")
    _refused(store, b"", "empty.xlsx", "空")
    _refused(store, compound_file(["Workbook"]), "old.xls", "旧版 .xls")
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("readme.txt", "hello")
    _refused(store, zipped.getvalue(), "notbook.xlsx", "不是 Excel 工作簿")
    _refused(store, b"PK\x03\x04 not really a zip", "broken.xlsx", "损坏")


def test_password_protected_workbook_is_refused(store) -> None:
    _refused(store, compound_file(["EncryptionInfo", "EncryptedPackage"]), "secret.xlsx", "密码")


def test_macro_workbooks_are_refused(store) -> None:
    plain = template_for(store)
    _refused(store, plain, "宏.xlsm", "宏")
    with_vba = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain)) as zin, zipfile.ZipFile(with_vba, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info.filename))
        zout.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 fake vba")
    _refused(store, with_vba.getvalue(), "renamed.xlsx", "vbaProject")


def test_empty_sheet_and_missing_header_are_refused(store) -> None:
    empty = io.BytesIO()
    openpyxl.Workbook().save(empty)
    _refused(store, empty.getvalue(), "empty.xlsx", "工作表为空")
    _refused(
        store,
        raw_xlsx(inline_row(1, ["名称", "数量"]) + inline_row(2, ["a", "1"])),
        "nohdr.xlsx",
        "找不到表头",
    )
    _refused(
        store,
        raw_xlsx(inline_row(3, ["任务编号", "责任单位", "状态"])),
        "hdronly.xlsx",
        "没有数据行",
    )


def test_too_many_rows_is_refused(store) -> None:
    rows = [inline_row(1, ["任务编号", "责任单位", "状态"])]
    rows += [f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(2, MAX_ROWS + 3)]
    _refused(store, raw_xlsx("".join(rows)), "big.xlsx", "上限")


def test_files_over_20_mb_are_refused(store) -> None:
    _refused(store, b"PK\x03\x04" + bytes(20 * 1024 * 1024), "huge.xlsx", "20 MB")


def test_zip_bomb_is_refused_before_parsing(store) -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (64 * 1024 * 1024) + b"/>")
    assert len(bomb.getvalue()) < 1024 * 1024
    _refused(store, bomb.getvalue(), "bomb.xlsx", "压缩炸弹")


def test_defusedxml_is_active_for_openpyxl() -> None:
    assert openpyxl.DEFUSEDXML is True


BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def test_billion_laughs_in_shared_strings_is_refused(store) -> None:
    shared = (
        BILLION_LAUGHS
        + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        "<si><t>&lol9;</t></si></sst>"
    )
    rows = (
        inline_row(1, ["任务编号", "责任单位", "状态"])
        + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'
    )
    data = raw_xlsx(rows, shared=shared)
    _refused(store, data, "lol.xlsx", "DOCTYPE")
    with pytest.raises(ValueError) as info:  # openpyxl itself refuses too, thanks to defusedxml
        openpyxl.load_workbook(io.BytesIO(data))
    assert type(info.value.__cause__).__name__ == "EntitiesForbidden"


def test_entity_declarations_in_sheet_xml_are_refused(store) -> None:
    data = raw_xlsx(inline_row(1, ["任务编号", "责任单位", "&lol9;"]), prolog=BILLION_LAUGHS)
    _refused(store, data, "lol2.xlsx", "DOCTYPE")


def test_formula_scan_locates_cells() -> None:
    xml = (
        b'<sheetData><row r="3"><c r="B3" s="1"><f>1+1</f><v>2</v></c><c r="C3"><v>1</v></c>'
        b'<c r="AA10" t="str"><f t="shared" si="0"/><v>x</v></c></row></sheetData>'
    )
    assert formula_cells(xml) == {(3, 2), (10, 27)}
    package = open_package(raw_xlsx(inline_row(1, ["任务编号"])), "ok.xlsx")
    assert [s.name for s in package.sheets] == ["数据"]


# --- command line ---------------------------------------------------------------------------


def test_cli_template_import_export(tmp_path, monkeypatch, capsys, small_measures) -> None:
    from cli import main

    csv = tmp_path / "measures.csv"
    small_measures.to_csv(csv, index=False, encoding="utf-8-sig")
    monkeypatch.setenv("TRACKER_MEASURES_CSV", str(csv))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    signed_in(Store.open(), "张三")  # the CLI acts as an existing account
    template = tmp_path / "市教委.xlsx"
    assert main(["template", "--unit", "市教委", "--out", str(template), "--user", "张三"]) == 0
    template.write_bytes(
        fill(
            template.read_bytes(),
            {("demo-m01-t2", "市教委"): {"状态": "推进中", "完成比例(%)": 25}},
        )
    )

    assert main(["import", str(template), "--user", "张三", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "demo-m01-t2" in out and "'0' -> '25'" in out and "将修改 1 条" in out
    assert main(["import", str(template), "--user", "张三"]) == 0
    assert "已修改 1 条" in capsys.readouterr().out

    report = tmp_path / "report.xlsx"
    assert main(["export", "--out", str(report), "--unit", "市教委", "--user", "张三"]) == 0
    detail = openpyxl.load_workbook(report)[SHEET_DETAIL]
    values = list(detail.iter_rows(min_row=3, values_only=True))
    assert len(values) == 3 and {r[4] for r in values} == {"市教委"}
    assert any(r[2] == "demo-m01-t2" and r[7] == 25 for r in values)

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(fill(template.read_bytes(), {("demo-m01-t1", "市教委"): {"完成比例(%)": 300}}))
    errors = tmp_path / "errors.xlsx"
    assert (
        main(
            [
                "import",
                str(bad),
                "--user",
                "张三",
                "--all-or-nothing",
                "--error-report",
                str(errors),
            ]
        )
        == 2
    )
    assert "完成比例" in capsys.readouterr().err and errors.exists()
    (tmp_path / "a.csv").write_text("任务编号,责任单位\n", encoding="utf-8")
    assert main(["import", str(tmp_path / "a.csv"), "--user", "张三"]) == 2
    assert "a.csv" in capsys.readouterr().err
