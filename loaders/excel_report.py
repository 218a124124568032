"""The progress report workbook (进度报表): 汇总 / 按政策 / 明细, formatted like a report a
bureau sends upward, and the fast sheet writer it shares with the fill-in template.

Speed: openpyxl (write-only mode) owns the workbook — named styles, column widths, frozen
panes, autofilter, conditional formatting, data validation, the chart, print set-up and
footer — and writes the small sheets and every title/header row.  The long row blocks (明细,
template rows) are rendered column-wise with vectorised pandas/numpy string operations and
spliced into the sheet XML openpyxl produced, so per-row Python work is nil.  Every text cell
is an inline *string* cell: a note such as ``=HYPERLINK(...)`` arrives in Excel as the text the
user typed, never as a formula.  See ``bench/excel_export.py`` for the numbers.

>>> data = build_report(store.assignments())              # doctest: +SKIP
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties

from tracker import aggregate
from tracker import rankings as ranks
from tracker.filters import Filters, policy_names
from tracker.progress import now, warning_light
from tracker.schema import (
    DONE,
    LIGHT_COLORS,
    LIGHT_LABELS,
    PROGRESS_FIELDS,
    ROLE_LABELS,
    STATUS_COLORS,
    STATUS_LABELS,
)

FONT_NAME = "等线"
MAX_CELL_CHARS = 32_767
SHEET_SUMMARY, SHEET_POLICY, SHEET_DETAIL = "汇总", "按政策", "明细"
TASK_ID_HEADER, UNIT_HEADER, VERSION_HEADER = "任务编号", "责任单位", "版本"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_CONTROL_CHARS = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# --- styles: each created once, registered as named styles, reused by every cell ----------


def _blend(hex_color: str, share: float = 0.45) -> str:
    """A lighter tint of ``hex_color`` (mixed with white) so black text stays readable."""
    rgb = [int(hex_color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]
    return "".join(f"{round(c * share + 255 * (1 - share)):02X}" for c in rgb)


_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_UNLOCKED = Protection(locked=False)
_INPUT_FILL = PatternFill("solid", fgColor="FFF9E5")


def _style(name: str, **kwargs) -> NamedStyle:
    kwargs.setdefault("font", Font(name=FONT_NAME, size=10))
    kwargs.setdefault("border", _BORDER)
    kwargs.setdefault("alignment", Alignment(vertical="top"))
    return NamedStyle(name=name, **kwargs)


def _named_styles() -> list[NamedStyle]:
    center = Alignment(horizontal="center", vertical="top")
    wrap = Alignment(vertical="top", wrap_text=True)
    return [
        NamedStyle(name="r_title", font=Font(name=FONT_NAME, size=14, bold=True)),
        NamedStyle(name="r_subtitle", font=Font(name=FONT_NAME, size=10, color="595959")),
        # Definitions printed beside figures: no border, no wrap, so the text runs on to the right.
        NamedStyle(name="r_note", font=Font(name=FONT_NAME, size=9, color="595959")),
        NamedStyle(
            name="r_help",
            font=Font(name=FONT_NAME, size=11),
            alignment=Alignment(vertical="top", wrap_text=True),
        ),
        _style(
            "r_header",
            font=Font(name=FONT_NAME, size=10, bold=True),
            fill=PatternFill("solid", fgColor="D9E1F2"),
            alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
        ),
        _style("r_text"),
        _style("r_wrap", alignment=wrap),
        _style("r_center", alignment=center),
        _style("r_int", alignment=center, number_format="0"),
        _style("r_pct", alignment=center, number_format="0.0%"),
        _style("r_date", alignment=center, number_format="yyyy-mm-dd"),
        _style("r_datetime", alignment=center, number_format="yyyy-mm-dd hh:mm"),
        _style(
            "r_total",
            font=Font(name=FONT_NAME, size=10, bold=True),
            fill=PatternFill("solid", fgColor="F2F2F2"),
            alignment=center,
        ),
        _style(
            "r_total_pct",
            font=Font(name=FONT_NAME, size=10, bold=True),
            fill=PatternFill("solid", fgColor="F2F2F2"),
            alignment=center,
            number_format="0.0%",
        ),
        # Template input cells: unlocked under sheet protection, tinted so users see where to type.
        _style("t_input", protection=_UNLOCKED, fill=_INPUT_FILL, alignment=wrap),
        _style("t_input_center", protection=_UNLOCKED, fill=_INPUT_FILL, alignment=center),
        _style(
            "t_input_int",
            protection=_UNLOCKED,
            fill=_INPUT_FILL,
            alignment=center,
            number_format="0",
        ),
        _style(
            "t_input_date",
            protection=_UNLOCKED,
            fill=_INPUT_FILL,
            alignment=center,
            number_format="yyyy-mm-dd",
        ),
    ]


def new_workbook() -> Workbook:
    """A write-only workbook with the report's named styles registered."""
    wb = Workbook(write_only=True)
    for style in _named_styles():
        wb.add_named_style(style)
    return wb


