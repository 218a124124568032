"""Parse a published policy text into metadata, sections, measures and tasks.

Two source shapes occur and are told apart by structure, not by file name:

* a web page saved as Markdown: a ``**key**: value`` metadata header, bold headings, one
  paragraph per task separated by blank lines;
* text extracted from a PDF ("hard-wrapped"): lines break inside words and unit lists, page
  numbers (``- 5 -``) sit between lines and blank lines carry no meaning.

Structure is recognised generically: sections are ``一、`` at line start, measures ``（一）`` at
line start, and a task is the text up to and excluding a responsibility clause
``（责任单位：…）``.  Everything is line-numbered so errors can say where.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePath

from loaders.units import LEAD_KEYWORDS, UnitRef, split_clause
from tracker.errors import PolicyParseError

# ---------------------------------------------------------------------------------------------
# Patterns.  Chinese numerals only; brackets and colons full- or half-width.
_CN_NUM = "〇零一二三四五六七八九十百"
_SECTION_RE = re.compile(rf"^(?P<num>[{_CN_NUM}]+)\s*[、.．]\s*(?P<rest>.*)$")
_MEASURE_RE = re.compile(rf"^[（(]\s*(?P<num>[{_CN_NUM}]+)\s*[）)]\s*(?P<rest>.*)$")
_BOLD_MEASURE_RE = re.compile(
    rf"^\*\*\s*[（(]\s*(?P<num>[{_CN_NUM}]+)\s*[）)]\s*(?P<title>[^*]*?)\s*\*\*(?P<rest>.*)$"
)
_CLAUSE_OPEN_RE = re.compile(r"[（(]\s*(?:" + "|".join(LEAD_KEYWORDS) + r")\s*[:：]")
_PAGE_NUMBER_RE = re.compile(
    r"^\s*(?:[-—–－]\s*\d{1,4}\s*[-—–－]|第\s*\d{1,4}\s*页(?:\s*共\s*\d+\s*页)?)\s*$"
)
_META_RE = re.compile(r"^\s*\*\*(?P<key>[^*]{1,12}?)\*\*\s*[:：]\s*(?P<value>.*?)\s*$")
_FRONT_META_RE = re.compile(r"^\s*(?P<key>[^:：\s]{1,12})\s*[:：]\s*(?P<value>.*?)\s*$")
_H1_RE = re.compile(r"^#\s+(?P<title>.+?)\s*#*\s*$")
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
# What can end a clause's text: brackets, a full stop, a paragraph break.
_CLAUSE_TOKEN_RE = re.compile(r"[（()）。\n]")

ISSUER_KEYS = ("发布机构", "发文机关", "发布单位")
DATE_KEYS = ("成文日期", "发布日期")
URL_KEYS = ("原文链接", "来源链接", "链接")
TITLE_KEYS = ("标题", "文件名称")
DOC_NO_KEYS = ("文号", "发文字号")


# ---------------------------------------------------------------------------------------------
# Records


@dataclass
class Task:
    """One paragraph ending with a responsibility clause; ``line`` is where the clause opens."""

    seq: int
    text: str
    units: list[UnitRef]
    line: int


@dataclass
class Measure:
    """A numbered measure （一）… with its title and tasks; ``no`` is its running number."""

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


# ---------------------------------------------------------------------------------------------
# Lines and the text stream


@dataclass
class _Line:
    no: int  # 1-based line number in the source
    raw: str
    text: str  # markup stripped, extraction whitespace removed


class _Stream:
    """Joined text of a run of lines that remembers which source line each character came from."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.starts: list[int] = []
        self.lines: list[int] = []
        self.length = 0

    def add(self, text: str, line: int) -> None:
        if not text:
            return
        prev = self.parts[-1][-1:] if self.parts else ""
        if prev and prev.isascii() and prev.isalnum() and text[0].isascii() and text[0].isalnum():
            text = " " + text
        self.parts.append(text)
        self.starts.append(self.length)
        self.lines.append(line)
        self.length += len(text)

    def break_paragraph(self, line: int) -> None:
        if self.parts and self.parts[-1] != _PARAGRAPH_BREAK:
            self.parts.append(_PARAGRAPH_BREAK)
            self.starts.append(self.length)
            self.lines.append(line)
            self.length += 1

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def line_at(self, offset: int) -> int:
        if not self.lines:
            return 0
        return self.lines[max(0, bisect_right(self.starts, offset) - 1)]


