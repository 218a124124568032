"""Fault suite: try hard to lose an update or take the importer down, then say what happened.

``python -m bench.faults [--quick] [--backends sqlite,postgresql] [--seed N]`` attacks real
databases four ways and prints a report of what it tried and what came of it:

- **concurrent writers**: separate processes, each with its own connections, save overlapping
  rows through :meth:`tracker.store.Store.apply` with the optimistic version check.  Every
  acknowledged save must then be in the history exactly once, at the version after the one
  it was based on; each row must hold the last acknowledged write; versions run 1, 2, 3 …
  without a gap; refused saves (conflicts, deliberately stale ones) leave no trace.
- **kill -9 mid-import**: ``python -m loaders import`` of a filled template of thousands of
  rows is killed with SIGKILL, at random moments and inside its write transaction.  The
  database must open (SQLite: ``PRAGMA integrity_check``), the import must be all there or
  not at all, progress and history must agree row by row, and running it again completes.
- **hostile files**: broken and foreign workbooks fed to the same command each exit 2 with a
  message naming the file, never a traceback, a reader panic or a crash, and write nothing.
- **fuzzing**: hypothesis over the policy-text parser and table builder, and over the
  importer (random cell values, random bytes in the workbook's XML); any exception that is not
  a :class:`~tracker.errors.TrackerError` is a failure, and so is an import that leaves
  progress and history disagreeing.

The report ends in "nothing lost" and exit 0 only when every check passed; otherwise it lists
each failed check and exits 1.  ``tests/test_faults.py`` runs the same functions with small
budgets in CI (the ``faults`` marker).  Hostile workbooks reuse the hand-built generators of
``tests/test_excel_import.py`` and ``tests/test_import_hostile.py``, so run it from the
repository root.

Each attack returns an :class:`Outcome`; :func:`report` turns them into the verdict:

>>> lost = Outcome("kill -9 mid-import", "sqlite", "1 kill", "half-written", ["trial 1: half"])
>>> report([lost], header="Fault suite")[1]
1
>>> passed = Outcome("hostile files", "sqlite", "1 file", "exit 2")
>>> report([passed], header="Fault suite")[0].splitlines()[-1][:21]
'Result: nothing lost.'
"""

from __future__ import annotations

import argparse
import hashlib
import io
import multiprocessing
import os
import queue
import random
import resource
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
import warnings
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.generate import cn_number, synthetic_measures, synthetic_policy_text
from excel.read import import_workbook
from excel.template import build_template
from loaders.measures_csv import build_measures, normalize_frame, read_measures, to_csv_bytes
from loaders.policy_text import parse_policy
from loaders.units import read_units
from tracker.errors import ConflictError, StoreUnavailable, TrackerError
from tracker.models import Progress, ProgressHistory, StoreMeta
from tracker.progress import Update
from tracker.schema import STAFF, SUPERVISOR, UNITS_CSV
from tracker.store import PROGRESS_COLUMNS, Store, history_text, make_engine

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")
EXIT_BAD_INPUT = 2  # what `python -m loaders` returns for a refused file (nothing written)
RUN_TIMEOUT = 300  # seconds any one import may take before it counts as hung
FIRST_WINDOW = 0.1  # seconds: a guess at the write transaction's length before one was seen
MEMORY_LIMIT = 8 * 1024**3  # address space for an import under attack: a crash, not an OOM kill
SHOWN_FAILURES = 12
PANIC = "panicked at"  # how a Rust extension (python-calamine) reports a panic on stderr


# --- outcomes and the report -------------------------------------------------------------------


@dataclass
class Outcome:
    """What one category tried on one backend, what happened, and every check that failed."""

    category: str
    backend: str
    tried: str = ""
    happened: str = ""
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    counts: Counter = field(default_factory=Counter)  # what was tried and seen, by name
    details: list[str] = field(default_factory=list)  # one line per trial or file (--verbose)

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def text(self, *, verbose: bool = False) -> str:
        lines = [
            f"{self.category} · {self.backend} · {self.seconds:.0f} s",
            f"  tried:    {self.tried}",
            f"  happened: {self.happened}",
        ]
        lines += [f"  FAILED:   {failure}" for failure in self.failures[:SHOWN_FAILURES]]
        if len(self.failures) > SHOWN_FAILURES:
            lines.append(f"  FAILED:   … and {len(self.failures) - SHOWN_FAILURES} more")
        if verbose:
            lines += [f"    {detail}" for detail in self.details]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


@dataclass
class Printed:
    text: str = ""


@contextmanager
def stderr_captured() -> Iterator[Printed]:
    """What native code writes to file descriptor 2 meanwhile (a Rust panic report goes
    there, past ``sys.stderr``)."""
    printed = Printed()
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield printed
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            printed.text = sink.read().decode("utf-8", errors="replace")


@contextmanager
def timed(outcome: Outcome) -> Iterator[Outcome]:
    """Time ``outcome``'s work; an unexpected exception in the suite itself is a failure too."""
    start = time.monotonic()
    try:
        yield outcome
    except Exception as exc:  # the suite must report, not die: this is a failed check
        outcome.fail(f"the check itself raised {exc.__class__.__name__}: {exc}")
        outcome.fail(traceback.format_exc(limit=4).replace("\n", " | ")[-600:])
    finally:
        outcome.seconds = time.monotonic() - start


def report(outcomes: Sequence[Outcome], *, header: str, verbose: bool = False) -> tuple[str, int]:
    """The printed report and the exit code: 0 with "nothing lost" only if every check passed."""
    lines = [header, ""]
    for outcome in outcomes:
        lines += [outcome.text(verbose=verbose), ""]
    failed = [o for o in outcomes if not o.ok]
    if outcomes and not failed:
        lines.append(
            "Result: nothing lost. Every acknowledged save is in the history exactly once and "
            "every row holds its last acknowledged write; no killed import was half-written "
            "and every rerun completed; every hostile file was refused with exit 2 and wrote "
            "nothing; fuzzing raised nothing but the project's own errors."
        )
        return "\n".join(lines), 0
    count = sum(len(o.failures) for o in failed)
    where = ", ".join(f"{o.category} · {o.backend}" for o in failed) or "nothing was run"
    lines.append(f"Result: FAILED, {count} failed check(s) in: {where}.")
    return "\n".join(lines), 1


# --- databases -------------------------------------------------------------------------------


