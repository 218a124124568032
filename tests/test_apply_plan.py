"""plan_apply decides what a batch does without a database: rights, refused values,
conflicts and the exact rows to write.

The accounts here are built as :meth:`tracker.store.Store.apply` hands them over, i.e. as
the store re-read them inside the write's transaction; signing in needs a database, which
these tests avoid on purpose (test_store.py and test_import_rights.py sign in and go
through the store).  Expected values are written out by hand from the rows below.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from tracker.accounts import Account
from tracker.apply_plan import PlannedWrite, plan_apply
from tracker.errors import ConflictError, PermissionDenied, ValidationError
from tracker.progress import Update
from tracker.schema import ADMIN, LEADER, STAFF, SUPERVISOR

AT = datetime(2026, 11, 23, 9, 30)

CLERK = Account("kw-clerk", STAFF, frozenset({"市科委"}), "科委填报员")
SUPERVISOR_ACCOUNT = Account("duban", SUPERVISOR)
ADMIN_ACCOUNT = Account("admin", ADMIN)
LEADER_ACCOUNT = Account("lingdao", LEADER)


def stored(
    assignment_id: int, unit: str, *, version: int = 0, **progress: object
) -> dict[str, object]:
    """A row as the store reads it under lock: progress, version, task, unit, policy span."""
    row: dict[str, object] = {
        "assignment_id": assignment_id,
        "status": "not_started",
        "percent": 0,
        "due_date": None,
        "note": "",
        "next_step": "",
        "problems": "",
        "evidence": "",
        "updated_by": "",
        "updated_at": None,
        "version": version,
        "task_id": f"demo-m01-t{assignment_id}",
        "unit": unit,
        "issue_date": date(2026, 1, 10),
        "effective_from": date(2026, 2, 1),
        "effective_to": date(2028, 1, 31),
    }
    row.update(progress)
    return row


CURRENT = {
    1: stored(1, "市科委", version=3, status="in_progress", percent=20, note="已启动"),
    2: stored(2, "市教委"),
    3: stored(3, "市科委"),
}


def plan(account: Account, *updates: Update, source: str = "web"):
    return plan_apply(account, CURRENT, list(updates), at=AT, source=source, period="2026-11")


# --- rights -----------------------------------------------------------------------------


def test_a_leader_writes_nothing_and_no_row_is_looked_at() -> None:
    result = plan(LEADER_ACCOUNT, Update(1, 3, {"percent": 30}))
    refusal = result.refusal(partial=True)
    assert isinstance(refusal, PermissionDenied)
    assert str(refusal) == "账号 lingdao（领导）只能查看和导出，不能修改"
    assert result.writes == [] and result.problems == []


def test_a_clerk_may_not_touch_another_units_row() -> None:
    result = plan(CLERK, Update(1, 3, {"percent": 30}, row=4), Update(2, 0, {"percent": 10}, row=5))
    refusal = result.refusal(partial=False)
    assert isinstance(refusal, PermissionDenied)
    assert str(refusal).startswith("1 行属于其他单位，账号 kw-clerk 无权修改，本批次未保存任何修改")
    assert [(p.row, p.task_id, p.message) for p in refusal.problems] == [
        (5, "demo-m01-t2", "无权修改「市教委」的任务（本账号负责：市科委）")
    ]
    # Written in part, the other unit's row is refused by itself and the own row goes in.
    assert result.refusal(partial=True) is None
    assert [(p.row, p.task_id) for p in result.refused()] == [(5, "demo-m01-t2")]
    assert [(w.assignment_id, w.changed) for w in result.writes] == [(1, {"percent": (20, 30)})]


def test_another_units_rows_left_as_stored_are_skipped_not_refused() -> None:
    """A whole report's 明细 sent back by one unit: the other units' rows, equal to what is
    stored (status given as its label, percent as text), are counted and never block."""
    result = plan(
        CLERK,
        Update(2, 0, {"status": "未启动", "percent": "0", "note": "", "due_date": None}, row=5),
        Update(3, 0, {"percent": 40}, row=6),
    )
    assert result.refusal(partial=False) is None and result.refused() == []
    assert result.foreign_unchanged == 1
    assert [(w.assignment_id, w.changed) for w in result.writes] == [(3, {"percent": (0, 40)})]


@pytest.mark.parametrize("account", [SUPERVISOR_ACCOUNT, ADMIN_ACCOUNT], ids=["督办员", "管理员"])
def test_supervisors_write_any_unit_and_set_deadlines(account: Account) -> None:
    result = plan(account, Update(2, 0, {"due_date": "2026-12-31"}))
    assert result.refusal(partial=False) is None
    assert [(w.assignment_id, w.changed) for w in result.writes] == [
        (2, {"due_date": (None, date(2026, 12, 31))})
    ]


def test_a_clerk_may_not_set_a_deadline() -> None:
    result = plan(CLERK, Update(3, 0, {"due_date": "2026-12-31", "percent": 10}, row=7))
    assert [(p.message, p.column, p.value, p.row) for p in result.problems] == [
        ("完成时限由督办员设定，填报员不能修改", "完成时限", "2026-12-31", 7)
    ]
    assert result.writes == []
    assert isinstance(result.refusal(partial=False), ValidationError)
    assert result.refusal(partial=True) is None  # the row is reported, nothing written


# --- values, conflicts, no-ops -------------------------------------------------------------


def test_refused_values_are_named_with_their_column_and_row() -> None:
    result = plan(
        CLERK,
        Update(3, 0, {"percent": 150}, row=2),
        Update(1, 3, {"status": "已完成", "percent": 80}, row=3),
        Update(99, 0, {"percent": 10}, row=4),
        Update(3, 0, {"note": "再次"}, row=5),
    )
    assert [(p.row, p.column, p.message) for p in result.problems] == [
        (2, "完成比例(%)", "完成比例必须是0到100之间的整数"),
        (3, None, "状态为“已完成”时完成比例必须为100"),
        (4, None, "未知的任务分工编号 99"),
        (5, None, "同一任务分工出现多次"),
    ]
    refusal = result.refusal(partial=False)
    assert isinstance(refusal, ValidationError)
    assert str(refusal).startswith("4 处数据不符合要求，本批次未保存任何修改")
    assert result.writes == []


def test_a_value_repeated_over_rows_is_judged_on_every_row() -> None:
    """Each distinct value is checked once per batch and remembered (an import repeats a few):
    every row still gets its verdict, and values that are equal but not alike are not mixed
    up (-0.0 == 0.0, but a note keeps what was typed; equal instants in two time zones are
    two days)."""
    current = {aid: stored(aid, "市科委") for aid in range(1, 5)}
    bad = [Update(aid, 0, {"percent": 150, "status": "x"}, row=aid + 10) for aid in (1, 2)]
    result = plan_apply(CLERK, current, bad, at=AT, source="web", period="2026-11")
    assert [(p.row, p.column, p.value) for p in result.problems] == [
        (11, "完成比例(%)", 150),
        (11, "状态", "x"),
        (12, "完成比例(%)", 150),
        (12, "状态", "x"),
    ]
    east, utc = timezone(timedelta(hours=8)), UTC
    alike = [
        Update(1, 0, {"note": 0.0}),
        Update(2, 0, {"note": -0.0}),
        Update(3, 0, {"due_date": datetime(2026, 12, 31, 1, 0, tzinfo=east)}),
        Update(4, 0, {"due_date": datetime(2026, 12, 30, 17, 0, tzinfo=utc)}),
    ]
    result = plan_apply(SUPERVISOR_ACCOUNT, current, alike, at=AT, source="web")
    assert [next(iter(w.changed.values()))[1] for w in result.writes] == [
        "0.0",
        "-0.0",
        date(2026, 12, 31),
        date(2026, 12, 30),
    ]


def test_a_row_saved_since_it_was_loaded_is_a_conflict() -> None:
    result = plan(CLERK, Update(1, 2, {"percent": 30}))
    assert len(result.conflicts) == 1
    conflict = result.conflicts[0]
    assert (conflict.base_version, conflict.current_version) == (2, 3)
    assert (conflict.theirs, conflict.mine) == ({"完成比例(%)": "20"}, {"完成比例(%)": "30"})
    refusal = result.refusal(partial=False)
    assert isinstance(refusal, ConflictError)
    assert str(refusal).startswith("1 条任务已被他人修改，本批次未保存任何修改")
    assert result.refusal(partial=True) is None
    assert result.writes == []


def test_unchanged_values_plan_nothing_even_on_an_old_version() -> None:
    result = plan(CLERK, Update(1, 1, {"status": "推进中", "percent": "20", "note": "已启动"}))
    assert result.refusal(partial=False) is None
    assert (result.writes, result.conflicts, result.history_rows()) == ([], [], [])


# --- what is written ------------------------------------------------------------------------


def test_a_multi_field_save_plans_exact_rows_history_and_snapshot() -> None:
    result = plan(
        CLERK,
        Update(1, 3, {"percent": "60%", "note": "  完成中期评估 ", "next_step": "验收"}, row=9),
        Update(3, 0, {"status": "已完成"}, row=10),
        source="excel:进度.xlsx",
    )
    assert result.refusal(partial=False) is None
    blank = {"due_date": None, "problems": "", "evidence": ""}
    assert result.writes == [
        PlannedWrite(
            assignment_id=1,
            version=3,
            state={
                "status": "in_progress",
                "percent": 60,
                "note": "完成中期评估",
                "next_step": "验收",
                **blank,
            },
            changed={
                "percent": (20, 60),
                "note": ("已启动", "完成中期评估"),
                "next_step": ("", "验收"),
            },
        ),
        PlannedWrite(  # done without a percentage means 100%
            assignment_id=3,
            version=0,
            state={"status": "done", "percent": 100, "note": "", "next_step": "", **blank},
            changed={"status": ("not_started", "done"), "percent": (0, 100)},
        ),
    ]
    common = {
        "changed_by": "kw-clerk",
        "changed_at": AT,
        "source": "excel:进度.xlsx",
        "period": "2026-11",
    }
    assert result.history_rows() == [
        {"assignment_id": 1, "field": "percent", "old_value": "20", "new_value": "60"}
        | common
        | {"version": 4},
        {"assignment_id": 1, "field": "note", "old_value": "已启动", "new_value": "完成中期评估"}
        | common
        | {"version": 4},
        {"assignment_id": 1, "field": "next_step", "old_value": "", "new_value": "验收"}
        | common
        | {"version": 4},
        {"assignment_id": 3, "field": "status", "old_value": "not_started", "new_value": "done"}
        | common
        | {"version": 1},
        {"assignment_id": 3, "field": "percent", "old_value": "0", "new_value": "100"}
        | common
        | {"version": 1},
    ]
    assert result.snapshot_rows() == [
        {
            "period": "2026-11",
            "assignment_id": 1,
            "status": "in_progress",
            "percent": 60,
            "updated_at": AT,
        },
        {
            "period": "2026-11",
            "assignment_id": 3,
            "status": "done",
            "percent": 100,
            "updated_at": AT,
        },
    ]
    assert [d[:4] for d in result.diffs] == [
        (1, "demo-m01-t1", "市科委", "percent"),
        (1, "demo-m01-t1", "市科委", "note"),
        (1, "demo-m01-t1", "市科委", "next_step"),
        (3, "demo-m01-t3", "市科委", "status"),
        (3, "demo-m01-t3", "市科委", "percent"),
    ]


@pytest.mark.parametrize(
    "typed, message",
    [
        (
            "2025-13-45",
            "完成时限 2025-13-45 不是有效日期（没有这个月或这一天），请按 2026-12-31 的格式填写",
        ),
        (
            "2026-02-30",
            "完成时限 2026-02-30 不是有效日期（没有这个月或这一天），请按 2026-12-31 的格式填写",
        ),
        (date(2025, 3, 5), "完成时限 2025-03-05 早于政策成文日期 2026-01-10"),
        ("2029-06-30", "完成时限 2029-06-30 晚于政策有效期截止日 2028-01-31"),
    ],
    ids=["month 13", "30 February", "before issue", "after the span"],
)
def test_a_deadline_must_be_a_real_day_within_the_policys_dates(typed, message) -> None:
    """Row 3's policy was issued 2026-01-10 and runs 2026-02-01..2028-01-31 (see stored)."""
    result = plan(SUPERVISOR_ACCOUNT, Update(3, 0, {"due_date": typed}, row=2))
    assert [(p.row, p.column, p.message) for p in result.problems] == [(2, "完成时限", message)]
    assert result.writes == [] and isinstance(result.refusal(partial=False), ValidationError)


