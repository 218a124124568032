"""The SQL of the supervision workflow: the writer's transaction and the one step insert
(:class:`SupervisionBase`), the lookups a step makes inside its transaction, and the reads
of ``supervision_steps``, ``reminders`` and what the rankings need of ``progress_history``.

:class:`tracker.supervision.Supervision` is the entry point; these take an open connection
so a check and the step it allows share one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd
from sqlalchemy import String, func, insert, select, type_coerce

from tracker import notices as notice_rules
from tracker.accounts import Account
from tracker.errors import PermissionDenied, ValidationError
from tracker.models import (
    Assignment,
    Progress,
    ProgressHistory,
    Reminder,
    SupervisionStep,
)
from tracker.schema import (
    ACCEPTED,
    CLOSED,
    EXTENSION_REQUESTED,
    LEAD,
    SOURCE_EXTENSION,
    SUBMITTED,
)
from tracker.store import Store
from tracker.supervision_rules import DECISIONS, WORKFLOW_STEPS, Target
from tracker.sync import fetch_frame

STEP_COLUMNS: list[str] = [
    "step_id",
    "assignment_id",
    "task_id",
    "unit",
    "period",
    "action",
    "text",
    "due_date",
    "request_id",
    "acted_by",
    "acted_at",
]
# More ids than this are filtered after the query, not bound into it (SQLite allows 32,766
# parameters per statement; a district's assignments can exceed that at scale).
MAX_BOUND_IDS = 1000


class SupervisionBase:
    """What every supervision write shares: the store, its writer lock, and the signed-in
    account as stored at the moment of the step."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    def _writing(self):
        """The store's writer-lock transaction (:meth:`Store.writing`)."""
        return self.store.writing()

    def _account(self, conn, user: Account) -> Account:
        if not isinstance(user, Account):
            raise PermissionDenied("请先登录：每一步办理都必须对应一个已登录的账号")
        return self.store.accounts.current(conn, user.username)


# --- inside a step's transaction ---------------------------------------------------------


def target(conn, assignment_id: int) -> Target:
    """The assignment a step is about, with its task's lead units, as stored now."""
    row = conn.execute(
        select(
            Assignment.assignment_id,
            Assignment.task_id,
            Assignment.unit,
            Assignment.role,
            Assignment.archived,
            Progress.status,
            Progress.due_date,
            Progress.version,
        )
        .join(Progress, Progress.assignment_id == Assignment.assignment_id)
        .where(Assignment.assignment_id == int(assignment_id))
    ).first()
    if row is None or row.archived:
        raise ValidationError(f"未知的任务分工编号 {assignment_id}")
    members = select(Assignment.assignment_id).where(
        Assignment.collective_id == row.assignment_id, Assignment.archived.is_(False)
    )
    if conn.execute(members.limit(1)).first() is not None:
        raise PermissionDenied(
            f"「{row.unit}」由各成员单位分别签收、报送，此行为汇总行，不能直接办理"
        )
    leads = conn.execute(
        select(Assignment.unit).where(
            Assignment.task_id == row.task_id,
            Assignment.role == LEAD,
            Assignment.archived.is_(False),
            Assignment.collective_id.is_(None),  # a lead collective reviews, not its members
        )
    ).scalars()
    return Target(
        assignment_id=int(row.assignment_id),
        task_id=row.task_id,
        unit=row.unit,
        role=row.role,
        lead_units=frozenset(leads),
        status=row.status,
        due_date=row.due_date,
        version=int(row.version),
    )


def insert_step(
    conn,
    target: Target,
    action: str,
    period: str,
    account: Account,
    at: datetime,
    *,
    text: str = "",
    due_date: date | None = None,
    request_id: int | None = None,
) -> int:
    """Append one step; returns its id."""
    result = conn.execute(
        insert(SupervisionStep)
        .values(
            assignment_id=target.assignment_id,
            period=period,
            action=action,
            text=text,
            due_date=due_date,
            request_id=request_id,
            acted_by=account.username,
            acted_at=at,
        )
        .returning(SupervisionStep.step_id)
    )
    step_id = int(result.scalar_one())
    # The notice a step causes (sent back, extension decided) commits with the step.
    notice_rules.on_step(conn, target.assignment_id, action, at, text=text, due_date=due_date)
    return step_id


