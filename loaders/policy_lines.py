"""Source lines of a policy text: cleaning, numbering markers, and the joined text stream."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import cache

import opencc

from loaders.policy_cleanup import clean_text
from loaders.policy_patterns import (
    _BOLD_RUN_RE,
    _CJK_WS_RE,
    _FRONT_META_RE,
    _H1_RE,
    _LINE_END_CHARS,
    _MARKER_FIRST,
    _MARKER_RE,
    _META_RE,
    _PAGE_NUMBER_FIRST,
    _PAGE_NUMBER_RE,
    _PARAGRAPH_BREAK,
    _PART_AT_RE,
    _PUNCTUATION_RE,
    _WS_RE,
    ARABIC,
    ARABIC_PAREN,
    CN_PAREN,
    SECTION,
)
from loaders.policy_records import (
    ParseWarning,
    Section,
)
from tracker.errors import PolicyParseError, TrackerError


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
    implicit: bool = False  # no numbering at all: the clauses of the text, as one measure

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


class _ParserBase:
    """The state every part of the parser shares: the file's lines, metadata, warnings and
    errors."""

    def __init__(self, text: str, name: str) -> None:
        self.name = name
        self.warnings: list[ParseWarning] = []
        self.errors: list[TrackerError] = []
        self.in_last_measure = False  # an unclosed clause there may be a cut-off copy's end
        self.meta: dict[str, tuple[str, str]] = {}  # key -> (value, value as published)
        self.h1 = self.h1_orig = ""
        text, notes = clean_text(text, name)
        self.warnings.extend(notes)
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

    def warn(self, message: str, line: int | None = None, kind: str = "") -> None:
        self.warnings.append(ParseWarning(message, self.name, line, kind))

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
