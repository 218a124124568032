"""通知记录 and the failures on 催办 under AppTest, signed in through the form: a supervisor
sees every unit's notices and their failures, a 填报员 only its own units', an admin sets an
e-mail address on the page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import tasks_frame
from tests.factories import DASHBOARD, on_page, shown_text
from tracker import notices as nt
from tracker.contacts import Contacts
from tracker.progress import now
from tracker.schema import ADMIN, STAFF, SUPERVISOR
from tracker.store import Store, make_engine

TASKS = [
    ("demo-m01-t1", "甲任务", "市科委", "lead", 1),
    ("demo-m02-t1", "乙任务", "市财政局", "lead", 1),
]


@pytest.fixture
def seeded(app_env_of) -> Iterator[tuple[AppTest, Store]]:
    """The app's database with one 催办 notice per unit, neither unit having a receiver:
    two notices that failed, each saying why."""
    app_env_of(tasks_frame(TASKS))
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    store = Store(make_engine())  # DATABASE_URL, as app_env_of set it
    events = [
        nt.remind_event(unit, 1, "请尽快报送", now(), base_url="http://x")
        for unit in ("市科委", "市财政局")
    ]
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        assert nt.enqueue(conn, events, now(), keep_unreachable=True) == 2
    yield at, store
    store.engine.dispose()


def test_supervisor_sees_every_notice_and_the_failures_on_reminders(seeded) -> None:
    at, _ = seeded
    on_page(at, "pages/notices.py", "督办甲", SUPERVISOR)
    table = at.dataframe[0].value
    assert sorted(table["责任单位"]) == ["市科委", "市财政局"]
    assert set(table["状态"]) == {"发送失败"}
    assert set(table["失败原因"]) == {"该单位未登记接收人（邮箱或群机器人）"}
    assert "发送失败 2" in at.caption[0].value
    at.switch_page("pages/reminders.py")
    at.run()
    assert not at.exception, at.exception
    assert [shown_text(w.value) for w in at.warning][0].startswith("有 2 条通知发送失败")


def test_staff_sees_only_its_units_and_an_admin_sets_an_email(seeded) -> None:
    at, store = seeded
    on_page(at, "pages/notices.py", "kw01", STAFF, ["市科委"])
    assert list(at.dataframe[0].value["责任单位"]) == ["市科委"]
    assert not at.get("form")  # no contact settings for staff

    admin = on_page(
        AppTest.from_file(DASHBOARD, default_timeout=60), "pages/notices.py", "管理员甲", ADMIN
    )
    admin.selectbox(key="notices_user").select("kw01")
    admin.text_input(key="notices_email_address").input("kw01@example.gov.cn")
    admin.button[0].click()  # the first form's submit button: 保存邮箱
    admin.run()
    assert not admin.exception, admin.exception
    people = Contacts(store).accounts_table().set_index("username")
    assert people.at["kw01", "email"] == "kw01@example.gov.cn"
