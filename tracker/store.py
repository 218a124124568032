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

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

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
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlalchemy.pool import StaticPool

from tracker import config
from tracker.accounts import Account, Accounts
from tracker.apply_plan import (
    DIFF_COLUMNS,
    PROGRESS_COLUMNS,
    ApplyPlan,
    ApplyResult,
    history_text,
    plan_apply,
)
from tracker.errors import (
    ConflictError,
    PermissionDenied,
    StoreUnavailable,
    ValidationError,
)
from tracker.events import log_event
from tracker.members import MEMBERS_KEY
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
from tracker.progress import Update, now
from tracker.revisions import RevisionPlan, plan_revision
from tracker.schema import TEXT_FIELDS
from tracker.store_reads import frame_by_ids, rows_by_ids
from tracker.sync import (
    SyncReport,
    chunks,
    fetch_frame,
    frame_digest,
    measure_id_of,
    stored_rows,
    write_measures,
)

# Kept importable from here, where callers have always found them.
__all__ = [
    "DIFF_COLUMNS",
    "PROGRESS_COLUMNS",
    "ApplyResult",
    "Store",
    "SyncReport",
    "database_url",
    "frame_digest",
    "history_text",
    "make_engine",
    "measure_id_of",
]


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

    @contextmanager
    def writing(self) -> Iterator:
        """A write transaction holding the store's writer lock (SQLite: BEGIN IMMEDIATE;
        PostgreSQL: the revision row), for writers beside ``apply`` (supervision steps,
        evidence files), so their checks and the write they allow see no race."""
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(
                select(StoreMeta.value).where(StoreMeta.key == "revision").with_for_update()
            )
            yield conn

    def bump_revision(self, conn) -> None:
        # One atomic UPDATE (the row is seeded by the first migration): two writers committing
        # side by side each move the revision, so no page stays cached on a missed save.
        conn.execute(_BUMP_REVISION)

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

    def structure_key(self, conn) -> tuple[str | None, str | None]:
        """What a per-process cache of rows must also key on besides the history's last id:
        the measures synced and the member rows made (either may move or archive rows)."""
        return self._meta(conn, "measures_digest"), self._meta(conn, MEMBERS_KEY)

    def policy_ids(self) -> set[str]:
        """The ids of the policies the store holds live (not archived by a sync)."""
        with self.engine.connect() as conn:
            return set(conn.scalars(select(Policy.policy_id).where(Policy.archived.is_(False))))

    def plan_sync(self, measures: pd.DataFrame, *, digest: str | None = None) -> RevisionPlan:
        """What :meth:`sync` would do with ``measures``, task by task, without writing.

        Show it (``plan.table()``) and pass the confirmed plan back to :meth:`sync`.
        """
        with self.engine.connect() as conn, conn.begin():
            return plan_revision(
                stored_rows(conn),
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
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            self._lock_revision(conn)
            current = self._meta(conn, "measures_digest")
            if current == digest:
                return SyncReport()
            if plan is None:
                plan = plan_revision(stored_rows(conn), measures, base=current, digest=digest)
            elif plan.base != current:
                raise ConflictError("政策任务已被他人同步或修订，请重新核对差异后再确认")
            account = self.accounts.current(conn, user.username) if user is not None else None
            if plan.needs_confirmation and (account is None or not account.supervises):
                raise PermissionDenied(
                    "本次修订会移动或归档已有任务（及其进度），须由督办员或管理员确认："
                    + plan.summary()
                )
            report = write_measures(
                conn,
                measures,
                plan,
                user=account.username if account else "",
                source=source or f"revision:{digest[:12]}",
            )
            if within is not None:
                within(conn)
            self._set_meta(conn, "measures_digest", digest)
            self.bump_revision(conn)
        return report

    # --- reads ----------------------------------------------------------------------------

    def assignments(self, *, include_archived: bool = False) -> pd.DataFrame:
        """One row per assignment with its task, measure, policy, unit and current progress.

        The result is kept per sync: the next call re-reads only the progress rows that
        saves (anyone's, any process) touched since, found through the append-only history.
        Writers are serialised, so history ids grow in commit order and none is skipped.
        """
        with self.engine.connect() as conn, conn.begin():
            key = (*self.structure_key(conn), include_archived)
            high = conn.scalar(select(func.max(ProgressHistory.history_id))) or 0
            cached = self._loaded if self._loaded and self._loaded.key == key else None
            if cached is None:
                progress = fetch_frame(conn, _progress_query())
            elif cached.high == high:
                return cached.frame.copy(deep=False)
            else:
                touched = select(ProgressHistory.assignment_id).where(
                    ProgressHistory.history_id > cached.high
                )
                progress = fetch_frame(
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
            select(Assignment.__table__).where(*live),  # every column
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
            return [fetch_frame(conn, query) for query in queries]

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
            return fetch_frame(conn, query)

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
        """assignment_id, task_id, unit, version, task_text and what names the task
        (doc_no, policy_title, measure_no, task_seq) for the given task ids (unknown ones
        absent), in one read however many ids (an import's); ``object`` columns."""
        wanted = list(dict.fromkeys(task_ids))
        with self.engine.connect() as conn:
            return frame_by_ids(conn, _FIND_ASSIGNMENTS, Assignment.task_id, wanted)

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
        deadline.  A row of another unit that would change something is refused by row
        (:class:`PermissionDenied` for the whole batch unless ``partial``); one that leaves
        the stored values as they are (a whole report sent back by one unit) is skipped and
        counted in ``other_units_unchanged``.

        The steps: lock, read the account and the rows, decide (:func:`plan_apply`, a pure
        function), then raise the plan's refusal or write it.
        """
        if not isinstance(user, Account):
            raise PermissionDenied("请先登录：每次保存都必须对应一个已登录的账号")
        at = at or now()
        with self.engine.connect().execution_options(write=True) as conn:
            tx = conn.begin()
            try:
                plan = self._plan(conn, user, updates, at=at, source=source, dry_run=dry_run)
                refusal = plan.refusal(partial=partial)
                if refusal is not None:
                    raise refusal
                if dry_run or not plan.writes:
                    tx.rollback()  # nothing to keep (the revision moved only to lock)
                else:
                    self._write(conn, plan)
                    tx.commit()
            except BaseException:
                if tx.is_active:
                    tx.rollback()
                raise
        if plan.writes and not dry_run:
            log_event("save", user.username, rows=len(plan.writes), source=source)
        return ApplyResult(
            plan.diffs,
            plan.refused(),
            plan.conflicts,
            plan.warnings,
            dry_run,
            other_units_unchanged=plan.foreign_unchanged,
        )

    def _plan(
        self,
        conn,
        user: Account,
        updates: Sequence[Update],
        *,
        at: datetime,
        source: str,
        dry_run: bool,
    ) -> ApplyPlan:
        """Lock, read the account as stored and the rows ``updates`` touch, and plan."""
        account = self.accounts.current(conn, user.username)
        current: dict[int, dict] = {}
        if account.writes:
            if not dry_run:
                # One writer at a time, from here to commit: history ids then grow in commit
                # order, which lets readers fetch "what changed since id N".  Moving the
                # revision first takes that lock (PostgreSQL: the row's; SQLite writers
                # hold the database's) and saves a separate locking read.
                self.bump_revision(conn)
            current = self._locked_rows(conn, [int(u.assignment_id) for u in updates])
        return plan_apply(account, current, updates, at=at, source=source)

    def _locked_rows(self, conn, ids: list[int]) -> dict[int, dict]:
        """Current progress of the given assignments, locked until the transaction ends
        (one statement for any number of ids: :mod:`tracker.store_reads`)."""
        rows = rows_by_ids(conn, _LOCK_ROWS, Progress.assignment_id, sorted(set(ids)))
        return {int(row["assignment_id"]): row for row in rows}

    def _write(self, conn, plan: ApplyPlan) -> None:
        """One executemany UPDATE guarded by version, one INSERT of history, one upsert of
        this period's snapshots."""
        stamp = {"w_by": plan.username, "w_at": plan.at, "w_period": plan.period}
        params = [
            {"w_id": w.assignment_id, "w_version": w.version, **w.state, **stamp}
            for w in plan.writes
        ]
        result = conn.execute(_SAVE_PROGRESS, params)
        if conn.dialect.supports_sane_multi_rowcount and result.rowcount != len(params):
            # Cannot happen while the rows are locked; never write blind if it does.
            raise ConflictError("任务已被他人修改，本批次未保存任何修改")
        conn.execute(insert(ProgressHistory), plan.history_rows())
        snapshots = plan.snapshot_rows()
        upsert = _SNAPSHOT_UPSERT.get(conn.dialect.name)
        if upsert is not None:
            conn.execute(upsert, snapshots)
            return
        for chunk in chunks([row["assignment_id"] for row in snapshots], 5000):
            conn.execute(
                delete(ProgressSnapshot).where(
                    ProgressSnapshot.period == plan.period,
                    ProgressSnapshot.assignment_id.in_(chunk),
                )
            )
        conn.execute(insert(ProgressSnapshot), snapshots)


_PROGRESS_KEYS = [
    "assignment_id",
    *PROGRESS_COLUMNS,
    "updated_by",
    "updated_at",
    "version",
]


# The write path's statements, built once: building a Core statement costs more Python than
# a one-row save spends in the database.
_BUMP_REVISION = (
    update(StoreMeta)
    .where(StoreMeta.key == "revision")
    .values(value=cast(cast(StoreMeta.value, Integer) + 1, Text))
)
_MEMBER = aliased(Assignment)
_LOCK_ROWS = (
    select(
        *(getattr(Progress, c) for c in _PROGRESS_KEYS),
        Assignment.task_id,
        Assignment.unit,
        Policy.issue_date,
        # A row with live members is their roll-up: plan_apply refuses to write it.
        exists()
        .where(_MEMBER.collective_id == Assignment.assignment_id, _MEMBER.archived.is_(False))
        .label("rollup"),
        Policy.effective_from,
        Policy.effective_to,
    )
    .join(Assignment, Assignment.assignment_id == Progress.assignment_id)
    .join(Task, Task.task_id == Assignment.task_id)
    .join(Measure, Measure.measure_id == Task.measure_id)
    .join(Policy, Policy.policy_id == Measure.policy_id)
    .where(Assignment.archived.is_(False))
    .with_for_update(of=Progress)
)
_FIND_ASSIGNMENTS = (
    select(
        Assignment.assignment_id,
        Assignment.task_id,
        Assignment.unit,
        Progress.version,
        Task.task_text,
        Task.task_seq,
        Measure.measure_no,
        Policy.doc_no,
        Policy.title.label("policy_title"),
    )
    .join(Progress, Progress.assignment_id == Assignment.assignment_id)
    .join(Task, Task.task_id == Assignment.task_id)
    .join(Measure, Measure.measure_id == Task.measure_id)
    .join(Policy, Policy.policy_id == Measure.policy_id)
    .where(Assignment.archived.is_(False))
)
_SAVE_PROGRESS = (
    update(Progress)
    .where(
        Progress.assignment_id == bindparam("w_id"),
        Progress.version == bindparam("w_version"),
    )
    .values(
        {name: bindparam(name) for name in PROGRESS_COLUMNS}
        | {
            "updated_by": bindparam("w_by"),
            "updated_at": bindparam("w_at"),
            "period": bindparam("w_period"),
            "version": Progress.version + 1,
        }
    )
)


def _snapshot_upsert(insert_of) -> object:
    """INSERT … ON CONFLICT (period, assignment_id) DO UPDATE: the last save in a period
    wins, in one statement instead of a DELETE and an INSERT."""
    statement = insert_of(ProgressSnapshot)
    return statement.on_conflict_do_update(
        index_elements=[ProgressSnapshot.period, ProgressSnapshot.assignment_id],
        set_={
            "status": statement.excluded.status,
            "percent": statement.excluded.percent,
            "updated_at": statement.excluded.updated_at,
        },
    )


_SNAPSHOT_UPSERT = {
    "postgresql": _snapshot_upsert(postgresql.insert),
    "sqlite": _snapshot_upsert(sqlite.insert),
}


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
    "collective_id",  # the collective row a member's row belongs to; 0 for none
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
    if "collective_id" in df:
        df["collective_id"] = df["collective_id"].fillna(0)
    for column in (
        "assignment_id",
        "collective_id",
        "percent",
        "version",
        "measure_no",
        "task_seq",
        "unit_rank",
    ):
        if column in df:
            df[column] = df[column].astype("int64")
    return df
