"""kill -9 mid-import: SIGKILL ``python -m loaders import`` at random moments and inside its
write transaction; the database must open, the import be all there or not at all, and a
rerun complete."""

from __future__ import annotations

import random
import sqlite3
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from bench.faults.cli_run import EXIT_BAD_INPUT, run_import
from bench.faults.databases import PG_URL, backend_of, ledger_problems, seed_store
from bench.faults.outcome import Outcome, timed
from bench.generate import synthetic_measures
from excel.template import build_template
from tracker.errors import TrackerError
from tracker.models import Progress, ProgressHistory
from tracker.schema import SUPERVISOR
from tracker.store import Store, make_engine

FIRST_WINDOW = 0.1  # seconds: a guess at the write transaction's length before one was seen


@dataclass
class FilledTemplate:
    """A unit's template filled in for one trial, and what importing it must write."""

    data: bytes
    fields: dict[int, int]  # valid assignment -> number of fields it changes
    refused: set[int]  # rows with a value the store refuses (partial mode)
    marker: str


def filled_template(store: Store, unit: str, trial: int, *, refused_share: float) -> FilledTemplate:
    """Every row of ``unit`` changes status, percent and note; ``refused_share`` of them carry
    a percent of 150, which the store refuses."""
    frame = store.assignments()
    rows = frame[frame["unit"] == unit].copy()
    marker = f"kill trial {trial}"
    rows["note"] = [f"{marker} row {aid}" for aid in rows["assignment_id"]]
    rows["percent"] = rows["percent"] % 98 + 1
    status_changes = rows["status"] != "in_progress"
    rows["status"] = "in_progress"
    refused: set[int] = set()
    if refused_share:
        picked = rows.sample(frac=refused_share, random_state=trial)
        refused = {int(a) for a in picked["assignment_id"]}
        rows.loc[rows["assignment_id"].isin(refused), "percent"] = 150
    fields = {
        int(aid): 2 + int(changed)
        for aid, changed in zip(rows["assignment_id"], status_changes, strict=True)
        if int(aid) not in refused
    }
    return FilledTemplate(build_template(rows, unit), fields, refused, marker)


def import_state(engine, source: str, plan: FilledTemplate) -> tuple[str, list[str]]:
    """("none" | "complete" | "half", problems) of the import of ``plan`` named ``source``."""
    ids = [*plan.fields, *plan.refused]
    with engine.connect() as conn:
        history = Counter(
            conn.execute(
                select(ProgressHistory.assignment_id).where(ProgressHistory.source == source)
            ).scalars()
        )
        notes = {}
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            notes.update(
                conn.execute(
                    select(Progress.assignment_id, Progress.note).where(
                        Progress.assignment_id.in_(chunk)
                    )
                ).all()
            )
    written = {aid for aid, note in notes.items() if note == f"{plan.marker} row {aid}"}
    problems = []
    if (written | set(history)) & plan.refused:
        problems.append(f"{len((written | set(history)) & plan.refused)} refused rows written")
    if written != set(history):
        problems.append(
            f"{len(written - set(history))} rows written without history, "
            f"{len(set(history) - written)} with history but not written"
        )
    wrong = [aid for aid, n in history.items() if n != plan.fields.get(aid)]
    if wrong:
        problems.append(
            f"{len(wrong)} rows with the wrong number of history entries (e.g. assignment "
            f"{wrong[0]}: {history[wrong[0]]}, expected {plan.fields.get(wrong[0])})"
        )
    if not written and not history:
        return "none", problems
    if written == set(plan.fields) and not problems:
        return "complete", problems
    problems.append(f"half-written: {len(written)} of {len(plan.fields)} rows")
    return "half", problems


def after_kill_problems(url: str, expected_assignments: int, app_name: str) -> list[str]:
    """After a SIGKILL: the server ended the killed session (PostgreSQL) or the file passes
    its integrity check (SQLite), and the store opens, migrates and reads every assignment."""
    problems = []
    if not url.startswith("sqlite"):
        server = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        deadline = time.monotonic() + 30
        with server.connect() as conn:
            query = text("select count(*) from pg_stat_activity where application_name = :app")
            while conn.scalar(query, {"app": app_name}) and time.monotonic() < deadline:
                time.sleep(0.05)
            if conn.scalar(query, {"app": app_name}):
                problems.append("the server still holds the killed import's session after 30 s")
        server.dispose()
    else:
        with closing(sqlite3.connect(make_url(url).database, timeout=30)) as conn:
            integrity = conn.execute("PRAGMA integrity_check").fetchall()
            foreign = conn.execute("PRAGMA foreign_key_check").fetchall()
        if integrity != [("ok",)]:
            problems.append(f"PRAGMA integrity_check: {integrity[:5]}")
        if foreign:
            problems.append(f"PRAGMA foreign_key_check: {foreign[:5]}")
    store = Store(make_engine(url))
    try:
        store.create_schema()
        count = len(store.assignments())
        if count != expected_assignments:
            problems.append(
                f"store opens with {count} assignments, expected {expected_assignments}"
            )
    except TrackerError as exc:
        problems.append(f"store does not open after the kill: {exc}")
    finally:
        store.engine.dispose()
    return problems


