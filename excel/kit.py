"""The xlsx toolkit every workbook we write shares: named styles, column specs, string-safe
cells, the fast column-wise row renderer and the splice that puts its rows into the sheet XML,
print set-up, the status/light colours, input validations and text defined names.  It knows
the tracker's vocabulary (status labels, the percent and due-date rules) but no workbook:
the progress report (``excel_report``), the fill-in template (``excel_template``), the import
error report, the audit and reminder lists each lay out their own sheets with it.

Speed: openpyxl (write-only mode) owns the workbook — named styles, column widths, frozen
panes, autofilter, conditional formatting, data validation, charts, print set-up and footer —
and writes the small sheets and every title/header row.  Long row blocks are rendered
column-wise by Arrow compute kernels, a chunk of rows at a time (:func:`render_chunks`), and
spliced into the sheet XML openpyxl produced as the workbook is written
(:func:`save_with_rows`), so per-row Python work is nil and a city-scale sheet is never held
whole; a long sheet's texts go once each into a shared-string table (:class:`SharedStrings`).
Every text cell is a *string* cell (inline or shared): a note such as ``=HYPERLINK(...)``
arrives in Excel as the text the user typed, never as a formula.

>>> wb = new_workbook()
>>> ws = wb.create_sheet("明细")
>>> columns = [Column("note", "进展情况", 20, style="r_wrap")]
>>> style_ids = prepare_sheet(ws, columns)
>>> ws.append([styled(ws, c.header, "r_header") for c in columns])
>>> rows = render_rows(pd.DataFrame({"note": ["=1+1"]}), columns, style_ids, first_row=2)
>>> b't="inlineStr"><is><t>=1+1</t>' in rows  # a string cell, never a formula
True
>>> data = save_with_rows(wb, {ws: rows})
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.header_footer import HeaderFooterItem
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from tracker.progress import (
    EARLIEST_DUE,
    LATEST_DUE,
    MAX_TEXT_CHARS,
    PERCENT_ERROR,
)
from tracker.schema import (
    LIGHT_COLORS,
    LIGHT_LABELS,
    PROGRESS_FIELDS,
    ROLE_LABELS,
    STATUS_COLORS,
    STATUS_LABELS,
)

# A sheet of a write-only workbook.  At run time it is openpyxl's WriteOnlyWorksheet, which
# carries Worksheet's layout attributes (column_dimensions, page_setup, …); its stub lists
# few of them, so it is typed as the Worksheet it behaves like.
Sheet: TypeAlias = Worksheet

FONT_NAME = "等线"
# The key columns of every sheet an import reads back (the template, the report's 明细).
TASK_ID_HEADER, UNIT_HEADER, VERSION_HEADER = "任务编号", "责任单位", "版本"
TASK_TEXT_HEADER = "任务内容"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
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


def _style(name: str, **kwargs: Any) -> NamedStyle:
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
        # Input cells: unlocked under sheet protection, tinted so users see where to type.
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
    """A write-only workbook with the house named styles registered."""
    wb = Workbook(write_only=True)
    for style in _named_styles():
        wb.add_named_style(style)
    return wb


def styled(ws: Sheet, value: str | float | date | datetime | None, style: str) -> Cell:
    """A write-only cell; strings are always string cells (never formulas), escaped as
    :func:`excel_text` escapes every cell."""
    cell = WriteOnlyCell(ws)
    if isinstance(value, str):
        cell.value = _escape_one(value[:MAX_TEXT_CHARS])
        cell.data_type = "s"
    else:
        cell.value = value
    cell.style = style
    return cell


def workbook_bytes(wb: Workbook) -> bytes:
    """``wb`` saved as .xlsx bytes."""
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


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


# ``_xHHHH_`` is how OOXML writes a character in text; a reader turns it back into that
# character, so literal text of that shape must have its underscore escaped as ``_x005F_``.
_LOOKS_ESCAPED = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
# Carriage returns (XML readers turn them into line feeds) and characters XML cannot carry.
_UNWRITABLE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_NEEDS_ESCAPE = "_x[0-9A-Fa-f]{4}_|[\x00-\x08\x0b-\x1f\ufffe\uffff]"


def _escape_one(text: str) -> str:
    text = _LOOKS_ESCAPED.sub("_x005F_", text)
    return _UNWRITABLE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def excel_text(values: pd.Series) -> pd.Series:
    """Text escaped the way Excel itself writes it, so every reader gives back the original:
    the one escaping rule of every cell any workbook here writes (:func:`render_rows` and
    :func:`styled` apply it, after cutting text to the 32,767 characters a cell holds).

    A literal ``_x0041_`` becomes ``_x005F_x0041_`` (read back as ``_x0041_``, not ``A``); a
    carriage return or a control character becomes ``_x000D_`` / ``_x0001_`` instead of
    being normalised or dropped.  (The store refuses control characters on entry, so only
    data saved before that rule can hold one; importing it back then names the cell.)
    Vectorised: rows without anything to escape are not touched.

    >>> excel_text(pd.Series(["_x0041_", "a" + chr(13) + "b", "普通"])).tolist()
    ['_x005F_x0041_', 'a_x000D_b', '普通']
    """
    if isinstance(values.dtype, pd.StringDtype):
        text = values.fillna("")
    else:
        text = values.astype(object).where(values.notna(), "").astype(str)
    if not len(text):
        return text
    marked = text.str.contains(_NEEDS_ESCAPE, regex=True)
    if not marked.any():
        return text
    return text.where(~marked, text[marked].map(_escape_one))


def _fitting(values: pd.Series) -> pd.Series:
    """Text cut to what one cell holds (the store refuses longer text on entry)."""
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        lengths = values.str.len()
        if len(values) and lengths.max() > MAX_TEXT_CHARS:
            return values.where(~(lengths > MAX_TEXT_CHARS), values.str.slice(0, MAX_TEXT_CHARS))
    return values


def clean_text(values: pd.Series) -> pd.Series:
    """Text as a cell holds it: cut to the 32,767 characters a cell takes, then escaped by
    the one rule of every workbook (:func:`excel_text`)."""
    return excel_text(_fitting(values))


def _xml_escape(text: pa.Array) -> pa.Array:
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = pc.replace_substring(text, raw, entity)
    return text


def _arrow_text(text: pd.Series) -> pa.Array:
    """Cleaned text as an Arrow string array (UTF-8: a lone surrogate, possible only in
    object-backed text, is dropped)."""
    try:
        return pa.array(text, type=pa.string(), from_pandas=True)
    except (pa.ArrowException, UnicodeEncodeError):
        fixed = [_ILLEGAL_XML.sub("", str(value)) for value in text]
        return pa.array(fixed, type=pa.string())


def _serial(values: pd.Series) -> pd.Series:
    """Excel serial day numbers (1900 date system) for dates/datetimes; NaN for blanks."""
    stamps = pd.to_datetime(values, errors="coerce")
    return (stamps - _EXCEL_EPOCH) / pd.Timedelta(days=1)


def _shown(values: pd.Series, kind: str) -> tuple[pa.Array, np.ndarray]:
    """A column's cell values as the text of their ``<v>``/``<t>`` element, and which are
    blank."""
    if kind == "text":
        text = clean_text(values)
        return _xml_escape(_arrow_text(text)), (text == "").to_numpy(dtype=bool)
    if kind in ("int", "number"):
        numeric = pd.to_numeric(values, errors="coerce")
        filled = numeric.fillna(0)
        typed = filled.astype("int64") if kind == "int" else filled.astype("float64")
        return _as_text(typed), numeric.isna().to_numpy(dtype=bool)
    if kind in ("date", "datetime"):
        serial = _serial(values)
        if kind == "date":
            return _as_text(serial.fillna(0).round().astype("int64")), serial.isna().to_numpy(bool)
        # whole seconds, so the value shown is exactly the stored time
        seconds = ((serial.fillna(0) * 86400).round() / 86400).astype("float64")
        return _as_text(seconds), serial.isna().to_numpy(dtype=bool)
    raise ValueError(f"unknown column kind {kind}")


def _as_text(numbers: pd.Series | np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(numbers)), pa.string())


class SharedStrings:
    """A workbook's shared-string table (``xl/sharedStrings.xml``): text cells refer to it
    by number, so each distinct text of a long sheet (a task's text repeats for each of its
    units, a policy's title for each of its tasks) is cleaned, escaped and stored once."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def refer(self, values: pd.Series) -> tuple[pa.Array, np.ndarray]:
        """Each value's number in the table as text (its distinct texts added), and which
        are blank."""
        codes, uniques = pd.factorize(values)
        texts = clean_text(pd.Series(uniques, dtype=object)).tolist()
        ids = np.array([self._ids.setdefault(t, len(self._ids)) if t else -1 for t in texts])
        refs = np.append(ids, -1)[codes]  # a missing value's code is -1: the appended blank
        return _as_text(refs), refs < 0

    def xml(self) -> memoryview | bytes:
        """The table as the part's XML."""
        head = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns='
            f'"{SHEET_MAIN_NS}" count="{len(self._ids)}" uniqueCount="{len(self._ids)}">'
        ).encode()
        if not self._ids:
            return head + b"</sst>"
        texts = _xml_escape(_arrow_text(pd.Series(list(self._ids), dtype=object)))
        items = pc.binary_join_element_wise('<si><t xml:space="preserve">', texts, "</t></si>", "")
        return b"".join([head, _utf8(items), b"</sst>"])