def styled(ws, value: object, style: str) -> WriteOnlyCell:
    """A write-only cell; strings are always string cells (never formulas)."""
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    cell.style = style
    return cell


# --- the fast row renderer ----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a rendered sheet: source key, Chinese header, width, kind and style."""

    key: str
    header: str
    width: float
    kind: str = "text"  # text | int | number | date | datetime
    style: str = "r_text"
    hidden: bool = False


def clean_text(values: pd.Series) -> pd.Series:
    """Text as a string column Excel can hold: no XML-illegal control characters, at most
    32,767 characters.  Checks are vectorised and the rare fix-ups run only when needed."""
    if isinstance(values.dtype, pd.StringDtype):
        text = values.fillna("")
    else:
        text = values.astype(object).where(values.notna(), "").astype(str)
    if not len(text):
        return text
    bad = text.str.contains(_CONTROL_CHARS, regex=True)
    if bad.any():
        text = text.where(~bad, text[bad].str.replace(_CONTROL_CHARS, "", regex=True))
    if text.str.len().max() > MAX_CELL_CHARS:
        text = text.str.slice(0, MAX_CELL_CHARS)
    return text


def _xml_escape(values: pd.Series) -> np.ndarray:
    escaped = (
        values.str.replace("&", "&amp;", regex=False)
        .str.replace("<", "&lt;", regex=False)
        .str.replace(">", "&gt;", regex=False)
    )
    return escaped.to_numpy(dtype=object)


def _serial(values: pd.Series) -> pd.Series:
    """Excel serial day numbers (1900 date system) for dates/datetimes; NaN for blanks."""
    stamps = pd.to_datetime(values, errors="coerce")
    return (stamps - _EXCEL_EPOCH) / pd.Timedelta(days=1)


def render_rows(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    style_ids: Mapping[str, int],
    first_row: int,
    heights: np.ndarray | None = None,
) -> bytes:
    """``<row>`` elements for ``frame`` starting at sheet row ``first_row``, column-wise;
    ``heights`` (points, one per row) are written as the rows' heights when given (not
    marked custom: a spreadsheet may still refit a row once its text is edited)."""
    n = len(frame)
    if n == 0:
        return b""
    numbers = np.arange(first_row, first_row + n).astype(str).astype(object)
    grid = np.empty((n, len(columns) + 2), dtype=object)
    if heights is None:
        grid[:, 0] = '<row r="' + numbers + '">'
    else:
        shown = np.round(np.asarray(heights, dtype="float64"), 1).astype(str).astype(object)
        grid[:, 0] = '<row r="' + numbers + '" ht="' + shown + '">'
    grid[:, -1] = "</row>"
    for index, col in enumerate(columns, start=1):
        ref = f'<c r="{get_column_letter(index)}' + numbers
        style = f'" s="{style_ids[col.style]}"'
        empty = ref + style + "/>"
        values = frame[col.key]
        if col.kind == "text":
            text = clean_text(values)
            body = ref + style + ' t="inlineStr"><is><t xml:space="preserve">'
            body = body + _xml_escape(text) + "</t></is></c>"
            blank = (text == "").to_numpy()
        elif col.kind == "int":
            numeric = pd.to_numeric(values, errors="coerce")
            blank = numeric.isna().to_numpy()
            shown = numeric.fillna(0).astype("int64").astype(str).to_numpy(dtype=object)
            body = ref + style + "><v>" + shown + "</v></c>"
        elif col.kind == "number":
            numeric = pd.to_numeric(values, errors="coerce")
            blank = numeric.isna().to_numpy()
            shown = numeric.fillna(0).astype("float64").astype(str).to_numpy(dtype=object)
            body = ref + style + "><v>" + shown + "</v></c>"
        elif col.kind in ("date", "datetime"):
            serial = _serial(values)
            blank = serial.isna().to_numpy()
            if col.kind == "date":
                shown = serial.fillna(0).round().astype("int64").astype(str)
            else:  # whole seconds, so the value shown is exactly the stored time
                shown = (serial.fillna(0) * 86400).round() / 86400
                shown = shown.astype(str)
            body = ref + style + "><v>" + shown.to_numpy(dtype=object) + "</v></c>"
        else:
            raise ValueError(f"unknown column kind {col.kind}")
        grid[:, index] = np.where(blank, empty, body)
    xml = "".join(grid.ravel().tolist())
    try:
        return xml.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (only possible in object-backed text)
        return _ILLEGAL_XML.sub("", xml).encode("utf-8")


