"""What the 报送, 审核 and 催办 pages show of the supervision workflow, pure (frames in,
frames out): a unit's board with each assignment's state this period, the review queue of
an account, accepted reports and the drafts they start, pending extension requests, and a
step history in Chinese.  :class:`tracker.supervision.Supervision` reads the rows they take.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from tracker.accounts import Account
from tracker.labels import TASK_ID, TASK_LABEL, task_labels
from tracker.schema import (
    ACCEPTED,
    DONE,
    EXTENSION_REQUESTED,
    LEAD,
    RETURNED,
    ROLE_LABELS,
    STATUS_LABELS,
    SUBMITTED,
    SUPERVISION_STATE_LABELS,
    SUPERVISION_STEP_LABELS,
)
from tracker.supervision_rules import DECISIONS, WORKFLOW_STEPS, review_refusal, state_of

# What the 报送/审核 pages show of a history, newest first.
STEP_TABLE_COLUMNS: list[str] = ["报告期", "环节", "内容", "申请时限", "办理人", "时间"]
QUEUE_COLUMNS: list[str] = [
    "assignment_id",
    "period",
    "state",
    "task_id",
    "task_label",
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
    "task_label",
    "task_text",
    "unit",
    "due_date",
    "requested_due",
    "reason",
    "requested_by",
    "requested_at",
]


# What tracker.labels.task_labels names a task by.
_NAMED = ["doc_no", "policy_title", "measure_no", "task_seq"]


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


# The task by 文号 and measure (tracker.labels); its id last, for a page to show on request.
BOARD_COLUMNS: list[str] = [
    TASK_LABEL,
    "任务内容",
    "角色",
    "完成时限",
    "状态",
    "报送状态",
    "退回理由",
    TASK_ID,
]


def board_table(states: pd.DataFrame) -> pd.DataFrame:
    """What the 报送 page lists of a unit's assignments, in Chinese."""
    due = pd.to_datetime(states["due_date"], errors="coerce")
    return pd.DataFrame(
        {
            TASK_LABEL: task_labels(states).to_numpy(),
            "任务内容": states["task_text"].astype(str).to_numpy(),
            "角色": states["role"].map(ROLE_LABELS).fillna(states["role"]).to_numpy(),
            "完成时限": [_iso(d) for d in due],
            "状态": states["status"].map(STATUS_LABELS).fillna(states["status"]).to_numpy(),
            "报送状态": states["state"].map(SUPERVISION_STATE_LABELS).to_numpy(),
            "退回理由": states["reason"].fillna("").astype(str).to_numpy(),
            TASK_ID: states["task_id"].astype(str).to_numpy(),
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
    and a picker label per assignment: the task's label, role and the start of its text.

    >>> board = unit_board(store.assignments(), supervision.latest(period), "市科委", period)  # doctest: +SKIP
    >>> board.labels[board.states.index[0]]  # doctest: +SKIP
    '〔2026〕1号·1-1（牵头）　推动科技创新资源开放'
    """
    states = unit_states(assignments, latest, unit, period)
    states["task_label"] = task_labels(states)
    role = states["role"].map(ROLE_LABELS).fillna(states["role"]).astype(str)
    names = (
        states["task_label"].astype(str)
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
    ``text`` in the task's label, id or text, and the supervision ``state`` when given.

    A mask in board order, so it cuts the board table and the task picker alike: a unit
    with 14,500 assignments sent every one of them to the browser as a picker option.

    >>> states = pd.DataFrame({"task_id": ["t1", "t2"], "task_text": ["推动开放", "资金保障"],
    ...                        "task_label": ["〔2026〕1号·1-1", "〔2026〕1号·2-1"],
    ...                        "state": ["", "submitted"]})
    >>> matching(states, "资金").tolist(), matching(states, "·2-1").tolist()
    ([False, True], [False, True])
    >>> matching(states, state="").tolist()
    [True, False]
    """
    keep = pd.Series(True, index=states.index)
    if state is not None:
        keep &= states["state"] == state
    words = text.split()
    if words:
        labels = states["task_label"] if "task_label" in states else task_labels(states)
        haystack = labels.astype(str) + " " + states["task_id"].astype(str) + " "
        haystack += states["task_text"].astype(str)
        for word in words:
            keep &= haystack.str.contains(word, case=False, regex=False)
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
        assignments[["assignment_id", "task_id", "task_text", "unit", "role", "status", *_NAMED]],
        on="assignment_id",
    )
    if rows.empty:
        return pd.DataFrame(columns=QUEUE_COLUMNS)
    rows["task_label"] = task_labels(rows)
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
        assignments[["assignment_id", "task_text", "due_date", *_NAMED]], on="assignment_id"
    )
    rows["task_label"] = task_labels(rows)
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
