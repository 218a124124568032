"""The gate a policy file passes before it is parsed: sizes and counts, checked cheaply.

A policy is a few dozen measures on a few dozen pages.  A file far beyond that is a mistake
or an attack (a 137 KB DOCX holding 16 million empty paragraphs unpacks to 96 MB and drives a
DOM reader to gigabytes; a text with 60,000 measures keeps the parser busy for minutes), so
it is refused with its name before any reader builds a tree of it:

* a DOCX: every XML part is streamed through the decompressor (never trusting the sizes the
  archive declares) and its bytes, elements and paragraphs counted; a DTD (entity
  declarations: billion laughs) is refused outright;
* any text (typed, decoded or extracted from a PDF or DOCX): characters, lines, lines
  opening with a number (of any length: ``60000.`` counts, though no measure numbers so
  high) and responsibility clauses (``责任单位：``: unnumbered ones become tasks too).

The limits are generous multiples of the largest real policies (the seeds have 26 measures
and 20,000 characters between them); each check stops reading as soon as a limit is passed.

>>> check_text("一、总则\\n（一）任务。（责任单位：市科委）", "a.txt")
>>> check_text("（一）x\\n" * 2_001, "b.txt")
Traceback (most recent call last):
...
tracker.errors.ImportFileError: b.txt: 文件中编号条目超过 2000 条，不像一份政策文件，拒绝解析
>>> check_text("".join(f"{n}. x\\n" for n in range(1000, 3001)), "c.txt")
Traceback (most recent call last):
...
tracker.errors.ImportFileError: c.txt: 文件中编号条目超过 2000 条，不像一份政策文件，拒绝解析
>>> check_text("做好甲。（责任单位：市科委）" * 5_001, "d.txt")
Traceback (most recent call last):
...
tracker.errors.ImportFileError: d.txt: 文件中责任分工条款超过 5000 处，不像一份政策文件，拒绝解析
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from typing import IO

from loaders.policy_patterns import _DIGIT, _MARKER_RE
from loaders.units import UNIT_KEYWORDS
from tracker.errors import ImportFileError

MAX_TEXT_CHARS = 2_000_000
MAX_TEXT_LINES = 100_000
MAX_MEASURES = 2_000  # lines opening with a number (一、 （一） 1. （1）)
MAX_CLAUSES = 5_000  # responsibility clauses (责任单位： 牵头单位： …), numbered or not
MAX_DOCX_UNPACKED = 100 * 1024 * 1024  # every part, as the archive declares them
MAX_DOCX_XML_BYTES = 40 * 1024 * 1024  # every XML part together, as decompressed
MAX_DOCX_ELEMENTS = 2_000_000
MAX_DOCX_PARAGRAPHS = 50_000
_CHUNK = 1024 * 1024

_NUMBERED_LINE_RE = re.compile(
    rf"^[ \t\u3000]*(?:{_MARKER_RE.pattern}|{_DIGIT}{{4,}}\s*[、.．])", re.MULTILINE
)
_CLAUSE_RE = re.compile(rf"(?:{'|'.join(UNIT_KEYWORDS)})\s*[:：]")
_PARAGRAPH_TAG_RE = re.compile(rb"<w:p[\s>/]")
_ELEMENT_RE = re.compile(rb"<[A-Za-z]")
_DTD_RE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def check_text(text: str, name: str) -> None:
    """Refuse a text too large to be one policy (characters, lines, numbered items)."""
    if len(text) > MAX_TEXT_CHARS:
        raise ImportFileError(f"文字超过 {MAX_TEXT_CHARS:,} 个字符，拒绝解析", file=name)
    lines = text.count("\n") + 1
    if lines > MAX_TEXT_LINES:
        raise ImportFileError(f"文件超过 {MAX_TEXT_LINES:,} 行，拒绝解析", file=name)
    for numbered, _ in enumerate(_NUMBERED_LINE_RE.finditer(text), start=1):
        if numbered > MAX_MEASURES:
            raise ImportFileError(
                f"文件中编号条目超过 {MAX_MEASURES} 条，不像一份政策文件，拒绝解析", file=name
            )
    for clauses, _ in enumerate(_CLAUSE_RE.finditer(text), start=1):
        if clauses > MAX_CLAUSES:
            raise ImportFileError(
                f"文件中责任分工条款超过 {MAX_CLAUSES} 处，不像一份政策文件，拒绝解析", file=name
            )


def check_docx(data: bytes, name: str) -> None:
    """Refuse a DOCX whose XML is too large, too deep in elements or paragraphs, or carries a
    DTD - by streaming each part, before python-docx (lxml) builds a tree of it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_DOCX_UNPACKED:
                raise ImportFileError("DOCX 解压后过大，拒绝读取", file=name)
            budget = _Budget(name)
            for info in archive.infolist():
                if info.filename.endswith((".xml", ".rels")):
                    with archive.open(info) as part:
                        budget.read(part, info.filename)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ImportFileError(f"无法读取 DOCX（文件损坏或不完整）：{exc}", file=name) from exc


class _Budget:
    """Bytes, elements and paragraphs read so far across the parts of one DOCX."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.bytes = self.elements = self.paragraphs = 0

    def read(self, part: IO[bytes], part_name: str) -> None:
        tail = b""
        while chunk := part.read(_CHUNK):
            self.bytes += len(chunk)
            if self.bytes > MAX_DOCX_XML_BYTES:
                raise ImportFileError(
                    f"DOCX 解压后过大（XML 超过 {MAX_DOCX_XML_BYTES // (1024 * 1024)} MB），拒绝读取",
                    file=self.name,
                )
            window = tail + chunk  # a tag cut by the chunk boundary is counted once, here
            counted = len(tail)
            self.elements += sum(1 for m in _ELEMENT_RE.finditer(window) if m.end() > counted)
            self.paragraphs += sum(
                1 for m in _PARAGRAPH_TAG_RE.finditer(window) if m.end() > counted
            )
            if _DTD_RE.search(window):
                raise ImportFileError(
                    f"DOCX 的 {part_name} 含有 DTD/实体声明，拒绝读取", file=self.name
                )
            if self.elements > MAX_DOCX_ELEMENTS or self.paragraphs > MAX_DOCX_PARAGRAPHS:
                raise ImportFileError(
                    f"DOCX 的 XML 元素或段落过多（上限 {MAX_DOCX_ELEMENTS:,} 个元素、"
                    f"{MAX_DOCX_PARAGRAPHS:,} 个段落），不像一份政策文件，拒绝读取",
                    file=self.name,
                )
            tail = window[-8:]
