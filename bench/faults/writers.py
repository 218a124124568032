"""Concurrent writers: separate processes race saves and Excel round trips on shared rows;
no acknowledged save may be lost or doubled, no refused one may leave a trace."""

from __future__ import annotations

import multiprocessing
import queue
import random
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from bench.faults.cli_run import RUN_TIMEOUT
from bench.faults.databases import backend_of, ledger_problems, seed_store, version_span
from bench.faults.outcome import Outcome, timed
from bench.generate import synthetic_measures
from excel.read import import_workbook
from excel.template import build_template
from tracker.errors import ConflictError, StoreUnavailable, TrackerError
from tracker.models import Progress, ProgressHistory
from tracker.progress import Update
from tracker.schema import SUPERVISOR
from tracker.store import Store, make_engine


@dataclass
class Attempt:
    """One save a writer process tried: which rows at which base version, and what it got."""

    worker: int
    number: int
    kind: str  # "one" row, a multi-row "batch", or deliberately "stale"
    outcome: str  # "ack", "conflict", "unavailable" or "error: …"
    rows: list[tuple[int, int, str]]  # (assignment_id, base_version, note token)


def _writer(url, username, worker, rounds, row_ids, seed, barrier, results, imports) -> None:
    """A writer process with its own engine: ``rounds`` saves on random rows of ``row_ids``,
    or with ``imports``, ``rounds`` Excel round trips of all of them."""
    try:
        store = Store(make_engine(url))
        account = store.accounts.account(username)
        barrier.wait(timeout=120)
        work = _import_rounds if imports else _save_rounds
        attempts = work(store, account, worker, rounds, row_ids, random.Random(seed))
        store.engine.dispose()
        results.put((worker, attempts, None))
    except BaseException:  # report to the parent instead of leaving it waiting
        results.put((worker, [], traceback.format_exc()))


def _save_rounds(store, account, worker, rounds, row_ids, rng) -> list[Attempt]:
    """Saves as the web editor makes them: one row, or a batch of 2–3 all or nothing, based on
    the version just read; one in ten deliberately based on a version that is not current."""
    attempts = []
    for number in range(rounds):
        kind = rng.choices(["one", "batch", "stale"], weights=[6, 3, 1])[0]
        picked = rng.sample(row_ids, rng.randint(2, 3) if kind == "batch" else 1)
        with store.engine.connect() as conn:
            versions = dict(
                conn.execute(
                    select(Progress.assignment_id, Progress.version).where(
                        Progress.assignment_id.in_(picked)
                    )
                ).all()
            )
        if rng.random() < 0.5:  # widen the window between reading and saving
            time.sleep(rng.random() * 0.004)
        updates = []
        for aid in picked:
            base = versions[aid]
            if kind == "stale":  # a version the row had, or none ever had: never current
                base = base - 1 if base > 0 else -1
            token = f"w{worker}s{number}r{aid}"
            changes = {"status": "in_progress", "percent": rng.randint(1, 99), "note": token}
            updates.append(Update(aid, base, changes))
        try:
            store.apply(updates, user=account, source=f"faults-writer-{worker}")
            outcome = "ack"
        except ConflictError:
            outcome = "conflict"
        except StoreUnavailable:
            outcome = "unavailable"
        except TrackerError as exc:
            outcome = f"error: {exc}"
        rows = [(u.assignment_id, u.base_version, u.changes["note"]) for u in updates]
        attempts.append(Attempt(worker, number, kind, outcome, rows))
    return attempts


