"""The supervision workflow on SQLite and PostgreSQL: one task through every state, the
warning light around an extension, who may do which step, reminders, and the rankings on a
history made by hand."""

from __future__ import annotations

import io
import threading
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest

from excel.reminders import SHEET_LIST, SHEET_SUMMARY, build_reminder_workbook
from excel.report import SHEET_RANKINGS, build_report
from pagelogic import figures
from tests.factories import signed_in, staff
from tracker import rankings as rk
from tracker import reminders as rm
from tracker import supervision as sv
from tracker.errors import PermissionDenied, StoreUnavailable, TrackerError, ValidationError
from tracker.progress import Update, warning_light
from tracker.schema import (
    ACCEPTED,
    ACKNOWLEDGED,
    CLOSED,
    EXTENSION_APPROVED,
    EXTENSION_REFUSED,
    EXTENSION_REQUESTED,
    HANDLING,
    LEADER,
    NOT_ACKNOWLEDGED,
    RETURNED,
    SUBMITTED,
)
from tracker.store import Store


@pytest.fixture(autouse=True)
def _monthly(monkeypatch) -> None:
    monkeypatch.delenv("TRACKER_PERIOD", raising=False)


@pytest.fixture
def store(make_store, small_measures) -> Store:
    return make_store(small_measures)


def ids(store: Store) -> dict[tuple[str, str], int]:
    """(task_id, unit) -> assignment_id."""
    rows = store.assignments()
    return {
        (t, u): int(a)
        for t, u, a in rows[["task_id", "unit", "assignment_id"]].itertuples(index=False)
    }


def set_due(store: Store, boss, aid: int, due: str, at: datetime) -> None:
    version = int(store.assignments().set_index("assignment_id").at[aid, "version"])
    store.apply([Update(aid, version, {"due_date": due})], user=boss, source="web", at=at)


def set_status(store: Store, user, aid: int, status: str, at: datetime) -> None:
    version = int(store.assignments().set_index("assignment_id").at[aid, "version"])
    store.apply([Update(aid, version, {"status": status})], user=user, source="web", at=at)


def state(store: Store, aid: int, period: str) -> str:
    supervision = sv.Supervision(store)
    rows = sv.with_states(store.assignments(), supervision.latest(period), period)
    return rows.set_index("assignment_id").at[aid, "state"]


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00")


# --- the full cycle ------------------------------------------------------------------------


def test_one_task_through_every_state_with_send_back_and_refused_extension(store) -> None:
    aid = ids(store)[("demo-m01-t1", "市科委")]
    kw, boss = staff(store, "市科委"), signed_in(store)
    supervision = sv.Supervision(store)
    set_due(store, boss, aid, "2026-11-20", at("2026-11-01"))
    period = "2026-11"

    assert state(store, aid, period) == NOT_ACKNOWLEDGED
    supervision.acknowledge(aid, user=kw, at=at("2026-11-02"))
    assert state(store, aid, period) == ACKNOWLEDGED
    supervision.start(aid, user=kw, at=at("2026-11-03"))
    assert state(store, aid, period) == HANDLING
    supervision.submit(aid, "第一稿：平台完成招标", user=kw, at=at("2026-11-04"))
    assert state(store, aid, period) == SUBMITTED
    supervision.send_back(aid, period, "请补充佐证材料", user=boss, at=at("2026-11-05"))
    assert state(store, aid, period) == RETURNED
    rows = sv.with_states(store.assignments(), supervision.latest(period), period)
    assert rows.set_index("assignment_id").at[aid, "reason"] == "请补充佐证材料"
    # The revision starts from the text that was sent back.
    assert sv.draft_report(supervision.steps(), aid, period) == "第一稿：平台完成招标"
    supervision.submit(aid, "第二稿：平台完成招标，附中标通知书", user=kw, at=at("2026-11-06"))
    assert state(store, aid, period) == SUBMITTED
    supervision.accept(aid, period, user=boss, at=at("2026-11-07"))
    assert state(store, aid, period) == ACCEPTED

    request = supervision.request_extension(
        aid, "2026-12-31", "供应商交付推迟", user=kw, at=at("2026-11-10")
    )
    supervision.refuse_extension(request, "理由不充分，请按期完成", user=boss, at=at("2026-11-12"))
    assert store.assignments().set_index("assignment_id").at[aid, "due_date"] == pd.Timestamp(
        "2026-11-20"
    )
    rows = store.assignments()
    assert warning_light(rows, date(2026, 11, 25))[rows["assignment_id"] == aid].iloc[0] == "red"
    with pytest.raises(ValidationError, match="尚未标记为已完成"):
        supervision.close(aid, period, user=boss, at=at("2026-11-25"))

    set_status(store, kw, aid, "done", at("2026-11-26"))
    supervision.close(aid, period, user=boss, at=at("2026-11-27"))
    assert state(store, aid, period) == CLOSED
    assert state(store, aid, "2026-12") == CLOSED  # stays closed in later periods
    with pytest.raises(ValidationError, match="办结"):
        supervision.submit(aid, "办结后再报送", user=kw, at=at("2026-12-02"))

    steps = supervision.steps(assignment_ids=[aid])
    assert list(zip(steps["action"], steps["acted_by"], steps["text"], strict=True)) == [
        (ACKNOWLEDGED, kw.username, ""),
        (HANDLING, kw.username, ""),
        (SUBMITTED, kw.username, "第一稿：平台完成招标"),
        (RETURNED, boss.username, "请补充佐证材料"),
        (SUBMITTED, kw.username, "第二稿：平台完成招标，附中标通知书"),
        (ACCEPTED, boss.username, ""),
        (EXTENSION_REQUESTED, kw.username, "供应商交付推迟"),
        (EXTENSION_REFUSED, boss.username, "理由不充分，请按期完成"),
        (CLOSED, boss.username, ""),
    ]
    assert steps["acted_at"].dt.day.tolist() == [2, 3, 4, 5, 6, 7, 10, 12, 27]
    assert steps["period"].eq(period).all()
    assert steps.loc[steps["action"] == EXTENSION_REFUSED, "request_id"].tolist() == [request]
    # The refusal moved nothing: the only deadline change is the supervisor's first one.
    assert store.history(fields=["due_date"])["new_value"].tolist() == ["2026-11-20"]
    shown = sv.step_table(steps)
    assert shown["环节"].tolist()[:3] == ["办结销号", "不予延期", "申请延期"]


