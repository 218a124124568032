"""Gatekeeping for uploaded workbooks: decide from the bytes alone whether a file is a plain
.xlsx we are willing to parse, before any XML parser or spreadsheet reader touches it.

Refused with :class:`~tracker.errors.ImportFileError` (naming the file): not a zip (csv,
random bytes), legacy .xls or an encrypted (password-protected) OLE container, a zip that is
not a workbook, macro workbooks (.xlsm, vbaProject.bin), .xlsb, files over 20 MB, zip bombs
(declared sizes and compression ratio are checked from the central directory, and members are
read with a cap), XML carrying a DOCTYPE (entity-expansion attacks such as billion laughs), and
sheets reaching beyond :data:`MAX_COLUMNS` columns, :data:`MAX_SHEET_ROWS` rows or a grid of
:data:`MAX_CELLS` cells.  The last matters because the reader builds a dense grid from A1 to the
furthest cell holding a value: one value at XFD100000 in a 17 KB file asks for 52 GB and kills
the process, so every sheet's declared dimension and cell positions are checked from the bytes
first (:func:`sheet_extent`).  The small package parts we read ourselves go through
``defusedxml``.  Only the parts the import reads (workbook, sheets, shared strings, styles,
their relationships) are ever inflated, each capped at its declared size; any other part (a
comment part, custom XML, media) is judged by its declared size alone and refused above
:data:`MAX_UNREAD_PART_BYTES`, so a huge or size-lying part costs nothing.
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from posixpath import dirname, join, normpath
from typing import BinaryIO

import numpy as np
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from tracker.errors import ImportFileError

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000  # data rows below the header
HEADER_ROWS = 30  # rows searched for the header row (a title may sit above it)
# The dense grid a reader builds runs from A1 to the furthest cell with a value.  The template
# has 15 columns and the report's 明细 19; 100,000 rows of 40 columns still fit in MAX_CELLS.
MAX_COLUMNS = 64
MAX_SHEET_ROWS = MAX_ROWS + HEADER_ROWS
MAX_CELLS = 4_000_000
MAX_MEMBERS = 2_000
MAX_UNCOMPRESSED_BYTES = 600 * 1024 * 1024
MAX_MEMBER_BYTES = 400 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, for members big enough to matter
# A part the importer never reads (comments, drawings, images, custom XML, printer settings)
# is judged by its declared size alone and never inflated: anything bigger than any upload
# could carry uncompressed is refused before a byte of it is decompressed.
MAX_UNREAD_PART_BYTES = 32 * 1024 * 1024
RATIO_FLOOR_BYTES = 1024 * 1024

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_DOCUMENT = _NS_REL + "/officeDocument"

_PREFIXED_F = re.compile(rb"<[A-Za-z_][\w.-]*:f")
_ENDS_NAME = np.zeros(256, dtype=bool)  # a byte that may follow a tag's name
_ENDS_NAME[list(b" >/\t\n\r")] = True
_CELL_OPEN = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*>")
_CELL_REF = re.compile(rb'\sr="([A-Z]{1,3})([0-9]{1,7})"')


@dataclass(frozen=True)
class SheetRef:
    """A worksheet of the package: its tab name and the zip member holding its XML."""

    name: str
    path: str
    hidden: bool = False


@dataclass
class Package:
    """A workbook that passed the gate: its bytes, sheets and workbook-level defined names."""

    file_name: str
    data: bytes
    sheets: list[SheetRef]
    defined_names: dict[str, str] = field(default_factory=dict)
    parts: dict[str, bytes] = field(default_factory=dict, repr=False)  # XML already inflated

    def member(self, path: str) -> bytes:
        if path in self.parts:
            return self.parts[path]
        with zipfile.ZipFile(io.BytesIO(self.data)) as zf:
            return _read_capped(zf, path, self.file_name)

    def formula_cells(self, sheet: SheetRef) -> set[tuple[int, int]]:
        """(row, column), 1-based, of every cell holding a formula in ``sheet``."""
        return formula_cells(self.member(sheet.path))


def read_source(source: bytes | bytearray | memoryview | BinaryIO, file_name: str) -> bytes:
    """The bytes of an upload or open file, refusing anything over the size limit."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        if hasattr(source, "seek"):
            with contextlib.suppress(OSError, ValueError):  # unseekable streams: read as is
                source.seek(0)
        data = source.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            f"文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MB 上限，请按单位拆分后再导入",
            file=file_name,
        )
    return data