def backend_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def postgres_problem() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to reach the server: say which
        return f"PostgreSQL at {PG_URL} not reachable: {exc.__class__.__name__}: {exc}"


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database: a new SQLite file in ``folder``, or a new schema on the
    PostgreSQL server at ``TEST_DATABASE_URL``, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'faults-{uuid.uuid4().hex[:8]}.db'}"
        return
    schema = f"faults_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def seed_store(url: str, measures: pd.DataFrame, folder: Path) -> tuple[Store, Path]:
    """A store synced from ``measures`` exactly as ``Store.open`` syncs from a file, and that
    file: a command run with ``TRACKER_MEASURES_CSV`` pointing at it finds nothing to sync."""
    raw = to_csv_bytes(measures)
    csv = folder / f"measures-{uuid.uuid4().hex[:8]}.csv"
    csv.write_bytes(raw)
    store = Store(make_engine(url))
    store.create_schema()
    store.sync(read_measures(raw), digest=hashlib.sha256(raw).hexdigest())
    return store, csv


def fingerprint(engine) -> tuple:
    """Moves with any write: history rows, the last history id, the sum of versions, the
    revision."""
    with engine.connect() as conn:
        return (
            conn.scalar(select(func.count()).select_from(ProgressHistory)),
            conn.scalar(select(func.max(ProgressHistory.history_id))) or 0,
            conn.scalar(select(func.coalesce(func.sum(Progress.version), 0))),
            conn.scalar(select(StoreMeta.value).where(StoreMeta.key == "revision")),
        )


def ledger_problems(engine) -> list[str]:
    """Every place where stored progress and its history disagree (none: they agree).

    Per assignment: its history holds each version 1..version and no other, never a field
    twice in one version; history ids grow with the version; each field's entries chain (the
    old value is the previous new value); the last new value of each field is the stored one.
    A write that bypassed the history, half a save, or two saves on one version shows here.
    """
    with engine.connect() as conn:
        progress = conn.execute(
            select(
                Progress.assignment_id,
                Progress.version,
                *(getattr(Progress, c) for c in PROGRESS_COLUMNS),
            )
        ).all()
        history = conn.execute(
            select(
                ProgressHistory.history_id,
                ProgressHistory.assignment_id,
                ProgressHistory.field,
                ProgressHistory.old_value,
                ProgressHistory.new_value,
                ProgressHistory.version,
            ).order_by(ProgressHistory.history_id)
        ).all()
    by_row: dict[int, list] = defaultdict(list)
    for entry in history:
        by_row[entry.assignment_id].append(entry)
    problems = []
    for row in progress:
        entries = by_row.pop(row.assignment_id, [])
        versions = [e.version for e in entries]
        where = f"assignment {row.assignment_id}"
        if sorted(set(versions)) != list(range(1, row.version + 1)):
            problems.append(
                f"{where}: stored version {row.version}, history versions {_span(versions)}"
            )
        if versions != sorted(versions):
            problems.append(f"{where}: history ids do not follow the versions {versions[:8]}")
        last: dict[str, str] = {}
        seen: set[tuple[int, str]] = set()
        for entry in entries:
            if (entry.version, entry.field) in seen:
                problems.append(f"{where}: {entry.field} written twice at version {entry.version}")
            seen.add((entry.version, entry.field))
            if entry.field in last and (entry.old_value or "") != last[entry.field]:
                problems.append(
                    f"{where}: {entry.field} at version {entry.version} was based on "
                    f"{entry.old_value!r}, but the value before was {last[entry.field]!r} "
                    "(an update was lost)"
                )
            last[entry.field] = entry.new_value or ""
        for name, value in last.items():
            stored = history_text(getattr(row, name, None))
            if name not in PROGRESS_COLUMNS or stored != value:
                problems.append(
                    f"{where}: {name} stored {stored[:40]!r}, history ends at {value[:40]!r}"
                )
    problems += [f"history rows for unknown assignment {aid}" for aid in by_row]
    return problems


def _versions(engine) -> dict[int, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Progress.assignment_id, Progress.version)).all())


def _span(versions: list[int]) -> str:
    distinct = sorted(set(versions))
    if not distinct:
        return "none"
    text_ = ", ".join(str(v) for v in distinct[:6])
    return text_ + (f" … {distinct[-1]}" if len(distinct) > 6 else "")


# --- 1. concurrent writers -------------------------------------------------------------------


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
    kinds = Counter(a.kind for a in attempts)
    results = Counter(a.outcome if not a.outcome.startswith("error") else "error" for a in attempts)
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
                f"{_span([v for v, _t in saves])}"
            )
        if saves and stored[aid].note != saves[-1][1]:
            outcome.fail(
                f"assignment {aid} holds {stored[aid].note!r}, the last acknowledged write was "
                f"{saves[-1][1]!r}: an update was lost"
            )
    for problem in ledger_problems(store.engine):
        outcome.fail(problem)
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
        f"{results['error']} other errors; {len(notes)} note changes in the history, versions "
        f"1..{max((r.version for r in stored.values()), default=0)}"
        + (
            " without gaps, each row holding its last acknowledged write"
            if outcome.ok
            else "; see the failed checks"
        )
    )


# --- 2. kill -9 mid-import --------------------------------------------------------------------


