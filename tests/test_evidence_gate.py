"""The evidence gate on bytes alone: every accepted type recognised by content, the hostile
files refused with a message naming the file, names and thumbnails made safe."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from excel.evidence_gate import check_upload, check_uploads, pdf_pages, thumbnail
from tests import evidence_samples as samples
from tracker.errors import ImportFileError
from tracker.evidence import DOCX, JPEG, PDF, PNG, XLSX, clean_name, download_name, magic_type


@pytest.mark.parametrize(
    ("make", "name", "mime"),
    [
        (samples.pdf, "验收报告.pdf", PDF),
        (samples.docx, "实施方案.docx", DOCX),
        (samples.xlsx, "经费明细.xlsx", XLSX),
        (samples.photo, "现场照片.jpg", JPEG),
        (samples.png, "截图.png", PNG),
    ],
)
def test_accepted_types_are_read_from_the_content(make, name, mime) -> None:
    data = make()
    checked = check_upload(data, name)
    assert (checked.mime, checked.file_name, checked.data) == (mime, name, data)
    # The name does not decide: the same bytes under a wrong name keep their type.
    assert check_upload(data, "材料.txt").mime == mime


@pytest.mark.parametrize(
    ("make", "name", "reason"),
    [
        (samples.exe, "会议纪要.pdf", "可执行程序"),
        (samples.docx_bomb, "实施方案.docx", "压缩炸弹"),
        (samples.huge_png, "现场照片.png", "解压炸弹"),
        (samples.jpeg_zip_polyglot, "照片.jpg", "多格式混合"),
        (samples.pdf_html_polyglot, "通知.pdf", "多格式混合"),
        (lambda: b"name,amount\n1,2\n", "台账.xlsx", "不支持的文件类型"),
        (lambda: samples.OLE_HEADER, "旧表.xls", "旧版 Office"),
        (lambda: samples.png() + b"trailing", "截图.png", "附有其他数据"),
        (lambda: samples.pdf()[:400], "截断.pdf", "PDF 已损坏"),
        (lambda: b"", "空.pdf", "文件是空的"),
    ],
)
def test_hostile_and_broken_files_are_refused_naming_the_file(make, name, reason) -> None:
    with pytest.raises(ImportFileError, match=reason) as refused:
        check_upload(make(), name)
    assert str(refused.value).startswith(f"{name}: ")


def test_a_file_over_the_limit_is_refused_before_it_is_read_whole() -> None:
    upload = io.BytesIO(samples.pdf())
    with pytest.raises(ImportFileError, match="超过 1 MB 上限"):
        check_upload(samples.pdf() + bytes(1024 * 1024), "大.pdf", limit=1024 * 1024)
    accepted, refused = check_uploads([("a.pdf", upload), ("b.pdf", samples.exe())])
    assert [f.file_name for f in accepted] == ["a.pdf"]
    assert [e.file for e in refused] == ["b.pdf"]


def test_magic_type_names_office_files_by_their_main_part() -> None:
    assert magic_type(samples.docx()) == DOCX
    assert magic_type(samples.xlsx()) == XLSX
    assert magic_type(samples.exe()) is None


def test_names_are_text_without_folders_and_downloads_end_in_the_stored_type() -> None:
    assert clean_name("C:\\Users\\张三\\桌面\\验收\n报告.pdf") == "验收 报告.pdf"
    assert clean_name("\u202egnp.exe") == "gnp.exe"  # right-to-left override dropped
    assert clean_name("..") == "未命名文件"
    assert download_name('a"b;c.html', PNG) == "a_b_c.html.png"
    assert download_name("照片.JPEG", JPEG) == "照片.JPEG"


@given(st.text(max_size=300))
def test_any_name_cleans_to_short_printable_text(name: str) -> None:
    cleaned = clean_name(name)
    assert 0 < len(cleaned) <= 120
    assert "/" not in cleaned and "\\" not in cleaned
    assert all(ch.isprintable() for ch in cleaned)


def test_thumbnails_are_small_pngs_and_pdf_pages_are_counted() -> None:
    small = thumbnail(samples.photo((4000, 3000)))
    assert small is not None
    with Image.open(io.BytesIO(small)) as image:
        assert image.format == "PNG" and max(image.size) <= 360
    assert thumbnail(samples.huge_png()) is None
    assert pdf_pages(samples.pdf()) == 1  # pdfinfo says: Pages: 1
    assert pdf_pages(samples.blank_pdf(3)) == 3
