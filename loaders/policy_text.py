"""Parse a published policy text into metadata, sections, measures and tasks.

Two source shapes occur and are told apart by structure, not by file name:

* a web page saved as Markdown: a ``**key**: value`` metadata header, bold headings, one
  paragraph per task separated by blank lines;
* text extracted from a PDF ("hard-wrapped"): lines break inside words and unit lists, page
  numbers (``- 5 -``) sit between lines and blank lines carry no meaning.

Numbering is recognised generically.  Four kinds of marker open a line, outermost first:
``一、``, ``（一）``, ``1.``/``1、`` and ``（1）``.  When ``一、`` and a deeper kind both occur, the
``一、`` items are sections and, within each section, the outermost deeper kind present numbers
the measures (a section with no deeper marker but with clauses is a measure of its own);
otherwise the outermost kind present numbers the measures.  Deeper markers are measure text.

A task is the text up to a responsibility clause: ``（责任单位：…）`` in any bracket (（）() 〔〕
［］【】), ``（A牵头，B配合）`` without a keyword, or ``责任单位：A、B。`` without brackets at the
end of a paragraph or on lines of its own (``牵头单位：X`` / ``配合单位：Y``).  A deadline in the
clause (``完成时限：2025年底``) or in the task text (``到2026年6月``) becomes the task's ``due``.

Traditional-script copies are converted to simplified characters (OpenCC) for parsing and for
unit names, which must match the register; task texts and titles keep the published
characters.  Everything is line-numbered so errors can say where, and all problems of a file
are reported together (:class:`PolicyParseErrors`).
"""

from __future__ import annotations

import calendar
import hashlib
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import PurePath

import opencc

from loaders.units import (
    DUE_KEYWORDS,
    LEAD,
    MAX_UNIT_LENGTH,
    UNIT_KEYWORDS,
    UnitRef,
    parse_clause,
)
from tracker.errors import PolicyParseError, TrackerError