def _limit_memory() -> None:
    """Run in the child before exec: a runaway allocation fails in the child instead of
    pushing the whole machine into its out-of-memory killer."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


class WriteWatch:
    """Tells, from outside, whether an import process is inside its write transaction.

    The imported file is open only inside ``import_workbook``, after the store was opened and
    migrated, so "file open" rules out the start-up transaction.  Then, SQLite: the database's
    write lock is taken (a probe's ``BEGIN IMMEDIATE`` fails at once); PostgreSQL: the process's
    server session has a transaction id, which it gets at its first row lock or write.
    """

    def __init__(self, url: str, app_name: str, file: Path) -> None:
        self.file = str(file.resolve())
        self.app_name = app_name
        self.sqlite_path = make_url(url).database if url.startswith("sqlite") else None
        self.probe = None
        self.server = None
        if self.sqlite_path:
            self.probe = sqlite3.connect(self.sqlite_path, timeout=0, isolation_level=None)
        else:
            self.server = create_engine(PG_URL, isolation_level="AUTOCOMMIT").connect()

    def writing(self, pid: int) -> bool:
        if not _has_open(pid, self.file):
            return False
        if self.probe is not None:
            try:
                self.probe.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                return True
            self.probe.execute("ROLLBACK")
            return False
        return bool(
            self.server.scalar(
                text(
                    "select count(*) from pg_stat_activity "
                    "where application_name = :app and backend_xid is not null"
                ),
                {"app": self.app_name},
            )
        )

    def close(self) -> None:
        if self.probe is not None:
            self.probe.close()
        if self.server is not None:
            self.server.close()
            self.server.engine.dispose()


def _has_open(pid: int, path: str) -> bool:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        with suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{fd}") == path:
                return True
    return False


@dataclass
class ImportRun:
    """One run of ``python -m loaders import``: how it ended and what was seen of it."""

    returncode: int | None  # None: hung, killed at the timeout
    seconds: float
    killed: bool = False
    timed_out: bool = False
    writing_at_kill: bool = False
    write_seconds: float | None = None  # how long its write transaction was seen open
    cpu_seconds: float = 0.0
    peak_mb: float = 0.0  # largest resident set
    output: str = ""
    app_name: str = ""  # its PostgreSQL application_name


def run_import(
    url: str,
    measures_csv: Path,
    file: Path,
    user: str,
    *,
    all_or_nothing: bool = False,
    kill: tuple[str, float] | None = None,
    watch_writes: bool = False,
) -> ImportRun:
    """Run the CLI import in a subprocess, as a user at a terminal would.

    ``kill`` sends SIGKILL at ("at", seconds after the start) or at ("in-write", seconds after
    its write transaction was first seen open).  ``watch_writes`` measures how long that
    transaction stays open in a run left alone.
    """
    app = f"faults-{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "TRACKER_MEASURES_CSV": str(measures_csv), "PGAPPNAME": app}
    command = [sys.executable, "-m", "loaders", "import", str(file), "--user", user, "--db", url]
    if all_or_nothing:
        command.append("--all-or-nothing")
    watched = watch_writes or (kill is not None and kill[0] == "in-write")
    watch = WriteWatch(url, app, file) if watched else None
    log = file.with_name(f"{file.name}.{app}.log")
    run = ImportRun(returncode=None, seconds=0.0, app_name=app)
    with log.open("w+b") as out:
        start = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_limit_memory,
        )
        first_seen = last_seen = None
        try:
            while not _reaped(process, run, os.WNOHANG):
                now = time.monotonic()
                writing = watch.writing(process.pid) if watch else False
                if writing:
                    first_seen = first_seen or now
                    last_seen = now
                if now - start > RUN_TIMEOUT:
                    run.timed_out = True
                elif not _kill_due(kill, now - start, first_seen and now - first_seen):
                    time.sleep(0.002 if watch or kill else 0.02)
                    continue
                run.killed = not run.timed_out
                run.writing_at_kill = writing
                os.kill(process.pid, signal.SIGKILL)
                _reaped(process, run, 0)
                break
        finally:
            if watch:
                watch.close()
        run.seconds = time.monotonic() - start
        run.returncode = None if run.timed_out else process.returncode
        if first_seen and not run.killed:
            run.write_seconds = last_seen - first_seen
        out.seek(0)
        run.output = out.read().decode("utf-8", errors="replace")
    log.unlink()
    return run


def _reaped(process: subprocess.Popen, run: ImportRun, options: int) -> bool:
    """Reap ``process`` if it ended (``os.wait4``, unlike ``Popen.wait``, tells the CPU time
    and peak memory it took); ``options`` os.WNOHANG: do not wait."""
    pid, status, usage = os.wait4(process.pid, options)
    if pid == 0:
        return False
    process.returncode = os.waitstatus_to_exitcode(status)
    run.cpu_seconds = usage.ru_utime + usage.ru_stime
    run.peak_mb = usage.ru_maxrss / 1024
    return True


def _kill_due(kill: tuple[str, float] | None, elapsed: float, writing_for: float | None) -> bool:
    if kill is None:
        return False
    if kill[0] == "at":
        return elapsed >= kill[1]
    return writing_for is not None and writing_for >= kill[1]


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
    taking ``modes`` in turn and, after each round of them, the next of ``aims``."""
    outcome = Outcome("kill -9 mid-import", backend_of(url))
    with timed(outcome):
        rng = random.Random(seed)
        store, csv = seed_store(url, synthetic_measures(assignments, units=8, seed=seed), folder)
        user = "faults-importer"
        store.accounts.add(user, role=SUPERVISOR, password=None)
        frame = store.assignments()
        unit = frame["unit"].value_counts().index[0]
        rows = int((frame["unit"] == unit).sum())
        seen = Counter()
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


# --- 3. hostile files ----------------------------------------------------------------------------


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return out.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info.filename) for info in zf.infolist()}


