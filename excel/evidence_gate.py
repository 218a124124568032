"""The gate for evidence files (佐证文件): decide from the bytes alone what an upload is and
whether we keep it, before it reaches the store (:mod:`tracker.evidence`).

Accepted: PDF, Word .docx, Excel .xlsx, JPG and PNG, each recognised by its content, never by
its name: a program renamed ``报告.pdf`` is refused as a program.  Office files go through the
import's zip gate (:func:`excel.safety.check_office_zip`: bombs, encryption, macros, DTDs);
PDFs must open in pypdf without a password; images must open in Pillow within its
decompression-bomb limit (a 50,000 × 50,000 PNG of a few kilobytes is refused before a pixel
is decoded) and pass its integrity check.  A polyglot — a file that is also a zip, a PDF or a
web page, e.g. a JPEG with a zip appended — is refused too.  Every refusal is an
:class:`~tracker.errors.ImportFileError` naming the file.

>>> check_upload(b"MZ\\x90\\x00" + bytes(60), "会议纪要.pdf")
Traceback (most recent call last):
...
tracker.errors.ImportFileError: 会议纪要.pdf: 文件内容是可执行程序或脚本，不能作为佐证材料（类型以文件内容为准，与扩展名无关）
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterable
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from excel.safety import OLE_MAGIC, ZIP_MAGIC, check_office_zip
from tracker.errors import ImportFileError, TrackerError
from tracker.evidence import (
    ACCEPTED,
    JPEG,
    OFFICE_MAIN_PART,
    PDF,
    PNG,
    CheckedFile,
    clean_name,
    max_bytes,
)

# Pixels an image may have: a 50-megapixel photo fits; Pillow's own bomb limit is higher.
MAX_IMAGE_PIXELS = 60_000_000
THUMBNAIL_BOX = (360, 360)
_EXECUTABLES = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe")
_SCRIPTS = (b"#!", b"@echo", b"<?php")
_WEB_MARKERS = (b"<html", b"<script", b"<!doctype html", b"<svg", b"<iframe")
_ZIP_END = b"PK\x05\x06"
_ZIP_TAIL = 65_557  # a zip's end record sits within this many bytes of the end
_PNG_END = b"IEND\xaeB`\x82"


def read_upload(source: bytes | BinaryIO, file_name: str, limit: int | None = None) -> bytes:
    """The bytes of an upload, refusing one over the size limit without reading it all."""
    limit = max_bytes() if limit is None else limit
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            source.seek(0)
        data = source.read(limit + 1)
    if len(data) > limit:
        raise ImportFileError(
            f"文件超过 {limit // (1024 * 1024)} MB 上限，未保存", file=clean_name(file_name)
        )
    return data


def check_upload(data: bytes, file_name: str, *, limit: int | None = None) -> CheckedFile:
    """``data`` as a file we keep, its type read from the content; else ImportFileError."""
    name = clean_name(file_name)
    data = read_upload(data, name, limit)
    if not data:
        raise ImportFileError("文件是空的", file=name)
    head = data[:1024].lower()
    if data.startswith(_EXECUTABLES) or head.lstrip().startswith(_SCRIPTS):
        raise ImportFileError(
            "文件内容是可执行程序或脚本，不能作为佐证材料（类型以文件内容为准，与扩展名无关）",
            file=name,
        )
    if data.startswith(OLE_MAGIC):
        raise ImportFileError(
            "这是旧版 Office（.doc/.xls）文件，请另存为 .docx 或 .xlsx 后再上传", file=name
        )
    if data.startswith(b"%PDF-"):
        mime = _check_pdf(data, name)
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        mime = _check_image(data, name, "PNG")
    elif data.startswith(b"\xff\xd8\xff"):
        mime = _check_image(data, name, "JPEG")
    elif data.startswith(ZIP_MAGIC):
        mime = _check_office(data, name)
    else:
        raise ImportFileError(f"不支持的文件类型，仅接受 {ACCEPTED}", file=name)
    _refuse_polyglot(data, mime, name)
    return CheckedFile(file_name=name, mime=mime, data=data)


def check_uploads(
    uploads: Iterable[tuple[str, bytes | BinaryIO]],
) -> tuple[list[CheckedFile], list[TrackerError]]:
    """Each ``(name, bytes or file)`` through :func:`check_upload`: the accepted files and
    the refusals (each naming its file), so one bad file does not hold up the others."""
    accepted: list[CheckedFile] = []
    refused: list[TrackerError] = []
    for name, source in uploads:
        try:
            accepted.append(check_upload(read_upload(source, name), name))
        except TrackerError as exc:
            refused.append(exc)
    return accepted, refused


def _check_pdf(data: bytes, name: str) -> str:
    try:
        with _quiet_pypdf():
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise ImportFileError(
                    "PDF 设置了密码，审核人无法打开；请取消密码后再上传", file=name
                )
            pages = len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ImportFileError(f"PDF 已损坏，无法打开（{str(exc)[:80]}）", file=name) from None
    if pages == 0:
        raise ImportFileError("PDF 没有任何页面", file=name)
    return PDF


def _check_image(data: bytes, name: str, kind: str) -> str:
    try:
        with warnings.catch_warnings():
            # Pillow warns past MAX_IMAGE_PIXELS and raises past twice that: both refuse.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if image.format != kind:
                    raise ImportFileError("图片内容与其文件头不符", file=name)
                if width * height > MAX_IMAGE_PIXELS:
                    raise ImportFileError(
                        f"图片尺寸过大（{width}×{height}），疑似解压炸弹；"
                        f"请缩小到 {MAX_IMAGE_PIXELS // 1_000_000:,} 百万像素以内",
                        file=name,
                    )
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImportFileError("图片像素数超出上限，疑似解压炸弹，拒绝保存", file=name) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImportFileError(f"图片已损坏，无法打开（{str(exc)[:80]}）", file=name) from None
    if kind == "PNG" and not data.endswith(_PNG_END):
        raise ImportFileError(
            "PNG 图片结束之后还附有其他数据（多格式混合文件），拒绝保存", file=name
        )
    return PNG if kind == "PNG" else JPEG


def _check_office(data: bytes, name: str) -> str:
    names = check_office_zip(data, name)
    kinds = [mime for mime, part in OFFICE_MAIN_PART.items() if part in names]
    if len(kinds) != 1:
        raise ImportFileError("压缩包不是 Word（.docx）或 Excel（.xlsx）文件", file=name)
    return kinds[0]


def _refuse_polyglot(data: bytes, mime: str, name: str) -> None:
    """A file that other readers take for another type: a zip end record in a PDF or an
    image, a PDF header after the start, HTML or SVG markup near the start."""
    head = data[:1024].lower()
    mixed = (
        (mime not in OFFICE_MAIN_PART and _ZIP_END in data[-_ZIP_TAIL:])
        or (mime != PDF and b"%pdf-" in head)
        or any(marker in head for marker in _WEB_MARKERS)
    )
    if mixed:
        raise ImportFileError(
            "文件同时含有另一种格式的内容（多格式混合文件），拒绝保存；请重新导出后再上传",
            file=name,
        )


@contextlib.contextmanager
def _quiet_pypdf():
    """pypdf logs every repair it makes to a damaged file; the refusal says enough."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


# --- what reviewers see ----------------------------------------------------------------------


def thumbnail(data: bytes, box: tuple[int, int] = THUMBNAIL_BOX) -> bytes | None:
    """A small PNG of an image that passed the gate (turned as its camera says), or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.size[0] * image.size[1] > MAX_IMAGE_PIXELS:
                    return None
                image.draft("RGB", box)  # JPEG: decode at a fraction of the size
                small = ImageOps.exif_transpose(image)
                small.thumbnail(box)
                if small.mode not in ("RGB", "RGBA", "L"):
                    small = small.convert("RGBA")
                out = io.BytesIO()
                small.save(out, format="PNG")
                return out.getvalue()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, OSError, ValueError):
        return None


def pdf_pages(data: bytes) -> int | None:
    """How many pages a PDF has (None when it cannot be read)."""
    try:
        with _quiet_pypdf():
            return len(PdfReader(io.BytesIO(data)).pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None
