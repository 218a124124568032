"""Import progress from a filled template (填报模板) or an exported report's 明细 sheet.

Pipeline: :func:`excel.safety.open_package` refuses anything that is not a safe plain
.xlsx; python-calamine reads the values (fast; see ``bench/excel_import.py``) while a byte scan
of the sheet XML finds formula cells, which calamine would silently report as their cached
values; every row is validated and matched to an assignment by (任务编号, 责任单位) before
anything is written; then :meth:`tracker.store.Store.apply` does the dry run or the write, in
one transaction, with the file name as the history source.

Headers are found by name (the first of the top 30 rows holding 任务编号 and 责任单位), so
title rows above them, reordered columns and extra columns are fine; a known header written
twice, or changed (「完成比例」 for 「完成比例(%)」), refuses the file rather than being ignored.

Values follow the store's rules (:func:`tracker.progress.normalize_value`), so a cell the web
editor would refuse is refused here with the same words, and located: sheet, row, column.
Text Excel cannot hold (control characters, NUL, over 32,767 characters) is refused, never
cleaned; the template writes a literal ``_x0041_`` escaped, so a round trip changes nothing.

Stale files: a row whose 版本 is older than the stored one keeps the newer stored value of
every field the file left as it was at that version (told by the history); a field the file
changed too is a conflict.  A file without the 版本 column cannot say which version it was
filled in from, so nothing in it may overwrite a saved row: a row that was ever saved
(version > 0) and differs from the file is a conflict, never an overwrite; rows never saved,
and rows equal to the file, go through.

>>> result = import_workbook(store, data, file_name="市科委.xlsx", user="张三", dry_run=True)  # doctest: +SKIP
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, BinaryIO, TypedDict, TypeVar

import pandas as pd
import python_calamine
from defusedxml import ElementTree as SafeET
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils import get_column_letter

from excel.kit import (
    TASK_ID_HEADER,
    TASK_TEXT_HEADER,
    UNIT_HEADER,
    VERSION_HEADER,
    Column,
    Sheet,
    defined_text,
    new_workbook,
    prepare_sheet,
    render_rows,
    save_with_rows,
    setup_print,
    styled,
)
from excel.safety import (
    HEADER_ROWS,
    MAX_ROWS,
    Package,
    SheetRef,
    column_letters,
    open_package,
)
from excel.template import KIND_NAME, UNIT_NAME
from tracker.accounts import Account
from tracker.errors import (
    Conflict,
    ConflictError,
    ImportFileError,
    PermissionDenied,
    Problem,
    ValidationError,
)
from tracker.progress import Update, is_blank, normalize_value, text_problem
from tracker.schema import PROGRESS_FIELDS, TEXT_FIELDS
from tracker.store import DIFF_COLUMNS, Store, history_text

T = TypeVar("T")
# What python-calamine gives for a cell (an empty one is "").
CellValue = int | float | str | bool | time | date | datetime | timedelta
LOOKUP_CHUNK = 5_000
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
_DATE_TEXT = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


class _RowAt(TypedDict):
    """Where a problem is: the keyword arguments of :class:`Problem` naming the row."""

    row: int
    sheet: str
    task_id: str | None


class _SheetAt(TypedDict):
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


@dataclass
class ImportResult:
    """The outcome of an import (or of its dry run), ready to show and to export."""

    file_name: str
    sheet: str
    unit: str | None
    rows_read: int
    diffs: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    dry_run: bool = True
    all_or_nothing: bool = False
    written: bool = False
    skipped_unchanged_stale: int = 0

    @property
    def changed_assignments(self) -> int:
        return int(self.diffs["assignment_id"].nunique()) if len(self.diffs) else 0

    rows_by_assignment: dict[int, int] = field(default_factory=dict)

    @property
    def refused_rows(self) -> int:
        """Rows not applied: those with a problem plus those in conflict."""
        rows = {(p.sheet, p.row) for p in self.problems}
        rows |= {(self.sheet, self.rows_by_assignment.get(c.assignment_id)) for c in self.conflicts}
        return len(rows)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.conflicts

    def summary(self) -> str:
        """One Chinese sentence for the page and the CLI, saying what the mode did."""
        refused = bool(self.problems or self.conflicts)
        counts = f"{self.changed_assignments} 条任务分工、{len(self.diffs)} 个字段"
        if self.dry_run:
            outcome = f"将修改 {counts}"
        elif self.written:
            outcome = f"已修改 {counts}"
        elif refused and self.all_or_nothing:
            outcome = f"未保存，原计划修改 {counts}"
        elif refused:
            outcome = "未修改任何任务分工"
        else:
            outcome = f"内容与系统一致，修改了 {counts}"
        text = f"{self.file_name}（工作表「{self.sheet}」）：读取 {self.rows_read} 行，{outcome}"
        if self.problems:
            text += f"；{len(self.problems)} 处错误"
        if self.conflicts:
            text += f"；{len(self.conflicts)} 条冲突（文件填写后已被修改）"
        if not self.dry_run and not self.written and refused:
            if self.all_or_nothing:
                text += "；按“全部成功才保存”要求，本次未写入任何修改"
            else:
                text += "；有错误或冲突的行未保存，其余行与系统一致，本次未写入任何修改"
        return text


@dataclass(frozen=True)
class ImportPreview:
    """The dry run of one upload and what it ran on, so a page shows it again on each rerun
    without reading the file again, as long as the file, the data and the mode stay."""

    digest: str  # SHA-256 of the file's bytes
    revision: int  # the store's data revision when it ran
    all_or_nothing: bool
    result: ImportResult

    def holds_for(self, digest: str, revision: int, all_or_nothing: bool) -> bool:
        """Whether this preview is still the dry run of that file, data and mode."""
        return (self.digest, self.revision, self.all_or_nothing) == (
            digest,
            revision,
            all_or_nothing,
        )


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
    where: _SheetAt = {"file": pkg.file_name, "sheet": sheet.name if sheet else None}
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
    where: _SheetAt = {"file": pkg.file_name, "sheet": sheet.name}
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


def _text(value: object) -> str:
    """A key or text cell as the user sees it (12.0 -> '12', dates as ISO)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _cell_value(name: str, value: object) -> object:
    """Normalise one progress cell by the store's rules; raises ValueError with a reason.

    What only a file can hold is settled first: a number that is not one (a cell holding
    ``inf`` or ``1e400`` reads as infinity, never as blank), a date typed as a plain number or
    a time, 2026年12月31日 written in Chinese.
    """
    if name == "due_date":
        if isinstance(value, time | timedelta | int | float):
            raise ValueError("完成时限必须是日期（如 2026-12-31），不是数字或时间")
        match = _DATE_TEXT.match(value) if isinstance(value, str) else None
        if match:
            try:
                value = date(*(int(g) for g in match.groups()))
            except ValueError:
                raise ValueError("完成时限不是有效日期") from None
    elif isinstance(value, float) and not math.isfinite(value):
        if name in TEXT_FIELDS:
            raise ValueError(f"不是有效的数值（{value}）")
        value = str(value)  # not blank: the field's own rule refuses it, in its own words
    elif name in TEXT_FIELDS:
        value = "" if is_blank(value) else _text(value)
    return normalize_value(name, value)


