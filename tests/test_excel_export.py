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

from excel.kit import fit_scale
from excel.report import (
    DETAIL_COLUMNS,
    LINE_POINTS,
    MIN_ROW_POINTS,
    SHEET_DETAIL,
    SHEET_POLICY,
    SHEET_RANKINGS,
    SHEET_SUMMARY,
    SUMMARY_COLUMNS,
    SUMMARY_SCALE,
    build_report,
    wrapped_row_heights,
)
from loaders.store_sync import open_store
from tests.factories import signed_in
from tracker.aggregate import notes as notes_of
from tracker.filters import Filters
from tracker.progress import Update, warning_light
from tracker.schema import LIGHT_LABELS, ROLE_LABELS, STATUS_LABELS
from tracker.supervision import Supervision

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
    assert ws.column_dimensions[col["任务内容"]].width >= 20
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
    valid workbook (the character written as Excel's own escape ``_x0001_``, which Excel and
    the importer read back as the character), and markup stays text."""
    store = make_store(small_measures)
    _set(store, "demo-m01-t2", "市教委", problems="  leading")
    rows = store.assignments()
    rows.loc[rows["task_id"] == "demo-m01-t2", "note"] = 'a\x01b <c> & "d"'
    table = _table(_open(build_report(rows, today=today))[SHEET_DETAIL])
    row = table[table["任务编号"] == "demo-m01-t2"].iloc[0]
    assert row["进展情况"] == 'a_x0001_b <c> & "d"'  # openpyxl shows escapes as they are


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


def _widths(ws, last: int) -> list[float]:
    """The widths of columns A to ``last`` that print (hidden ones don't)."""
    dims = [ws.column_dimensions[openpyxl.utils.get_column_letter(i)] for i in range(1, last + 1)]
    return [d.width for d in dims if not d.hidden]


def test_detail_prints_every_column_one_page_wide(store, today) -> None:
    """Issue 23.8: the print area stopped at 存在问题 (column M), leaving out 佐证材料, 更新人
    and 更新时间.  Now it runs to the last column, and the widths keep one A4 landscape
    width at 68 % or more (10 pt text at ~7 pt; at the old widths, 52 %)."""
    ws = _open(build_report(store.assignments(), today=today))[SHEET_DETAIL]
    headers = [c.value for c in ws[2]]
    last = openpyxl.utils.get_column_letter(len(headers))
    assert headers[-1] == "版本" and len(headers) == len(DETAIL_COLUMNS)
    assert ws.print_area == f"'{SHEET_DETAIL}'!$A$1:${last}${ws.max_row}"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$1:$2"
    assert fit_scale(_widths(ws, len(headers))) >= 0.68
    assert ws.row_dimensions[2].height >= 2 * LINE_POINTS  # 完成比例(%) wraps to two lines
    assert all(ws[f"{chr(65 + i)}3"].alignment.wrap_text for i in (0, 2, 3, 4))  # ids wrap too


def test_summary_prints_its_table_unscaled_and_the_chart_below(store, today) -> None:
    """Issue 24.8: with the chart beside the table, "one page wide" printed 汇总 at 68 %.
    The print area is the table's columns, which fit A4 landscape at 100 %; the chart sits
    under the notes, from a page break, inside those columns."""
    ws = _open(build_report(store.assignments(), today=today))[SHEET_SUMMARY]
    last = len(SUMMARY_COLUMNS)
    area = ws.print_area.split("!")[1]
    assert area.startswith("$A$1:$" + openpyxl.utils.get_column_letter(last) + "$")
    assert fit_scale(_widths(ws, last)) >= SUMMARY_SCALE == 1.0
    [chart] = ws._charts
    anchor = chart.anchor._from
    assert anchor.col == 0
    notes_end = max(c.row for c in ws["A"] if str(c.value or "").startswith("注："))
    assert anchor.row + 1 > notes_end  # openpyxl counts anchor rows from 0
    assert [b.id for b in ws.row_breaks.brk] == [anchor.row]
    assert int(area.rsplit("$", 1)[1]) >= anchor.row + chart.height / 0.53


def test_rankings_sheet_fits_the_page_width(store, today) -> None:
    rankings = Supervision(store).rankings(store.assignments(), today)
    ws = _open(build_report(store.assignments(), today=today, rankings=rankings))[SHEET_RANKINGS]
    headers = [c.value for c in ws[2]]
    assert headers[0] == "名次" and headers[-1] == "说明"
    assert fit_scale(_widths(ws, len(headers))) >= 0.88
    assert ws.page_setup.fitToWidth == 1 and ws.print_title_rows == "$1:$2"
    assert ws.row_dimensions[2].height >= 3 * LINE_POINTS  # 上期一次审核通过率: three lines


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


# 明细's headers that print on one line (完成比例(%) and 佐证文件数 wrap into two words).
DETAIL_ON_PAPER = {
    "文号",
    "任务内容",
    "责任单位",
    "完成时限",
    "进展情况",
    "存在问题",
    "佐证材料",
    "佐证文件",
    "更新人",
    "更新时间",
    "政策名称",
    "措施名称",
}


def _words(page: str) -> list[tuple[float, str]]:
    """(height in points, text) of each word poppler found on a page."""
    found = re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]+)<', page)
    return [(float(y1) - float(y0), word) for y0, y1, word in found]


