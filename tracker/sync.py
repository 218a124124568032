"""Syncing the store from a measures table (``data/measures.csv``): policies, units,
measures, tasks and assignments brought in line with it, as a :class:`RevisionPlan` says.

:meth:`tracker.store.Store.sync` is the entry point: it takes the write lock, checks the
plan is still current and that a plan moving or archiving tasks is confirmed by a 督办员,
then calls :func:`write_measures` here on its transaction, and moves the digest and the
revision.  Nothing here opens a connection or commits: every function works on the
caller's.

>>> measure_id_of("demo-2026-1", 3)
'demo-2026-1-m03'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import delete, insert, select, update

from tracker.errors import PermissionDenied
from tracker.members import REGISTER_USER, expand
from tracker.models import Assignment, Measure, Policy, Progress, ProgressHistory, Task, Unit
from tracker.progress import is_blank, now, period_of
from tracker.revisions import ADDED, CHANGED, MOVED, REMOVED, RESTORED, RevisionPlan


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


def write_measures(
    conn, measures: pd.DataFrame, plan: RevisionPlan, *, user: str, source: str
) -> SyncReport:
    """Write ``measures`` as ``plan`` (already confirmed) says, with a history row naming
    ``user`` and ``source`` for every assignment that moves, changes text, is archived or
    comes back."""
    report = SyncReport()
    history = _RevisionHistory(conn, user=user, source=source)
    _sync_policies(conn, measures)
    _sync_units(conn, measures)
    _sync_measures(conn, measures)
    _sync_tasks(conn, measures, plan, history)
    _sync_assignments(conn, measures, report, history)
    history.write()
    members = expand(conn, user=user or REGISTER_USER, source=source)
    report.added_assignments += members.added
    report.archived_assignments += members.archived
    report.restored += members.restored
    counts = plan.counts()
    report.added_tasks = counts[ADDED]
    report.archived_tasks = counts[REMOVED]
    report.moved_tasks = counts[MOVED]
    report.changed_tasks = counts[CHANGED]
    report.restored += counts[RESTORED]
    return report


def stored_rows(conn) -> pd.DataFrame:
    """Every stored task with its units, in the shape :func:`plan_revision` reads: a
    live task with its live assignments, an archived one with all of them."""
    rows = fetch_frame(
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
        .join(Progress, Progress.assignment_id == Assignment.assignment_id)
        .where(Assignment.collective_id.is_(None)),  # members follow their collective row
    )
    for column in ("archived", "assignment_archived", "reported"):
        rows[column] = rows[column].astype(bool)
    return rows[rows["archived"] | ~rows["assignment_archived"]]


def _upsert(conn, model, key: str, rows: list[dict]) -> set:
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


def _sync_policies(conn, measures: pd.DataFrame) -> None:
    policies = measures.drop_duplicates("policy_id")
    rows = [
        {
            "policy_id": r.policy_id,
            "title": r.policy_title,
            "doc_no": r.doc_no,
            "issuer": r.issuer,
            "issue_date": to_date(r.issue_date),
            "effective_from": to_date(r.effective_from),
            "effective_to": to_date(r.effective_to),
            "source_url": r.source_url,
            "archived": False,
        }
        for r in policies.itertuples()
    ]
    present = _upsert(conn, Policy, "policy_id", rows)
    gone = present - {r["policy_id"] for r in rows}
    if gone:
        conn.execute(update(Policy).where(Policy.policy_id.in_(gone)).values(archived=True))


def _sync_units(conn, measures: pd.DataFrame) -> None:
    units = measures.drop_duplicates("unit")
    rows = [
        {"unit": r.unit, "full_name": r.unit_full_name, "kind": r.unit_kind}
        for r in units.itertuples()
    ]
    _upsert(conn, Unit, "unit", rows)


def _sync_measures(conn, measures: pd.DataFrame) -> None:
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
    present = _upsert(conn, Measure, "measure_id", rows)
    gone = present - {r["measure_id"] for r in rows}
    if gone:
        conn.execute(update(Measure).where(Measure.measure_id.in_(gone)).values(archived=True))


def _hold(conn, task_ids: list[str]) -> dict[str, str]:
    """Move the assignments of ``task_ids`` to archived copies of their tasks under free
    ids (``<id>~N``); return task id -> the id holding its assignments now."""
    stored = {
        r.task_id: r
        for r in conn.execute(select(Task.task_id, Task.measure_id, Task.task_seq, Task.task_text))
    }
    taken = set(stored)
    held: dict[str, str] = {}
    for old in task_ids:
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
    return held


def _sync_tasks(
    conn, measures: pd.DataFrame, plan: RevisionPlan, history: _RevisionHistory
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
    held = _hold(conn, [*moves, *retired])
    _upsert(conn, Task, "task_id", rows)
    for old, new in moves.items():
        conn.execute(update(Assignment).where(Assignment.task_id == held[old]).values(task_id=new))
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


def _add_assignments(conn, new: list[dict], hints: dict[str, date | None]) -> None:
    """Insert the new assignments and their progress rows (not started, 0%).

    The deadline the policy text states (measures.csv ``due_hint``) is proposed as the
    first 完成时限; from then on only a supervisor changes it.
    """
    conn.execute(insert(Assignment), new)
    fresh = conn.execute(
        select(Assignment.assignment_id, Assignment.task_id)
        .outerjoin(Progress, Progress.assignment_id == Assignment.assignment_id)
        .where(Progress.assignment_id.is_(None))
    ).all()
    conn.execute(
        insert(Progress),
        [
            {"assignment_id": i, "status": "not_started", "percent": 0, "due_date": hints.get(t)}
            for i, t in fresh
        ],
    )


def _sync_assignments(
    conn, measures: pd.DataFrame, report: SyncReport, history: _RevisionHistory
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
            ).where(Assignment.collective_id.is_(None))  # members: tracker.members.expand
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
        _add_assignments(conn, new, _due_hints(measures))
    _update_assignments(conn, existing, wanted, report, history)
    report.added_assignments = len(new)


def _update_assignments(
    conn, existing: dict, wanted: dict, report: SyncReport, history: _RevisionHistory
) -> None:
    """Archive stored assignments no longer wanted; bring back or re-rank the rest."""
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


def _sql(query, dialect) -> str:
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def fetch_frame(conn, query) -> pd.DataFrame:
    """Run a Core select on the raw DBAPI cursor: plain tuples build a frame far faster."""
    sql = _sql(query, conn.dialect)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
        columns = [d[0] for d in cursor.description]
        return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
    finally:
        cursor.close()


def chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _due_hints(measures: pd.DataFrame) -> dict[str, date | None]:
    """task_id -> the deadline its policy text states, where the loader found one."""
    if "due_hint" not in measures:
        return {}
    hinted = measures.loc[
        measures["due_hint"].fillna("").astype(str) != "", ["task_id", "due_hint"]
    ]
    return {t: to_date(d) for t, d in zip(hinted["task_id"], hinted["due_hint"], strict=True)}


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
        for chunk in chunks(ids, 5000):
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


def to_date(value: object) -> date | None:
    return None if is_blank(value) else date.fromisoformat(str(value)[:10])
