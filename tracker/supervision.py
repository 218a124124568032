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
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import String, func, insert, select, type_coerce

from tracker import evidence
from tracker import reminders as rm
from tracker.accounts import Account
from tracker.errors import ConflictError, PermissionDenied, TrackerError, ValidationError
from tracker.filters import Filters
from tracker.models import (
    Assignment,
    Progress,
    ProgressHistory,
    Reminder,
    StoreMeta,
    SupervisionStep,
)
from tracker.progress import Update, is_blank, normalize_value, now, period_of, text_problem
from tracker.schema import (
    ACCEPTED,
    ACKNOWLEDGED,
    CLOSED,
    DONE,
    EXTENSION_APPROVED,
    EXTENSION_REFUSED,
    EXTENSION_REQUESTED,
    HANDLING,
    LEAD,
    NOT_ACKNOWLEDGED,
    RETURNED,
    ROLE_LABELS,
    SOURCE_EXTENSION,
    STAFF,
    STATUS_LABELS,
    SUBMITTED,
    SUPERVISION_NEXT,
    SUPERVISION_STATE_LABELS,
    SUPERVISION_STEP_LABELS,
)
from tracker.store import Store

# Steps of the report/review flow (the others are extension requests and decisions).
WORKFLOW_STEPS: tuple[str, ...] = (ACKNOWLEDGED, HANDLING, SUBMITTED, ACCEPTED, RETURNED, CLOSED)
DECISIONS: tuple[str, ...] = (EXTENSION_APPROVED, EXTENSION_REFUSED)
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
# What the 报送/审核 pages show of a history, newest first.
STEP_TABLE_COLUMNS: list[str] = ["报告期", "环节", "内容", "申请时限", "办理人", "时间"]
QUEUE_COLUMNS: list[str] = [
    "assignment_id",
    "period",
    "state",
    "task_id",
    "task_text",
    "unit",
    "role",
    "status",
    "report",
    "submitted_by",
    "submitted_at",
]
EXTENSION_COLUMNS: list[str] = [
    "request_id",
    "assignment_id",
    "task_id",
    "task_text",
    "unit",
    "due_date",
    "requested_due",
    "reason",
    "requested_by",
    "requested_at",
]


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


# --- frames for the pages (pure) --------------------------------------------------------------


def lead_units_by_task(assignments: pd.DataFrame) -> pd.Series:
    """task_id -> frozenset of its lead units (several leads are possible)."""
    leads = assignments[assignments["role"] == LEAD]
    return leads.groupby("task_id")["unit"].agg(frozenset)


def with_states(assignments: pd.DataFrame, latest: pd.DataFrame, period: str) -> pd.DataFrame:
    """``assignments`` with ``state`` in ``period`` and this period's ``report`` (the last
    text submitted in it), ``submitted_by`` and ``reason`` (why it was last sent back).

    ``latest`` is :meth:`Supervision.latest`: per assignment, its latest flow step up to
    ``period`` and its latest submission in ``period``.
    """
    frame = assignments.merge(latest, on="assignment_id", how="left")
    frame["state"] = [
        state_of(a, p, period)
        for a, p in zip(frame["last_action"], frame["last_period"], strict=True)
    ]
    in_period = frame["last_period"] == period
    frame["reason"] = frame["last_text"].where(in_period & (frame["state"] == RETURNED), "")
    frame["report"] = frame["report"].where(frame["report"].notna(), "")
    frame["submitted_by"] = frame["submitted_by"].where(frame["submitted_by"].notna(), "")
    return frame.drop(columns=["last_action", "last_period", "last_text"])


def unit_states(
    assignments: pd.DataFrame, latest: pd.DataFrame, unit: str, period: str
) -> pd.DataFrame:
    """``unit``'s assignments with their state in ``period`` (see :func:`with_states`),
    indexed by assignment id, lead tasks first."""
    rows = assignments[assignments["unit"] == unit]
    rows = rows.assign(_lead=rows["role"] != LEAD).sort_values("_lead", kind="stable")
    return with_states(rows.drop(columns="_lead"), latest, period).set_index(
        "assignment_id", drop=False
    )


BOARD_COLUMNS: list[str] = [
    "任务编号",
    "任务内容",
    "角色",
    "完成时限",
    "状态",
    "报送状态",
    "退回理由",
]


