"""Import progress from a filled template (填报模板) or an exported report's 明细 sheet.

Pipeline: :func:`loaders.xlsx_safety.open_package` refuses anything that is not a safe plain
.xlsx; python-calamine reads the values (fast; see ``bench/excel_import.py``) while a byte scan
of the sheet XML finds formula cells, which calamine would silently report as their cached
values; every row is validated and matched to an assignment by (任务编号, 责任单位) before
anything is written; then :meth:`tracker.store.Store.apply` does the dry run or the write, in
one transaction, with the file name as the history source.

Headers are found by name (the first of the top 30 rows holding 任务编号 and 责任单位), so
title rows above them, reordered columns and extra columns are fine.

>>> result = import_workbook(store, data, file_name="市科委.xlsx", user="张三", dry_run=True)  # doctest: +SKIP
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import BinaryIO

import pandas as pd
import python_calamine

from loaders.excel_report import (
    TASK_ID_HEADER,
    UNIT_HEADER,
    VERSION_HEADER,
    Column,
    new_workbook,
    prepare_sheet,
    render_rows,
    save_with_rows,
    setup_print,
    styled,
)
from loaders.excel_template import UNIT_NAME
from loaders.xlsx_safety import MAX_ROWS, Package, SheetRef, open_package
from tracker.errors import Conflict, ConflictError, ImportFileError, Problem, ValidationError
from tracker.progress import normalize_value
from tracker.schema import PROGRESS_FIELDS
from tracker.store import DIFF_COLUMNS, Store, Update, history_text

HEADER_SCAN_ROWS = 30
LOOKUP_CHUNK = 5_000
FIELD_BY_HEADER = {label: name for name, label in PROGRESS_FIELDS.items()}
_DATE_TEXT = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


@dataclass
class ParsedRow:
    """One data row of the sheet, already checked and normalised."""

    row: int
    task_id: str
    unit: str
    version: int | None
    changes: dict[str, object]
    bad: bool = False  # has a problem already; still matched so every error is reported


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
        """One Chinese sentence for the page and the CLI."""
        if self.dry_run:
            verb = "将修改"
        elif self.written:
            verb = "已修改"
        elif self.problems or self.conflicts:
            verb = "未保存，原计划修改"
        else:
            verb = "内容与系统一致，修改了"
        text = (
            f"{self.file_name}（工作表「{self.sheet}」）：读取 {self.rows_read} 行，"
            f"{verb} {self.changed_assignments} 条任务分工、{len(self.diffs)} 个字段"
        )
        if self.problems:
            text += f"；{len(self.problems)} 处错误"
        if self.conflicts:
            text += f"；{len(self.conflicts)} 条冲突（他人已修改）"
        if not self.dry_run and not self.written and (self.problems or self.conflicts):
            text += "；按“全部成功才保存”要求，本次未写入任何修改"
        return text


# --- reading ---------------------------------------------------------------------------------


def _open_calamine(pkg: Package) -> python_calamine.CalamineWorkbook:
    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(pkg.data))
    except Exception as exc:  # calamine raises several error types for broken workbooks
        raise ImportFileError(
            f"无法读取工作簿（{exc.__class__.__name__}: {exc}）", file=pkg.file_name
        ) from None


def _header_map(cells: list[object]) -> dict[str, int]:
    out: dict[str, int] = {}
    for index, value in enumerate(cells):
        if isinstance(value, str):
            name = value.strip().rstrip("*＊").strip()
            out.setdefault(name, index)
    return out


def _find_sheet(pkg: Package, book) -> tuple[SheetRef, list[list[object]], int, dict[str, int]]:
    """The first sheet with a 任务编号 + 责任单位 header row: (sheet, rows, header index, map)."""
    nonempty = 0
    for ref in pkg.sheets:
        try:
            sheet = book.get_sheet_by_name(ref.name)
            if sheet.end is None:
                continue
            nonempty += 1
            if sheet.end[0] + 1 > MAX_ROWS + HEADER_SCAN_ROWS:
                raise ImportFileError(
                    f"行数超过 {MAX_ROWS:,} 行上限，请按单位拆分后再导入",
                    file=pkg.file_name,
                    sheet=ref.name,
                )
            top = sheet.to_python(skip_empty_area=False, nrows=HEADER_SCAN_ROWS)
        except ImportFileError:
            raise
        except Exception as exc:
            raise ImportFileError(
                f"无法读取工作表（{exc}）", file=pkg.file_name, sheet=ref.name
            ) from None
        for index, cells in enumerate(top):
            headers = _header_map(cells)
            if TASK_ID_HEADER in headers and UNIT_HEADER in headers:
                try:
                    rows = sheet.to_python(skip_empty_area=False)
                except Exception as exc:
                    raise ImportFileError(
                        f"无法读取工作表（{exc}）", file=pkg.file_name, sheet=ref.name
                    ) from None
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


def _blank(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _text(value: object) -> str:
    """A key or text cell as the user sees it (12.0 -> '12', dates as ISO)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _cell_value(name: str, value: object) -> object:
    """Normalise one progress cell; raises ValueError with a Chinese reason."""
    if name == "due_date":
        if (
            isinstance(value, time | timedelta)
            or isinstance(value, int | float)
            and not _blank(value)
        ):
            raise ValueError("完成时限必须是日期（如 2026-12-31），不是数字或时间")
        if isinstance(value, str):
            match = _DATE_TEXT.match(value)
            if match:
                try:
                    return date(*(int(g) for g in match.groups()))
                except ValueError:
                    raise ValueError("完成时限不是有效日期") from None
    elif name in ("note", "next_step", "problems", "evidence"):
        return "" if _blank(value) else _text(value)
    elif (
        name == "percent"
        and isinstance(value, float)
        and not math.isnan(value)
        and not value.is_integer()
    ):
        raise ValueError("完成比例必须是0到100之间的整数")
    return normalize_value(name, value)


