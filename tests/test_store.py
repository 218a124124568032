"""The store suite: sync, progress rules, history, optimistic concurrency, batches,
snapshots.  Every test that takes ``make_store`` runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from tests.conftest import measures_frame
from tests.factories import signed_in
from tracker.errors import ConflictError, PermissionDenied, ValidationError
from tracker.progress import Update, warning_light
from tracker.store import Store, make_engine

AT = datetime(2026, 11, 23, 10, 0)


def _aid(store: Store, task_id: str, unit: str) -> int:
    df = store.assignments(include_archived=True)
    return int(df.loc[(df.task_id == task_id) & (df.unit == unit), "assignment_id"].iloc[0])


def _row(store: Store, aid: int) -> pd.Series:
    return store.assignments(include_archived=True).set_index("assignment_id").loc[aid]


def _counts(store: Store) -> tuple[int, int, int]:
    df = store.assignments(include_archived=True)
    return len(df), df.task_id.nunique(), int(df.archived.sum())


# --- sync ------------------------------------------------------------------------------------


def test_sync_is_idempotent(make_store, small_measures):
    store = make_store(small_measures)
    before, revision = _counts(store), store.revision()
    assert before == (6, 3, 0)
    report = store.sync(small_measures)
    assert not report.changed
    assert _counts(store) == before
    assert store.revision() == revision
    # A copy with the same content (other object, same values) is also a no-op.
    assert not store.sync(small_measures.copy()).changed


def test_missing_task_is_archived_with_history_and_restored(make_store, small_measures):
    store = make_store(small_measures)
    boss = signed_in(store)
    aid = _aid(store, "demo-m01-t2", "市教委")
    store.apply(
        [Update(aid, 0, {"status": "推进中", "percent": 30})],
        user=signed_in(store, "张三"),
        source="web",
    )
    without = small_measures[small_measures.task_id != "demo-m01-t2"]

    report = store.sync(without, user=boss)
    assert report.archived_tasks == 1 and report.archived_assignments == 1
    assert "demo-m01-t2" not in set(store.assignments().task_id)
    archived = _row(store, aid)
    assert bool(archived.archived) and archived.percent == 30
    # Archived under an id of its own, so a later task at that position starts clean.
    assert archived.task_id == "demo-m01-t2~1"
    history = store.history(assignment_ids=[aid])
    assert list(history["field"]) == ["archived", "task_id", "percent", "status"]
    assert (history.iloc[1]["old_value"], history.iloc[1]["new_value"]) == (
        "demo-m01-t2",
        "demo-m01-t2~1",
    )
    assert set(history.iloc[:2]["changed_by"]) == {boss.username}
    assert not store.sync(without, user=boss).changed

    report = store.sync(small_measures, user=boss)
    assert report.restored >= 1
    restored = store.assignments().set_index("assignment_id").loc[aid]
    assert restored.task_id == "demo-m01-t2"
    assert (restored.status, restored.percent, restored.version) == ("in_progress", 30, 1)
    assert list(store.history(assignment_ids=[aid])["field"])[:2] == ["archived", "task_id"]


def test_archived_assignment_cannot_be_updated(make_store, small_measures):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t2", "市教委")
    store.sync(small_measures[small_measures.task_id != "demo-m01-t2"], user=signed_in(store))
    with pytest.raises(ValidationError):
        store.apply([Update(aid, 0, {"percent": 10})], user=signed_in(store, "张三"), source="web")


def _texts(frame: pd.DataFrame, texts: dict[str, str]) -> pd.DataFrame:
    frame = frame.copy()
    frame["task_text"] = frame["task_id"].map(texts)
    return frame


SMALL_TEXTS = {
    "demo-m01-t1": "建立重大科技基础设施开放共享考核制度，保障企业用户机时比例。",
    "demo-m01-t2": "推动高校院所图书馆、实验室向合作企业开放。",
    "demo-m02-t1": "探索试点科学数据银行模式，推动公共数据分级分类开放。",
}


def test_sync_never_resets_progress(make_store, small_measures):
    store = make_store(_texts(small_measures, SMALL_TEXTS))
    aid = _aid(store, "demo-m01-t1", "市科委")
    store.apply(
        [Update(aid, 0, {"status": "推进中", "percent": 55, "note": "按计划推进"})],
        user=signed_in(store, "张三"),
        source="web",
    )
    reworded = "建立健全重大科技基础设施开放共享考核制度，提高企业用户机时比例。"
    changed = _texts(small_measures, {**SMALL_TEXTS, "demo-m01-t1": reworded})
    extra = measures_frame(
        [
            {
                "measure_no": 3,
                "task_id": "demo-m03-t1",
                "task_text": "新增任务：培育科技服务业企业。",
                "unit": "市科委",
                "role": "lead",
                "unit_rank": 1,
            }
        ]
    )
    report = store.sync(pd.concat([changed, extra], ignore_index=True), user=signed_in(store))
    assert (report.added_tasks, report.added_assignments, report.changed_tasks) == (1, 1, 1)
    row = _row(store, aid)
    assert (row.status, row.percent, row.note, row.version) == ("in_progress", 55, "按计划推进", 1)
    assert row.task_text == reworded
    history = store.history(assignment_ids=[aid])
    assert (history.iloc[0]["field"], history.iloc[0]["new_value"]) == ("task_text", reworded)
    new = _row(store, _aid(store, "demo-m03-t1", "市科委"))
    assert (new.status, new.percent, new.version) == ("not_started", 0, 0)


def test_a_revision_that_moves_progress_needs_a_supervisor(make_store, small_measures):
    store = make_store(small_measures)
    revision = store.revision()
    without = small_measures[small_measures.task_id != "demo-m01-t2"]
    with pytest.raises(PermissionDenied, match="删除（归档） 1 项"):
        store.sync(without)
    with pytest.raises(PermissionDenied):
        store.sync(without, user=signed_in(store, "市科委填报员", "staff", ["市科委"]))
    assert store.revision() == revision
    assert "demo-m01-t2" in set(store.assignments().task_id)
    # Only adding tasks needs nobody's confirmation (what a start does by itself).
    extra = measures_frame(
        [
            {
                "measure_no": 3,
                "task_id": "demo-m03-t1",
                "unit": "市科委",
                "role": "lead",
                "unit_rank": 1,
            }
        ]
    )
    assert store.sync(pd.concat([small_measures, extra], ignore_index=True)).added_tasks == 1


def test_a_confirmed_plan_is_refused_once_the_store_moved_on(make_store, small_measures):
    store = make_store(small_measures)
    boss = signed_in(store)
    without = small_measures[small_measures.task_id != "demo-m01-t2"]
    plan = store.plan_sync(without)
    assert plan.needs_confirmation and [c.old_task_id for c in plan.changes] == ["demo-m01-t2"]
    store.sync(small_measures[small_measures.measure_no == 1], user=boss)  # someone else
    with pytest.raises(ConflictError, match="重新核对"):
        store.sync(without, plan=plan, user=boss)
    assert set(store.assignments().task_id) == {"demo-m01-t1", "demo-m01-t2"}


# --- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize("percent", [-1, 101, 150, 50.5, "abc"])
def test_percent_must_be_0_to_100(make_store, small_measures, percent):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    with pytest.raises(ValidationError) as info:
        store.apply(
            [Update(aid, 0, {"percent": percent})], user=signed_in(store, "张三"), source="web"
        )
    assert "完成比例" in str(info.value)
    assert _row(store, aid).percent == 0 and store.history().empty


@pytest.mark.parametrize(
    "field,value", [("percent", float("nan")), ("due_date", float("nan")), ("note", float("nan"))]
)
def test_nan_is_refused_not_stored_as_zero_or_a_cleared_deadline(
    make_store, small_measures, field, value
):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    boss = signed_in(store)
    store.apply(
        [Update(aid, 0, {"percent": 30, "due_date": date(2026, 12, 31)})], user=boss, source="web"
    )
    before = _row(store, aid)
    with pytest.raises(ValidationError, match="NaN"):
        store.apply([Update(aid, int(before.version), {field: value})], user=boss, source="web")
    after = _row(store, aid)
    assert (after.percent, str(after.due_date)[:10]) == (30, "2026-12-31")
    assert int(after.version) == int(before.version)


def test_done_without_percent_sets_100(make_store, small_measures):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    result = store.apply(
        [Update(aid, 0, {"status": "已完成"})], user=signed_in(store, "张三"), source="web"
    )
    assert _row(store, aid).percent == 100
    assert set(result.diffs.field) == {"status", "percent"}


def test_done_with_explicit_80_is_refused(make_store, small_measures):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    with pytest.raises(ValidationError) as info:
        store.apply(
            [Update(aid, 0, {"status": "done", "percent": 80})],
            user=signed_in(store, "张三"),
            source="web",
        )
    assert "100" in str(info.value)
    assert _row(store, aid).status == "not_started"


@pytest.mark.parametrize("status", ["on_hold", "滞后"])
def test_on_hold_and_delayed_need_a_note(make_store, small_measures, status):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    with pytest.raises(ValidationError) as info:
        store.apply(
            [Update(aid, 0, {"status": status})], user=signed_in(store, "张三"), source="web"
        )
    assert "进展情况" in str(info.value)
    store.apply(
        [Update(aid, 0, {"status": status, "note": "资金未到位"})],
        user=signed_in(store, "张三"),
        source="web",
    )
    assert _row(store, aid).note == "资金未到位"


def test_unknown_status_and_field_are_refused(make_store, small_measures):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    with pytest.raises(ValidationError) as info:
        store.apply(
            [Update(aid, 0, {"status": "进行", "unit": "x"})],
            user=signed_in(store, "张三"),
            source="web",
        )
    assert len(info.value.problems) == 2


@pytest.mark.parametrize("typed", ["  ", "张三"])
def test_a_typed_name_is_not_an_account(make_store, small_measures, typed):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    with pytest.raises(PermissionDenied):
        store.apply([Update(aid, 0, {"percent": 10})], user=typed, source="web")
    assert _row(store, aid).version == 0


def test_due_date_outside_the_policys_dates_is_refused(make_store, small_measures):
    store = make_store(small_measures)  # issued 2026-01-10, effective 2026-02-01 .. 2028-01-31
    aid = _aid(store, "demo-m01-t1", "市科委")
    inside = store.apply(
        [Update(aid, 0, {"due_date": "2027-06-30"})], user=signed_in(store, "张三"), source="web"
    )
    assert inside.problems == [] and inside.changed_assignments == 1
    for typed, why in [
        (date(2029, 1, 1), "晚于政策有效期截止日 2028-01-31"),
        ("2025-12-31", "早于政策成文日期 2026-01-10"),
        ("2025-13-45", "不是有效日期"),
    ]:
        with pytest.raises(ValidationError) as info:
            store.apply(
                [Update(aid, 1, {"due_date": typed}, row=4)],
                user=signed_in(store, "张三"),
                source="web",
            )
        [problem] = info.value.problems
        assert (problem.row, problem.column) == (4, "完成时限") and why in problem.message
    assert _row(store, aid).due_date == pd.Timestamp("2027-06-30")


# --- history ---------------------------------------------------------------------------------


def test_history_is_append_only_with_who_when_old_new_source(make_store, small_measures):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    store.apply(
        [Update(aid, 0, {"percent": 20})], user=signed_in(store, "张三"), source="web", at=AT
    )
    store.apply(
        [Update(aid, 1, {"percent": 45, "note": "进展顺利"})],
        user=signed_in(store, "李四"),
        source="excel:进度.xlsx",
        at=datetime(2026, 12, 1, 9, 30),
    )
    history = store.history(assignment_ids=[aid])
    assert history[
        ["field", "old_value", "new_value", "changed_by", "source", "version"]
    ].values.tolist() == [
        ["note", "", "进展顺利", "李四", "excel:进度.xlsx", 2],
        ["percent", "20", "45", "李四", "excel:进度.xlsx", 2],
        ["percent", "0", "20", "张三", "web", 1],
    ]
    assert list(pd.to_datetime(history.changed_at)) == [
        pd.Timestamp("2026-12-01 09:30"),
        pd.Timestamp("2026-12-01 09:30"),
        pd.Timestamp(AT),
    ]
    assert list(history.period) == ["2026-12", "2026-12", "2026-11"]
    # Re-applying the same values is a no-op: no history, no version bump.
    store.apply([Update(aid, 2, {"percent": 45})], user=signed_in(store, "王五"), source="web")
    assert len(store.history(assignment_ids=[aid])) == 3
    assert _row(store, aid).version == 2
    assert set(store.history(task_id="demo-m01-t1").assignment_id) == {aid}


# --- optimistic concurrency ---------------------------------------------------------------


def test_two_editors_loser_sees_winner_and_reapplies(make_store, small_measures):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    other = _aid(store, "demo-m01-t2", "市教委")
    version = int(_row(store, aid).version)  # both editors load version N

    store.apply(
        [Update(aid, version, {"percent": 30})], user=signed_in(store, "张三"), source="web"
    )
    with pytest.raises(ConflictError) as info:
        store.apply(
            [
                Update(aid, version, {"percent": 50, "note": "李四的进展"}),
                Update(other, 0, {"percent": 10}),
            ],
            user=signed_in(store, "李四"),
            source="web",
        )
    conflict = info.value.conflicts[0]
    assert (conflict.assignment_id, conflict.updated_by) == (aid, "张三")
    assert conflict.theirs["完成比例(%)"] == "30"
    assert conflict.mine["完成比例(%)"] == "50"
    assert "张三" in str(info.value) and "30" in str(info.value)
    # Nothing of the loser was written, not even the non-conflicting row.
    assert (_row(store, aid).percent, _row(store, aid).note) == (30, "")
    assert _row(store, other).version == 0
    assert set(store.history().changed_by) == {"张三"}

    # The loser reloads and applies again: nothing is lost.
    reloaded = int(_row(store, aid).version)
    store.apply(
        [
            Update(aid, reloaded, {"percent": 50, "note": "李四的进展"}),
            Update(other, 0, {"percent": 10}),
        ],
        user=signed_in(store, "李四"),
        source="web",
    )
    row = _row(store, aid)
    assert (row.percent, row.note, row.version) == (50, "李四的进展", version + 2)
    assert list(store.history(assignment_ids=[aid]).new_value) == ["李四的进展", "50", "30"]


def test_real_race_exactly_one_wins(make_store, small_measures, db_url):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}
    accounts = {name: signed_in(store, name) for name in ("甲", "乙")}

    def editor(name: str, percent: int) -> None:
        own = Store(make_engine(db_url))  # its own engine and connection, like another process
        try:
            barrier.wait()
            own.apply([Update(aid, 0, {"percent": percent})], user=accounts[name], source="web")
            outcomes[name] = "ok"
        except ConflictError:
            outcomes[name] = "conflict"
        finally:
            own.engine.dispose()

    threads = [threading.Thread(target=editor, args=(n, p)) for n, p in (("甲", 30), ("乙", 70))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["conflict", "ok"]
    winner = next(n for n, o in outcomes.items() if o == "ok")
    row = _row(store, aid)
    assert (row.version, row.updated_by) == (1, winner)
    assert row.percent == (30 if winner == "甲" else 70)
    assert len(store.history(assignment_ids=[aid])) == 1


def test_concurrent_writes_to_different_rows_each_move_the_revision(make_store, db_url):
    """The revision is the pages' cache key: two saves that commit side by side must
    both move it, or a page may keep showing data from before one of them."""
    measures = measures_frame(
        [
            {
                "measure_no": 1,
                "task_id": f"demo-m01-t{i}",
                "task_seq": i,
                "unit": "市科委",
                "role": "lead",
                "unit_rank": 1,
            }
            for i in range(1, 9)
        ]
    )
    store = make_store(measures)
    ids = store.assignments().assignment_id.tolist()
    start = store.revision()
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []
    account = signed_in(store, "甲")

    def editor(aid: int) -> None:
        own = Store(make_engine(db_url))
        try:
            barrier.wait()
            for percent in (10, 20, 30):
                own.apply(
                    [Update(aid, percent // 10 - 1, {"percent": percent})],
                    user=account,
                    source="web",
                )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            own.engine.dispose()

    threads = [threading.Thread(target=editor, args=(aid,)) for aid in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert store.revision() == start + 3 * len(ids)


# --- batches -------------------------------------------------------------------------------


def test_batch_is_all_or_nothing(make_store, small_measures):
    store = make_store(small_measures)
    good = _aid(store, "demo-m01-t1", "市科委")
    bad = _aid(store, "demo-m01-t2", "市教委")
    revision = store.revision()
    with pytest.raises(ValidationError) as info:
        store.apply(
            [Update(good, 0, {"percent": 40}, row=1), Update(bad, 0, {"percent": 150}, row=2)],
            user=signed_in(store, "张三"),
            source="web",
        )
    assert [p.row for p in info.value.problems] == [2]
    assert info.value.problems[0].task_id == "demo-m01-t2"
    assert _row(store, good).percent == 0 and _row(store, good).version == 0
    assert store.history().empty and store.snapshots().empty
    assert store.revision() == revision


def test_partial_writes_valid_rows_only(make_store, small_measures):
    store = make_store(small_measures)
    good = _aid(store, "demo-m01-t1", "市科委")
    bad = _aid(store, "demo-m01-t2", "市教委")
    result = store.apply(
        [Update(good, 0, {"percent": 40}), Update(bad, 0, {"percent": 150})],
        user=signed_in(store, "张三"),
        source="web",
        partial=True,
    )
    assert len(result.problems) == 1 and result.problems[0].task_id == "demo-m01-t2"
    assert _row(store, good).percent == 40 and _row(store, bad).percent == 0
    assert set(store.history().assignment_id) == {good}


def test_dry_run_writes_nothing_but_returns_diffs(make_store, small_measures):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    revision = store.revision()
    result = store.apply(
        [Update(aid, 0, {"status": "推进中", "percent": 40})],
        user=signed_in(store, "张三"),
        source="web",
        dry_run=True,
    )
    assert result.dry_run
    assert result.diffs[["field", "old", "new"]].values.tolist() == [
        ["status", "未启动", "推进中"],
        ["percent", "0", "40"],
    ]
    assert result.changed_assignments == 1
    row = _row(store, aid)
    assert (row.status, row.percent, row.version) == ("not_started", 0, 0)
    assert store.history().empty and store.snapshots().empty
    assert store.revision() == revision


def test_reads_by_a_list_of_ids_give_what_sqlalchemy_gives(make_store, small_measures):
    """The lock read and the import's lookup pass their ids as one parameter and convert
    each distinct value once (tracker/store_reads.py): the rows, the values and their types
    are SQLAlchemy's own, dates, booleans and times included, for one id, many, none."""
    from tracker import store as store_module
    from tracker.models import Assignment, Progress
    from tracker.store_reads import frame_by_ids, rows_by_ids

    store = make_store(small_measures)
    frame = store.assignments()
    ids = [int(i) for i in frame.assignment_id]
    store.apply(
        [Update(ids[0], 0, {"status": "推进中", "percent": 40, "due_date": "2026-12-31"})],
        user=signed_in(store),
        source="web",
        at=AT,
    )

    def typed(rows):
        return sorted((tuple((k, type(v), v) for k, v in row.items()) for row in rows), key=str)

    lock = store_module._LOCK_ROWS
    with store.engine.connect() as conn:
        for wanted in ([ids[0]], ids, [], [ids[1], ids[1], 999_999]):
            result = conn.execute(lock.where(Progress.assignment_id.in_(wanted)))
            expected = [dict(row._mapping) for row in result]
            got = rows_by_ids(conn, lock, Progress.assignment_id, wanted)
            assert typed(got) == typed(expected)
        saved = rows_by_ids(conn, lock, Progress.assignment_id, [ids[0]])[0]
        assert saved["due_date"] == date(2026, 12, 31) and saved["updated_at"] == AT
        assert saved["rollup"] is False and saved["issue_date"] == date(2026, 1, 10)
        task_ids = sorted(set(frame.task_id))[:2] + ["no-such-task"]
        found = frame_by_ids(conn, store_module._FIND_ASSIGNMENTS, Assignment.task_id, task_ids)
        expected_rows = conn.execute(
            store_module._FIND_ASSIGNMENTS.where(Assignment.task_id.in_(task_ids))
        ).all()
    assert typed(found.to_dict("records")) == typed(dict(r._mapping) for r in expected_rows)
    assert len(found) == len(expected_rows) > 1 and list(
        store.find_assignments([]).columns
    ) == list(found.columns)


