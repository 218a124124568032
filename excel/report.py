"""The progress report workbook (进度报表): 汇总 / 按政策 / 明细 (and 通报 when asked),
formatted like a report a bureau sends upward, laid out with :mod:`excel.kit`.

The 明细 sheet is a data sheet too: filtered, edited and imported back by
:mod:`excel.read`, so it carries the same key columns as the fill-in template.
See ``bench/excel_export.py`` for the speed.

>>> data = build_report(store.assignments())              # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from excel.kit import (
    TASK_ID_HEADER,
    TASK_TEXT_HEADER,
    UNIT_HEADER,
    VERSION_HEADER,
    Column,
    SharedStrings,
    Sheet,
    labelled,
    light_rules,
    new_workbook,
    percent_validation,
    prepare_sheet,
    render_chunks,
    render_rows,
    save_with_rows,
    setup_print,
    status_rules,
    status_validation,
    style_id,
    styled,
)
from tracker import aggregate
from tracker import rankings as ranks
from tracker.filters import Filters, policy_names
from tracker.progress import now
from tracker.rollup import counted
from tracker.schema import DONE, PROGRESS_FIELDS, STATUS_COLORS, STATUS_LABELS

SHEET_SUMMARY, SHEET_POLICY, SHEET_DETAIL = "汇总", "按政策", "明细"


# --- report content (pure pandas) ----------------------------------------------------------

# Every figure comes from tracker.aggregate, the functions the pages use, under the same
# names; each sheet prints the definitions of the figures it shows (aggregate.FIGURES).
SUMMARY_COLUMNS = aggregate.UNIT_TABLE_COLUMNS
POLICY_COLUMNS = aggregate.MEASURE_PROGRESS_COLUMNS
CHART_STATUSES = aggregate.UNIT_STATUSES
HEADLINE_HEADERS = ["指标", "数值", "口径"]
SUMMARY_NOTES = [
    "lead",
    "support",
    "assignments",
    "unit_status",
    "unit_share_done",
    *aggregate.LIGHTS,
    "rollup",
    "unnamed",
]
POLICY_NOTES = ["tasks", "units", "done", "delayed", "share_done"]

# 明细 is a data sheet (filter it, import it back) and a printed one: every column stays, in
# this order, and every column goes on paper one A4 landscape page wide (the hidden 版本
# excepted).  The widths are as narrow as their texts allow, long texts wrap within their
# column, so the 20 columns print at about 70% (10 pt text ~7 pt) and not half size.
DETAIL_COLUMNS: list[Column] = [
    Column("doc_no", "文号", 9, style="r_wrap"),
    Column("measure_no", "措施", 4, "int", "r_int"),
    Column("task_id", TASK_ID_HEADER, 10, style="r_wrap"),
    Column("task_text", TASK_TEXT_HEADER, 24, style="r_wrap"),
    Column("unit", UNIT_HEADER, 9, style="r_wrap"),
    Column("role_label", "角色", 4, style="r_center"),
    Column("status_label", PROGRESS_FIELDS["status"], 6, style="r_center"),
    Column("percent", PROGRESS_FIELDS["percent"], 6, "int", "r_int"),
    Column("due_date", PROGRESS_FIELDS["due_date"], 10, "date", "r_date"),
    Column("light_label", "预警", 4, style="r_center"),
    Column("note", PROGRESS_FIELDS["note"], 16, style="r_wrap"),
    Column("next_step", PROGRESS_FIELDS["next_step"], 12, style="r_wrap"),
    Column("problems", PROGRESS_FIELDS["problems"], 10, style="r_wrap"),
    # references and bookkeeping
    Column("collective", "所属集体单位", 5, style="r_wrap"),  # 各区政府 on a district's row
    Column("evidence", PROGRESS_FIELDS["evidence"], 10, style="r_wrap"),
    Column("evidence_count", "佐证文件数", 5, "int", "r_int"),
    Column("evidence_files", "佐证文件", 10, style="r_wrap"),
    Column("updated_by", "更新人", 7),
    Column("updated_at", "更新时间", 16, "datetime", "r_datetime"),
    Column("policy_title", "政策名称", 12, style="r_wrap"),
    Column("measure_title", "措施名称", 12, style="r_wrap"),
    Column("version", VERSION_HEADER, 6, "int", "r_int", hidden=True),
]
LINE_POINTS = 13.5  # one line of 10 pt 等线, with leading
MIN_ROW_POINTS = 15.0
MAX_ROW_POINTS = 409.0  # Excel's largest row height
DETAIL_FREEZE = "D3"  # title + header rows, and 文号/措施/任务编号 stay in view


# --- the workbook ----------------------------------------------------------------------------


def report_title(
    kind: str,
    filters: Filters,
    today: date,
    count: int,
    policies: Mapping[str, str] | None = None,
) -> str:
    """Row 1 of each sheet: what, when, under which filters (Chinese labels, policy titles)."""
    return (
        f"政策任务进度报表（{kind}）　报告日期：{today.isoformat()}　"
        f"筛选条件：{filters.describe(policies)}　共 {count} 条分工"
    )


def build_report(
    assignments: pd.DataFrame,
    *,
    filters: Filters | None = None,
    today: date | None = None,
    rankings: pd.DataFrame | None = None,
    evidence: pd.DataFrame | None = None,
) -> bytes:
    """The formatted 进度报表 workbook (.xlsx bytes) for the rows matching ``filters``;
    with ``rankings`` (``tracker.rankings.rankings``), a 通报 sheet after the others; with
    ``evidence`` (``tracker.evidence.Evidence.summary``), 明细 lists each row's files."""
    filters = filters or Filters()
    today = today or now().date()
    every = with_evidence(aggregate.derive(assignments, today), evidence)
    rows = filters.apply(every)
    titles = {  # a collective row is its members' roll-up: 明细 lists (and counts) members
        kind: report_title(kind, filters, today, len(counted(rows)), policy_names(every))
        for kind in (SHEET_SUMMARY, SHEET_POLICY, SHEET_DETAIL)
    }
    tasks = aggregate.task_frame(rows, today)
    head = aggregate.headline(rows, today, tasks)
    wb = new_workbook()
    strings = SharedStrings()
    summary = _summary_sheet(wb, rows, head, titles[SHEET_SUMMARY])
    measures = aggregate.measure_progress(rows, today, tasks)
    policy = _policy_sheet(wb, measures, head, titles[SHEET_POLICY])
    detail = _detail_sheet(wb, rows, titles[SHEET_DETAIL], strings)
    blocks: dict[Sheet, bytes | Iterator[memoryview]] = dict([summary, policy, detail])
    if rankings is not None:
        _rankings_sheet(wb, rankings, today)
    wb.properties.title = "政策任务进度报表"
    wb.properties.creator = "政策任务督办台"
    return save_with_rows(wb, blocks, strings)


