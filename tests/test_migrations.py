"""The Alembic migrations and the models describe the same schema, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import tracker
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
        current = MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    assert [current] == migration_heads()


def migration_heads() -> list[str]:
    """The heads of tracker/migrations: exactly one when the chain is whole."""
    scripts = ScriptDirectory(str(Path(tracker.__file__).parent / "migrations"))
    return list(scripts.get_heads())


def test_the_migrations_form_one_chain() -> None:
    heads = migration_heads()
    assert len(heads) == 1, f"several heads: {heads}"
    scripts = ScriptDirectory(str(Path(tracker.__file__).parent / "migrations"))
    chain = [s.revision for s in scripts.walk_revisions()]
    assert chain[-1] == "0001" and len(chain) == len(set(chain))


def test_concurrent_first_starts_all_succeed(db_url, small_measures) -> None:
    """Twelve servers starting at once on an empty database: one creates and seeds the
    schema, the others find it made (4 of 12 got IntegrityError on PostgreSQL before)."""

    def start() -> None:
        Store.open(db_url, measures=small_measures).engine.dispose()

    assert side_by_side(12, start) == []
    store = Store.open(db_url, measures=small_measures)
    assert len(store.assignments()) == len(small_measures)
    store.engine.dispose()


def test_a_running_sign_in_lock_survives_the_throttle_migration(db_url) -> None:
    """A database made before failures were counted per address (0003): an account locked
    then is still locked after the upgrade, and its count moves over."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from tracker.accounts import SIGN_IN_FAILED
    from tracker.errors import SignInError

    engine = make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(Path(tracker.__file__).parent / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
        conn.execute(
            text(
                "INSERT INTO users (username, display_name, role, password_hash, active,"
                " failed_sign_ins, locked_until, created_at) VALUES"
                " ('locked', '', 'admin', 'x', true, 5, '2999-01-01 00:00:00', '2026-01-01'),"
                " ('fine', '', 'admin', 'x', true, 0, NULL, '2026-01-01')"
            )
        )
    store = Store(engine)
    store.create_schema()
    table = store.accounts.table().set_index("username")
    assert table.loc["locked", "failed_sign_ins"] == 5
    assert str(table.loc["locked", "locked_until"]).startswith("2999-01-01")
    assert table.loc["fine", "failed_sign_ins"] == 0
    with pytest.raises(SignInError) as info:
        store.accounts.sign_in("locked", "any-password-1")
    assert str(info.value) != SIGN_IN_FAILED and "锁定" in str(info.value)
    engine.dispose()