# --- snapshots --------------------------------------------------------------------------------


def test_snapshot_per_period(make_store, small_measures):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    store.apply(
        [Update(aid, 0, {"percent": 20})],
        user=signed_in(store, "张三"),
        source="web",
        at=datetime(2026, 10, 31, 23, 0),
    )
    store.apply(
        [Update(aid, 1, {"percent": 30})],
        user=signed_in(store, "张三"),
        source="web",
        at=datetime(2026, 11, 1, 8, 0),
    )
    store.apply(
        [Update(aid, 2, {"percent": 60})],
        user=signed_in(store, "张三"),
        source="web",
        at=datetime(2026, 11, 20, 8, 0),
    )
    snaps = store.snapshots()
    assert snaps[["period", "assignment_id", "percent"]].values.tolist() == [
        ["2026-10", aid, 20],
        ["2026-11", aid, 60],  # last save in the period wins
    ]
    assert _row(store, aid).period == "2026-11"
    assert store.snapshots(unit="市科委").equals(snaps)
    assert store.snapshots(unit="市教委").empty


def test_quarterly_periods(make_store, small_measures, monkeypatch):
    monkeypatch.setenv("TRACKER_PERIOD", "quarter")
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    store.apply(
        [Update(aid, 0, {"percent": 20})],
        user=signed_in(store, "张三"),
        source="web",
        at=datetime(2026, 9, 30),
    )
    store.apply(
        [Update(aid, 1, {"percent": 30})],
        user=signed_in(store, "张三"),
        source="web",
        at=datetime(2026, 10, 1),
    )
    assert list(store.snapshots().period) == ["2026-Q3", "2026-Q4"]


