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

The steps live in their own modules, and their public names import from here too: reading
(:mod:`excel.read_sheet`), validating cells (:mod:`excel.read_cells`) and matching rows to
assignments (:mod:`excel.read_match`).  This module runs them and reports the outcome.

>>> result = import_workbook(store, data, file_name="市科委.xlsx", user="张三", dry_run=True)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import BinaryIO

import pandas as pd
from openpyxl.utils import get_column_letter

from excel.kit import (
    TASK_ID_HEADER,
    UNIT_HEADER,
    Column,
    Sheet,
    new_workbook,
    prepare_sheet,
    render_rows,
    save_with_rows,
    setup_print,
    styled,
)
from excel.read_match import LOOKUP_CHUNK, plan_updates
from excel.read_sheet import (
    FIELD_BY_HEADER,
    KNOWN_HEADERS,
    NO_VERSION_WARNING,
    CellValue,
    ParsedRow,
    ParsedSheet,
    read_sheet,
)
from excel.safety import open_package
from tracker.accounts import Account
from tracker.apply_plan import diff_frame
from tracker.errors import Conflict, ConflictError, PermissionDenied, Problem, ValidationError
from tracker.gc_pause import gc_paused
from tracker.labels import TASK_LABEL
from tracker.schema import PROGRESS_FIELDS
from tracker.store import Store

__all__ = [
    "CONFLICT_COLUMNS",
    "ERROR_COLUMNS",
    "FIELD_BY_HEADER",
    "KNOWN_HEADERS",
    "LOOKUP_CHUNK",
    "NO_VERSION_WARNING",
    "CellValue",
    "ImportPreview",
    "ImportResult",
    "ParsedRow",
    "ParsedSheet",
    "conflicts_frame",
    "diffs_frame",
    "error_report",
    "import_workbook",
    "plan_updates",
    "problems_frame",
    "read_sheet",
]


@dataclass
class ImportResult:
    """The outcome of an import (or of its dry run), ready to show and to export."""

    file_name: str
    sheet: str
    unit: str | None
    rows_read: int
    changes: list[tuple] = field(default_factory=list)  # per changed field, DIFF_COLUMNS
    problems: list[Problem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    dry_run: bool = True
    all_or_nothing: bool = False
    written: bool = False
    skipped_unchanged_stale: int = 0
    skipped_other_units: int = 0  # rows of units the importer does not report for, unchanged

    @cached_property
    def diffs(self) -> pd.DataFrame:
        """One row per changed field (``DIFF_COLUMNS``), old and new as the user reads them.
        Built on first use (the page's preview, the CLI's list), not by the import: 100,000
        changes take a tenth of a second to frame, which a count or a summary never needs."""
        return diff_frame(self.changes)

    @property
    def changed_assignments(self) -> int:
        return len({change[0] for change in self.changes})

    rows_by_assignment: dict[int, int] = field(default_factory=dict)
    # task_id -> 〔2025〕11号·1-2 (tracker.labels) for the tasks the tables below name
    task_labels: dict[str, str] = field(default_factory=dict)

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
        counts = f"{self.changed_assignments} 条任务分工、{len(self.changes)} 个字段"
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
        if self.skipped_other_units:
            text += f"；其他单位的 {self.skipped_other_units} 行与系统一致，已跳过"
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


@gc_paused()
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
    Runs without cyclic garbage collection (:mod:`tracker.gc_pause`).
    """
    if not isinstance(user, Account):  # checked before the file is read, not after
        raise PermissionDenied("请先登录：每次导入都必须对应一个已登录的账号")
    pkg = open_package(source, file_name)
    parsed = read_sheet(pkg)
    names: dict[str, str] = {}  # task_id -> label, from the same reads as the matching
    updates, match_problems, kept_theirs = plan_updates(store, parsed, names)
    problems = [*parsed.problems, *match_problems]
    result = ImportResult(
        file_name=file_name,
        sheet=parsed.sheet,
        unit=parsed.unit,
        rows_read=parsed.data_rows,
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
            return _named(result, names)
        except ConflictError as exc:
            result.conflicts.extend(exc.conflicts)
            return _named(result, names)
        result.written = len(applied.changes) > 0
    result.changes = applied.changes
    result.skipped_other_units = applied.other_units_unchanged
    result.problems.extend(applied.problems)
    result.conflicts.extend(applied.conflicts)
    result.warnings.extend(applied.warnings)
    return _named(_count_untouched(result, kept_theirs), names)


def _named(result: ImportResult, names: dict[str, str]) -> ImportResult:
    """The result with the labels of the tasks its tables name (people know a task by its
    文号 and measure; the file's 任务编号 stays beside it)."""
    ids = {
        *map(str, {change[1] for change in result.changes}),
        *(p.task_id for p in result.problems if p.task_id),
        *(c.task_id for c in result.conflicts),
    }
    result.task_labels = {i: names[i] for i in ids if i in names}
    return result


def _count_untouched(result: ImportResult, kept_theirs: set[int]) -> ImportResult:
    """Rows that neither change nor conflict because someone else's newer values were kept."""
    if not kept_theirs:
        return result
    touched = {int(change[0]) for change in result.changes} | {
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
    Column("task", TASK_LABEL, 16),
    Column("task_id", TASK_ID_HEADER, 18),
    Column("message", "原因", 60, style="r_wrap"),
]
CONFLICT_COLUMNS = [
    Column("row", "行号", 7, "int", "r_int"),
    Column("task", TASK_LABEL, 16),
    Column("task_id", TASK_ID_HEADER, 18),
    Column("unit", UNIT_HEADER, 14),
    Column("base_version", "模板版本", 9, "int", "r_int"),
    Column("current_version", "当前版本", 9, "int", "r_int"),
    Column("updated_by", "修改人", 10),
    Column("theirs", "对方的值（当前）", 36, style="r_wrap"),
    Column("mine", "您的修改（未保存）", 36, style="r_wrap"),
]


def diffs_frame(result: ImportResult) -> pd.DataFrame:
    """The preview table: one row per changed field, old -> new, with Chinese headers; the
    task by its label, its 任务编号 last (a page shows it on request)."""
    diffs = result.diffs
    return pd.DataFrame(
        {
            "行号": diffs["row"],
            TASK_LABEL: diffs["task_id"].astype(str).map(result.task_labels).fillna(""),
            UNIT_HEADER: diffs["unit"],
            "字段": diffs["field"].map(PROGRESS_FIELDS).fillna(diffs["field"]),
            "原值": diffs["old"],
            "新值": diffs["new"],
            TASK_ID_HEADER: diffs["task_id"],
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
            "task": result.task_labels.get(p.task_id or "", ""),
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
            "task": result.task_labels.get(c.task_id, ""),
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