def test_warning_light_before_and_after_an_approved_extension(store) -> None:
    aid = ids(store)[("demo-m01-t1", "市科委")]
    kw, boss = staff(store, "市科委"), signed_in(store)
    supervision = sv.Supervision(store)
    set_due(store, boss, aid, "2026-11-20", at("2026-11-01"))
    set_status(store, kw, aid, "in_progress", at("2026-11-18"))
    day = date(2026, 11, 25)

    def light() -> str:
        rows = store.assignments()
        return warning_light(rows, day)[rows["assignment_id"] == aid].iloc[0]

    request = supervision.request_extension(
        aid, "2027-01-31", "跨年度采购", user=kw, at=at("2026-11-19")
    )
    assert light() == "red"  # a request alone changes nothing: past due, not done
    supervision.approve_extension(request, user=boss, note="同意", at=at("2026-11-21"))
    assert light() == "green"  # 67 days left, updated 4 days ago
    assert (
        warning_light(store.assignments(), date(2027, 1, 10))[
            store.assignments()["assignment_id"] == aid
        ].iloc[0]
        == "yellow"
    )  # due within 30 days of the approved date
    change = store.history(fields=["due_date"]).iloc[0]
    assert (change["old_value"], change["new_value"], change["changed_by"]) == (
        "2026-11-20",
        "2027-01-31",
        boss.username,
    )
    assert change["source"] == f"延期申请#{request}"
    decision = supervision.steps(actions=[EXTENSION_APPROVED])
    assert decision["request_id"].tolist() == [request]
    assert decision["due_date"].tolist() == [date(2027, 1, 31)]
    with pytest.raises(ValidationError, match="已由"):
        supervision.refuse_extension(request, "晚了", user=boss)


def test_extension_rules(store) -> None:
    aid = ids(store)[("demo-m01-t1", "市科委")]
    kw, boss = staff(store, "市科委"), signed_in(store)
    supervision = sv.Supervision(store)
    with pytest.raises(ValidationError, match="尚无完成时限"):
        supervision.request_extension(aid, "2026-12-31", "理由", user=kw, at=at("2026-11-01"))
    set_due(store, boss, aid, "2026-11-20", at("2026-11-01"))
    with pytest.raises(ValidationError, match="到期前申请"):
        supervision.request_extension(aid, "2026-12-31", "理由", user=kw, at=at("2026-11-21"))
    with pytest.raises(ValidationError, match="须晚于"):
        supervision.request_extension(aid, "2026-11-20", "理由", user=kw, at=at("2026-11-10"))
    with pytest.raises(ValidationError, match="延期理由"):
        supervision.request_extension(aid, "2026-12-31", "  ", user=kw, at=at("2026-11-10"))
    with pytest.raises(ValidationError, match="完成时限"):
        supervision.request_extension(aid, "明年", "理由", user=kw, at=at("2026-11-10"))
    first = supervision.request_extension(aid, "2026-12-31", "理由", user=kw, at=at("2026-11-10"))
    with pytest.raises(ValidationError, match="待审批"):
        supervision.request_extension(aid, "2027-01-31", "理由", user=kw, at=at("2026-11-11"))
    with pytest.raises(PermissionDenied, match="督办员审批"):
        supervision.approve_extension(first, user=kw)
    supervision.refuse_extension(first, "不同意", user=boss, at=at("2026-11-12"))
    with pytest.raises(ValidationError, match="不予延期"):
        supervision.approve_extension(first, user=boss)
    # A supervisor asking on a unit's behalf cannot approve the request himself.
    second = supervision.request_extension(
        aid, "2027-01-31", "再申请", user=boss, at=at("2026-11-13")
    )
    with pytest.raises(PermissionDenied, match="本人"):
        supervision.approve_extension(second, user=boss)
    other = signed_in(store, "督办乙")
    supervision.approve_extension(second, user=other, at=at("2026-11-14"))
    assert sv.pending_extensions(supervision.steps(), store.assignments()).empty


