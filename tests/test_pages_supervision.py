"""The supervision pages under AppTest, signed in through the sign-in form: 报送 (a unit
signs, reports, asks for more time), 审核 (a lead unit sends a support report back, a
supervisor approves an extension), 催办 (the list, the notice, one click records it) and
通报 (a leader reads the rankings)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import tasks_frame
from tests.factories import DASHBOARD, aid_of, on_page, shown_text, sign_in_app, signed_in, staff
from tracker import rankings as rk
from tracker import reminders as rm
from tracker import supervision as sv
from tracker.progress import Update, now
from tracker.schema import (
    EXTENSION_REQUESTED,
    LEADER,
    RETURNED,
    STAFF,
    SUBMITTED,
    SUPERVISOR,
)
from tracker.store import Store, make_engine

TASKS = [
    ("demo-m01-t1", "甲任务", "市科委", "lead", 1),
    ("demo-m01-t1", "甲任务", "市财政局", "support", 2),
    ("demo-m02-t1", "乙任务", "市财政局", "lead", 1),
]


@pytest.fixture
def app_env(app_env_of) -> str:
    return app_env_of(tasks_frame(TASKS))


@pytest.fixture
def seeded(app_env) -> Iterator[tuple[AppTest, Store]]:
    """A first run of the app (which creates and seeds the database) and a store on it."""
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    store = Store(make_engine(app_env))
    yield at, store
    store.engine.dispose()


def set_due(store: Store, boss, aid: int, days: int) -> None:
    version = int(store.assignments().set_index("assignment_id").at[aid, "version"])
    due = (now().date() + timedelta(days=days)).isoformat()
    store.apply([Update(aid, version, {"due_date": due})], user=boss, source="web")


def test_reporting_page_signs_reports_and_asks_for_more_time(seeded) -> None:
    at, store = seeded
    boss, cz = signed_in(store), staff(store, "市财政局")
    support = aid_of(store, "demo-m01-t1", "市财政局")
    set_due(store, boss, support, 10)
    supervision = sv.Supervision(store)
    supervision.remind([("市财政局", 1, "请报送")], user=boss)

    on_page(at, "pages/reporting.py", cz.username, STAFF, ["市财政局"])
    assert at.title[0].value == "报送"
    assert at.selectbox(key="reporting_unit").options == ["市财政局"]
    board = at.dataframe[0].value
    assert board["任务"].tolist() == ["〔2026〕1号·2-1", "〔2026〕1号·1-1"]  # lead tasks first
    assert board["报送状态"].tolist() == ["未签收", "未签收"]
    assert any("已收到催办 1 次" in w.value for w in at.warning)

    at.selectbox(key="reporting_task").select(support)
    at.run()
    # No steps yet: a note in Chinese, not an empty grid saying "empty".
    assert "该任务尚无办理记录。" in [i.value for i in at.info]
    assert "环节" not in at.dataframe[-1].value.columns
    at.button(key="reporting_acknowledge").click()
    at.run()
    assert [shown_text(s.value) for s in at.success] == ["已签收任务 〔2026〕1号·1-1。"]
    at.text_area[0].input("完成需求调研，形成清单")
    at.button(key="reporting_submit").click()
    at.run()
    at.button(key="reporting_confirm").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    new_due = now().date() + timedelta(days=40)
    at.date_input(key="reporting_new_due").set_value(new_due)
    at.text_area(key="reporting_reason").input("等待上级批复")
    at.button(key="reporting_extend").click()
    at.run()
    assert not at.error, [e.value for e in at.error]

    steps = supervision.steps(assignment_ids=[support])
    assert steps["action"].tolist() == ["acknowledged", SUBMITTED, EXTENSION_REQUESTED]
    assert steps["text"].tolist() == ["", "完成需求调研，形成清单", "等待上级批复"]
    assert steps["due_date"].tolist()[-1] == new_due
    assert set(steps["acted_by"]) == {cz.username}
    assert at.dataframe[0].value["报送状态"].tolist() == ["未签收", "已报送"]
    history = at.dataframe[-1].value
    assert history["环节"].tolist() == ["申请延期", "报送", "签收"]


def test_reporting_search_narrows_the_board_and_the_picker(seeded, monkeypatch) -> None:
    """The picker offers only matching tasks, at most sv.PICKER_LIMIT of them (a unit with
    14,500 assignments sent every one to the browser on each rerun)."""
    at, store = seeded
    cz = staff(store, "市财政局")
    support = aid_of(store, "demo-m01-t1", "市财政局")
    sv.Supervision(store).acknowledge(support, user=cz)
    on_page(at, "pages/reporting.py", cz.username, STAFF, ["市财政局"])
    assert len(at.selectbox(key="reporting_task").options) == 2

    at.text_input(key="reporting_search").input("乙任务").run()
    assert at.dataframe[0].value["任务"].tolist() == ["〔2026〕1号·2-1"]
    offered = at.selectbox(key="reporting_task").options
    assert [o.split("（")[0] for o in offered] == ["〔2026〕1号·2-1"]

    at.text_input(key="reporting_search").input("M01-T1").run()  # ids match in any case
    assert at.dataframe[0].value["任务编号"].tolist() == ["demo-m01-t1"]

    at.text_input(key="reporting_search").input("").run()
    at.selectbox(key="reporting_state").select("acknowledged").run()
    assert at.dataframe[0].value["报送状态"].tolist() == ["已签收"]
    at.text_input(key="reporting_search").input("乙任务").run()
    assert "没有符合条件的任务。" in [i.value for i in at.info]
    assert "reporting_task" not in [b.key for b in at.selectbox]  # nothing to act on

    monkeypatch.setattr(sv, "PICKER_LIMIT", 1)
    at.text_input(key="reporting_search").input("").run()
    at.selectbox(key="reporting_state").select(None).run()
    assert len(at.selectbox(key="reporting_task").options) == 1
    assert any("共 2 项任务符合条件" in c.value for c in at.caption)


def test_review_page_lead_sends_back_and_supervisor_approves_an_extension(seeded) -> None:
    at, store = seeded
    boss, kw, cz = signed_in(store), staff(store, "市科委"), staff(store, "市财政局")
    lead, support = aid_of(store, "demo-m01-t1", "市科委"), aid_of(store, "demo-m01-t1", "市财政局")
    set_due(store, boss, lead, 5)
    supervision = sv.Supervision(store)
    supervision.acknowledge(support, user=cz)
    supervision.submit(support, "配合单位报告：已完成 **数据** 对接", user=cz)
    request = supervision.request_extension(
        lead, (now().date() + timedelta(days=60)).isoformat(), "需跨部门协调", user=kw
    )

    on_page(at, "pages/review.py", kw.username, STAFF, ["市科委"])
    assert at.title[0].value == "审核"
    assert [shown_text(i.value) for i in at.info] == ["配合单位报告：已完成 **数据** 对接"]
    period = supervision.open_reports()["period"].iloc[0]
    at.text_input(key=f"review_reason_{support}_{period}").input("请附对接记录")
    at.button(key=f"review_return_{support}_{period}").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    steps = supervision.steps(assignment_ids=[support])
    assert steps[["action", "text", "acted_by"]].values.tolist()[-1] == [
        RETURNED,
        "请附对接记录",
        kw.username,
    ]
    assert not any(b.key.startswith("extension_") for b in at.button)  # staff: no decisions

    assert [shown_text(s.value) for s in at.success] == [
        f"已退回 市财政局 的 〔2026〕1号·1-1（{period}）。"
    ]
    # The support unit revises, the lead accepts, and the lead's own report goes to the
    # supervisor with the accepted support report beside it (nobody retypes it).
    supervision.submit(support, "已完成数据对接，附对接记录", user=cz)
    supervision.accept(support, period, user=kw)
    supervision.acknowledge(lead, user=kw)
    supervision.submit(lead, "牵头单位报告", user=kw)

    at = on_page(
        AppTest.from_file(DASHBOARD, default_timeout=60),
        "pages/review.py",
        boss.username,
        SUPERVISOR,
    )
    assert [b.key for b in at.button if b.key.startswith("review_")] == [
        f"review_accept_{lead}_{period}",
        f"review_return_{lead}_{period}",
    ]  # the lead's report only: support reports are the lead unit's to review
    fed = at.dataframe[0].value
    assert fed[["配合单位", "本期报告（已审核）", "审核人"]].values.tolist() == [
        ["市财政局", "已完成数据对接，附对接记录", kw.username]
    ]
    at.button(key=f"extension_approve_{request}").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    due = store.assignments().set_index("assignment_id").at[lead, "due_date"]
    assert due.date() == now().date() + timedelta(days=60)
    assert any("已批准延期申请" in shown_text(s.value) for s in at.success)


def test_reminders_page_lists_units_records_the_reminder_and_offers_the_notice(seeded) -> None:
    at, store = seeded
    boss = signed_in(store)
    set_due(store, boss, aid_of(store, "demo-m01-t1", "市科委"), -3)
    set_due(store, boss, aid_of(store, "demo-m02-t1", "市财政局"), 7)

    on_page(at, "pages/reminders.py", boss.username, SUPERVISOR)
    assert at.title[0].value == "催办"
    summary = at.dataframe[0].value.set_index(rm.UNIT)
    # By default only what is overdue or due soon: not the support row without a deadline.
    assert summary.loc[
        "市科委", [rm.OVERDUE, rm.DUE_SOON, rm.UNACKNOWLEDGED, rm.ITEMS]
    ].tolist() == [1, 0, 0, 1]
    assert summary.loc["市财政局", [rm.OVERDUE, rm.DUE_SOON, rm.ITEMS]].tolist() == [0, 1, 1]
    assert len(at.dataframe) == 1 and not at.code  # the closed tabs are not drawn
    at.session_state["reminders_tab"] = "催办通知"
    at.run()
    assert not at.dataframe
    notice = at.code[0].value
    assert notice.startswith("关于督促办理政策任务的通知")
    assert "【已逾期 3 天】〔2026〕1号·1-1 甲任务" in notice
    assert "【7 天后到期】〔2026〕1号·2-1 乙任务" in notice
    assert "下载催办清单（xlsx）" in [b.proto.label for b in at.get("download_button")]

    assert at.button(key="reminders_send").label == "发送催办（2个单位，2项）"
    at.button(key="reminders_send").click()
    at.run()
    assert [shown_text(s.value) for s in at.success] == ["已向 2 个单位发送催办，共 2 项。"]
    log = sv.Supervision(store).reminders()
    assert sorted(log["unit"]) == ["市科委", "市财政局"]
    assert set(log["sent_by"]) == {boss.username}
    at.session_state["reminders_tab"] = "催办记录"
    at.run()
    assert sorted(at.dataframe[0].value["责任单位"]) == ["市科委", "市财政局"]
    at.session_state["reminders_tab"] = "按单位汇总"
    at.run()
    assert at.dataframe[0].value.set_index(rm.UNIT)[rm.TIMES].to_dict() == {
        "市财政局": 1,
        "市科委": 1,
    }

    staff_app = sign_in_app(
        AppTest.from_file(DASHBOARD, default_timeout=60), "kw", STAFF, ["市科委"]
    )
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        staff_app.switch_page("pages/reminders.py")


def test_rankings_page_shows_a_leader_the_table_and_chart(seeded) -> None:
    at, store = seeded
    boss = signed_in(store)
    set_due(store, boss, aid_of(store, "demo-m01-t1", "市科委"), -2)

    on_page(at, "pages/rankings.py", "领导甲", LEADER)
    assert at.title[0].value == "通报"
    table = at.dataframe[0].value.set_index(rk.UNIT)
    assert table.loc["市科委", [rk.DUE, rk.OVERDUE, rk.ON_TIME_RATE]].tolist() == [1, 1, "0%"]
    assert table.loc["市财政局", rk.DUE] == 0
    # 市财政局 has nothing due: listed, not ranked (it used to be 名次 2 below a failing unit).
    assert table[rk.RANK].tolist() == ["1", ""]
    assert table.loc["市财政局", rk.NOTE] == rk.NOTHING_DUE
    assert at.get("plotly_chart")
    assert any("按期完成率：" in c.value for c in at.caption)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/review.py")  # leaders write nothing
