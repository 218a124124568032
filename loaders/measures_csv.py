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


def policy_rows(policy: Policy, registry: UnitRegistry) -> tuple[list[tuple], list[ParseWarning]]:
    """Rows of one policy in table order (tuples in MEASURE_COLUMNS order), and a warning for
    every unregistered unit and every unit named by another name (full name, alias): the
    row carries the registered short name, once per task."""
    rows: list[tuple] = []
    warnings: list[ParseWarning] = []
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
                tid = task_id(policy.policy_id, measure.no, task.seq)
                due_hint = _iso(task.due)
                named = _task_units(task, policy, registry, resolved, reported, warnings)
                for rank, (info, role) in enumerate(named.values(), 1):
                    rows.append(
                        (
                            *head,
                            section.no,
                            section.title,
                            measure.no,
                            measure.title,
                            tid,
                            task.seq,
                            task.text,
                            info.unit,
                            info.full_name,
                            info.kind,
                            role,
                            rank,
                            due_hint,
                        )
                    )
    return rows, warnings


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
    """The measures table for ``policies`` (in the given order)."""
    rows: list[tuple] = []
    warnings: list[ParseWarning] = []
    for policy in policies:
        policy_rows_, policy_warnings = policy_rows(policy, registry)
        rows.extend(policy_rows_)
        warnings.extend(policy_warnings)
    frame = pd.DataFrame.from_records(rows, columns=MEASURE_COLUMNS)
    return normalize_frame(frame), warnings


def build_measures(sources: Iterable[tuple[str, bytes]], registry: UnitRegistry) -> BuildResult:
    """Decode and parse every ``(file name, bytes)`` source and build the table in memory.

    Every source is parsed even after one fails, and one error lists the problems of all of
    them (:class:`PolicyParseErrors`, or the single problem), so callers write nothing on
    failure and the user sees every bad file at once.
    """
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