def kill_mid_import(
    url: str,
    folder: Path,
    *,
    assignments: int = 12_000,
    trials: int = 8,
    modes: Sequence[str] = ("all-or-nothing", "partial"),
    aims: Sequence[str] = ("in-write", "at random"),
    refused_share: float = 0.01,
    seed: int = 0,
) -> Outcome:
    """Kill ``python -m loaders import`` of one unit's filled template ``trials`` times,
    taking ``modes`` in turn and, after each round of them, the next of ``aims``.

    Long (about 100 lines) for a reason: one trial is kill, check, rerun, check, and each
    trial's aim depends on the write windows and durations the earlier reruns measured; the
    loop reads as that story, and split up it would pass six accumulators around."""
    outcome = Outcome("kill -9 mid-import", backend_of(url))
    with timed(outcome):
        rng = random.Random(seed)
        store, csv = seed_store(url, synthetic_measures(assignments, units=8, seed=seed), folder)
        user = "faults-importer"
        store.accounts.add(user, role=SUPERVISOR, password=None)
        frame = store.assignments()
        unit = frame["unit"].value_counts().index[0]
        rows = int((frame["unit"] == unit).sum())
        seen: Counter[str] = Counter()
        write_windows: list[float] = []  # seconds the write transaction stayed open in reruns
        durations: list[float] = []
        for trial in range(1, trials + 1):
            all_or_nothing = modes[(trial - 1) % len(modes)] == "all-or-nothing"
            aim = aims[(trial - 1) // len(modes) % len(aims)]
            if aim == "at random" and not durations:
                aim = "in-write"
            plan = filled_template(
                store, unit, trial, refused_share=0 if all_or_nothing else refused_share
            )
            file = folder / f"kill-{trial:02d}-{'aon' if all_or_nothing else 'partial'}.xlsx"
            file.write_bytes(plan.data)
            if aim == "in-write":
                window = statistics.median(write_windows) if write_windows else FIRST_WINDOW
                kill = ("in-write", rng.uniform(0, window))
            else:
                kill = ("at", rng.uniform(0, 0.9 * statistics.median(durations)))
            seen[aim] += 1
            seen["all-or-nothing" if all_or_nothing else "partial"] += 1
            killed = run_import(url, csv, file, user, all_or_nothing=all_or_nothing, kill=kill)
            where = f"trial {trial} ({'all-or-nothing' if all_or_nothing else 'partial'}, {aim})"
            if not killed.killed:
                seen["finished before the kill"] += 1
            else:
                seen["killed inside the write" if killed.writing_at_kill else "killed outside"] += 1
            problems = after_kill_problems(url, len(frame), killed.app_name)
            state, state_problems = import_state(store.engine, file.name, plan)
            problems += state_problems + ledger_problems(store.engine)
            seen[f"state {state}"] += 1
            seen["checks after kill ok"] += not problems
            rerun = run_import(
                url, csv, file, user, all_or_nothing=all_or_nothing, watch_writes=True
            )
            durations.append(rerun.seconds)
            if rerun.write_seconds:
                write_windows.append(rerun.write_seconds)
            expected = 0 if all_or_nothing else (1 if state == "none" else EXIT_BAD_INPUT)
            if rerun.returncode != expected:
                problems.append(
                    f"rerun exited {rerun.returncode}, expected {expected}: {rerun.output[-300:]!r}"
                )
            final, final_problems = import_state(store.engine, file.name, plan)
            problems += final_problems + ledger_problems(store.engine)
            if final == "complete" and rerun.returncode == expected:
                seen["reruns completed"] += 1
            moment = (
                f"SIGKILL at {killed.seconds:.2f} s, "
                f"{'inside' if killed.writing_at_kill else 'outside'} the write transaction"
                if killed.killed
                else f"ran to its end ({killed.seconds:.2f} s, exit {killed.returncode}) first"
            )
            outcome.details.append(
                f"{where}: {moment}: {state}; rerun exit {rerun.returncode} in "
                f"{rerun.seconds:.1f} s: {final}"
            )
            outcome.failures += [f"{where}: {p}" for p in problems]
        store.engine.dispose()
        outcome.counts = seen
        outcome.tried = (
            f"{trials} SIGKILLs of `python -m loaders import` on a {rows:,}-row filled template "
            f"({seen['all-or-nothing']} all-or-nothing, {seen['partial']} partial with "
            f"{refused_share:.0%} refused rows); {seen['in-write']} aimed inside the write "
            f"transaction, {seen['at random']} at a random moment of the run"
        )
        outcome.happened = (
            f"{seen['killed inside the write']} killed with the write transaction open, "
            f"{seen['killed outside']} outside it, {seen['finished before the kill']} finished "
            f"first; then {seen['state none']} nothing written, {seen['state complete']} "
            f"complete, {seen['state half']} half-written; "
            f"{'integrity_check ok' if url.startswith('sqlite') else 'server ended the session'}, "
            "store opens and progress "
            f"agrees with history {seen['checks after kill ok']}/{trials}; reruns completed "
            f"{seen['reruns completed']}/{trials}"
        )
    return outcome
