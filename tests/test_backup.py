"""``python -m loaders backup`` and ``restore``: a database with every table filled is
backed up, restored into an empty database and compared table by table, row by row - on
SQLite (online backup API and portable dump) and PostgreSQL (pg_dump and portable dump);
a restore over live data is refused."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from bench.live import seed_demo_progress, seed_demo_workflow
from cli import main
from tests.conftest import PG_URL
from tracker.models import Base
from tracker.store import make_engine


def _tables(url: str) -> dict[str, list[tuple]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = {
            table.name: [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }
    engine.dispose()
    return found


@pytest.fixture
def filled(db_url) -> str:
    """The seeds, demo progress, reports, reviews, an extension request and reminders."""
    seed_demo_progress(db_url)
    seed_demo_workflow(db_url)
    return db_url


def _empty_like(url: str, tmp_path: Path) -> str:
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.db'}"
    schema = f"r_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"


@pytest.mark.parametrize("portable", [False, True], ids=["native", "portable"])
def test_restore_into_an_empty_database_gives_every_table_back(db_url, request, tmp_path, portable):
    if not portable and db_url.startswith("postgresql"):
        pytest.skip("pg_dump of one schema restores into that schema: see the database test")
    filled = request.getfixturevalue("filled")
    before = _tables(filled)
    for name in (
        "tasks",
        "progress",
        "progress_history",
        "supervision_steps",
        "reminders",
        "users",
        "user_units",
        "policy_sources",
        "progress_snapshots",
        "store_meta",
    ):
        assert before[name], f"{name} is empty: the comparison would prove nothing"
    file = tmp_path / "backup.dump"
    options = ["--portable"] if portable else []
    assert main(["backup", str(file), "--db", filled, *options]) == 0
    target = _empty_like(filled, tmp_path)
    assert main(["restore", str(file), "--db", target]) == 0
    assert _tables(target) == before
    # And over live data a restore is refused, with nothing changed.
    assert main(["restore", str(file), "--db", target]) == 2
    assert _tables(target) == before


def test_pg_dump_backup_restores_into_an_empty_postgresql_database(pg_available, tmp_path):
    names = [f"b_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    base = PG_URL.rsplit("/", 1)[0]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        source, target = (f"{base}/{name}" for name in names)
        seed_demo_progress(source)
        file = tmp_path / "tracker.pgdump"
        assert main(["backup", str(file), "--db", source]) == 0
        assert file.read_bytes()[:5] == b"PGDMP"
        assert main(["restore", str(file), "--db", target]) == 0
        assert _tables(target) == _tables(source)
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
