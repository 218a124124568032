"""Backup and restore of the whole database, for ``python -m loaders backup|restore FILE``.

- SQLite: the online backup API (``sqlite3.Connection.backup``), a consistent copy while
  servers keep writing; restore copies it back the same way.
- PostgreSQL: ``pg_dump --format=custom`` / ``pg_restore`` when they are on the PATH.
- Anywhere (``portable=True``, or PostgreSQL without ``pg_dump``): a portable dump, gzip'd
  JSON lines - a header naming the schema revision, then per table its columns and rows
  (bytes base64, dates ISO) - read back in foreign-key order by :func:`restore`.

A restore goes into an empty database only (no task and no account yet): restoring over
live data is refused rather than merged.

>>> backup("sqlite:///data/tracker.db", Path("tracker-2026-12-01.db"))   # doctest: +SKIP
'sqlite'
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine, Table, delete, func, insert, inspect, select, text
from sqlalchemy.engine import make_url

from tracker.errors import TrackerError
from tracker.models import Base, StoreMeta, Task, User
from tracker.store import Store, make_engine

FORMAT = "tracker-portable-dump"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PG_MAGIC = b"PGDMP"


def _sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise TrackerError("内存数据库无法备份或恢复")
    return database


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump/pg_restore from a SQLAlchemy URL (password via env)."""
    parsed = make_url(url)
    args = ["--dbname", parsed.database or ""]
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    env = {**os.environ, **({"PGPASSWORD": parsed.password} if parsed.password else {})}
    options = str(parsed.query.get("options", ""))
    if "search_path" in options:  # a schema of its own (as the tests use): that schema only
        args += ["--schema", options.split("search_path", 1)[1].lstrip("=").split(",")[0]]
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise TrackerError(f"{command[0]} 失败：{done.stderr.strip()[:300]}")


def backup(url: str, file: Path, *, portable: bool = False) -> str:
    """Write a backup of the database at ``url`` to ``file``; returns the format used
    (``sqlite``, ``pg_dump`` or ``portable``)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        Store(engine).create_schema()
        dialect = engine.dialect.name
        if dialect == "sqlite" and not portable:
            source = sqlite3.connect(_sqlite_path(url))
            target = sqlite3.connect(file)
            try:
                with target:
                    source.backup(target)
            finally:
                source.close()
                target.close()
            return "sqlite"
        if dialect == "postgresql" and not portable and shutil.which("pg_dump"):
            args, env = _pg_args(url)
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(file), *args], env)
            return "pg_dump"
        _portable_dump(engine, file)
        return "portable"
    finally:
        engine.dispose()


def _encode(value: object) -> object:
    if isinstance(value, bytes | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    return value


def _decode(value: object) -> object:
    if isinstance(value, dict):
        if "$b" in value:
            return base64.b64decode(value["$b"])
        if "$t" in value:
            return datetime.fromisoformat(value["$t"])
        if "$d" in value:
            return date.fromisoformat(value["$d"])
    return value


def _schema_revision(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(text("SELECT version_num FROM alembic_version")))


def _portable_dump(engine: Engine, file: Path) -> None:
    """Every table of the models, in one read transaction, as gzip'd JSON lines."""
    with gzip.open(file, "wt", encoding="utf-8") as out, engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        header = {"format": FORMAT, "version": 1, "schema": _schema_revision(engine)}
        out.write(json.dumps(header) + "\n")
        for table in Base.metadata.sorted_tables:
            columns = [c.name for c in table.columns]
            out.write(json.dumps({"table": table.name, "columns": columns}) + "\n")
            order = list(table.primary_key.columns)
            for row in conn.execute(select(table).order_by(*order)):
                out.write(json.dumps([_encode(v) for v in row], ensure_ascii=False) + "\n")


def is_empty(store: Store) -> bool:
    """No task and no account: a database a restore (or the demo) may fill."""
    with store.engine.connect() as conn:
        tasks = conn.scalar(select(func.count()).select_from(Task))
        users = conn.scalar(select(func.count()).select_from(User))
    return not tasks and not users


def restore(url: str, file: Path) -> str:
    """Restore ``file`` (any format :func:`backup` writes) into the empty database at
    ``url``; returns the format read.  Refused when the database holds tasks or accounts."""
    head = file.read_bytes()[:16]
    engine = make_engine(url)
    try:
        if engine.dialect.name == "sqlite" and head == _SQLITE_MAGIC:
            _refuse_non_empty(engine, created=Path(_sqlite_path(url)).exists())
            source = sqlite3.connect(file)
            target = sqlite3.connect(_sqlite_path(url))
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
            return "sqlite"
        if head.startswith(_PG_MAGIC):
            if engine.dialect.name != "postgresql":
                raise TrackerError(f"{file} 是 pg_dump 备份，只能恢复到 PostgreSQL")
            _refuse_non_empty(engine, created=True)
            args, env = _pg_args(url)
            _run(["pg_restore", "--no-owner", "--exit-on-error", *args, str(file)], env)
            return "pg_dump"
        if head[:2] != b"\x1f\x8b":
            raise TrackerError(f"{file} 不是本系统的备份文件")
        _refuse_non_empty(engine, created=True)
        Store(engine).create_schema()
        _portable_load(engine, file)
        return "portable"
    finally:
        engine.dispose()


def _refuse_non_empty(engine: Engine, *, created: bool) -> None:
    """Refuse a target with tables holding tasks or accounts (a fresh file is fine)."""
    if not created or "tasks" not in inspect(engine).get_table_names():
        return
    if not is_empty(Store(engine)):
        raise TrackerError("目标数据库已有任务或账号：只能恢复到空数据库")


def _portable_load(engine: Engine, file: Path) -> None:
    with gzip.open(file, "rt", encoding="utf-8") as lines:
        header = json.loads(next(lines))
        if header.get("format") != FORMAT:
            raise TrackerError(f"{file} 不是本系统的便携备份")
        if header["schema"] != _schema_revision(engine):
            raise TrackerError(
                f"备份的数据库结构版本 {header['schema']} 与本程序的 "
                f"{_schema_revision(engine)} 不同：请用同一版本恢复"
            )
        tables = Base.metadata.tables
        with engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(delete(StoreMeta))  # the migration's seeded revision row
            table: Table | None = None
            columns: list[str] = []
            batch: list[dict] = []
            for line in lines:
                item = json.loads(line)
                if isinstance(item, dict) or len(batch) >= 1000:
                    if batch and table is not None:
                        conn.execute(insert(table), batch)
                    batch = []
                if isinstance(item, dict):
                    table, columns = tables[item["table"]], item["columns"]
                    continue
                batch.append(dict(zip(columns, (_decode(v) for v in item), strict=True)))
            if batch and table is not None:
                conn.execute(insert(table), batch)
            if engine.dialect.name == "postgresql":
                _reset_sequences(conn)


def _reset_sequences(conn) -> None:
    """After explicit ids were inserted, move each serial column's sequence past them."""
    for table in Base.metadata.sorted_tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                column.autoincrement == "auto" and column.type.python_type is int
            ):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                )