def with_evidence(rows: pd.DataFrame, evidence: pd.DataFrame | None) -> pd.DataFrame:
    """``rows`` with ``evidence_count`` and ``evidence_files`` (0 and "" for a row with none)."""
    counts = pd.Series(0, index=rows.index, dtype="int64")
    names = pd.Series("", index=rows.index, dtype=object)
    if evidence is not None and len(evidence) and len(rows):
        by_row = evidence.set_index("assignment_id")
        ids = rows["assignment_id"].astype("int64")
        counts = ids.map(by_row["evidence_count"]).fillna(0).astype("int64")
        names = ids.map(by_row["evidence_files"]).fillna("").astype(object)
    return rows.assign(evidence_count=counts, evidence_files=names)


SHEET_RANKINGS = "通报"
# 通报's columns: figures 9 wide (their headers wrap), so the 15 columns print one A4
# landscape page wide at about 90 % (at 11 wide, 79 %).
RANKING_WIDTHS = {ranks.UNIT: 16, ranks.RANK: 5, ranks.NOTE: 24}
RANKING_FIGURE_WIDTH = 9


def _rankings_sheet(wb: Workbook, table: pd.DataFrame, today: date) -> None:
    """督办通报: units ranked (``tracker.rankings``), this period beside the last, each
    figure's definition underneath.  A small table, written cell by cell."""
    ws = wb.create_sheet(SHEET_RANKINGS)
    period = table.attrs.get("period") or ranks.period_of(today)
    for index, column in enumerate(ranks.RANKING_COLUMNS, start=1):
        width = RANKING_WIDTHS.get(column, RANKING_FIGURE_WIDTH)
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "C3"
    setup_print(ws, "1:2")
    ws.row_dimensions[2].height = 3 * LINE_POINTS + 1.5  # headers wrap to up to three lines
    title = f"督办通报（本期 {period}，上期 {ranks.previous_period(period)}）　报告日期：{today}"
    ws.append([styled(ws, title, "r_title")])
    ws.append([styled(ws, c, "r_header") for c in ranks.RANKING_COLUMNS])
    for row in table[ranks.RANKING_COLUMNS].itertuples(index=False):
        cells = []
        for column, value in zip(ranks.RANKING_COLUMNS, row, strict=True):
            if column in (ranks.UNIT, ranks.NOTE):
                cells.append(styled(ws, str(value) if value else None, "r_text"))
            elif column == ranks.FLAG:
                cells.append(styled(ws, "是" if value else None, "r_center"))
            elif pd.isna(value):
                cells.append(styled(ws, None, "r_center"))
            elif column in ranks.RATE_COLUMNS:
                cells.append(styled(ws, float(value), "r_pct"))
            else:
                cells.append(styled(ws, int(value), "r_int"))
        ws.append(cells)
    ws.append([])
    for note in ranks.ranking_notes(period):
        ws.append([styled(ws, "注：" + note, "r_note")])


