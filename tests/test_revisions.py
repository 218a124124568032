"""Revisions of a policy: tasks are matched by content, so no progress ever lands on a task
it wasn't written for.  The plan is pure and tested alone; the store tests put
progress on every task, sync a revised table and check that each assignment's progress
still names its own task's text.  Store tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracker.sync
from loaders.measures_csv import read_measures
from tests.conftest import measures_frame
from tests.factories import signed_in
from tracker.progress import Update
from tracker.revisions import ADDED, CHANGED, MOVED, REMOVED, RESTORED, plan_revision
from tracker.schema import MEASURES_CSV
from tracker.store import Store, make_engine

POLICY = "rev-2026-1"
A = "优化运营管理和开放共享考核制度，加大重大科技基础设施、大型科学仪器向社会开放力度。"
B = "加强校企合作，创建联合创新中心等平台，推动高校院所图书馆、实验室向合作企业开放。"
C = "探索试点科学数据银行模式，建立高校院所之间的数据共享机制，推动公共数据分级分类开放。"
D = "建立未来产业基金、高质量孵化器、概念验证中心和集聚区体系化布局机制。"
E = "支持科技服务业企业组建企业实验室、技术创新中心、专业技术服务平台。"
F = "鼓励科技服务业企业打造创新型企业总部，引入高端服务业项目，按规定予以支持。"
NEW = "完善知识产权质押融资风险补偿机制，扩大科技服务业企业知识产权融资规模。"
# The same task, reworded the way a revised edition rewords: a few words in, a few out.
A2 = "优化运营管理和开放共享考核制度，进一步加大重大科技基础设施、大型科学仪器开放力度。"

UNITS = {
    A: ("市科委", "市发展改革委"),
    A2: ("市科委", "市发展改革委"),
    B: ("市教委", "市经济信息化委", "市科委"),
    C: ("市科委", "市数据局"),
    D: ("市科委", "市经济信息化委"),
    E: ("市科委",),
    F: ("市商务委", "市科委"),
    NEW: ("市知识产权局", "市财政局"),
}
ORIGINAL = [[A, B], [C], [D, E], [F]]  # measures, each a list of task texts


def policy_frame(measures: list[list[str]], policy_id: str = POLICY) -> pd.DataFrame:
    """A measures table with positional ids, the way the loader numbers them."""
    rows = [
        {
            "policy_id": policy_id,
            "measure_no": m,
            "measure_title": f"措施{m}",
            "task_id": f"{policy_id}-m{m:02d}-t{seq}",
            "task_seq": seq,
            "task_text": text,
            "unit": unit,
            "role": "lead" if rank == 1 else "support",
            "unit_rank": rank,
        }
        for m, texts in enumerate(measures, 1)
        for seq, text in enumerate(texts, 1)
        for rank, unit in enumerate(UNITS.get(text, ("市科委",)), 1)
    ]
    return measures_frame(rows)


def stored_rows(measures: list[list[str]]) -> pd.DataFrame:
    return policy_frame(measures).assign(archived=False, reported=True)


def kinds(plan) -> list[tuple[str, str, str]]:
    return [(c.kind, c.old_task_id, c.new_task_id) for c in plan.changes]


# --- the plan, pure --------------------------------------------------------------------------


def test_inserting_a_measure_moves_every_task_after_it():
    plan = plan_revision(stored_rows(ORIGINAL), policy_frame([[NEW], *ORIGINAL]))
    ids = {c.new_task_id: c.old_task_id for c in plan.of_kind(MOVED)}
    assert ids == {
        "rev-2026-1-m02-t1": "rev-2026-1-m01-t1",
        "rev-2026-1-m02-t2": "rev-2026-1-m01-t2",
        "rev-2026-1-m03-t1": "rev-2026-1-m02-t1",
        "rev-2026-1-m04-t1": "rev-2026-1-m03-t1",
        "rev-2026-1-m04-t2": "rev-2026-1-m03-t2",
        "rev-2026-1-m05-t1": "rev-2026-1-m04-t1",
    }
    assert kinds(plan)[0] == (ADDED, "", "rev-2026-1-m01-t1")
    assert plan.counts()[ADDED] == 1 and plan.unchanged == 0 and plan.needs_confirmation


def test_deleting_a_measure_archives_its_task_and_moves_the_rest():
    plan = plan_revision(stored_rows(ORIGINAL), policy_frame([[A, B], [D, E], [F]]))
    assert plan.of_kind(REMOVED)[0].old_text == C
    assert {(c.old_task_id, c.new_task_id) for c in plan.of_kind(MOVED)} == {
        ("rev-2026-1-m03-t1", "rev-2026-1-m02-t1"),
        ("rev-2026-1-m03-t2", "rev-2026-1-m02-t2"),
        ("rev-2026-1-m04-t1", "rev-2026-1-m03-t1"),
    }
    assert plan.unchanged == 2


def test_reordering_measures_swaps_ids():
    plan = plan_revision(stored_rows(ORIGINAL), policy_frame([[F], [C], [D, E], [A, B]]))
    assert plan.moves == {
        "rev-2026-1-m04-t1": "rev-2026-1-m01-t1",
        "rev-2026-1-m01-t1": "rev-2026-1-m04-t1",
        "rev-2026-1-m01-t2": "rev-2026-1-m04-t2",
    }
    assert plan.counts() == {ADDED: 0, REMOVED: 0, CHANGED: 0, MOVED: 3, RESTORED: 0}


def test_a_reworded_task_is_changed_not_removed_and_added():
    plan = plan_revision(stored_rows(ORIGINAL), policy_frame([[A2, B], [C], [D, E], [F]]))
    (change,) = plan.changes
    assert (change.kind, change.old_text, change.new_text) == (CHANGED, A, A2)
    assert change.old_task_id == change.new_task_id == "rev-2026-1-m01-t1"
    assert 0.8 <= change.similarity < 1


def test_an_unrelated_task_at_the_same_position_is_not_the_same_task():
    """Same id, same units, other text: the old one is archived, the new one starts clean."""
    revised = policy_frame([[NEW, B], [C], [D, E], [F]])
    revised.loc[revised.task_text == NEW, "unit"] = "市科委"
    plan = plan_revision(stored_rows(ORIGINAL), revised)
    assert sorted(kinds(plan)) == [
        (ADDED, "", "rev-2026-1-m01-t1"),
        (REMOVED, "rev-2026-1-m01-t1", ""),
    ]


def test_a_changed_unit_list_is_a_change():
    revised = policy_frame(ORIGINAL)
    revised.loc[revised.task_text == E, "unit"] = "市经济信息化委"
    (change,) = plan_revision(stored_rows(ORIGINAL), revised).changes
    assert change.kind == CHANGED and change.old_text == change.new_text == E
    assert (change.old_units, change.new_units) == (
        (("市科委", "lead"),),
        (("市经济信息化委", "lead"),),
    )


def test_tasks_never_pair_across_policies():
    other = policy_frame([[A]], policy_id="other-2026-2")
    plan = plan_revision(
        stored_rows(ORIGINAL), pd.concat([policy_frame([[B], [C], [D, E], [F]]), other])
    )
    assert (REMOVED, "rev-2026-1-m01-t1", "") in kinds(plan)
    assert (ADDED, "", "other-2026-2-m01-t1") in kinds(plan)
    assert plan.policies_added == ("other-2026-2",)


def test_plan_table_shows_every_change_with_labels():
    plan = plan_revision(stored_rows(ORIGINAL), policy_frame([[NEW], [A2, B], [D, E], [F]]))
    table = plan.table()
    assert list(table["变化"]) == ["新增", "修改", "移动", "删除（归档）"]
    assert list(table.iloc[1][["原编号", "新编号"]]) == ["rev-2026-1-m01-t1", "rev-2026-1-m02-t1"]
    assert table.iloc[1]["原责任单位"] == "市科委（牵头）、市发展改革委（配合）"
    assert (
        plan.summary() == "新增 1 项，删除（归档） 1 项，修改 1 项，移动 1 项，恢复 0 项，未变 3 项"
    )


REAL_TEXTS = list(dict.fromkeys(read_measures(MEASURES_CSV.read_bytes())["task_text"].tolist()))[
    :24
]


@settings(max_examples=60, deadline=None)
@given(
    kept=st.lists(st.sampled_from(range(24)), min_size=1, max_size=12, unique=True),
    added=st.lists(st.sampled_from(range(24)), max_size=4, unique=True),
    per_measure=st.integers(1, 3),
    reword=st.sets(st.sampled_from(range(24)), max_size=4),
)
def test_property_every_pair_is_the_same_task(kept, added, per_measure, reword):
    """Random deletions, insertions, reorderings and rewordings of real task texts: each
    pair the plan makes joins a task with itself (reworded at most), and no kept task is
    lost (removed and added instead of matched)."""
    before = [REAL_TEXTS[i] for i in range(12)]
    after_ids = list(dict.fromkeys(kept + [12 + i % 12 for i in added]))
    texts = {i: REAL_TEXTS[i] + ("并持续完善。" if i in reword else "") for i in after_ids}
    after = [texts[i] for i in after_ids]
    chunk = lambda items: [items[i : i + per_measure] for i in range(0, len(items), per_measure)]  # noqa: E731
    plan = plan_revision(
        stored_rows(chunk(before)), policy_frame(chunk(after) or [[REAL_TEXTS[23]]])
    )
    original_of = {texts[i]: REAL_TEXTS[i] for i in after_ids}
    for change in plan.changes:
        if change.old_task_id and change.new_task_id:
            assert original_of[change.new_text] == change.old_text
    removed = {c.old_text for c in plan.of_kind(REMOVED)}
    assert removed == {t for t in before if t not in original_of.values()}


# --- the store: progress follows its task ----------------------------------------------------


def _with_progress_everywhere(store: Store) -> None:
    """Every assignment notes its own task text and unit: the truth to check against."""
    rows = store.assignments()
    store.apply(
        [
            Update(int(r.assignment_id), 0, {"status": "推进中", "note": f"{r.task_text}|{r.unit}"})
            for r in rows.itertuples()
        ],
        user=signed_in(store),
        source="web",
    )


def _assert_progress_follows_its_task(store: Store, reworded: dict[str, str]) -> None:
    rows = store.assignments(include_archived=True)
    for r in rows.itertuples():
        if not r.note:  # a new task or unit: nothing was reported for it
            assert r.version == 0
            continue
        text, unit = r.note.split("|")
        assert reworded.get(r.task_text, r.task_text) == text, (r.task_id, r.task_text)
        assert r.unit == unit


REVISIONS = {
    "insert": ([[NEW], *ORIGINAL], {}),
    "delete": ([[A, B], [D, E], [F]], {}),
    "reorder": ([[F], [D, E], [C], [A, B]], {}),
    "reword": ([[A2, B], [C], [D, E], [F]], {A2: A}),
    "all at once": ([[E, F], [NEW], [B, A2], [D]], {A2: A}),
}


@pytest.mark.parametrize("revision", REVISIONS, ids=list(REVISIONS))
def test_no_progress_lands_on_a_task_it_was_not_written_for(make_store, revision):
    measures, reworded = REVISIONS[revision]
    store = make_store(policy_frame(ORIGINAL))
    _with_progress_everywhere(store)
    boss = signed_in(store)
    plan = store.plan_sync(policy_frame(measures))
    assert plan.needs_confirmation
    report = store.sync(policy_frame(measures), plan=plan, user=boss, source="修订测试")
    _assert_progress_follows_its_task(store, reworded)
    live = store.assignments()
    assert set(live["task_text"]) == {t for m in measures for t in m}
    assert report.archived_tasks == len(plan.of_kind(REMOVED))
    # Every move is in the history, naming the revision and the confirming account.
    history = store.history(fields=["task_id"])
    moved = {(h.old_value, h.new_value) for h in history.itertuples()}
    assert set(plan.moves.items()) <= moved
    assert {(c.old_task_id, f"{c.old_task_id}~1") for c in plan.of_kind(REMOVED)} <= moved
    assert set(history["source"]) <= {"修订测试"} and set(history["changed_by"]) <= {boss.username}


def test_a_task_that_comes_back_brings_its_progress(make_store):
    store = make_store(policy_frame(ORIGINAL))
    _with_progress_everywhere(store)
    boss = signed_in(store)
    store.sync(policy_frame([[A, B], [D, E], [F]]), user=boss)  # C goes
    store.sync(policy_frame([[A, B], [NEW], [D, E], [F]]), user=boss)  # NEW takes C's old id
    plan = store.plan_sync(policy_frame(ORIGINAL))  # C comes back, NEW goes
    assert [(c.kind, c.old_text) for c in plan.changes if c.kind in (RESTORED, REMOVED)] == [
        (RESTORED, C),
        (REMOVED, NEW),
    ]
    store.sync(policy_frame(ORIGINAL), plan=plan, user=boss)
    _assert_progress_follows_its_task(store, {})
    back = store.assignments().query("task_text == @C")
    assert set(zip(back["task_id"], back["status"], strict=True)) == {
        ("rev-2026-1-m02-t1", "in_progress")
    }


def test_a_revision_applies_all_or_nothing(make_store, monkeypatch):
    store = make_store(policy_frame(ORIGINAL))
    _with_progress_everywhere(store)
    before = store.assignments(include_archived=True)

    def fail(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(tracker.sync, "_sync_assignments", fail)
    with pytest.raises(RuntimeError):
        store.sync(policy_frame([[NEW], *ORIGINAL]), user=signed_in(store))
    monkeypatch.undo()
    fresh = Store(store.engine)
    pd.testing.assert_frame_equal(fresh.assignments(include_archived=True), before)


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.lists(st.sampled_from(range(10)), min_size=1, max_size=8, unique=True),
        min_size=1,
        max_size=3,
    )
)
def test_property_a_chain_of_revisions_keeps_progress_on_its_task(tmp_path_factory, steps):
    """Several revisions in a row (tasks dropped, brought back, shuffled, two per measure)
    on one store, progress put on every new task after each: the invariant holds."""
    url = f"sqlite:///{tmp_path_factory.mktemp('chain') / 'tracker.db'}"
    store = Store(make_engine(url))
    store.create_schema()
    pool = REAL_TEXTS[:10]
    store.sync(policy_frame([[pool[0], pool[1]], [pool[2]]]))
    boss = signed_in(store)
    for step in steps:
        fresh = store.assignments()
        fresh = fresh[fresh["version"] == 0]
        store.apply(
            [
                Update(int(r.assignment_id), 0, {"note": f"{r.task_text}|{r.unit}"})
                for r in fresh.itertuples()
            ],
            user=boss,
            source="web",
        )
        texts = [pool[i] for i in step]
        store.sync(policy_frame([texts[i : i + 2] for i in range(0, len(texts), 2)]), user=boss)
        _assert_progress_follows_its_task(store, {})
    store.engine.dispose()