def prepare_sheet(ws, columns: Sequence[Column]) -> dict[str, int]:
    """Set widths/hidden columns (must precede any row) and return style name -> xf index."""
    for index, col in enumerate(columns, start=1):
        dim = ws.column_dimensions[get_column_letter(index)]
        dim.width = col.width
        dim.hidden = col.hidden
    return {col.style: _style_id(ws, col.style) for col in columns}


def _style_id(ws, style: str) -> int:
    probe = WriteOnlyCell(ws)
    probe.style = style
    return probe.style_id


def save_with_rows(wb: Workbook, blocks: Mapping[object, bytes]) -> bytes:
    """Save ``wb`` and splice each pre-rendered row block at the end of its sheet's data."""
    raw = io.BytesIO()
    wb.save(raw)
    targets = {ws.path.lstrip("/"): rows for ws, rows in blocks.items() if rows}
    if not targets:
        return raw.getvalue()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw.getvalue())) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=3) as zout,
    ):
        for info in zin.infolist():
            body = zin.read(info.filename)
            rows = targets.get(info.filename)
            if rows is None:
                zout.writestr(info, body, compress_type=zipfile.ZIP_DEFLATED)
                continue
            cut = body.rindex(b"</sheetData>")
            with zout.open(info.filename, "w", force_zip64=True) as fh:
                fh.write(body[:cut])
                fh.write(rows)
                fh.write(body[cut:])
    return out.getvalue()


