"""Evidence files in a real headless Chromium: a 填报员 attaches a PDF and a photo to its
report on 报送, a renamed program is refused with a message naming it, the 督办员 reviewing
the report sees the photo's thumbnail and downloads the PDF byte for byte."""

from __future__ import annotations

import pytest

from bench.live import BROWSER_PASSWORD, BROWSER_USER, add_account, open_signed_in, wait_until_idle
from tests import evidence_samples as samples
from tracker.evidence import Evidence
from tracker.store import Store, make_engine
from tracker.supervision import Supervision

pytestmark = pytest.mark.browser
UNIT = "市科委"
STAFF = "证据填报员"


@pytest.fixture(scope="module")
def seed_browser_database():
    return lambda url: add_account(url, STAFF, "staff", units=[UNIT])


def _files(database: str) -> list[tuple[int, str, str, str]]:
    """(assignment, name, type, added by) of every file stored, read as the supervisor."""
    store = Store(make_engine(database))
    try:
        boss = store.accounts.sign_in(BROWSER_USER, BROWSER_PASSWORD)
        files = Evidence(store).files(user=boss)
        return [
            (int(f.assignment_id), f.file_name, f.mime, f.added_by)
            for f in files.itertuples(index=False)
        ]
    finally:
        store.engine.dispose()


def _upload(page, files: list[tuple[str, str, bytes]]) -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        [{"name": n, "mimeType": m, "buffer": b} for n, m, b in files]
    )
    page.get_by_role("button", name="上传", exact=True).click()
    wait_until_idle(page)


def test_staff_attach_a_pdf_and_a_photo_and_the_reviewer_opens_them(page, server, database):
    report, photo = samples.pdf(), samples.photo((1200, 900), "orange")
    open_signed_in(page, f"{server}/reporting", STAFF)
    page.wait_for_selector("h3:has-text('佐证文件')")
    _upload(
        page, [("验收报告.pdf", "application/pdf", report), ("现场照片.jpg", "image/jpeg", photo)]
    )
    page.wait_for_selector("text=已上传佐证文件")
    stored = _files(database)
    assert [(n, m, by) for _a, n, m, by in stored] == [
        ("验收报告.pdf", "application/pdf", STAFF),
        ("现场照片.jpg", "image/jpeg", STAFF),
    ]
    assignment = stored[0][0]

    # A program renamed .pdf: refused, named, nothing stored.
    _upload(page, [("会议纪要.pdf", "application/pdf", samples.exe())])
    refusal = page.locator('[data-testid="stAlertContentError"]', has_text="会议纪要.pdf")
    assert "可执行程序" in refusal.inner_text()
    assert len(_files(database)) == 2

    # The unit reports; the supervisor reviews it with the files in view.
    store = Store(make_engine(database))
    try:
        staff = store.accounts.sign_in(STAFF, BROWSER_PASSWORD)
        Supervision(store).acknowledge(assignment, user=staff)
        Supervision(store).submit(assignment, "已完成验收，附验收报告和现场照片。", user=staff)
    finally:
        store.engine.dispose()
    open_signed_in(page, f"{server}/review")
    page.wait_for_selector("text=佐证文件（2 个）")
    thumbnail = page.locator('[data-testid="stImage"] img').first
    thumbnail.wait_for()
    assert 0 < thumbnail.evaluate("img => img.naturalWidth") <= 360
    assert page.get_by_text("验收报告.pdf（PDF").count() == 1
    with page.expect_download() as download:
        page.get_by_role("button", name="下载").first.click()
    saved = download.value
    assert saved.suggested_filename == "验收报告.pdf"
    with open(saved.path(), "rb") as downloaded:
        assert downloaded.read() == report
