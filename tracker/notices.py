"""Notice rules: which event or day produces which notice, to whom, saying what; and writing
them to the outbox (``notices``) with their unique key (rule, subject, day, channel,
receiver), so a notice is never created twice.

The rules (declared in :data:`tracker.config.NOTICE_RULES`): deadline in N days
(``due_7``, ``due_1``; once per deadline, so an approved extension reminds again before the
new date), ``overdue`` (once a day until the task is done or 办结), ``report_due`` (once per
period, N days before it ends, while this period's report is not sent), and the events
``returned``, ``extension_approved``, ``extension_refused`` and ``remind`` (催办), written in
the transaction of the step that causes them (:func:`on_step`, :func:`on_reminders`).

Deciding is pure (:func:`time_events`, :func:`step_event`, rows in, :class:`Event` out);
only :func:`enqueue` writes.

>>> period_end(date(2026, 2, 10), "month"), period_end(date(2026, 11, 3), "quarter")
(datetime.date(2026, 2, 28), datetime.date(2026, 12, 31))
"""

from __future__ import annotations

import calendar
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from tracker import config
from tracker.labels import task_label
from tracker.models import (
    AccountContact,
    Assignment,
    Measure,
    Notice,
    Policy,
    Progress,
    Task,
    UnitRobot,
    User,
    UserUnit,
)
from tracker.schema import (
    ACCEPTED,
    CLOSED,
    DONE,
    EXTENSION_APPROVED,
    EXTENSION_REFUSED,
    RETURNED,
    SUBMITTED,
)
from tracker.senders import EMAIL

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATUS_LABELS: dict[str, str] = {
    PENDING: "待发送",
    SENDING: "发送中",
    SENT: "已发送",
    FAILED: "发送失败",
}
NO_RECEIVER = "none"
RULE_TITLES: dict[str, str] = {
    "due": "临近提醒",
    "overdue": "超期提醒",
    "returned": "退回通知",
    "extension_approved": "延期已批准",
    "extension_refused": "延期未批准",
    "report_due": "报送提醒",
    "remind": "催办",
}
STEP_RULES: dict[str, str] = {
    RETURNED: "returned",
    EXTENSION_APPROVED: "extension_approved",
    EXTENSION_REFUSED: "extension_refused",
}
# A report in one of these states counts as sent for the period.
REPORTED_STATES: frozenset[str] = frozenset({SUBMITTED, ACCEPTED, CLOSED})
TASK_TEXT_LIMIT = 200


@dataclass(frozen=True)
class Event:
    """One notice before it has receivers: ``subject`` is the assignment id (or the unit
    for a 催办), and with ``rule`` and ``day`` it is the key that keeps it unique."""

    rule: str
    subject: str
    day: date
    unit: str
    assignment_id: int | None
    title: str
    lines: tuple[str, ...]
    link: str


def rule_label(rule: str) -> str:
    """``due_7`` -> 临近提醒（7天）; other codes -> their title."""
    if rule.startswith("due_"):
        return f"{RULE_TITLES['due']}（{rule[4:]}天）"
    return RULE_TITLES.get(rule, rule)


