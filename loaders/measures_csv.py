"""``data/measures.csv``: one row per task x responsible unit, built from parsed policies.

The CSV is the hand-off between the parser and everything else (database seed, dashboard,
exports), so its bytes must be stable: fixed column order, UTF-8 with BOM (Excel opens it),
``\\n`` line endings, ints as ints and missing values as empty strings, never NaN.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

import pandas as pd

from loaders.policy_text import ParseWarning, Policy, decode_policy, parse_policy
from loaders.units import UNKNOWN_KIND, UnitInfo, UnitRegistry
from tracker.errors import TrackerError
from tracker.schema import LEAD, MEASURE_COLUMNS

INT_COLUMNS: tuple[str, ...] = ("section_no", "measure_no", "task_seq", "unit_rank")
STR_COLUMNS: tuple[str, ...] = tuple(c for c in MEASURE_COLUMNS if c not in INT_COLUMNS)


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


def policy_rows(policy: Policy, registry: UnitRegistry) -> tuple[list[tuple], list[ParseWarning]]:
    """Rows of one policy in table order (tuples in MEASURE_COLUMNS order), and a warning for
    every unregistered unit."""
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
                for ref in task.units:
                    info = resolved.get(ref.unit) or resolved.setdefault(
                        ref.unit, registry.resolve(ref.unit)
                    )
                    if info.kind == UNKNOWN_KIND and ref.unit not in reported:
                        reported.add(ref.unit)
                        warnings.append(
                            ParseWarning(
                                f"未登记单位「{ref.unit}」，已按原名保留", policy.name, task.line
                            )
                        )
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
                            ref.unit,
                            info.full_name,
                            info.kind,
                            ref.role,
                            ref.rank,
                        )
                    )
    return rows, warnings


def normalize_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Exactly MEASURE_COLUMNS in order; int64 counters, str text with "" for missing."""
    missing = [c for c in MEASURE_COLUMNS if c not in df.columns]
    if missing:
        raise TrackerError(f"measures 表缺少列：{'、'.join(missing)}")
    out = df[MEASURE_COLUMNS].copy()
    for col in INT_COLUMNS:
        try:
            out[col] = pd.to_numeric(out[col], errors="raise").astype("int64")
        except (ValueError, TypeError) as exc:
            raise TrackerError(f"列「{col}」应为整数") from exc
    for col in STR_COLUMNS:
        out[col] = out[col].fillna("").astype(str)
    return out.reset_index(drop=True)


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

    Raises PolicyParseError on the first bad source, so callers write nothing on failure.
    """
    policies = [parse_policy(decode_policy(data, name), name) for name, data in sources]
    ids: dict[str, str] = {}
    for policy in policies:
        if policy.policy_id in ids:
            raise TrackerError(
                f"政策编号「{policy.policy_id}」与 {ids[policy.policy_id]} 重复", file=policy.name
            )
        ids[policy.policy_id] = policy.name
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
        raise TrackerError(exc.message, file=name) from exc