def _replaced(data: bytes, name: str, body: bytes | None, *, method: int | None = None) -> bytes:
    """``data`` with member ``name`` replaced, added if absent, or removed (``body`` None);
    ``method`` recompresses it."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            if info.filename != name:
                zout.writestr(info, zin.read(info.filename))
        if body is not None:
            zout.writestr(name, body, compress_type=method or zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _lying_size(data: bytes, name: str) -> bytes:
    """The central directory and local header of ``name`` claim 100 bytes uncompressed."""
    raw = bytearray(data)
    encoded = name.encode()
    for signature, name_at, size_at in ((b"PK\x01\x02", 46, 24), (b"PK\x03\x04", 30, 22)):
        at = raw.find(signature)
        while at != -1:
            if raw[at + name_at : at + name_at + len(encoded)] == encoded:
                raw[at + size_at : at + size_at + 4] = (100).to_bytes(4, "little")
            at = raw.find(signature, at + 4)
    return bytes(raw)


SHEET_XML = "xl/worksheets/sheet1.xml"
CAP_COLUMNS = [get_column_letter(n) for n in range(1, 63)]
_WORKSHEET = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def hostile_corpus(template: bytes) -> list[tuple[str, str, Callable[[], bytes]]]:
    """(what, file name, how to build its bytes) of workbooks an import must refuse without
    writing anything.  Built on demand: a few take seconds, and CI uses a few files only.

    Each is either refused as a file or, if it were read, holds a row the store refuses and
    nothing else to change, so "exit 2, nothing written" is the only right answer.
    ``template`` is a real, untouched template.
    """
    from tests.test_excel_import import BILLION_LAUGHS, compound_file, fill, inline_row, raw_xlsx
    from tests.test_import_hostile import FAR_AWAY, Number, sheet_xlsx, with_cells

    header = inline_row(1, ["任务编号", "责任单位", "状态", "进展情况"])
    unknown = inline_row(2, ["no-such-task", "市测试001局", "推进中", "x"])
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    # Read as it stands, the template would change nothing; with this row it is refused.
    template = with_cells(template, {"F3": 150})
    plain = raw_xlsx(header + unknown)
    out_of_range = header + '<row r="2"><c r="A2" t="s"><v>4294967295</v></c></row>'
    nested = "<x>" * 100_000 + "</x>" * 100_000

    def long_text() -> str:
        rng = random.Random(7)
        return "".join(chr(0x4E00 + rng.randrange(2000)) for _ in range(2**20))

    def many_shared_strings() -> bytes:
        rng = random.Random(7)
        strings = [f"{rng.getrandbits(64):016x}" for _ in range(200_000)]
        shared = (
            f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">'
            + "".join(f"<si><t>{s}</t></si>" for s in strings)
            + "</sst>"
        )
        rows = header + "".join(
            f'<row r="{n}"><c r="A{n}" t="s"><v>{n}</v></c><c r="B{n}" t="s"><v>{n + 1}</v>'
            "</c></row>"
            for n in range(2, 2000)
        )
        return raw_xlsx(rows, shared=shared)

    def member(name: str) -> bytes:
        return _members(template)[name]

    docx_types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
        "</Relationships>"
    )
    corpus: list[tuple[str, str, Callable[[], bytes]]] = [
        (
            "truncated zip (first half)",
            "truncated-half.xlsx",
            lambda: template[: len(template) // 2],
        ),
        ("truncated zip (no end record)", "truncated-tail.xlsx", lambda: template[:-30]),
        (
            "zip bomb (64 MB of spaces in about 64 KB)",
            "zip-bomb.xlsx",
            lambda: raw_xlsx(
                header + unknown, extra={"xl/worksheets/sheet2.xml": b" " * 64 * 2**20}
            ),
        ),
        (
            "member lying about its size",
            "lying-size.xlsx",
            lambda: _lying_size(template, SHEET_XML),
        ),
        (
            "two members named sheet1.xml, the first reaching XFD1048576",
            "duplicate-member.xlsx",
            lambda: _duplicate_sheet(plain, header + far, header + unknown),
        ),
        (
            "2,500 zip members",
            "many-members.xlsx",
            lambda: raw_xlsx(
                header + unknown, extra={f"xl/media/m{n}.xml": b"<a/>" for n in range(2500)}
            ),
        ),
        ("one cell at XFD1048576", "xfd1048576.xlsx", lambda: raw_xlsx(header + far)),
        (
            "declared dimension A1:XFD1048576",
            "dimension.xlsx",
            lambda: sheet_xlsx(header + unknown, before='<dimension ref="A1:XFD1048576"/>'),
        ),
        (
            "row number past 2^32",
            "row-overflow.xlsx",
            lambda: raw_xlsx(header + '<row r="4294967298"><c r="A4294967298"><v>1</v></c></row>'),
        ),
        (
            "column past XFD",
            "column-overflow.xlsx",
            lambda: raw_xlsx(header + '<row r="2"><c r="ZZZZZ2"><v>1</v></c></row>'),
        ),
        (
            "password-protected (OLE EncryptedPackage)",
            "encrypted.xlsx",
            lambda: compound_file(["EncryptionInfo", "EncryptedPackage"]),
        ),
        ("macro-enabled workbook (.xlsm)", "macro.xlsm", lambda: template),
        (
            "vbaProject.bin inside an .xlsx",
            "vba-inside.xlsx",
            lambda: _replaced(template, "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 vba"),
        ),
        (
            "content types declaring a macro workbook",
            "content-types-macro.xlsx",
            lambda: _replaced(
                template,
                "[Content_Types].xml",
                member("[Content_Types].xml").replace(
                    b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
                ),
            ),
        ),
        (
            "no [Content_Types].xml",
            "content-types-missing.xlsx",
            lambda: _replaced(template, "[Content_Types].xml", None),
        ),
        (
            "a Word document renamed .xlsx",
            "word.xlsx",
            lambda: _zip(
                {
                    "[Content_Types].xml": docx_types.encode(),
                    "_rels/.rels": rels.encode(),
                    "word/document.xml": b'<?xml version="1.0"?><document/>',
                }
            ),
        ),
        (
            "an OpenDocument spreadsheet renamed .xlsx",
            "ods.xlsx",
            lambda: _zip(
                {
                    "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                    "content.xml": b'<?xml version="1.0"?><office:document-content/>',
                },
                zipfile.ZIP_STORED,
            ),
        ),
        (
            "a binary workbook part (.xlsb)",
            "xlsb-inside.xlsx",
            lambda: raw_xlsx(header + unknown, extra={"xl/workbook.bin": b"\x83\x01\x00"}),
        ),
        (
            "a CSV renamed .xlsx",
            "csv.xlsx",
            lambda: "任务编号,责任单位,状态\nsynth-0001-m01-t1,市测试001局,已完成\n".encode(
                "utf-8-sig"
            ),
        ),
        (
            "HTML saved as .xlsx",
            "html.xlsx",
            lambda: b"<html><table><tr><td>1</td></tr></table></html>",
        ),
        ("a legacy .xls", "legacy.xls", lambda: compound_file(["Workbook"])),
        ("a legacy .xls renamed .xlsx", "legacy-renamed.xlsx", lambda: compound_file(["Workbook"])),
        ("an empty file", "empty.xlsx", lambda: b""),
        ("random bytes", "random.xlsx", lambda: random.Random(1).randbytes(64 * 1024)),
        (
            "formulas in every progress cell",
            "formulas.xlsx",
            lambda: _with_formulas(template, fill),
        ),
        (
            "a formula cell without a reference",
            "formula-no-ref.xlsx",
            lambda: raw_xlsx(header + '<row r="2"><c><f>1+1</f><v>2</v></c></row>'),
        ),
        (
            "200,000 shared strings",
            "shared-strings.xlsx",
            many_shared_strings,
        ),
        (
            "a shared-string index past the table",
            "shared-index.xlsx",
            lambda: raw_xlsx(out_of_range),
        ),
        (
            "one cell of a million characters",
            "long-text.xlsx",
            lambda: raw_xlsx(
                header + inline_row(2, ["no-such-task", "市测试001局", "推进中", long_text()])
            ),
        ),
        (
            "billion laughs in the shared strings",
            "billion-laughs.xlsx",
            lambda: raw_xlsx(
                header + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>',
                shared=BILLION_LAUGHS
                + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                "<si><t>&lol9;</t></si></sst>",
            ),
        ),
        (
            "a sheet in UTF-16",
            "utf16.xlsx",
            lambda: _replaced(
                plain,
                SHEET_XML,
                (_WORKSHEET + f"<sheetData>{header}{unknown}</sheetData></worksheet>")
                .replace('encoding="UTF-8"', 'encoding="UTF-16"')
                .encode("utf-16"),
            ),
        ),
        (
            "100,000 nested elements in the sheet",
            "nested.xlsx",
            lambda: raw_xlsx(header + unknown + f'<row r="3"><c r="A3">{nested}</c></row>'),
        ),
        (
            "100,000 nested elements in workbook.xml",
            "nested-book.xlsx",
            lambda: _replaced(
                template,
                "xl/workbook.xml",
                member("xl/workbook.xml").replace(b"</workbook>", nested.encode() + b"</workbook>"),
            ),
        ),
        (
            "a date cell holding -1e12",
            "date-panic.xlsx",
            lambda: with_cells(template, {"G3": Number("-1e12")}),
        ),
        (
            "the sheet compressed with LZMA",
            "lzma.xlsx",
            lambda: _replaced(
                plain, SHEET_XML, _members(plain)[SHEET_XML], method=zipfile.ZIP_LZMA
            ),
        ),
        (
            "the sheet compressed with bzip2",
            "bzip2.xlsx",
            lambda: _replaced(
                plain, SHEET_XML, _members(plain)[SHEET_XML], method=zipfile.ZIP_BZIP2
            ),
        ),
        (
            "a sheet at the 4,000,000-cell cap (62 columns × 64,000 rows, 10 MB)",
            "cell-cap.xlsx",
            lambda: raw_xlsx(
                "".join(
                    f'<row r="{r}">'
                    + "".join(
                        f'<c r="{letter}{r}"><v>{(r * 7 + i) % 10}</v></c>'
                        for i, letter in enumerate(CAP_COLUMNS)
                    )
                    + "</row>"
                    for r in range(1, 64_001)
                )
            ),
        ),
        (
            "100,002 data rows",
            "too-many-rows.xlsx",
            lambda: raw_xlsx(
                header
                + "".join(
                    f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(2, 100_004)
                )
            ),
        ),
    ]
    corpus += [
        (f"far cell: {what}", f"far-{n}.xlsx", lambda rows=rows: sheet_xlsx(rows))
        for n, (what, rows) in enumerate(FAR_AWAY.items(), start=1)
    ]
    return corpus


def _duplicate_sheet(data: bytes, first: str, second: str) -> bytes:
    out = io.BytesIO()
    with (
        warnings.catch_warnings(),
        zipfile.ZipFile(io.BytesIO(data)) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name: the point
        for info in zin.infolist():
            if info.filename != SHEET_XML:
                zout.writestr(info, zin.read(info.filename))
                continue
            for rows in (first, second):
                zout.writestr(SHEET_XML, f"{_WORKSHEET}<sheetData>{rows}</sheetData></worksheet>")
    return out.getvalue()


def _with_formulas(template: bytes, fill: Callable) -> bytes:
    """Every row's 完成比例 a formula (=50) and 进展情况 a HYPERLINK formula."""
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(template)).worksheets[0]
    keys = [(sheet.cell(r, 1).value, sheet.cell(r, 2).value) for r in range(3, sheet.max_row + 1)]
    edits = {
        key: {"完成比例(%)": "=50", "进展情况": '=HYPERLINK("http://x.invalid","x")'}
        for key in keys
    }
    return fill(template, edits, as_text=False)


