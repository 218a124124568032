"""``data/measures.csv``: one row per task x responsible unit, built from parsed policies.

The CSV is the hand-off between the parser and everything else (database seed, dashboard,
exports), so its bytes must be stable: fixed column order, UTF-8 with BOM (Excel opens it),
``\\n`` line endings, ints as ints and missing values as empty strings, never NaN.

``due_hint`` (the deadline the policy text states for a task, ISO date or "") came later than
the other columns: a CSV written before it still reads, with the column blank.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

import numpy as np
import pandas as pd

from loaders.policy_text import (
    ParseWarning,
    Policy,
    PolicyParseError,
    PolicyParseErrors,
    Task,
    decode_policy,
    parse_policy,
)
from loaders.units import UNKNOWN_KIND, UnitInfo, UnitRegistry
from tracker.errors import TrackerError
from tracker.gc_pause import gc_paused
from tracker.schema import LEAD, MEASURE_COLUMNS

INT_COLUMNS: tuple[str, ...] = ("section_no", "measure_no", "task_seq", "unit_rank")
STR_COLUMNS: tuple[str, ...] = tuple(c for c in MEASURE_COLUMNS if c not in INT_COLUMNS)
# Columns added after measures.csv was first published, filled when an older file lacks them.
OPTIONAL_COLUMNS: dict[str, str] = {"due_hint": ""}
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class BuildResult:
    """The measures table plus what the summary line and the warnings need."""

    frame: pd.DataFrame
    policies: list[Policy]
    warnings: list[ParseWarning] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        df = self.frame
        return {
            "policies": len(self.policies),
            "measures": sum(len(p.measures) for p in self.policies),
            "tasks": sum(len(p.tasks) for p in self.policies),
            "rows": len(df),
            "lead_rows": int((df["role"] == LEAD).sum()),
            "units": int(df["unit"].nunique()),
        }


def task_id(policy_id: str, measure_no: int, task_seq: int) -> str:
    """Readable, stable task id: ``hufubanfa-2025-11-m01-t1``."""
    return f"{policy_id}-m{measure_no:02d}-t{task_seq}"


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def _task_units(
    task: Task,
    policy: Policy,
    registry: UnitRegistry,
    resolved: dict[str, UnitInfo],
    reported: set[str],
    warnings: list[ParseWarning],
) -> dict[str, tuple[UnitInfo, str]]:
    """A task's units as registered, one per registered unit with its role (lead wins), each
    looked up once per policy (``resolved``); a warning for each unit first met unregistered
    or by another name (``reported``)."""
    named: dict[str, tuple[UnitInfo, str]] = {}  # one row per registered unit
    for ref in task.units:
        info = resolved.get(ref.unit) or resolved.setdefault(ref.unit, registry.resolve(ref.unit))
        if ref.unit not in reported and (info.kind == UNKNOWN_KIND or info.unit != ref.unit):
            reported.add(ref.unit)
            message = (
                f"未登记单位「{ref.unit}」，已按原名保留"
                if info.kind == UNKNOWN_KIND
                else f"单位「{ref.unit}」按单位表记为「{info.unit}」"
            )
            warnings.append(ParseWarning(message, policy.name, task.line))
        if info.unit not in named or ref.role == LEAD:
            role = ref.role if info.unit not in named else LEAD
            named[info.unit] = (info, role)
    return named


# The table's columns by the level they belong to: a task's (its policy's, section's and
# measure's included) and a named unit's; ``unit_rank`` is the unit's place in its task.
_TASK_COLUMNS: list[str] = [*MEASURE_COLUMNS[: MEASURE_COLUMNS.index("unit")], "due_hint"]
_UNIT_COLUMNS: list[str] = ["unit", "unit_full_name", "unit_kind", "role"]


@dataclass
class _Levels:
    """The table by level: one tuple per task, one per distinct (unit, role), and for each row
    its task, its (unit, role) and its rank.  A row's 21 values are gathered by Arrow from the
    two small tables (:meth:`frame`), not put into a tuple each in Python: at 1,000 policies
    (72,000 rows) that is a third less time."""

    tasks: list[tuple] = field(default_factory=list)
    units: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    row_task: list[int] = field(default_factory=list)
    row_unit: list[int] = field(default_factory=list)
    row_rank: list[int] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)

    def add(self, policy: Policy, registry: UnitRegistry) -> None:
        """One policy's rows in table order, and a warning for every unregistered unit and
        every unit named by another name (full name, alias): the row carries the registered
        short name, once per task."""
        reported: set[str] = set()
        resolved: dict[str, UnitInfo] = {}
        head = (
            policy.policy_id,
            policy.title,
            policy.doc_no,
            policy.issuer,
            _iso(policy.issue_date),
            _iso(policy.effective_from),
            _iso(policy.effective_to),
            policy.source_url,
        )
        for section in policy.sections:
            for measure in section.measures:
                for task in measure.tasks:
                    named = _task_units(task, policy, registry, resolved, reported, self.warnings)
                    task_no = len(self.tasks)
                    self.tasks.append(
                        (
                            *head,
                            section.no,
                            section.title,
                            measure.no,
                            measure.title,
                            task_id(policy.policy_id, measure.no, task.seq),
                            task.seq,
                            task.text,
                            _iso(task.due),
                        )
                    )
                    for rank, (info, role) in enumerate(named.values(), 1):
                        key = (info.unit, info.full_name, info.kind, role)
                        self.row_task.append(task_no)
                        self.row_unit.append(self.units.setdefault(key, len(self.units)))
                        self.row_rank.append(rank)

    def frame(self) -> pd.DataFrame:
        """The rows, columns in MEASURE_COLUMNS order."""
        tasks = pd.DataFrame.from_records(self.tasks, columns=_TASK_COLUMNS)
        units = pd.DataFrame.from_records(list(self.units), columns=_UNIT_COLUMNS)
        out = pd.concat(
            [
                tasks.take(np.asarray(self.row_task, dtype=np.intp)).reset_index(drop=True),
                units.take(np.asarray(self.row_unit, dtype=np.intp)).reset_index(drop=True),
            ],
            axis=1,
        )
        out["unit_rank"] = np.asarray(self.row_rank, dtype=np.int64)
        return out[MEASURE_COLUMNS]


def normalize_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Exactly MEASURE_COLUMNS in order; int64 counters, str text with "" for missing.

    An optional column missing from ``df`` (an older CSV) is filled with its default;
    ``due_hint`` must be blank or an ISO date.
    """
    missing = [c for c in MEASURE_COLUMNS if c not in df.columns and c not in OPTIONAL_COLUMNS]
    if missing:
        raise TrackerError(f"measures 表缺少列：{'、'.join(missing)}")
    out = df.reindex(columns=MEASURE_COLUMNS)
    for col, default in OPTIONAL_COLUMNS.items():
        if col not in df.columns:
            out[col] = default
    for col in INT_COLUMNS:
        try:
            out[col] = pd.to_numeric(out[col], errors="raise").astype("int64")
        except (ValueError, TypeError) as exc:
            raise TrackerError(f"列「{col}」应为整数") from exc
    for col in STR_COLUMNS:
        out[col] = out[col].fillna("").astype(str)
    out = out.reset_index(drop=True)
    _check_dates(out, "due_hint")
    return out