_TOTAL_STYLES = {"r_pct": "r_total_pct"}


def _render_table(
    ws: Sheet, table: pd.DataFrame, columns: Sequence[Column], first_row: int, totals: bool
) -> bytes:
    """Body rows from ``first_row``, the last row (合计) in bold total styles when ``totals``."""
    total_columns = [replace(c, style=_TOTAL_STYLES.get(c.style, "r_total")) for c in columns]
    ids = prepare_sheet(ws, columns)
    ids.update({c.style: style_id(ws, c.style) for c in total_columns})
    body = table.iloc[:-1] if totals else table
    block = render_rows(body, columns, ids, first_row=first_row)
    if totals:
        block += render_rows(table.iloc[-1:], total_columns, ids, first_row=first_row + len(body))
    return block


NOTE_COLUMN = Column("note", "", 16, style="r_note")


def _notes(ws: Sheet, keys: Sequence[str], first_row: int) -> bytes:
    """Rows under a table naming each figure in it and its definition (``注：名称：定义``)."""
    notes = pd.DataFrame({"note": ["注：" + n for n in aggregate.notes(*keys)]})
    ids = {NOTE_COLUMN.style: style_id(ws, NOTE_COLUMN.style)}
    return render_rows(notes, [NOTE_COLUMN], ids, first_row=first_row)