def test_a_deadline_more_than_ten_years_out_is_refused_without_an_end_date() -> None:
    """No 有效期 end: 2099-12-31 set on 2026-11-23 is past 2036-11-23 (ten years)."""
    current = {3: stored(3, "市科委", effective_to=None)}
    updates = [Update(3, 0, {"due_date": "2099-12-31"}, row=2)]
    result = plan_apply(SUPERVISOR_ACCOUNT, current, updates, at=AT, source="web")
    assert [p.message for p in result.problems] == [
        "完成时限 2099-12-31 超过 10 年以后（最晚 2036-11-23），请核对"
    ]
    ok = plan_apply(
        SUPERVISOR_ACCOUNT, current, [Update(3, 0, {"due_date": "2036-11-23"})], at=AT, source="w"
    )
    assert ok.problems == [] and len(ok.writes) == 1


def test_an_old_deadline_outside_the_span_does_not_block_other_fields() -> None:
    """Only a deadline being changed is checked: a row saved before the rule keeps saving."""
    current = {3: stored(3, "市科委", due_date=date(2030, 1, 1))}
    result = plan_apply(CLERK, current, [Update(3, 0, {"percent": 10})], at=AT, source="web")
    assert result.problems == [] and len(result.writes) == 1


def test_a_long_source_is_cut_to_what_the_history_column_holds() -> None:
    result = plan(CLERK, Update(3, 0, {"percent": 5}), source="x" * 250)
    assert result.source == "x" * 199 + "…"
    assert {row["source"] for row in result.history_rows()} == {"x" * 199 + "…"}
