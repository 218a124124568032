"""The supervision workflow's rules, pure: who may report for a unit and who reviews its
report (:func:`report_refusal`, :func:`review_refusal`), an assignment's state in a period
(:func:`state_of`), the text a step may carry, and the names of states and roles.

:mod:`tracker.supervision` applies them inside its transactions; the page frames
(:mod:`tracker.supervision_frames`) use them to list what an account may act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from tracker.accounts import Account
from tracker.errors import TrackerError, ValidationError
from tracker.progress import is_blank, text_problem
from tracker.schema import (
    ACCEPTED,
    ACKNOWLEDGED,
    CLOSED,
    EXTENSION_APPROVED,
    EXTENSION_REFUSED,
    HANDLING,
    LEAD,
    NOT_ACKNOWLEDGED,
    RETURNED,
    ROLE_LABELS,
    STAFF,
    SUBMITTED,
    SUPERVISION_STATE_LABELS,
)

# Steps of the report/review flow (the others are extension requests and decisions).
WORKFLOW_STEPS: tuple[str, ...] = (ACKNOWLEDGED, HANDLING, SUBMITTED, ACCEPTED, RETURNED, CLOSED)
DECISIONS: tuple[str, ...] = (EXTENSION_APPROVED, EXTENSION_REFUSED)


class DeadlineNotMoved(TrackerError):
    """An extension was approved (and recorded) but the store refused the new deadline."""

    def __init__(self, request_id: int, why: str) -> None:
        super().__init__(
            f"延期申请 #{request_id} 已批准并记录，但完成时限未能更新（{why}）；"
            "请稍后再次点击批准，只会补写完成时限"
        )


@dataclass(frozen=True)
class Target:
    """The assignment a step is about, as stored inside the step's transaction."""

    assignment_id: int
    task_id: str
    unit: str
    role: str
    lead_units: frozenset[str]
    status: str
    due_date: date | None
    version: int


# --- the rules (pure) ----------------------------------------------------------------------


def report_refusal(account: Account, unit: str) -> str | None:
    """Why ``account`` may not sign, report or ask for more time for ``unit``, or None."""
    if not account.writes:
        return f"账号 {account.username}（领导）只能查看，不能办理"
    if not account.may_edit_unit(unit):
        return f"账号 {account.username} 不负责「{unit}」，不能为该单位签收、报送或申请延期"
    return None


def review_refusal(
    account: Account, unit: str, role: str, lead_units: frozenset[str]
) -> str | None:
    """Why ``account`` may not review (accept, send back, close) ``unit``'s report, or None.

    A support unit's report goes to the task's lead unit (its 填报员), a lead unit's to a
    督办员 (or admin).  A 填报员 never reviews a unit it reports for.

    >>> review_refusal(Account("a", "staff", frozenset({"市教委"})), "市教委", "support",
    ...                frozenset({"市科委"}))
    '填报员不能审核本单位的报送'
    """
    if not account.writes:
        return f"账号 {account.username}（领导）只能查看，不能审核"
    if account.role == STAFF and unit in account.units:
        return "填报员不能审核本单位的报送"
    if role == LEAD or not lead_units:
        return None if account.supervises else "牵头单位的报送由督办员审核"
    if account.role == STAFF and account.units & lead_units:
        return None
    return f"配合单位的报送由牵头单位（{'、'.join(sorted(lead_units))}）审核"


def state_of(last_action: str | None, last_period: str | None, period: str) -> str:
    """An assignment's state in ``period`` from its latest flow step up to that period.

    A step in the period itself is the state; a new period starts at 已签收 for a task
    signed for before, and a closed task stays closed.

    >>> state_of("accepted", "2026-10", "2026-11"), state_of(None, None, "2026-11")
    ('acknowledged', '')
    """
    if last_action is None or pd.isna(last_action):
        return NOT_ACKNOWLEDGED
    if last_period == period or last_action == CLOSED:
        return str(last_action)
    return ACKNOWLEDGED


def checked_text(text: object, what: str, *, required: bool) -> str:
    """``text`` stripped, refused when empty (if ``required``) or not storable in Excel."""
    value = "" if is_blank(text) else str(text).strip()
    if required and not value:
        raise ValidationError(f"请填写{what}")
    problem = text_problem(value)
    if problem:
        raise ValidationError(f"{what}{problem}")
    return value


def state_label(state: str) -> str:
    return SUPERVISION_STATE_LABELS.get(state, state)


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)