def _summary_sheet(
    wb: Workbook, rows: pd.DataFrame, head: dict[str, float], title: str
) -> tuple[Sheet, bytes]:
    """The overview's headline (指标 / 数值 / 口径), then every unit's own assignments."""
    ws = wb.create_sheet(SHEET_SUMMARY)
    headline = aggregate.headline_table(head)
    table = aggregate.unit_table(rows)
    columns = [
        Column(SUMMARY_COLUMNS[0], SUMMARY_COLUMNS[0], 16),
        *(Column(h, h, 9, "int", "r_int") for h in SUMMARY_COLUMNS[1:9]),
        Column(SUMMARY_COLUMNS[9], SUMMARY_COLUMNS[9], 10, "number", "r_pct"),
        *(Column(h, h, 7, "int", "r_int") for h in SUMMARY_COLUMNS[10:]),
    ]
    header_row = len(headline) + 5  # title, headline header + rows, a gap, the table's caption
    block = _render_table(ws, table, columns, header_row + 1, totals=True)
    block += _notes(ws, SUMMARY_NOTES, header_row + len(table) + 1)
    last_col = get_column_letter(len(SUMMARY_COLUMNS))
    ws.auto_filter.ref = f"A{header_row}:{last_col}{header_row + len(table)}"
    setup_print(ws, "1:1")
    ws.append([styled(ws, title, "r_title")])
    ws.append([styled(ws, h, "r_header") for h in HEADLINE_HEADERS])
    for name, value, definition in headline.itertuples(index=False):
        style = "r_pct" if name == aggregate.FIGURES["share_done"].name else "r_int"
        ws.append(
            [styled(ws, name, "r_text"), styled(ws, value, style), styled(ws, definition, "r_note")]
        )
    ws.append([])
    ws.append([styled(ws, "各责任单位分工情况（每个单位按自己的分工和状态计）", "r_subtitle")])
    ws.append([styled(ws, h, "r_header") for h in SUMMARY_COLUMNS])
    chart_row = header_row + len(table) + len(aggregate.notes(*SUMMARY_NOTES)) + 2
    chart_rows = _summary_chart(ws, header_row, len(table) - 1, chart_row)
    # On paper: the table's columns only, at full size (SUMMARY_SCALE), the chart under
    # it on a page of its own.  Beside the table it made the page 1.5 times as wide, and
    # "one page wide" printed the table at 68 %.
    ws.print_area = f"A1:{last_col}{chart_row + chart_rows}"
    if chart_rows:
        ws.row_breaks.append(Break(id=chart_row - 1))
    return ws, block


SUMMARY_SCALE = 1.0  # 汇总 prints unscaled: 10 pt figures, 9 pt notes
CHART_MAX_CM = 15.0  # the height of a landscape A4 page inside its margins
ROW_CM = 0.53  # a row of the default height (15 pt)


def _summary_chart(ws: Sheet, header_row: int, units: int, anchor_row: int) -> int:
    """The stacked bar chart of each unit's assignments by status, anchored at column A of
    ``anchor_row``; the rows it covers (0 without units)."""
    if units <= 0:
        return 0
    chart = BarChart()
    chart.type = "bar"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = "各责任单位任务分工按状态分布"
    chart.y_axis.title = "分工数"
    chart.x_axis.scaling.orientation = "maxMin"  # first unit on top, like the table
    first_status = SUMMARY_COLUMNS.index(STATUS_LABELS[DONE]) + 1
    data = Reference(
        ws,
        min_col=first_status,
        max_col=first_status + 4,
        min_row=header_row,
        max_row=header_row + units,
    )
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(
        Reference(ws, min_col=1, min_row=header_row + 1, max_row=header_row + units)
    )
    for series, code in zip(chart.series, CHART_STATUSES, strict=True):
        series.graphicalProperties.solidFill = STATUS_COLORS[code].lstrip("#")
        series.graphicalProperties.line.solidFill = STATUS_COLORS[code].lstrip("#")
    chart.width = 18
    chart.height = min(CHART_MAX_CM, max(7.5, 0.55 * units + 3))
    ws.add_chart(chart, f"A{anchor_row}")
    return math.ceil(chart.height / ROW_CM) + 1


def _policy_sheet(
    wb: Workbook, table: pd.DataFrame, head: dict[str, float], title: str
) -> tuple[Sheet, bytes]:
    """Per measure (aggregate.measure_progress) and a 合计 row equal to the headline."""
    ws = wb.create_sheet(SHEET_POLICY)
    if len(table):
        totals: dict[str, object] = {c: "" for c in POLICY_COLUMNS}
        totals["文号"] = aggregate.TOTAL
        totals.update({aggregate.FIGURES[k].name: head[k] for k in POLICY_NOTES})
        table = pd.concat([table, pd.DataFrame([totals])], ignore_index=True)
    columns = [
        Column("文号", "文号", 20),
        Column("政策名称", "政策名称", 30, style="r_wrap"),
        Column("措施", "措施", 6, "int", "r_int"),
        Column("措施名称", "措施名称", 30, style="r_wrap"),
        *(
            Column(aggregate.FIGURES[k].name, aggregate.FIGURES[k].name, 9, "int", "r_int")
            for k in ("tasks", "units", "done", "delayed")
        ),
        Column(POLICY_COLUMNS[8], POLICY_COLUMNS[8], 10, "number", "r_pct"),
        Column("牵头单位", "牵头单位", 30, style="r_wrap"),
    ]
    block = _render_table(ws, table, columns, 3, totals=bool(len(table)))
    block += _notes(ws, POLICY_NOTES, len(table) + 3)
    ws.freeze_panes = "C3"
    ws.auto_filter.ref = f"A2:{get_column_letter(len(POLICY_COLUMNS))}{max(len(table) + 1, 2)}"
    setup_print(ws, "1:2")
    ws.append([styled(ws, title, "r_title")])
    ws.append([styled(ws, h, "r_header") for h in POLICY_COLUMNS])
    return ws, block


