"""The progress report workbook: sheets, headers, counts that match the store, the chart,
report formatting, and notes that look like formulas arriving as plain text."""

from __future__ import annotations

import io
import os
import re
import shutil
import statistics
import subprocess
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from PIL import Image

from excel.report import (
    DETAIL_COLUMNS,
    DETAIL_PRINTED,
    LINE_POINTS,
    MIN_ROW_POINTS,
    SHEET_DETAIL,
    SHEET_POLICY,
    SHEET_SUMMARY,
    SUMMARY_COLUMNS,
    build_report,
    wrapped_row_heights,
)
from loaders.store_sync import open_store
from tests.factories import signed_in
from tracker.aggregate import notes as notes_of
from tracker.filters import Filters
from tracker.progress import Update, warning_light
from tracker.schema import LIGHT_LABELS, ROLE_LABELS, STATUS_LABELS

HOSTILE_NOTES = ['=HYPERLINK("http://evil","x")', "=1+1", "+1", "-2", "@SUM(A1)"]


def _set(store, task_id: str, unit: str, **changes) -> None:
    df = store.assignments()
    row = df[(df.task_id == task_id) & (df.unit == unit)].iloc[0]
    store.apply(
        [Update(row.assignment_id, row.version, changes)],
        user=signed_in(store, "张三"),
        source="test",
    )


@pytest.fixture
def store(make_store, small_measures):
    store = make_store(small_measures)
    _set(store, "demo-m01-t1", "市科委", status="已完成")
    _set(store, "demo-m01-t1", "市教委", status="滞后", note="资金未到位", due_date="2026-03-01")
    _set(store, "demo-m01-t2", "市教委", status="推进中", percent=50, note=HOSTILE_NOTES[0])
    _set(store, "demo-m02-t1", "市科委", status="暂缓", note="=1+1")
    return store