def open_package(
    source: bytes | bytearray | memoryview | BinaryIO, file_name: str = "上传文件"
) -> Package:
    """Check ``source`` is a safe, plain .xlsx and describe its sheets; raise ImportFileError."""
    data = read_source(source, file_name)
    if not data:
        raise ImportFileError("文件是空的", file=file_name)
    lower = file_name.lower()
    if lower.endswith((".xlsm", ".xltm", ".xlam")):
        raise ImportFileError(
            "不接受含宏的工作簿（.xlsm），请另存为 .xlsx 后再导入", file=file_name
        )
    if data.startswith(OLE_MAGIC):
        if _ENCRYPTED_STREAM in data:
            raise ImportFileError(
                "工作簿设置了打开密码（已加密），无法读取；请取消密码后另存为 .xlsx 再导入",
                file=file_name,
            )
        raise ImportFileError(
            "这是旧版 .xls（Office 二进制）文件，请在 Excel 中另存为 .xlsx 后再导入", file=file_name
        )
    if not data.startswith(ZIP_MAGIC):
        raise ImportFileError(
            "不是 Excel .xlsx 文件（CSV、文本或其他格式请先另存为 .xlsx）", file=file_name
        )
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportFileError(f"文件已损坏，不是有效的 .xlsx（{exc}）", file=file_name) from None
    with zf:
        _check_directory(zf, file_name)
        sheets, names, read = _describe(zf, file_name)
        _refuse_large_unread(zf, read, file_name)
        parts = _inflate_xml(zf, read, file_name)
    sheet_parts = {s.path: parts[s.path] for s in sheets if s.path in parts}
    for sheet in sheets:
        if sheet.path in sheet_parts:
            check_extent(sheet_parts[sheet.path], file_name, sheet.name)
    return Package(
        file_name=file_name, data=data, sheets=sheets, defined_names=names, parts=sheet_parts
    )


def check_office_zip(data: bytes, file_name: str) -> set[str]:
    """The zip checks of :func:`open_package` alone, for an Office file kept but not read
    (an evidence .docx or .xlsx): member count, sizes and compression ratios from the central
    directory, encryption, macros, .xlsb, and no DOCTYPE in any XML part.  Its member names."""
    if not data.startswith(ZIP_MAGIC):
        raise ImportFileError("不是 Office（.docx/.xlsx）压缩包", file=file_name)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportFileError(f"文件已损坏，不是有效的压缩包（{exc}）", file=file_name) from None
    with zf:
        _check_directory(zf, file_name)
        _inflate_xml(zf, set(zf.namelist()), file_name)
        return set(zf.namelist())