# ---------------------------------------------------------------------------------------------
# Patterns.  Chinese numerals; digits, brackets and colons full- or half-width.
_CN_NUM = "〇零一二三四五六七八九十百"
_DIGIT = "[0-9０-９]"
SECTION, CN_PAREN, ARABIC, ARABIC_PAREN = range(4)  # marker kinds, outermost first
_MARKER_RE = re.compile(
    rf"(?P<k0>[{_CN_NUM}]+)\s*[、.．]"
    rf"|[（(]\s*(?:(?P<k1>[{_CN_NUM}]+)|(?P<k3>{_DIGIT}{{1,3}}))\s*[）)]"
    rf"|(?P<k2>{_DIGIT}{{1,3}})\s*(?:[、．]|\.(?!{_DIGIT}))"
)
_MARKER_FIRST = frozenset(_CN_NUM + "（(0123456789０１２３４５６７８９")
_KEYWORDS = "|".join(UNIT_KEYWORDS)
_OPENERS = "（(〔［[【"
_OPEN = r"[（(〔［\[【]"
# Where a clause starts: a bracket and a unit keyword; a bracket and a deadline field (a clause
# when a unit keyword follows, else part of the clause right before it); a keyword alone
# (checked to stand at a paragraph, line or sentence start); or a bracket holding "A牵头"
# (checked to be a list of units).
_CLAUSE_START_RE = re.compile(
    rf"(?P<open>{_OPEN})\s*(?:{_KEYWORDS})\s*[:：]"
    rf"|(?P<due_open>{_OPEN})(?=\s*(?:{'|'.join(DUE_KEYWORDS)})\s*[:：])"
    rf"|(?P<plain>{_KEYWORDS})\s*[:：]"
    r"|(?P<mark_open>[（(])(?=[^（）()。\n]{1,80}?(?:牵头|主责|负责)[^（）()。\n]{0,80}[）)])"
)
_CLAUSE_OPEN_RE = re.compile(rf"{_OPEN}\s*(?:{_KEYWORDS})\s*[:：]")
_KEYWORD_RE = re.compile(rf"(?:{_KEYWORDS})\s*[:：]")
# A deadline field right after a clause (…。完成时限：2025年12月。) belongs to that clause.
_DUE_AFTER_RE = re.compile(
    rf"[\s。；;，,]*(?P<field>(?:{'|'.join(DUE_KEYWORDS)})\s*[:：][^。\n（(〔［\[【]*)。?"
)
_PART_AT_RE = re.compile(rf"\s*(?:{_KEYWORDS}|{'|'.join(DUE_KEYWORDS)})\s*[:：]")
_CLAUSE_TOKEN_RE = re.compile(r"[（(〔［\[【）)〕］\]】。\n]")
_PLAIN_END_RE = re.compile(r"[。\n]")
_PUNCTUATION_RE = re.compile(r"[，。；：,;:]")
# What may stand before a clause without brackets: a sentence or bracket end.
_BEFORE_PLAIN = frozenset("。；;！!？?）)〕］]】\n")
# Between two clauses that belong together: （牵头单位：A）（配合单位：B）.
_GAP_CHARS = " 。，,；;、\n"
# A unit named in a keyword-less clause (（市科委牵头，各区政府配合）) ends like a unit does.
_UNIT_ENDINGS = frozenset("委局办部厅府院会室心团司关行署所处站队校馆社协联区镇道位门组")
_PAGE_NUMBER_RE = re.compile(
    r"^\s*(?:[-—–－]\s*\d{1,4}\s*[-—–－]|第\s*\d{1,4}\s*页(?:\s*共\s*\d+\s*页)?)\s*$"
)
_PAGE_NUMBER_FIRST = frozenset("-—–－第")
_META_RE = re.compile(r"^\s*\*\*(?P<key>[^*]{1,12}?)\*\*\s*[:：]\s*(?P<value>.*?)\s*$")
_FRONT_META_RE = re.compile(r"^\s*(?P<key>[^:：\s]{1,12})\s*[:：]\s*(?P<value>.*?)\s*$")
_H1_RE = re.compile(r"^#\s+(?P<title>.+?)\s*#*\s*$")
_BOLD_RUN_RE = re.compile(r"\*\*(?P<inner>[^*]+)\*\*")
_DOC_NO_RE = re.compile(
    r"(?P<org>[\u4e00-\u9fff]{1,12})\s*[〔\[［(（【]\s*(?P<year>\d{4})\s*[〕\]］)）】]\s*(?P<no>\d{1,4})\s*号"
)
_DATE_LINE_RE = re.compile(r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日$")
_ISO_DATE_RE = re.compile(r"(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?")
_CN_DATE = r"(\d{4})年(\d{1,2})月(\d{1,2})日"
_EFFECTIVE_RE = re.compile(
    rf"自{_CN_DATE}起(?:施行|实施|执行|生效)(?:[，,；;]?有效期(?:至|到){_CN_DATE})?"
)
_TITLE_QUOTE_RE = re.compile(r"《(?P<title>[^《》]{2,120})》")
# 《》 holding the document's own title: 关于印发《…》的通知, 现将《…》印发, 《…》已经市政府同意.
_OWN_BEFORE_RE = re.compile(r"(?:印发|转发|发布|现将|将)$")
_OWN_AFTER_RE = re.compile(r"^(?:已经|已|经|印发|现印发|现予印发|的通知)")
_CITED_BEFORE_RE = re.compile(r"根据|依据|按照|依照|遵照|贯彻|落实|参照|对照|执行")
# A title line at the top of the text: ends with the kind of document.
_DOC_TYPE_RE = re.compile(
    r"(?:意见|办法|措施|方案|通知|规定|细则|计划|要点|清单|决定|条例|纲要|规划|指引|指南|举措)"
    r"(?:[（(][^）)]{1,8}[）)])?$"
)
_URL_RE = re.compile(r"https?://[^\s)\]>\"']+")
_ISSUER_RE = re.compile(r"^[\u4e00-\u9fff（）()]{4,40}$")
_FILENAME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}_(?P<slug>.+)$")
# Whitespace next to a non-ASCII character is an extraction artefact; between ASCII words it
# is a real space.
_CJK_WS_RE = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")
_WS_RE = re.compile(r"\s+")
# A line that ends a sentence or a clause; used to tell hard-wrapped text from paragraphs.
_LINE_END_CHARS = "。；;！!？?）)”：:"
_PARAGRAPH_BREAK = "\n"  # marks a blank line in the stream of a paragraph-style text
_MAX_HEADING = 40  # a line longer than this is text, not a heading
_MAX_TITLE = 80  # a measure's leading sentence longer than this is text, not its title

ISSUER_KEYS = ("发布机构", "发文机关", "发布单位")
DATE_KEYS = ("成文日期", "发布日期")
URL_KEYS = ("原文链接", "来源链接", "链接")
TITLE_KEYS = ("标题", "文件名称")
DOC_NO_KEYS = ("文号", "发文字号")

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


# ---------------------------------------------------------------------------------------------
# Records


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


# ---------------------------------------------------------------------------------------------
# Small helpers


def decode_policy(data: bytes, name: str) -> str:
    """Bytes -> text: UTF-8 (BOM optional), else GB18030; binary data is refused, naming the file."""
    if b"\x00" in data:
        raise PolicyParseError("文件含有 NUL 字节，不是文本文件", file=name, line=1)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        bad = _CONTROL_RE.search(text)
        if bad is not None:
            line = text.count("\n", 0, bad.start()) + 1
            raise PolicyParseError(
                f"文件含有控制字符 U+{ord(bad.group()):04X}，不是文本文件", file=name, line=line
            )
        return text
    raise PolicyParseError("无法识别文件编码（已尝试 UTF-8、GB18030）", file=name, line=1)


# C0 controls other than whitespace, DEL and C1 controls: signs of a binary file.
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")


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