def _import_rounds(store, account, worker, rounds, row_ids, rng) -> list[Attempt]:
    """Excel round trips racing the saves: take the unit's template, write a new note on every
    row, import it (partial mode).  Each row is acknowledged (written) or refused on its own."""
    attempts = []
    for number in range(rounds):
        frame = store.assignments()
        rows = frame[frame["assignment_id"].isin(row_ids)]
        unit = str(rows["unit"].iloc[0])
        tokens = [f"i{worker}s{number}r{aid}" for aid in rows["assignment_id"]]
        bases = [int(v) for v in rows["version"]]
        data = build_template(rows.assign(note=tokens), unit)
        if rng.random() < 0.5:
            time.sleep(rng.random() * 0.004)
        refused: dict[int, str] = {}
        written: set[int] = set()
        try:
            result = import_workbook(
                store, data, file_name=f"faults-import-{worker}-{number}.xlsx", user=account
            )
            if result.written:
                notes = result.diffs[result.diffs["field"] == "note"]
                written = {int(a) for a in notes["assignment_id"]}
            refused = {c.assignment_id: "conflict" for c in result.conflicts}
            if result.problems:
                refused |= {aid: f"error: {result.problems[0]}" for aid in rows["assignment_id"]}
        except StoreUnavailable:
            refused = dict.fromkeys(rows["assignment_id"], "unavailable")
        except TrackerError as exc:
            refused = dict.fromkeys(rows["assignment_id"], f"error: {exc}")
        for aid, base, token in zip(rows["assignment_id"], bases, tokens, strict=True):
            aid = int(aid)
            outcome = (
                "ack" if aid in written else refused.get(aid, "error: neither written nor refused")
            )
            attempts.append(Attempt(worker, number, "import", outcome, [(aid, base, token)]))
    return attempts


def shared_rows(rows: int, seed: int = 0) -> pd.DataFrame:
    """A measures table of ``rows`` tasks of one unit: every writer, the Excel round trip
    included, races on all of them."""
    frame = synthetic_measures(rows, units=6, seed=seed).iloc[[0] * rows].reset_index(drop=True)
    numbers = range(1, rows + 1)
    return frame.assign(
        task_id=[f"{frame['policy_id'].iloc[0]}-m01-t{n}" for n in numbers],
        task_seq=list(numbers),
        role="lead",
        unit_rank=1,
    )