@dataclass
class _Block:
    """The lines of one measure after its marker, plus how its title was written."""

    number: int
    label: str
    line: int
    bold_title: str | None
    first_rest: str
    marker_text: str  # the whole marker line, cleaned
    body: list[_Line] = field(default_factory=list)


def _body_texts(lines: list[_Line]) -> list[str]:
    return [
        ln.text
        for ln in lines
        if ln.text and not _MEASURE_RE.match(ln.text) and not _SECTION_RE.match(ln.text)
    ]


def _is_wrapped(lines: list[_Line]) -> bool:
    """True for hard-wrapped (PDF) text: most body lines stop mid-sentence."""
    body = _body_texts(lines)
    if not body:
        return False
    # Short open lines (a document number, a signature, a date) occur in any layout.
    open_ended = sum(1 for t in body if t[-1] not in _LINE_END_CHARS and len(t) >= 12)
    return open_ended / len(body) > 0.25


def _line_width(lines: list[_Line]) -> int:
    """Typical length of a full line of hard-wrapped text (the upper quartile of line lengths)."""
    lengths = sorted(len(t) for t in _body_texts(lines))
    return lengths[(len(lengths) * 3) // 4] if lengths else 0


# ---------------------------------------------------------------------------------------------
# The parser


class _Parser:
    def __init__(self, text: str, name: str) -> None:
        self.name = name
        self.warnings: list[ParseWarning] = []
        self.meta: dict[str, str] = {}
        self.h1 = ""
        self.lines = self._read_lines(text)
        self.wrapped = _is_wrapped(self.lines)
        self.line_width = _line_width(self.lines) if self.wrapped else 0
        self.restarted = False  # measure numbering restarts in each section

    def error(self, message: str, line: int | None) -> PolicyParseError:
        return PolicyParseError(message, file=self.name, line=line or 1)

    def warn(self, message: str, line: int | None = None) -> None:
        self.warnings.append(ParseWarning(message, self.name, line))

    # -- reading -------------------------------------------------------------------------------
    def _read_lines(self, text: str) -> list[_Line]:
        """Source lines without page numbers, with metadata and the H1 title taken out."""
        raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        out: list[_Line] = []
        front = bool(raw_lines) and raw_lines[0].strip() == "---"
        in_header = True
        for no, raw in enumerate(raw_lines, start=1):
            stripped = raw.strip()
            if front and no > 1 and stripped == "---":
                front = False
                continue
            if front:
                match = _FRONT_META_RE.match(raw)
                if match:
                    self.meta.setdefault(match["key"], match["value"])
                continue
            if in_header:
                h1 = _H1_RE.match(stripped)
                if h1 and not self.h1:
                    self.h1 = h1["title"]
                    continue
                meta = _META_RE.match(raw)
                if meta:
                    self.meta.setdefault(meta["key"].strip(), meta["value"])
                    continue
                if stripped in ("---", "***", "___"):
                    continue
            if _PAGE_NUMBER_RE.match(raw):
                continue
            line = _Line(no, raw, clean_line(_strip_markup(raw)))
            if in_header and (_SECTION_RE.match(line.text) or _MEASURE_RE.match(line.text)):
                in_header = False
            out.append(line)
        return out

    # -- structure -----------------------------------------------------------------------------
    def parse(self) -> Policy:
        sections, blocks_by_section = self._split_structure()
        ordinal = 0
        for section, blocks in zip(sections, blocks_by_section, strict=True):
            for i, block in enumerate(blocks):
                ordinal += 1
                last = section is sections[-1] and i == len(blocks) - 1
                measure = self._parse_measure(block, last_in_document=last)
                # Numbering restarting per section would repeat ids: number them in order then.
                measure.no = ordinal if self.restarted else block.number
                section.measures.append(measure)
        sections = [s for s in sections if s.measures or s.no > 0]
        if not any(m.tasks for s in sections for m in s.measures):
            first = next((m.line for s in sections for m in s.measures), 1)
            raise self.error("未找到任何责任分工（责任单位：…）条款", first)
        return self._policy(sections)

    def _split_structure(self) -> tuple[list[Section], list[list[_Block]]]:
        """Group lines into sections and measure blocks, checking the numbering as we go."""
        sections = [Section(0, "", 0)]
        blocks: list[list[_Block]] = [[]]
        current: _Block | None = None
        last_measure = 0  # published number of the previous measure
        last_section = 0
        for line in self.lines:
            bold = _BOLD_MEASURE_RE.match(line.raw.strip().lstrip("\u3000 "))
            m_match = _MEASURE_RE.match(line.text)
            s_match = None if m_match else _SECTION_RE.match(line.text)
            if s_match and self._is_heading(s_match, line, last_section):
                number = cn_numeral(s_match["num"])
                if number <= last_section:
                    raise self.error(f"部分编号「{s_match['num']}、」重复或倒序", line.no)
                if number != last_section + 1:
                    self.warn(f"部分编号跳号：{last_section} 之后是 {number}", line.no)
                last_section = number
                sections.append(Section(number, s_match["rest"].strip("。 "), line.no))
                blocks.append([])
                current = None
                continue
            if m_match:
                number = cn_numeral(m_match["num"])
                restart = number == 1 and blocks[-1] == [] and last_measure > 0
                if number <= last_measure and not restart:
                    raise self.error(f"措施编号「（{m_match['num']}）」重复或倒序", line.no)
                if not restart and number != last_measure + 1:
                    self.warn(f"措施编号跳号：（{last_measure}）之后是（{number}）", line.no)
                self.restarted = self.restarted or restart
                last_measure = number
                current = _Block(
                    number=number,
                    label=m_match["num"],
                    line=line.no,
                    bold_title=clean_line(bold["title"]) if bold else None,
                    first_rest=clean_line(_strip_markup(bold["rest"])) if bold else m_match["rest"],
                    marker_text=line.text,
                )
                blocks[-1].append(current)
                continue
            if current is not None:
                current.body.append(line)
            elif line.text and _CLAUSE_OPEN_RE.search(line.text):
                self.warn("责任分工条款不在任何措施之内，已忽略", line.no)
        return sections, blocks

    def _is_heading(self, match: re.Match[str], line: _Line, last_section: int) -> bool:
        """A 一、 line is a section heading unless, in wrapped text, it is an unexpected number."""
        try:
            number = cn_numeral(match["num"])
        except ValueError:
            return False
        if not match["rest"]:
            return False
        return not self.wrapped or number == last_section + 1

    # -- measures and tasks --------------------------------------------------------------------
    def _parse_measure(self, block: _Block, *, last_in_document: bool) -> Measure:
        stream = _Stream()
        title = block.bold_title
        if (
            title is None
            and block.first_rest
            and not _has_sentence_after_title(block.first_rest)
            and (not self.wrapped or self._is_short(block))
        ):
            # A heading line of its own: （一）推动科技创新资源开放
            title, first = block.first_rest, ""
        else:
            first = block.first_rest
        stream.add(first, block.line)
        for line in block.body:
            if line.text:
                stream.add(line.text, line.no)
            elif not self.wrapped:
                stream.break_paragraph(line.no)
        text = stream.text
        pos = 0
        if title is None:
            # Leading title: the first sentence, up to 。
            end = text.find("。")
            clause = _CLAUSE_OPEN_RE.search(text)
            if 0 <= end <= 80 and (clause is None or end < clause.start()):
                title = text[:end].replace(_PARAGRAPH_BREAK, "")
                pos = end + 1
            else:
                title = ""
                self.warn(f"措施（{block.label}）没有可识别的标题", block.line)
        measure = Measure(block.number, title.strip().rstrip("。"), block.line)
        seq = 0
        for clause in _CLAUSE_OPEN_RE.finditer(text, pos):
            if clause.start() < pos:
                continue  # inside the previous clause (already reported as an error if so)
            close = self._clause_end(text, clause.end(), stream)
            body = _task_text(text[pos : clause.start()])
            units = split_clause(text[clause.end() : close].replace(_PARAGRAPH_BREAK, ""))
            line = stream.line_at(clause.start())
            if not units:
                raise self.error("责任分工条款中没有责任单位", line)
            if not body:
                self.warn(f"措施（{block.label}）中有一条责任分工条款前没有任务内容", line)
            seq += 1
            measure.tasks.append(Task(seq, body, units, line))
            pos = close + 1
        rest = _task_text(text[pos:])
        if not measure.tasks:
            self.warn(f"措施（{block.label}）没有责任分工条款，未生成任务", block.line)
        elif rest and not last_in_document:
            self.warn(
                f"措施（{block.label}）最后一个责任分工条款之后的文字未归入任务",
                stream.line_at(pos),
            )
        return measure

    def _is_short(self, block: _Block) -> bool:
        """In wrapped text, a marker line well short of the line width ends there: a heading."""
        return "。" not in block.marker_text and len(block.marker_text) < 0.6 * self.line_width

    def _clause_end(self, text: str, start: int, stream: _Stream) -> int:
        """Index of the bracket closing a clause; nested brackets (市交通委（市道运局）) allowed.

        A full stop, a paragraph break or the start of another clause before the closing
        bracket means the clause was never closed.
        """
        depth = 0
        for token in _CLAUSE_TOKEN_RE.finditer(text, start):
            ch = token.group()
            if ch in "（(" and not _CLAUSE_OPEN_RE.match(text, token.start()):
                depth += 1
            elif ch in "）)":
                if depth == 0:
                    return token.start()
                depth -= 1
            else:
                break
        raise self.error("责任分工条款缺少右括号（条款未结束）", stream.line_at(start - 1))

    # -- metadata ------------------------------------------------------------------------------
    def _policy(self, sections: list[Section]) -> Policy:
        issuer, signed = self._signature()
        issuer = issuer or self._meta(ISSUER_KEYS)
        issue_date = signed or _first_date(self._meta(DATE_KEYS))
        if issue_date is None:
            self.warn("未找到成文日期")
        flat = _WS_RE.sub("", "".join(ln.text for ln in self.lines))
        effective_from = effective_to = None
        match = _EFFECTIVE_RE.search(flat)
        if match:
            effective_from = _iso(*match.groups()[:3])
            if match.group(4):
                effective_to = _iso(*match.groups()[3:6])
        url_match = _URL_RE.search(self._meta(URL_KEYS))
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

    def _meta(self, keys: tuple[str, ...]) -> str:
        return next((self.meta[k].strip() for k in keys if self.meta.get(k, "").strip()), "")

    def _signature(self) -> tuple[str, date | None]:
        """The signing body and date: a short name line directly followed by a date line."""
        texts = [ln.text for ln in self.lines if ln.text]
        for prev, cur in zip(texts, texts[1:], strict=False):
            match = _DATE_LINE_RE.match(cur)
            if match and _ISSUER_RE.match(prev) and not _SECTION_RE.match(prev):
                return prev, _iso(match["y"], match["m"], match["d"])
        for cur in texts:
            match = _DATE_LINE_RE.match(cur)
            if match:
                return "", _iso(match["y"], match["m"], match["d"])
        return "", None

    def _title(self) -> str:
        """Title in 《》 of the page heading, else the heading, else the first 《》 of the text."""
        if self.h1:
            match = _TITLE_QUOTE_RE.search(self.h1)
            return _WS_RE.sub(" ", match["title"] if match else self.h1).strip()
        if self._meta(TITLE_KEYS):
            return self._meta(TITLE_KEYS)
        head = []
        for line in self.lines:
            if _SECTION_RE.match(line.text) or _MEASURE_RE.match(line.text):
                break
            head.append(line.text)
        match = _TITLE_QUOTE_RE.search("".join(head))
        return match["title"] if match else ""

    def _doc_no(self) -> str:
        """文号, preferring a line that holds nothing else, normalised to 〔〕 brackets."""
        candidates = [self._meta(DOC_NO_KEYS)] + [ln.text for ln in self.lines if ln.text]
        fallback = ""
        for text in candidates:
            match = _DOC_NO_RE.search(text)
            if not match:
                continue
            value = f"{match['org']}〔{match['year']}〕{match['no']}号"
            if match.group(0) == text or text is candidates[0]:
                return value
            fallback = fallback or value
        return fallback


def _has_sentence_after_title(rest: str) -> bool:
    """Whether a measure line carries body text after its title (``强化…作用。鼓励…``)."""
    end = rest.find("。")
    return 0 <= end < len(rest) - 1


def _task_text(segment: str) -> str:
    return segment.replace(_PARAGRAPH_BREAK, "").strip()


def parse_policy(text: str, name: str) -> Policy:
    """Parse one policy text; ``name`` is the source file name (for ids and error messages)."""
    return _Parser(text, name).parse()
