"""Collective units and their members: every row has one accountable owner.

A policy may name a collective (各区政府) or a placeholder (各相关单位) where a unit should
stand.  ``data/measures.csv`` keeps the text as published; the store gives each member its
own assignment, linked to the collective one by ``assignments.collective_id``, with its own
progress, version, deadline, report cycle, 催办, ranking and history.  The collective row
becomes a roll-up (:mod:`tracker.aggregate`) that :meth:`tracker.store.Store.apply` refuses
to write.

* The members of a registered collective come from ``data/unit_members.csv``
  (:func:`register_members`, called on start-up); every sync expands new rows
  (:func:`expand`, inside the sync's transaction).  A member removed from the register is
  archived, never deleted; a revision moves members with their task, so they keep their
  progress.
* A placeholder's units are named by a supervisor (:func:`name_units`); until then the row
  shows 待明确 and is counted by the figure ``unnamed``.
* A member created for a row that already has progress starts from a copy of it (history
  field ``collective`` says so), so nothing reported on the collective row is lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from sqlalchemy import delete, insert, select, update

from tracker.accounts import Account
from tracker.errors import PermissionDenied, ValidationError
from tracker.models import Assignment, Progress, ProgressHistory, StoreMeta, Unit, UnitMember
from tracker.progress import now, period_of
from tracker.schema import PLACEHOLDER_KIND, PLACEHOLDER_UNITS

COLLECTIVE_FIELD = "collective"  # history: this member row was made from the collective row
NAMED_FIELD = "named_units"  # history: a supervisor named the units of a placeholder row
MEMBERS_KEY = "members_rev"  # store_meta: moves whenever member rows are made or archived
REGISTER_USER = "单位成员表"  # who archives a member the register no longer lists
_COPIED = ("status", "percent", "due_date", "note", "next_step", "problems", "evidence")


@dataclass
class MemberReport:
    added: int = 0
    archived: int = 0
    restored: int = 0
    history: list[dict] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.archived or self.restored)


def is_placeholder(unit: str, kind: str = "") -> bool:
    """A name that stands for units nobody has named yet (各相关单位, 有关部门 …)."""
    return kind == PLACEHOLDER_KIND or unit in PLACEHOLDER_UNITS


def stored_register(conn) -> dict[str, list[str]]:
    """Collective -> members as the store holds them (sorted by member name)."""
    register: dict[str, list[str]] = {}
    rows = conn.execute(select(UnitMember.collective, UnitMember.member).order_by("member"))
    for collective, member in rows:
        register.setdefault(collective, []).append(member)
    return register


def named_units(store) -> list[str]:
    """Every registered unit a placeholder may be resolved into (no placeholder, no unit
    that has members of its own), by name."""
    with store.engine.connect() as conn:
        kinds = dict(conn.execute(select(Unit.unit, Unit.kind)).all())
        collectives = set(stored_register(conn))
    return sorted(u for u, k in kinds.items() if not is_placeholder(u, k) and u not in collectives)


def register_members(
    store, members: Mapping[str, Sequence[str]], units: Mapping[str, tuple[str, str]]
) -> MemberReport:
    """Bring the store's register in line with ``members`` (collective -> members, from
    ``data/unit_members.csv``) and expand every row as it now says.  ``units`` is the
    register (short name -> full name, kind): each unit the store lacks is added, so a
    supervisor can name any registered unit for a placeholder and accounts can be scoped
    to it."""
    with store.writing() as conn:
        known = set(conn.scalars(select(Unit.unit)))
        names = ({u for c, ms in members.items() for u in (c, *ms)} | set(units)) - known
        if names:
            conn.execute(
                insert(Unit),
                [{"unit": u, "full_name": units[u][0], "kind": units[u][1]} for u in sorted(names)],
            )
        wanted = {(c, m) for c, ms in members.items() for m in ms}
        held = {(c, m) for c, ms in stored_register(conn).items() for m in ms}
        for collective, member in held - wanted:
            conn.execute(
                delete(UnitMember).where(
                    UnitMember.collective == collective, UnitMember.member == member
                )
            )
        if wanted - held:
            conn.execute(
                insert(UnitMember), [{"collective": c, "member": m} for c, m in wanted - held]
            )
        report = expand(conn, user=REGISTER_USER, source="单位成员表 unit_members.csv")
        if report.changed or names or wanted != held:
            mark_changed(store, conn)
    return report


def mark_changed(store, conn) -> None:
    """Move the data revision and the members key: caches re-read the rows."""
    store.bump_revision(conn)
    conn.execute(delete(StoreMeta).where(StoreMeta.key == MEMBERS_KEY))
    conn.execute(insert(StoreMeta).values(key=MEMBERS_KEY, value=uuid4().hex))


def expand(conn, *, user: str, source: str) -> MemberReport:
    """Give every live row of a registered collective its members' rows, archive members
    the register no longer lists or whose collective row is archived, bring them back with
    it.  Idempotent; writes a history row for every member archived, restored or copied.

    Only the tasks of a collective, a placeholder or a member row are read (every row of
    them, so a member a task already names directly gets no second row): it runs on every
    start, and reading all 100,000 rows of a city into Python took seconds.

    Long because it is one pass over the rows, reading top to bottom."""
    register = stored_register(conn)
    kinds = dict(conn.execute(select(Unit.unit, Unit.kind)).all())
    owners = {*register, *PLACEHOLDER_UNITS, *(u for u, k in kinds.items() if is_placeholder(u, k))}
    tasks = select(Assignment.task_id).where(
        Assignment.unit.in_(sorted(owners)) | Assignment.collective_id.is_not(None)
    )
    rows = conn.execute(
        select(Assignment.__table__).where(Assignment.task_id.in_(tasks))
    ).all()  # every column of those tasks' rows
    units_of_task: dict[str, set[str]] = {}
    children: dict[int, dict[str, Any]] = {}
    for row in rows:
        units_of_task.setdefault(row.task_id, set()).add(row.unit)
        if row.collective_id is not None:
            children.setdefault(row.collective_id, {})[row.unit] = row
    report = MemberReport()
    new: list[tuple[Any, str]] = []
    for parent in (r for r in rows if r.collective_id is None):
        kids = children.get(parent.assignment_id, {})
        if is_placeholder(parent.unit, kinds.get(parent.unit, "")):
            wanted = list(kids)  # named by a supervisor: kept while the row lives
        else:
            wanted = register.get(parent.unit, [])
        for member in wanted:
            kid = kids.get(member)
            if kid is None:
                if not parent.archived and member not in units_of_task[parent.task_id]:
                    new.append((parent, member))
            elif bool(kid.archived) != bool(parent.archived):
                _set_archived(conn, report, kid.assignment_id, bool(parent.archived))
        for member, kid in kids.items():
            if member not in wanted and not kid.archived:
                _set_archived(conn, report, kid.assignment_id, True)
    if new:
        add_members(conn, new, report)
    write_history(conn, report.history, user=user, source=source)
    return report


def _set_archived(conn, report: MemberReport, assignment_id: int, archived: bool) -> None:
    conn.execute(
        update(Assignment)
        .where(Assignment.assignment_id == assignment_id)
        .values(archived=archived)
    )
    if archived:
        report.archived += 1
    else:
        report.restored += 1
    old, new = ("否", "是") if archived else ("是", "否")
    report.history.append(
        {"assignment_id": assignment_id, "field": "archived", "old": old, "new": new}
    )


def add_members(conn, new: list[tuple[Any, str]], report: MemberReport) -> None:
    """Insert a member row per (collective row, member) with its progress: a copy of the
    collective row's when that has any (version > 0, history says so), else not started
    with the collective row's deadline."""
    conn.execute(
        insert(Assignment),
        [
            {
                "task_id": p.task_id,
                "unit": member,
                "role": p.role,
                "unit_rank": p.unit_rank,
                "archived": False,
                "assigned_at": p.assigned_at or now(),
                "collective_id": p.assignment_id,
            }
            for p, member in new
        ],
    )
    parent_ids = sorted({p.assignment_id for p, _ in new})
    made = conn.execute(
        select(Assignment.assignment_id, Assignment.collective_id, Assignment.unit)
        .outerjoin(Progress, Progress.assignment_id == Assignment.assignment_id)
        .where(Assignment.collective_id.in_(parent_ids), Progress.assignment_id.is_(None))
    ).all()
    conn.execute(insert(Progress), _member_progress(conn, parent_ids, made, report))
    report.added += len(made)


