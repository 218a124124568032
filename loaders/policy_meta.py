"""A policy's metadata: title, 文号, issuer, dates and link, from its header, body and signature."""

from __future__ import annotations

import re
from datetime import date

from loaders.policy_dates import (
    _first_date,
    _iso,
    due_from_field,
)
from loaders.policy_lines import (
    _Line,
    _ParserBase,
)
from loaders.policy_patterns import (
    _CITED_BEFORE_RE,
    _DATE_LINE_RE,
    _DOC_NO_RE,
    _DOC_TYPE_RE,
    _EFFECTIVE_RE,
    _ISSUER_RE,
    _MAX_TITLE,
    _OWN_AFTER_RE,
    _OWN_BEFORE_RE,
    _TITLE_QUOTE_RE,
    _URL_RE,
    _WS_RE,
    DATE_KEYS,
    DOC_NO_KEYS,
    ISSUER_KEYS,
    TITLE_KEYS,
    URL_KEYS,
)
from loaders.policy_records import (
    CITED_DOC_NO,
    ParseWarning,
    Policy,
    Section,
    policy_id_from_name,
)


class _MetaReader(_ParserBase):
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
        """文号, preferring a line that holds nothing else, normalised to 〔〕 brackets.

        A number cited in a sentence (根据《…》（沪府办〔2024〕9号）要求) is another document's:
        never taken; when it is the only one, the 文号 stays empty with a warning.
        """
        meta = self.meta.get(DOC_NO_KEYS[0]) or self.meta.get(DOC_NO_KEYS[1]) or ("", "")
        candidates = [(meta, 0)] + [((ln.text, ln.orig), ln.no) for ln in self.lines if ln.text]
        fallback = cited = previous = ""
        cited_line = 0
        for i, ((text, orig), line_no) in enumerate(candidates):
            for match in _DOC_NO_RE.finditer(text):
                published = orig if len(orig) == len(text) else text
                org = published[match.start("org") : match.end("org")]
                value = f"{org}〔{match['year']}〕{match['no']}{published[match.end() - 1]}"
                if match.group(0) == text or i == 0:
                    return value
                # the sentence may start on the line before (a printed line wrapped in it)
                if _is_cited(previous + text, len(previous) + match.start()):
                    cited, cited_line = cited or value, cited_line or line_no
                else:
                    fallback = fallback or value
            previous = text if i else ""
        if not fallback and cited:
            self.warnings.append(
                ParseWarning(
                    f"「{cited}」是所引文件的文号，未作为本文件文号；本文件未找到文号",
                    self.name,
                    cited_line,
                    CITED_DOC_NO,
                )
            )
        return fallback


def _is_cited(text: str, start: int) -> bool:
    """Whether the 文号 at ``start`` names a cited document: right after 《…》, or in a
    sentence that cites (根据, 按照, 落实 …)."""
    sentence = text[:start].rsplit("。", 1)[-1]
    return "》" in sentence[-3:] or bool(_CITED_BEFORE_RE.search(sentence))


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