def hostile_files(
    url: str, folder: Path, *, only: Sequence[str] | None = None, assignments: int = 200
) -> Outcome:
    """Feed every file of :func:`hostile_corpus` (or those named in ``only``) to the CLI
    import in its own subprocess: each must exit 2, name the file, print no traceback, and
    leave the database as it was."""
    outcome = Outcome("hostile files", backend_of(url))
    with timed(outcome):
        store, csv = seed_store(url, synthetic_measures(assignments, units=6, seed=1), folder)
        user = "faults-hostile"
        store.accounts.add(user, role=SUPERVISOR, password=None)
        frame = store.assignments()
        template = build_template(frame, frame["unit"].value_counts().index[0])
        corpus = hostile_corpus(template)
        if only is not None:
            for name in sorted(set(only) - {c[1] for c in corpus}):
                outcome.fail(f"no hostile file named {name}")
            corpus = [c for c in corpus if c[1] in only]
        before = fingerprint(store.engine)
        endings = Counter()
        costs: list[tuple[float, float, str]] = []
        for what, name, build in corpus:
            file = folder / name
            file.write_bytes(build())
            run = run_import(url, csv, file, user)
            file.unlink()
            said = run.output
            if run.returncode is None:
                endings["hung"] += 1
                outcome.fail(f"{what} ({name}): still running after {RUN_TIMEOUT} s")
            elif run.returncode < 0 or run.returncode >= 128:  # a signal: abort, segfault
                endings["crashed"] += 1
                outcome.fail(f"{what} ({name}): the process died (exit {run.returncode})")
            elif run.returncode != EXIT_BAD_INPUT:
                endings[f"exit {run.returncode}"] += 1
                outcome.fail(f"{what} ({name}): exit {run.returncode}, expected 2: {said[-200:]!r}")
            else:
                endings["exit 2"] += 1
            last = said.strip().splitlines()[-1] if said.strip() else ""
            outcome.details.append(
                f"{name}: exit {run.returncode}, {run.cpu_seconds:.1f} s CPU, "
                f"{run.peak_mb:,.0f} MB: {last[:150]}"
            )
            costs.append((run.cpu_seconds, run.peak_mb, name))
            if "Traceback" in said:
                endings["traceback"] += 1
                outcome.fail(f"{what} ({name}): printed a traceback: {said[-300:]!r}")
            if PANIC in said:  # caught, but the reader's panic report reached the user
                endings["panic"] += 1
                at = said.index(PANIC)
                outcome.fail(
                    f"{what} ({name}): exit {run.returncode}, but printed the reader's panic "
                    f"first: {said[max(0, at - 40) : at + 120]!r}"
                )
            if name not in said:
                outcome.fail(
                    f"{what} ({name}): the message does not name the file: {said[-200:]!r}"
                )
            after = fingerprint(store.engine)
            if after != before:
                endings["wrote"] += 1
                outcome.fail(f"{what} ({name}): wrote to the database ({before} -> {after})")
                before = after
        store.engine.dispose()
        outcome.counts = endings
        outcome.tried = f"{len(corpus)} hostile files through `python -m loaders import`: " + (
            "; ".join(what for what, _n, _b in corpus[:8])
            + (f"; and {len(corpus) - 8} more" if len(corpus) > 8 else "")
        )
        outcome.happened = (
            f"{endings['exit 2']} exited 2 naming the file, {endings['crashed']} crashed, "
            f"{endings['hung']} hung, {endings['traceback']} printed a traceback, "
            f"{endings['panic']} printed a reader panic, "
            f"{sum(v for k, v in endings.items() if k.startswith('exit ') and k != 'exit 2')} "
            "other exit codes; "
            + (
                f"{endings['wrote']} wrote to the database"
                if endings["wrote"]
                else "nothing written"
            )
        )
        if costs:
            cpu, _mb, slowest = max(costs)
            _cpu, mb, biggest = max(costs, key=lambda c: c[1])
            outcome.happened += (
                f"; the costliest: {slowest} ({cpu:.1f} s CPU), {biggest} ({mb:,.0f} MB resident)"
            )
    return outcome