def _check_directory(zf: zipfile.ZipFile, file_name: str) -> None:
    """Zip-bomb and content-type checks from the central directory (nothing inflated but
    [Content_Types].xml)."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ImportFileError(f"压缩包内文件过多（{len(infos)} 个），拒绝读取", file=file_name)
    total = 0
    names = set()
    for info in infos:
        names.add(info.filename)
        if info.flag_bits & 0x1:
            raise ImportFileError("工作簿内容已加密，无法读取", file=file_name)
        if info.file_size > MAX_MEMBER_BYTES:
            raise ImportFileError(
                f"压缩包成员 {info.filename} 解压后过大（{info.file_size} 字节），疑似压缩炸弹",
                file=file_name,
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
            raise ImportFileError(
                f"压缩包成员 {info.filename} 压缩比异常（{ratio:.0f}:1），疑似压缩炸弹",
                file=file_name,
            )
        total += info.file_size
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ImportFileError(f"工作簿解压后过大（{total} 字节），疑似压缩炸弹", file=file_name)
    if "[Content_Types].xml" not in names:
        raise ImportFileError(
            "压缩文件不是 Excel 工作簿（缺少 [Content_Types].xml）", file=file_name
        )
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise ImportFileError(
            "不接受含宏的工作簿（vbaProject.bin），请另存为 .xlsx 后再导入", file=file_name
        )
    if any(n.lower().endswith("workbook.bin") for n in names):
        raise ImportFileError("不支持 .xlsb 二进制工作簿，请另存为 .xlsx 后再导入", file=file_name)
    content_types = _read_capped(zf, "[Content_Types].xml", file_name)
    if b"macroEnabled" in content_types:
        raise ImportFileError(
            "不接受含宏的工作簿（.xlsm），请另存为 .xlsx 后再导入", file=file_name
        )


def _refuse_large_unread(zf: zipfile.ZipFile, read: set[str], file_name: str) -> None:
    """Refuse, by the central directory's declared size, a part nobody reads that is bigger
    than :data:`MAX_UNREAD_PART_BYTES` (a 350 MB comment part, unused 290 MB parts): it is
    never inflated, so a size that lies cannot matter; the parts that are read are inflated
    with their declared size as a hard cap (:func:`_read_capped`)."""
    for info in zf.infolist():
        if info.filename not in read and info.file_size > MAX_UNREAD_PART_BYTES:
            raise ImportFileError(
                f"工作簿中的 {info.filename} 解压后有 {info.file_size // (1024 * 1024)} MB，"
                f"超过不读取部分的上限 {MAX_UNREAD_PART_BYTES // (1024 * 1024)} MB"
                "（批注、图片等）；请删除后另存为 .xlsx 再导入",
                file=file_name,
            )


def _inflate_xml(zf: zipfile.ZipFile, names: set[str], file_name: str) -> dict[str, bytes]:
    """The XML parts among ``names``, inflated (capped) and scanned for a DOCTYPE, so the
    sheet scans that follow need not inflate them again."""
    parts = {}
    for info in zf.infolist():
        if info.filename in names and info.filename.lower().endswith((".xml", ".rels", ".vml")):
            body = _read_capped(zf, info.filename, file_name)
            if _has_doctype(body):
                raise ImportFileError(
                    f"工作簿的 {info.filename} 含有 DOCTYPE/实体声明（可能是 XML 实体攻击），拒绝读取",
                    file=file_name,
                )
            parts[info.filename] = body
    return parts


def _has_doctype(body: bytes) -> bool:
    """Office never writes a DTD; any DOCTYPE or ENTITY declaration is hostile."""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        body = body.decode("utf-16", errors="ignore").encode("utf-8")
    return b"<!DOCTYPE" in body or b"<!ENTITY" in body


def _read_capped(zf: zipfile.ZipFile, name: str, file_name: str) -> bytes:
    """Read one member, never more than its (already checked) declared size."""
    try:
        info = zf.getinfo(name)
        with zf.open(info) as fh:
            body = fh.read(min(info.file_size, MAX_MEMBER_BYTES) + 1)
    except KeyError:
        raise ImportFileError(f"工作簿缺少 {name}", file=file_name) from None
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
        raise ImportFileError(f"工作簿已损坏，无法解压 {name}（{exc}）", file=file_name) from None
    if len(body) > info.file_size:
        raise ImportFileError(f"压缩包成员 {name} 实际大小与声明不符，拒绝读取", file=file_name)
    return body


def _parse(zf: zipfile.ZipFile, name: str, file_name: str):
    try:
        return SafeET.fromstring(_read_capped(zf, name, file_name))
    except DefusedXmlException:
        raise ImportFileError(
            f"{name} 含有被禁止的 XML 结构（实体/DTD），拒绝读取", file=file_name
        ) from None
    except SafeET.ParseError as exc:
        raise ImportFileError(f"{name} 不是有效的 XML（{exc}）", file=file_name) from None


def _rels_path(part: str) -> str:
    """The relationships part of ``part``: ``xl/workbook.xml`` -> ``xl/_rels/workbook.xml.rels``."""
    rels_path = join(dirname(part), "_rels", part.rsplit("/", 1)[-1] + ".rels")
    return rels_path[1:] if rels_path.startswith("/") else rels_path


def _rels(zf: zipfile.ZipFile, part: str, file_name: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, absolute target) for ``part``."""
    rels_path = _rels_path(part)
    if rels_path not in zf.namelist():
        return {}
    out = {}
    for rel in _parse(zf, rels_path, file_name).iter(f"{{{_NS_PKG_REL}}}Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        absolute = target[1:] if target.startswith("/") else normpath(join(dirname(part), target))
        out[rel.get("Id", "")] = (rel.get("Type", ""), absolute)
    return out


def _describe(
    zf: zipfile.ZipFile, file_name: str
) -> tuple[list[SheetRef], dict[str, str], set[str]]:
    """Locate the workbook part, its worksheets (in tab order) and its defined names; and
    name every part the import reads (we or python-calamine): the package and workbook
    relationships, the workbook, its sheets and their relationships, shared strings and
    styles (calamine also opens those two at their usual paths)."""
    main = next(
        (target for kind, target in _rels(zf, "", file_name).values() if kind == _OFFICE_DOCUMENT),
        None,
    )
    if main is None or main not in zf.namelist():
        raise ImportFileError("压缩文件不是 Excel 工作簿（找不到工作簿主体）", file=file_name)
    book = _parse(zf, main, file_name)
    rels = _rels(zf, main, file_name)
    read = {"[Content_Types].xml", "_rels/.rels", main, _rels_path(main)}
    read |= {"xl/sharedStrings.xml", "xl/styles.xml"}
    read |= {
        target for kind, target in rels.values() if kind.endswith(("/sharedStrings", "/styles"))
    }
    sheets = []
    for el in book.iter(f"{{{_NS_MAIN}}}sheet"):
        kind, target = rels.get(el.get(f"{{{_NS_REL}}}id", ""), ("", ""))
        if not kind.endswith("/worksheet") or target not in zf.namelist():
            continue
        sheets.append(SheetRef(el.get("name", ""), target, el.get("state", "visible") != "visible"))
    if not sheets:
        raise ImportFileError("工作簿中没有工作表", file=file_name)
    names = {
        el.get("name", ""): (el.text or "")
        for el in book.iter(f"{{{_NS_MAIN}}}definedName")
        if el.get("localSheetId") is None
    }
    read |= {s.path for s in sheets} | {_rels_path(s.path) for s in sheets}
    return sheets, names, read


def formula_cells(sheet_xml: bytes) -> set[tuple[int, int]]:
    """(row, column) of cells with an ``<f>`` child, whatever its prefix (the reader ignores
    element prefixes): a byte scan, no XML parser.

    numpy finds every ``f`` that ends a tag name (``<f`` or ``<x:f``, then white space,
    ``>`` or ``/``), so a sheet without formulas costs one pass over its bytes.  A formula
    cell without an ``r`` attribute is reported as (0, 0): the caller then refuses the
    file as a whole.
    """
    data = np.frombuffer(sheet_xml, dtype=np.uint8)
    if len(data) < 3:
        return set()
    at = np.flatnonzero(data[1:-1] == ord("f")) + 1
    at = at[_ENDS_NAME[data[at + 1]]]
    before = data[at - 1]
    found: set[tuple[int, int]] = set()
    for pos in at[before == ord("<")].tolist():
        found.add(_formula_cell(sheet_xml, pos - 1))
    for pos in at[before == ord(":")].tolist():
        start = sheet_xml.rfind(b"<", 0, pos)
        if start != -1 and _PREFIXED_F.fullmatch(sheet_xml, start, pos + 1):
            found.add(_formula_cell(sheet_xml, start))
    return found


def _formula_cell(sheet_xml: bytes, tag: int) -> tuple[int, int]:
    """The cell of the ``<f`` at ``tag``: its first child, so the tag just before it is the
    cell's; (0, 0) when that is no ``<c`` with an ``r``."""
    opening = sheet_xml[sheet_xml.rfind(b"<", 0, tag) : tag]
    ref = _CELL_REF.search(opening) if _CELL_OPEN.match(opening) else None
    if ref is None:
        return (0, 0)
    return (int(ref.group(2)), column_index(ref.group(1).decode()))


def column_index(letters: str) -> int:
    """'A' -> 1, 'AB' -> 28."""
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


# --- sheet extent: where a reader would put the furthest value ---------------------------------

_SPACE = np.zeros(256, dtype=bool)
_SPACE[[ord(c) for c in " \t\n\r"]] = True
_DIMENSION = re.compile(
    rb"""<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*?\bref\s*=\s*["']([^"']*)["']"""
)
# A cell tag other than <c r="A12345" (one letter, at most five digits): wide, long or odd.
_NOT_SMALL_CELL = re.compile(rb'<c(?:[\t\n\r>/]| (?!r="[A-Za-z][0-9]{1,5}"))')
_PLAIN_CELL = re.compile(rb'<c r="([A-Za-z]+)([0-9]+)"')
_PREFIXED_ROW_OR_CELL = re.compile(rb":(?:c|row)[\s/>]")
_NOT_MARKUP = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>", re.S)
_ROW_OR_CELL = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])([^>]*)>")
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_CELL_NAME = re.compile(rb"([A-Za-z]+)([0-9]+)")