def test_printed_report_shows_every_column_at_a_readable_size(office, tmp_path) -> None:
    """The seeds' report printed by LibreOffice (issues 23.8, 24.8), sheet by sheet:

    - 汇总: glyphs at least 9 pt (beside its chart it printed at 6.8), table pages then the
      chart on a page of its own;
    - 明细: every page carries every column header, 佐证材料 to 措施名称 included (the print
      area stopped at 存在问题), the header row repeated, text about 7 pt;
    - 通报: one page wide, 名次 to 说明 on its pages, header repeated.
    """
    store = open_store(f"sqlite:///{tmp_path / 'print.db'}")  # with the seed tasks
    rows = store.assignments()
    today = date(2026, 11, 23)
    rankings = Supervision(store).rankings(rows, today)
    store.engine.dispose()
    workbook = tmp_path / "report.xlsx"
    filled = rows.assign(note="按计划推进，已召开专题会议", evidence="会议纪要")
    workbook.write_bytes(build_report(filled, today=today, rankings=rankings))
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
    sheets: dict[str, list[list[tuple[float, str]]]] = {}
    first_detail = 0
    for number, page in enumerate(_pdf_pages(office, pdf), start=1):
        words = _words(page)
        title = next(w for _, w in words if "（" in w or "督办通报" in w)
        sheet = "通报" if "督办通报" in title else title[title.index("（") + 1 : title.index("）")]
        sheets.setdefault(sheet, []).append(words)
        first_detail = first_detail or (number if sheet == SHEET_DETAIL else 0)
    assert list(sheets) == [SHEET_SUMMARY, SHEET_POLICY, SHEET_DETAIL, SHEET_RANKINGS]

    summary = sheets[SHEET_SUMMARY]
    assert (
        len(summary) >= 2
    )  # the table's pages (more with 各区政府's 16 districts), then the chart
    assert min(h for page in summary for h, _ in page) >= 9, "汇总 prints below 9 pt"
    assert "各责任单位任务分工按状态分布" in {w for _, w in summary[-1]}  # the chart page
    assert not any(w.startswith("注：") for _, w in summary[-1])  # notes stay with the table
    assert any(w.startswith("注：") for _, w in summary[-2])

    detail = sheets[SHEET_DETAIL]
    heights = []
    for page in detail:
        texts = {w for _, w in page}
        assert texts >= DETAIL_ON_PAPER, f"a page lost columns: {DETAIL_ON_PAPER - texts}"
        heights += [h for h, _ in page]
    assert statistics.median(heights) >= 6.8, f"text {statistics.median(heights):.1f} pt high"

    for page in sheets[SHEET_RANKINGS]:
        assert {"名次", "责任单位", "说明"} <= {w for _, w in page}
    assert statistics.median(h for page in sheets[SHEET_RANKINGS] for h, _ in page) >= 8.5

    subprocess.run(
        [
            office["pdftoppm"],
            "-r",
            "36",
            "-gray",
            "-f",
            str(first_detail),
            "-l",
            str(first_detail),
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