def test_an_approval_whose_deadline_write_failed_is_completed_by_approving_again(
    store, monkeypatch
) -> None:
    aid = ids(store)[("demo-m01-t1", "市科委")]
    kw, boss = staff(store, "市科委"), signed_in(store)
    supervision = sv.Supervision(store)
    set_due(store, boss, aid, "2026-11-20", at("2026-11-01"))
    request = supervision.request_extension(aid, "2026-12-31", "理由", user=kw, at=at("2026-11-10"))
    real_apply = store.apply

    def unavailable(*args, **kwargs):
        raise StoreUnavailable("数据库暂不可用")

    monkeypatch.setattr(store, "apply", unavailable)
    with pytest.raises(sv.DeadlineNotMoved, match="再次点击批准"):
        supervision.approve_extension(request, user=boss, at=at("2026-11-11"))
    assert store.assignments().set_index("assignment_id").at[aid, "due_date"] == pd.Timestamp(
        "2026-11-20"
    )
    monkeypatch.setattr(store, "apply", real_apply)
    supervision.approve_extension(request, user=boss, at=at("2026-11-12"))
    assert store.assignments().set_index("assignment_id").at[aid, "due_date"] == pd.Timestamp(
        "2026-12-31"
    )
    assert len(supervision.steps(actions=[EXTENSION_APPROVED])) == 1  # one decision
    with pytest.raises(ValidationError, match="批准延期"):
        supervision.approve_extension(request, user=boss)


# --- who may do what ----------------------------------------------------------------------


def test_staff_cannot_review_their_own_report_and_support_reports_go_to_the_lead(store) -> None:
    found = ids(store)
    lead, support = found[("demo-m02-t1", "市科委")], found[("demo-m02-t1", "市财政局")]
    kw, cz, jw = staff(store, "市科委"), staff(store, "市财政局"), staff(store, "市教委")
    boss = signed_in(store)
    supervision = sv.Supervision(store)
    period = "2026-11"
    for aid, user in ((lead, kw), (support, cz)):
        supervision.acknowledge(aid, user=user, at=at("2026-11-02"))
        supervision.submit(aid, "本期进展", user=user, at=at("2026-11-03"))
    before = len(supervision.steps())

    with pytest.raises(PermissionDenied, match="本单位"):
        supervision.accept(support, period, user=cz)  # its own report
    with pytest.raises(PermissionDenied, match="牵头单位（市科委）"):
        supervision.accept(support, period, user=jw)  # another support unit of the task
    with pytest.raises(PermissionDenied, match="牵头单位（市科委）"):
        supervision.send_back(support, period, "退回", user=boss)  # the lead unit's duty
    with pytest.raises(PermissionDenied, match="本单位"):
        supervision.accept(lead, period, user=kw)  # a lead unit's own report
    with pytest.raises(PermissionDenied, match="督办员"):
        supervision.accept(lead, period, user=jw)
    with pytest.raises(PermissionDenied, match="不负责"):
        supervision.acknowledge(found[("demo-m01-t2", "市教委")], user=kw)
    assert len(supervision.steps()) == before  # nothing written

    queues = {
        u.username: sv.review_queue(supervision.open_reports(), store.assignments(), u)
        for u in (kw, cz, jw, boss)
    }
    assert queues[kw.username]["assignment_id"].tolist() == [support]
    assert queues[boss.username]["assignment_id"].tolist() == [lead]
    assert queues[cz.username].empty and queues[jw.username].empty
    supervision.accept(support, period, user=kw)
    supervision.accept(lead, period, user=boss)
    assert state(store, support, period) == ACCEPTED


def test_nobody_reviews_a_report_they_submitted(store) -> None:
    lead = ids(store)[("demo-m01-t1", "市科委")]
    boss = signed_in(store)
    supervision = sv.Supervision(store)
    supervision.acknowledge(lead, user=boss, at=at("2026-11-02"))
    supervision.submit(lead, "督办员代为报送", user=boss, at=at("2026-11-03"))
    with pytest.raises(PermissionDenied, match="本人"):
        supervision.accept(lead, "2026-11", user=boss)
    assert sv.review_queue(supervision.open_reports(), store.assignments(), boss).empty
    supervision.accept(lead, "2026-11", user=signed_in(store, "督办乙"))


def test_leaders_cannot_write_and_rights_are_read_from_the_database(store) -> None:
    found = ids(store)
    aid = found[("demo-m01-t1", "市科委")]
    leader = signed_in(store, "领导甲", LEADER)
    kw, boss = staff(store, "市科委"), signed_in(store)
    supervision = sv.Supervision(store)
    set_due(store, boss, aid, "2026-11-20", at("2026-11-01"))
    with pytest.raises(PermissionDenied, match="领导"):
        supervision.acknowledge(aid, user=leader)
    supervision.acknowledge(aid, user=kw, at=at("2026-11-02"))
    supervision.submit(aid, "进展", user=kw, at=at("2026-11-03"))
    with pytest.raises(PermissionDenied, match="领导"):
        supervision.accept(aid, "2026-11", user=leader)
    with pytest.raises(PermissionDenied, match="领导"):
        supervision.request_extension(aid, "2026-12-31", "理由", user=leader)
    with pytest.raises(PermissionDenied, match="督办员审批"):
        supervision.refuse_extension(
            supervision.request_extension(aid, "2026-12-31", "理由", user=kw, at=at("2026-11-04")),
            "不同意",
            user=leader,
        )
    with pytest.raises(PermissionDenied, match="督办员"):
        supervision.remind([("市科委", 1, "请报送")], user=leader)
    # The Account object kw holds still says 市科委; the database no longer does.
    store.accounts.set_units(kw.username, ["市财政局"])
    with pytest.raises(PermissionDenied, match="不负责"):
        supervision.start(aid, user=kw)
    store.accounts.set_active(boss.username, False)
    with pytest.raises(PermissionDenied, match="停用"):
        supervision.accept(aid, "2026-11", user=boss)
    assert len(supervision.reminders()) == 0