SHEET_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SST_RELATIONSHIP = (
    '<Relationship Id="rIdSharedStrings" Target="sharedStrings.xml" Type='
    '"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
)
_SST_CONTENT_TYPE = (
    '<Override PartName="/xl/sharedStrings.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
# What a shared-string table adds to the parts openpyxl wrote: a relationship, a type.
_SST_ADDITIONS = {
    "xl/_rels/workbook.xml.rels": (b"</Relationships>", _SST_RELATIONSHIP.encode()),
    "[Content_Types].xml": (b"</Types>", _SST_CONTENT_TYPE.encode()),
}


CHUNK_ROWS = 10_000  # rows rendered at once: memory stays flat whatever the sheet's length
ZIP_LEVEL = 1  # deflate level: the fastest, 20% larger than level 3 and 5× smaller than none


def render_chunks(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    style_ids: Mapping[str, int],
    first_row: int,
    heights: np.ndarray | None = None,
    strings: SharedStrings | None = None,
) -> Iterator[memoryview]:
    """``<row>`` elements for ``frame`` starting at sheet row ``first_row``, rendered
    column-wise by Arrow compute kernels ``CHUNK_ROWS`` rows at a time, each chunk's UTF-8
    bytes as one buffer; ``heights`` (points, one per row) are written as the rows' heights
    when given (not marked custom: a spreadsheet may still refit a row once its text is
    edited).  With ``strings``, text cells refer to that shared-string table instead of
    holding their text (pass the same table to :func:`save_with_rows`)."""
    for start in range(0, len(frame), CHUNK_ROWS):
        part = frame.iloc[start : start + CHUNK_ROWS]
        numbers = _as_text(np.arange(first_row + start, first_row + start + len(part)))
        cells: list[pa.Array | str] = ['<row r="', numbers]
        if heights is not None:
            points = np.round(np.asarray(heights[start : start + len(part)], "float64"), 1)
            cells += ['" ht="', _as_text(points)]
        cells.append('">')
        for index, col in enumerate(columns, start=1):
            head = pc.binary_join_element_wise(
                f'<c r="{get_column_letter(index)}', numbers, f'" s="{style_ids[col.style]}"', ""
            )
            if col.kind == "text" and strings is not None:
                shown, blank = strings.refer(part[col.key])
                body = pc.binary_join_element_wise(head, ' t="s"><v>', shown, "</v></c>", "")
                cells.append(pc.if_else(blank, pc.binary_join_element_wise(head, "/>", ""), body))
                continue
            shown, blank = _shown(part[col.key], col.kind)
            if col.kind == "text":  # xml:space only where a space at either end needs it
                spaced = pc.match_substring_regex(shown, r"^\s|\s$")
                opening = pc.if_else(spaced, _PRESERVED, _INLINE)
                body = pc.binary_join_element_wise(head, opening, shown, "</t></is></c>", "")
            else:
                body = pc.binary_join_element_wise(head, "><v>", shown, "</v></c>", "")
            cells.append(pc.if_else(blank, pc.binary_join_element_wise(head, "/>", ""), body))
        cells.append("</row>")
        rows = pc.binary_join_element_wise(*cells, "")
        yield _utf8(rows)


_INLINE = ' t="inlineStr"><is><t>'
_PRESERVED = ' t="inlineStr"><is><t xml:space="preserve">'


def _utf8(strings: pa.Array) -> memoryview:
    """The UTF-8 bytes of an Arrow string array's values one after another, without a copy."""
    if strings.null_count:
        raise ValueError("a rendered row is null")
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)
    first, last = offsets[strings.offset], offsets[strings.offset + len(strings)]
    return memoryview(strings.buffers()[2])[first:last]