# --- warning light --------------------------------------------------------------------------

TODAY = date(2026, 11, 23)
LIGHT_CASES = [
    # status, due_date, updated_at, assigned_at, expected
    ("delayed", None, "2026-11-20", None, "red"),
    ("delayed", "2027-12-31", "2026-11-20", None, "red"),
    ("in_progress", "2026-11-22", "2026-11-20", None, "red"),  # 1 day overdue
    ("done", "2026-01-01", "2026-01-01", None, "green"),  # done is never red/yellow
    ("in_progress", "2026-11-23", "2026-11-20", None, "yellow"),  # due today
    ("in_progress", "2026-12-23", "2026-11-20", None, "yellow"),  # exactly 30 days left
    ("in_progress", "2026-12-24", "2026-11-20", None, "green"),  # 31 days left
    ("not_started", None, "2026-09-24", None, "green"),  # idle exactly 60 days
    ("not_started", None, "2026-09-23", None, "yellow"),  # idle 61 days
    ("not_started", None, None, "2026-09-24", "green"),  # never updated: from assignment
    ("not_started", None, None, "2026-09-23", "yellow"),
    ("not_started", None, None, None, "green"),  # nothing known
    ("on_hold", "2027-06-30", "2026-11-01", None, "green"),
]


def test_warning_light_single_and_vectorised_agree():
    frame = pd.DataFrame(
        LIGHT_CASES, columns=["status", "due_date", "updated_at", "assigned_at", "expected"]
    )
    vectorised = warning_light(frame, TODAY)
    assert list(vectorised) == list(frame.expected)
    for record in frame.to_dict("records"):
        assert warning_light(record, TODAY) == record["expected"], record