def setup_print(ws, title_rows: str, *, landscape: bool = True) -> None:
    """Landscape, one page wide, header rows repeated, footer with page numbers."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.print_title_rows = title_rows
    ws.HeaderFooter.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.HeaderFooter.oddFooter.center.font = FONT_NAME
    ws.HeaderFooter.oddFooter.right.text = "&A"


def status_rules(ws, ref: str) -> None:
    """One conditional-format rule per status (and per light) over a whole column."""
    for code, label in STATUS_LABELS.items():
        fill = PatternFill(
            "solid", fgColor=_blend(STATUS_COLORS[code]), bgColor=_blend(STATUS_COLORS[code])
        )
        ws.conditional_formatting.add(
            ref, CellIsRule(operator="equal", formula=[f'"{label}"'], fill=fill)
        )


def light_rules(ws, ref: str) -> None:
    for code, label in LIGHT_LABELS.items():
        fill = PatternFill(
            "solid", fgColor=_blend(LIGHT_COLORS[code]), bgColor=_blend(LIGHT_COLORS[code])
        )
        ws.conditional_formatting.add(
            ref, CellIsRule(operator="equal", formula=[f'"{label}"'], fill=fill)
        )


def status_validation(ref: str) -> DataValidation:
    """Dropdown of the Chinese status labels."""
    dv = DataValidation(
        type="list",
        formula1='"' + ",".join(STATUS_LABELS.values()) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="状态无效",
        error="请从下拉列表中选择：" + "、".join(STATUS_LABELS.values()),
        promptTitle="状态",
        prompt="请从下拉列表中选择",
    )
    dv.add(ref)
    return dv


def percent_validation(ref: str) -> DataValidation:
    """Whole number 0–100."""
    dv = DataValidation(
        type="whole",
        operator="between",
        formula1="0",
        formula2="100",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="完成比例无效",
        error="完成比例必须是 0 到 100 之间的整数",
    )
    dv.add(ref)
    return dv


def date_validation(ref: str) -> DataValidation:
    dv = DataValidation(
        type="date",
        operator="between",
        formula1="36526",  # 2000-01-01
        formula2="73051",  # 2099-12-31
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="完成时限无效",
        error="请填写日期，如 2026-12-31",
    )
    dv.add(ref)
    return dv


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
]
POLICY_NOTES = ["tasks", "units", "done", "delayed", "share_done"]

# 明细 is a data sheet (filter it, import it back) and a printed one: every column stays, in
# this order, but only the first DETAIL_PRINTED go on paper — what a reader needs, narrow
# enough that one A4 landscape width prints at about 90% (10 pt text stays ~9 pt) instead
# of squeezing all 19 to half size.  Long texts wrap within their column.
DETAIL_COLUMNS: list[Column] = [
    Column("doc_no", "文号", 10, style="r_wrap"),
    Column("measure_no", "措施", 5, "int", "r_int"),
    Column("task_id", TASK_ID_HEADER, 11, style="r_wrap"),
    Column("task_text", "任务内容", 32, style="r_wrap"),
    Column("unit", UNIT_HEADER, 10, style="r_wrap"),
    Column("role_label", "角色", 5, style="r_center"),
    Column("status_label", PROGRESS_FIELDS["status"], 7, style="r_center"),
    Column("percent", PROGRESS_FIELDS["percent"], 11, "int", "r_int"),
    Column("due_date", PROGRESS_FIELDS["due_date"], 11, "date", "r_date"),
    Column("light_label", "预警", 5, style="r_center"),
    Column("note", PROGRESS_FIELDS["note"], 22, style="r_wrap"),
    Column("next_step", PROGRESS_FIELDS["next_step"], 16, style="r_wrap"),
    Column("problems", PROGRESS_FIELDS["problems"], 12, style="r_wrap"),
    # not printed: references and bookkeeping
    Column("evidence", PROGRESS_FIELDS["evidence"], 16, style="r_wrap"),
    Column("updated_by", "更新人", 9),
    Column("updated_at", "更新时间", 16, "datetime", "r_datetime"),
    Column("policy_title", "政策名称", 28, style="r_wrap"),
    Column("measure_title", "措施名称", 24, style="r_wrap"),
    Column("version", VERSION_HEADER, 6, "int", "r_int", hidden=True),
]
DETAIL_PRINTED = 13  # 文号 … 存在问题
LINE_POINTS = 13.5  # one line of 10 pt 等线, with leading
MIN_ROW_POINTS = 15.0
MAX_ROW_POINTS = 409.0  # Excel's largest row height
DETAIL_FREEZE = "D3"  # title + header rows, and 文号/措施/任务编号 stay in view


def with_light(assignments: pd.DataFrame, today: date | None = None) -> pd.DataFrame:
    """``assignments`` with a ``light`` column (computed unless already there)."""
    if "light" in assignments.columns:
        return assignments
    frame = assignments.copy()
    frame["light"] = warning_light(frame, today) if len(frame) else pd.Series(dtype=object)
    return frame


def detail_frame(assignments: pd.DataFrame) -> pd.DataFrame:
    """The 明细 rows with Chinese labels for role, status and light."""
    frame = assignments
    return frame.assign(
        role_label=frame["role"].map(ROLE_LABELS).fillna(frame["role"]),
        status_label=frame["status"].map(STATUS_LABELS).fillna(frame["status"]),
        light_label=frame["light"].map(LIGHT_LABELS).fillna(""),
    )


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
) -> bytes:
    """The formatted 进度报表 workbook (.xlsx bytes) for the rows matching ``filters``;
    with ``rankings`` (``tracker.rankings.rankings``), a 通报 sheet after the others."""
    filters = filters or Filters()
    today = today or now().date()
    every = with_light(assignments, today)
    rows = filters.apply(every)
    titles = {
        kind: report_title(kind, filters, today, len(rows), policy_names(every))
        for kind in (SHEET_SUMMARY, SHEET_POLICY, SHEET_DETAIL)
    }
    tasks = aggregate.task_frame(rows, today)
    head = aggregate.headline(rows, today, tasks)
    wb = new_workbook()
    blocks = dict(
        [
            _summary_sheet(wb, rows, head, titles[SHEET_SUMMARY]),
            _policy_sheet(
                wb, aggregate.measure_progress(rows, today, tasks), head, titles[SHEET_POLICY]
            ),
            _detail_sheet(wb, rows, titles[SHEET_DETAIL]),
        ]
    )
    if rankings is not None:
        _rankings_sheet(wb, rankings, today)
    wb.properties.title = "政策任务进度报表"
    wb.properties.creator = "政策任务督办台"
    return save_with_rows(wb, blocks)


SHEET_RANKINGS = "通报"


def _rankings_sheet(wb: Workbook, table: pd.DataFrame, today: date) -> None:
    """督办通报: units ranked (``tracker.rankings``), this period beside the last, each
    figure's definition underneath.  A small table, written cell by cell."""
    ws = wb.create_sheet(SHEET_RANKINGS)
    period = table.attrs.get("period") or ranks.period_of(today)
    for index, column in enumerate(ranks.RANKING_COLUMNS, start=1):
        width = 16 if column == ranks.UNIT else 6 if column == ranks.RANK else 11
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "C3"
    setup_print(ws, "1:2")
    title = f"督办通报（本期 {period}，上期 {ranks.previous_period(period)}）　报告日期：{today}"
    ws.append([styled(ws, title, "r_title")])
    ws.append([styled(ws, c, "r_header") for c in ranks.RANKING_COLUMNS])
    for row in table[ranks.RANKING_COLUMNS].itertuples(index=False):
        cells = []
        for column, value in zip(ranks.RANKING_COLUMNS, row, strict=True):
            if column == ranks.UNIT:
                cells.append(styled(ws, str(value), "r_text"))
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
    ws, table: pd.DataFrame, columns: Sequence[Column], first_row: int, totals: bool
) -> bytes:
    """Body rows from ``first_row``, the last row (合计) in bold total styles when ``totals``."""
    total_columns = [replace(c, style=_TOTAL_STYLES.get(c.style, "r_total")) for c in columns]
    ids = prepare_sheet(ws, columns)
    ids.update({c.style: _style_id(ws, c.style) for c in total_columns})
    body = table.iloc[:-1] if totals else table
    block = render_rows(body, columns, ids, first_row=first_row)
    if totals:
        block += render_rows(table.iloc[-1:], total_columns, ids, first_row=first_row + len(body))
    return block


