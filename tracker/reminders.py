"""Reminders (催办): per unit, what is overdue, due within N days, or not reported this
period, and the notice text that goes with it.  Pure functions; the log of reminders sent
lives in :class:`tracker.supervision.Supervision`.

>>> rows = reminder_list(with_states(assignments, latest, "2026-11"), today, days=15)  # doctest: +SKIP
>>> print(notice_text(rows, today=today, days=15, period="2026-11"))                  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from pandas.api.typing import NAType

from tracker.labels import TASK_ID, TASK_LABEL, task_labels
from tracker.rollup import counted
from tracker.schema import (
    ACCEPTED,
    CLOSED,
    DONE,
    NOT_ACKNOWLEDGED,
    PROGRESS_FIELDS,
    ROLE_LABELS,
    STATUS_LABELS,
    SUBMITTED,
    SUPERVISION_STATE_LABELS,
)

OVERDUE = "已逾期"
DUE_SOON = "即将到期"
UNREPORTED = "本期未报送"
UNACKNOWLEDGED = "未签收"
REASONS: list[str] = [OVERDUE, DUE_SOON, UNREPORTED, UNACKNOWLEDGED]
# What 催办 picks unless asked for more: a first click once reminded every unit of every
# unsigned task.  An unsigned task past its deadline is still listed, as 已逾期.
DEFAULT_REASONS: list[str] = [OVERDUE, DUE_SOON]

UNIT = "责任单位"
TASK = TASK_LABEL  # 〔2025〕11号·1-2 (tracker.labels); the id is the last column, shown on request
TASK_TEXT = "任务内容"
ROLE = "角色"
DUE = PROGRESS_FIELDS["due_date"]
DAYS_LEFT = "剩余天数"
STATUS = PROGRESS_FIELDS["status"]
STATE = "报送状态"
REASON = "催办事项"
REMINDER_COLUMNS: list[str] = [
    UNIT,
    TASK,
    TASK_TEXT,
    ROLE,
    DUE,
    DAYS_LEFT,
    STATUS,
    STATE,
    REASON,
    TASK_ID,
]
TIMES = "已催办次数"
LAST_SENT = "最近催办"
ITEMS = "事项合计"
SUMMARY_COLUMNS: list[str] = [
    UNIT,
    OVERDUE,
    DUE_SOON,
    UNREPORTED,
    UNACKNOWLEDGED,
    ITEMS,
    TIMES,
    LAST_SENT,
]


def _reasons(
    rows: pd.DataFrame, today: date, days: int, reasons: Sequence[str]
) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Each row's deadline, days left to it, and the text of the given ``reasons`` it is
    reminded of ("" for none)."""
    due = pd.to_datetime(rows["due_date"], errors="coerce")
    left = (due - pd.Timestamp(today)).dt.days
    state = rows["state"]
    open_ = (rows["status"] != DONE) & (state != CLOSED)
    overdue = open_ & (left < 0)
    soon = open_ & (left >= 0) & (left <= days)
    unreported = (state != CLOSED) & ~state.isin([SUBMITTED, ACCEPTED])
    unacknowledged = state == NOT_ACKNOWLEDGED
    # Each row's text from the few combinations there are: (overdue, soon, third) where the
    # third is none, 本期未报送 or 未签收; a comprehension over 100,000 rows took a second.
    third = np.where(unreported, np.where(unacknowledged, 2, 1), 0)
    code = overdue.to_numpy(dtype=int) * 6 + soon.to_numpy(dtype=int) * 3 + third
    texts = np.array(
        [
            "、".join(
                name
                for name, hit in (
                    (OVERDUE, o),
                    (DUE_SOON, s),
                    (UNACKNOWLEDGED if t == 2 else UNREPORTED, t > 0),
                )
                if hit and name in reasons
            )
            for o in (0, 1)
            for s in (0, 1)
            for t in (0, 1, 2)
        ],
        dtype=object,
    )
    reason = texts[code]
    return due, left, reason


