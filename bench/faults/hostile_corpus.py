"""The hostile workbooks: broken and foreign files an import must refuse without writing
anything, and the zip surgery that builds them (shared with the importer's fuzzing)."""

from __future__ import annotations

import io
import random
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from openpyxl.utils import get_column_letter

Corpus = list[tuple[str, str, Callable[[], bytes]]]  # (what, file name, how to build its bytes)


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return out.getvalue()


def members_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info.filename) for info in zf.infolist()}


def with_member(data: bytes, name: str, body: bytes | None, *, method: int | None = None) -> bytes:
    """``data`` with member ``name`` replaced, added if absent, or removed (``body`` None);
    ``method`` recompresses it."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            if info.filename != name:
                zout.writestr(info, zin.read(info.filename))
        if body is not None:
            zout.writestr(name, body, compress_type=method or zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _lying_size(data: bytes, name: str) -> bytes:
    """The central directory and local header of ``name`` claim 100 bytes uncompressed."""
    raw = bytearray(data)
    encoded = name.encode()
    for signature, name_at, size_at in ((b"PK\x01\x02", 46, 24), (b"PK\x03\x04", 30, 22)):
        at = raw.find(signature)
        while at != -1:
            if raw[at + name_at : at + name_at + len(encoded)] == encoded:
                raw[at + size_at : at + size_at + 4] = (100).to_bytes(4, "little")
            at = raw.find(signature, at + 4)
    return bytes(raw)


SHEET_XML = "xl/worksheets/sheet1.xml"
CAP_COLUMNS = [get_column_letter(n) for n in range(1, 63)]
_WORKSHEET = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)

FAR_CELL = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
DOCX_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
DOCX_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)


@dataclass(frozen=True)
class _Parts:
    """What the hostile files are built from."""

    template: bytes  # a real template holding one row the store refuses, and nothing else
    header: str  # the header row of a bare sheet
    unknown: str  # a data row naming no task
    plain: bytes  # a bare workbook of ``header`` and ``unknown``


def hostile_corpus(template: bytes) -> Corpus:
    """(what, file name, how to build its bytes) of workbooks an import must refuse without
    writing anything.  Built on demand: a few take seconds, and CI uses a few files only.

    Each is either refused as a file or, if it were read, holds a row the store refuses and
    nothing else to change, so "exit 2, nothing written" is the only right answer.
    ``template`` is a real, untouched template.
    """
    from tests.test_excel_import import inline_row, raw_xlsx
    from tests.test_import_hostile import FAR_AWAY, sheet_xlsx, with_cells

    header = inline_row(1, ["任务编号", "责任单位", "状态", "进展情况"])
    unknown = inline_row(2, ["no-such-task", "市测试001局", "推进中", "x"])
    # Read as it stands, the template would change nothing; with this row it is refused.
    parts = _Parts(with_cells(template, {"F3": 150}), header, unknown, raw_xlsx(header + unknown))
    corpus = [
        *_container(parts),
        *_extents(parts),
        *_macros_and_types(parts),
        *_foreign(parts),
        *_cells(parts),
        *_encodings(parts),
        *_sizes(parts),
        *_unread_parts(parts),
    ]
    corpus += [
        (f"far cell: {what}", f"far-{n}.xlsx", lambda rows=rows: sheet_xlsx(rows))
        for n, (what, rows) in enumerate(FAR_AWAY.items(), start=1)
    ]
    return corpus


def _container(parts: _Parts) -> Corpus:
    """Broken zip containers: truncated, bombs, lying sizes, duplicate or too many members."""
    from tests.test_excel_import import raw_xlsx

    template = parts.template
    header = parts.header
    unknown = parts.unknown
    plain = parts.plain
    return [
        (
            "truncated zip (first half)",
            "truncated-half.xlsx",
            lambda: template[: len(template) // 2],
        ),
        ("truncated zip (no end record)", "truncated-tail.xlsx", lambda: template[:-30]),
        (
            "zip bomb (64 MB of spaces in about 64 KB)",
            "zip-bomb.xlsx",
            lambda: raw_xlsx(
                header + unknown, extra={"xl/worksheets/sheet2.xml": b" " * 64 * 2**20}
            ),
        ),
        (
            "member lying about its size",
            "lying-size.xlsx",
            lambda: _lying_size(template, SHEET_XML),
        ),
        (
            "two members named sheet1.xml, the first reaching XFD1048576",
            "duplicate-member.xlsx",
            lambda: _duplicate_sheet(plain, header + FAR_CELL, header + unknown),
        ),
        (
            "2,500 zip members",
            "many-members.xlsx",
            lambda: raw_xlsx(
                header + unknown, extra={f"xl/media/m{n}.xml": b"<a/>" for n in range(2500)}
            ),
        ),
    ]


def _extents(parts: _Parts) -> Corpus:
    """Cells and dimensions at or past the sheet's limits."""
    from tests.test_excel_import import raw_xlsx
    from tests.test_import_hostile import sheet_xlsx

    header = parts.header
    unknown = parts.unknown
    return [
        ("one cell at XFD1048576", "xfd1048576.xlsx", lambda: raw_xlsx(header + FAR_CELL)),
        (
            "declared dimension A1:XFD1048576",
            "dimension.xlsx",
            lambda: sheet_xlsx(header + unknown, before='<dimension ref="A1:XFD1048576"/>'),
        ),
        (
            "row number past 2^32",
            "row-overflow.xlsx",
            lambda: raw_xlsx(header + '<row r="4294967298"><c r="A4294967298"><v>1</v></c></row>'),
        ),
        (
            "column past XFD",
            "column-overflow.xlsx",
            lambda: raw_xlsx(header + '<row r="2"><c r="ZZZZZ2"><v>1</v></c></row>'),
        ),
    ]