class _Refused:
    """A cell value that failed its check (cached like a good value)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _checked(name: str, values: Sequence[object]) -> list[object]:
    """Normalise a whole column; each distinct (type, value) is checked once.

    Real columns repeat a handful of statuses, percents and dates, so this turns ~7 checks
    per row into dictionary look-ups — the bulk of keeping validation cheap next to the read.
    """
    cache: dict[tuple[type, object], object] = {}
    out = []
    for value in values:
        key = (type(value), value)
        try:
            result = cache[key]
        except KeyError:
            try:
                result = _cell_value(name, value)
            except ValueError as exc:
                result = _Refused(str(exc))
            cache[key] = result
        except TypeError:  # unhashable: never from calamine, but stay safe
            try:
                result = _cell_value(name, value)
            except ValueError as exc:
                result = _Refused(str(exc))
        out.append(result)
    return out


def _key_text(values: Sequence[object]) -> list[str]:
    return [v.strip() if type(v) is str else ("" if is_blank(v) else _text(v)) for v in values]


def _versions(values: Sequence[object]) -> list[int | _Refused | None]:
    cache: dict[tuple[type, object], int | _Refused | None] = {}
    out = []
    for raw in values:
        key = (type(raw), raw)
        if key not in cache:
            cache[key] = _version(raw)
        out.append(cache[key])
    return out


def _version(raw: object) -> int | _Refused:
    """A 版本 cell as a whole number >= 0 (``3``, ``3.0``, ``" 3 "``)."""
    version: int | None = None
    if isinstance(raw, str):
        try:
            version = int(raw.strip())
        except ValueError:
            version = None
    elif isinstance(raw, int) and not isinstance(raw, bool):
        version = raw
    elif isinstance(raw, float) and raw.is_integer():
        version = int(raw)
    if version is None or version < 0:
        return _Refused("版本号无效（隐藏的「版本」列被改动），请重新下载模板")
    return version


def read_sheet(pkg: Package) -> ParsedSheet:
    """Find the data sheet and turn its rows into checked, normalised :class:`ParsedRow`.

    Column-wise: each watched column is pulled out of the grid once and checked as a list.
    """
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
    formulas = pkg.formula_cells(ref)
    if (0, 0) in formulas:
        raise ImportFileError(
            "工作表含有公式，请改为填写数值后再导入", file=pkg.file_name, sheet=ref.name
        )
    task_col, unit_col = headers[TASK_ID_HEADER], headers[UNIT_HEADER]
    version_col = headers.get(VERSION_HEADER)
    field_cols = [(name, PROGRESS_FIELDS[name], headers[PROGRESS_FIELDS[name]]) for name in fields]
    key_cols = [(TASK_ID_HEADER, task_col), (UNIT_HEADER, unit_col)]
    if version_col is not None:
        key_cols.append((VERSION_HEADER, version_col))
    else:
        parsed.warnings.append(Problem(NO_VERSION_WARNING, sheet=ref.name, column=VERSION_HEADER))
    watched = sorted({c for _h, c in key_cols} | {c for _n, _h, c in field_cols})
    text_col = headers.get(TASK_TEXT_HEADER)
    width = max([*watched, -1 if text_col is None else text_col]) + 1
    body = rows[header_index + 1 :]
    if any(len(r) < width for r in body):
        body = [r if len(r) >= width else [*r, *[""] * (width - len(r))] for r in body]
    # Keep rows with anything in a watched column; remember their 1-based sheet row numbers.
    kept = [
        (header_index + 2 + i, r)
        for i, r in enumerate(body)
        if any(not is_blank(r[c]) for c in watched)
    ]
    if not kept:
        raise ImportFileError("表头下没有数据行", file=pkg.file_name, sheet=ref.name)
    parsed.data_rows = len(kept)
    numbers = [n for n, _r in kept]
    column = {c: [r[c] for _n, r in kept] for c in watched}
    task_ids = _key_text(column[task_col])
    units = _key_text(column[unit_col])
    texts = _key_text([r[text_col] for _n, r in kept]) if text_col is not None else None
    raw_versions: Sequence[object] = column[version_col] if version_col is not None else []
    versions = _versions(raw_versions) if version_col is not None else [None] * len(kept)
    checked = {name: _checked(name, column[col]) for name, _h, col in field_cols}
    # Keys that could not even be looked up (a NUL would make PostgreSQL refuse the query).
    bad_keys = {key: why for key in {*task_ids, *units} if (why := text_problem(key))}

    problems = parsed.problems
    sheet = ref.name
    formula_rows = {r for r, c in formulas if c - 1 in watched}  # formulas elsewhere are ignored
    for i, number in enumerate(numbers):
        task_id, unit, version = task_ids[i], units[i], versions[i]
        changes = {name: values[i] for name, values in checked.items()}
        refused = {name: v for name, v in changes.items() if isinstance(v, _Refused)}
        text = texts[i] if texts is not None else None
        if (
            task_id
            and unit
            and (not bad_keys or (task_id not in bad_keys and unit not in bad_keys))
            and (template_unit is None or unit == template_unit)
            and not isinstance(version, _Refused)
            and number not in formula_rows
            and not refused
        ):
            parsed.rows.append(ParsedRow(number, task_id, unit, version, changes, task_text=text))
            continue
        # The slow path: say exactly what is wrong, cell by cell.
        where: _RowAt = {"row": number, "sheet": sheet, "task_id": task_id or None}
        unreadable = False
        for header, key in ((TASK_ID_HEADER, task_id), (UNIT_HEADER, unit)):
            if key in bad_keys:
                problems.append(Problem(bad_keys[key], column=header, value=key, **where))
                unreadable = True
        if unreadable:
            continue
        if number in formula_rows:
            for header, col in [*key_cols, *((h, c) for _n, h, c in field_cols)]:
                if (number, col + 1) in formulas:
                    problems.append(
                        Problem(
                            "单元格是公式，请填写值而不是公式",
                            column=header,
                            value=column[col][i],
                            **where,
                        )
                    )
        if not task_id:
            problems.append(
                Problem("缺少任务编号", column=TASK_ID_HEADER, value=column[task_col][i], **where)
            )
        if not unit:
            problems.append(
                Problem("缺少责任单位", column=UNIT_HEADER, value=column[unit_col][i], **where)
            )
        elif template_unit is not None and unit != template_unit:
            problems.append(
                Problem(
                    f"该行属于其他单位；本模板只能填报「{template_unit}」的任务",
                    column=UNIT_HEADER,
                    value=unit,
                    **where,
                )
            )
        if isinstance(version, _Refused):
            problems.append(
                Problem(version.message, column=VERSION_HEADER, value=raw_versions[i], **where)
            )
            version = None
        for name, header, col in field_cols:
            if name in refused:
                problems.append(
                    Problem(refused[name].message, column=header, value=column[col][i], **where)
                )
        if task_id and unit:
            parsed.rows.append(
                ParsedRow(number, task_id, unit, version, changes, bad=True, task_text=text)
            )
    return parsed


# --- matching and applying ---------------------------------------------------------------------


def _lookup(store: Store, task_ids: list[str]) -> dict[tuple[str, str], tuple[int, int, str]]:
    """(task_id, unit) -> (assignment_id, current version, task text), in chunks the
    database accepts."""
    found: dict[tuple[str, str], tuple[int, int, str]] = {}
    unique = list(dict.fromkeys(task_ids))
    for start in range(0, len(unique), LOOKUP_CHUNK):
        frame = store.find_assignments(unique[start : start + LOOKUP_CHUNK])
        for aid, task_id, unit, version, text in frame[
            ["assignment_id", "task_id", "unit", "version", "task_text"]
        ].itertuples(index=False, name=None):
            found[(task_id, unit)] = (int(aid), int(version), str(text))
    return found


def _keep_newer_on_stale(store: Store, stale: list[Update]) -> set[int]:
    """Drop, from updates based on an old version, the fields the user left as they were then.

    The history tells what each field held at the file's version (the old value of its first
    change after that version); a field whose file value still equals that was not edited by
    this user, so the newer stored value stays and no conflict is raised for it.  What remains
    is a real concurrent edit and reaches the store as a conflict.  Set-based: one history
    read per 5,000 rows and a few merges, whatever the number of rows.

    Returns the assignments where a newer value by someone else was kept (the stored value
    differs from the file's); rows the file already equals, such as the user's own rows just
    imported from this same file, are not among them.
    """
    if not stale:
        return set()
    ids = [int(u.assignment_id) for u in stale]
    history = pd.concat(
        [
            store.history(assignment_ids=ids[start : start + LOOKUP_CHUNK])
            for start in range(0, len(ids), LOOKUP_CHUNK)
        ]
    )
    bases = pd.DataFrame({"assignment_id": ids, "base": [int(u.base_version) for u in stale]})
    later = history.merge(bases, on="assignment_id")
    later = later[later["version"] > later["base"]].sort_values(
        ["assignment_id", "field", "version", "history_id"], kind="stable"
    )
    keys = ["assignment_id", "field"]
    then = later.drop_duplicates(keys, keep="first")[[*keys, "old_value"]]
    stored = later.drop_duplicates(keys, keep="last")[[*keys, "new_value"]]
    mine = pd.DataFrame.from_records(
        [
            (int(u.assignment_id), name, history_text(value))
            for u in stale
            for name, value in u.changes.items()
        ],
        columns=[*keys, "mine"],
    )
    edited_since = mine.merge(then, on=keys).merge(stored, on=keys)
    untouched = edited_since[edited_since["mine"] == edited_since["old_value"].fillna("")]
    by_id = {int(u.assignment_id): u for u in stale}
    for aid, name in zip(untouched["assignment_id"], untouched["field"], strict=True):
        del by_id[int(aid)].changes[name]
    theirs = untouched[untouched["mine"] != untouched["new_value"].fillna("")]
    return set(theirs["assignment_id"].astype(int))


def plan_updates(store: Store, parsed: ParsedSheet) -> tuple[list[Update], list[Problem], set[int]]:
    """Match rows to assignments: updates to send, new problems, and the assignments where
    someone else's newer value was kept because the file had left that field alone.

    Without a 版本 column the base is version 0: the store then applies a row only if it was
    never saved or the file equals it, and reports any other difference as a conflict.
    """
    problems: list[Problem] = []
    known = _lookup(store, [r.task_id for r in parsed.rows])
    known_tasks = {task for task, _unit in known}
    seen: dict[tuple[str, str], int] = {}
    updates: list[Update] = []
    stale: list[Update] = []
    for row in parsed.rows:
        key = (row.task_id, row.unit)
        where: _RowAt = {"row": row.row, "sheet": parsed.sheet, "task_id": row.task_id}
        if key in seen:
            problems.append(
                Problem(
                    f"同一任务分工重复出现（与第{seen[key]}行重复）",
                    column=TASK_ID_HEADER,
                    value=row.task_id,
                    **where,
                )
            )
            continue
        seen[key] = row.row
        match = known.get(key)
        if match is None:
            if row.task_id in known_tasks:
                problems.append(
                    Problem(
                        f"「{row.unit}」不承担此任务", column=UNIT_HEADER, value=row.unit, **where
                    )
                )
            else:
                problems.append(
                    Problem("未知的任务编号", column=TASK_ID_HEADER, value=row.task_id, **where)
                )
            continue
        aid, current, stored_text = match
        if row.task_text and " ".join(row.task_text.split()) != " ".join(stored_text.split()):
            # Task ids are positions in a policy: after a revision the same id can name another
            # task.  A row written for the old text must not land on the new one.
            problems.append(
                Problem(
                    "任务内容与系统中该编号的任务不一致（政策可能已修订），请下载新模板后重新填报",
                    column=TASK_TEXT_HEADER,
                    value=row.task_text[:60],
                    **where,
                )
            )
            continue
        if row.bad:
            continue
        upd = Update(aid, row.version or 0, dict(row.changes), row=row.row, sheet=parsed.sheet)
        updates.append(upd)
        if row.version is not None and row.version != current:
            stale.append(upd)
    kept_theirs = _keep_newer_on_stale(store, stale)
    return [u for u in updates if u.changes], problems, kept_theirs


def import_workbook(
    store: Store,
    source: bytes | BinaryIO,
    *,
    file_name: str,
    user: Account,
    dry_run: bool = False,
    all_or_nothing: bool = False,
) -> ImportResult:
    """Validate the workbook and apply it (or, with ``dry_run``, show what it would change).

    Partial by default: valid rows are written and refused ones reported.  With
    ``all_or_nothing`` a single problem or conflict means nothing is written.  The history
    records ``file_name`` as the source.  Raises ImportFileError for unreadable files.
    """
    if not isinstance(user, Account):  # checked before the file is read, not after
        raise PermissionDenied("请先登录：每次导入都必须对应一个已登录的账号")
    pkg = open_package(source, file_name)
    parsed = read_sheet(pkg)
    updates, match_problems, kept_theirs = plan_updates(store, parsed)
    problems = [*parsed.problems, *match_problems]
    result = ImportResult(
        file_name=file_name,
        sheet=parsed.sheet,
        unit=parsed.unit,
        rows_read=parsed.data_rows,
        diffs=pd.DataFrame(columns=DIFF_COLUMNS),
        problems=problems,
        warnings=list(parsed.warnings),
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        rows_by_assignment={int(u.assignment_id): int(u.row) for u in updates if u.row is not None},
    )
    blocked = all_or_nothing and bool(problems)
    if dry_run or blocked:
        # The preview always lists everything: what would change, and every refusal.
        applied = store.apply(updates, user=user, source=file_name, partial=True, dry_run=True)
    else:
        try:
            applied = store.apply(updates, user=user, source=file_name, partial=not all_or_nothing)
        except ValidationError as exc:
            result.problems.extend(exc.problems or [Problem(exc.message, sheet=parsed.sheet)])
            return result
        except ConflictError as exc:
            result.conflicts.extend(exc.conflicts)
            return result
        result.written = len(applied.diffs) > 0
    result.diffs = applied.diffs
    result.problems.extend(applied.problems)
    result.conflicts.extend(applied.conflicts)
    result.warnings.extend(applied.warnings)
    return _count_untouched(result, kept_theirs)


def _count_untouched(result: ImportResult, kept_theirs: set[int]) -> ImportResult:
    """Rows that neither change nor conflict because someone else's newer values were kept."""
    touched = set(result.diffs["assignment_id"].astype(int)) | {
        c.assignment_id for c in result.conflicts
    }
    result.skipped_unchanged_stale = len(kept_theirs - touched)
    return result


# --- the error report ------------------------------------------------------------------------

ERROR_COLUMNS = [
    Column("sheet", "工作表", 12),
    Column("row", "行号", 7, "int", "r_int"),
    Column("column", "列", 12),
    Column("value", "值", 24, style="r_wrap"),
    Column("task_id", TASK_ID_HEADER, 18),
    Column("message", "原因", 60, style="r_wrap"),
]
CONFLICT_COLUMNS = [
    Column("row", "行号", 7, "int", "r_int"),
    Column("task_id", TASK_ID_HEADER, 18),
    Column("unit", UNIT_HEADER, 14),
    Column("base_version", "模板版本", 9, "int", "r_int"),
    Column("current_version", "当前版本", 9, "int", "r_int"),
    Column("updated_by", "修改人", 10),
    Column("theirs", "对方的值（当前）", 36, style="r_wrap"),
    Column("mine", "您的修改（未保存）", 36, style="r_wrap"),
]


def diffs_frame(result: ImportResult) -> pd.DataFrame:
    """The preview table: one row per changed field, old -> new, with Chinese headers."""
    diffs = result.diffs
    return pd.DataFrame(
        {
            "行号": diffs["row"],
            TASK_ID_HEADER: diffs["task_id"],
            UNIT_HEADER: diffs["unit"],
            "字段": diffs["field"].map(PROGRESS_FIELDS).fillna(diffs["field"]),
            "原值": diffs["old"],
            "新值": diffs["new"],
        }
    ).reset_index(drop=True)


def problems_frame(result: ImportResult) -> pd.DataFrame:
    """Refused cells and rows, for display and for the error report."""
    rows = [
        {
            "sheet": p.sheet or "",
            "row": p.row,
            "column": p.column or "",
            "value": "" if p.value is None else str(p.value),
            "task_id": p.task_id or "",
            "message": p.message,
        }
        for p in result.problems
    ]
    return pd.DataFrame(rows, columns=[c.key for c in ERROR_COLUMNS])


def conflicts_frame(result: ImportResult) -> pd.DataFrame:
    """Stale rows with both values (theirs = stored now, mine = the file's)."""
    rows = [
        {
            "row": result.rows_by_assignment.get(c.assignment_id),
            "task_id": c.task_id,
            "unit": c.unit,
            "base_version": c.base_version,
            "current_version": c.current_version,
            "updated_by": c.updated_by or "",
            "theirs": "；".join(f"{k}={v}" for k, v in c.theirs.items()),
            "mine": "；".join(f"{k}={v}" for k, v in c.mine.items()),
        }
        for c in result.conflicts
    ]
    return pd.DataFrame(rows, columns=[c.key for c in CONFLICT_COLUMNS])


def error_report(result: ImportResult) -> bytes:
    """An .xlsx listing every refused row and why (错误清单) and every conflict (冲突)."""
    wb = new_workbook()
    blocks: dict[Sheet, bytes] = {}
    for title, columns, frame in (
        ("错误清单", ERROR_COLUMNS, problems_frame(result)),
        ("冲突", CONFLICT_COLUMNS, conflicts_frame(result)),
    ):
        ws = wb.create_sheet(title)
        ids = prepare_sheet(ws, columns)
        ws.freeze_panes = "A3"
        ws.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{len(frame) + 2}"
        setup_print(ws, "1:2")
        heading = f"导入{title}　文件：{result.file_name}　共 {len(frame)} 条"
        ws.append([styled(ws, heading, "r_title")])
        ws.append([styled(ws, c.header, "r_header") for c in columns])
        blocks[ws] = render_rows(frame, columns, ids, first_row=3)
    return save_with_rows(wb, blocks)
