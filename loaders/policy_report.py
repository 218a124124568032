"""The confidence report of a parsed policy: what a publisher should check at a glance.

Counts (measures, tasks, rows, unregistered units, skipped lines) and every heuristic that
changed what was read (a cited 文号 ignored, web chrome stripped, junk before numbers cut, an
implicit measure, ...), each with the lines it fired on.  A pure function of the draft's
policy and rows, shown on 政策库 and printed by ``loaders add``.

>>> from loaders.policy_text import parse_policy
>>> policy = parse_policy("当前位置：首页\\n（一）做好甲。（责任单位：市科委）\\n", "a.md")
>>> print("\\n".join(confidence_report(policy).lines()))
1 条措施，1 项任务，0 条分工行，0 个未登记单位，跳过 1 行
去除网页导航文字：1 处（第 1 行）
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from loaders.policy_records import CHROME, HEURISTICS, INCOMPLETE, Policy
from loaders.units import UNKNOWN_KIND


@dataclass(frozen=True)
class Heuristic:
    """One heuristic that fired: its kind, its label, and the lines it fired on."""

    kind: str
    label: str
    lines: tuple[int, ...]

    def __str__(self) -> str:
        where = "、".join(f"第 {n} 行" for n in self.lines[:10] if n)
        more = " 等" if len(self.lines) > 10 else ""
        return f"{self.label}：{len(self.lines)} 处" + (f"（{where}{more}）" if where else "")


@dataclass(frozen=True)
class ConfidenceReport:
    """How much was read and which heuristics fired; ``needs_confirmation`` when an item was
    left out (a cut-off last item) and the publisher must confirm against the original."""

    measures: int
    tasks: int
    rows: int
    unregistered_units: int
    skipped_lines: int
    heuristics: tuple[Heuristic, ...]

    @property
    def needs_confirmation(self) -> bool:
        return any(h.kind == INCOMPLETE for h in self.heuristics)

    def lines(self) -> list[str]:
        """The report as short Chinese lines, counts first."""
        head = (
            f"{self.measures} 条措施，{self.tasks} 项任务，{self.rows} 条分工行，"
            f"{self.unregistered_units} 个未登记单位，跳过 {self.skipped_lines} 行"
        )
        return [head, *(str(h) for h in self.heuristics)]


def confidence_report(policy: Policy, frame: pd.DataFrame | None = None) -> ConfidenceReport:
    """The report for ``policy``; ``frame`` is its rows of the measures table (unit kinds
    resolved against the register), when there are any."""
    fired: dict[str, list[int]] = {}
    for warning in policy.warnings:
        if warning.kind in HEURISTICS:
            fired.setdefault(warning.kind, []).append(warning.line or 0)
    heuristics = tuple(
        Heuristic(kind, label, tuple(fired[kind]))
        for kind, label in HEURISTICS.items()
        if kind in fired
    )
    unregistered = 0
    rows = 0
    if frame is not None and len(frame):
        rows = len(frame)
        unregistered = int(frame.loc[frame["unit_kind"] == UNKNOWN_KIND, "unit"].nunique())
    return ConfidenceReport(
        measures=len(policy.measures),
        tasks=len(policy.tasks),
        rows=rows,
        unregistered_units=unregistered,
        skipped_lines=len(fired.get(CHROME, [])),
        heuristics=heuristics,
    )
