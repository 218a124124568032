"""Databases for the attacks (a fresh SQLite file or PostgreSQL schema, seeded) and the
ledger check every attack ends with: stored progress and its history agree."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, func, select, text

from loaders.measures_csv import read_measures, to_csv_bytes
from loaders.store_sync import load_members
from tracker.models import Progress, ProgressHistory, StoreMeta
from tracker.store import PROGRESS_COLUMNS, Store, history_text, make_engine

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


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
    """A store synced from ``measures`` exactly as ``Store.open`` syncs from a file (the
    members of collective units included), and that file: a command run with
    ``TRACKER_MEASURES_CSV`` pointing at it finds nothing to sync."""
    raw = to_csv_bytes(measures)
    csv = folder / f"measures-{uuid.uuid4().hex[:8]}.csv"
    csv.write_bytes(raw)
    store = Store(make_engine(url))
    store.create_schema()
    store.sync(read_measures(raw), digest=hashlib.sha256(raw).hexdigest())
    load_members(store)  # as opening the store does: a command's first open then writes nothing
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
        problems += _row_problems(row, by_row.pop(row.assignment_id, []))
    problems += [f"history rows for unknown assignment {aid}" for aid in by_row]
    return problems


def _row_problems(row, entries: list) -> list[str]:
    """Where one assignment's stored progress and its history ``entries`` disagree."""
    problems = []
    versions = [e.version for e in entries]
    where = f"assignment {row.assignment_id}"
    if sorted(set(versions)) != list(range(1, row.version + 1)):
        problems.append(
            f"{where}: stored version {row.version}, history versions {version_span(versions)}"
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
    return problems


def stored_versions(engine) -> dict[int, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Progress.assignment_id, Progress.version)).all())


def version_span(versions: list[int]) -> str:
    distinct = sorted(set(versions))
    if not distinct:
        return "none"
    text_ = ", ".join(str(v) for v in distinct[:6])
    return text_ + (f" … {distinct[-1]}" if len(distinct) > 6 else "")