# --- 4. fuzzing ------------------------------------------------------------------------------------


def _panic_site(printed: str) -> str:
    """'file:line: message' of the first Rust panic report in ``printed``."""
    lines = printed[printed.index(PANIC) :].splitlines()
    where = lines[0][len(PANIC) :].strip().rstrip(":").split("/registry/src/")[-1]
    where = where.split("/", 1)[-1] if where.startswith("index.") else where  # the crate onwards
    return f"{where}: {lines[1].strip() if len(lines) > 1 else ''}"


def _fuzz_settings(examples: int, seed: int) -> Callable:
    def apply(test: Callable) -> Callable:
        configured = settings(
            max_examples=examples,
            deadline=None,
            database=None,
            verbosity=Verbosity.quiet,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.filter_too_much,
                HealthCheck.large_base_example,
            ],
        )(test)
        return hypothesis_seed(seed)(configured)

    return apply


class _Fuzz:
    """Counts what a hypothesis run tried and keeps the smallest failing input it found."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.failing: tuple[str, BaseException] | None = None
        self.panics: set[str] = set()  # where the reader panicked, and why

    def run(self, test: Callable, outcome: Outcome, what: str) -> None:
        try:
            test()
        except Exception as exc:  # hypothesis re-raises the (shrunk) failure: report it
            given_input, error = self.failing or ("?", exc)
            outcome.fail(
                f"{what}: {error.__class__.__name__}: {str(error)[:300]} — on {given_input[:400]}"
            )

    def record(self, given_input: str, error: BaseException) -> None:
        self.failing = (given_input, error)


UNIT_NAMES = read_units(UNITS_CSV.read_bytes()).names()
_SEPARATORS = ["、", "，", ",", "；", ";", "和", "及", " ", "、\n", "等"]
_POLICY_LINES = st.one_of(
    st.sampled_from(
        [
            "",
            "一、总则",
            "## 二、重点任务",
            "**三、保障措施**",
            "第四章　附则",
            "第五条　",
            "上海市人民政府办公厅",
            "2025年5月27日",
            "沪府办发〔2025〕11号",
            "（此件公开发布）",
            "- 3 -",
            "— 12 —",
            "自2025年6月1日起施行，有效期至2027年5月31日。",
            "有效期至2025年2月30日。",
            "2025年底前",
            "完成时限：2026年6月底",
            "（完成时限：2099年12月31日前）",
            "2025年13月底前",
            "# 关于印发《若干措施》的通知",
            "**发布机构**: 上海市人民政府办公厅",
            "---",
            "|表|格|",
            "（市科委牵头，市教委配合）",
            "責任單位：市發展改革委",
            "\u3000\u3000",
            "\u200b",
        ]
    ),
    st.builds(
        lambda kind, units, sep, close: f"（{kind}：{sep.join(units)}{close}",
        st.sampled_from(["责任单位", "牵头单位", "配合单位", "責任單位", "责任部门"]),
        st.lists(st.sampled_from(UNIT_NAMES) | st.text(max_size=6), min_size=1, max_size=6),
        st.sampled_from(_SEPARATORS),
        st.sampled_from(["）", ")", "", "）。", "；配合单位：市教委）"]),
    ),
    st.builds(
        lambda n, style, title, body: style.format(n=n, cn=cn_number(n), title=title, body=body),
        st.integers(1, 60),
        st.sampled_from(
            [
                "（{cn}）{title}。{body}",
                "{cn}、{title}",
                "{n}.{body}",
                "{n}、{body}",
                "({n}){body}",
                "第{cn}条　{body}",
                "**（{cn}）{title}**",
                "（{cn}）",
            ]
        ),
        st.text(max_size=10),
        st.text(max_size=40),
    ),
    st.text(max_size=40),
)


@st.composite
def _damaged_policy(draw) -> list[str]:
    """A well-formed synthetic policy with lines inserted, deleted and replaced: reaches the
    parser's deeper paths far more often than noise does."""
    number = draw(st.integers(1, 9999))
    lines = synthetic_policy_text(number, measures=draw(st.integers(1, 14))).split("\n")
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(lines)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "cut"]))
        if action == "insert":
            lines.insert(at, draw(_POLICY_LINES))
        elif lines and action == "delete":
            del lines[min(at, len(lines) - 1)]
        elif lines and action == "replace":
            lines[min(at, len(lines) - 1)] = draw(_POLICY_LINES)
        elif lines:
            line = lines[min(at, len(lines) - 1)]
            cut = draw(st.integers(0, len(line)))
            lines[min(at, len(lines) - 1)] = line[:cut]
    return lines