def latest(conn, period: str, assignment_ids: Sequence[int] | None) -> pd.DataFrame:
    """Per assignment with any flow step up to ``period``: the latest such step and its
    latest submission in ``period`` (see :meth:`Supervision.latest`)."""
    flow = select(
        SupervisionStep.assignment_id,
        func.max(SupervisionStep.step_id).label("step_id"),
    ).where(SupervisionStep.action.in_(WORKFLOW_STEPS), SupervisionStep.period <= period)
    sub = select(
        SupervisionStep.assignment_id,
        func.max(SupervisionStep.step_id).label("step_id"),
    ).where(SupervisionStep.action == SUBMITTED, SupervisionStep.period == period)
    ids = None if assignment_ids is None else [int(i) for i in assignment_ids]
    if ids is not None and len(ids) <= MAX_BOUND_IDS:
        flow = flow.where(SupervisionStep.assignment_id.in_(ids))
        sub = sub.where(SupervisionStep.assignment_id.in_(ids))
    last_flow = flow.group_by(SupervisionStep.assignment_id).subquery()
    last_sub = sub.group_by(SupervisionStep.assignment_id).subquery()
    step = SupervisionStep.__table__.alias("step")
    report = SupervisionStep.__table__.alias("report")
    query = (
        select(
            last_flow.c.assignment_id,
            step.c.action,
            step.c.period,
            step.c.text,
            report.c.text,
            report.c.acted_by,
        )
        .select_from(last_flow)
        .join(step, step.c.step_id == last_flow.c.step_id)
        .outerjoin(last_sub, last_sub.c.assignment_id == last_flow.c.assignment_id)
        .outerjoin(report, report.c.step_id == last_sub.c.step_id)
    )
    rows = conn.execute(query).all()
    latest = pd.DataFrame(
        [tuple(r) for r in rows],
        columns=[
            "assignment_id",
            "last_action",
            "last_period",
            "last_text",
            "report",
            "submitted_by",
        ],
    )
    if ids is not None and len(ids) > MAX_BOUND_IDS:
        latest = latest[latest["assignment_id"].isin(ids)].reset_index(drop=True)
    return latest


def closed(conn, assignment_id: int) -> bool:
    return (
        conn.scalar(
            select(SupervisionStep.step_id).where(
                SupervisionStep.assignment_id == assignment_id,
                SupervisionStep.action == CLOSED,
            )
        )
        is not None
    )


def extension_request(conn, request_id: int):
    request = conn.execute(
        select(SupervisionStep).where(
            SupervisionStep.step_id == int(request_id),
            SupervisionStep.action == EXTENSION_REQUESTED,
        )
    ).first()
    if request is None:
        raise ValidationError(f"未知的延期申请 #{request_id}")
    return request


def decision(conn, request_id: int):
    return conn.execute(
        select(SupervisionStep).where(
            SupervisionStep.request_id == int(request_id),
            SupervisionStep.action.in_(DECISIONS),
        )
    ).first()


def pending_request(conn, assignment_id: int) -> int | None:
    decided = select(SupervisionStep.request_id).where(
        SupervisionStep.assignment_id == assignment_id,
        SupervisionStep.action.in_(DECISIONS),
    )
    return conn.scalar(
        select(SupervisionStep.step_id).where(
            SupervisionStep.assignment_id == assignment_id,
            SupervisionStep.action == EXTENSION_REQUESTED,
            SupervisionStep.step_id.not_in(decided),
        )
    )


def deadline_moved(conn, request) -> bool:
    """Whether the store already wrote the deadline this request's approval set."""
    return (
        conn.scalar(
            select(ProgressHistory.history_id).where(
                ProgressHistory.assignment_id == request.assignment_id,
                ProgressHistory.field == "due_date",
                ProgressHistory.source == f"{SOURCE_EXTENSION}#{request.step_id}",
            )
        )
        is not None
    )


# --- reads -------------------------------------------------------------------------------


def steps(
    conn,
    *,
    assignment_ids: Sequence[int] | None = None,
    units: Sequence[str] | None = None,
    task_ids: Sequence[str] | None = None,
    actions: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Steps (oldest first) with the assignment's task and unit; filters optional."""
    query = (
        select(
            SupervisionStep.step_id,
            SupervisionStep.assignment_id,
            Assignment.task_id,
            Assignment.unit,
            SupervisionStep.period,
            SupervisionStep.action,
            SupervisionStep.text,
            SupervisionStep.due_date,
            SupervisionStep.request_id,
            SupervisionStep.acted_by,
            SupervisionStep.acted_at,
        )
        .join(Assignment, Assignment.assignment_id == SupervisionStep.assignment_id)
        .order_by(SupervisionStep.step_id)
    )
    if assignment_ids is not None:
        query = query.where(SupervisionStep.assignment_id.in_([int(i) for i in assignment_ids]))
    if units is not None:
        query = query.where(Assignment.unit.in_(list(units)))
    if task_ids is not None:
        query = query.where(Assignment.task_id.in_(list(task_ids)))
    if actions is not None:
        query = query.where(SupervisionStep.action.in_(list(actions)))
    rows = conn.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=STEP_COLUMNS)
    frame["request_id"] = frame["request_id"].astype("Int64")
    frame["acted_at"] = pd.to_datetime(frame["acted_at"])
    return frame