def board_table(states: pd.DataFrame) -> pd.DataFrame:
    """What the 报送 page lists of a unit's assignments, in Chinese."""
    due = pd.to_datetime(states["due_date"], errors="coerce")
    return pd.DataFrame(
        {
            "任务编号": states["task_id"].astype(str).to_numpy(),
            "任务内容": states["task_text"].astype(str).to_numpy(),
            "角色": states["role"].map(ROLE_LABELS).fillna(states["role"]).to_numpy(),
            "完成时限": [_iso(d) for d in due],
            "状态": states["status"].map(STATUS_LABELS).fillna(states["status"]).to_numpy(),
            "报送状态": states["state"].map(SUPERVISION_STATE_LABELS).to_numpy(),
            "退回理由": states["reason"].fillna("").astype(str).to_numpy(),
        },
        columns=BOARD_COLUMNS,
    )


@dataclass(frozen=True)
class UnitBoard:
    """What the 报送 page draws of one unit: built once per data revision and supervision
    step, so a rerun only draws (a unit can hold 14,000 assignments at city scale)."""

    states: pd.DataFrame  # unit_states: indexed by assignment id, lead tasks first
    table: pd.DataFrame  # board_table(states)
    labels: dict[int, str]  # assignment id -> how the task picker names it


def unit_board(
    assignments: pd.DataFrame, latest: pd.DataFrame, unit: str, period: str
) -> UnitBoard:
    """``unit``'s assignments in ``period`` (:func:`unit_states`), the table the page lists
    and a picker label per assignment: task id, role and the start of the task text.

    >>> board = unit_board(store.assignments(), supervision.latest(period), "市科委", period)  # doctest: +SKIP
    >>> board.labels[board.states.index[0]]  # doctest: +SKIP
    'demo-m01-t1（牵头）　推动科技创新资源开放'
    """
    states = unit_states(assignments, latest, unit, period)
    role = states["role"].map(ROLE_LABELS).fillna(states["role"]).astype(str)
    names = (
        states["task_id"].astype(str)
        + "（"
        + role
        + "）　"
        + states["task_text"].astype(str).str.slice(0, 40)
    )
    labels = dict(zip(states.index.astype(int).tolist(), names.tolist(), strict=True))
    return UnitBoard(states, board_table(states), labels)


PICKER_LIMIT = 200  # the 报送 task picker offers at most this many matches


def matching(states: pd.DataFrame, text: str = "", state: str | None = None) -> pd.Series:
    """Which of ``states`` (:func:`unit_states`) the 报送 page's search keeps: every word of
    ``text`` in the task id or the task text, and the supervision ``state`` when given.

    A mask in board order, so it cuts the board table and the task picker alike: a unit
    with 14,500 assignments sent every one of them to the browser as a picker option.

    >>> states = pd.DataFrame({"task_id": ["t1", "t2"], "task_text": ["推动开放", "资金保障"],
    ...                        "state": ["", "submitted"]})
    >>> matching(states, "资金").tolist(), matching(states, state="").tolist()
    ([False, True], [True, False])
    """
    keep = pd.Series(True, index=states.index)
    if state is not None:
        keep &= states["state"] == state
    words = text.split()
    if words:
        ids, texts = states["task_id"].astype(str), states["task_text"].astype(str)
        for word in words:
            keep &= ids.str.contains(word, case=False, regex=False) | texts.str.contains(
                word, case=False, regex=False
            )
    return keep


def review_queue(
    open_reports: pd.DataFrame, assignments: pd.DataFrame, account: Account
) -> pd.DataFrame:
    """Reports ``account`` may act on now: submitted ones to accept or send back, and
    accepted ones of tasks marked done, to close.  Oldest period first.

    ``open_reports`` is :meth:`Supervision.open_reports`.  Reports the account submitted
    itself, and reports of its own units (for staff), are left out.
    """
    rows = open_reports.merge(
        assignments[["assignment_id", "task_id", "task_text", "unit", "role", "status"]],
        on="assignment_id",
    )
    if rows.empty:
        return pd.DataFrame(columns=QUEUE_COLUMNS)
    leads = lead_units_by_task(assignments)
    allowed = [
        review_refusal(account, unit, role, leads.get(task_id, frozenset())) is None
        and submitted_by != account.username
        and (state == SUBMITTED or status == DONE)
        for unit, role, task_id, submitted_by, state, status in zip(
            rows["unit"],
            rows["role"],
            rows["task_id"],
            rows["submitted_by"],
            rows["state"],
            rows["status"],
            strict=True,
        )
    ]
    rows = rows[allowed].sort_values(["period", "task_id", "unit"], kind="stable")
    return rows.reset_index(drop=True)[QUEUE_COLUMNS]