POLICY_TEXTS = st.builds(
    lambda lines, newline: newline.join(lines),
    st.one_of(st.lists(_POLICY_LINES, max_size=40), _damaged_policy()),
    st.sampled_from(["\n", "\r\n", "\n\n", "\r"]),
)
POLICY_NAMES = st.sampled_from(
    [
        "2025-05-27_hufubanfa-2025-11.md",
        "2024-06-12_shuju-yaosu-2024-7.txt",
        "2025-13-45_bad-date.md",
        "random.md",
        "_.txt",
        "2025-01-01_.md",
    ]
) | st.text(max_size=30).map(lambda s: s + ".md")
POLICY_BYTES = st.one_of(
    st.tuples(POLICY_TEXTS, st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"])).map(
        lambda pair: pair[0].encode(pair[1])
    ),
    st.binary(max_size=400),
)


def fuzz_policy_texts(*, examples: int = 500, seed: int = 0) -> Outcome:
    """Random policy texts (real structure, broken structure, noise, other encodings) through
    ``parse_policy`` and ``build_measures``; what builds must survive the CSV round trip."""
    outcome = Outcome("fuzzing: policy texts", "no database")
    fuzz = _Fuzz()
    registry = read_units(UNITS_CSV.read_bytes())

    @_fuzz_settings(examples, seed)
    @given(
        text_=POLICY_TEXTS,
        sources=st.lists(st.tuples(POLICY_NAMES, POLICY_BYTES), min_size=1, max_size=3),
    )
    def parse_and_build(text_: str, sources: list[tuple[str, bytes]]) -> None:
        fuzz.counts["texts"] += 1
        fuzz.counts["source sets"] += 1
        try:
            try:
                parse_policy(text_, "fuzz.md")
                fuzz.counts["parsed"] += 1
            except TrackerError:
                fuzz.counts["refused"] += 1
            try:
                built = build_measures(sources, registry)
            except TrackerError:
                fuzz.counts["sets refused"] += 1
                return
            fuzz.counts["tables built"] += 1
            again = read_measures(to_csv_bytes(built.frame))
            pd.testing.assert_frame_equal(again, normalize_frame(built.frame))
        except BaseException as exc:
            fuzz.record(f"text={text_!r}, sources={sources!r}", exc)
            raise

    with timed(outcome):
        fuzz.run(parse_and_build, outcome, "parse_policy / build_measures")
        c = outcome.counts = fuzz.counts
        outcome.tried = (
            f"{c['texts']:,} policy texts through parse_policy and {c['source sets']:,} sets of "
            "1–3 source files (UTF-8, GB18030, UTF-16, raw bytes) through build_measures"
        )
        outcome.happened = (
            f"{c['parsed']:,} texts parsed, {c['refused']:,} refused with a PolicyParseError; "
            f"{c['tables built']:,} tables built (each read back equal from its CSV), "
            f"{c['sets refused']:,} refused; "
            + ("no other exception" if outcome.ok else "other exceptions: see below")
        )
    return outcome


def fuzz_importer(
    url: str, folder: Path, *, examples: int = 100, seed: int = 0, assignments: int = 80
) -> Outcome:
    """Random cell values (in any column, keys and hidden version included) and random bytes
    spliced into the workbook's XML parts, imported in every mode as a supervisor or a staff
    member: only TrackerErrors, nothing written when refused or dry, the rows reported
    written exactly the rows whose version moved (by one), and progress and history agreeing
    afterwards."""
    from tests.test_import_hostile import CELL_VALUES, LETTER, with_cells

    outcome = Outcome("fuzzing: importer", backend_of(url))
    fuzz = _Fuzz()
    with timed(outcome):
        store, _csv = seed_store(url, synthetic_measures(assignments, units=6, seed=seed), folder)
        frame = store.assignments()
        unit = frame["unit"].value_counts().index[0]
        rows = int((frame["unit"] == unit).sum())
        store.accounts.add("faults-fuzz", role=SUPERVISOR, password=None)
        store.accounts.add("faults-staff", role=STAFF, units=[unit], password=None)
        accounts = {
            "supervisor": store.accounts.account("faults-fuzz"),
            "staff": store.accounts.account("faults-staff"),
        }
        members = sorted(_members(build_template(frame, unit)))

        def attempt(data: bytes, mode: str, who: str) -> None:
            before = fingerprint(store.engine)
            versions = _versions(store.engine)
            fuzz.counts[f"mode {mode}"] += 1
            try:
                with stderr_captured() as printed:
                    result = import_workbook(
                        store,
                        data,
                        file_name="fuzz.xlsx",
                        user=accounts[who],
                        dry_run=mode == "dry-run",
                        all_or_nothing=mode == "all-or-nothing",
                    )
            except TrackerError as exc:
                fuzz.counts[exc.__class__.__name__] += 1
                if PANIC in printed.text:
                    fuzz.counts["reader panics printed"] += 1
                    fuzz.panics.add(_panic_site(printed.text))
                assert fingerprint(store.engine) == before, "a refused file wrote something"
                return
            fuzz.counts["imported" if result.ok else "rows refused"] += 1
            if mode == "dry-run" or (mode == "all-or-nothing" and not result.ok):
                assert fingerprint(store.engine) == before, f"{mode} import wrote something"
            moved = {aid for aid, v in _versions(store.engine).items() if v != versions[aid]}
            said = set(result.diffs["assignment_id"].astype(int)) if result.written else set()
            assert moved == said, f"rows written {sorted(moved)}, reported {sorted(said)}"
            assert all(_versions(store.engine)[aid] == versions[aid] + 1 for aid in moved)
            problems = ledger_problems(store.engine)
            assert not problems, problems[:3]

        @_fuzz_settings(examples, seed)
        @given(
            cells=st.dictionaries(
                st.tuples(st.integers(3, rows + 2), st.sampled_from(sorted(LETTER))),
                CELL_VALUES,
                min_size=1,
                max_size=10,
            ),
            mode=st.sampled_from(["partial", "all-or-nothing", "dry-run"]),
            who=st.sampled_from(["supervisor", "staff"]),
        )
        def cell_values(cells: dict, mode: str, who: str) -> None:
            fuzz.counts["workbooks (cells)"] += 1
            try:
                template = build_template(store.assignments(), unit)
                edits = {f"{LETTER[header]}{row}": value for (row, header), value in cells.items()}
                attempt(with_cells(template, edits), mode, who)
            except BaseException as exc:
                fuzz.record(f"cells={cells!r}, mode={mode}, who={who}", exc)
                raise

        @_fuzz_settings(examples, seed)
        @given(
            member=st.sampled_from(members),
            splices=st.lists(
                st.tuples(
                    st.floats(0, 1),
                    st.integers(0, 12),
                    st.sampled_from(
                        [
                            b"",
                            b"<",
                            b">",
                            b"/",
                            b'"',
                            b"&",
                            b"\x00",
                            b"\xff\xfe",
                            b"&lol;",
                            b'<c r="XFD1048576"><v>1</v></c>',
                            b"<f>1+1</f>",
                            b'r="A0"',
                            b't="s"',
                            b"<v>-1e12</v>",
                            b'<row r="0">',
                            b"<!DOCTYPE x>",
                            b"</sheetData>",
                            b'<dimension ref="A1:XFD1048576"/>',
                        ]
                    )
                    | st.binary(max_size=8),
                ),
                min_size=1,
                max_size=4,
            ),
            mode=st.sampled_from(["partial", "all-or-nothing", "dry-run"]),
        )
        def xml_bytes(member: str, splices: list, mode: str) -> None:
            fuzz.counts["workbooks (XML bytes)"] += 1
            try:
                template = build_template(store.assignments(), unit)
                body = _members(template)[member]
                for where, cut, insert in splices:
                    at = int(where * len(body))
                    body = body[:at] + insert + body[at + cut :]
                attempt(_replaced(template, member, body), mode, "supervisor")
            except BaseException as exc:
                fuzz.record(f"member={member}, splices={splices!r}, mode={mode}", exc)
                raise

        fuzz.run(cell_values, outcome, "import_workbook, random cell values")
        fuzz.run(xml_bytes, outcome, "import_workbook, random bytes in the XML")
        outcome.details += [f"reader panic (caught): {site}" for site in sorted(fuzz.panics)]
        store.engine.dispose()
        c = outcome.counts = fuzz.counts
        refusals = ", ".join(
            f"{c[k]} {k}" for k in sorted(c) if k.endswith("Error") or k == "PermissionDenied"
        )
        outcome.tried = (
            f"{c['workbooks (cells)']:,} templates with random values in up to 10 cells of "
            f"{rows} rows (any column, keys and the hidden version included) and "
            f"{c['workbooks (XML bytes)']:,} with random bytes spliced into their XML, imported "
            f"partial / all-or-nothing / dry-run ({c['mode partial']}/{c['mode all-or-nothing']}/"
            f"{c['mode dry-run']}) as a supervisor or a staff member"
        )
        outcome.happened = (
            f"{c['imported']} imported cleanly, {c['rows refused']} with refused rows, refused "
            f"as files: {refusals or 'none'} ({c['reader panics printed']} of them after a "
            "reader panic, caught, its report printed to stderr); nothing written by a refusal or "
            "a dry run, rows reported written = rows whose version moved, progress and history "
            "agreeing after every import"
            if outcome.ok
            else "failures: see below"
        )
    return outcome


