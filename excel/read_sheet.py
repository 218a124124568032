"""Reading an imported workbook: find the data sheet by its header row (the first of the top
30 rows holding 任务编号 and 责任单位), read it with python-calamine, and turn each data row
into a checked :class:`ParsedRow`, every problem located by sheet, row and column.

A byte scan of the sheet XML finds formula cells (calamine would report their cached values)
and the absurd date numbers that make calamine panic.  The cells themselves are checked in
:mod:`excel.read_cells`; :mod:`excel.read_match` matches the rows to assignments.

Speed (``python -m bench.excel_import``, where calamine's own read is the floor): the grid is
transposed into columns once and checked column by column, each distinct value once; the
per-row loop only zips the checked columns into each row's changes; and the cyclic garbage
collector is paused while the 20,000 rows pile up (its walks over every live object were an
eighth of the read, :mod:`tracker.gc_pause`).
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypedDict, TypeVar

import python_calamine
from defusedxml import ElementTree as SafeET
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

from excel.kit import (
    TASK_ID_HEADER,
    TASK_TEXT_HEADER,
    UNIT_HEADER,
    VERSION_HEADER,
    defined_text,
)
from excel.read_cells import Refused, checked_column, key_texts, version_column
from excel.safety import (
    HEADER_ROWS,
    MAX_ROWS,
    Package,
    SheetRef,
    column_letters,
)
from excel.template import KIND_NAME, UNIT_NAME
from tracker.errors import ImportFileError, Problem
from tracker.gc_pause import gc_paused
from tracker.progress import is_blank, text_problems
from tracker.schema import PROGRESS_FIELDS

T = TypeVar("T")
# What python-calamine gives for a cell (an empty one is "").
CellValue = int | float | str | bool | time | date | datetime | timedelta
FIELD_BY_HEADER = {label: name for name, label in PROGRESS_FIELDS.items()}
KNOWN_HEADERS = (
    TASK_ID_HEADER,
    UNIT_HEADER,
    VERSION_HEADER,
    TASK_TEXT_HEADER,
    *PROGRESS_FIELDS.values(),
)
NO_VERSION_WARNING = (
    "文件没有「版本」列，无法确定文件是在哪次保存之后填写的：已保存过的任务如与文件不同，"
    "按冲突列出而不覆盖；请使用督办台下载的模板填报"
)


class RowAt(TypedDict):
    """Where a problem is: the keyword arguments of :class:`Problem` naming the row."""

    row: int
    sheet: str
    task_id: str | None


class SheetAt(TypedDict):
    """Where a file error is: the keyword arguments of :class:`ImportFileError`."""

    file: str
    sheet: str | None


@dataclass
class ParsedRow:
    """One data row of the sheet, already checked and normalised."""

    row: int
    task_id: str
    unit: str
    version: int | None
    changes: dict[str, object]
    bad: bool = False  # has a problem already; still matched so every error is reported
    task_text: str | None = None  # the file's 任务内容, when it has that column


@dataclass
class ParsedSheet:
    """What was read from the workbook: the rows, and every problem found on the way."""

    file_name: str
    sheet: str
    unit: str | None  # the template's unit; None for an exported report
    fields: list[str]
    rows: list[ParsedRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    data_rows: int = 0


# --- reading ---------------------------------------------------------------------------------


def _calamine(
    pkg: Package, sheet: SheetRef | None, call: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """Run one python-calamine call; its errors, and its Rust panics, become ImportFileError.

    pyo3 reports a panic as ``PanicException``, a BaseException (so ``except Exception``
    misses it and it would end the page's script thread): caught by name, everything else
    re-raised.  A date cell holding -1e12 is one way to make the reader panic.
    """
    try:
        return call(*args, **kwargs)
    except Exception as exc:  # calamine raises several error types for broken workbooks
        raise ImportFileError(
            f"无法读取工作{'表' if sheet else '簿'}（{exc.__class__.__name__}: {exc}）",
            file=pkg.file_name,
            sheet=sheet.name if sheet else None,
        ) from None
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        raise _unreadable_value(pkg, sheet) from None


# A number no date or time cell can hold: negative, eight or more digits, an exponent, inf/nan.
_SUSPECT_NUMBER = re.compile(rb"<v>(?:-|[0-9]{8}|[^<]*[eEnN])")


def _refuse_absurd_dates(pkg: Package, sheet: SheetRef) -> None:
    """Refuse a date or time cell that would make the reader panic, before it reads: the
    panic is caught, but Rust prints its report to stderr (the server log) first.  A byte
    scan finds the rare sheet with such a number; only then are its cells looked at."""
    if _SUSPECT_NUMBER.search(pkg.member(sheet.path)):
        problem = _unreadable_value(pkg, sheet)
        if problem.row is not None:
            raise problem


_NUMBER_CELL = re.compile(rb'<c r="([A-Za-z]+)([0-9]+)"([^>]*)><v>([^<]*)</v>')
_STYLE_ATTR = re.compile(rb'\ss="([0-9]+)"')
_TYPE_ATTR = re.compile(rb'\st="([^"]*)"')
_EXCEL_LAST_DAY = 2_958_465  # 9999-12-31


def _unreadable_value(pkg: Package, sheet: SheetRef | None) -> ImportFileError:
    """Name the cell that made the reader panic: a date or time cell with an absurd number."""
    where: SheetAt = {"file": pkg.file_name, "sheet": sheet.name if sheet else None}
    dated = _date_styles(pkg)
    for found in _NUMBER_CELL.finditer(pkg.member(sheet.path) if sheet else b""):
        letters, row, attrs, text = found.groups()
        kind, style = _TYPE_ATTR.search(attrs), _STYLE_ATTR.search(attrs)
        if (kind and kind.group(1) != b"n") or (
            dated is not None and (style is None or int(style.group(1)) not in dated)
        ):
            continue
        try:
            number = float(text)
        except ValueError:
            continue
        if not math.isfinite(number) or not -1e7 < number <= _EXCEL_LAST_DAY:
            return ImportFileError(
                f"单元格 {letters.decode()}{int(row)} 的值 {text.decode()} 不是有效的日期或时间，"
                "无法读取；请改为日期（如 2026-12-31）后再导入",
                row=int(row),
                column=letters.decode(),
                **where,
            )
    return ImportFileError("工作表中有无法读取的日期或时间值，请检查后再导入", **where)


def _date_styles(pkg: Package) -> set[int] | None:
    """Indices of the cell formats showing dates or times; None if the styles can't be read."""
    try:
        styles = SafeET.fromstring(pkg.member("xl/styles.xml"))
    except (ImportFileError, SafeET.ParseError):
        return None
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    codes = dict(BUILTIN_FORMATS)
    for fmt in styles.iter(f"{ns}numFmt"):
        codes[int(fmt.get("numFmtId", "-1"))] = fmt.get("formatCode", "")
    xfs = styles.find(f"{ns}cellXfs")
    formats = [int(xf.get("numFmtId", "0")) for xf in (xfs if xfs is not None else [])]
    # 27-36 and 50-81 are East Asian built-in date formats openpyxl does not list.
    return {
        index
        for index, number in enumerate(formats)
        if 27 <= number <= 36 or 50 <= number <= 81 or is_date_format(codes.get(number, ""))
    }


def _spelling(text: str) -> str:
    """A header as typed, minus width variants, spaces and the required-field star."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).rstrip("*")


def _core(text: str) -> str:
    """A header's words only: 「完成比例」, 「完成比例%」 and 「完成比例(%)」 share one core."""
    return re.sub(r"[()%]", "", _spelling(text))


_BY_SPELLING = {_spelling(h): h for h in KNOWN_HEADERS}
_BY_CORE = {_core(h): h for h in KNOWN_HEADERS}


def _is_header_row(cells: Sequence[object]) -> bool:
    spelled = {_spelling(v) for v in cells if isinstance(v, str)}
    return _spelling(TASK_ID_HEADER) in spelled and _spelling(UNIT_HEADER) in spelled


def _headers(pkg: Package, sheet: SheetRef, cells: Sequence[object]) -> dict[str, int]:
    """Known header -> column index, refusing a known header changed or written twice.

    Width and spacing variants (「完成比例（%）」) are the same header; a header whose words
    match a known one but whose rest differs (「完成比例」) was renamed, and its column would
    otherwise be skipped without a word.
    """
    where: SheetAt = {"file": pkg.file_name, "sheet": sheet.name}
    found: dict[str, list[int]] = {}
    for index, value in enumerate(cells):
        if not isinstance(value, str) or not value.strip():
            continue
        known = _BY_SPELLING.get(_spelling(value))
        if known is None:
            near = _BY_CORE.get(_core(value))
            if near is not None:
                raise ImportFileError(
                    f"表头「{value.strip()}」被改动过，应为「{near}」；请勿修改模板的表头",
                    column=value.strip(),
                    **where,
                )
            continue
        found.setdefault(known, []).append(index)
    for header, columns in found.items():
        if len(columns) > 1:
            letters = "、".join(column_letters(c + 1) for c in columns)
            raise ImportFileError(
                f"表头「{header}」出现了 {len(columns)} 次（{letters} 列），请只保留一列",
                column=header,
                **where,
            )
    if KIND_NAME in pkg.defined_names:
        missing = [h for h in PROGRESS_FIELDS.values() if h not in found]
        if missing:
            raise ImportFileError(
                f"模板缺少「{'」「'.join(missing)}」列（表头被改名或删除），请重新下载模板填报",
                column=missing[0],
                **where,
            )
    return {header: columns[0] for header, columns in found.items()}


def _find_sheet(
    pkg: Package, book: python_calamine.CalamineWorkbook
) -> tuple[SheetRef, list[list[CellValue]], int, dict[str, int]]:
    """The first sheet with a 任务编号 + 责任单位 header row: (sheet, rows, header index, map).

    Every sheet's extent was checked by :func:`open_package`, so the dense reads are bounded.
    """
    nonempty = 0
    for ref in pkg.sheets:
        sheet = _calamine(pkg, ref, book.get_sheet_by_name, ref.name)
        if sheet.end is None:
            continue
        nonempty += 1
        _refuse_absurd_dates(pkg, ref)
        top = _calamine(pkg, ref, sheet.to_python, skip_empty_area=False, nrows=HEADER_ROWS)
        for index, cells in enumerate(top):
            if not _is_header_row(cells):
                continue
            headers = _headers(pkg, ref, cells)
            rows = _calamine(pkg, ref, sheet.to_python, skip_empty_area=False)
            if len(rows) - index - 1 > MAX_ROWS:
                raise ImportFileError(
                    f"数据行数 {len(rows) - index - 1:,} 超过 {MAX_ROWS:,} 行上限，请拆分后再导入",
                    file=pkg.file_name,
                    sheet=ref.name,
                )
            return ref, rows, index, headers
    if not nonempty:
        raise ImportFileError("工作表为空，没有可导入的数据", file=pkg.file_name)
    raise ImportFileError(
        f"找不到表头：需要一行包含「{TASK_ID_HEADER}」和「{UNIT_HEADER}」列（请使用督办台导出的模板或明细表）",
        file=pkg.file_name,
    )


@dataclass(frozen=True)
class _Columns:
    """Where the columns read are (0-based), from the header map."""

    task: int
    unit: int
    version: int | None
    text: int | None
    fields: list[tuple[str, str, int]]  # (field, header, column) of each progress column
    keys: list[tuple[str, int]]  # (header, column) of 任务编号, 责任单位 and 版本
    watched: list[int]  # the key and progress columns: a row with none of them is blank

    @classmethod
    def of(cls, headers: dict[str, int], fields: list[str]) -> _Columns:
        task, unit = headers[TASK_ID_HEADER], headers[UNIT_HEADER]
        version = headers.get(VERSION_HEADER)
        by_field = [
            (name, PROGRESS_FIELDS[name], headers[PROGRESS_FIELDS[name]]) for name in fields
        ]
        keys = [(TASK_ID_HEADER, task), (UNIT_HEADER, unit)]
        if version is not None:
            keys.append((VERSION_HEADER, version))
        watched = sorted({c for _h, c in keys} | {c for _n, _h, c in by_field})
        text = headers.get(TASK_TEXT_HEADER)
        return cls(task, unit, version, text, by_field, keys, watched)


@dataclass
class _Cells:
    """The data rows' watched cells, pulled out of the grid once and checked as columns."""

    numbers: list[int]  # 1-based sheet row numbers
    column: dict[int, Sequence[object]]  # the raw cells of each watched column
    task_ids: list[str]
    units: list[str]
    texts: list[str] | None
    raw_versions: Sequence[object]
    versions: list[int | Refused | None]
    checked: dict[str, list[object]]
    bad_keys: dict[str, str]  # keys that cannot even be looked up, and why

    @classmethod
    def read(cls, kept: list[tuple[int, list]], cols: _Columns) -> _Cells:
        # The columns in one transpose in C (every row reaches the widest column read).
        grid = list(zip(*(r for _n, r in kept), strict=False))
        column: dict[int, Sequence[object]] = {c: grid[c] for c in cols.watched}
        task_ids = key_texts(column[cols.task])
        units = key_texts(column[cols.unit])
        texts = key_texts(grid[cols.text]) if cols.text is not None else None
        raw_versions: Sequence[object] = column[cols.version] if cols.version is not None else []
        versions: list[int | Refused | None] = (
            version_column(raw_versions) if cols.version is not None else [None] * len(kept)
        )
        checked = {name: checked_column(name, column[col]) for name, _h, col in cols.fields}
        # Keys that could not even be looked up (a NUL would make PostgreSQL refuse the query).
        bad_keys = text_problems([*task_ids, *units])
        numbers = [n for n, _r in kept]
        return cls(
            numbers, column, task_ids, units, texts, raw_versions, versions, checked, bad_keys
        )


def _data_rows(
    rows: list[list[CellValue]], header_index: int, cols: _Columns
) -> list[tuple[int, list]]:
    """The rows below the header with anything in a watched column, padded to the widest
    column read, with their 1-based sheet row numbers."""
    width = max([*cols.watched, -1 if cols.text is None else cols.text]) + 1
    body: list[list] = rows[header_index + 1 :]
    if any(len(r) < width for r in body):
        body = [r if len(r) >= width else [*r, *[""] * (width - len(r))] for r in body]
    watched, first = cols.watched, header_index + 2
    return [(first + i, r) for i, r in enumerate(body) if _filled(r, watched)]


def _filled(row: list, columns: list[int]) -> bool:
    """Whether any of ``columns`` holds something (calamine gives "" for an empty cell)."""
    for column in columns:
        value = row[column]
        if value.__class__ is str:
            if value and not value.isspace():
                return True
        elif not is_blank(value):
            return True
    return False


def _key_problems(
    cells: _Cells, cols: _Columns, i: int, template_unit: str | None, where: RowAt
) -> list[Problem]:
    """A row's missing 任务编号 or 责任单位, or a unit the template is not for."""
    task_id, unit = cells.task_ids[i], cells.units[i]
    found: list[Problem] = []
    if not task_id:
        found.append(
            Problem(
                "缺少任务编号", column=TASK_ID_HEADER, value=cells.column[cols.task][i], **where
            )
        )
    if not unit:
        found.append(
            Problem("缺少责任单位", column=UNIT_HEADER, value=cells.column[cols.unit][i], **where)
        )
    elif template_unit is not None and unit != template_unit:
        found.append(
            Problem(
                f"该行属于其他单位；本模板只能填报「{template_unit}」的任务",
                column=UNIT_HEADER,
                value=unit,
                **where,
            )
        )
    return found


def _refuse_row(
    parsed: ParsedSheet,
    cells: _Cells,
    cols: _Columns,
    i: int,
    formulas: set[tuple[int, int]],
) -> None:
    """The slow path for a row that did not pass: say exactly what is wrong, cell by cell,
    and keep the row (marked bad) when its key is whole, so matching reports it too."""
    problems, template_unit = parsed.problems, parsed.unit
    number, task_id, unit = cells.numbers[i], cells.task_ids[i], cells.units[i]
    version = cells.versions[i]
    changes = {name: values[i] for name, values in cells.checked.items()}
    where: RowAt = {"row": number, "sheet": parsed.sheet, "task_id": task_id or None}
    unreadable = False
    for header, key in ((TASK_ID_HEADER, task_id), (UNIT_HEADER, unit)):
        if key in cells.bad_keys:
            problems.append(Problem(cells.bad_keys[key], column=header, value=key, **where))
            unreadable = True
    if unreadable:
        return
    problems += [
        Problem(
            "单元格是公式，请填写值而不是公式", column=header, value=cells.column[col][i], **where
        )
        for header, col in [*cols.keys, *((h, c) for _n, h, c in cols.fields)]
        if (number, col + 1) in formulas
    ]
    problems += _key_problems(cells, cols, i, template_unit, where)
    if isinstance(version, Refused):
        problems.append(
            Problem(version.message, column=VERSION_HEADER, value=cells.raw_versions[i], **where)
        )
        version = None
    for name, header, col in cols.fields:
        refused = changes[name]
        if isinstance(refused, Refused):
            problems.append(
                Problem(refused.message, column=header, value=cells.column[col][i], **where)
            )
    if task_id and unit:
        text = cells.texts[i] if cells.texts is not None else None
        parsed.rows.append(
            ParsedRow(number, task_id, unit, version, changes, bad=True, task_text=text)
        )


def _opened(
    pkg: Package,
) -> tuple[ParsedSheet, SheetRef, list[list[CellValue]], int, dict[str, int]]:
    """The data sheet found and its header read: the (empty) result, the sheet, its rows,
    the header's index and the header map.  Refuses a sheet with no progress column."""
    book = _calamine(
        pkg, None, python_calamine.CalamineWorkbook.from_filelike, io.BytesIO(pkg.data)
    )
    ref, rows, header_index, headers = _find_sheet(pkg, book)
    fields = [FIELD_BY_HEADER[h] for h in headers if h in FIELD_BY_HEADER]
    template_unit = defined_text(pkg.defined_names.get(UNIT_NAME)) or None
    parsed = ParsedSheet(pkg.file_name, ref.name, template_unit, fields)
    if not fields:
        raise ImportFileError(
            "表头中没有可导入的进度列（" + "、".join(PROGRESS_FIELDS.values()) + "）",
            file=pkg.file_name,
            sheet=ref.name,
        )
    return parsed, ref, rows, header_index, headers


@gc_paused()
def read_sheet(pkg: Package) -> ParsedSheet:
    """Find the data sheet and turn its rows into checked, normalised :class:`ParsedRow`.

    Column-wise: each watched column is pulled out of the grid once and checked as a list;
    without cyclic garbage collection (:mod:`tracker.gc_pause`) while the rows pile up.
    """
    parsed, ref, rows, header_index, headers = _opened(pkg)
    formulas = pkg.formula_cells(ref)
    if (0, 0) in formulas:
        raise ImportFileError(
            "工作表含有公式，请改为填写数值后再导入", file=pkg.file_name, sheet=ref.name
        )
    cols = _Columns.of(headers, parsed.fields)
    if cols.version is None:
        parsed.warnings.append(Problem(NO_VERSION_WARNING, sheet=ref.name, column=VERSION_HEADER))
    kept = _data_rows(rows, header_index, cols)
    if not kept:
        raise ImportFileError("表头下没有数据行", file=pkg.file_name, sheet=ref.name)
    parsed.data_rows = len(kept)
    cells = _Cells.read(kept, cols)
    template_unit, bad_keys = parsed.unit, cells.bad_keys
    watched = set(cols.watched)
    formula_rows = {r for r, c in formulas if c - 1 in watched}  # formulas elsewhere are ignored
    names, texts = list(cells.checked), cells.texts
    refused = {i for values in cells.checked.values() for i in _refused_at(values)}
    refused.update(_refused_at(cells.versions))
    by_row = zip(
        cells.numbers,
        cells.task_ids,
        cells.units,
        cells.versions,
        *cells.checked.values(),
        strict=True,
    )
    for i, (number, task_id, unit, version, *values) in enumerate(by_row):
        if (
            task_id
            and unit
            and (not bad_keys or (task_id not in bad_keys and unit not in bad_keys))
            and (template_unit is None or unit == template_unit)
            and i not in refused
            and number not in formula_rows
        ):
            text = texts[i] if texts is not None else None
            changes = dict(zip(names, values, strict=True))
            parsed.rows.append(ParsedRow(number, task_id, unit, version, changes, task_text=text))
        else:
            _refuse_row(parsed, cells, cols, i, formulas)
    return parsed


def _refused_at(values: Sequence[object]) -> list[int]:
    """Positions of the :class:`Refused` cells of a checked column."""
    return [i for i, value in enumerate(values) if value.__class__ is Refused]
