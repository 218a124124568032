"""What parsing a policy text gives: sections, measures, tasks, warnings, and the errors."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePath

from loaders.policy_patterns import _FILENAME_RE
from loaders.units import (
    UnitRef,
)
from tracker.errors import PolicyParseError, TrackerError

# The heuristics whose firing a publisher should check (ParseWarning.kind); the confidence
# report (loaders.policy_report) counts them, in this order, with these labels.
CITED_DOC_NO = "cited_doc_no"
CHROME = "chrome"
PREFIX = "prefix"
QUOTES = "quotes"
IMPLICIT_MEASURE = "implicit_measure"
RESTART = "restart"
SUBGROUP = "subgroup"
JOINED_UNITS = "joined_units"
INCOMPLETE = "incomplete"
FILE_NAME_DATE = "file_name_date"
HEURISTICS: dict[str, str] = {
    CITED_DOC_NO: "忽略所引文件的文号",
    CHROME: "去除网页导航文字",
    PREFIX: "去除编号前或行首的乱码",
    QUOTES: "归位 PDF 引号",
    IMPLICIT_MEASURE: "无编号条款归入隐含措施",
    RESTART: "编号重新开始或换用另一种编号，另起一部分",
    SUBGROUP: "子标题未计入任务内容",
    JOINED_UNITS: "拆分以“及/和”连接的单位",
    INCOMPLETE: "末项不完整（需发布者确认）",
    FILE_NAME_DATE: "成文日期取自文件名",
}


@dataclass
class Task:
    """One paragraph ending with a responsibility clause; ``line`` is where the clause opens.

    ``due`` is the deadline the text states (clause field first, else the task text), and
    ``due_text`` the clause's deadline field as written ("" when it has none).
    """

    seq: int
    text: str
    units: list[UnitRef]
    line: int
    due: date | None = None
    due_text: str = ""


@dataclass
class Measure:
    """A numbered measure （一） / 1. / 一、 with its title and tasks; ``no`` is its number."""

    no: int
    title: str
    line: int
    tasks: list[Task] = field(default_factory=list)


@dataclass
class Section:
    """A top-level part 一、…; measures before any section live in section 0."""

    no: int
    title: str
    line: int
    measures: list[Measure] = field(default_factory=list)


@dataclass(frozen=True)
class ParseWarning:
    """Something odd but not fatal (an unknown unit, a numbering gap, a measure without tasks)."""

    message: str
    file: str | None = None
    line: int | None = None
    kind: str = ""  # one of HEURISTICS when a heuristic changed what was read, else ""

    def __str__(self) -> str:
        where = ", ".join(p for p in (self.file, f"line {self.line}" if self.line else None) if p)
        return f"{where}: {self.message}" if where else self.message


@dataclass
class Policy:
    """One published policy document and everything parsed from it."""

    policy_id: str
    name: str
    title: str
    doc_no: str
    issuer: str
    issue_date: date | None
    effective_from: date | None
    effective_to: date | None
    source_url: str
    sections: list[Section] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)

    @property
    def measures(self) -> list[Measure]:
        return [m for s in self.sections for m in s.measures]

    @property
    def tasks(self) -> list[Task]:
        return [t for m in self.measures for t in m.tasks]


class PolicyParseErrors(PolicyParseError):
    """Every problem found in one file, or in all files of a build; ``problems`` lists them.

    >>> err = PolicyParseErrors.of(
    ...     [PolicyParseError("甲", file="a.md", line=2), PolicyParseError("乙", file="b.md", line=1)]
    ... )
    >>> print(err)
    2 个文件共 2 处错误：
    - a.md, line 2: 甲
    - b.md, line 1: 乙
    """

    def __init__(self, problems: list[TrackerError]) -> None:
        self.problems = list(problems)
        files = list(dict.fromkeys(p.file for p in self.problems if p.file))
        count = f"共 {len(self.problems)} 处错误："
        if len(files) == 1:
            super().__init__(count, file=files[0])
        else:
            super().__init__(f"{len(files)} 个文件{count}")

    def __str__(self) -> str:
        return super().__str__() + "".join(f"\n- {p}" for p in self.problems)

    @classmethod
    def of(cls, problems: list[TrackerError]) -> TrackerError:
        """One error for ``problems``: the problem itself when there is one, else all of them."""
        flat: list[TrackerError] = []
        for problem in problems:
            flat.extend(problem.problems if isinstance(problem, PolicyParseErrors) else [problem])
        return flat[0] if len(flat) == 1 else cls(flat)


def policy_id_from_name(name: str) -> str:
    """ASCII id from the file name: ``2025-05-27_hufubanfa-2025-11.md`` -> ``hufubanfa-2025-11``.

    Names not in the dated form are slugged; a stem with no ASCII letters or digits gets a
    stable hash so two such files never share an id.
    """
    stem = PurePath(name).stem
    match = _FILENAME_RE.match(stem)
    if match:
        stem = match.group("slug")
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    if slug:
        return slug
    return "policy-" + hashlib.sha1(PurePath(name).stem.encode("utf-8")).hexdigest()[:8]