def cn_numeral(text: str) -> int:
    """Chinese numeral up to 999 (一, 十, 十六, 二十三, 一百零五) -> int."""
    digits = {
        "〇": 0,
        "零": 0,
        "一": 1,
        "二": 2,
        "三": 3,
        "四": 4,
        "五": 5,
        "六": 6,
        "七": 7,
        "八": 8,
        "九": 9,
    }
    total, current = 0, 0
    for ch in text:
        if ch in digits:
            current = digits[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + current


def clean_line(line: str) -> str:
    """Drop extraction whitespace: none next to Chinese text, single spaces between ASCII words."""
    line = line.strip()
    if not _WS_RE.search(line):  # most lines: nothing inside to clean
        return line
    return _WS_RE.sub(" ", _CJK_WS_RE.sub("", line)).strip()


def _strip_markup(line: str) -> str:
    return line.replace("**", "").replace("__", "")


def _iso(y: str, m: str, d: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def _first_date(value: str) -> date | None:
    match = _ISO_DATE_RE.search(_WS_RE.sub("", value))
    return _iso(match["y"], match["m"], match["d"]) if match else None


@cache
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """The text in simplified characters (OpenCC ``t2s``); simplified text comes back as is.

    >>> to_simplified("責任單位：市發展改革委（牽頭）")
    '责任单位：市发展改革委（牵头）'
    """
    return _to_simplified().convert(text)


def _split_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


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


# ---------------------------------------------------------------------------------------------
# Lines and the text stream


@dataclass
class _Marker:
    kind: int  # SECTION, CN_PAREN, ARABIC or ARABIC_PAREN
    number: int
    label: str  # as published: （三）, 3., 三、
    rest: int  # where the text after the marker starts in the line


@dataclass
class _Line:
    no: int  # 1-based line number in the source
    text: str  # simplified, markup stripped, extraction whitespace removed: what is parsed
    orig: str  # the same characters as published (always as long as ``text``)
    heading: bool = False  # a Markdown heading, or bold from end to end
    bold: int = 0  # length of a bold run opening the line
    marker: _Marker | None = None


def _marker(text: str, orig: str) -> _Marker | None:
    """The numbering marker opening a line, if any: 一、 （一） 1. 1、 （1）."""
    if not text or text[0] not in _MARKER_FIRST:
        return None
    match = _MARKER_RE.match(text)
    if match is None:
        return None
    try:
        if match["k0"] is not None:
            kind, number = SECTION, cn_numeral(match["k0"])
        elif match["k1"] is not None:
            kind, number = CN_PAREN, cn_numeral(match["k1"])
        elif match["k2"] is not None:
            kind, number = ARABIC, int(match["k2"])
        else:
            kind, number = ARABIC_PAREN, int(match["k3"])
    except ValueError:
        return None
    rest = match.end()
    while rest < len(text) and text[rest].isspace():
        rest += 1
    if number == 0 or (kind == SECTION and rest == len(text)):
        return None
    return _Marker(kind, number, orig[: match.end()], rest)


class _Stream:
    """Joined text of a run of lines that remembers which source line each character came from.

    ``text`` is what is parsed, ``orig`` the same characters as published, offset for offset.
    """

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.orig_parts: list[str] = []
        self.starts: list[int] = []
        self.lines: list[int] = []
        self.line_starts: list[int] = []  # where each source line's text begins
        self.length = 0
        self.has_text = False

    def add(self, text: str, orig: str, line: int) -> None:
        if not text:
            return
        prev = self.parts[-1][-1:] if self.parts else ""
        if prev and prev.isascii() and prev.isalnum() and text[0].isascii() and text[0].isalnum():
            text, orig = " " + text, " " + orig
        self.parts.append(text)
        self.orig_parts.append(orig)
        self.starts.append(self.length)
        self.lines.append(line)
        self.line_starts.append(self.length + (text[0] == " "))
        self.length += len(text)
        self.has_text = True

    def break_paragraph(self, line: int) -> None:
        if self.parts and self.parts[-1] != _PARAGRAPH_BREAK:
            self.parts.append(_PARAGRAPH_BREAK)
            self.orig_parts.append(_PARAGRAPH_BREAK)
            self.starts.append(self.length)
            self.lines.append(line)
            self.length += 1

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def orig(self) -> str:
        return "".join(self.orig_parts)

    def line_at(self, offset: int) -> int:
        if not self.lines:
            return 0
        return self.lines[max(0, bisect_right(self.starts, offset) - 1)]

    def is_line_start(self, offset: int) -> bool:
        index = bisect_left(self.line_starts, offset)
        return index < len(self.line_starts) and self.line_starts[index] == offset

    def next_line_start(self, offset: int) -> tuple[int, int] | None:
        """(start of the line before, start of the next line) for the first line break after
        ``offset``, or None."""
        index = bisect_right(self.line_starts, offset)
        if index >= len(self.line_starts):
            return None
        return self.line_starts[index - 1] if index else 0, self.line_starts[index]


@dataclass
class _Block:
    """One measure: its marker line and the lines up to the next marker of its kind or above."""

    head: _Line
    section: Section
    body: list[_Line] = field(default_factory=list)
    own_section: bool = False  # a 一、 section with no deeper marker, read as a measure

    @property
    def marker(self) -> _Marker:
        assert self.head.marker is not None
        return self.head.marker


def _is_wrapped(lines: list[_Line]) -> bool:
    """True for hard-wrapped (PDF) text: most body lines stop mid-sentence.

    Markers, headings, clause lines (``牵头单位：X``) and, before the first marker, lines
    without punctuation (a title, a document number) stop without a full stop in any layout.
    """
    body: list[str] = []
    started = False
    for line in lines:
        started = started or line.marker is not None
        text = line.text
        if not text or line.marker is not None or line.heading or _PART_AT_RE.match(text):
            continue
        if started or _PUNCTUATION_RE.search(text):
            body.append(text)
    if not body:
        return False
    # Short open lines (a document number, a signature, a date) occur in any layout.
    open_ended = sum(1 for t in body if t[-1] not in _LINE_END_CHARS and len(t) >= 12)
    return open_ended / len(body) > 0.25


def _line_width(lines: list[_Line]) -> int:
    """Typical length of a full line of hard-wrapped text (the upper quartile of line lengths)."""
    lengths = sorted(len(ln.text) for ln in lines if ln.text and ln.marker is None)
    return lengths[(len(lengths) * 3) // 4] if lengths else 0


def _has_sentence_after_title(rest: str) -> bool:
    """Whether a measure line carries body text after its title (``强化…作用。鼓励…``)."""
    end = rest.find("。")
    return 0 <= end < len(rest) - 1


def _task_text(segment: str) -> str:
    return segment.replace(_PARAGRAPH_BREAK, "").strip().lstrip("。；;，,、").strip()


def _measure_name(marker: _Marker) -> str:
    return f"措施「{marker.label}」"


# ---------------------------------------------------------------------------------------------
# The parser


class _Parser:
    def __init__(self, text: str, name: str) -> None:
        self.name = name
        self.warnings: list[ParseWarning] = []
        self.errors: list[TrackerError] = []
        self.meta: dict[str, tuple[str, str]] = {}  # key -> (value, value as published)
        self.h1 = self.h1_orig = ""
        simplified = to_simplified(text)
        self.lines = self._read_lines(text if simplified == text else simplified, text)
        self.wrapped = _is_wrapped(self.lines)
        self.line_width = _line_width(self.lines) if self.wrapped else 0
        if self.wrapped:
            self._drop_stray_markers()

    def error(self, message: str, line: int | None) -> PolicyParseError:
        return PolicyParseError(message, file=self.name, line=line or 1)

    def fail(self, message: str, line: int | None) -> None:
        """Record an error and go on, so one run reports every problem of the file."""
        self.errors.append(self.error(message, line))

    def warn(self, message: str, line: int | None = None) -> None:
        self.warnings.append(ParseWarning(message, self.name, line))

    # -- reading -------------------------------------------------------------------------------
    def _read_lines(self, text: str, original: str) -> list[_Line]:
        """Source lines without page numbers, with metadata and the H1 title taken out."""
        raw_lines = _split_lines(text)
        orig_lines = raw_lines if text is original else _split_lines(original)
        if len(orig_lines) != len(raw_lines):
            orig_lines = raw_lines
        out: list[_Line] = []
        front = bool(raw_lines) and raw_lines[0].strip() == "---"
        in_header = True
        for no, (raw, raw_orig) in enumerate(zip(raw_lines, orig_lines, strict=True), start=1):
            stripped = raw.strip()
            if not stripped and not front:
                out.append(_Line(no, "", ""))  # most blank lines: nothing else to look at
                continue
            if len(raw_orig) != len(raw):
                raw_orig = raw
            if front and no > 1 and stripped == "---":
                front = False
                continue
            if front:
                match = _FRONT_META_RE.match(raw)
                if match:
                    self.meta.setdefault(match["key"], _value(match, raw_orig))
                continue
            if in_header:
                h1 = _H1_RE.match(stripped)
                if h1 and not self.h1:
                    self.h1 = h1["title"]
                    offset = len(raw) - len(raw.lstrip())
                    self.h1_orig = raw_orig[offset + h1.start("title") : offset + h1.end("title")]
                    continue
                meta = _META_RE.match(raw)
                if meta:
                    self.meta.setdefault(meta["key"].strip(), _value(meta, raw_orig))
                    continue
                if stripped in ("---", "***", "___"):
                    continue
            if stripped[:1] in _PAGE_NUMBER_FIRST and _PAGE_NUMBER_RE.match(raw):
                continue
            line = _make_line(no, raw, raw_orig)
            if in_header and line.marker is not None:
                in_header = False
            out.append(line)
        return out

    def _drop_stray_markers(self) -> None:
        """In hard-wrapped text a line may start with ``2、`` or ``（三）`` by accident: keep a
        marker only where it continues its kind's numbering or follows a finished sentence."""
        last = [0, 0, 0, 0]
        fresh = [True, True, True, True]  # numbering of the kind may restart at 1
        prev = ""
        for line in self.lines:
            marker = line.marker
            if marker is not None:
                kind = marker.kind
                if (
                    marker.number == last[kind] + 1
                    or (marker.number == 1 and fresh[kind])
                    or (prev and prev[-1] in _LINE_END_CHARS)
                ):
                    last[kind] = marker.number
                    fresh[kind] = False
                    for deeper in range(kind + 1, 4):
                        fresh[deeper] = True
                else:
                    line.marker = None
            if line.text:
                prev = line.text

    # -- structure -----------------------------------------------------------------------------
    def parse(self) -> Policy:
        sections, blocks, loose = self._split_structure()
        self._check_loose(loose)
        numbered = self._number_measures(blocks)
        measures: list[tuple[_Block, Measure]] = []
        for i, block in enumerate(blocks):
            measure = self._parse_measure(block, last_in_document=i == len(blocks) - 1)
            measure.no = numbered[i]
            if block.own_section:
                block.section.title = measure.title or block.section.title
            block.section.measures.append(measure)
            measures.append((block, measure))
        self._check_measures_without_tasks(measures)
        sections = [s for s in sections if s.measures or s.no > 0]
        if not any(m.tasks for _, m in measures) and not self.errors:
            first = blocks[0].head.no if blocks else 1
            hint = "" if blocks else "；也未识别到措施编号（一、（一）1. （1））"
            raise self.error(f"未找到任何责任分工（责任单位：…）条款{hint}", first)
        return self._policy(sections)

    def _split_structure(self) -> tuple[list[Section], list[_Block], list[list[_Line]]]:
        """Sections, measure blocks, and the runs of lines that are in no measure."""
        kinds = {ln.marker.kind for ln in self.lines if ln.marker is not None}
        by_section = SECTION in kinds and len(kinds) > 1
        chunks: list[tuple[Section, _Line | None, list[_Line]]] = [(Section(0, "", 0), None, [])]
        last_section = 0
        for line in self.lines:
            marker = line.marker
            if by_section and marker is not None and marker.kind == SECTION:
                if marker.number <= last_section:
                    raise self.error(f"部分编号「{marker.label}」重复或倒序", line.no)
                if marker.number != last_section + 1:
                    self.warn(f"部分编号跳号：{last_section} 之后是 {marker.number}", line.no)
                last_section = marker.number
                title = line.orig[marker.rest :].strip("。 ")
                chunks.append((Section(marker.number, title, line.no), line, []))
            else:
                chunks[-1][2].append(line)
        blocks: list[_Block] = []
        loose: list[list[_Line]] = [[]]
        for section, head, lines in chunks:
            inner = {ln.marker.kind for ln in lines if ln.marker is not None}
            if inner:
                kind = min(inner)
                current: _Block | None = None
                for line in lines:
                    if line.marker is not None and line.marker.kind == kind:
                        current = _Block(line, section)
                        blocks.append(current)
                        loose.append([])
                    elif current is not None:
                        current.body.append(line)
                    else:
                        loose[-1].append(line)
            elif head is not None and _KEYWORD_RE.search("".join(ln.text for ln in lines)):
                blocks.append(_Block(head, section, lines, own_section=True))
                loose.append([])
            else:
                loose[-1].extend(lines)
                loose.append([])
        return [c[0] for c in chunks], blocks, [run for run in loose if run]

    def _number_measures(self, blocks: list[_Block]) -> list[int]:
        """Published numbers, checked; running numbers when they restart or kinds are mixed."""
        last: dict[int, int] = {}
        previous_section: Section | None = None
        restarted = False
        for block in blocks:
            marker = block.marker
            first_in_section = block.section is not previous_section
            previous_section = block.section
            if block.own_section:
                continue
            prev = last.get(marker.kind, 0)
            restart = marker.number == 1 and first_in_section and prev > 0
            if marker.number <= prev and not restart:
                raise self.error(f"措施编号「{marker.label}」重复或倒序", block.head.no)
            if not restart and marker.number != prev + 1:
                self.warn(f"措施编号跳号：{prev} 之后是「{marker.label}」", block.head.no)
            restarted = restarted or restart
            last[marker.kind] = marker.number
        kinds = {(b.marker.kind, b.own_section) for b in blocks}
        if restarted or len(kinds) > 1:
            return list(range(1, len(blocks) + 1))
        return [b.marker.number for b in blocks]

    def _check_loose(self, runs: list[list[_Line]]) -> None:
        """A clause outside every measure would be dropped: that is an error, not a warning."""
        for run in runs:
            stream = _Stream()
            for line in run:
                stream.add(line.text, line.orig, line.no)
            text = stream.text
            for match in _KEYWORD_RE.finditer(text):
                start = match.start()
                bracketed = start > 0 and text[start - 1] in _OPENERS
                if bracketed or self._plain_clause_allowed(text, start, stream):
                    self.fail(
                        "责任分工条款不在任何编号措施（一、（一）1. （1））之内，无法归入任务",
                        stream.line_at(start),
                    )

    def _check_measures_without_tasks(self, measures: list[tuple[_Block, Measure]]) -> None:
        """A measure without a clause between measures with clauses is a dropped item; before
        the first or after the last one it is framing (总体要求, 保障措施) and only warned."""
        with_tasks = [i for i, (_, m) in enumerate(measures) if m.tasks]
        for i, (block, measure) in enumerate(measures):
            if measure.tasks:
                continue
            message = f"{_measure_name(block.marker)}没有责任分工条款，未生成任务"
            if with_tasks and with_tasks[0] < i < with_tasks[-1]:
                self.fail(message, block.head.no)
            else:
                self.warn(message, block.head.no)

    # -- measures and tasks --------------------------------------------------------------------
    def _parse_measure(self, block: _Block, *, last_in_document: bool) -> Measure:
        head, marker = block.head, block.marker
        rest, rest_orig = head.text[marker.rest :], head.orig[marker.rest :]
        title: str | None = None
        if head.bold > marker.rest:  # **（一）标题**正文
            title = head.orig[marker.rest : head.bold]
            rest, rest_orig = head.text[head.bold :], head.orig[head.bold :]
        elif (
            rest
            and not _KEYWORD_RE.search(rest)
            and not _has_sentence_after_title(rest)
            and (not self.wrapped or self._is_short(head))
        ):
            # A heading line of its own: （一）推动科技创新资源开放
            title, rest, rest_orig = rest_orig, "", ""
        stream = _Stream()
        stream.add(rest, rest_orig, head.no)
        body = block.body
        for i, line in enumerate(body):
            if not line.text:
                if not self.wrapped:
                    stream.break_paragraph(line.no)
            elif self._is_heading(body, i, head):
                # A heading is not the text of the task under it.
                if title is None and not stream.has_text:
                    title = line.orig[line.marker.rest :] if line.marker else line.orig
                if not self.wrapped:
                    stream.break_paragraph(line.no)
            else:
                stream.add(line.text, line.orig, line.no)
        text, orig = stream.text, stream.orig
        clauses = self._clauses(text, stream)
        pos = 0
        if title is None:
            # Leading title: the first sentence, up to 。; still task text when nothing else is
            end = text.find("。")
            first = clauses[0][0] if clauses else len(text)
            if 0 <= end <= _MAX_TITLE and end < first:
                title = orig[:end].replace(_PARAGRAPH_BREAK, "")
                if _task_text(text[end + 1 : first]):
                    pos = end + 1
            else:
                title = ""
                self.warn(f"{_measure_name(marker)}没有可识别的标题", head.no)
        measure = Measure(marker.number, title.strip().rstrip("。"), head.no)
        for start, after, content, line_no in clauses:
            body_text = _task_text(orig[pos:start])
            clause = parse_clause(content)
            if not clause.units:
                self.fail("责任分工条款中没有责任单位", line_no)
            for ref in clause.units:
                if len(ref.unit) > MAX_UNIT_LENGTH:
                    self.fail(
                        f"责任单位名称超过{MAX_UNIT_LENGTH}个字符（「{ref.unit[:20]}…」），"
                        "请检查条款的分隔符和括号",
                        line_no,
                    )
            if not body_text:
                self.warn(f"{_measure_name(marker)}中有一条责任分工条款前没有任务内容", line_no)
            due = due_from_field(clause.due) if clause.due else due_from_text(text[pos:start])
            measure.tasks.append(
                Task(len(measure.tasks) + 1, body_text, clause.units, line_no, due, clause.due)
            )
            pos = after
        rest_text = _task_text(orig[pos:]).strip("。；;，, ")
        if measure.tasks and rest_text and not last_in_document:
            while pos < len(text) and text[pos] in _GAP_CHARS:
                pos += 1
            self.fail(
                f"{_measure_name(marker)}最后一个责任分工条款之后的文字未归入任何任务："
                f"「{rest_text[:20]}」",
                stream.line_at(pos),
            )
        return measure

    def _is_short(self, line: _Line) -> bool:
        """In wrapped text, a marker line well short of the line width ends there: a heading."""
        return "。" not in line.text and len(line.text) < 0.6 * self.line_width

    def _is_heading(self, body: list[_Line], i: int, head: _Line) -> bool:
        """Whether body line ``i`` is a heading paragraph (a sub-title), not task text."""
        line = body[i]
        text = line.text
        if "。" in text or _KEYWORD_RE.search(text):
            return False
        if line.heading:
            return True
        if len(text) > _MAX_HEADING or text[-1] in _LINE_END_CHARS or text[-1] in "，,、":
            return False
        after = next((ln for ln in body[i + 1 :] if ln.text), None)
        if after is None or _KEYWORD_RE.match(after.text) or _CLAUSE_OPEN_RE.match(after.text):
            return False  # nothing under it, or a clause right under it: it is the task text
        if self.wrapped:
            return line.marker is not None and self._is_short(line)
        before = head if i == 0 else body[i - 1]
        return not before.text or before.text[-1] in _LINE_END_CHARS

    def _clauses(self, text: str, stream: _Stream) -> list[tuple[int, int, str, int]]:
        """Every clause in a measure's text: (start, where the next task starts, the inside
        of the clause, its line).  Clauses with nothing between them are one clause."""
        found: list[tuple[int, int, str, int]] = []
        cursor = 0
        for match in _CLAUSE_START_RE.finditer(text):
            start = match.start()
            if start < cursor:
                continue  # inside the previous clause
            if match["plain"] is not None:
                if not self._plain_clause_allowed(text, start, stream):
                    continue
                end = self._plain_clause_end(text, match.end(), stream)
                content = text[start:end]
                after = end + 1 if text[end : end + 1] == "。" else end
            elif match["mark_open"] is not None:
                close = self._clause_end(text, match.end(), stream, strict=False)
                if close < 0 or not self._is_marked_clause(text, start, close):
                    continue
                content, after = text[start + 1 : close], close + 1
            elif match["due_open"] is not None:
                close = self._clause_end(text, match.end(), stream, strict=False)
                if close < 0:
                    continue
                content, after = text[start + 1 : close], close + 1
                follows = found and not text[found[-1][1] : start].strip(_GAP_CHARS)
                if not follows and not _KEYWORD_RE.search(content):
                    continue  # a deadline in the task text: due_from_text reads it there
            else:
                close = self._clause_end(text, match.end(), stream)
                content, after = text[start + 1 : close], close + 1
            due_after = _DUE_AFTER_RE.match(text, after)
            if due_after:
                content, after = f"{content}；{due_after['field']}", due_after.end()
            line = stream.line_at(start)
            if found and not text[found[-1][1] : start].strip(_GAP_CHARS):
                # （牵头单位：A）（配合单位：B） or a deadline bracket right after the clause
                first_start, _, first_content, first_line = found[-1]
                found[-1] = (first_start, after, f"{first_content}；{content}", first_line)
            else:
                found.append((start, after, content, line))
            cursor = after
        return found

    def _plain_clause_allowed(self, text: str, start: int, stream: _Stream) -> bool:
        """A keyword without brackets opens a clause only at a paragraph, line or sentence
        start (``…工作。责任单位：A、B。``), never inside prose."""
        i = start - 1
        while i >= 0 and text[i] in " \u3000":
            i -= 1
        return i < 0 or text[i] in _BEFORE_PLAIN or stream.is_line_start(start)

    def _plain_clause_end(self, text: str, start: int, stream: _Stream) -> int:
        """Where a clause without brackets ends: at 。, at a paragraph break, or at a line end
        unless the next line goes on with another field (``配合单位：…``, ``完成时限：…``).
        In hard-wrapped text only a short line ends there."""
        pos = start
        while True:
            stop_match = _PLAIN_END_RE.search(text, pos)
            stop = stop_match.start() if stop_match else len(text)
            boundary = stream.next_line_start(pos)
            if boundary is None or boundary[1] >= stop:
                return stop
            line_start, next_start = boundary
            short = not self.wrapped or next_start - line_start < 0.8 * self.line_width
            if short and not _PART_AT_RE.match(text, next_start):
                return next_start
            pos = next_start

    def _is_marked_clause(self, text: str, start: int, close: int) -> bool:
        """A bracket such as （市科委牵头，市教委配合） is a clause when it ends a sentence and
        holds nothing but unit names with role markers."""
        before = text[:start].rstrip(" ")
        after = text[close + 1 :].lstrip(" ")
        at_end = not after or after[0] in "。；;\n" or (bool(before) and before[-1] in "。；;")
        if not at_end:
            return False
        clause = parse_clause(text[start + 1 : close])
        return (
            clause.marked
            and any(u.role == LEAD for u in clause.units)
            and all(2 <= len(u.unit) <= 30 and u.unit[-1] in _UNIT_ENDINGS for u in clause.units)
        )

    def _clause_end(self, text: str, start: int, stream: _Stream, *, strict: bool = True) -> int:
        """Index of the bracket closing a clause; nested brackets (市交通委（市道运局）) allowed.

        A full stop, a paragraph break or the start of another clause before the closing
        bracket means the clause was never closed.
        """
        depth = 0
        for token in _CLAUSE_TOKEN_RE.finditer(text, start):
            ch = token.group()
            if ch in "。\n":
                break
            if ch in _OPENERS:
                if _CLAUSE_OPEN_RE.match(text, token.start()):
                    break
                depth += 1
            elif depth:
                depth -= 1
            else:
                return token.start()
        if not strict:
            return -1
        raise self.error("责任分工条款缺少右括号（条款未结束）", stream.line_at(start - 1))

    # -- metadata ------------------------------------------------------------------------------
    def _policy(self, sections: list[Section]) -> Policy:
        issuer, signed = self._signature()
        issuer = issuer or self._meta(ISSUER_KEYS)
        issue_date = signed or _first_date(self._meta(DATE_KEYS, published=False))
        if issue_date is None:
            self.warn("未找到成文日期")
        if issue_date is not None:
            for section in sections:
                for measure in section.measures:
                    for task in measure.tasks:
                        if task.due is None and task.due_text:
                            task.due = due_from_field(task.due_text, issue_date.year)
        flat = _WS_RE.sub("", "".join(ln.text for ln in self.lines))
        effective_from = effective_to = None
        match = _EFFECTIVE_RE.search(flat)
        if match:
            effective_from = _iso(*match.groups()[:3])
            if match.group(4):
                effective_to = _iso(*match.groups()[3:6])
        url_match = _URL_RE.search(self._meta(URL_KEYS, published=False))
        title = self._title()
        if not title:
            self.warn("未找到政策标题")
        return Policy(
            policy_id=policy_id_from_name(self.name),
            name=self.name,
            title=title,
            doc_no=self._doc_no(),
            issuer=issuer,
            issue_date=issue_date,
            effective_from=effective_from,
            effective_to=effective_to,
            source_url=url_match.group(0) if url_match else "",
            sections=sections,
            warnings=self.warnings,
        )

    def _meta(self, keys: tuple[str, ...], *, published: bool = True) -> str:
        for key in keys:
            value, value_orig = self.meta.get(key, ("", ""))
            if value.strip():
                return (value_orig if published else value).strip()
        return ""

    def _signature(self) -> tuple[str, date | None]:
        """The signing body and date: a short name line directly followed by a date line."""
        texts = [ln for ln in self.lines if ln.text]
        for prev, cur in zip(texts, texts[1:], strict=False):
            match = _DATE_LINE_RE.match(cur.text)
            if match and _ISSUER_RE.match(prev.text) and prev.marker is None:
                return prev.orig, _iso(match["y"], match["m"], match["d"])
        for cur in texts:
            match = _DATE_LINE_RE.match(cur.text)
            if match:
                return "", _iso(match["y"], match["m"], match["d"])
        return "", None

    def _title(self) -> str:
        """The document's own title: from the page heading, the header, a title line at the
        top, or 《》 in the text before the first measure that names this document (印发《…》,
        现将《…》, 《…》已经…) - never a document it cites (根据《…》)."""
        if self.h1:
            own = _own_title(self.h1, self.h1_orig, heading=True)
            return _WS_RE.sub(" ", own or self.h1_orig).strip()
        if self._meta(TITLE_KEYS):
            return self._meta(TITLE_KEYS)
        head: list[_Line] = []
        for line in self.lines:
            if line.marker is not None:
                break
            if line.text:
                head.append(line)
        for count in (1, 2):
            top = head[:count]
            text = "".join(ln.text for ln in top)
            orig = "".join(ln.orig for ln in top)
            if (
                len(top) == count
                and len(text) <= _MAX_TITLE
                and not re.search("[。，,；;：:]", text)
            ):
                own = _own_title(text, orig, heading=True)
                if own:
                    return own
                if _DOC_TYPE_RE.search(text):
                    return orig
        text = "".join(ln.text for ln in head)
        orig = "".join(ln.orig for ln in head)
        return _own_title(text, orig, heading=False)

    def _doc_no(self) -> str:
        """文号, preferring a line that holds nothing else, normalised to 〔〕 brackets."""
        meta = self.meta.get(DOC_NO_KEYS[0]) or self.meta.get(DOC_NO_KEYS[1]) or ("", "")
        candidates = [meta] + [(ln.text, ln.orig) for ln in self.lines if ln.text]
        fallback = ""
        for i, (text, orig) in enumerate(candidates):
            match = _DOC_NO_RE.search(text)
            if not match:
                continue
            published = orig if len(orig) == len(text) else text
            org = published[match.start("org") : match.end("org")]
            value = f"{org}〔{match['year']}〕{match['no']}{published[match.end() - 1]}"
            if match.group(0) == text or i == 0:
                return value
            fallback = fallback or value
        return fallback


def _value(match: re.Match[str], raw_orig: str) -> tuple[str, str]:
    """A metadata value and the same value as published."""
    return match["value"], raw_orig[match.start("value") : match.end("value")]


def _make_line(no: int, raw: str, raw_orig: str) -> _Line:
    text = clean_line(_strip_markup(raw))
    orig = text if raw_orig is raw else clean_line(_strip_markup(raw_orig))
    if len(orig) != len(text):
        orig = text
    heading = text.startswith("#")
    if heading:  # a Markdown heading: ## 一、总则
        cut = len(text) - len(text.lstrip("#"))
        cut += len(text[cut:]) - len(text[cut:].lstrip())
        text, orig = text[cut:], orig[cut:]
    bold = 0
    stripped = raw.strip()
    if stripped.startswith("**"):
        run = _BOLD_RUN_RE.match(stripped)
        inner = clean_line(run["inner"]) if run else ""
        if inner and text.startswith(inner):
            bold = len(inner)
            heading = heading or bold == len(text)
    line = _Line(no, text, orig, heading, bold)
    line.marker = _marker(text, orig)
    return line


def _own_title(text: str, orig: str, *, heading: bool) -> str:
    """The 《》 title that names the document itself, as published, or ""."""
    for match in _TITLE_QUOTE_RE.finditer(text):
        before = text[max(0, match.start() - 8) : match.start()]
        after = text[match.end() : match.end() + 4]
        if _CITED_BEFORE_RE.search(before):
            continue
        if _OWN_BEFORE_RE.search(before) or (not heading and _OWN_AFTER_RE.match(after)):
            return orig[match.start("title") : match.end("title")]
    return ""


def parse_policy(text: str, name: str) -> Policy:
    """Parse one policy text; ``name`` is the source file name (for ids and error messages).

    Raises :class:`PolicyParseError` naming file and line; when the file has several
    problems, :class:`PolicyParseErrors` lists them all.
    """
    parser = _Parser(text, name)
    try:
        policy = parser.parse()
    except PolicyParseError as exc:
        parser.errors.append(exc)
    if parser.errors:
        problems = sorted(parser.errors, key=lambda e: e.line or 0)
        raise PolicyParseErrors.of(problems)
    return policy
