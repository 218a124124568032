"""Deadlines: proposed from the policy text on first sync, then set by supervisors per task
or per assignment (pagelogic.deadlines), refused from staff by the store."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from pagelogic import deadlines
from tests.factories import signed_in, staff
from tracker.errors import ConflictError, ValidationError
from tracker.progress import Update


def _due(store) -> dict[tuple[str, str], str]:
    rows = store.assignments()
    shown = rows["due_date"].dt.strftime("%Y-%m-%d").fillna("")
    return dict(zip(zip(rows.task_id, rows.unit, strict=True), shown, strict=True))


def test_stated_deadline_is_proposed_on_first_sync_only(make_store, small_measures):
    measures = small_measures.assign(
        due_hint=small_measures.task_id.map({"demo-m01-t1": "2026-12-31"}).fillna("")
    )
    store = make_store(measures)
    assert _due(store) == {
        ("demo-m01-t1", "市科委"): "2026-12-31",
        ("demo-m01-t1", "市教委"): "2026-12-31",
        ("demo-m01-t2", "市教委"): "",
        ("demo-m02-t1", "市科委"): "",
        ("demo-m02-t1", "市财政局"): "",
        ("demo-m02-t1", "市教委"): "",
    }
    rows = store.assignments()
    aid = int(rows[(rows.task_id == "demo-m01-t1") & (rows.unit == "市科委")].assignment_id.iloc[0])
    store.apply([Update(aid, 0, {"due_date": "2027-03-31"})], user=signed_in(store), source="web")
    # A later sync with another stated date does not undo the supervisor's decision.
    store.sync(measures.assign(due_hint="2027-06-30"))
    assert _due(store)[("demo-m01-t1", "市科委")] == "2027-03-31"


def test_task_frame_one_row_per_task_with_the_leads_deadline(make_store, small_measures):
    store = make_store(small_measures)
    rows = store.assignments()
    frame = deadlines.task_deadlines(rows)
    assert list(frame.index) == ["demo-m01-t1", "demo-m01-t2", "demo-m02-t1"]
    assert list(frame[deadlines.LEAD_UNIT]) == ["市科委", "市教委", "市科委"]
    assert set(frame[deadlines.SPREAD]) == {deadlines.SAME}
    assert frame[deadlines.DUE].isna().all()


def test_task_deadline_reaches_every_unit_and_keeps_each_base_version(make_store, small_measures):
    store = make_store(small_measures)
    supervisor = signed_in(store)
    rows = store.assignments()
    loaded = deadlines.task_deadlines(rows)
    edited = loaded.copy()
    edited.loc["demo-m02-t1", deadlines.DUE] = date(2027, 6, 30)
    updates = deadlines.task_deadline_updates(rows, loaded, edited)
    assert sorted(u.assignment_id for u in updates) == sorted(
        rows.loc[rows.task_id == "demo-m02-t1", "assignment_id"].astype(int)
    )
    store.apply(updates, user=supervisor, source="web")
    assert {k: v for k, v in _due(store).items() if v} == {
        ("demo-m02-t1", "市科委"): "2027-06-30",
        ("demo-m02-t1", "市财政局"): "2027-06-30",
        ("demo-m02-t1", "市教委"): "2027-06-30",
    }
    # One unit differs afterwards: the task frame says so.
    after = store.assignments()
    units = deadlines.assignment_deadlines(after, "demo-m02-t1")
    changed = units.copy()
    finance = units.index[units[deadlines.UNIT] == "市财政局"][0]
    changed.loc[finance, deadlines.DUE] = date(2027, 9, 30)
    [update] = deadlines.assignment_deadline_updates(units, changed)
    assert (update.assignment_id, update.base_version) == (finance, 1)
    store.apply([update], user=supervisor, source="web")
    spread = deadlines.task_deadlines(store.assignments())[deadlines.SPREAD]
    assert spread["demo-m02-t1"] == deadlines.DIFFERENT


def test_a_units_save_in_between_is_a_conflict_not_overwritten(make_store, small_measures):
    store = make_store(small_measures)
    rows = store.assignments()
    loaded = deadlines.task_deadlines(rows)
    edited = loaded.copy()
    edited.loc["demo-m01-t1", deadlines.DUE] = date(2027, 1, 31)
    updates = deadlines.task_deadline_updates(rows, loaded, edited)
    aid = int(rows[(rows.task_id == "demo-m01-t1") & (rows.unit == "市科委")].assignment_id.iloc[0])
    store.apply([Update(aid, 0, {"percent": 30})], user=staff(store, "市科委"), source="web")
    with pytest.raises(ConflictError):
        store.apply(updates, user=signed_in(store), source="web")
    assert set(_due(store).values()) == {""}


def test_staff_cannot_set_a_deadline_even_through_the_task_frame(make_store, small_measures):
    store = make_store(small_measures)
    rows = store.assignments()
    loaded = deadlines.task_deadlines(rows)
    edited = loaded.copy()
    edited.loc["demo-m01-t1", deadlines.DUE] = pd.Timestamp("2027-01-31")
    own = [
        u
        for u in deadlines.task_deadline_updates(rows, loaded, edited)
        if rows.set_index("assignment_id").loc[u.assignment_id, "unit"] == "市科委"
    ]
    with pytest.raises(ValidationError, match="完成时限由督办员设定"):
        store.apply(own, user=staff(store, "市科委"), source="web")
