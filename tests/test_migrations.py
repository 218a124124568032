"""The Alembic migrations and the models describe the same schema, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.factories import side_by_side
from tracker.models import Base
from tracker.store import Store, make_engine


def test_migrations_create_exactly_the_models(db_url) -> None:
    engine = make_engine(db_url)
    Store(engine).create_schema()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == []
    assert {
        "policies",
        "measures",
        "tasks",
        "units",
        "assignments",
        "progress",
        "progress_history",
        "progress_snapshots",
        "users",
        "user_units",
        "supervision_steps",
        "reminders",
        "alembic_version",
    } <= tables


def test_create_schema_is_idempotent(db_url) -> None:
    engine = make_engine(db_url)
    store = Store(engine)
    store.create_schema()
    store.create_schema()
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0007"
    engine.dispose()


def test_concurrent_first_starts_all_succeed(db_url, small_measures) -> None:
    """Twelve servers starting at once on an empty database: one creates and seeds the
    schema, the others find it made (4 of 12 got IntegrityError on PostgreSQL before)."""

    def start() -> None:
        Store.open(db_url, measures=small_measures).engine.dispose()

    assert side_by_side(12, start) == []
    store = Store.open(db_url, measures=small_measures)
    assert len(store.assignments()) == len(small_measures)
    store.engine.dispose()