def open_reports(conn) -> pd.DataFrame:
    """Reports waiting for a reviewer (see :meth:`Supervision.open_reports`)."""
    last = _latest_per_period(WORKFLOW_STEPS)
    sub = _latest_per_period((SUBMITTED,))
    step = SupervisionStep.__table__.alias("step")
    report = SupervisionStep.__table__.alias("report")
    closed_ids = select(SupervisionStep.assignment_id).where(SupervisionStep.action == CLOSED)
    query = (
        select(
            step.c.assignment_id,
            step.c.period,
            step.c.action.label("state"),
            report.c.text.label("report"),
            report.c.acted_by.label("submitted_by"),
            report.c.acted_at.label("submitted_at"),
        )
        .select_from(last)
        .join(step, step.c.step_id == last.c.step_id)
        .join(
            sub,
            (sub.c.assignment_id == last.c.assignment_id) & (sub.c.period == last.c.period),
        )
        .join(report, report.c.step_id == sub.c.step_id)
        .where(
            step.c.action.in_([SUBMITTED, ACCEPTED]),
            step.c.assignment_id.not_in(closed_ids),
        )
    )
    rows = conn.execute(query).all()
    return pd.DataFrame(
        [tuple(r) for r in rows],
        columns=["assignment_id", "period", "state", "report", "submitted_by", "submitted_at"],
    )


def reminder_log(conn, units: Sequence[str] | None = None) -> pd.DataFrame:
    """The reminder log, newest first: unit, period, items, body, sent_by, sent_at."""
    query = select(
        Reminder.reminder_id,
        Reminder.unit,
        Reminder.period,
        Reminder.items,
        Reminder.body,
        Reminder.sent_by,
        Reminder.sent_at,
    ).order_by(Reminder.reminder_id.desc())
    if units is not None:
        query = query.where(Reminder.unit.in_(list(units)))
    rows = conn.execute(query).all()
    return pd.DataFrame(
        [tuple(r) for r in rows],
        columns=["reminder_id", "unit", "period", "items", "body", "sent_by", "sent_at"],
    )


RANKED_FIELDS = ["status", "due_date"]  # the fields whose every change the rankings read


def ranking_history(conn, after: int = 0, upto: int | None = None) -> pd.DataFrame:
    """What the rankings need of ``progress_history`` (see
    :meth:`Supervision.ranking_history`), with each row's history_id and period.  With
    ``after``, every row after that id (up to ``upto``), of any field: the caller keeps
    only the last of each period with :func:`ranked_rows`."""
    columns = select(
        ProgressHistory.history_id,
        ProgressHistory.period,
        ProgressHistory.assignment_id,
        ProgressHistory.field,
        ProgressHistory.old_value,
        ProgressHistory.new_value,
        # As stored: pandas parses the whole column at once, where the DateTime type
        # parses SQLite's text row by row (a second at 100,000 changes).
        type_coerce(ProgressHistory.changed_at, String).label("changed_at"),
    )
    upto_ = [] if upto is None else [ProgressHistory.history_id <= upto]
    if after:
        query = columns.where(ProgressHistory.history_id > after, *upto_)
    else:
        last = (
            select(func.max(ProgressHistory.history_id).label("history_id"))
            .where(*upto_)
            .group_by(ProgressHistory.assignment_id, ProgressHistory.period)
        )
        query = columns.where(
            ProgressHistory.field.in_(RANKED_FIELDS)
            | ProgressHistory.history_id.in_(select(last.subquery().c.history_id)),
            *upto_,
        )
    frame = fetch_frame(conn, query.order_by(ProgressHistory.history_id))
    frame["changed_at"] = pd.to_datetime(frame["changed_at"], format="ISO8601")
    return frame


def ranked_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`ranking_history` the rankings read: every status and deadline
    change, and the last change of each assignment in each period."""
    last = frame.groupby(["assignment_id", "period"])["history_id"].transform("max")
    keep = frame["field"].isin(RANKED_FIELDS) | (frame["history_id"] == last)
    return frame[keep.to_numpy()].reset_index(drop=True)


def high_water(conn) -> tuple[int, int]:
    """(last step id, last reminder id)."""
    return (
        int(conn.scalar(select(func.max(SupervisionStep.step_id))) or 0),
        int(conn.scalar(select(func.max(Reminder.reminder_id))) or 0),
    )


def _latest_per_period(actions: Sequence[str]):
    """Subquery: the latest step id among ``actions`` per assignment and period."""
    return (
        select(
            SupervisionStep.assignment_id,
            SupervisionStep.period,
            func.max(SupervisionStep.step_id).label("step_id"),
        )
        .where(SupervisionStep.action.in_(list(actions)))
        .group_by(SupervisionStep.assignment_id, SupervisionStep.period)
        .subquery()
    )
