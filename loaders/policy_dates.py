"""Deadlines a policy states: ``完成时限：2025年底`` in a clause, ``到2026年6月`` in a task."""

from __future__ import annotations

import calendar
import re
from datetime import date

from loaders.policy_patterns import (
    _ISO_DATE_RE,
    _WS_RE,
)

# Deadlines: 2025年底(前), 到2026年6月, 2026年6月底, 2026年上半年, 2026年第三季度, 2027年基本建成.
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_DEADLINE_RE = re.compile(
    r"(?P<pre>截至|截止到|截止|力争到|力争在|力争|争取到|争取|确保到|确保|到|至)?"
    r"(?P<y>20\d{2})年"
    r"(?:(?P<half>上半年|下半年)|第?(?P<q>[一二三四1-4])季度|(?P<m>1[0-2]|0?[1-9])月(?:(?P<d>[0-3]?\d)日)?)?"
    r"(?P<end>年底|年末|底|末)?"
    r"(?P<post>之前|以前|前|以来|以后|开始|内|起|后)?"
    r"(?P<verb>(?:基本|全面|初步|率先|全部|逐步)?(?:完成|建成|实现|达到|形成|覆盖|落地|出台|上线))?"
)
_MONTH_RE = re.compile(r"(?P<m>1[0-2]|0?[1-9])月(?:(?P<d>[0-3]?\d)日)?(?:底|末)?")
_YEAR_END_RE = re.compile(r"年底|年末")
_DUE_FIELD_RE = re.compile(
    r"(?:完成时限|完成时间|完成期限|时间节点)\s*[:：]\s*(?P<v>[^。；;，,）)\n]+)"
)
_NOT_DEADLINE_POST = frozenset({"以来", "以后", "开始", "起", "后"})
_DEADLINE_POST = frozenset({"之前", "以前", "前", "内"})


def _iso(y: str, m: str, d: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def _first_date(value: str) -> date | None:
    match = _ISO_DATE_RE.search(_WS_RE.sub("", value))
    return _iso(match["y"], match["m"], match["d"]) if match else None


def _period_end(
    year: int, half: str | None, quarter: str | None, month: str | None, day: str | None
) -> date | None:
    """Last day of the year, half, quarter or month named; the day itself when given."""
    if half:
        return date(year, 6, 30) if half == "上半年" else date(year, 12, 31)
    if quarter:
        last_month = ("一二三四".find(quarter) + 1 or int(quarter)) * 3
        return date(year, last_month, calendar.monthrange(year, last_month)[1])
    if month:
        m = int(month)
        if day:
            try:
                return date(year, m, int(day))
            except ValueError:
                return None
        return date(year, m, calendar.monthrange(year, m)[1])
    return date(year, 12, 31)


def due_from_field(value: str, year: int | None = None) -> date | None:
    """The deadline a 完成时限 field gives, or None (``持续推进``, ``长期``).

    ``year`` fills in a value without one (``6月底``); with several dates the latest counts.

    >>> due_from_field("2025年底"), due_from_field("2026年6月"), due_from_field("持续推进")
    (datetime.date(2025, 12, 31), datetime.date(2026, 6, 30), None)
    >>> due_from_field("6月底", 2026)
    datetime.date(2026, 6, 30)
    """
    value = _WS_RE.sub("", value.translate(_FULLWIDTH_DIGITS))
    dates = [
        _period_end(int(m["y"]), m["half"], m["q"], m["m"], m["d"])
        for m in _DEADLINE_RE.finditer(value)
    ]
    if not dates and year is not None:
        month = _MONTH_RE.search(value)
        if month:
            dates.append(_period_end(year, None, None, month["m"], month["d"]))
        elif _YEAR_END_RE.search(value):
            dates.append(date(year, 12, 31))
    found = [d for d in dates if d is not None]
    return max(found) if found else None


def due_from_text(text: str) -> date | None:
    """The deadline a task text states (``2025年底前``, ``到2026年6月``, ``2027年基本建成``,
    ``完成时限：…``), or None; dates that only start something (``自2025年起``) do not count.
    With several deadlines the latest, the task's end, counts.

    >>> due_from_text("到2026年6月，建成10个示范平台；2025年底前完成方案。")
    datetime.date(2026, 6, 30)
    >>> due_from_text("自2025年1月1日起施行。") is None
    True
    """
    if "年" not in text and "：" not in text and ":" not in text:
        return None  # most tasks: no year, no field
    text = _WS_RE.sub("", text.translate(_FULLWIDTH_DIGITS))
    found: list[date] = []
    for match in _DEADLINE_RE.finditer(text):
        post = match["post"]
        if post in _NOT_DEADLINE_POST or text[match.start() - 1 : match.start()] in ("自", "从"):
            continue
        if match["pre"] or match["end"] or match["verb"] or post in _DEADLINE_POST:
            due = _period_end(int(match["y"]), match["half"], match["q"], match["m"], match["d"])
            if due is not None:
                found.append(due)
    for match in _DUE_FIELD_RE.finditer(text):
        due = due_from_field(match["v"])
        if due is not None:
            found.append(due)
    return max(found) if found else None