def _macros_and_types(parts: _Parts) -> Corpus:
    """Encrypted and macro workbooks, and content types that lie or are missing."""
    from tests.test_excel_import import compound_file

    template = parts.template
    return [
        (
            "password-protected (OLE EncryptedPackage)",
            "encrypted.xlsx",
            lambda: compound_file(["EncryptionInfo", "EncryptedPackage"]),
        ),
        ("macro-enabled workbook (.xlsm)", "macro.xlsm", lambda: template),
        (
            "vbaProject.bin inside an .xlsx",
            "vba-inside.xlsx",
            lambda: with_member(template, "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 vba"),
        ),
        (
            "content types declaring a macro workbook",
            "content-types-macro.xlsx",
            lambda: with_member(
                template,
                "[Content_Types].xml",
                members_of(template)["[Content_Types].xml"].replace(
                    b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
                ),
            ),
        ),
        (
            "no [Content_Types].xml",
            "content-types-missing.xlsx",
            lambda: with_member(template, "[Content_Types].xml", None),
        ),
    ]


def _foreign(parts: _Parts) -> Corpus:
    """Other formats dressed as a workbook, and no workbook at all."""
    from tests.test_excel_import import compound_file, raw_xlsx

    header = parts.header
    unknown = parts.unknown
    return [
        (
            "a Word document renamed .xlsx",
            "word.xlsx",
            lambda: _zip(
                {
                    "[Content_Types].xml": DOCX_TYPES.encode(),
                    "_rels/.rels": DOCX_RELS.encode(),
                    "word/document.xml": b'<?xml version="1.0"?><document/>',
                }
            ),
        ),
        (
            "an OpenDocument spreadsheet renamed .xlsx",
            "ods.xlsx",
            lambda: _zip(
                {
                    "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                    "content.xml": b'<?xml version="1.0"?><office:document-content/>',
                },
                zipfile.ZIP_STORED,
            ),
        ),
        (
            "a binary workbook part (.xlsb)",
            "xlsb-inside.xlsx",
            lambda: raw_xlsx(header + unknown, extra={"xl/workbook.bin": b"\x83\x01\x00"}),
        ),
        (
            "a CSV renamed .xlsx",
            "csv.xlsx",
            lambda: "任务编号,责任单位,状态\nsynth-0001-m01-t1,市测试001局,已完成\n".encode(
                "utf-8-sig"
            ),
        ),
        (
            "HTML saved as .xlsx",
            "html.xlsx",
            lambda: b"<html><table><tr><td>1</td></tr></table></html>",
        ),
        ("a legacy .xls", "legacy.xls", lambda: compound_file(["Workbook"])),
        ("a legacy .xls renamed .xlsx", "legacy-renamed.xlsx", lambda: compound_file(["Workbook"])),
        ("an empty file", "empty.xlsx", lambda: b""),
        ("random bytes", "random.xlsx", lambda: random.Random(1).randbytes(64 * 1024)),
    ]