def test_two_reviewers_at_once_record_one_decision(store) -> None:
    aid = ids(store)[("demo-m01-t1", "市科委")]
    kw = staff(store, "市科委")
    reviewers = [signed_in(store, "督办甲"), signed_in(store, "督办乙")]
    supervision = sv.Supervision(store)
    supervision.acknowledge(aid, user=kw, at=at("2026-11-02"))
    supervision.submit(aid, "进展", user=kw, at=at("2026-11-03"))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def review(user, accept: bool) -> None:
        barrier.wait()
        try:
            if accept:
                supervision.accept(aid, "2026-11", user=user)
            else:
                supervision.send_back(aid, "2026-11", "退回", user=user)
            outcomes.append("ok")
        except TrackerError as exc:
            outcomes.append(type(exc).__name__)

    threads = [
        threading.Thread(target=review, args=(user, i == 0)) for i, user in enumerate(reviewers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["ValidationError", "ok"]
    assert supervision.steps()["action"].tolist()[-1] in (ACCEPTED, RETURNED)
    assert len(supervision.steps()) == 3


def test_state_lookup_for_more_assignments_than_a_statement_binds(store) -> None:
    aid = ids(store)[("demo-m01-t1", "市科委")]
    supervision = sv.Supervision(store)
    supervision.acknowledge(aid, user=staff(store, "市科委"), at=at("2026-11-02"))
    many = [aid, *range(10_000, 10_000 + sv.MAX_BOUND_IDS + 500)]
    assert supervision.latest("2026-11", many).equals(supervision.latest("2026-11", [aid]))
    assert supervision.latest("2026-11", many)["last_action"].tolist() == [ACKNOWLEDGED]


# --- less re-entry ------------------------------------------------------------------------


def test_next_period_starts_from_the_accepted_report_and_support_reports_feed_the_lead(
    store,
) -> None:
    found = ids(store)
    lead, support = found[("demo-m01-t1", "市科委")], found[("demo-m01-t1", "市教委")]
    kw, jw, boss = staff(store, "市科委"), staff(store, "市教委"), signed_in(store)
    supervision = sv.Supervision(store)
    supervision.acknowledge(support, user=jw, at=at("2026-10-02"))
    supervision.submit(support, "配合完成需求调研", user=jw, at=at("2026-10-03"))
    supervision.accept(support, "2026-10", user=kw, at=at("2026-10-04"))
    supervision.acknowledge(lead, user=kw, at=at("2026-10-02"))
    supervision.submit(lead, "完成招标", user=kw, at=at("2026-10-05"))
    supervision.accept(lead, "2026-10", user=boss, at=at("2026-10-06"))
    steps = supervision.steps()

    # November: nothing typed yet, the draft is October's accepted text; the new period
    # starts at 已签收, so the unit can report straight away.
    assert sv.draft_report(steps, lead, "2026-11", fallback="备注") == "完成招标"
    assert sv.draft_report(steps, found[("demo-m01-t2", "市教委")], "2026-11", "备注") == "备注"
    assert state(store, lead, "2026-11") == ACKNOWLEDGED
    feeds = sv.support_reports(steps, store.assignments(), "demo-m01-t1", "2026-10")
    assert feeds[["unit", "report", "accepted_by"]].values.tolist() == [
        ["市教委", "配合完成需求调研", kw.username]
    ]
    assert sv.with_support_reports("完成招标", feeds) == (
        "完成招标\n【配合单位 市教委】配合完成需求调研"
    )
    assert sv.support_reports(steps, store.assignments(), "demo-m01-t1", "2026-11").empty


def test_unit_board_lists_lead_tasks_first_and_names_each_in_the_picker(store) -> None:
    found = ids(store)
    kw = staff(store, "市科委")
    supervision = sv.Supervision(store)
    m01 = found[("demo-m01-t1", "市科委")]
    supervision.acknowledge(m01, user=kw, at=at("2026-11-02"))
    assignments = store.assignments()
    board = sv.unit_board(assignments, supervision.latest("2026-11"), "市科委", "2026-11")

    mine = assignments[assignments["unit"] == "市科委"]
    assert sorted(board.states.index) == sorted(mine["assignment_id"])
    assert list(board.labels) == list(board.states.index)
    roles = board.states["role"].tolist()
    assert roles == sorted(roles, key=lambda role: role != "lead")
    assert board.table["任务编号"].tolist() == board.states["task_id"].tolist()
    assert board.table.set_index("任务编号").at["demo-m01-t1", "报送状态"] == "已签收"
    text = str(board.states.at[m01, "task_text"])
    role = "牵头" if board.states.at[m01, "role"] == "lead" else "配合"
    assert board.labels[m01] == f"〔2026〕1号·1-1（{role}）　{text[:40]}"


# --- reminders -----------------------------------------------------------------------------


def test_reminder_list_notice_log_and_workbook(store) -> None:
    found = ids(store)
    kw, boss = staff(store, "市科委"), signed_in(store)
    supervision = sv.Supervision(store)
    set_due(store, boss, found[("demo-m01-t1", "市科委")], "2026-11-10", at("2026-11-01"))
    set_due(store, boss, found[("demo-m02-t1", "市科委")], "2026-12-01", at("2026-11-01"))
    set_due(store, boss, found[("demo-m01-t2", "市教委")], "2027-03-01", at("2026-11-01"))
    set_due(store, boss, found[("demo-m02-t1", "市财政局")], "2026-11-15", at("2026-11-01"))
    set_status(store, boss, found[("demo-m02-t1", "市财政局")], "done", at("2026-11-14"))
    m02 = found[("demo-m02-t1", "市科委")]
    supervision.acknowledge(m02, user=kw, at=at("2026-11-02"))
    supervision.submit(m02, "进展", user=kw, at=at("2026-11-03"))
    today, period = date(2026, 11, 23), "2026-11"
    rows = sv.with_states(store.assignments(), supervision.latest(period), period)

    items = rm.reminder_list(rows, today, 15)
    shown = items[[rm.UNIT, rm.TASK_ID, rm.DAYS_LEFT, rm.REASON]].astype(object)
    assert shown.where(shown.notna(), None).values.tolist() == [
        ["市教委", "demo-m01-t2", 98, "未签收"],
        ["市教委", "demo-m01-t1", None, "未签收"],  # no deadline: last within the unit
        ["市教委", "demo-m02-t1", None, "未签收"],
        ["市科委", "demo-m01-t1", -13, "已逾期、未签收"],
        ["市科委", "demo-m02-t1", 8, "即将到期"],  # reported this period
        ["市财政局", "demo-m02-t1", -8, "未签收"],  # done: not overdue, still to report
    ]
    only_overdue = rm.reminder_list(rows, today, 15, [rm.OVERDUE])
    assert only_overdue[[rm.UNIT, rm.TASK_ID, rm.REASON]].values.tolist() == [
        ["市科委", "demo-m01-t1", "已逾期"]
    ]
    assert rm.shown_list(items)[rm.DUE].tolist()[:2] == ["2027-03-01", ""]
    summary = rm.reminder_summary(items, supervision.reminders())
    assert summary[
        [rm.UNIT, rm.OVERDUE, rm.DUE_SOON, rm.UNACKNOWLEDGED, rm.ITEMS]
    ].values.tolist() == [
        ["市教委", 0, 0, 3, 3],
        ["市科委", 1, 1, 1, 2],
        ["市财政局", 0, 0, 1, 1],
    ]
    notices = rm.unit_notices(items, today=today, days=15, period=period, sender="督办甲")
    assert [(unit, n) for unit, n, _ in notices] == [("市教委", 3), ("市科委", 2), ("市财政局", 1)]
    assert (
        "1. 【已逾期 13 天；未签收】〔2026〕1号·1-1 示范任务（完成时限 2026-11-10）"
        in notices[1][2]
    )
    assert "2. 【8 天后到期】〔2026〕1号·2-1 示范任务（完成时限 2026-12-01）" in notices[1][2]
    assert "demo-m0" not in notices[1][2]  # the task as people know it, not its id
    assert notices[1][2].endswith("督办甲　2026-11-23")

    assert supervision.remind(notices, user=boss, at=at("2026-11-23", 10)) == 3
    log = supervision.reminders()
    assert log[["unit", "items", "sent_by"]].values.tolist() == [
        ["市财政局", 1, boss.username],
        ["市科委", 2, boss.username],
        ["市教委", 3, boss.username],
    ]
    assert (log["sent_at"] == pd.Timestamp("2026-11-23 10:00")).all()
    assert log.set_index("unit").at["市科委", "body"] == notices[1][2]
    again = rm.reminder_summary(items, supervision.reminders())
    assert again.set_index(rm.UNIT)[rm.TIMES].to_dict() == {"市教委": 1, "市科委": 1, "市财政局": 1}
    assert set(again[rm.LAST_SENT]) == {"2026-11-23 10:00"}
    assert set(summary[rm.LAST_SENT]) == {""}

    workbook = openpyxl.load_workbook(
        io.BytesIO(build_reminder_workbook(items, summary, "催办清单（测试）"))
    )
    assert workbook.sheetnames == [SHEET_LIST, SHEET_SUMMARY]
    sheet = workbook[SHEET_LIST]
    assert [c.value for c in sheet[2]] == rm.REMINDER_COLUMNS
    assert sheet.cell(row=6, column=2).value == "〔2026〕1号·1-1"
    assert sheet.cell(row=6, column=5).value == datetime(2026, 11, 10)
    assert sheet.cell(row=6, column=6).value == -13
    assert sheet.max_row == 2 + len(items)


def test_reminder_board_shows_a_page_of_the_list_and_of_the_notice(store) -> None:
    """At scale the page draws only the first items: the notice keeps each unit's true count
    and says how many items it leaves out, and the board still holds every item."""
    supervision = sv.Supervision(store)
    today, period = date(2026, 11, 23), "2026-11"
    rows = sv.with_states(store.assignments(), supervision.latest(period), period)
    whole = rm.reminder_board(rows, supervision.reminders(), today=today, days=15, period=period)
    assert not whole.cut
    assert whole.notice == rm.notice_text(whole.items, today=today, days=15, period=period)

    board = rm.reminder_board(
        rows, supervision.reminders(), today=today, days=15, period=period, limit=2
    )
    assert len(board.items) == len(whole.items) == 6
    assert board.cut and len(board.shown) == 2
    assert board.shown[rm.TASK_ID].tolist() == whole.items[rm.TASK_ID].tolist()[:2]
    assert board.summary.equals(whole.summary)
    lines = board.notice.splitlines()
    assert "一、市教委（3 项）" in lines
    assert [line[:2] for line in lines if line[:1].isdigit() and line[1:2] == "."] == ["1.", "2."]
    assert "……另有 4 项未显示，见完整通知。" in lines
    assert "二、市科委（2 项）" not in lines
    one_unit = whole.items[whole.items[rm.UNIT] == "市教委"]
    cut_inside = rm.notice_text(one_unit, today=today, days=15, period=period, limit=1)
    assert "……另有 2 项未显示，见完整通知。" in cut_inside.splitlines()


def test_reminder_workbook_keeps_formula_like_text_as_text() -> None:
    items = pd.DataFrame(
        [
            [
                '=HYPERLINK("http://x")',
                "t1",
                "@SUM(A1)",
                "牵头",
                None,
                pd.NA,
                "未启动",
                "未签收",
                "未签收",
                "t1",
            ]
        ],
        columns=rm.REMINDER_COLUMNS,
    )
    sheet = openpyxl.load_workbook(
        io.BytesIO(build_reminder_workbook(items, rm.reminder_summary(items, pd.DataFrame()), "t"))
    )[SHEET_LIST]
    assert sheet.cell(row=3, column=1).value == '=HYPERLINK("http://x")'
    assert sheet.cell(row=3, column=1).data_type == "s"
    assert sheet.cell(row=3, column=3).data_type == "s"


# --- rankings ------------------------------------------------------------------------------


def build_ranking_history(store: Store) -> dict[str, object]:
    """Two months of work by three units, every step at a chosen time.

    Deadlines (all set on 09-01): 科委 t1 10-15, 科委 m02 10-25 (extended on 10-22 to
    11-10), 教委 t1 10-20, 教委 t2 10-30 (moved on 11-15 to 12-31), 教委 m02 11-30,
    财政局 m02 10-31.
    """
    found = ids(store)
    kw, jw, cz = staff(store, "市科委"), staff(store, "市教委"), staff(store, "市财政局")
    boss = signed_in(store)
    supervision = sv.Supervision(store)
    k1, k2 = found[("demo-m01-t1", "市科委")], found[("demo-m02-t1", "市科委")]
    j1, j2, j3 = (
        found[("demo-m01-t1", "市教委")],
        found[("demo-m01-t2", "市教委")],
        found[("demo-m02-t1", "市教委")],
    )
    c1 = found[("demo-m02-t1", "市财政局")]
    for aid, due in ((k1, "2026-10-15"), (k2, "2026-10-25"), (j1, "2026-10-20")):
        set_due(store, boss, aid, due, at("2026-09-01"))
    for aid, due in ((j2, "2026-10-30"), (j3, "2026-11-30"), (c1, "2026-10-31")):
        set_due(store, boss, aid, due, at("2026-09-01"))
    set_status(store, kw, k1, "done", at("2026-10-10"))  # on time
    set_status(store, kw, k2, "in_progress", at("2026-10-05"))
    request = supervision.request_extension(
        k2, "2026-11-10", "等待验收", user=kw, at=at("2026-10-20")
    )
    supervision.approve_extension(request, user=boss, at=at("2026-10-22"))
    set_status(store, jw, j1, "done", at("2026-10-25"))  # five days late
    set_status(store, jw, j2, "in_progress", at("2026-11-02"))
    set_due(store, boss, j2, "2026-12-31", at("2026-11-15"))
    set_status(store, cz, c1, "in_progress", at("2026-11-05"))  # never done

    # October's reports: 科委 t1 accepted at once; 教委 t1 sent back first, accepted in November.
    for aid, user in ((k1, kw), (j1, jw)):
        supervision.acknowledge(aid, user=user, at=at("2026-10-01"))
    supervision.submit(k1, "十月进展", user=kw, at=at("2026-10-08"))
    supervision.accept(k1, "2026-10", user=boss, at=at("2026-10-09"))
    supervision.submit(j1, "十月配合", user=jw, at=at("2026-10-12"))
    supervision.send_back(j1, "2026-10", "不完整", user=kw, at=at("2026-10-13"))
    supervision.submit(j1, "十月配合（补）", user=jw, at=at("2026-10-30"))
    supervision.accept(j1, "2026-10", user=kw, at=at("2026-11-02"))
    # November: 科委 m02 sent back once, 科委 t1 accepted; 教委 t2 sent back, 教委 m02 accepted.
    supervision.acknowledge(k2, user=kw, at=at("2026-11-01"))
    supervision.submit(k2, "十一月", user=kw, at=at("2026-11-03"))
    supervision.send_back(k2, "2026-11", "缺材料", user=boss, at=at("2026-11-04"))
    supervision.submit(k2, "十一月（补）", user=kw, at=at("2026-11-05"))
    supervision.accept(k2, "2026-11", user=boss, at=at("2026-11-06"))
    supervision.submit(k1, "十一月", user=kw, at=at("2026-11-03"))
    supervision.accept(k1, "2026-11", user=boss, at=at("2026-11-04"))
    for aid in (j2, j3):
        supervision.acknowledge(aid, user=jw, at=at("2026-11-01"))
    supervision.submit(j2, "十一月", user=jw, at=at("2026-11-10"))
    supervision.send_back(j2, "2026-11", "不清楚", user=boss, at=at("2026-11-12"))
    supervision.submit(j3, "十一月配合", user=jw, at=at("2026-11-08"))
    supervision.accept(j3, "2026-11", user=kw, at=at("2026-11-09"))
    return {"supervision": supervision}


# Worked out by hand from the history above, as of 2026-11-23 (this period) and the end of
# 2026-10-31 (last period):
#   this period  科委: k1 due 10-15 done 10-10 on time; k2 due 11-10 (extended) open -> overdue.
#                     到期 2, 按期 1 -> 50%; reviews k2 (returned first), k1 (accepted) -> 50%;
#                     last change 10-22 (the extension) -> 32 days.
#                教委: j1 due 10-20 done 10-25 late; j2 due 12-31, j3 due 11-30: not yet due.
#                     到期 1, 按期 0 -> 0%, 逾期 0; reviews j2 returned, j3 accepted -> 50%;
#                     last change 11-15 -> 8 days.
#                财政局: c1 due 10-31 open -> 到期 1, 逾期 1, 0%; no reviews; 11-05 -> 18 days.
#   last period  科委: k1 on time; k2 due 11-10 by then -> 到期 1, 100%, 逾期 0; k1 accepted at
#                     once -> 100%; last change 10-22 -> 9 days.
#                教委: j1 late but done; j2 due 10-30 then, not started by 10-31 -> overdue.
#                     到期 2, 0%, 逾期 1; j1's first review sent it back -> 0%; 10-25 -> 6 days.
#                财政局: c1 due 10-31, not done -> 逾期 1, 0%; no reviews; 09-01 -> 60 days.
#   财政局 is overdue in both periods: flagged.  Order: 科委 (50%), then 教委 and 财政局 at
#   0%, 教委 first for fewer overdue.  Each has fewer than 3 due: each rate is "仅供参考".
FEW = "到期分工少于3项，比率仅供参考"
EXPECTED_RANKINGS = [
    [1, "市科委", 2, 2, 1, 0.5, 1, 0.5, 32, 1.0, 0, 1.0, 9, False, FEW],
    [2, "市教委", 3, 1, 0, 0.0, 0, 0.5, 8, 0.0, 1, 0.0, 6, False, FEW],
    [3, "市财政局", 1, 1, 0, 0.0, 1, None, 18, 0.0, 1, None, 60, True, FEW],
]


def test_ranking_history_kept_per_store_reads_only_new_rows_and_equals_a_fresh_read(
    store, monkeypatch
) -> None:
    """通报 after a save reads the rows written since its last read, and the kept history
    then equals reading all of it again: a status change is added, and a note saved later
    in a period replaces that period's last change of its row."""
    build_ranking_history(store)
    first = sv.Supervision(store).ranking_history()
    found = ids(store)
    kw = staff(store, "市科委")
    k1, k2 = found[("demo-m01-t1", "市科委")], found[("demo-m02-t1", "市科委")]
    version = int(store.assignments().set_index("assignment_id").at[k1, "version"])
    store.apply(
        [Update(k1, version, {"note": "验收材料已报"})], user=kw, source="web", at=at("2026-11-20")
    )
    set_status(store, kw, k2, "done", at("2026-11-21"))

    reads: list[int] = []
    read = sv.sql.ranking_history
    monkeypatch.setattr(
        sv.sql,
        "ranking_history",
        lambda conn, after=0, upto=None: reads.append(after) or read(conn, after, upto),
    )
    kept = sv.Supervision(store).ranking_history()
    assert len(reads) == 1 and reads[0] > 0  # only the rows after the last read
    sv._RANKING_HISTORY.clear()
    fresh = sv.Supervision(store).ranking_history()
    assert reads[-1] == 0  # and this one read everything
    pd.testing.assert_frame_equal(kept, fresh)
    assert len(kept) > len(first)
    k1_november = fresh[(fresh["assignment_id"] == k1) & (fresh["field"] == "note")]
    assert k1_november["new_value"].tolist() == ["验收材料已报"]
    assert ((fresh["assignment_id"] == k2) & (fresh["new_value"] == "done")).sum() == 1


def test_rankings_on_a_hand_made_history(store) -> None:
    supervision = build_ranking_history(store)["supervision"]
    table = rk.rankings(
        store.assignments(),
        supervision.ranking_history(),
        supervision.steps(),
        today=date(2026, 11, 23),
    )
    assert list(table.columns) == rk.RANKING_COLUMNS
    got = table.astype(object).where(table.notna(), None).values.tolist()
    assert got == EXPECTED_RANKINGS
    assert table.attrs["period"] == "2026-11"

    figure = figures.ranking_figure(table)
    assert [bar.name for bar in figure.data[:3]] == [
        rk.ON_TIME,
        figures.LATE_DONE,
        figures.OVERDUE_OPEN,
    ]
    assert list(figure.data[0].y) == ["市科委", "市教委", "⚠ 市财政局"]
    assert [list(bar.x) for bar in figure.data[:3]] == [[1, 0, 0], [0, 1, 0], [1, 0, 1]]
    assert list(figure.data[3].text) == ["  50%", "  0%", "  0%"]
    # The longest bar (2 due) leaves room for its rate, which may also draw past the axis.
    low, high = figure.layout.xaxis.range
    assert low == 0 and high > 2
    # The legend spans the chart below the toolbar's strip (on a phone it grew under it).
    assert figure.layout.legend.to_plotly_json() == figures.legend_on_top(figure.layout.height)
    assert figure.data[3].cliponaxis is False

    report = openpyxl.load_workbook(
        io.BytesIO(build_report(store.assignments(), today=date(2026, 11, 23), rankings=table))
    )
    assert report.sheetnames[-1] == SHEET_RANKINGS
    sheet = report[SHEET_RANKINGS]
    assert "本期 2026-11，上期 2026-10" in sheet["A1"].value
    assert [c.value for c in sheet[2]] == rk.RANKING_COLUMNS
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=3, max_row=5)] == [
        [*row[:-2], "是" if row[-2] else None, row[-1]] for row in EXPECTED_RANKINGS
    ]
    assert sheet["F3"].number_format == "0.0%"
    notes = [row[0].value for row in sheet.iter_rows(min_row=7) if row[0].value]
    assert any("按期完成率：" in n for n in notes)


