"""Extension requests (延期申请): a unit asks for a later deadline before the current one
passes, and a 督办员 approves (the deadline then moves through :meth:`Store.apply`) or
refuses with a reason.  A part of :class:`tracker.supervision.Supervision`, which is the
entry point; the requests are steps of ``supervision_steps`` like the rest of the workflow.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from tracker import supervision_sql as sql
from tracker.accounts import Account
from tracker.errors import ConflictError, PermissionDenied, TrackerError, ValidationError
from tracker.models import Progress
from tracker.progress import Update, normalize_value, now, period_of
from tracker.schema import (
    DONE,
    EXTENSION_APPROVED,
    EXTENSION_REFUSED,
    EXTENSION_REQUESTED,
    SOURCE_EXTENSION,
    SUPERVISION_STEP_LABELS,
)
from tracker.supervision_rules import DeadlineNotMoved, checked_text, report_refusal


class ExtensionRequests(sql.SupervisionBase):
    """Asking for, approving and refusing more time; mixed into ``Supervision``."""

    def request_extension(
        self,
        assignment_id: int,
        new_due: object,
        reason: str,
        *,
        user: Account,
        at: datetime | None = None,
    ) -> int:
        """延期申请: before the deadline passes, ask for ``new_due`` with a reason.
        Returns the request id."""
        at = at or now()
        reason = checked_text(reason, "延期理由", required=True)
        try:
            wanted = normalize_value("due_date", new_due)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        with self._writing() as conn:
            account = self._account(conn, user)
            target = sql.target(conn, assignment_id)
            refusal = report_refusal(account, target.unit)
            if refusal:
                raise PermissionDenied(refusal)
            where = f"任务 {target.task_id}（{target.unit}）"
            if target.due_date is None:
                raise ValidationError(f"{where}尚无完成时限，无需申请延期")
            if at.date() > target.due_date:
                raise ValidationError(
                    f"{where}已于 {target.due_date} 到期：延期须在到期前申请，逾期任务按逾期处理"
                )
            if not isinstance(wanted, date) or wanted <= target.due_date:
                raise ValidationError(f"申请的新时限须晚于当前完成时限 {target.due_date}")
            if target.status == DONE or sql.closed(conn, target.assignment_id):
                raise ValidationError(f"{where}已完成，无需延期")
            if sql.pending_request(conn, target.assignment_id) is not None:
                raise ValidationError(f"{where}已有一份待审批的延期申请")
            return sql.insert_step(
                conn,
                target,
                EXTENSION_REQUESTED,
                period_of(at.date()),
                account,
                at,
                text=reason,
                due_date=wanted,
            )

    def approve_extension(
        self, request_id: int, *, user: Account, note: str = "", at: datetime | None = None
    ) -> int:
        """A 督办员 approves: the decision is recorded, then the deadline moves to the
        requested date through :meth:`Store.apply` as that 督办员 (history source
        ``延期申请#<id>``), so the light and the report use the approved date.

        The two are separate transactions (the store owns its own); the decision is recorded
        first and is what counts.  Should the deadline write fail, approving the same request
        again writes only the deadline.
        """
        at = at or now()
        note = checked_text(note, "审批意见", required=False)
        with self._writing() as conn:
            account = self._decider(conn, user)
            request = sql.extension_request(conn, request_id)
            decision = sql.decision(conn, request_id)
            if decision is None:
                target = sql.target(conn, request.assignment_id)
                self._check_decidable(account, request)
                step_id = sql.insert_step(
                    conn,
                    target,
                    EXTENSION_APPROVED,
                    request.period,
                    account,
                    at,
                    text=note,
                    due_date=request.due_date,
                    request_id=request_id,
                )
            elif decision.action == EXTENSION_APPROVED and not sql.deadline_moved(conn, request):
                step_id = decision.step_id
            else:
                raise ValidationError(
                    f"延期申请 #{request_id} 已由 {decision.acted_by} "
                    f"{SUPERVISION_STEP_LABELS[decision.action]}"
                )
        self._move_deadline(request, account, at)
        return step_id

    def refuse_extension(
        self, request_id: int, reason: str, *, user: Account, at: datetime | None = None
    ) -> int:
        """A 督办员 refuses, saying why; the deadline stays and a late task stays late."""
        at = at or now()
        reason = checked_text(reason, "不予延期的理由", required=True)
        with self._writing() as conn:
            account = self._decider(conn, user)
            request = sql.extension_request(conn, request_id)
            decision = sql.decision(conn, request_id)
            if decision is not None:
                raise ValidationError(
                    f"延期申请 #{request_id} 已由 {decision.acted_by} "
                    f"{SUPERVISION_STEP_LABELS[decision.action]}"
                )
            self._check_decidable(account, request)
            target = sql.target(conn, request.assignment_id)
            return sql.insert_step(
                conn,
                target,
                EXTENSION_REFUSED,
                request.period,
                account,
                at,
                text=reason,
                request_id=request_id,
            )

    def _decider(self, conn, user: Account) -> Account:
        account = self._account(conn, user)
        if not account.supervises:
            raise PermissionDenied("延期申请由督办员审批")
        return account

    @staticmethod
    def _check_decidable(account: Account, request) -> None:
        if request.acted_by == account.username:
            raise PermissionDenied("不能审批本人提出的延期申请")

    def _move_deadline(self, request, account: Account, at: datetime) -> None:
        """The approved date as the deadline, through the one write path; a concurrent
        save of the same row only makes it try again on the new version."""
        for attempt in range(3):
            with self.engine.connect() as conn:
                version = conn.scalar(
                    select(Progress.version).where(Progress.assignment_id == request.assignment_id)
                )
            if version is None:
                raise DeadlineNotMoved(request.step_id, "该任务已被删除")
            update = Update(request.assignment_id, version, {"due_date": request.due_date})
            try:
                self.store.apply(
                    [update],
                    user=account,
                    source=f"{SOURCE_EXTENSION}#{request.step_id}",
                    at=at,
                )
                return
            except ConflictError:
                if attempt < 2:
                    continue
                raise DeadlineNotMoved(request.step_id, "该任务正被他人频繁修改") from None
            except TrackerError as exc:
                raise DeadlineNotMoved(request.step_id, exc.message) from exc