def _cells(parts: _Parts) -> Corpus:
    """Formulas, shared strings out of bounds or in bulk, huge text, entity expansion."""
    from tests.test_excel_import import BILLION_LAUGHS, fill, inline_row, raw_xlsx

    template = parts.template
    header = parts.header
    return [
        (
            "formulas in every progress cell",
            "formulas.xlsx",
            lambda: _with_formulas(template, fill),
        ),
        (
            "a formula cell without a reference",
            "formula-no-ref.xlsx",
            lambda: raw_xlsx(header + '<row r="2"><c><f>1+1</f><v>2</v></c></row>'),
        ),
        (
            "200,000 shared strings",
            "shared-strings.xlsx",
            lambda: _many_shared_strings(header),
        ),
        (
            "a shared-string index past the table",
            "shared-index.xlsx",
            lambda: raw_xlsx(header + '<row r="2"><c r="A2" t="s"><v>4294967295</v></c></row>'),
        ),
        (
            "one cell of a million characters",
            "long-text.xlsx",
            lambda: raw_xlsx(
                header + inline_row(2, ["no-such-task", "市测试001局", "推进中", _long_text()])
            ),
        ),
        (
            "billion laughs in the shared strings",
            "billion-laughs.xlsx",
            lambda: raw_xlsx(
                header + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>',
                shared=BILLION_LAUGHS
                + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                "<si><t>&lol9;</t></si></sst>",
            ),
        ),
    ]


def _encodings(parts: _Parts) -> Corpus:
    """Odd encodings, deep nesting, a reader-panicking date, rare compression methods."""
    from tests.test_excel_import import raw_xlsx
    from tests.test_import_hostile import Number, with_cells

    template = parts.template
    header = parts.header
    unknown = parts.unknown
    plain = parts.plain
    return [
        (
            "a sheet in UTF-16",
            "utf16.xlsx",
            lambda: with_member(
                plain,
                SHEET_XML,
                (_WORKSHEET + f"<sheetData>{header}{unknown}</sheetData></worksheet>")
                .replace('encoding="UTF-8"', 'encoding="UTF-16"')
                .encode("utf-16"),
            ),
        ),
        (
            "100,000 nested elements in the sheet",
            "nested.xlsx",
            lambda: raw_xlsx(header + unknown + f'<row r="3"><c r="A3">{_NESTED}</c></row>'),
        ),
        (
            "100,000 nested elements in workbook.xml",
            "nested-book.xlsx",
            lambda: with_member(
                template,
                "xl/workbook.xml",
                members_of(template)["xl/workbook.xml"].replace(
                    b"</workbook>", _NESTED.encode() + b"</workbook>"
                ),
            ),
        ),
        (
            "a date cell holding -1e12",
            "date-panic.xlsx",
            lambda: with_cells(template, {"G3": Number("-1e12")}),
        ),
        (
            "the sheet compressed with LZMA",
            "lzma.xlsx",
            lambda: with_member(
                plain, SHEET_XML, members_of(plain)[SHEET_XML], method=zipfile.ZIP_LZMA
            ),
        ),
        (
            "the sheet compressed with bzip2",
            "bzip2.xlsx",
            lambda: with_member(
                plain, SHEET_XML, members_of(plain)[SHEET_XML], method=zipfile.ZIP_BZIP2
            ),
        ),
    ]


def _sizes(parts: _Parts) -> Corpus:
    """Sheets at the cell cap and past the row cap."""
    from tests.test_excel_import import raw_xlsx

    header = parts.header
    return [
        (
            "a sheet at the 4,000,000-cell cap (62 columns × 64,000 rows, 10 MB)",
            "cell-cap.xlsx",
            lambda: raw_xlsx(
                "".join(
                    f'<row r="{r}">'
                    + "".join(
                        f'<c r="{letter}{r}"><v>{(r * 7 + i) % 10}</v></c>'
                        for i, letter in enumerate(CAP_COLUMNS)
                    )
                    + "</row>"
                    for r in range(1, 64_001)
                )
            ),
        ),
        (
            "100,002 data rows",
            "too-many-rows.xlsx",
            lambda: raw_xlsx(
                header
                + "".join(
                    f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(2, 100_004)
                )
            ),
        ),
    ]