def test_units_with_nothing_due_and_placeholders_are_not_ranked_and_ties_share_a_place():
    """市科委 0% with one overdue used to be 名次 1 above units with nothing due.  Worked by
    hand (today 2026-11-23, nothing in the history): 甲 and 乙 each have one task due
    2026-11-01 still open (0%, 1 逾期: equal on every figure: both 1st, 并列); 丙 has 3 due
    on 11-01, none done (0%, 3 逾期: 3rd); 丁's task is due in 2027 (nothing due: no place);
    各相关单位 (a placeholder) has one overdue task but is never ranked."""
    rows = [
        ("甲", "municipal", "2026-11-01"),
        ("乙", "municipal", "2026-11-01"),
        ("丙", "municipal", "2026-11-01"),
        ("丙", "municipal", "2026-11-01"),
        ("丙", "municipal", "2026-11-01"),
        ("丁", "municipal", "2027-03-01"),
        ("各相关单位", "placeholder", "2026-11-01"),
    ]
    assignments = pd.DataFrame(
        {
            "assignment_id": range(1, len(rows) + 1),
            "unit": [r[0] for r in rows],
            "unit_kind": [r[1] for r in rows],
            "status": "in_progress",
            "due_date": pd.to_datetime([r[2] for r in rows]),
        }
    )
    history = pd.DataFrame(
        columns=["assignment_id", "field", "old_value", "new_value", "changed_at"]
    )
    steps = pd.DataFrame(columns=["assignment_id", "period", "action", "step_id"])
    table = rk.rankings(assignments, history, steps, today=date(2026, 11, 23))
    got = [
        (None if pd.isna(rank) else int(rank), unit, note)
        for rank, unit, note in zip(table[rk.RANK], table[rk.UNIT], table[rk.NOTE], strict=True)
    ]
    assert got == [
        (1, "乙", f"并列；{FEW}"),
        (1, "甲", f"并列；{FEW}"),
        (3, "丙", ""),
        (None, "丁", rk.NOTHING_DUE),
        (None, "各相关单位", rk.PLACEHOLDER_NOTE),
    ]
    shown = rk.ranking_table(table)
    assert shown[rk.RANK].tolist() == ["1", "1", "3", "", ""]
    assert "None" not in shown.astype(str).to_numpy().ravel().tolist()
    assert "<NA>" not in shown.astype(str).to_numpy().ravel().tolist()
    figure = figures.ranking_figure(table)
    assert list(figure.data[0].y) == ["乙", "甲", "丙"]  # only the ranked units are drawn
    assert figure.layout.xaxis.dtick == 1  # whole counts, no tick at 0.5


