"""The parser: source lines -> sections -> measure blocks -> measures with tasks."""

from __future__ import annotations

from loaders.policy_clauses import _ClauseFinder
from loaders.policy_dates import (
    due_from_field,
    due_from_text,
)
from loaders.policy_lines import (
    _Block,
    _has_sentence_after_title,
    _Line,
    _Marker,
    _measure_name,
    _Stream,
    _task_text,
)
from loaders.policy_meta import _MetaReader
from loaders.policy_patterns import (
    _CLAUSE_OPEN_RE,
    _GAP_CHARS,
    _KEYWORD_RE,
    _LINE_END_CHARS,
    _MAX_HEADING,
    _MAX_TITLE,
    _OPENERS,
    _PARAGRAPH_BREAK,
    ARABIC,
    SECTION,
)
from loaders.policy_records import (
    IMPLICIT_MEASURE,
    JOINED_UNITS,
    RESTART,
    Measure,
    Policy,
    Section,
    Task,
)
from loaders.units import (
    MAX_UNIT_LENGTH,
    parse_clause,
)


class _Parser(_ClauseFinder, _MetaReader):
    """Sections, measure blocks and measures with their tasks; see :func:`parse_policy`."""

    # -- structure -----------------------------------------------------------------------------
    def parse(self) -> Policy:
        sections, blocks, loose = self._split_structure()
        if not blocks:
            implicit = self._implicit_block(sections[0])
            blocks, loose = ([implicit], []) if implicit else (blocks, loose)
        blocks = self._split_foreign_items(blocks)
        self._check_loose(loose)
        numbered = self._number_measures(blocks)
        measures: list[tuple[_Block, Measure]] = []
        for i, block in enumerate(blocks):
            self.in_last_measure = i == len(blocks) - 1
            measure = self._parse_measure(block, last_in_document=self.in_last_measure)
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

    def _implicit_block(self, section: Section) -> _Block | None:
        """With no numbering at all, the paragraphs from the first clause's on are the tasks of
        one implicit measure (short notices: each sentence ends in （责任单位：…））."""
        first = next((i for i, ln in enumerate(self.lines) if _KEYWORD_RE.search(ln.text)), None)
        if first is None:
            return None
        start = first
        while start > 0 and self.lines[start - 1].text:
            before = self.lines[start - 1].text
            if self.wrapped and before[-1] in "。：:":
                break
            start -= 1
        head = _Line(self.lines[start].no, "", "", marker=_Marker(ARABIC, 1, "", 0))
        self.warn(
            "全文没有措施编号：各条责任分工条款按顺序作为一个隐含措施的任务，请核对",
            head.no,
            IMPLICIT_MEASURE,
        )
        return _Block(head, section, self.lines[start:], implicit=True)

    def _split_foreign_items(self, blocks: list[_Block]) -> list[_Block]:
        """Items of a deeper kind whose numbering does not start at 1 under a measure (a
        （八） of one document, then 2. 3. of another joined to it) are measures of their own."""
        out: list[_Block] = []
        for block in blocks:
            out.append(block)
            deeper = [ln for ln in block.body if ln.marker and ln.marker.kind > block.marker.kind]
            if not deeper or block.own_section:
                continue
            kind = min(ln.marker.kind for ln in deeper if ln.marker)
            first = next(ln for ln in deeper if ln.marker and ln.marker.kind == kind)
            assert first.marker is not None
            if first.marker.number == 1:
                continue
            self.warn(
                f"「{first.marker.label}」在{_measure_name(block.marker)}之下但编号不从 1 开始："
                "视为另一份文件的条目，另起措施，请核对",
                first.no,
                RESTART,
            )
            cut = block.body.index(first)
            rest, block.body = block.body[cut:], block.body[:cut]
            for line in rest:
                if line.marker is not None and line.marker.kind == kind:
                    out.append(_Block(line, block.section))
                else:
                    out[-1].body.append(line)
        return out

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
            if marker.number == 1 and prev > 1 and not restart:  # 1 after 1 is a duplicate
                self.warn(
                    f"措施编号「{marker.label}」重新开始：视为另一部分（可能拼接了两份文件），请核对",
                    block.head.no,
                    RESTART,
                )
                restart = True
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
        """One measure block -> its title and tasks.

        Longer than 60 lines on purpose: the title, the body stream and the clause loop share
        offsets into one joined text (``pos``, ``text``/``orig``); split apart they would pass
        five values back and forth.
        """
        head, marker = block.head, block.marker
        rest, rest_orig = head.text[marker.rest :], head.orig[marker.rest :]
        title: str | None = "" if block.implicit else None
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
            for joined in clause.joined:
                self.warn(f"「{joined}」按“及/和”拆分为多个责任单位", line_no, JOINED_UNITS)
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