COMMENTS_XML = "xl/comments1.xml"


def packed_filler(size: int) -> bytes:
    """``size`` bytes that deflate about 47:1 (a random digit every 48 spaces): under the
    gate's compression-ratio limit, so only a part's size can refuse it.  A 350 MB part packs
    into 7.4 MB, within the 20 MB upload limit."""
    import numpy as np

    body = np.full(size, ord(" "), dtype=np.uint8)
    marks = np.arange(0, size, 48)
    body[marks] = np.random.default_rng(7).integers(48, 58, len(marks), dtype=np.uint8)
    return body.tobytes()


def with_unread_part(template: bytes, name: str, size: int, *, lying: bool = False) -> bytes:
    """``template`` with a part nobody reads of ``size`` bytes (a comment part, custom XML);
    ``lying``: its zip headers claim 100 bytes (spaces then, which pack tightest)."""
    body = b" " * size if lying else packed_filler(size)
    data = with_member(template, name, b"<comments>" + body + b"</comments>")
    return _lying_size(data, name) if lying else data


def _unread_parts(parts: _Parts) -> Corpus:
    """Huge parts the importer never reads: refused by their declared size, never inflated
    (they once cost about 1 GB and up to 28 s each)."""
    template = parts.template
    mb = 1024 * 1024
    return [
        (
            "a 350 MB comment part (7 MB packed)",
            "comments-350mb.xlsx",
            lambda: with_unread_part(template, COMMENTS_XML, 350 * mb),
        ),
        (
            "two unused 290 MB parts (12 MB packed)",
            "unused-parts.xlsx",
            lambda: with_unread_part(
                with_unread_part(template, "customXml/item1.xml", 290 * mb),
                "xl/media/unused.bin",
                290 * mb,
            ),
        ),
        (
            "a 256 MB comment part whose zip headers claim 100 bytes",
            "lying-unread.xlsx",
            lambda: with_unread_part(template, COMMENTS_XML, 256 * mb, lying=True),
        ),
    ]


def _long_text() -> str:
    rng = random.Random(7)
    return "".join(chr(0x4E00 + rng.randrange(2000)) for _ in range(2**20))


def _many_shared_strings(header: str) -> bytes:
    from tests.test_excel_import import raw_xlsx

    rng = random.Random(7)
    strings = [f"{rng.getrandbits(64):016x}" for _ in range(200_000)]
    shared = (
        f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">'
        + "".join(f"<si><t>{s}</t></si>" for s in strings)
        + "</sst>"
    )
    rows = header + "".join(
        f'<row r="{n}"><c r="A{n}" t="s"><v>{n}</v></c><c r="B{n}" t="s"><v>{n + 1}</v></c></row>'
        for n in range(2, 2000)
    )
    return raw_xlsx(rows, shared=shared)


_NESTED = "<x>" * 100_000 + "</x>" * 100_000


def _duplicate_sheet(data: bytes, first: str, second: str) -> bytes:
    out = io.BytesIO()
    with (
        warnings.catch_warnings(),
        zipfile.ZipFile(io.BytesIO(data)) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name: the point
        for info in zin.infolist():
            if info.filename != SHEET_XML:
                zout.writestr(info, zin.read(info.filename))
                continue
            for rows in (first, second):
                zout.writestr(SHEET_XML, f"{_WORKSHEET}<sheetData>{rows}</sheetData></worksheet>")
    return out.getvalue()


def _with_formulas(template: bytes, fill: Callable) -> bytes:
    """Every row's 完成比例 a formula (=50) and 进展情况 a HYPERLINK formula."""
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(template)).worksheets[0]
    keys = [(sheet.cell(r, 1).value, sheet.cell(r, 2).value) for r in range(3, sheet.max_row + 1)]
    edits = {
        key: {"完成比例(%)": "=50", "进展情况": '=HYPERLINK("http://x.invalid","x")'}
        for key in keys
    }
    return fill(template, edits, as_text=False)