def _check_dates(df: pd.DataFrame, col: str) -> None:
    """Every value of ``col`` is "" or a real ISO date; the error names the first bad row."""
    for value in set(df[col].unique()) - {""}:
        try:
            ok = bool(_ISO_DATE_RE.fullmatch(value)) and date.fromisoformat(value) is not None
        except ValueError:
            ok = False
        if not ok:
            row = int(df.index[df[col] == value][0]) + 2  # header is CSV line 1
            raise TrackerError(
                f"列「{col}」的值「{value}」不是日期（应为 YYYY-MM-DD 或留空）", row=row, column=col
            )


def policies_frame(
    policies: Iterable[Policy], registry: UnitRegistry
) -> tuple[pd.DataFrame, list[ParseWarning]]:
    """The measures table for ``policies`` (in the given order), and a warning for every
    unregistered unit and every unit named by another name."""
    levels = _Levels()
    for policy in policies:
        levels.add(policy, registry)
    return normalize_frame(levels.frame()), levels.warnings


def build_measures(sources: Iterable[tuple[str, bytes]], registry: UnitRegistry) -> BuildResult:
    """Decode and parse every ``(file name, bytes)`` source and build the table in memory.

    Every source is parsed even after one fails, and one error lists the problems of all of
    them (:class:`PolicyParseErrors`, or the single problem), so callers write nothing on
    failure and the user sees every bad file at once.
    """
    with gc_paused():  # the parsed policies live to the end: see tracker/gc_pause.py
        policies: list[Policy] = []
        problems: list[TrackerError] = []
        for name, data in sources:
            try:
                policies.append(parse_policy(decode_policy(data, name), name))
            except PolicyParseError as exc:
                problems.append(exc)
        ids: dict[str, str] = {}
        for policy in policies:
            if policy.policy_id in ids:
                problems.append(
                    PolicyParseError(
                        f"政策编号「{policy.policy_id}」与 {ids[policy.policy_id]} 重复",
                        file=policy.name,
                    )
                )
            ids.setdefault(policy.policy_id, policy.name)
        if problems:
            raise PolicyParseErrors.of(problems)
        frame, unit_warnings = policies_frame(policies, registry)
        warnings = [w for p in policies for w in p.warnings] + unit_warnings
        return BuildResult(frame, policies, warnings)


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """The table as UTF-8-with-BOM CSV bytes, columns in MEASURE_COLUMNS order."""
    text = normalize_frame(df).to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8-sig")


def read_measures(buf: bytes | BinaryIO, name: str = "measures.csv") -> pd.DataFrame:
    """Read a measures CSV (bytes or binary file) back with the dtypes :func:`to_csv_bytes` wrote."""
    data = buf if isinstance(buf, bytes) else buf.read()
    try:
        df = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise TrackerError(f"无法读取 measures 表：{exc}", file=name) from exc
    try:
        return normalize_frame(df)
    except TrackerError as exc:
        raise TrackerError(exc.message, file=name, row=exc.row, column=exc.column) from exc