def test_fresh_start_is_not_stale_however_old_the_policy(make_store, small_measures):
    """Never-updated rows count their idle days from when the store first held them, not
    from the policy's issue date (which lit every row of an old policy yellow at once)."""
    old_policy = small_measures.assign(issue_date="2020-01-01", effective_from="2020-01-01")
    store = make_store(old_policy)
    rows = store.assignments()
    assert rows["assigned_at"].notna().all()
    today = rows["assigned_at"].max().date()
    assert set(warning_light(rows, today)) == {"green"}
    assert set(warning_light(rows, today + timedelta(days=62))) == {"yellow"}


def test_warning_light_on_store_rows(make_store, small_measures):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    store.apply(
        [Update(aid, 0, {"status": "滞后", "note": "延误"})],
        user=signed_in(store, "张三"),
        source="web",
        at=AT,
    )
    rows = store.assignments()
    lights = warning_light(rows, TODAY)
    for i, record in enumerate(rows.to_dict("records")):
        assert warning_light(record, TODAY) == lights.iloc[i]
    assert lights[rows.assignment_id == aid].tolist() == ["red"]


# --- the kept assignment frame -------------------------------------------------------------


def test_assignments_follow_saves_by_other_store_instances(make_store, small_measures, db_url):
    """A reader keeps its frame between calls and re-reads only rows saved since; saves by
    another process (another Store on the same database) must show, and nothing else move."""
    reader = make_store(small_measures)
    before = reader.assignments()
    writer = Store(make_engine(db_url))
    aid = _aid(writer, "demo-m02-t1", "市财政局")
    writer.apply(
        [Update(aid, 0, {"status": "滞后", "note": "资金未到位", "due_date": "2027-03-31"})],
        user=signed_in(writer, "李四"),
        source="web",
        at=datetime(2026, 11, 20, 9, 30),
    )
    after = reader.assignments()
    changed = after.set_index("assignment_id").loc[aid]
    assert (changed.status, changed.note, changed.version, changed.updated_by) == (
        "delayed",
        "资金未到位",
        1,
        "李四",
    )
    assert changed.due_date == pd.Timestamp("2027-03-31")
    assert changed.updated_at == pd.Timestamp("2026-11-20 09:30")
    others = after[after.assignment_id != aid].reset_index(drop=True)
    expected = before[before.assignment_id != aid].reset_index(drop=True)
    pd.testing.assert_frame_equal(others, expected)
    assert list(after.dtypes) == list(before.dtypes)
    writer.engine.dispose()


def test_callers_cannot_change_the_kept_frame(make_store, small_measures):
    store = make_store(small_measures)
    first = store.assignments()
    first["light"] = "red"
    first.loc[0, "status"] = "done"
    again = store.assignments()
    assert "light" not in again and again.loc[0, "status"] == "not_started"


def test_assignments_reload_whole_after_a_sync(make_store, small_measures, db_url):
    reader = make_store(small_measures)
    assert len(reader.assignments()) == 6
    writer = Store(make_engine(db_url))
    boss = signed_in(writer)
    writer.sync(small_measures[small_measures["measure_no"] == 1], user=boss)
    assert set(reader.assignments()["task_id"]) == {"demo-m01-t1", "demo-m01-t2"}
    writer.sync(small_measures, user=boss)
    assert len(reader.assignments()) == 6
    writer.engine.dispose()