def _member_progress(conn, parent_ids: list[int], made: list, report: MemberReport) -> list[dict]:
    """The progress rows of new members ``made`` (id, collective id, unit): a copy of the
    collective row's when it has any, with a history row saying so."""
    columns = [getattr(Progress, c) for c in ("assignment_id", "version", *_COPIED)]
    state = {
        r[0]: r
        for r in conn.execute(select(*columns).where(Progress.assignment_id.in_(parent_ids)))
    }
    units = dict(
        conn.execute(
            select(Assignment.assignment_id, Assignment.unit).where(
                Assignment.assignment_id.in_(parent_ids)
            )
        ).all()
    )
    fresh = {
        "status": "not_started",
        "percent": 0,
        "note": "",
        "next_step": "",
        "problems": "",
        "evidence": "",
    }
    progress = []
    for aid, parent_id, member in made:
        parent = state[parent_id]
        copied = parent.version > 0
        values = {c: getattr(parent, c) for c in _COPIED} | ({} if copied else fresh)
        progress.append({"assignment_id": aid, "version": 1 if copied else 0, **values})
        if copied:
            report.history.append(
                {
                    "assignment_id": aid,
                    "field": COLLECTIVE_FIELD,
                    "old": units[parent_id],
                    "new": member,
                    "version": 1,
                }
            )
    return progress