def render_rows(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    style_ids: Mapping[str, int],
    first_row: int,
    heights: np.ndarray | None = None,
) -> bytes:
    """:func:`render_chunks` as one block of bytes, for a sheet short enough to hold whole."""
    return b"".join(render_chunks(frame, columns, style_ids, first_row, heights))


def prepare_sheet(ws: Sheet, columns: Sequence[Column]) -> dict[str, int]:
    """Set widths/hidden columns (must precede any row) and return style name -> xf index."""
    for index, col in enumerate(columns, start=1):
        dim = ws.column_dimensions[get_column_letter(index)]
        dim.width = col.width
        dim.hidden = col.hidden
    return {col.style: style_id(ws, col.style) for col in columns}


def style_id(ws: Sheet, style: str) -> int:
    """The cell-format index of named style ``style`` in ``ws``'s workbook."""
    probe = WriteOnlyCell(ws)
    probe.style = style
    return probe.style_id


def save_with_rows(
    wb: Workbook,
    blocks: Mapping[Sheet, bytes | Iterable[bytes | memoryview]],
    strings: SharedStrings | None = None,
) -> bytes:
    """Save ``wb`` and splice each row block at the end of its sheet's data; a block is bytes
    or an iterable of byte chunks (:func:`render_chunks`), written as it is produced so a
    long sheet is never held whole.  ``strings``, the table the blocks refer to, is written
    last, once every block has filled it."""
    raw = workbook_bytes(wb)
    targets = {ws.path.lstrip("/"): rows for ws, rows in blocks.items() if rows}
    if not targets:
        return raw
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw)) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as zout,
    ):
        for info in zin.infolist():
            body = zin.read(info.filename)
            if strings is not None and info.filename in _SST_ADDITIONS:
                end, addition = _SST_ADDITIONS[info.filename]
                body = body.replace(end, addition + end)
            rows = targets.get(info.filename)
            if rows is None:
                zout.writestr(info, body, compress_type=zipfile.ZIP_DEFLATED)
                continue
            cut = body.rindex(b"</sheetData>")
            with zout.open(info.filename, "w", force_zip64=True) as fh:
                fh.write(body[:cut])
                for chunk in [rows] if isinstance(rows, bytes) else rows:
                    fh.write(chunk)
                fh.write(body[cut:])
        if strings is not None:
            zout.writestr("xl/sharedStrings.xml", strings.xml())
    return out.getvalue()