def test_rankings_rebuild_past_values_from_the_history() -> None:
    """The same rules on frames alone: a deadline moved after the period and a status
    changed after it are read as they were at the period's end."""
    assignments = pd.DataFrame(
        {
            "assignment_id": [1, 2],
            "unit": ["甲", "甲"],
            "status": ["done", "in_progress"],
            "due_date": [pd.Timestamp("2026-10-10"), pd.Timestamp("2027-01-31")],
        }
    )
    history = pd.DataFrame(
        [
            [1, "status", "not_started", "done", datetime(2026, 11, 3)],
            [2, "due_date", "2026-10-20", "2027-01-31", datetime(2026, 11, 1, 8)],
            [2, "status", "not_started", "in_progress", datetime(2026, 10, 31, 23)],
        ],
        columns=["assignment_id", "field", "old_value", "new_value", "changed_at"],
    )
    steps = pd.DataFrame(columns=["assignment_id", "period", "action", "step_id"])
    october = rk.unit_figures(assignments, history, steps, "2026-10", date(2026, 11, 23))
    assert october.loc["甲", [rk.DUE, rk.ON_TIME, rk.OVERDUE, rk.IDLE_DAYS]].tolist() == [
        2,
        0,
        2,
        0,
    ]
    november = rk.unit_figures(assignments, history, steps, "2026-11", date(2026, 11, 23))
    assert november.loc["甲", [rk.DUE, rk.ON_TIME, rk.OVERDUE, rk.IDLE_DAYS]].tolist() == [
        1,
        0,
        0,
        20,
    ]
    assert november.loc["甲", rk.ON_TIME_RATE] == 0.0
    assert rk.period_bounds("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert rk.previous_period("2026-Q1") == "2025-Q4"