def _open(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _table(ws, header_row: int = 2) -> pd.DataFrame:
    """The table whose header is ``header_row``, down to its last row (notes excluded)."""
    rows = list(ws.iter_rows(min_row=header_row, values_only=True))
    body = [r for r in rows[1:] if not str(r[0] or "").startswith("注：")]
    return pd.DataFrame(body, columns=rows[0])


def _header_row(ws, first: str) -> int:
    return next(c.row for c in ws["A"] if c.value == first)


def _units(ws) -> pd.DataFrame:
    """汇总's per-unit table, below the headline block."""
    return _table(ws, _header_row(ws, SUMMARY_COLUMNS[0]))


def test_sheets_headers_and_title(store, today) -> None:
    wb = _open(build_report(store.assignments(), today=today))
    assert wb.sheetnames == [SHEET_SUMMARY, SHEET_POLICY, SHEET_DETAIL]
    for ws in wb:
        title = ws["A1"].value
        assert "2026-11-23" in title and "筛选条件：全部" in title
        assert ws["A2"].font.bold
    summary = wb[SHEET_SUMMARY]
    assert [c.value for c in summary[2]][:3] == ["指标", "数值", "口径"]
    assert [c.value for c in summary[_header_row(summary, "责任单位")]][:13] == SUMMARY_COLUMNS
    detail_headers = [c.value for c in wb[SHEET_DETAIL][2]]
    for header in (
        "文号",
        "措施",
        "任务编号",
        "任务内容",
        "责任单位",
        "角色",
        "状态",
        "完成比例(%)",
        "完成时限",
        "进展情况",
        "下一步计划",
        "存在问题",
        "佐证材料",
        "更新人",
        "更新时间",
        "预警",
        "版本",
    ):
        assert header in detail_headers


def test_summary_totals_match_the_store(store, today) -> None:
    df = store.assignments()
    df["light"] = warning_light(df, today)
    summary = _units(_open(build_report(df, today=today))[SHEET_SUMMARY])
    units = sorted(df.unit.unique())
    assert len(summary) == len(units) + 1
    assert sorted(summary["责任单位"][:-1]) == units
    by_unit = summary.set_index("责任单位")
    for unit in units:
        mine = df[df.unit == unit]
        row = by_unit.loc[unit]
        assert row["牵头任务"] == (mine.role == "lead").sum()
        assert row["配合任务"] == (mine.role == "support").sum()
        for code, label in STATUS_LABELS.items():
            assert row[label] == (mine.status == code).sum(), (unit, label)
        for code, label in LIGHT_LABELS.items():
            assert row[label] == (mine.light == code).sum()
        assert row["分工完成率"] == pytest.approx((mine.status == "done").mean())
    total = by_unit.loc["合计"]
    assert total["分工条数"] == len(df) == 6
    counts = Counter(df.status)
    assert [total[STATUS_LABELS[c]] for c in STATUS_LABELS] == [counts[c] for c in STATUS_LABELS]
    assert total["牵头任务"] + total["配合任务"] == len(df)
    assert total["分工完成率"] == pytest.approx(1 / 6)


def test_summary_opens_with_the_overview_headline(store, today) -> None:
    """Issue 9: 汇总 showed 完成率 3/170 (assignments) while 总览 showed 3/49 (tasks)."""
    ws = _open(build_report(store.assignments(), today=today))[SHEET_SUMMARY]
    head = _table(ws).dropna(subset=["数值"]).set_index("指标")
    # three tasks; one done: t1, whose lead 市科委 is done (its support 市教委 is delayed)
    assert (head.loc["任务", "数值"], head.loc["已完成任务", "数值"]) == (3, 1)
    assert head.loc["分工条数", "数值"] == 6
    assert head.loc["任务完成率", "数值"] == pytest.approx(1 / 3)
    assert head.loc["任务完成率", "口径"] == "已完成任务 ÷ 任务。"
    assert "完成率" not in head.index  # one name per definition
    notes = [c.value for c in ws["A"] if str(c.value or "").startswith("注：")]
    assert "注：分工完成率：状态为“已完成”的分工条数 ÷ 分工条数（按单位自己的状态计）。" in notes


def test_summary_has_a_native_bar_chart(store, today) -> None:
    data = build_report(store.assignments(), today=today)
    ws = _open(data)[SHEET_SUMMARY]
    assert len(ws._charts) == 1
    chart = ws._charts[0]
    assert chart.tagname == "barChart" and chart.grouping == "stacked"
    assert len(chart.series) == len(STATUS_LABELS)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert any(n.startswith("xl/charts/chart") for n in zf.namelist())


def test_by_policy_per_measure(store, today) -> None:
    ws = _open(build_report(store.assignments(), today=today))[SHEET_POLICY]
    table = _table(ws)
    body, total = table.iloc[:-1], table.iloc[-1]
    assert list(body["措施"]) == [1, 2]
    m1 = body.set_index("措施").loc[1]
    assert (m1["任务"], m1["责任单位数"]) == (2, 2)
    # a task is done when its lead unit is (t1: 市科委 done, its support 市教委
    # delayed), as on the 按政策 page; the report used to say 0 (every unit done)
    assert m1["已完成任务"] == 1
    assert m1["滞后任务"] == 0  # t2's lead 市教委 is in progress; t1's lead is done
    assert m1["任务完成率"] == pytest.approx(0.5)
    assert set(m1["牵头单位"].split("、")) == {"市科委", "市教委"}
    m2 = body.set_index("措施").loc[2]
    assert (m2["任务"], m2["责任单位数"], m2["牵头单位"]) == (1, 3, "市科委")
    assert (total["文号"], total["任务"], total["责任单位数"]) == ("合计", 3, 3)
    assert (total["已完成任务"], total["任务完成率"]) == (1, pytest.approx(1 / 3))
    notes = [c.value for c in ws["A"] if str(c.value or "").startswith("注：")]
    assert notes == [
        "注：" + n for n in notes_of("tasks", "units", "done", "delayed", "share_done")
    ]


def test_detail_has_every_assignment_with_chinese_labels(store, today) -> None:
    df = store.assignments()
    ws = _open(build_report(df, today=today))[SHEET_DETAIL]
    table = _table(ws)
    assert len(table) == len(df) == ws.max_row - 2
    merged = table.merge(df, left_on=["任务编号", "责任单位"], right_on=["task_id", "unit"])
    assert len(merged) == len(df)
    assert (merged["状态"] == merged["status"].map(STATUS_LABELS)).all()
    assert (merged["角色"] == merged["role"].map(ROLE_LABELS)).all()
    assert (merged["完成比例(%)"] == merged["percent"]).all()
    assert (merged["版本"] == merged["version"]).all()
    late = merged[merged.unit == "市教委"].set_index("task_id").loc["demo-m01-t1"]
    assert late["完成时限"].date().isoformat() == "2026-03-01"
    assert late["预警"] == "红灯" and late["进展情况"] == "资金未到位"


def test_report_formatting(store, today) -> None:
    wb = _open(build_report(store.assignments(), today=today))
    ws = wb[SHEET_DETAIL]
    headers = [c.value for c in ws[2]]
    col = {h: openpyxl.utils.get_column_letter(i) for i, h in enumerate(headers, start=1)}
    assert ws.freeze_panes == "D3"
    assert ws.auto_filter.ref == f"A2:{col['版本']}{ws.max_row}"
    assert ws[f"{col['任务内容']}3"].alignment.wrap_text
    assert ws[f"{col['任务编号']}3"].font.name == "等线"
    assert ws.column_dimensions[col["任务内容"]].width >= 30
    assert ws.column_dimensions[col["版本"]].hidden
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert "&P" in ws.oddFooter.center.text
    status_ranges = [
        str(r.sqref) for r in ws.conditional_formatting if str(r.sqref).startswith(col["状态"])
    ]
    assert status_ranges == [f"{col['状态']}3:{col['状态']}{ws.max_row}"]
    rules = [
        rule
        for cf in ws.conditional_formatting
        if str(cf.sqref).startswith(col["状态"])
        for rule in cf.rules
    ]
    assert sorted(r.formula[0] for r in rules) == sorted(
        f'"{label}"' for label in STATUS_LABELS.values()
    )
    validations = {dv.type: str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert validations["list"] == f"{col['状态']}3:{col['状态']}{ws.max_row}"
    assert validations["whole"].startswith(col["完成比例(%)"])
    assert wb[SHEET_SUMMARY].print_title_rows == "$1:$1"  # the headline block follows
    for sheet in (wb[SHEET_POLICY], wb[SHEET_DETAIL]):
        assert sheet.print_title_rows == "$1:$2"


def test_filters_limit_rows_and_show_in_title(store, today) -> None:
    df = store.assignments()
    wb = _open(build_report(df, filters=Filters(unit=("市教委",)), today=today))
    table = _table(wb[SHEET_DETAIL])
    assert set(table["责任单位"]) == {"市教委"} and len(table) == (df.unit == "市教委").sum()
    assert "责任单位=市教委" in wb[SHEET_DETAIL]["A1"].value
    summary = _units(wb[SHEET_SUMMARY])
    assert list(summary["责任单位"]) == ["市教委", "合计"]


@pytest.mark.parametrize("note", HOSTILE_NOTES)
def test_notes_that_look_like_formulas_stay_text(make_store, small_measures, today, note) -> None:
    store = make_store(small_measures)
    _set(store, "demo-m01-t2", "市教委", note=note)
    data = build_report(store.assignments(), today=today)
    ws = _open(data)[SHEET_DETAIL]
    table = _table(ws)
    row = table.index[table["任务编号"] == "demo-m01-t2"][0] + 3
    col = [c.value for c in ws[2]].index("进展情况") + 1
    cell = ws.cell(row=row, column=col)
    assert cell.value == note
    assert cell.data_type == "s"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in zf.read(name) and b"<f " not in zf.read(name)


def test_control_characters_and_markup_survive(make_store, small_measures, today) -> None:
    """The store refuses control characters at entry; rows stored before that still make a
    valid workbook (the character dropped), and markup stays text."""
    store = make_store(small_measures)
    _set(store, "demo-m01-t2", "市教委", problems="  leading")
    rows = store.assignments()
    rows.loc[rows["task_id"] == "demo-m01-t2", "note"] = 'a\x01b <c> & "d"'
    table = _table(_open(build_report(rows, today=today))[SHEET_DETAIL])
    row = table[table["任务编号"] == "demo-m01-t2"].iloc[0]
    assert row["进展情况"] == 'ab <c> & "d"'


def test_detail_texts_are_shared_strings_each_stored_once(store, today) -> None:
    """明细 is streamed with a shared-string table: a task's text, written on each of its
    units' rows, is one entry that every such cell refers to, and reads back as the text."""
    rows = store.assignments()
    with zipfile.ZipFile(io.BytesIO(build_report(rows, today=today))) as zf:
        table = zf.read("xl/sharedStrings.xml").decode()
    texts = re.findall(r"<t xml:space=\"preserve\">(.*?)</t>", table)
    assert len(texts) == len(set(texts))
    shared = rows.groupby("task_id")["task_text"].first()
    repeated = rows["task_id"].value_counts()
    task = repeated.index[repeated > 1][0]  # a task with two or more units
    assert texts.count(shared[task]) == 1
    detail = _table(_open(build_report(rows, today=today))[SHEET_DETAIL])
    assert (detail.loc[detail["任务编号"] == task, "任务内容"] == shared[task]).all()
    assert len(detail) == len(rows)


def test_empty_selection_still_makes_a_report(store, today) -> None:
    wb = _open(build_report(store.assignments(), filters=Filters(unit=("无此单位",)), today=today))
    assert wb.sheetnames == [SHEET_SUMMARY, SHEET_POLICY, SHEET_DETAIL]
    assert wb[SHEET_DETAIL].max_row == 2
    assert _units(wb[SHEET_SUMMARY])["责任单位"].tolist() == ["合计"]


def test_titles_name_filters_by_label_and_policy_title(store, today) -> None:
    """Issue 9: titles printed ``角色=lead；状态=in_progress、delayed；预警灯=red`` and the
    policy id; every sheet now names them the way the pages do."""
    chosen = Filters(
        policy=("demo-2026-1",),
        role=("lead",),
        status=("in_progress", "delayed"),
        light=("red",),
    )
    wb = _open(build_report(store.assignments(), filters=chosen, today=today))
    for ws in wb:
        title = ws["A1"].value
        assert "政策=示范政策（沪府办发〔2026〕1号）" in title
        assert "角色=牵头；状态=推进中、滞后；预警灯=红灯" in title
        for code in ("demo-2026-1", "lead", "in_progress", "delayed", "red"):
            assert code not in title
        headers = [c.value for row in ws.iter_rows(max_row=2) for c in row if c.value]
        assert not any(code in str(h) for h in headers for code in ("lead", "done", "red"))


def test_filters_describe_with_labels() -> None:
    chosen = Filters(policy=("p1", "p2"), unit=("市科委",), role=("support",), light=("yellow",))
    assert chosen.describe({"p1": "政策一（沪府办发〔2026〕1号）"}) == (
        "政策=政策一（沪府办发〔2026〕1号）、p2；责任单位=市科委；角色=配合；预警灯=黄灯"
    )
    assert Filters().describe() == "全部"


# --- printed 明细: fit to one A4 width, text still readable ----------------------------


def test_detail_row_heights_fit_the_wrapped_text() -> None:
    task = "推" * 64  # 64 CJK characters in the 32-wide 任务内容 column: four lines or more
    frame = pd.DataFrame({"task_text": [task, "短"], "note": ["第一行\n第二行\n第三行", ""]})
    heights = wrapped_row_heights(frame, DETAIL_COLUMNS)
    assert heights[0] >= 4 * LINE_POINTS
    assert heights[1] == MIN_ROW_POINTS


def test_detail_prints_the_readers_columns_one_page_wide(store, today) -> None:
    ws = _open(build_report(store.assignments(), today=today))[SHEET_DETAIL]
    headers = [c.value for c in ws[2]]
    printed = headers[:DETAIL_PRINTED]
    assert ws.print_area == f"'{SHEET_DETAIL}'!$A$1:${chr(64 + DETAIL_PRINTED)}${ws.max_row}"
    assert {"文号", "任务内容", "责任单位", "状态", "完成时限", "进展情况", "存在问题"} <= set(
        printed
    )
    assert not {"更新时间", "政策名称", "措施名称", "版本"} & set(printed)
    assert sum(ws.column_dimensions[chr(65 + i)].width for i in range(DETAIL_PRINTED)) <= 160
    assert all(ws[f"{chr(65 + i)}3"].alignment.wrap_text for i in (0, 2, 3, 4))  # ids wrap too


@pytest.fixture(scope="module")
def office() -> dict[str, str]:
    """LibreOffice and poppler, to print a report to PDF and read it back."""
    names = ("libreoffice", "pdftoppm", "pdftotext", "pdfinfo")
    tools = {name: shutil.which(name) for name in names}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        reason = f"{', '.join(missing)} not installed (apt-get install libreoffice-calc-nogui poppler-utils)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must print the report: {reason}")
        pytest.skip(reason)
    return tools


def _pdf_pages(office: dict[str, str], pdf: Path) -> list[str]:
    """Each page of ``pdf`` as poppler's word boxes (XHTML)."""
    count = int(
        re.search(
            r"Pages:\s+(\d+)",
            subprocess.run([office["pdfinfo"], str(pdf)], capture_output=True, text=True).stdout,
        ).group(1)
    )
    return [
        subprocess.run(
            [office["pdftotext"], "-f", str(n), "-l", str(n), "-bbox", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for n in range(1, count + 1)
    ]


def test_printed_detail_is_one_page_wide_with_readable_text(office, tmp_path) -> None:
    """The seeds' 明细 printed by LibreOffice: every page carries the same columns, first
    (文号) to last printed (存在问题), the table spans the page width, and body text is at
    least 7.5 pt high (all 19 columns squeezed onto A4 printed it at about 4.5 pt)."""
    store = open_store(f"sqlite:///{tmp_path / 'print.db'}")  # with the seed tasks
    rows = store.assignments()
    store.engine.dispose()
    workbook = tmp_path / "report.xlsx"
    workbook.write_bytes(
        build_report(rows.assign(note="按计划推进，已召开专题会议"), today=date(2026, 11, 23))
    )
    subprocess.run(
        [
            office["libreoffice"],
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(workbook),
        ],
        capture_output=True,
        check=True,
        timeout=300,
        env={**os.environ, "HOME": str(tmp_path)},  # a profile of its own, never the user's
    )
    pdf = tmp_path / "report.pdf"
    pages = {n: p for n, p in enumerate(_pdf_pages(office, pdf), start=1) if "（明细）" in p}
    assert len(pages) >= 2
    heights = []
    for page in pages.values():
        words = re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]+)<', page)
        texts = {w for *_, w in words}
        assert {"文号", "存在问题"} <= texts, "a page lost columns: not one page wide"
        assert not {"更新时间", "政策名称"} & texts, "columns outside the print area printed"
        heights += [float(y1) - float(y0) for y0, y1, _ in words]
    assert statistics.median(heights) >= 7.5, f"text {statistics.median(heights):.1f} pt high"

    first = min(pages)
    subprocess.run(
        [
            office["pdftoppm"],
            "-r",
            "36",
            "-gray",
            "-f",
            str(first),
            "-l",
            str(first),
            str(pdf),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    [png] = tmp_path.glob("page*.pgm")
    image = Image.open(png)
    assert image.width > image.height  # landscape
    ink = [
        x
        for x in range(image.width)
        if min(image.getpixel((x, y)) for y in range(image.height)) < 128
    ]
    assert (ink[-1] - ink[0]) / image.width >= 0.85, "the table does not fill the page width"