class _Refused:
    """A cell value that failed its check (cached like a good value)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _checked(name: str, values: list[object]) -> list[object]:
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


def _key_text(values: list[object]) -> list[str]:
    return [v.strip() if type(v) is str else ("" if _blank(v) else _text(v)) for v in values]


def _versions(values: list[object]) -> list[int | _Refused]:
    cache: dict[tuple[type, object], int | _Refused] = {}
    out = []
    for raw in values:
        key = (type(raw), raw)
        if key not in cache:
            try:
                version = int(raw.strip()) if isinstance(raw, str) else int(raw)
                if (
                    version < 0
                    or isinstance(raw, bool)
                    or (isinstance(raw, float) and not raw.is_integer())
                ):
                    raise ValueError
                cache[key] = version
            except (TypeError, ValueError, OverflowError):
                cache[key] = _Refused("版本号无效（隐藏的「版本」列被改动），请重新下载模板")
        out.append(cache[key])
    return out


def read_sheet(pkg: Package) -> ParsedSheet:
    """Find the data sheet and turn its rows into checked, normalised :class:`ParsedRow`.

    Column-wise: each watched column is pulled out of the grid once and checked as a list.
    """
    book = _open_calamine(pkg)
    ref, rows, header_index, headers = _find_sheet(pkg, book)
    fields = [FIELD_BY_HEADER[h] for h in headers if h in FIELD_BY_HEADER]
    unit_name = pkg.defined_names.get(UNIT_NAME)
    template_unit = unit_name.strip().strip('"').replace('""', '"') if unit_name else None
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
        parsed.warnings.append(
            Problem(
                "文件没有「版本」列，无法发现他人在此期间的修改",
                sheet=ref.name,
                column=VERSION_HEADER,
            )
        )
    watched = sorted({c for _h, c in key_cols} | {c for _n, _h, c in field_cols})
    width = max(watched) + 1
    body = rows[header_index + 1 :]
    if any(len(r) < width for r in body):
        body = [r if len(r) >= width else [*r, *[""] * (width - len(r))] for r in body]
    # Keep rows with anything in a watched column; remember their 1-based sheet row numbers.
    kept = [
        (header_index + 2 + i, r)
        for i, r in enumerate(body)
        if any(not _blank(r[c]) for c in watched)
    ]
    if not kept:
        raise ImportFileError("表头下没有数据行", file=pkg.file_name, sheet=ref.name)
    parsed.data_rows = len(kept)
    numbers = [n for n, _r in kept]
    column = {c: [r[c] for _n, r in kept] for c in watched}
    task_ids = _key_text(column[task_col])
    units = _key_text(column[unit_col])
    versions = _versions(column[version_col]) if version_col is not None else [None] * len(kept)
    checked = {name: _checked(name, column[col]) for name, _h, col in field_cols}

    problems = parsed.problems
    sheet = ref.name
    formula_rows = {r for r, c in formulas if c - 1 in watched}  # formulas elsewhere are ignored
    for i, number in enumerate(numbers):
        task_id, unit, version = task_ids[i], units[i], versions[i]
        changes = {name: values[i] for name, values in checked.items()}
        ok = (
            task_id
            and unit
            and (template_unit is None or unit == template_unit)
            and not isinstance(version, _Refused)
            and number not in formula_rows
            and not any(isinstance(v, _Refused) for v in changes.values())
        )
        if ok:
            parsed.rows.append(ParsedRow(number, task_id, unit, version, changes))
            continue
        # The slow path: say exactly what is wrong, cell by cell.
        where = {"row": number, "sheet": sheet, "task_id": task_id or None}
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
                Problem(
                    version.message, column=VERSION_HEADER, value=column[version_col][i], **where
                )
            )
        for name, header, col in field_cols:
            if isinstance(changes[name], _Refused):
                problems.append(
                    Problem(changes[name].message, column=header, value=column[col][i], **where)
                )
        if task_id and unit:
            version = None if isinstance(version, _Refused) else version
            parsed.rows.append(ParsedRow(number, task_id, unit, version, changes, bad=True))
    return parsed


# --- matching and applying ---------------------------------------------------------------------


def _lookup(store: Store, task_ids: list[str]) -> dict[tuple[str, str], tuple[int, int]]:
    """(task_id, unit) -> (assignment_id, current version), in chunks the database accepts."""
    found: dict[tuple[str, str], tuple[int, int]] = {}
    unique = list(dict.fromkeys(task_ids))
    for start in range(0, len(unique), LOOKUP_CHUNK):
        frame = store.find_assignments(unique[start : start + LOOKUP_CHUNK])
        for aid, task_id, unit, version in frame[
            ["assignment_id", "task_id", "unit", "version"]
        ].itertuples(index=False, name=None):
            found[(task_id, unit)] = (int(aid), int(version))
    return found


def _untouched_on_stale(store: Store, stale: list[tuple[Update, int]]) -> None:
    """Drop, from updates based on an old version, the fields the user left as they were then.

    The history tells what each field held at the template's version; a field whose file value
    still equals that was not edited by this user, so the newer value stays and no conflict is
    raised for it.  What remains is a real concurrent edit and reaches the store as a conflict.
    """
    if not stale:
        return
    history = store.history(assignment_ids=[u.assignment_id for u, _v in stale])
    by_assignment = {aid: frame for aid, frame in history.groupby("assignment_id")}
    for upd, _current in stale:
        frame = by_assignment.get(upd.assignment_id)
        if frame is None:
            continue
        later = frame[frame["version"] > upd.base_version].sort_values("version")
        first_old = later.drop_duplicates("field", keep="first").set_index("field")["old_value"]
        for name in list(upd.changes):
            if name in first_old.index and history_text(upd.changes[name]) == (
                first_old[name] or ""
            ):
                del upd.changes[name]


def plan_updates(store: Store, parsed: ParsedSheet) -> tuple[list[Update], list[Problem], set[int]]:
    """Match rows to assignments: updates to send, new problems, assignments that are stale."""
    problems: list[Problem] = []
    known = _lookup(store, [r.task_id for r in parsed.rows])
    known_tasks = {task for task, _unit in known}
    seen: dict[tuple[str, str], int] = {}
    updates: list[Update] = []
    stale: list[tuple[Update, int]] = []
    for row in parsed.rows:
        key = (row.task_id, row.unit)
        where = {"row": row.row, "sheet": parsed.sheet, "task_id": row.task_id}
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
        if row.bad:
            continue
        aid, current = match
        base = current if row.version is None else row.version
        upd = Update(aid, base, dict(row.changes), row=row.row, sheet=parsed.sheet)
        updates.append(upd)
        if base != current:
            stale.append((upd, current))
    _untouched_on_stale(store, stale)
    return [u for u in updates if u.changes], problems, {int(u.assignment_id) for u, _c in stale}


def import_workbook(
    store: Store,
    source: bytes | BinaryIO,
    *,
    file_name: str,
    user: str,
    dry_run: bool = False,
    all_or_nothing: bool = False,
) -> ImportResult:
    """Validate the workbook and apply it (or, with ``dry_run``, show what it would change).

    Partial by default: valid rows are written and refused ones reported.  With
    ``all_or_nothing`` a single problem or conflict means nothing is written.  The history
    records ``file_name`` as the source.  Raises ImportFileError for unreadable files.
    """
    if not user or not str(user).strip():
        raise ValidationError("必须注明填报人")
    pkg = open_package(source, file_name)
    parsed = read_sheet(pkg)
    updates, match_problems, stale = plan_updates(store, parsed)
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
            result.problems.extend(exc.problems)
            return result
        except ConflictError as exc:
            result.conflicts.extend(exc.conflicts)
            return result
        result.written = len(applied.diffs) > 0
    result.diffs = applied.diffs
    result.problems.extend(applied.problems)
    result.conflicts.extend(applied.conflicts)
    result.warnings.extend(applied.warnings)
    return _count_untouched(result, stale)


def _count_untouched(result: ImportResult, stale: set[int]) -> ImportResult:
    """Stale rows that neither change nor conflict: others updated them, this file did not."""
    touched = set(result.diffs["assignment_id"].astype(int)) | {
        c.assignment_id for c in result.conflicts
    }
    result.skipped_unchanged_stale = len(stale - touched)
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
    blocks = {}
    for title, columns, frame in (
        ("错误清单", ERROR_COLUMNS, problems_frame(result)),
        ("冲突", CONFLICT_COLUMNS, conflicts_frame(result)),
    ):
        ws = wb.create_sheet(title)
        ids = prepare_sheet(ws, columns)
        ws.freeze_panes = "A3"
        ws.auto_filter.ref = f"A2:{chr(64 + len(columns))}{len(frame) + 2}"
        setup_print(ws, "1:2")
        heading = f"导入{title}　文件：{result.file_name}　共 {len(frame)} 条"
        ws.append([styled(ws, heading, "r_title")])
        ws.append([styled(ws, c.header, "r_header") for c in columns])
        blocks[ws] = render_rows(frame, columns, ids, first_row=3)
    return save_with_rows(wb, blocks)
