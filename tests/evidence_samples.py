"""Evidence files for the tests, made here byte by byte: good ones of every accepted type and
the hostile ones the gate must refuse (a renamed program, a zip bomb inside a .docx, a
50,000 × 50,000 PNG of a few hundred bytes, polyglots)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import openpyxl
from PIL import Image
from pypdf import PdfWriter

UPLOADS = Path(__file__).resolve().parent / "data" / "uploads"


def pdf() -> bytes:
    """A real two-page-or-more policy PDF from tests/data."""
    return (UPLOADS / "shuzi-keji-2025-8.pdf").read_bytes()


def blank_pdf(pages: int) -> bytes:
    """A PDF of ``pages`` blank A4 pages."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx() -> bytes:
    return (UPLOADS / "shuzi-keji-2025-8.docx").read_bytes()


def xlsx() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(["验收项目", "金额"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def photo(size: tuple[int, int] = (640, 480), color: str = "green") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="JPEG")
    return out.getvalue()


def png(size: tuple[int, int] = (300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "blue").save(out, format="PNG")
    return out.getvalue()


def exe() -> bytes:
    """The start of a Windows program (MZ header, PE offset), as a renamed .exe would be."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(50) + b"\x80\x00\x00\x00" + bytes(200)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def huge_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A valid PNG header claiming width × height pixels, with one small compressed row:
    a decoder that trusted it would ask for 7.5 GB."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * (width * 3 + 1)))
        + _chunk(b"IEND", b"")
    )


def docx_bomb() -> bytes:
    """The real .docx with one more member: 30 MB of zeros that deflate to ~30 KB (ratio ~1000:1)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(docx())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info, source.read(info))
        with target.open("word/media/bomb.bin", "w", force_zip64=True) as member:
            block = bytes(1024 * 1024)
            for _ in range(30):
                member.write(block)
    return out.getvalue()


def jpeg_zip_polyglot() -> bytes:
    """A photo that is also a zip (a script inside): opens as a picture and as an archive."""
    tail = io.BytesIO()
    with zipfile.ZipFile(tail, "w") as zf:
        zf.writestr("run.bat", "@echo off\r\nformat c:\r\n")
    return photo() + tail.getvalue()


def pdf_html_polyglot() -> bytes:
    """A PDF whose first kilobyte is also a web page with a script."""
    body = pdf()
    return body[:9] + b"%<html><script>alert(1)</script>\n" + body[9:]


OLE_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