# --- sheet furniture -----------------------------------------------------------------------


def setup_print(ws: Sheet, title_rows: str, *, landscape: bool = True) -> None:
    """Landscape, one page wide, header rows repeated, footer with page numbers."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = PRINT_SIDE_MARGIN
    ws.print_title_rows = title_rows
    footer = HeaderFooterItem()
    footer.center.text = "第 &P 页，共 &N 页"
    footer.center.font = FONT_NAME
    footer.right.text = "&A"
    ws.HeaderFooter.oddFooter = footer


# A4 in points, and the side margins setup_print leaves (inches).
A4_POINTS = (595.3, 841.9)
PRINT_SIDE_MARGIN = 0.4


def column_points(width: float) -> float:
    """The printed width in points of a column ``width`` characters wide: Excel's
    ``7 * width + 5`` pixels of the 7-pixel digit, at 0.75 pt a pixel (LibreOffice prints
    the same)."""
    return (7 * width + 5) * 0.75


def fit_scale(widths: Sequence[float], *, landscape: bool = True) -> float:
    """The scale "one page wide" prints columns of these ``widths`` at on A4 (1.0 when they
    fit as they are; spreadsheets never enlarge).  Text of ``size`` pt prints at
    ``size * fit_scale(...)`` pt, so a sheet can be held to a readable size.

    >>> round(fit_scale([16, *[9] * 8, 10, 7, 7, 7]), 2)  # 汇总's table: fits as it is
    1.0
    >>> round(fit_scale([30] * 10), 2)  # 300 characters wide: about half
    0.49
    """
    page = A4_POINTS[1] if landscape else A4_POINTS[0]
    printable = page - 2 * 72 * PRINT_SIDE_MARGIN
    return min(1.0, printable / sum(column_points(w) for w in widths))


def _label_fills(ws: Sheet, ref: str, labels: Mapping[str, str], colors: Mapping[str, str]):
    for code, label in labels.items():
        tint = _blend(colors[code])
        fill = PatternFill("solid", fgColor=tint, bgColor=tint)
        ws.conditional_formatting.add(
            ref, CellIsRule(operator="equal", formula=[f'"{label}"'], fill=fill)
        )


def status_rules(ws: Sheet, ref: str) -> None:
    """One conditional-format rule per status label over ``ref``, in the status colour."""
    _label_fills(ws, ref, STATUS_LABELS, STATUS_COLORS)


def light_rules(ws: Sheet, ref: str) -> None:
    """One conditional-format rule per warning-light label over ``ref``, in its colour."""
    _label_fills(ws, ref, LIGHT_LABELS, LIGHT_COLORS)


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
    """Whole number 0–100, with the store's own message."""
    dv = DataValidation(
        type="whole",
        operator="between",
        formula1="0",
        formula2="100",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=f"{PROGRESS_FIELDS['percent']}无效",
        error=PERCENT_ERROR,
    )
    dv.add(ref)
    return dv


