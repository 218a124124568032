"""The supervision workflow (督办): a unit signs for a task, reports each period, a reviewer
accepts the report or sends it back with a reason, and a finished task is closed (销号);
deadlines move only through an approved extension request (延期申请).

Every step is a row of the append-only ``supervision_steps`` table with the account and the
time, so a report that was sent back keeps its earlier text.  Like :meth:`Store.apply`, each
write re-reads the signed-in account from the database inside its own transaction, checks its
rights there and refuses the step otherwise.

Who does what (the rule is :func:`review_refusal` and :func:`report_refusal`):

* the unit itself (its 填报员, or a 督办员 acting for it) signs, reports and asks for more time;
* a support unit's report is reviewed by the task's lead unit, a lead unit's by a 督办员
  (so each report has one reviewer, and each reviewer's queue is its own duty); nobody
  reviews a report they submitted, and no 填报员 a report of a unit it reports for;
* a 督办员 decides on extensions; an approved one moves the deadline through
  :meth:`Store.apply`, so the warning light, the history and the report follow;
* a 领导 account reads everything and writes nothing.

>>> supervision = Supervision(store)                                   # doctest: +SKIP
>>> supervision.submit(assignment_id, "平台已上线试运行", user=staff)     # doctest: +SKIP
>>> supervision.send_back(assignment_id, "2026-11", "请附验收材料", user=lead)  # doctest: +SKIP
The workflow lives in four modules besides this one, and every public name of them can be
imported from here: the rules (:mod:`tracker.supervision_rules`), the page frames
(:mod:`tracker.supervision_frames`), extension requests
(:mod:`tracker.supervision_extensions`) and the SQL (:mod:`tracker.supervision_sql`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from weakref import WeakKeyDictionary

import pandas as pd
from sqlalchemy import func, insert, select

from tracker import evidence
from tracker import notices as notice_rules
from tracker import reminders as rm
from tracker import supervision_sql as sql
from tracker.accounts import Account
from tracker.errors import PermissionDenied, ValidationError
from tracker.filters import Filters
from tracker.models import ProgressHistory, Reminder
from tracker.progress import now, period_of
from tracker.rollup import counted
from tracker.schema import (
    ACCEPTED,
    ACKNOWLEDGED,
    CLOSED,
    DONE,
    HANDLING,
    RETURNED,
    SUBMITTED,
    SUPERVISION_NEXT,
    SUPERVISION_STEP_LABELS,
)
from tracker.supervision_extensions import ExtensionRequests
from tracker.supervision_frames import (
    BOARD_COLUMNS,
    EXTENSION_COLUMNS,
    PICKER_LIMIT,
    QUEUE_COLUMNS,
    STEP_TABLE_COLUMNS,
    UnitBoard,
    accepted_reports,
    board_table,
    draft_report,
    lead_units_by_task,
    matching,
    pending_extensions,
    review_queue,
    step_table,
    support_reports,
    support_table,
    unit_board,
    unit_states,
    with_states,
    with_support_reports,
)
from tracker.supervision_rules import (
    DECISIONS,
    WORKFLOW_STEPS,
    DeadlineNotMoved,
    Target,
    checked_text,
    report_refusal,
    review_refusal,
    role_label,
    state_label,
    state_of,
)
from tracker.supervision_sql import MAX_BOUND_IDS, STEP_COLUMNS

__all__ = [
    "BOARD_COLUMNS",
    "DECISIONS",
    "EXTENSION_COLUMNS",
    "MAX_BOUND_IDS",
    "PICKER_LIMIT",
    "QUEUE_COLUMNS",
    "STEP_COLUMNS",
    "STEP_TABLE_COLUMNS",
    "WORKFLOW_STEPS",
    "DeadlineNotMoved",
    "Supervision",
    "Target",
    "UnitBoard",
    "accepted_reports",
    "board_table",
    "checked_text",
    "draft_report",
    "lead_units_by_task",
    "matching",
    "pending_extensions",
    "report_refusal",
    "review_queue",
    "review_refusal",
    "role_label",
    "state_label",
    "state_of",
    "step_table",
    "support_reports",
    "support_table",
    "unit_board",
    "unit_states",
    "with_states",
    "with_support_reports",
]


# Store -> (its structure key, the last history id read, the rows kept): see ranking_history.
_RANKING_HISTORY: WeakKeyDictionary[Any, tuple[tuple, int, pd.DataFrame]] = WeakKeyDictionary()


class Supervision(ExtensionRequests):
    """Reads and writes of the workflow over a :class:`Store` (whose ``apply`` moves an
    approved deadline).  Extension requests come from
    :class:`~tracker.supervision_extensions.ExtensionRequests`."""

    # --- report and review ---------------------------------------------------------------

    def acknowledge(self, assignment_id: int, *, user: Account, at: datetime | None = None) -> int:
        """签收: the unit has received the task.  Returns the step id."""
        return self._flow(assignment_id, ACKNOWLEDGED, user=user, at=at)

    def start(self, assignment_id: int, *, user: Account, at: datetime | None = None) -> int:
        """办理中: the unit is working on this period's report."""
        return self._flow(assignment_id, HANDLING, user=user, at=at)

    def submit(
        self, assignment_id: int, report: str, *, user: Account, at: datetime | None = None
    ) -> int:
        """报送 this period's report (again, after a send-back)."""
        report = checked_text(report, "报送内容", required=True)
        return self._flow(assignment_id, SUBMITTED, user=user, at=at, text=report)

    def accept(
        self, assignment_id: int, period: str, *, user: Account, at: datetime | None = None
    ) -> int:
        """审核通过 the report submitted for ``period``."""
        return self._flow(assignment_id, ACCEPTED, user=user, at=at, period=period)

    def send_back(
        self,
        assignment_id: int,
        period: str,
        reason: str,
        *,
        user: Account,
        at: datetime | None = None,
    ) -> int:
        """退回 the report submitted for ``period``, saying why; the unit revises it."""
        reason = checked_text(reason, "退回理由", required=True)
        return self._flow(assignment_id, RETURNED, user=user, at=at, period=period, text=reason)

    def close(
        self, assignment_id: int, period: str, *, user: Account, at: datetime | None = None
    ) -> int:
        """办结 (销号): the accepted report of a task marked 已完成 closes it for good."""
        return self._flow(assignment_id, CLOSED, user=user, at=at, period=period)

    def _flow(
        self,
        assignment_id: int,
        action: str,
        *,
        user: Account,
        at: datetime | None,
        period: str | None = None,
        text: str = "",
    ) -> int:
        at = at or now()
        period = period or period_of(at.date())
        with self._writing() as conn:
            account = self._account(conn, user)
            target = sql.target(conn, assignment_id)
            latest = sql.latest(conn, period, [target.assignment_id])
            last = latest.iloc[0] if len(latest) else None
            state = state_of(
                None if last is None else last["last_action"],
                None if last is None else last["last_period"],
                period,
            )
            if action in (ACCEPTED, RETURNED, CLOSED):
                refusal = review_refusal(account, target.unit, target.role, target.lead_units)
                if (
                    refusal is None
                    and last is not None
                    and last["submitted_by"] == account.username
                ):
                    refusal = "不能审核本人报送的材料"
            else:
                refusal = report_refusal(account, target.unit)
            if refusal:
                raise PermissionDenied(refusal)
            if action not in SUPERVISION_NEXT[state]:
                raise ValidationError(
                    f"任务 {target.task_id}（{target.unit}）{period} 当前为"
                    f"「{state_label(state)}」，不能{SUPERVISION_STEP_LABELS[action]}"
                )
            if action == CLOSED and target.status != DONE:
                raise ValidationError(
                    f"任务 {target.task_id}（{target.unit}）尚未标记为已完成，不能办结"
                )
            if action == CLOSED and (why := evidence.close_refusal(conn, target.assignment_id)):
                raise ValidationError(f"任务 {target.task_id}（{target.unit}）{why}")
            return sql.insert_step(conn, target, action, period, account, at, text=text)

    # --- reminders ----------------------------------------------------------------------

    def remind(
        self,
        notices: Sequence[tuple[str, int, str]],
        *,
        user: Account,
        at: datetime | None = None,
    ) -> int:
        """催办: record one reminder per (unit, number of items, notice text), sent now by
        ``user`` (a 督办员).  Returns how many units were reminded."""
        at = at or now()
        notices = [(u, int(n), checked_text(t, "催办内容", required=False)) for u, n, t in notices]
        if not notices:
            raise ValidationError("没有需要催办的单位")
        with self._writing() as conn:
            account = self._account(conn, user)
            if not account.supervises:
                raise PermissionDenied("催办由督办员发出")
            conn.execute(
                insert(Reminder),
                [
                    {
                        "unit": unit,
                        "period": period_of(at.date()),
                        "items": items,
                        "body": body,
                        "sent_by": account.username,
                        "sent_at": at,
                    }
                    for unit, items, body in notices
                ],
            )
            notice_rules.on_reminders(conn, notices, at)
        return len(notices)

    # --- reads --------------------------------------------------------------------------

    def steps(
        self,
        *,
        assignment_ids: Sequence[int] | None = None,
        units: Sequence[str] | None = None,
        task_ids: Sequence[str] | None = None,
        actions: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Steps (oldest first) with the assignment's task and unit; filters optional."""
        with self.engine.connect() as conn:
            return sql.steps(
                conn, assignment_ids=assignment_ids, units=units, task_ids=task_ids, actions=actions
            )

    def latest(self, period: str, assignment_ids: Sequence[int] | None = None) -> pd.DataFrame:
        """Per assignment with any flow step up to ``period``: the latest such step
        (``last_action``, ``last_period``, ``last_text``) and its latest submission in
        ``period`` (``report``, ``submitted_by``).  See :func:`with_states`."""
        with self.engine.connect() as conn:
            return sql.latest(conn, period, assignment_ids)

    def open_reports(self) -> pd.DataFrame:
        """Reports waiting for a reviewer, whatever their period: per assignment and period
        whose latest flow step is 已报送 (to review) or 已审核 (to close, once done), with
        the submitted text.  Closed assignments are left out."""
        with self.engine.connect() as conn:
            return sql.open_reports(conn)

    def reminders(self, units: Sequence[str] | None = None) -> pd.DataFrame:
        """The reminder log, newest first: unit, period, items, body, sent_by, sent_at."""
        with self.engine.connect() as conn:
            return sql.reminder_log(conn, units)

    def ranking_history(self) -> pd.DataFrame:
        """What the rankings need of ``progress_history``: every status and deadline change,
        and the last change of each assignment in each period (the other fields' values
        don't matter, only that the row moved).  Columns: assignment_id, field, old_value,
        new_value, changed_at.

        Kept per store (per process) and extended by the rows written since its last id:
        the history is append-only and its ids grow in commit order, so the first 通报
        after a save reads that save's rows, not all of them again (1.7 s at 100,000)."""
        with self.engine.connect() as conn, conn.begin():
            key = self.store.structure_key(conn)
            high = int(conn.scalar(select(func.max(ProgressHistory.history_id))) or 0)
            kept_key, kept_high, frame = _RANKING_HISTORY.get(self.store, (None, -1, None))
            if frame is None or kept_key != key or kept_high > high:
                frame = sql.ranking_history(conn, upto=high)
            elif kept_high < high:
                added = sql.ranking_history(conn, after=kept_high, upto=high)
                frame = sql.ranked_rows(pd.concat([frame, added], ignore_index=True))
        _RANKING_HISTORY[self.store] = (key, high, frame)
        return frame.drop(columns=["history_id", "period"])

    def rankings(self, assignments: pd.DataFrame, today: date) -> pd.DataFrame:
        """This period's 通报 table (:func:`tracker.rankings.rankings`) from the store."""
        from tracker.rankings import rankings

        return rankings(assignments, self.ranking_history(), self.steps(), today=today)

    def reporting_board(
        self, assignments: pd.DataFrame, today: date, unit: str
    ) -> tuple[UnitBoard, pd.DataFrame]:
        """报送's read side for ``unit`` this period: its board (:func:`unit_board`) and the
        reminders it got (:func:`tracker.reminders.reminder_counts`)."""
        period = period_of(today)
        assignments = counted(assignments)  # a roll-up row is its members' to report
        ids = assignments.loc[assignments["unit"] == unit, "assignment_id"].tolist()
        board = unit_board(assignments, self.latest(period, ids), unit, period)
        return board, rm.reminder_counts(self.reminders([unit]))

    def reminder_board(
        self,
        assignments: pd.DataFrame,
        today: date,
        chosen: Filters,
        days: int,
        reasons: tuple[str, ...],
        sender: str,
        limit: int,
    ) -> rm.ReminderBoard:
        """催办's read side: what is due among the rows ``chosen`` lets through
        (:func:`tracker.reminders.reminder_board`), at most ``limit`` of them listed."""
        period = period_of(today)
        rows = chosen.apply(assignments)
        states = with_states(rows, self.latest(period, rows["assignment_id"].tolist()), period)
        return rm.reminder_board(
            states,
            self.reminders(),
            today=today,
            days=days,
            period=period,
            reasons=reasons,
            sender=sender,
            limit=limit,
        )

    def high_water(self) -> tuple[int, int]:
        """(last step id, last reminder id): a cache key that moves with every write here."""
        with self.engine.connect() as conn:
            return sql.high_water(conn)