def concurrent_writers(
    url: str, *, workers: int = 4, saves: int = 100, rows: int = 8, seed: int = 0
) -> Outcome:
    """``workers`` processes try ``saves`` saves each on ``rows`` shared rows (with three or
    more workers, one of them makes Excel round trips instead, a quarter as many); then check
    that no acknowledged save was lost or doubled and no refused one left a trace."""
    outcome = Outcome("concurrent writers", backend_of(url))
    with timed(outcome), tempfile.TemporaryDirectory() as tmp:
        store, _csv = seed_store(url, shared_rows(rows, seed), Path(tmp))
        names = [f"writer{w}" for w in range(workers)]
        for name in names:
            store.accounts.add(name, role=SUPERVISOR, password=None)
        row_ids = [int(a) for a in store.assignments()["assignment_id"]]
        importers = 1 if workers >= 3 else 0
        imports = max(3, saves // 4)
        outcome.tried = (
            f"{workers} processes on {len(row_ids)} shared rows, each its own connections: "
            f"{workers - importers} × {saves} saves"
            + (f", 1 × {imports} Excel round trips of all rows" if importers else "")
        )
        attempts, crashes = _run_writers(url, names, saves, imports, importers, row_ids, seed)
        for crash in crashes:
            outcome.fail(f"a writer process failed: {crash[-400:]}")
        check_writers(store, attempts, row_ids, outcome)
        store.engine.dispose()
    return outcome


def _run_writers(
    url, names, saves, imports, importers, row_ids, seed
) -> tuple[list[Attempt], list[str]]:
    # fork: the workers start at once, without importing pandas again; each opens its own
    # engine, none touches a connection of the parent's.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    barrier = context.Barrier(len(names))
    results = context.Queue()
    processes = [
        context.Process(
            target=_writer,
            args=(
                url,
                name,
                w,
                imports if w < importers else saves,
                row_ids,
                seed * 1000 + w,
                barrier,
                results,
                w < importers,
            ),
            daemon=True,
        )
        for w, name in enumerate(names)
    ]
    for process in processes:
        process.start()
    attempts: list[Attempt] = []
    crashes: list[str] = []
    pending = len(processes)
    deadline = time.monotonic() + RUN_TIMEOUT
    while pending and time.monotonic() < deadline:
        try:
            _worker, done, crash = results.get(timeout=1)
        except queue.Empty:
            if not any(p.is_alive() for p in processes):
                break
            continue
        pending -= 1
        attempts += done
        if crash:
            crashes.append(crash)
    for process in processes:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
    if pending:
        crashes.append(f"{pending} writer process(es) died without reporting")
    return attempts, crashes


def check_writers(store: Store, attempts: list[Attempt], row_ids: list[int], outcome) -> None:
    """Hold every attempt against the history and the stored rows; failures go to
    ``outcome``, the counts to its ``happened``."""
    with store.engine.connect() as conn:
        notes = conn.execute(
            select(
                ProgressHistory.assignment_id, ProgressHistory.new_value, ProgressHistory.version
            )
            .where(ProgressHistory.field == "note")
            .order_by(ProgressHistory.history_id)
        ).all()
        stored = {
            r.assignment_id: r
            for r in conn.execute(select(Progress.assignment_id, Progress.note, Progress.version))
        }
        old_values = set(
            conn.execute(
                select(ProgressHistory.old_value).where(ProgressHistory.field == "note")
            ).scalars()
        )
    by_token: dict[str, list] = defaultdict(list)
    for entry in notes:
        by_token[entry.new_value].append(entry)
    acked_on: dict[int, list[tuple[int, str]]] = defaultdict(list)  # aid -> (version, token)
    for attempt in attempts:
        if attempt.outcome.startswith("error"):
            outcome.fail(f"save {attempt.worker}/{attempt.number} refused: {attempt.outcome}")
        if attempt.outcome == "ack" and attempt.kind == "stale":
            outcome.fail(f"a save based on a stale version was acknowledged: {attempt.rows}")
        for aid, base, token in attempt.rows:
            found = by_token.get(token, [])
            if attempt.outcome == "ack":
                if len(found) != 1:
                    outcome.fail(f"acknowledged save {token} is in the history {len(found)} times")
                elif found[0].assignment_id != aid or found[0].version != base + 1:
                    outcome.fail(
                        f"acknowledged save {token} (based on version {base}) recorded as "
                        f"version {found[0].version} of assignment {found[0].assignment_id}"
                    )
                acked_on[aid].append((base + 1, token))
            elif found or token in old_values or stored[aid].note == token:
                outcome.fail(f"refused save {token} ({attempt.outcome}) left a trace")
    for aid in row_ids:
        saves = sorted(acked_on.get(aid, []))
        version = stored[aid].version
        if [v for v, _t in saves] != list(range(1, version + 1)):
            outcome.fail(
                f"assignment {aid}: stored version {version}, acknowledged saves made versions "
                f"{version_span([v for v, _t in saves])}"
            )
        if saves and stored[aid].note != saves[-1][1]:
            outcome.fail(
                f"assignment {aid} holds {stored[aid].note!r}, the last acknowledged write was "
                f"{saves[-1][1]!r}: an update was lost"
            )
    for problem in ledger_problems(store.engine):
        outcome.fail(problem)
    _describe(outcome, attempts, len(notes), max((r.version for r in stored.values()), default=0))


def _describe(
    outcome: Outcome, attempts: list[Attempt], note_changes: int, last_version: int
) -> None:
    """What the writers tried and what came of it, in ``outcome``'s words and counts."""
    kinds = Counter(a.kind for a in attempts)
    results = Counter(a.outcome if not a.outcome.startswith("error") else "error" for a in attempts)
    outcome.counts = results + kinds
    acked = results["ack"]
    imported = Counter(a.outcome for a in attempts if a.kind == "import")
    outcome.tried += (
        f" ({kinds['one']} one-row saves, {kinds['batch']} multi-row batches, "
        f"{kinds['stale']} deliberately stale, {kinds['import']} rows imported)"
    )
    outcome.happened = (
        f"{acked} saves and imported rows acknowledged, {results['conflict']} refused as "
        f"conflicts (the {kinds['stale']} stale saves among them; of the imported rows "
        f"{imported['ack']} written, {imported['conflict']} conflicts), "
        f"{results['unavailable']} database busy, "
        f"{results['error']} other errors; {note_changes} note changes in the history, versions "
        f"1..{last_version}"
        + (
            " without gaps, each row holding its last acknowledged write"
            if outcome.ok
            else "; see the failed checks"
        )
    )
