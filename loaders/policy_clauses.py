"""Finding responsibility clauses (（责任单位：…）, 责任单位：…, （A牵头，B配合）) in a measure's text."""

from __future__ import annotations

from loaders.policy_lines import (
    _ParserBase,
    _Stream,
)
from loaders.policy_patterns import (
    _BEFORE_PLAIN,
    _CLAUSE_OPEN_RE,
    _CLAUSE_START_RE,
    _CLAUSE_TOKEN_RE,
    _DUE_AFTER_RE,
    _GAP_CHARS,
    _KEYWORD_RE,
    _OPENERS,
    _PART_AT_RE,
    _PLAIN_END_RE,
    _UNIT_ENDINGS,
)
from loaders.policy_records import INCOMPLETE
from loaders.units import (
    LEAD,
    parse_clause,
)
from tracker.errors import PolicyParseError


class _ClauseFinder(_ParserBase):
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
                try:
                    close = self._clause_end(text, match.end(), stream)
                except PolicyParseError:
                    rest = text[match.end() :]
                    if not self.in_last_measure or "。" in rest or _CLAUSE_OPEN_RE.search(rest):
                        raise
                    self.warn(
                        "最后一项的责任分工条款不完整（缺少右括号，可能是截断的副本）："
                        "未生成任务，须由发布者核对原文后补全",
                        stream.line_at(start),
                        INCOMPLETE,
                    )
                    break
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
