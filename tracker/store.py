"""The progress store: policies, tasks and assignments synced from a measures table, the
current progress of every assignment, and an append-only history of every change.

>>> store = Store.open("sqlite://")            # in memory: the tables, no tasks yet
>>> len(store.assignments())
0
>>> report = store.sync(measures)               # doctest: +SKIP
>>> df = store.assignments()                    # doctest: +SKIP
>>> store.apply([Update(df.assignment_id[0], df.version[0], {"status": "推进中"})],
...             user="张三", source="web")       # doctest: +SKIP

Every write goes through :meth:`Store.apply`: it validates all updates, checks that each
row is still at the version the editor loaded (optimistic concurrency), writes the changed
fields and their history in one transaction, or writes nothing.

The store reads and writes the database only: syncing it from ``data/measures.csv`` is
:mod:`loaders.store_sync`'s job, and ``lead_unit`` and ``light`` are derived from its rows
by :func:`tracker.aggregate.derive`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import TypedDict

import pandas as pd
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Text,
    bindparam,
    cast,
    create_engine,
    delete,
    event,
    exc,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.pool import StaticPool

from tracker import config
from tracker.accounts import Account, Accounts
from tracker.errors import (
    Conflict,
    ConflictError,
    PermissionDenied,
    Problem,
    StoreUnavailable,
    ValidationError,
)
from tracker.events import log_event
from tracker.models import (
    Assignment,
    Measure,
    Policy,
    Progress,
    ProgressHistory,
    ProgressSnapshot,
    StoreMeta,
    Task,
    Unit,
)
from tracker.progress import Update, check_progress, is_blank, normalize_value, now, period_of
from tracker.revisions import (
    ADDED,
    CHANGED,
    MOVED,
    REMOVED,
    RESTORED,
    RevisionPlan,
    plan_revision,
)
from tracker.schema import DONE, PROGRESS_FIELDS, STATUS_LABELS, TEXT_FIELDS

PROGRESS_COLUMNS = list(PROGRESS_FIELDS)  # the fields an update may change


def database_url(url: str | None = None) -> str:
    """``url``, else ``DATABASE_URL``, else the embedded SQLite file ``data/tracker.db``."""
    return url or str(config.value("DATABASE_URL"))


def make_engine(url: str | None = None, **kwargs) -> Engine:
    """An engine for SQLite (WAL, foreign keys, BEGIN IMMEDIATE for writes) or PostgreSQL."""
    url = database_url(url)
    if not url.startswith("sqlite"):
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        event.listen(engine, "handle_error", _database_trouble)
        return engine
    if url in ("sqlite://", "sqlite:///:memory:"):
        kwargs.setdefault("poolclass", StaticPool)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy own transactions (pysqlite's implicit BEGIN would defer the write lock).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # Writers take the lock up front so two editors serialise instead of failing mid-way.
        mode = "IMMEDIATE" if conn.get_execution_options().get("write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    event.listen(engine, "handle_error", _database_trouble)
    return engine


def _database_trouble(context) -> None:
    """Turn a database that cannot be used (read-only, full, locked, unreachable) or that
    refuses a value into a :class:`TrackerError` with a message, instead of a traceback."""
    error = context.sqlalchemy_exception
    detail = str(getattr(error, "orig", error)).strip().splitlines()[0][:200]
    if isinstance(error, exc.OperationalError):
        raise StoreUnavailable(f"数据库暂不可用，未保存任何修改（{detail}）") from error
    if isinstance(error, exc.DataError):
        raise ValidationError(f"数据库拒绝了该值，未保存任何修改（{detail}）") from error


@dataclass
class SyncReport:
    added_tasks: int = 0
    added_assignments: int = 0
    archived_tasks: int = 0
    archived_assignments: int = 0
    restored: int = 0
    moved_tasks: int = 0
    changed_tasks: int = 0

    @property
    def changed(self) -> bool:
        return any(vars(self).values())


@dataclass
class ApplyResult:
    """What a batch did (or, for a dry run, would do)."""

    diffs: pd.DataFrame  # one row per changed field: assignment_id, task_id, unit, field, old, new
    problems: list[Problem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed_assignments(self) -> int:
        return int(self.diffs["assignment_id"].nunique()) if len(self.diffs) else 0


DIFF_COLUMNS = ["assignment_id", "task_id", "unit", "field", "old", "new", "row"]


class _Where(TypedDict, total=False):
    """Where a refused update sits, as :class:`Problem` takes it."""

    row: int | None
    sheet: str | None
    task_id: str | None


def history_text(value: object) -> str:
    """A value as ``progress_history`` stores it: ISO dates, "" for nothing."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _to_date(value: object) -> date | None:
    return None if is_blank(value) else date.fromisoformat(str(value)[:10])