def accepted_reports(steps: pd.DataFrame) -> pd.DataFrame:
    """One row per accept step: the text it accepted (the latest submission before it in
    the same assignment and period), who sent it and who accepted it, oldest first."""
    flow = steps[steps["action"].isin(WORKFLOW_STEPS)].sort_values("step_id")
    keys = [flow["assignment_id"], flow["period"]]
    submitted = flow["action"] == SUBMITTED
    report = flow["text"].where(submitted).groupby(keys).ffill()
    by = flow["acted_by"].where(submitted).groupby(keys).ffill()
    accepted = flow["action"] == ACCEPTED
    return pd.DataFrame(
        {
            "assignment_id": flow["assignment_id"][accepted],
            "unit": flow["unit"][accepted],
            "period": flow["period"][accepted],
            "report": report[accepted].fillna(""),
            "submitted_by": by[accepted].fillna(""),
            "accepted_by": flow["acted_by"][accepted],
            "accepted_at": flow["acted_at"][accepted],
        }
    ).reset_index(drop=True)


def draft_report(steps: pd.DataFrame, assignment_id: int, period: str, fallback: str = "") -> str:
    """The text a unit's report for ``period`` starts from, so nobody types it twice.

    A report sent back in ``period`` (or submitted, if the unit opens it again) starts from
    its last text; otherwise from the last accepted report of any earlier period; otherwise
    from ``fallback`` (the progress note).
    """
    own = steps[steps["assignment_id"] == assignment_id].sort_values("step_id")
    this_period = own[(own["period"] == period) & (own["action"] == SUBMITTED)]
    if len(this_period):
        return str(this_period["text"].iloc[-1])
    accepted = accepted_reports(own)
    accepted = accepted[accepted["period"] <= period]
    if len(accepted):
        return str(accepted["report"].iloc[-1])
    return fallback


def support_reports(
    steps: pd.DataFrame, assignments: pd.DataFrame, task_id: str, period: str
) -> pd.DataFrame:
    """The support units' accepted reports on ``task_id`` for ``period`` (latest per unit),
    which feed the lead unit's report: unit, report, accepted_by, accepted_at."""
    support = assignments[(assignments["task_id"] == task_id) & (assignments["role"] != LEAD)]
    accepted = accepted_reports(steps[steps["assignment_id"].isin(support["assignment_id"])])
    accepted = accepted[accepted["period"] == period].drop_duplicates("unit", keep="last")
    return accepted[["unit", "report", "accepted_by", "accepted_at"]].reset_index(drop=True)


def support_table(reports: pd.DataFrame) -> pd.DataFrame:
    """:func:`support_reports` with Chinese headers, as the 报送 and 审核 pages show them."""
    return pd.DataFrame(
        {
            "配合单位": reports["unit"].astype(str).to_numpy(),
            "本期报告（已审核）": reports["report"].astype(str).to_numpy(),
            "审核人": reports["accepted_by"].astype(str).to_numpy(),
            "审核时间": pd.to_datetime(reports["accepted_at"]).to_numpy(),
        }
    )


def with_support_reports(text: str, reports: pd.DataFrame) -> str:
    """``text`` followed by each support unit's accepted report, one paragraph per unit.

    >>> with_support_reports("已完成招标。", pd.DataFrame({"unit": ["市教委"], "report": ["已配合。"]}))
    '已完成招标。\\n【配合单位 市教委】已配合。'
    """
    parts = [text.rstrip()] if text.strip() else []
    parts += [f"【配合单位 {r.unit}】{r.report}" for r in reports.itertuples(index=False)]
    return "\n".join(parts)