def write_history(conn, changes: list[dict], *, user: str, source: str) -> None:
    """One history row per change, at the row's current version."""
    if not changes:
        return
    ids = sorted({c["assignment_id"] for c in changes})
    versions = dict(
        conn.execute(
            select(Progress.assignment_id, Progress.version).where(Progress.assignment_id.in_(ids))
        ).all()
    )
    at = now()
    conn.execute(
        insert(ProgressHistory),
        [
            {
                "assignment_id": c["assignment_id"],
                "field": c["field"],
                "old_value": c["old"],
                "new_value": c["new"],
                "changed_by": user,
                "changed_at": at,
                "source": source[:200],
                "period": period_of(at.date()),
                "version": c.get("version", versions.get(c["assignment_id"], 0)),
            }
            for c in changes
        ],
    )


def name_units(store, account: Account, assignment_id: int, units: Sequence[str]) -> MemberReport:
    """A supervisor names the units a placeholder row (各相关单位) stands for: each becomes a
    member row, as a collective's members do.  Names already given stay; the history of the
    placeholder row records the whole list (field ``named_units``)."""
    wanted = list(dict.fromkeys(u.strip() for u in units if u.strip()))
    with store.writing() as conn:
        if not store.accounts.current(conn, account.username).supervises:
            raise PermissionDenied(f"账号 {account.username} 无权明确责任单位（需督办员或管理员）")
        row = conn.execute(
            select(*Assignment.__table__.c).where(Assignment.assignment_id == int(assignment_id))
        ).one_or_none()
        kinds = dict(conn.execute(select(Unit.unit, Unit.kind)).all())
        if row is None or row.archived or row.collective_id is not None:
            raise ValidationError(f"任务分工 {assignment_id} 不存在或已归档")
        if not is_placeholder(row.unit, kinds.get(row.unit, "")):
            raise ValidationError(f"「{row.unit}」不是待明确的单位，其成员由单位成员表决定")
        bad = [u for u in wanted if u not in kinds or is_placeholder(u, kinds[u])]
        if bad or not wanted:
            raise ValidationError(f"请从单位表中选择具体单位（无效：{'、'.join(bad) or '未选择'}）")
        named = set(
            conn.scalars(
                select(Assignment.unit).where(Assignment.collective_id == row.assignment_id)
            )
        )
        taken = set(conn.scalars(select(Assignment.unit).where(Assignment.task_id == row.task_id)))
        fresh = [u for u in wanted if u not in taken]
        report = MemberReport()
        if not fresh:
            return report
        add_members(conn, [(row, u) for u in fresh], report)
        report.history.append(
            {
                "assignment_id": row.assignment_id,
                "field": NAMED_FIELD,
                "old": "、".join(sorted(named)),
                "new": "、".join([*sorted(named), *fresh]),
            }
        )
        write_history(conn, report.history, user=account.username, source="明确责任单位")
        mark_changed(store, conn)
    return report