def reminder_list(
    rows: pd.DataFrame, today: date, days: int, reasons: Sequence[str] = tuple(REASONS)
) -> pd.DataFrame:
    """What each unit is reminded of, one row per assignment, by unit then urgency.

    ``rows``: assignments with this period's ``state``
    (:func:`tracker.supervision.with_states`).  An open assignment (not done, not closed)
    is 已逾期 past its deadline and 即将到期 within ``days`` days of it; any assignment not
    closed is 本期未报送 until a report for the period is submitted (未签收 if the unit has
    never signed for it).  Only the given ``reasons`` are listed.
    """
    rows = counted(rows)  # each member is chased, never its collective's roll-up row
    if rows.empty:
        return pd.DataFrame(columns=REMINDER_COLUMNS)
    due, left, reason = _reasons(rows, today, days, reasons)
    state = rows["state"]
    keep = reason != ""
    rows, due, left, state = rows[keep], due[keep], left[keep], state[keep]
    # .array, not .to_numpy(): text columns stay Arrow strings instead of a round trip
    # through Python objects.
    table = pd.DataFrame(
        {
            UNIT: rows["unit"].astype(str).array,
            TASK: task_labels(rows).array,
            TASK_TEXT: rows["task_text"].astype(str).array,
            ROLE: rows["role"].map(ROLE_LABELS).fillna(rows["role"]).array,
            DUE: due.dt.date.astype(object).where(due.notna(), None).to_numpy(),
            DAYS_LEFT: left.astype("Int64").array,
            STATUS: rows["status"].map(STATUS_LABELS).fillna(rows["status"]).array,
            STATE: state.map(SUPERVISION_STATE_LABELS).fillna(state).array,
            REASON: pd.array(reason[keep], dtype="str"),
            TASK_ID: rows["task_id"].astype(str).array,
        }
    )
    urgency = table[DAYS_LEFT].astype("float").fillna(float("inf"))
    order = table.assign(_urgency=urgency).sort_values([UNIT, "_urgency", TASK_ID], kind="stable")
    return order.drop(columns="_urgency").reset_index(drop=True)


@dataclass(frozen=True)
class ReminderBoard:
    """What the 催办 page draws: built once per data revision, supervision step, filter and
    choice, so a rerun only draws (at 100,000 items the notice alone takes seconds)."""

    items: pd.DataFrame  # every item: the workbook and the notices recorded use them all
    summary: pd.DataFrame  # reminder_summary
    log: pd.DataFrame  # the reminder log, newest first
    shown: pd.DataFrame  # the first items as pages list them (shown_list)
    notice: str  # the notice of those first items (of all of them when none are cut)

    @property
    def cut(self) -> bool:
        return len(self.shown) < len(self.items)

    @property
    def send_label(self) -> str:
        """The 催办 button, saying whom it reaches before it is clicked.

        >>> ReminderBoard(pd.DataFrame({UNIT: ["甲", "甲", "乙"]}), pd.DataFrame(),
        ...               pd.DataFrame(), pd.DataFrame(), "").send_label
        '发送催办（2个单位，3项）'
        """
        return f"发送催办（{self.items[UNIT].nunique()}个单位，{len(self.items)}项）"


def reminder_board(
    states: pd.DataFrame,
    log: pd.DataFrame,
    *,
    today: date,
    days: int,
    period: str,
    reasons: Sequence[str] = tuple(REASONS),
    sender: str = "",
    limit: int | None = None,
) -> ReminderBoard:
    """The list (:func:`reminder_list` of ``states``), its summary against ``log``, and
    what a page shows of it: at most ``limit`` items and a notice of those.

    >>> board = reminder_board(with_states(rows, latest, "2026-11"), log, today=today,
    ...     days=15, period="2026-11", limit=1_000)  # doctest: +SKIP
    """
    items = reminder_list(states, today, days, reasons)
    first = items if limit is None else items.head(limit)
    return ReminderBoard(
        items=items,
        summary=reminder_summary(items, log),
        log=log,
        shown=shown_list(first),
        notice=notice_text(
            items, today=today, days=days, period=period, sender=sender, limit=limit
        ),
    )


def reminder_summary(reminders: pd.DataFrame, log: pd.DataFrame) -> pd.DataFrame:
    """Per unit: how many items of each kind, and how often it was reminded before
    (``log`` is :meth:`Supervision.reminders`).  Units with items, most items first."""
    if reminders.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    counts = pd.DataFrame(
        {
            name: reminders[REASON].str.contains(name, regex=False).groupby(reminders[UNIT]).sum()
            for name in REASONS
        }
    )
    counts[ITEMS] = reminders.groupby(UNIT).size()
    sent = reminder_counts(log).set_index(UNIT)
    counts[TIMES] = sent[TIMES].reindex(counts.index).fillna(0).astype(int)
    last = pd.to_datetime(sent[LAST_SENT].reindex(counts.index))
    counts[LAST_SENT] = ["" if pd.isna(t) else f"{t:%Y-%m-%d %H:%M}" for t in last]
    counts = counts.rename_axis(UNIT).reset_index()
    counts = counts.sort_values([ITEMS, UNIT], ascending=[False, True], kind="stable")
    return counts.reset_index(drop=True)[SUMMARY_COLUMNS]


def shown_list(reminders: pd.DataFrame) -> pd.DataFrame:
    """The list as pages show it: deadlines as ISO text, blank where there is none."""
    return reminders.assign(
        **{DUE: ["" if d is None or pd.isna(d) else d.isoformat() for d in reminders[DUE]]}
    )