@dataclass(frozen=True)
class Extent:
    """The grid a reader would allocate for a sheet: last row and column, 1-based."""

    rows: int
    columns: int

    @property
    def corner(self) -> str:
        """The bottom-right cell, e.g. ``XFD100000``."""
        return f"{column_letters(self.columns)}{self.rows}"

    @property
    def cells(self) -> int:
        return self.rows * self.columns


def check_extent(sheet_xml: bytes, file_name: str, sheet: str) -> None:
    """Raise ImportFileError if the sheet declares or holds cells beyond the caps."""
    if sheet_xml[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in sheet_xml[:512]:
        raise ImportFileError("工作表不是 UTF-8 编码的 XML，拒绝读取", file=file_name, sheet=sheet)
    head = sheet_xml[: max(sheet_xml.find(b"sheetData"), 0)]
    declared = _DIMENSION.search(head)
    if declared and (found := _CELL_NAME.fullmatch(declared.group(1).split(b":")[-1])):
        stated = Extent(int(found.group(2)), column_index(found.group(1).decode().upper()))
        if _too_big(stated):
            raise ImportFileError(
                f"声明的数据范围 {declared.group(1).decode()} 超出上限（{_LIMITS}），"
                "请删除多余的行列或拆分后再导入",
                file=file_name,
                sheet=sheet,
            )
    extent = sheet_extent(sheet_xml)
    if extent is None:
        raise ImportFileError("工作表含有无效的单元格引用，无法读取", file=file_name, sheet=sheet)
    if extent.columns > MAX_COLUMNS or extent.rows > MAX_SHEET_ROWS:
        at = []
        if extent.columns > MAX_COLUMNS:
            at.append(f"第 {extent.columns:,} 列（{column_letters(extent.columns)} 列）")
        if extent.rows > MAX_SHEET_ROWS:
            at.append(f"第 {extent.rows:,} 行")
        raise ImportFileError(
            f"{'、'.join(at)}有单元格，超出上限（{_LIMITS}），请删除多余的行列或拆分后再导入",
            file=file_name,
            sheet=sheet,
        )
    if extent.cells > MAX_CELLS:
        raise ImportFileError(
            f"数据范围 A1:{extent.corner} 共 {extent.cells:,} 个单元格，超出上限（{_LIMITS}），"
            "请删除多余的行列或拆分后再导入",
            file=file_name,
            sheet=sheet,
        )


_LIMITS = f"最多 {MAX_COLUMNS} 列、{MAX_SHEET_ROWS:,} 行、{MAX_CELLS:,} 个单元格"


def _too_big(extent: Extent) -> bool:
    return extent.columns > MAX_COLUMNS or extent.rows > MAX_SHEET_ROWS or extent.cells > MAX_CELLS


def sheet_extent(sheet_xml: bytes) -> Extent | None:
    """The last row and column a reader would put a cell at, or a little more; never less.

    python-calamine places a cell by its ``r`` attribute (the last one if there are two,
    letters in either case), or else right of the previous cell of the row, on the row after
    the previous one; element prefixes are ignored.  Excel, LibreOffice, openpyxl and this
    project write ``<c r="A1"`` for every cell, which three scans at memchr or numpy speed
    confirm, looking closer only at cells past column Z or row 99,999; anything else is
    walked tag by tag.  Cells without a value count too.  None: a cell reference that the
    reader cannot parse either.

    >>> sheet_extent(b'<row r="1"><c r="A1"><v>1</v></c><c r="XFD100000"><v>2</v></c></row>')
    Extent(rows=100000, columns=16384)
    """
    bound = _bound_of_plain_cells(sheet_xml)
    if bound is not None and bound.cells <= MAX_CELLS:
        return bound
    return _extent_by_walking(sheet_xml)


def _bound_of_plain_cells(sheet_xml: bytes) -> Extent | None:
    """An upper bound when every cell tag starts ``<c r="`` and has no second ``r``; else None.

    Cells in A1:Z99999 are counted by the bound alone; only the others are parsed.
    """
    if _PREFIXED_ROW_OR_CELL.search(sheet_xml) or _second_r(sheet_xml):
        return None
    rows = columns = 0
    if sheet_xml.find(b'<c r="') != -1:
        rows, columns = 99_999, 26
    for odd in _NOT_SMALL_CELL.finditer(sheet_xml):
        cell = _PLAIN_CELL.match(sheet_xml, odd.start())
        if cell is None:
            return None
        rows = max(rows, int(cell.group(2)))
        columns = max(columns, column_index(cell.group(1).decode().upper()))
    return Extent(rows, columns)


def _second_r(sheet_xml: bytes) -> bool:
    """Whether any attribute named ``r`` is not the first of a ``<c`` or ``<row`` tag.

    An ``r`` after white space and before ``=``, white space allowed between (more than eight
    bytes of it counts as a match): text such as "a r b" is not one.
    """
    data = np.frombuffer(sheet_xml, dtype=np.uint8)
    if len(data) < 32:
        return b"r" in sheet_xml
    end = len(data) - 10  # the document ends with </worksheet>; no attribute in the tail
    at = np.flatnonzero(data[5:end] == ord("r")) + 5
    at = at[_SPACE[data[at - 1]]]
    after = data[at + 1]
    spaced = at[_SPACE[after]]
    at = at[after == ord("=")]
    if len(spaced):  # "r =", "r\n=": look past the white space
        found = np.zeros(len(spaced), dtype=bool)
        spacing = np.ones(len(spaced), dtype=bool)
        for step in range(2, 10):
            after = data[spaced + step]
            found |= spacing & (after == ord("="))
            spacing &= _SPACE[after]
        at = np.concatenate([at, spaced[found | spacing]])
    after_c = (data[at - 2] == ord("c")) & (data[at - 3] == ord("<"))
    after_row = (
        (data[at - 2] == ord("w"))
        & (data[at - 3] == ord("o"))
        & (data[at - 4] == ord("r"))
        & (data[at - 5] == ord("<"))
    )
    return bool((~after_c & ~after_row).any())


def _extent_by_walking(sheet_xml: bytes) -> Extent | None:
    """Follow the reader's placement rules tag by tag (comments and CDATA removed first).

    Self-closing ``<row/>`` and ``<c/>`` are skipped by today's reader; they are counted as if
    they were read, which can only make the answer larger.
    """
    sheet_xml = _NOT_MARKUP.sub(b"", sheet_xml)
    row = column = 0  # the reader's 0-based current row and next column
    last_row = last_column = 0
    for closing, name, attrs in _ROW_OR_CELL.findall(sheet_xml):
        if closing:
            if name == b"row":
                row, column = row + 1, 0
            continue
        empty = attrs.rstrip().endswith(b"/")
        refs = _R_ATTR.findall(attrs)
        ref = b"".join(refs[-1]) if refs else None
        if name == b"row":
            if ref is not None:
                if not ref.isdigit():
                    return None
                row = max(row, int(ref)) if empty else int(ref) - 1
            elif empty:
                row += 1
            continue
        if ref is None:
            at_row, at_column = row, column
        else:
            found = _CELL_NAME.fullmatch(ref)
            if found is None:
                return None
            at_row = int(found.group(2)) - 1
            at_column = column_index(found.group(1).decode().upper()) - 1
        column = max(column, at_column + 1) if empty else at_column + 1
        last_row = max(last_row, at_row + 1)
        last_column = max(last_column, at_column + 1)
    return Extent(last_row, last_column)


def column_letters(number: int) -> str:
    """1 -> 'A', 28 -> 'AB', 16384 -> 'XFD' (any size)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