def excel_serial(day: date) -> int:
    """Excel's serial number of ``day`` (1900 date system).

    >>> excel_serial(date(2000, 1, 1))
    36526
    """
    return (day - _EXCEL_EPOCH.date()).days


def date_validation(ref: str) -> DataValidation:
    """A date within the span the store accepts for a deadline."""
    dv = DataValidation(
        type="date",
        operator="between",
        formula1=str(excel_serial(EARLIEST_DUE)),
        formula2=str(excel_serial(LATEST_DUE)),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=f"{PROGRESS_FIELDS['due_date']}无效",
        error=f"请填写 {EARLIEST_DUE} 至 {LATEST_DUE} 之间的日期，如 2026-12-31",
    )
    dv.add(ref)
    return dv


# --- text defined names --------------------------------------------------------------------


def define_text(wb: Workbook, name: str, text: str) -> None:
    """A workbook-level defined name holding the text constant ``text``."""
    quoted = '"' + text.replace('"', '""') + '"'
    wb.defined_names[name] = DefinedName(name, attr_text=quoted)


def defined_text(formula: str | None) -> str | None:
    """The text constant of a defined name's formula, as :func:`define_text` wrote it.

    >>> defined_text('"市科委""一处"')
    '市科委"一处'
    """
    if formula is None:
        return None
    text = formula.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text.replace('""', '"')


# --- rows as a sheet shows them ------------------------------------------------------------


def labelled(assignments: pd.DataFrame) -> pd.DataFrame:
    """``assignments`` (with ``light``) plus the Chinese labels of role, status and light."""
    frame = assignments
    return frame.assign(
        role_label=frame["role"].map(ROLE_LABELS).fillna(frame["role"]),
        status_label=frame["status"].map(STATUS_LABELS).fillna(frame["status"]),
        light_label=frame["light"].map(LIGHT_LABELS).fillna(""),
    )
