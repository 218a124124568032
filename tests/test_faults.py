"""The fault suite's fast part: the attacks of ``python -m bench.faults`` with the
small budget CI affords, on SQLite and PostgreSQL.  Run alone with ``-m faults``.

The checkers themselves are tested first: a suite that reports "nothing lost" must be able
to see a lost update, a write without history and a half-written import.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update

from bench.faults import (
    QUICK,
    Attempt,
    FilledTemplate,
    Outcome,
    check_writers,
    concurrent_writers,
    fuzz_importer,
    fuzz_policy_texts,
    hostile_files,
    hostile_policies,
    import_state,
    kill_mid_import,
    ledger_problems,
    report,
    seed_store,
)
from bench.generate import synthetic_measures
from tracker.models import Progress, ProgressHistory
from tracker.progress import Update
from tracker.schema import SUPERVISOR

pytestmark = pytest.mark.faults


@pytest.fixture
def store(db_url, tmp_path):
    store, _csv = seed_store(db_url, synthetic_measures(12, units=6), tmp_path)
    store.accounts.add("checker", role=SUPERVISOR, password=None)
    yield store
    store.engine.dispose()


def _save(store, aid: int, note: str, source: str = "web") -> None:
    version = int(store.assignments().set_index("assignment_id").loc[aid, "version"])
    account = store.accounts.account("checker")
    store.apply([Update(aid, version, {"note": note})], user=account, source=source)


# --- the checkers see what they must ------------------------------------------------------------


def test_ledger_sees_a_write_without_history_and_a_lost_history_row(store) -> None:
    first, second = (int(a) for a in store.assignments()["assignment_id"][:2])
    _save(store, first, "one")
    _save(store, first, "two")
    _save(store, second, "three")
    assert ledger_problems(store.engine) == []

    with store.engine.begin() as conn:  # a write that bypasses the history
        conn.execute(update(Progress).where(Progress.assignment_id == second).values(note="sneak"))
    with store.engine.begin() as conn:  # a save whose history vanished
        lost = conn.scalar(
            select(func.min(ProgressHistory.history_id)).where(
                ProgressHistory.assignment_id == first
            )
        )
        conn.execute(delete(ProgressHistory).where(ProgressHistory.history_id == lost))
    problems = ledger_problems(store.engine)
    assert any(f"assignment {second}: note stored 'sneak'" in p for p in problems), problems
    assert any(f"assignment {first}: stored version 2, history versions 2" in p for p in problems)


def test_ledger_sees_two_saves_on_one_version(store) -> None:
    aid = int(store.assignments()["assignment_id"][0])
    _save(store, aid, "mine")
    with store.engine.begin() as conn:  # a second writer that ignored the version check
        conn.execute(
            ProgressHistory.__table__.insert().values(
                assignment_id=aid,
                field="note",
                old_value="",
                new_value="theirs",
                changed_by="checker",
                changed_at=func.current_timestamp(),
                source="web",
                period="2026-11",
                version=1,
            )
        )
    problems = ledger_problems(store.engine)
    assert any("note written twice at version 1" in p for p in problems), problems
    assert any("an update was lost" in p for p in problems), problems


def test_writer_check_sees_a_lost_acknowledged_save_and_a_refused_one_that_landed(store) -> None:
    aid = int(store.assignments()["assignment_id"][0])
    _save(store, aid, "w0s0")
    _save(store, aid, "w1s0")
    attempts = [
        Attempt(0, 0, "one", "ack", [(aid, 0, "w0s0")]),
        Attempt(2, 0, "one", "ack", [(aid, 1, "w2s0")]),  # acknowledged, never stored
        Attempt(1, 0, "one", "conflict", [(aid, 1, "w1s0")]),  # refused, yet stored
    ]
    outcome = Outcome("concurrent writers", "test")
    check_writers(store, attempts, [aid], outcome)
    assert "acknowledged save w2s0 is in the history 0 times" in outcome.failures
    assert "refused save w1s0 (conflict) left a trace" in outcome.failures
    assert any("an update was lost" in f for f in outcome.failures), outcome.failures


def test_import_state_sees_half_an_import(store) -> None:
    ids = [int(a) for a in store.assignments()["assignment_id"][:4]]
    plan = FilledTemplate(b"", {aid: 1 for aid in ids}, set(), "kill trial 9")
    assert import_state(store.engine, "half.xlsx", plan)[0] == "none"
    for aid in ids[:2]:
        _save(store, aid, f"kill trial 9 row {aid}", source="half.xlsx")
    state, problems = import_state(store.engine, "half.xlsx", plan)
    assert state == "half" and "half-written: 2 of 4 rows" in problems
    for aid in ids[2:]:
        _save(store, aid, f"kill trial 9 row {aid}", source="half.xlsx")
    assert import_state(store.engine, "half.xlsx", plan) == ("complete", [])


def test_the_report_says_nothing_lost_only_when_every_check_passed() -> None:
    passed = Outcome("concurrent writers", "sqlite", "tried", "happened")
    text, code = report([passed], header="h")
    assert code == 0 and "nothing lost" in text
    failed = Outcome("hostile files", "postgresql", "tried", "happened", ["x.xlsx: exit 134"])
    text, code = report([passed, failed], header="h")
    assert code == 1 and "nothing lost" not in text
    assert "FAILED:   x.xlsx: exit 134" in text and "hostile files · postgresql" in text
    assert report([], header="h")[1] == 1


# --- the attacks, with CI's budget ----------------------------------------------------------


def test_concurrent_writers_lose_no_update(db_url) -> None:
    outcome = concurrent_writers(
        db_url, workers=QUICK.writers, saves=QUICK.saves, rows=QUICK.shared_rows, seed=0
    )
    assert outcome.ok, outcome.text()
    assert outcome.counts["ack"] > 0
    # Conflicts beyond the deliberately stale saves: the writers really raced.
    assert outcome.counts["conflict"] > outcome.counts["stale"], outcome.text()


def test_kill_minus_9_mid_import_leaves_all_or_nothing(db_url, tmp_path) -> None:
    # CI's budget: one mode per backend (the full run kills both modes on both).
    mode = "all-or-nothing" if db_url.startswith("sqlite") else "partial"
    outcome = kill_mid_import(
        db_url,
        tmp_path,
        assignments=QUICK.kill_assignments,
        trials=QUICK.kill_trials // 2,
        modes=[mode],
        aims=QUICK.kill_aims,
        seed=0,
    )
    assert outcome.ok, outcome.text(verbose=True)
    assert outcome.counts["reruns completed"] == QUICK.kill_trials // 2, outcome.details
    assert not outcome.counts["finished before the kill"], outcome.details


def test_hostile_files_exit_2_and_write_nothing(db_url, tmp_path) -> None:
    # CI's budget: half the subset on each backend.  Files are refused before any database
    # work, so "nothing written" means the same on either.
    files = QUICK.hostile[::2] if db_url.startswith("sqlite") else QUICK.hostile[1::2]
    outcome = hostile_files(db_url, tmp_path, only=files)
    assert outcome.ok, outcome.text(verbose=True)
    assert outcome.counts["exit 2"] == len(files)


def test_a_reader_panic_reaches_the_user_only_as_the_message(tmp_path) -> None:
    # One backend: the file is refused before any database work.
    url = f"sqlite:///{tmp_path / 'panic.db'}"
    outcome = hostile_files(url, tmp_path, only=["date-panic.xlsx"])
    others = [f for f in outcome.failures if "panic" not in f]
    assert outcome.counts["exit 2"] == 1 and not others, outcome.text(verbose=True)
    assert not outcome.failures, outcome.text(verbose=True)  # the reader's panic was printed


def test_fuzzing_the_policy_parser_raises_only_tracker_errors() -> None:
    outcome = fuzz_policy_texts(examples=QUICK.fuzz_texts, seed=0)
    assert outcome.ok, outcome.text()
    assert outcome.counts["parsed"] and outcome.counts["tables built"]


def test_fuzzing_the_importer_raises_only_tracker_errors_and_loses_nothing(
    db_url, tmp_path
) -> None:
    outcome = fuzz_importer(db_url, tmp_path, examples=QUICK.fuzz_workbooks, seed=0)
    assert outcome.ok, outcome.text()
    assert outcome.counts["workbooks (cells)"] and outcome.counts["workbooks (XML bytes)"]


def test_hostile_policies_exit_2_in_seconds_and_write_nothing(tmp_path) -> None:
    # One backend: a hostile policy is refused before any database work.
    url = f"sqlite:///{tmp_path / 'policies.db'}"
    outcome = hostile_policies(url, tmp_path, only=QUICK.policies)
    assert outcome.ok, outcome.text(verbose=True)
    assert outcome.counts["exit 2"] == len(QUICK.policies)