NOTE_COLUMN = Column("note", "", 16, style="r_note")


def _notes(ws, keys: Sequence[str], first_row: int) -> bytes:
    """Rows under a table naming each figure in it and its definition (``注：名称：定义``)."""
    notes = pd.DataFrame({"note": ["注：" + n for n in aggregate.notes(*keys)]})
    ids = {NOTE_COLUMN.style: _style_id(ws, NOTE_COLUMN.style)}
    return render_rows(notes, [NOTE_COLUMN], ids, first_row=first_row)


def _summary_sheet(wb: Workbook, rows: pd.DataFrame, head: dict, title: str):
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
    units = len(table) - 1
    if units > 0:
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
        chart.height = max(7.5, 0.55 * units + 3)
        ws.add_chart(chart, f"{get_column_letter(len(SUMMARY_COLUMNS) + 2)}{header_row}")
    return ws, block


def _policy_sheet(wb: Workbook, table: pd.DataFrame, head: dict, title: str):
    """Per measure (aggregate.measure_progress) and a 合计 row equal to the headline."""
    ws = wb.create_sheet(SHEET_POLICY)
    if len(table):
        totals = {c: "" for c in POLICY_COLUMNS}
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
        codes, texts = pd.factorize(frame[col.key].fillna("").astype(str))
        texts = pd.Series(texts, dtype=object)
        chars = texts.str.len().to_numpy()
        # UTF-8 spends 3 bytes on a CJK character, 1 on ASCII: the difference counts them.
        wide = (texts.str.encode("utf-8").str.len().to_numpy() - chars) / 2
        units = 1.9 * wide + 1.1 * (chars - wide)
        needed = np.ceil(units / max(col.width - 1, 1)) + texts.str.count("\n").to_numpy()
        if len(needed):
            lines = np.maximum(lines, needed[codes])
    return np.clip(lines * LINE_POINTS + 1.5, MIN_ROW_POINTS, MAX_ROW_POINTS)


def _detail_sheet(wb: Workbook, rows: pd.DataFrame, title: str):
    ws = wb.create_sheet(SHEET_DETAIL)
    style_ids = prepare_sheet(ws, DETAIL_COLUMNS)
    last = len(rows) + 2
    letters = {c.key: get_column_letter(i) for i, c in enumerate(DETAIL_COLUMNS, start=1)}
    ws.freeze_panes = DETAIL_FREEZE
    ws.auto_filter.ref = f"A2:{get_column_letter(len(DETAIL_COLUMNS))}{last}"
    setup_print(ws, "1:2")
    ws.print_area = f"A1:{get_column_letter(DETAIL_PRINTED)}{last}"
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
    detail = detail_frame(rows)
    heights = wrapped_row_heights(detail, DETAIL_COLUMNS)
    block = render_rows(detail, DETAIL_COLUMNS, style_ids, first_row=3, heights=heights)
    return ws, block