# --- the whole suite -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """How much of each attack one run makes."""

    writers: int
    saves: int
    shared_rows: int
    kill_assignments: int
    kill_trials: int
    kill_aims: tuple[str, ...]
    hostile: tuple[str, ...] | None  # file names of the corpus to use; None: all of it
    fuzz_texts: int
    fuzz_workbooks: int


FULL = Budget(
    writers=4,
    saves=150,
    shared_rows=8,
    kill_assignments=12_000,
    kill_trials=8,
    kill_aims=("in-write", "at random"),
    hostile=None,
    fuzz_texts=2_000,
    fuzz_workbooks=150,
)
# What CI runs (tests/test_faults.py): a few trials per category, a bounded hypothesis budget.
QUICK = Budget(
    writers=3,
    saves=30,
    shared_rows=6,
    kill_assignments=2_000,
    kill_trials=2,
    kill_aims=("in-write",),
    hostile=(
        "xfd1048576.xlsx",
        "zip-bomb.xlsx",
        "duplicate-member.xlsx",
        "shared-strings.xlsx",
        "formulas.xlsx",
        "csv.xlsx",
    ),
    fuzz_texts=150,
    fuzz_workbooks=12,
)


def run_suite(budget: Budget, backends: Sequence[str], seed: int, folder: Path) -> list[Outcome]:
    """Every category on every backend, each on a fresh database; each outcome goes to
    stderr as it comes, so a long run shows where it is."""
    outcomes: list[Outcome] = []

    def done(outcome: Outcome) -> None:
        outcomes.append(outcome)
        print(outcome, end="\n\n", file=sys.stderr, flush=True)

    for backend in backends:
        if backend == "postgresql" and (reason := postgres_problem()):
            done(Outcome("all categories", backend, "nothing", "not run", [reason]))
            continue
        runs: list[Callable[[str, Path], Outcome]] = [
            lambda url, _f: concurrent_writers(
                url,
                workers=budget.writers,
                saves=budget.saves,
                rows=budget.shared_rows,
                seed=seed,
            ),
            lambda url, f: kill_mid_import(
                url,
                f,
                assignments=budget.kill_assignments,
                trials=budget.kill_trials,
                aims=budget.kill_aims,
                seed=seed,
            ),
            lambda url, f: hostile_files(url, f, only=budget.hostile),
            lambda url, f: fuzz_importer(url, f, examples=budget.fuzz_workbooks, seed=seed),
        ]
        for run in runs:
            part = folder / uuid.uuid4().hex[:8]
            part.mkdir()
            with fresh_database(backend, part) as url:
                done(run(url, part))
    done(fuzz_policy_texts(examples=budget.fuzz_texts, seed=seed))
    return outcomes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.faults", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="the small budget CI runs")
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help="comma-separated: sqlite, postgresql (default both; PostgreSQL at TEST_DATABASE_URL)",
    )
    parser.add_argument("--seed", type=int, help="random seed (default: a new one, printed)")
    parser.add_argument(
        "--verbose", action="store_true", help="one line per kill trial and per hostile file"
    )
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    budget = QUICK if args.quick else FULL
    header = (
        f"Fault suite ({'quick' if args.quick else 'full'} run), backends: "
        f"{', '.join(backends)}, seed {seed} (`python -m bench.faults"
        f"{' --quick' if args.quick else ''} --seed {seed}` repeats it)"
    )
    print(header, end="\n\n", file=sys.stderr, flush=True)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        outcomes = run_suite(budget, backends, seed, Path(tmp))
    text_, code = report(
        outcomes,
        header=f"{header}; {time.monotonic() - start:.0f} s in all",
        verbose=args.verbose,
    )
    print(text_)
    return code


if __name__ == "__main__":
    sys.exit(main())
