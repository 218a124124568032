"""Evidence files on the pages under AppTest, signed in through the form: 审核 shows the
reviewer the files of a report (names, types, downloads, a thumbnail for a photo), 报送
lists a unit's files and removes one as the signed-in account, keeping it in the history."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from excel.evidence_gate import check_upload
from tests import evidence_samples as samples
from tests.conftest import tasks_frame
from tests.factories import DASHBOARD, shown_text, sign_in_app, staff
from tracker.evidence import Evidence
from tracker.schema import STAFF
from tracker.store import Store, make_engine
from tracker.supervision import Supervision

TASKS = [
    ("demo-m01-t1", "甲任务", "市科委", "lead", 1),
    ("demo-m01-t1", "甲任务", "市财政局", "support", 2),
]


@pytest.fixture
def seeded(app_env_of) -> Iterator[tuple[AppTest, Store, int]]:
    """The app's database with 市财政局's report on 甲任务 submitted and two files on it."""
    url = app_env_of(tasks_frame(TASKS))
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    store = Store(make_engine(url))
    rows = store.assignments()
    aid = int(rows[rows.unit == "市财政局"].assignment_id.iloc[0])
    cz = staff(store, "市财政局", "财政填报员")
    Evidence(store).attach(
        aid,
        [check_upload(samples.pdf(), "验收报告.pdf"), check_upload(samples.photo(), "现场.jpg")],
        user=cz,
    )
    Supervision(store).acknowledge(aid, user=cz)
    Supervision(store).submit(aid, "已完成，附验收报告", user=cz)
    yield at, store, aid
    store.engine.dispose()


def _captions(at: AppTest) -> list[str]:
    return [shown_text(c.value) for c in at.caption]


def test_the_lead_unit_reviews_a_report_with_its_files(seeded) -> None:
    at, _store, aid = seeded
    sign_in_app(at, "科委审核员", STAFF, ["市科委"])
    at.switch_page("pages/review.py")
    at.run()
    assert not at.exception, at.exception
    captions = _captions(at)
    assert "佐证文件（2 个）" in captions
    assert any(c.startswith("验收报告.pdf（PDF，") and c.endswith("共 1 页") for c in captions)
    assert any(c.startswith("现场.jpg（JPG，") for c in captions)
    downloads = [e for e in at.get("download_button") if "evidence_download" in str(e.proto.id)]
    assert len(downloads) == 2
    assert len(at.get("image")) == 1  # the photo's thumbnail; a PDF shows its page count


def test_the_unit_removes_a_file_on_reporting_and_the_history_keeps_it(seeded) -> None:
    at, store, aid = seeded
    sign_in_app(at, "财政填报员", STAFF, ["市财政局"])
    at.switch_page("pages/reporting.py")
    at.run()
    assert not at.exception, at.exception
    files = Evidence(store).files([aid], user=store.accounts.account("财政填报员"))
    photo_id = int(files[files.file_name == "现场.jpg"].file_id.iloc[0])
    at.button(key=f"evidence_remove_reporting_{aid}_{photo_id}").click()
    at.run()
    assert not at.exception, at.exception
    assert any("已删除佐证文件「现场.jpg」" in shown_text(s.value) for s in at.success)
    left = Evidence(store).files([aid], user=store.accounts.account("财政填报员"))
    assert left["file_name"].tolist() == ["验收报告.pdf"]
    history = store.history(assignment_ids=[aid], fields=["evidence_file"])
    assert history.iloc[0]["old_value"].startswith("现场.jpg（")
    assert history.iloc[0]["changed_by"] == "财政填报员"