def reminder_counts(log: pd.DataFrame) -> pd.DataFrame:
    """Per unit reminded: how many reminders, and when the last one went out."""
    if log.empty:
        return pd.DataFrame({UNIT: pd.Series(dtype=object), TIMES: 0, LAST_SENT: pd.NaT})
    grouped = log.groupby("unit")
    return pd.DataFrame(
        {
            UNIT: list(grouped.groups),
            TIMES: grouped.size().to_numpy(),
            LAST_SENT: pd.to_datetime(grouped["sent_at"].max()).to_numpy(),
        }
    )


def notice_text(
    reminders: pd.DataFrame,
    *,
    today: date,
    days: int,
    period: str,
    sender: str = "",
    limit: int | None = None,
) -> str:
    """The list as a plain-text notice ready to paste into a message or document; with
    ``limit``, only that many items, and a line saying how many more there are (a page
    shows that, and offers the whole notice as a download).

    >>> rows = pd.DataFrame({UNIT: ["市科委"], TASK: ["〔2025〕11号·1-1"], TASK_TEXT: ["建设平台"],
    ...     ROLE: ["牵头"], DUE: [date(2026, 11, 1)], DAYS_LEFT: [-29], STATUS: ["推进中"],
    ...     STATE: ["已签收"], REASON: ["已逾期、本期未报送"]})
    >>> print(notice_text(rows, today=date(2026, 11, 30), days=15, period="2026-11"))
    关于督促办理政策任务的通知
    <BLANKLINE>
    各有关单位：
    截至 2026-11-30，下列任务已逾期、将于 15 日内到期，或本期（2026-11）尚未报送进展。请抓紧办理，并在“报送”页报送本期进展；确需延期的，请在到期前提出延期申请。
    <BLANKLINE>
    一、市科委（1 项）
    1. 【已逾期 29 天；本期未报送】〔2025〕11号·1-1 建设平台（完成时限 2026-11-01）
    <BLANKLINE>
    2026-11-30
    """
    lines = [
        "关于督促办理政策任务的通知",
        "",
        "各有关单位：",
        f"截至 {today.isoformat()}，下列任务已逾期、将于 {days} 日内到期，或本期（{period}）"
        "尚未报送进展。请抓紧办理，并在“报送”页报送本期进展；确需延期的，请在到期前提出延期申请。",
    ]
    # Plain lists, not itertuples: at 100,000 items the notice is built in a fraction of the time.
    tasks = reminders[TASK].tolist()
    task_texts = reminders[TASK_TEXT].tolist()
    dues = reminders[DUE].tolist()
    days_left = reminders[DAYS_LEFT].tolist()
    reasons = reminders[REASON].tolist()
    written = 0
    groups = reminders.groupby(UNIT, sort=False).indices
    for number, (unit, positions) in enumerate(groups.items(), start=1):
        if limit is not None and written >= limit:
            break
        lines += ["", f"{chinese_number(number)}、{unit}（{len(positions)} 项）"]
        for index, i in enumerate(positions, start=1):
            if limit is not None and written >= limit:
                break
            what = _what(reasons[i], days_left[i])
            lines.append(f"{index}. 【{what}】{tasks[i]} {task_texts[i]}{_due(dues[i])}")
            written += 1
    if written < len(reminders):
        lines += ["", f"……另有 {len(reminders) - written:,} 项未显示，见完整通知。"]
    lines += ["", f"{sender}　{today.isoformat()}" if sender else today.isoformat()]
    return "\n".join(lines)


def unit_notices(
    reminders: pd.DataFrame, *, today: date, days: int, period: str, sender: str = ""
) -> list[tuple[str, int, str]]:
    """(unit, number of items, that unit's notice) for each unit in the list: what
    :meth:`Supervision.remind` records."""
    return [
        (
            str(unit),
            len(items),
            notice_text(items, today=today, days=days, period=period, sender=sender),
        )
        for unit, items in reminders.groupby(UNIT, sort=False)
    ]


def chinese_number(number: int) -> str:
    """1–99 in Chinese numerals, as notices number their sections.

    >>> chinese_number(3), chinese_number(10), chinese_number(21)
    ('三', '十', '二十一')
    """
    digits = "零一二三四五六七八九"
    tens, ones = divmod(number, 10)
    if not 0 < number < 100:
        return str(number)
    head = "" if tens == 0 else ("十" if tens == 1 else digits[tens] + "十")
    return head + (digits[ones] if ones else "")


def _what(reasons: str, left: int | NAType | None) -> str:
    shown = []
    for reason in reasons.split("、"):
        if left is None or pd.isna(left):
            shown.append(reason)
        elif reason == OVERDUE:
            shown.append(f"{OVERDUE} {-int(left)} 天")
        elif reason == DUE_SOON:
            shown.append(f"{int(left)} 天后到期" if left else "今日到期")
        else:
            shown.append(reason)
    return "；".join(shown)


def _due(due: date | None) -> str:
    return "" if due is None or pd.isna(due) else f"（{DUE} {due}）"