def period_end(day: date, kind: str) -> date:
    """The last day of the reporting period ``day`` belongs to."""
    month = day.month if kind != "quarter" else ((day.month - 1) // 3 + 1) * 3
    return date(day.year, month, calendar.monthrange(day.year, month)[1])


def task_link(base_url: str, policy_id: str, unit: str, task_id: str) -> str:
    """The 报送 page filtered to the task's policy and unit (the sidebar filters live in the
    URL), with the task id for the reader."""
    query = urllib.parse.urlencode({"policy": policy_id, "unit": unit, "task": task_id})
    return f"{base_url.rstrip('/')}/reporting?{query}"


def _short(text: object) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= TASK_TEXT_LIMIT else text[: TASK_TEXT_LIMIT - 1] + "…"


def _due_text(due: object) -> str:
    if due is None or due is pd.NaT or (isinstance(due, float) and due != due):
        return "未设定"
    return str(pd.Timestamp(str(due)).date())


def assignment_event(
    rule: str,
    row: Mapping,
    day: date,
    *,
    base_url: str,
    headline: str,
    extra: Sequence[str] = (),
) -> Event:
    """The notice of ``rule`` about one assignment: task (by 文号 and measure, see
    :func:`tracker.labels.task_label`), unit, deadline, link.  ``row`` carries the task's
    ``doc_no``, ``measure_no`` and ``task_seq`` as :meth:`Store.assignments` does."""
    unit = str(row["unit"])
    task_id = str(row["task_id"])
    name = task_label(
        row.get("doc_no"),
        int(row["measure_no"]),
        int(row["task_seq"]),
        row.get("policy_title"),
    )
    lines = (
        f"任务：{name} {_short(row.get('task_text'))}",
        f"责任单位：{unit}",
        f"完成时限：{_due_text(row.get('due_date'))}",
        *extra,
    )
    return Event(
        rule=rule,
        subject=str(int(row["assignment_id"])),
        day=day,
        unit=unit,
        assignment_id=int(row["assignment_id"]),
        title=f"【{rule_label(rule)}】{unit}：{headline}",
        lines=lines,
        link=task_link(base_url, str(row.get("policy_id", "")), unit, task_id),
    )


def time_events(
    rows: pd.DataFrame,
    today: date,
    *,
    days: Sequence[int] = (7, 1),
    report_days: int = 3,
    period_kind: str = "month",
    base_url: str = "http://127.0.0.1:8501",
) -> list[Event]:
    """The scheduled rules over the assignments (``state`` is this period's supervision
    state, as :func:`tracker.supervision.with_states` gives it).

    A deadline ``d`` days away fires the largest configured N with ``d`` between the next
    smaller N (exclusive) and N, once per deadline: with (7, 1) a task due in 7..2 days
    gets ``due_7`` and one due in 1..0 days ``due_1``, even if a run was missed.
    """
    events: list[Event] = []
    windows = list(zip(days, [*days[1:], -1], strict=True))
    end = period_end(today, period_kind)
    for row in rows.to_dict("records"):
        state = str(row.get("state") or "")
        if state == CLOSED:
            continue
        due = row.get("due_date")
        open_task = row.get("status") != DONE
        if open_task and due is not None and not pd.isna(due):
            due_day = pd.Timestamp(due).date()
            left = (due_day - today).days
            if left < 0:
                events.append(
                    assignment_event(
                        "overdue",
                        row,
                        today,
                        base_url=base_url,
                        headline=f"已超期 {-left} 天",
                    )
                )
            for n, smaller in windows:
                if smaller < left <= n:
                    events.append(
                        assignment_event(
                            f"due_{n}",
                            row,
                            due_day,
                            base_url=base_url,
                            headline=f"{left} 天后到期" if left else "今天到期",
                        )
                    )
        if state not in REPORTED_STATES and 0 <= (end - today).days <= report_days:
            events.append(
                assignment_event(
                    "report_due",
                    row,
                    end,
                    base_url=base_url,
                    headline=f"本期报送将于 {end} 截止，尚未报送",
                )
            )
    return events


def step_event(
    action: str,
    row: Mapping[str, object],
    at: datetime,
    *,
    text: str = "",
    due_date: date | None = None,
    base_url: str,
) -> Event | None:
    """The notice a supervision step causes (退回, 延期批准, 不予延期), else None."""
    rule = STEP_RULES.get(action)
    if rule is None:
        return None
    text = " ".join(text.split())  # one line: a reason never starts a line of its own
    if rule == "returned":
        headline, extra = "报送被退回，请修改后重新报送", (f"退回理由：{text}",)
    elif rule == "extension_approved":
        headline, extra = f"延期申请已批准，新时限 {due_date}", (f"新的完成时限：{due_date}",)
    else:
        headline, extra = "延期申请未获批准，原时限不变", (f"不予延期的理由：{text}",)
    return assignment_event(rule, row, at.date(), base_url=base_url, headline=headline, extra=extra)


def remind_event(unit: str, items: int, body: str, at: datetime, *, base_url: str) -> Event:
    """The 催办 of one unit: its items and the notice text the supervisor sent."""
    query = urllib.parse.urlencode({"unit": unit})
    return Event(
        rule="remind",
        subject=unit,
        day=at.date(),
        unit=unit,
        assignment_id=None,
        title=f"【催办】{unit}：{items} 项任务需尽快办理",
        lines=(f"责任单位：{unit}", f"需办理事项：{items} 项", *_short_lines(body)),
        link=f"{base_url.rstrip('/')}/reporting?{query}",
    )


def _short_lines(body: str, limit: int = 12) -> list[str]:
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    return lines[:limit] + ([f"……（共 {len(lines)} 行）"] if len(lines) > limit else [])


# --- writing the outbox ------------------------------------------------------------------


def receivers(conn, units: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """unit -> [(channel, receiver)]: the e-mail of each active account of the unit, and
    each of its robots (by secret reference)."""
    units = sorted(set(units))
    found: dict[str, list[tuple[str, str]]] = {u: [] for u in units}
    for start in range(0, len(units), 500):
        chunk = units[start : start + 500]
        for unit, email in conn.execute(
            select(UserUnit.unit, AccountContact.email)
            .join(User, User.username == UserUnit.username)
            .join(AccountContact, AccountContact.username == UserUnit.username)
            .where(UserUnit.unit.in_(chunk), User.active.is_(True), AccountContact.email != "")
            .order_by(UserUnit.unit, AccountContact.email)
        ):
            found[unit].append((EMAIL, email))
        for unit, kind, ref in conn.execute(
            select(UnitRobot.unit, UnitRobot.kind, UnitRobot.secret_ref)
            .where(UnitRobot.unit.in_(chunk))
            .order_by(UnitRobot.unit, UnitRobot.kind)
        ):
            found[unit].append((kind, ref))
    return found


def enqueue(conn, events: Sequence[Event], at: datetime, *, keep_unreachable: bool) -> int:
    """Write one outbox row per event and receiver in ``conn``'s transaction; a row whose
    key exists already is skipped.  With ``keep_unreachable`` an event whose unit has no
    receiver is kept as a failed row saying so (events from a person's action); the
    scheduled scan leaves those out.  Returns how many rows were new."""
    if not events:
        return 0
    by_unit = receivers(conn, (e.unit for e in events))
    rows = []
    for event in events:
        targets = by_unit.get(event.unit) or []
        if not targets and keep_unreachable:
            targets = [(NO_RECEIVER, "")]
        for channel, receiver in targets:
            rows.append(
                {
                    "rule": event.rule,
                    "subject": event.subject,
                    "day": event.day,
                    "assignment_id": event.assignment_id,
                    "unit": event.unit,
                    "channel": channel,
                    "receiver": receiver,
                    "title": event.title,
                    "body": "\n".join(event.lines),
                    "link": event.link,
                    "status": FAILED if channel == NO_RECEIVER else PENDING,
                    "attempts": 0,
                    "next_try_at": at,
                    "claimed_by": "",
                    "last_error": "该单位未登记接收人（邮箱或群机器人）"
                    if channel == NO_RECEIVER
                    else "",
                    "created_at": at,
                }
            )
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    written = 0
    for start in range(0, len(rows), 500):
        statement = (
            dialect.insert(Notice)
            .values(rows[start : start + 500])
            .on_conflict_do_nothing(
                index_elements=["rule", "subject", "day", "channel", "receiver"]
            )
        )
        written += len(conn.execute(statement.returning(Notice.notice_id)).all())
    return written


def _assignment_row(conn, assignment_id: int) -> dict[str, object]:
    row = conn.execute(
        select(
            Assignment.assignment_id,
            Assignment.task_id,
            Assignment.unit,
            Task.task_text,
            Task.task_seq,
            Measure.policy_id,
            Measure.measure_no,
            Policy.doc_no,
            Policy.title.label("policy_title"),
            Progress.due_date,
        )
        .join(Task, Task.task_id == Assignment.task_id)
        .join(Measure, Measure.measure_id == Task.measure_id)
        .join(Policy, Policy.policy_id == Measure.policy_id)
        .join(Progress, Progress.assignment_id == Assignment.assignment_id)
        .where(Assignment.assignment_id == assignment_id)
    ).one()
    return dict(row._mapping)


def on_step(
    conn,
    assignment_id: int,
    action: str,
    at: datetime,
    *,
    text: str = "",
    due_date: date | None = None,
) -> int:
    """Hook for :mod:`tracker.supervision`: the notice a step causes, in its transaction."""
    if action not in STEP_RULES:
        return 0
    row = _assignment_row(conn, assignment_id)
    event = step_event(
        action,
        row,
        at,
        text=text,
        due_date=due_date,
        base_url=str(config.value("TRACKER_BASE_URL")),
    )
    return enqueue(conn, [event] if event else [], at, keep_unreachable=True)


def on_reminders(conn, reminders: Sequence[tuple[str, int, str]], at: datetime) -> int:
    """Hook for :meth:`tracker.supervision.Supervision.remind`: the 催办 of each unit."""
    base_url = str(config.value("TRACKER_BASE_URL"))
    events = [remind_event(u, n, body, at, base_url=base_url) for u, n, body in reminders]
    return enqueue(conn, events, at, keep_unreachable=True)