def pending_extensions(steps: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """Extension requests nobody has decided on yet, oldest first, with the task and its
    current deadline."""
    requests = steps[steps["action"] == EXTENSION_REQUESTED]
    decided = set(steps.loc[steps["action"].isin(DECISIONS), "request_id"].dropna().astype(int))
    requests = requests[~requests["step_id"].isin(decided)]
    rows = requests.drop(columns="request_id").merge(
        assignments[["assignment_id", "task_text", "due_date"]], on="assignment_id"
    )
    rows = rows.sort_values("step_id").rename(
        columns={
            "step_id": "request_id",
            "due_date_x": "requested_due",
            "due_date_y": "due_date",
            "text": "reason",
            "acted_by": "requested_by",
            "acted_at": "requested_at",
        }
    )
    rows = rows.reset_index(drop=True).reindex(columns=EXTENSION_COLUMNS)
    for column in ("due_date", "requested_due"):
        rows[column] = [_day(d) for d in rows[column]]
    return rows


def step_table(steps: pd.DataFrame) -> pd.DataFrame:
    """A history of steps with Chinese headers and labels, newest first."""
    if steps.empty:
        return pd.DataFrame(columns=STEP_TABLE_COLUMNS)
    shown = steps.sort_values("step_id", ascending=False)
    due = pd.to_datetime(shown["due_date"], errors="coerce")
    return pd.DataFrame(
        {
            "报告期": shown["period"].astype(str).to_numpy(),
            "环节": shown["action"].map(SUPERVISION_STEP_LABELS).fillna(shown["action"]).to_numpy(),
            "内容": shown["text"].fillna("").astype(str).to_numpy(),
            "申请时限": [_iso(d) for d in due],
            "办理人": shown["acted_by"].astype(str).to_numpy(),
            "时间": pd.to_datetime(shown["acted_at"]).to_numpy(),
        }
    )


def _iso(value: date | str | None) -> str:
    """A date as the pages show it: ISO, or nothing (never "None")."""
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()


def _day(value: date | str | None) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def state_label(state: str) -> str:
    return SUPERVISION_STATE_LABELS.get(state, state)


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


# --- the store side ------------------------------------------------------------------------


class Supervision:
    """Reads and writes of the workflow over a :class:`Store` (whose ``apply`` moves an
    approved deadline)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

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
            target = self._target(conn, assignment_id)
            latest = self._latest(conn, period, [target.assignment_id])
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
            return self._insert(conn, target, action, period, account, at, text=text)

    # --- extensions ---------------------------------------------------------------------

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
            target = self._target(conn, assignment_id)
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
            if target.status == DONE or self._closed(conn, target.assignment_id):
                raise ValidationError(f"{where}已完成，无需延期")
            if self._pending_request(conn, target.assignment_id) is not None:
                raise ValidationError(f"{where}已有一份待审批的延期申请")
            return self._insert(
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
            request = self._request(conn, request_id)
            decision = self._decision(conn, request_id)
            if decision is None:
                target = self._target(conn, request.assignment_id)
                self._check_decidable(account, request)
                step_id = self._insert(
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
            elif decision.action == EXTENSION_APPROVED and not self._moved(conn, request):
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
            request = self._request(conn, request_id)
            decision = self._decision(conn, request_id)
            if decision is not None:
                raise ValidationError(
                    f"延期申请 #{request_id} 已由 {decision.acted_by} "
                    f"{SUPERVISION_STEP_LABELS[decision.action]}"
                )
            self._check_decidable(account, request)
            target = self._target(conn, request.assignment_id)
            return self._insert(
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
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=STEP_COLUMNS)
        frame["request_id"] = frame["request_id"].astype("Int64")
        frame["acted_at"] = pd.to_datetime(frame["acted_at"])
        return frame

    def latest(self, period: str, assignment_ids: Sequence[int] | None = None) -> pd.DataFrame:
        """Per assignment with any flow step up to ``period``: the latest such step
        (``last_action``, ``last_period``, ``last_text``) and its latest submission in
        ``period`` (``report``, ``submitted_by``).  See :func:`with_states`."""
        with self.engine.connect() as conn:
            return self._latest(conn, period, assignment_ids)

    def open_reports(self) -> pd.DataFrame:
        """Reports waiting for a reviewer, whatever their period: per assignment and period
        whose latest flow step is 已报送 (to review) or 已审核 (to close, once done), with
        the submitted text.  Closed assignments are left out."""
        last = _latest_per_period(WORKFLOW_STEPS)
        sub = _latest_per_period((SUBMITTED,))
        step = SupervisionStep.__table__.alias("step")
        report = SupervisionStep.__table__.alias("report")
        closed = select(SupervisionStep.assignment_id).where(SupervisionStep.action == CLOSED)
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
                step.c.assignment_id.not_in(closed),
            )
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return pd.DataFrame(
            [tuple(r) for r in rows],
            columns=["assignment_id", "period", "state", "report", "submitted_by", "submitted_at"],
        )

    def reminders(self, units: Sequence[str] | None = None) -> pd.DataFrame:
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
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return pd.DataFrame(
            [tuple(r) for r in rows],
            columns=["reminder_id", "unit", "period", "items", "body", "sent_by", "sent_at"],
        )

    def ranking_history(self) -> pd.DataFrame:
        """What the rankings need of ``progress_history``: every status and deadline change,
        and the last change of each assignment in each period (the other fields' values
        don't matter, only that the row moved).  Columns: assignment_id, field, old_value,
        new_value, changed_at."""
        last = select(
            func.max(ProgressHistory.history_id).label("history_id"),
        ).group_by(ProgressHistory.assignment_id, ProgressHistory.period)
        query = (
            select(
                ProgressHistory.assignment_id,
                ProgressHistory.field,
                ProgressHistory.old_value,
                ProgressHistory.new_value,
                # As stored: pandas parses the whole column at once, where the DateTime type
                # parses SQLite's text row by row (a second at 100,000 changes).
                type_coerce(ProgressHistory.changed_at, String),
            )
            .where(
                ProgressHistory.field.in_(["status", "due_date"])
                | ProgressHistory.history_id.in_(select(last.subquery().c.history_id))
            )
            .order_by(ProgressHistory.history_id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        frame = pd.DataFrame(
            [tuple(r) for r in rows],
            columns=["assignment_id", "field", "old_value", "new_value", "changed_at"],
        )
        frame["changed_at"] = pd.to_datetime(frame["changed_at"], format="ISO8601")
        return frame

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
            return (
                int(conn.scalar(select(func.max(SupervisionStep.step_id))) or 0),
                int(conn.scalar(select(func.max(Reminder.reminder_id))) or 0),
            )

    # --- helpers ------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator:
        """A write transaction holding the store's writer lock (SQLite: BEGIN IMMEDIATE;
        PostgreSQL: the revision row), so checks and the step they allow see no race."""
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(
                select(StoreMeta.value).where(StoreMeta.key == "revision").with_for_update()
            )
            yield conn

    def _account(self, conn, user: Account) -> Account:
        if not isinstance(user, Account):
            raise PermissionDenied("请先登录：每一步办理都必须对应一个已登录的账号")
        return self.store.accounts.current(conn, user.username)

    @staticmethod
    def _target(conn, assignment_id: int) -> Target:
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
        leads = conn.execute(
            select(Assignment.unit).where(
                Assignment.task_id == row.task_id,
                Assignment.role == LEAD,
                Assignment.archived.is_(False),
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

    @staticmethod
    def _insert(
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
        return int(result.scalar_one())

    @staticmethod
    def _latest(conn, period: str, assignment_ids: Sequence[int] | None) -> pd.DataFrame:
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

    @staticmethod
    def _closed(conn, assignment_id: int) -> bool:
        return (
            conn.scalar(
                select(SupervisionStep.step_id).where(
                    SupervisionStep.assignment_id == assignment_id,
                    SupervisionStep.action == CLOSED,
                )
            )
            is not None
        )

    @staticmethod
    def _request(conn, request_id: int):
        request = conn.execute(
            select(SupervisionStep).where(
                SupervisionStep.step_id == int(request_id),
                SupervisionStep.action == EXTENSION_REQUESTED,
            )
        ).first()
        if request is None:
            raise ValidationError(f"未知的延期申请 #{request_id}")
        return request

    @staticmethod
    def _decision(conn, request_id: int):
        return conn.execute(
            select(SupervisionStep).where(
                SupervisionStep.request_id == int(request_id),
                SupervisionStep.action.in_(DECISIONS),
            )
        ).first()

    @staticmethod
    def _pending_request(conn, assignment_id: int) -> int | None:
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

    @staticmethod
    def _moved(conn, request) -> bool:
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