def wrapped_row_heights(frame: pd.DataFrame, columns: Sequence[Column]) -> np.ndarray:
    """Row heights (points) that show every wrapped cell whole, estimated from its text.

    Spreadsheets do not all size rows to wrapped text on opening (LibreOffice keeps the
    default height and prints the lines over each other), so 明细 writes its heights.  A
    CJK character takes about 1.9 width units at 10 pt, any other about 1.1; a cell of
    width ``w`` holds ``w - 1`` units a line; each line break starts a new line.
    """
    lines = np.ones(len(frame))
    for col in columns:
        if col.style != "r_wrap" or col.key not in frame:
            continue
        # Texts repeat (a task per unit, a policy per task): measure each distinct one once.
        codes, uniques = pd.factorize(frame[col.key].fillna("").astype(str))
        texts = pd.Series(uniques, dtype=object)
        chars = texts.str.len().to_numpy()
        # Wide: CJK characters, full-width punctuation and the like (past U+07FF).
        wide = texts.str.count("[^\x00-\u07ff]").to_numpy()
        units = 1.9 * wide + 1.1 * (chars - wide)
        needed = np.ceil(units / max(col.width - 1, 1)) + texts.str.count("\n").to_numpy()
        if len(needed):
            lines = np.maximum(lines, needed[codes])
    return np.clip(lines * LINE_POINTS + 1.5, MIN_ROW_POINTS, MAX_ROW_POINTS)


def _detail_sheet(
    wb: Workbook, rows: pd.DataFrame, title: str, strings: SharedStrings
) -> tuple[Sheet, Iterator[memoryview]]:
    rows = counted(rows)  # members' rows, each naming its collective; never the roll-up row
    ws = wb.create_sheet(SHEET_DETAIL)
    style_ids = prepare_sheet(ws, DETAIL_COLUMNS)
    last = len(rows) + 2
    letters = {c.key: get_column_letter(i) for i, c in enumerate(DETAIL_COLUMNS, start=1)}
    ws.freeze_panes = DETAIL_FREEZE
    ws.auto_filter.ref = f"A2:{get_column_letter(len(DETAIL_COLUMNS))}{last}"
    setup_print(ws, "1:2")
    ws.print_area = f"A1:{get_column_letter(len(DETAIL_COLUMNS))}{last}"
    ws.row_dimensions[2].height = 2 * LINE_POINTS + 1.5  # 完成比例(%), 佐证文件数 wrap
    if len(rows):
        status_rules(ws, f"{letters['status_label']}3:{letters['status_label']}{last}")
        light_rules(ws, f"{letters['light_label']}3:{letters['light_label']}{last}")
        ws.data_validations.append(
            status_validation(f"{letters['status_label']}3:{letters['status_label']}{last}")
        )
        ws.data_validations.append(
            percent_validation(f"{letters['percent']}3:{letters['percent']}{last}")
        )
    ws.append([styled(ws, title, "r_title")])
    ws.append([styled(ws, c.header, "r_header") for c in DETAIL_COLUMNS])
    detail = labelled(rows)
    heights = wrapped_row_heights(detail, DETAIL_COLUMNS)
    # Streamed: rendered chunk by chunk as the workbook is written, never held whole; its
    # texts (a task's for each unit, a policy's for each task) are shared strings.
    block = render_chunks(detail, DETAIL_COLUMNS, style_ids, 3, heights, strings)
    return ws, block
