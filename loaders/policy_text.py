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

import re

from loaders.policy_dates import due_from_field, due_from_text
from loaders.policy_lines import clean_line, cn_numeral, to_simplified
from loaders.policy_parser import _Parser
from loaders.policy_records import (
    Measure,
    ParseWarning,
    Policy,
    PolicyParseErrors,
    Section,
    Task,
    policy_id_from_name,
)
from tracker.errors import PolicyParseError

__all__ = [
    "Measure",
    "ParseWarning",
    "Policy",
    "PolicyParseError",
    "PolicyParseErrors",
    "Section",
    "Task",
    "clean_line",
    "cn_numeral",
    "decode_policy",
    "due_from_field",
    "due_from_text",
    "parse_policy",
    "policy_id_from_name",
    "to_simplified",
]

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