class Store:
    """All reads and writes of the tracker database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._loaded: _Loaded | None = None  # the last assignments() result, see there

    @classmethod
    def open(cls, url: str | None = None, *, measures: pd.DataFrame | None = None) -> Store:
        """Open the database (creating or migrating its tables) and sync ``measures`` if given.

        Syncing from ``data/measures.csv`` is the loaders' job: the app and the CLI open the
        store with :func:`loaders.store_sync.open_store` (one digest of the file's bytes, and
        a revision that moves or archives stored tasks waits for a supervisor).
        """
        store = cls(make_engine(url))
        store.create_schema()
        if measures is not None:
            store.sync(measures)
        return store

    def create_schema(self) -> None:
        """Apply the Alembic migrations: creates every table on an empty database and
        upgrades an older one, the same way on SQLite and PostgreSQL."""
        config = AlembicConfig()
        config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self.engine.connect().execution_options(write=True) as conn:
            # Servers started side by side on an empty database would each create the
            # tables: the first takes the write lock (SQLite: BEGIN IMMEDIATE, PostgreSQL:
            # an advisory lock) before alembic looks, the rest then find them made.
            conn.begin()
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7324501)")
            config.attributes["connection"] = conn
            alembic_command.upgrade(config, "head")
            conn.commit()

    @property
    def accounts(self) -> Accounts:
        """Who may sign in, with which role and units."""
        return Accounts(self.engine)

    # --- revision: a cheap cache key that moves on every write ------------------

    def revision(self) -> int:
        with self.engine.connect() as conn:
            value = conn.scalar(select(StoreMeta.value).where(StoreMeta.key == "revision"))
        return int(value or 0)

    def _bump_revision(self, conn) -> None:
        # One atomic UPDATE (the row is seeded by the first migration): two writers committing
        # side by side each move the revision, so no page stays cached on a missed save.
        conn.execute(
            update(StoreMeta)
            .where(StoreMeta.key == "revision")
            .values(value=cast(cast(StoreMeta.value, Integer) + 1, Text))
        )

    def _lock_revision(self, conn) -> None:
        """Serialise writers on PostgreSQL (SQLite writers already hold the database lock)."""
        conn.execute(select(StoreMeta.value).where(StoreMeta.key == "revision").with_for_update())

    def _meta(self, conn, key: str) -> str | None:
        return conn.scalar(select(StoreMeta.value).where(StoreMeta.key == key))

    def _set_meta(self, conn, key: str, value: str) -> None:
        if self._meta(conn, key) is None:
            conn.execute(insert(StoreMeta).values(key=key, value=value))
        else:
            conn.execute(update(StoreMeta).where(StoreMeta.key == key).values(value=value))

    # --- sync from measures.csv -----------------------------------------------------

    def content_digest(self) -> str | None:
        """Digest of the measures content the store was last synced to (None: never)."""
        with self.engine.connect() as conn:
            return self._meta(conn, "measures_digest")

    def plan_sync(self, measures: pd.DataFrame, *, digest: str | None = None) -> RevisionPlan:
        """What :meth:`sync` would do with ``measures``, task by task, without writing.

        Show it (``plan.table()``) and pass the confirmed plan back to :meth:`sync`.
        """
        with self.engine.connect() as conn, conn.begin():
            return plan_revision(
                self._stored_rows(conn),
                measures,
                base=self._meta(conn, "measures_digest"),
                digest=digest or frame_digest(measures),
            )

    def sync(
        self,
        measures: pd.DataFrame,
        *,
        plan: RevisionPlan | None = None,
        user: Account | None = None,
        source: str | None = None,
        digest: str | None = None,
        within: Callable[[Connection], None] | None = None,
    ) -> SyncReport:
        """Bring policies, tasks and assignments in line with ``measures`` (measures.csv).

        Tasks are matched by content (:mod:`tracker.revisions`), not by their positional id:
        a stored task's assignments - with their progress and history - move to the id its
        text has now; a stored task no longer in the sources is archived under an id of its
        own (``<id>~1``), never deleted.  Every assignment that moves, changes text, is
        archived or comes back gets a history row (field ``task_id``, ``task_text`` or
        ``archived``) naming ``source``.

        ``plan`` is the confirmed result of :meth:`plan_sync`; it is refused (ConflictError)
        when the store has been synced since.  A plan that moves or archives stored tasks
        (``plan.needs_confirmation``) needs ``user``, a 督办员 or admin.  Idempotent: the
        same content (``digest``, default a hash of the frame) returns at once.
        ``within(conn)`` runs in the same transaction, after the tasks are written (the
        policy sources of a publish, :mod:`tracker.sources`): all of it commits or none.
        """
        digest = plan.digest if plan is not None else digest or frame_digest(measures)
        report = SyncReport()
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            self._lock_revision(conn)
            current = self._meta(conn, "measures_digest")
            if current == digest:
                return report
            if plan is None:
                plan = plan_revision(self._stored_rows(conn), measures, base=current, digest=digest)
            elif plan.base != current:
                raise ConflictError("政策任务已被他人同步或修订，请重新核对差异后再确认")
            account = self.accounts.current(conn, user.username) if user is not None else None
            if plan.needs_confirmation and (account is None or not account.supervises):
                raise PermissionDenied(
                    "本次修订会移动或归档已有任务（及其进度），须由督办员或管理员确认："
                    + plan.summary()
                )
            history = _RevisionHistory(
                conn,
                user=account.username if account else "",
                source=source or f"revision:{digest[:12]}",
            )
            self._sync_policies(conn, measures)
            self._sync_units(conn, measures)
            self._sync_measures(conn, measures)
            self._sync_tasks(conn, measures, plan, history)
            self._sync_assignments(conn, measures, report, history)
            history.write()
            if within is not None:
                within(conn)
            counts = plan.counts()
            report.added_tasks = counts[ADDED]
            report.archived_tasks = counts[REMOVED]
            report.moved_tasks = counts[MOVED]
            report.changed_tasks = counts[CHANGED]
            report.restored += counts[RESTORED]
            self._set_meta(conn, "measures_digest", digest)
            self._bump_revision(conn)
        return report

    def _stored_rows(self, conn) -> pd.DataFrame:
        """Every stored task with its units, in the shape :func:`plan_revision` reads: a
        live task with its live assignments, an archived one with all of them."""
        rows = _fetch(
            conn,
            select(
                Measure.policy_id,
                Measure.measure_no,
                Task.task_id,
                Task.task_seq,
                Task.task_text,
                Task.archived,
                Assignment.unit,
                Assignment.role,
                Assignment.unit_rank,
                Assignment.archived.label("assignment_archived"),
                (Progress.version > 0).label("reported"),
            )
            .join(Measure, Measure.measure_id == Task.measure_id)
            .join(Assignment, Assignment.task_id == Task.task_id)
            .join(Progress, Progress.assignment_id == Assignment.assignment_id),
        )
        for column in ("archived", "assignment_archived", "reported"):
            rows[column] = rows[column].astype(bool)
        return rows[rows["archived"] | ~rows["assignment_archived"]]

    def _upsert(self, conn, model, key: str, rows: list[dict]) -> set:
        """Insert rows whose key is new, update changed ones; return every key now stored."""
        if not rows:
            return set(conn.execute(select(getattr(model, key))).scalars())
        names = list(rows[0])
        stored = {r[0]: tuple(r) for r in conn.execute(select(*(getattr(model, n) for n in names)))}
        new = [r for r in rows if r[key] not in stored]
        if new:
            conn.execute(insert(model), new)
        for r in rows:
            if r[key] in stored and stored[r[key]] != tuple(r.values()):
                conn.execute(update(model).where(getattr(model, key) == r[key]).values(r))
        return set(stored) | {r[key] for r in new}

    def _sync_policies(self, conn, measures: pd.DataFrame) -> None:
        policies = measures.drop_duplicates("policy_id")
        rows = [
            {
                "policy_id": r.policy_id,
                "title": r.policy_title,
                "doc_no": r.doc_no,
                "issuer": r.issuer,
                "issue_date": _to_date(r.issue_date),
                "effective_from": _to_date(r.effective_from),
                "effective_to": _to_date(r.effective_to),
                "source_url": r.source_url,
                "archived": False,
            }
            for r in policies.itertuples()
        ]
        present = self._upsert(conn, Policy, "policy_id", rows)
        gone = present - {r["policy_id"] for r in rows}
        if gone:
            conn.execute(update(Policy).where(Policy.policy_id.in_(gone)).values(archived=True))

    def _sync_units(self, conn, measures: pd.DataFrame) -> None:
        units = measures.drop_duplicates("unit")
        rows = [
            {"unit": r.unit, "full_name": r.unit_full_name, "kind": r.unit_kind}
            for r in units.itertuples()
        ]
        self._upsert(conn, Unit, "unit", rows)

    def _sync_measures(self, conn, measures: pd.DataFrame) -> None:
        rows = [
            {
                "measure_id": measure_id_of(m["policy_id"], m["measure_no"]),
                "policy_id": m["policy_id"],
                "section_no": int(m["section_no"]),
                "section_title": m["section_title"],
                "measure_no": int(m["measure_no"]),
                "measure_title": m["measure_title"],
                "archived": False,
            }
            for m in measures.drop_duplicates(["policy_id", "measure_no"]).to_dict("records")
        ]
        present = self._upsert(conn, Measure, "measure_id", rows)
        gone = present - {r["measure_id"] for r in rows}
        if gone:
            conn.execute(update(Measure).where(Measure.measure_id.in_(gone)).values(archived=True))

    def _sync_tasks(
        self, conn, measures: pd.DataFrame, plan: RevisionPlan, history: _RevisionHistory
    ) -> None:
        """Re-key stored tasks as ``plan`` says, then write the incoming tasks.

        Assignments leave every id that changes hands before any task text is written:
        a matched task's go to a holding id and then to the id its text has now; a removed
        (or evicted archived) task keeps them under ``<id>~N``, archived.  So no text is
        ever rewritten under assignments that were reported for another task.
        """
        rows = [
            {
                "task_id": t["task_id"],
                "measure_id": measure_id_of(t["policy_id"], t["measure_no"]),
                "task_seq": int(t["task_seq"]),
                "task_text": t["task_text"],
                "archived": False,
            }
            for t in measures.drop_duplicates("task_id").to_dict("records")
        ]
        incoming = {r["task_id"] for r in rows}
        moves = plan.moves
        retired = [c.old_task_id for c in plan.of_kind(REMOVED)] + list(plan.evicted)
        stored = {
            r.task_id: r
            for r in conn.execute(
                select(Task.task_id, Task.measure_id, Task.task_seq, Task.task_text)
            )
        }
        taken = set(stored)
        held: dict[str, str] = {}
        for old in [*moves, *retired]:
            hold = _free_id(old, taken)
            row = stored[old]
            conn.execute(
                insert(Task).values(
                    task_id=hold,
                    measure_id=row.measure_id,
                    task_seq=row.task_seq,
                    task_text=row.task_text,
                    archived=True,
                )
            )
            conn.execute(update(Assignment).where(Assignment.task_id == old).values(task_id=hold))
            held[old] = hold
        self._upsert(conn, Task, "task_id", rows)
        for old, new in moves.items():
            conn.execute(
                update(Assignment).where(Assignment.task_id == held[old]).values(task_id=new)
            )
            conn.execute(delete(Task).where(Task.task_id == held[old]))
            history.moved(held_as=new, old=old, new=new)
        for old in retired:
            history.moved(held_as=held[old], old=old, new=held[old])
        vacated = [old for old in held if old not in incoming]
        if vacated:  # their assignments live on under another id; nothing refers to them
            conn.execute(delete(Task).where(Task.task_id.in_(vacated)))
        for change in plan.of_kind(CHANGED, RESTORED):
            if change.old_text != change.new_text:
                history.reworded(change.new_task_id, change.old_text, change.new_text)
        conn.execute(
            update(Task)
            .where(Task.task_id.not_in(incoming), Task.archived.is_(False))
            .values(archived=True)
        )

    def _sync_assignments(
        self, conn, measures: pd.DataFrame, report: SyncReport, history: _RevisionHistory
    ) -> None:
        existing = {
            (r.task_id, r.unit): r
            for r in conn.execute(
                select(
                    Assignment.assignment_id,
                    Assignment.task_id,
                    Assignment.unit,
                    Assignment.role,
                    Assignment.unit_rank,
                    Assignment.archived,
                )
            )
        }
        wanted = {
            (task_id, unit): (role, int(rank))
            for task_id, unit, role, rank in zip(
                measures["task_id"],
                measures["unit"],
                measures["role"],
                measures["unit_rank"],
                strict=True,
            )
        }
        assigned_at = now()
        new = [
            {
                "task_id": t,
                "unit": u,
                "role": role,
                "unit_rank": rank,
                "archived": False,
                "assigned_at": assigned_at,
            }
            for (t, u), (role, rank) in wanted.items()
            if (t, u) not in existing
        ]
        if new:
            conn.execute(insert(Assignment), new)
            fresh = conn.execute(
                select(Assignment.assignment_id, Assignment.task_id)
                .outerjoin(Progress, Progress.assignment_id == Assignment.assignment_id)
                .where(Progress.assignment_id.is_(None))
            ).all()
            # The deadline the policy text states (measures.csv ``due_hint``) is proposed as
            # the first 完成时限; from then on only a supervisor changes it.
            hints = _due_hints(measures)
            conn.execute(
                insert(Progress),
                [
                    {
                        "assignment_id": i,
                        "status": "not_started",
                        "percent": 0,
                        "due_date": hints.get(t),
                    }
                    for i, t in fresh
                ],
            )
        for key, row in existing.items():
            if key in wanted:
                role, rank = wanted[key]
                if row.archived or row.role != role or row.unit_rank != rank:
                    conn.execute(
                        update(Assignment)
                        .where(Assignment.assignment_id == row.assignment_id)
                        .values(role=role, unit_rank=rank, archived=False)
                    )
                    if row.archived:
                        report.restored += 1
                        history.archived(row.assignment_id, False)
            elif not row.archived:
                conn.execute(
                    update(Assignment)
                    .where(Assignment.assignment_id == row.assignment_id)
                    .values(archived=True)
                )
                report.archived_assignments += 1
                history.archived(row.assignment_id, True)
        report.added_assignments = len(new)

    # --- reads ----------------------------------------------------------------------------

    def assignments(self, *, include_archived: bool = False) -> pd.DataFrame:
        """One row per assignment with its task, measure, policy, unit and current progress.

        The result is kept per sync: the next call re-reads only the progress rows that
        saves (anyone's, any process) touched since, found through the append-only history.
        Writers are serialised, so history ids grow in commit order and none is skipped.
        """
        with self.engine.connect() as conn, conn.begin():
            key = (self._meta(conn, "measures_digest"), include_archived)
            high = conn.scalar(select(func.max(ProgressHistory.history_id))) or 0
            cached = self._loaded if self._loaded and self._loaded.key == key else None
            if cached is None:
                progress = _fetch(conn, _progress_query())
            elif cached.high == high:
                return cached.frame.copy(deep=False)
            else:
                touched = select(ProgressHistory.assignment_id).where(
                    ProgressHistory.history_id > cached.high
                )
                progress = _fetch(
                    conn, _progress_query().where(Progress.assignment_id.in_(touched))
                )
        progress = _typed(progress)
        if cached is None:
            structure = self._structure(include_archived)
            frame = structure.merge(progress, on="assignment_id", how="inner")
            frame = frame.reindex(columns=ASSIGNMENT_COLUMNS)
        else:
            frame = _patched(cached.frame, cached.positions, progress)
        positions = pd.Series(range(len(frame)), index=frame["assignment_id"].to_numpy())
        self._loaded = _Loaded(key, high, frame, positions)
        return frame.copy(deep=False)

    def _structure(self, include_archived: bool) -> pd.DataFrame:
        """Task, measure, policy and unit of every assignment (changes only with a sync)."""
        live = [] if include_archived else [Assignment.archived.is_(False)]
        live_tasks = [] if include_archived else [Task.archived.is_(False)]
        # Each table on its own, joined in pandas: a wide SQL join would ship every task text
        # once per unit and costs several times more at 100,000 rows.
        assignments, tasks, measures, policies, units = self._read_frames(
            select(
                Assignment.assignment_id,
                Assignment.task_id,
                Assignment.unit,
                Assignment.role,
                Assignment.unit_rank,
                Assignment.archived,
                Assignment.assigned_at,
            ).where(*live),
            select(Task.task_id, Task.measure_id, Task.task_seq, Task.task_text).where(*live_tasks),
            select(
                Measure.measure_id,
                Measure.policy_id,
                Measure.section_no,
                Measure.section_title,
                Measure.measure_no,
                Measure.measure_title,
            ),
            select(
                Policy.policy_id,
                Policy.title.label("policy_title"),
                Policy.doc_no,
                Policy.issue_date,
                Policy.effective_from,
                Policy.effective_to,
            ),
            select(Unit.unit, Unit.full_name.label("unit_full_name"), Unit.kind.label("unit_kind")),
        )
        structure = (
            assignments.merge(
                tasks.merge(measures, on="measure_id").merge(policies, on="policy_id"),
                on="task_id",
            )
            .merge(units, on="unit")
            .sort_values(["policy_id", "measure_no", "task_seq", "unit_rank"], kind="stable")
            .reset_index(drop=True)
        )
        return _typed(structure)

    def _read_frames(self, *queries) -> list[pd.DataFrame]:
        """Bulk reads in one consistent snapshot, through the driver's cursor.

        (ADBC reads SQLite into Arrow three times faster, but it ships its own SQLite
        library, and two SQLite copies in one process break each other's file locks.)
        """
        with self.engine.connect() as conn, conn.begin():
            return [_fetch(conn, query) for query in queries]

    def history(
        self,
        *,
        assignment_ids: Sequence[int] | None = None,
        task_id: str | None = None,
        units: Sequence[str] | None = None,
        users: Sequence[str] | None = None,
        policies: Sequence[str] | None = None,
        fields: Sequence[str] | None = None,
        since: date | None = None,
        until: date | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Change log, newest first: who changed which field from what to what, when, how.

        Every filter is optional; ``since``/``until`` are calendar days, both included.
        """
        query = (
            select(
                ProgressHistory.history_id,
                ProgressHistory.assignment_id,
                Assignment.task_id,
                Measure.policy_id,
                Assignment.unit,
                ProgressHistory.field,
                ProgressHistory.old_value,
                ProgressHistory.new_value,
                ProgressHistory.changed_by,
                ProgressHistory.changed_at,
                ProgressHistory.source,
                ProgressHistory.period,
                ProgressHistory.version,
            )
            .join(Assignment, Assignment.assignment_id == ProgressHistory.assignment_id)
            .join(Task, Task.task_id == Assignment.task_id)
            .join(Measure, Measure.measure_id == Task.measure_id)
            .order_by(ProgressHistory.history_id.desc())
        )
        if assignment_ids is not None:
            query = query.where(ProgressHistory.assignment_id.in_([int(i) for i in assignment_ids]))
        if task_id is not None:
            query = query.where(Assignment.task_id == task_id)
        for column, wanted in (
            (Assignment.unit, units),
            (ProgressHistory.changed_by, users),
            (Measure.policy_id, policies),
            (ProgressHistory.field, fields),
        ):
            if wanted is not None:
                query = query.where(column.in_(list(wanted)))
        if since is not None:
            query = query.where(ProgressHistory.changed_at >= datetime.combine(since, time.min))
        if until is not None:
            query = query.where(ProgressHistory.changed_at <= datetime.combine(until, time.max))
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return _fetch(conn, query)

    def snapshots(self, *, unit: str | None = None) -> pd.DataFrame:
        """Per-period state of each assignment (for trend charts), optionally one unit's."""
        query = select(ProgressSnapshot.__table__).order_by(ProgressSnapshot.period)
        if unit is not None:
            query = query.join(
                Assignment, Assignment.assignment_id == ProgressSnapshot.assignment_id
            ).where(Assignment.unit == unit)
        with self.engine.connect() as conn:
            return _frame(conn.execute(query))

    def find_assignments(self, task_ids: Iterable[str]) -> pd.DataFrame:
        """assignment_id, task_id, unit, version, task_text for the given task ids (unknown
        ones absent)."""
        wanted = list(dict.fromkeys(task_ids))
        with self.engine.connect() as conn:
            return _frame(
                conn.execute(
                    select(
                        Assignment.assignment_id,
                        Assignment.task_id,
                        Assignment.unit,
                        Progress.version,
                        Task.task_text,
                    )
                    .join(Progress, Progress.assignment_id == Assignment.assignment_id)
                    .join(Task, Task.task_id == Assignment.task_id)
                    .where(Assignment.task_id.in_(wanted), Assignment.archived.is_(False))
                )
            )

    # --- writes ----------------------------------------------------------------------------

    def apply(
        self,
        updates: Sequence[Update],
        *,
        user: Account,
        source: str,
        partial: bool = False,
        dry_run: bool = False,
        at: datetime | None = None,
    ) -> ApplyResult:
        """Validate and write a batch of updates in one transaction, as ``user``.

        All or nothing by default: any invalid value raises :class:`ValidationError`, any
        stale row raises :class:`ConflictError`, and nothing is written.  With
        ``partial=True`` valid rows are written and the refused ones are reported in the
        result.  ``dry_run=True`` computes exactly the same result and writes nothing.
        Unchanged values are not written and leave no history (re-applying is a no-op).

        Rights are checked here, against the account as stored now (not the object passed
        in): a 领导 account writes nothing, a 填报员 only its own units' rows and never a
        deadline.  A row of another unit refuses the whole batch (:class:`PermissionDenied`,
        naming each such row), whatever ``partial`` says: such a file is not the sender's.
        """
        if not isinstance(user, Account):
            raise PermissionDenied("请先登录：每次保存都必须对应一个已登录的账号")
        at = at or now()
        source = source if len(source) <= 200 else source[:199] + "…"
        period = period_of(at.date())
        problems: list[Problem] = []
        conflicts: list[Conflict] = []
        warnings: list[Problem] = []
        diffs: list[tuple] = []
        writes: list[tuple[Update, dict, dict]] = []
        ids = [int(u.assignment_id) for u in updates]
        with self.engine.connect().execution_options(write=True) as conn:
            tx = conn.begin()
            try:
                account = self.accounts.current(conn, user.username)
                if not account.writes:
                    raise PermissionDenied(
                        f"账号 {account.username}（领导）只能查看和导出，不能修改"
                    )
                if not dry_run:
                    # One writer at a time, from here to commit: history ids then grow in
                    # commit order, which lets readers fetch "what changed since id N".
                    self._lock_revision(conn)
                current = self._locked_rows(conn, ids)
                self._authorize(account, updates, current)
                seen: dict[int, Update] = {}
                for upd in updates:
                    aid = int(upd.assignment_id)
                    where: _Where = {"row": upd.row, "sheet": upd.sheet}
                    row = current.get(aid)
                    if row is None:
                        problems.append(Problem(f"未知的任务分工编号 {aid}", **where))
                        continue
                    where["task_id"] = row["task_id"]
                    if aid in seen:
                        problems.append(Problem("同一任务分工出现多次", **where))
                        continue
                    seen[aid] = upd
                    new_state, changed, bad = self._merge(row, upd, where)
                    if "due_date" in changed and not account.supervises:
                        bad.append(
                            Problem(
                                "完成时限由督办员设定，填报员不能修改",
                                column=PROGRESS_FIELDS["due_date"],
                                value=history_text(changed["due_date"][1]),
                                **where,
                            )
                        )
                    if bad:
                        problems.extend(bad)
                        continue
                    if not changed:
                        continue
                    if int(upd.base_version) != row["version"]:
                        conflicts.append(self._conflict(row, upd, changed))
                        continue
                    errors, warns = check_progress(
                        new_state,
                        effective_from=row["effective_from"],
                        effective_to=row["effective_to"],
                    )
                    if errors:
                        problems.extend(Problem(e, **where) for e in errors)
                        continue
                    warnings.extend(Problem(w, **where) for w in warns)
                    writes.append((upd, row, changed))
                    diffs.extend(
                        (aid, row["task_id"], row["unit"], name, old, new, upd.row)
                        for name, (old, new) in changed.items()
                    )
                if not partial and problems:
                    raise ValidationError(
                        f"{len(problems)} 处数据不符合要求，本批次未保存任何修改",
                        problems,
                    )
                if not partial and conflicts:
                    raise ConflictError(
                        f"{len(conflicts)} 条任务已被他人修改，本批次未保存任何修改",
                        conflicts,
                    )
                if not dry_run and writes:
                    self._write(
                        conn, writes, user=account.username, source=source, at=at, period=period
                    )
                    self._bump_revision(conn)
                if dry_run:
                    tx.rollback()
                else:
                    tx.commit()
            except BaseException:
                if tx.is_active:
                    tx.rollback()
                raise
        if writes and not dry_run:
            log_event("save", user.username, rows=len(writes), source=source)
        return ApplyResult(
            diffs=_diff_frame(diffs),
            problems=problems,
            conflicts=conflicts,
            warnings=warnings,
            dry_run=dry_run,
        )

    @staticmethod
    def _authorize(account: Account, updates: Sequence[Update], current: dict[int, dict]) -> None:
        """Refuse the batch if it touches a row of a unit ``account`` does not report for."""
        foreign = [
            Problem(
                f"无权修改「{row['unit']}」的任务（本账号负责：{'、'.join(sorted(account.units)) or '无'}）",
                row=upd.row,
                sheet=upd.sheet,
                task_id=row["task_id"],
            )
            for upd in updates
            if (row := current.get(int(upd.assignment_id))) is not None
            and not account.may_edit_unit(row["unit"])
        ]
        if foreign:
            raise PermissionDenied(
                f"{len(foreign)} 行属于其他单位，账号 {account.username} 无权修改，"
                "本批次未保存任何修改",
                foreign,
            )

    def _locked_rows(self, conn, ids: list[int]) -> dict[int, dict]:
        """Current progress of the given assignments, locked until the transaction ends."""
        rows: dict[int, dict] = {}
        progress_columns = [getattr(Progress, c) for c in _PROGRESS_KEYS]
        for chunk in _chunks(sorted(set(ids)), 5000):
            query = (
                select(
                    *progress_columns,
                    Assignment.task_id,
                    Assignment.unit,
                    Policy.effective_from,
                    Policy.effective_to,
                )
                .join(Assignment, Assignment.assignment_id == Progress.assignment_id)
                .join(Task, Task.task_id == Assignment.task_id)
                .join(Measure, Measure.measure_id == Task.measure_id)
                .join(Policy, Policy.policy_id == Measure.policy_id)
                .where(Progress.assignment_id.in_(chunk), Assignment.archived.is_(False))
                .with_for_update(of=Progress)
            )
            result = conn.execute(query)
            keys = list(result.keys())
            for values in result.all():
                rows[int(values[0])] = dict(zip(keys, values, strict=True))
        return rows

    @staticmethod
    def _merge(row: dict, upd: Update, where: _Where) -> tuple[dict, dict, list[Problem]]:
        new_state = {name: row[name] for name in PROGRESS_COLUMNS}
        changed: dict[str, tuple[object, object]] = {}
        bad: list[Problem] = []
        for name, value in upd.changes.items():
            if name not in PROGRESS_FIELDS:
                bad.append(Problem("不可修改的字段", column=name, value=value, **where))
                continue
            try:
                new_value = normalize_value(name, value)
            except ValueError as exc:
                bad.append(Problem(str(exc), column=PROGRESS_FIELDS[name], value=value, **where))
                continue
            new_state[name] = new_value
            if new_value != row[name]:
                changed[name] = (row[name], new_value)
        # Marking a task done without touching the percentage means 100%.
        if (
            changed.get("status", (None, None))[1] == DONE
            and "percent" not in upd.changes
            and new_state["percent"] != 100
        ):
            changed["percent"] = (row["percent"], 100)
            new_state["percent"] = 100
        return new_state, changed, bad

    @staticmethod
    def _conflict(row: dict, upd: Update, changed: dict) -> Conflict:
        return Conflict(
            assignment_id=row["assignment_id"],
            task_id=row["task_id"],
            unit=row["unit"],
            base_version=int(upd.base_version),
            current_version=row["version"],
            updated_by=row["updated_by"],
            theirs={PROGRESS_FIELDS[k]: _display(k, row[k]) for k in changed},
            mine={PROGRESS_FIELDS[k]: _display(k, new) for k, (_old, new) in changed.items()},
        )

    def _write(self, conn, writes, *, user: str, source: str, at: datetime, period: str) -> None:
        """One executemany UPDATE guarded by version, one executemany INSERT of history."""
        statement = (
            update(Progress)
            .where(
                Progress.assignment_id == bindparam("w_id"),
                Progress.version == bindparam("w_version"),
            )
            .values(
                {name: bindparam(name) for name in PROGRESS_COLUMNS}
                | {
                    "updated_by": user,
                    "updated_at": at,
                    "period": period,
                    "version": Progress.version + 1,
                }
            )
        )
        params: list[dict[str, object]] = []
        history: list[dict[str, object]] = []
        for _upd, row, changed in writes:
            state = {name: row[name] for name in PROGRESS_COLUMNS}
            state.update({name: new for name, (_old, new) in changed.items()})
            params.append({"w_id": row["assignment_id"], "w_version": row["version"], **state})
            history.extend(
                {
                    "assignment_id": row["assignment_id"],
                    "field": name,
                    "old_value": history_text(old),
                    "new_value": history_text(new),
                    "changed_by": user,
                    "changed_at": at,
                    "source": source,
                    "period": period,
                    "version": row["version"] + 1,
                }
                for name, (old, new) in changed.items()
            )
        result = conn.execute(statement, params)
        if conn.dialect.supports_sane_multi_rowcount and result.rowcount != len(params):
            # Cannot happen while the rows are locked; never write blind if it does.
            raise ConflictError("任务已被他人修改，本批次未保存任何修改")
        conn.execute(insert(ProgressHistory), history)
        self._snapshot(conn, [row["assignment_id"] for _u, row, _c in writes], period)

    def _snapshot(self, conn, assignment_ids: list[int], period: str) -> None:
        for chunk in _chunks(assignment_ids, 5000):
            conn.execute(
                delete(ProgressSnapshot).where(
                    ProgressSnapshot.period == period,
                    ProgressSnapshot.assignment_id.in_(chunk),
                )
            )
            conn.execute(
                insert(ProgressSnapshot).from_select(
                    ["period", "assignment_id", "status", "percent", "updated_at"],
                    select(
                        literal(period, ProgressSnapshot.period.type),
                        Progress.assignment_id,
                        Progress.status,
                        Progress.percent,
                        Progress.updated_at,
                    ).where(Progress.assignment_id.in_(chunk)),
                )
            )


_PROGRESS_KEYS = [
    "assignment_id",
    *PROGRESS_COLUMNS,
    "updated_by",
    "updated_at",
    "version",
]


ASSIGNMENT_COLUMNS = [
    "assignment_id",
    "policy_id",
    "policy_title",
    "doc_no",
    "issue_date",
    "effective_from",
    "effective_to",
    "section_no",
    "section_title",
    "measure_id",
    "measure_no",
    "measure_title",
    "task_id",
    "task_seq",
    "task_text",
    "unit",
    "unit_full_name",
    "unit_kind",
    "role",
    "unit_rank",
    "assigned_at",
    *PROGRESS_COLUMNS,
    "period",
    "updated_by",
    "updated_at",
    "version",
    "archived",
]


def _frame(result) -> pd.DataFrame:
    """A result as a frame; plain tuples, since pandas probes SQLAlchemy rows very slowly."""
    return pd.DataFrame.from_records(
        [tuple(row) for row in result.fetchall()], columns=list(result.keys())
    )


@dataclass
class _Loaded:
    key: tuple  # (sync digest, include_archived)
    high: int  # highest progress_history id the frame reflects
    frame: pd.DataFrame
    positions: pd.Series  # assignment_id -> row position in frame


def _progress_query():
    return select(*(getattr(Progress, c) for c in _PROGRESS_KEYS), Progress.period)


def _patched(frame: pd.DataFrame, positions: pd.Series, fresh: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the progress columns of the rows in ``fresh`` replaced (a new frame)."""
    fresh = fresh[fresh["assignment_id"].isin(positions.index)]
    at = positions.loc[fresh["assignment_id"].to_numpy()].to_numpy()
    out = frame.copy(deep=False)
    for column in fresh.columns.drop("assignment_id"):
        values = out[column].to_numpy(copy=True)
        values[at] = fresh[column].to_numpy()
        out[column] = pd.Series(values, index=out.index, dtype=out[column].dtype)
    return out


def _sql(query, dialect) -> str:
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _fetch(conn, query) -> pd.DataFrame:
    """Run a Core select on the raw DBAPI cursor: plain tuples build a frame far faster."""
    sql = _sql(query, conn.dialect)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
        columns = [d[0] for d in cursor.description]
        return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
    finally:
        cursor.close()


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _diff_frame(diffs: list[tuple]) -> pd.DataFrame:
    """Changed fields with old/new shown as the user reads them (status in Chinese)."""
    frame = pd.DataFrame.from_records(diffs, columns=DIFF_COLUMNS)
    is_status = (frame["field"] == "status").to_numpy()
    for column in ("old", "new"):
        frame[column] = [
            STATUS_LABELS.get(v, v) if status else history_text(v)
            for v, status in zip(frame[column].tolist(), is_status, strict=True)
        ]
    return frame


def _display(name: str, value: object) -> str:
    if name == "status":
        return STATUS_LABELS.get(str(value), history_text(value))
    return history_text(value)


def _due_hints(measures: pd.DataFrame) -> dict[str, date | None]:
    """task_id -> the deadline its policy text states, where the loader found one."""
    if "due_hint" not in measures:
        return {}
    hinted = measures.loc[
        measures["due_hint"].fillna("").astype(str) != "", ["task_id", "due_hint"]
    ]
    return {t: _to_date(d) for t, d in zip(hinted["task_id"], hinted["due_hint"], strict=True)}


def frame_digest(measures: pd.DataFrame) -> str:
    """A digest of a measures frame's content, for callers that sync a frame, not a file
    (the file's own bytes are hashed by :mod:`loaders.store_sync`)."""
    hashed = pd.util.hash_pandas_object(measures.astype(str), index=False)
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()


def _free_id(task_id: str, taken: set[str]) -> str:
    """``<task_id>~N`` with the smallest N not taken (and take it)."""
    base = task_id.split("~")[0]
    n = 1
    while f"{base}~{n}" in taken:
        n += 1
    taken.add(f"{base}~{n}")
    return f"{base}~{n}"


class _RevisionHistory:
    """The history rows one sync writes: an assignment moved to another task id, its task's
    text changed, it was archived or came back.  Values are kept readable: archived is
    否/是, the rest the ids and texts themselves."""

    def __init__(self, conn, *, user: str, source: str) -> None:
        self.conn = conn
        self.user = user
        self.source = source if len(source) <= 200 else source[:199] + "…"
        self.at = now()
        self.period = period_of(self.at.date())
        self.changes: list[tuple[int, str, str, str]] = []

    def _under(self, task_id: str) -> list[int]:
        return list(
            self.conn.execute(
                select(Assignment.assignment_id).where(Assignment.task_id == task_id)
            ).scalars()
        )

    def moved(self, *, held_as: str, old: str, new: str) -> None:
        self.changes.extend((aid, "task_id", old, new) for aid in self._under(held_as))

    def reworded(self, task_id: str, old: str, new: str) -> None:
        self.changes.extend((aid, "task_text", old, new) for aid in self._under(task_id))

    def archived(self, assignment_id: int, archived: bool) -> None:
        old, new = ("否", "是") if archived else ("是", "否")
        self.changes.append((int(assignment_id), "archived", old, new))

    def write(self) -> None:
        if not self.changes:
            return
        if not self.user:  # plans that write history need a confirming account
            raise PermissionDenied("本次修订会改动已有任务，须由督办员或管理员确认")
        ids = sorted({c[0] for c in self.changes})
        versions: dict[int, int] = {}
        for chunk in _chunks(ids, 5000):
            versions.update(
                self.conn.execute(
                    select(Progress.assignment_id, Progress.version).where(
                        Progress.assignment_id.in_(chunk)
                    )
                ).all()
            )
        self.conn.execute(
            insert(ProgressHistory),
            [
                {
                    "assignment_id": aid,
                    "field": name,
                    "old_value": old,
                    "new_value": new,
                    "changed_by": self.user,
                    "changed_at": self.at,
                    "source": self.source,
                    "period": self.period,
                    "version": versions.get(aid, 0),
                }
                for aid, name, old, new in self.changes
            ],
        )


def measure_id_of(policy_id: str, measure_no: int) -> str:
    return f"{policy_id}-m{int(measure_no):02d}"


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Give whichever of the assignment columns ``df`` has their types (SQLite returns
    dates as text and booleans as integers)."""
    for column in (
        "issue_date",
        "effective_from",
        "effective_to",
        "due_date",
        "updated_at",
        "assigned_at",
    ):
        if column in df:
            df[column] = pd.to_datetime(df[column], errors="coerce")
    for column in (*TEXT_FIELDS, "updated_by", "period"):
        if column in df:
            df[column] = df[column].fillna("").astype(str)
    if "archived" in df:
        df["archived"] = df["archived"].astype(bool)
    for column in ("assignment_id", "percent", "version", "measure_no", "task_seq", "unit_rank"):
        if column in df:
            df[column] = df[column].astype("int64")
    return df
