"""Pure logic behind the 进度填报 page: the frame a unit edits and the updates its edits mean.

No Streamlit here, so the traps of ``st.data_editor`` (edits kept by row position, values
written back into the widget state) are handled by plain, testable functions:

* :func:`editor_frame` indexes the editor by ``assignment_id`` and keeps the version each
  row was loaded at in a hidden column, so a save is always tied to the row the user saw;
* :func:`changed_updates` compares the edited frame with the loaded one *by assignment id*
  (never by position) and sends only the cells that changed, with the loaded versions as
  ``base_version`` — the store then refuses anything someone else changed meanwhile.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from datetime import date, datetime

import pandas as pd

from tracker.aggregate import measure_label, short_text
from tracker.errors import Conflict, Problem
from tracker.progress import is_blank, normalize_status, normalize_value, period_of
from tracker.schema import DONE, PROGRESS_FIELDS, ROLE_LABELS, STATUS_LABELS
from tracker.store import Update

# --- editor column labels ----------------------------------------------------------------
TASK_ID = "任务编号"
MEASURE = "措施"
TASK_TEXT = "任务内容"
ROLE = "角色"
UPDATED_THIS_PERIOD = "本期已更新"
UPDATED_BY = "最近填报人"
UPDATED_AT = "最近更新"
VERSION = "版本"  # hidden in the editor; the base version of every row

EDITABLE_LABELS: dict[str, str] = {label: name for name, label in PROGRESS_FIELDS.items()}
# The texts staff write, in the order they write them (佐证材料 before 存在问题: it is asked
# for every period, problems only when there are any).
EDITOR_TEXT_FIELDS: tuple[str, ...] = ("note", "next_step", "evidence", "problems")
READ_ONLY_COLUMNS: list[str] = [
    MEASURE,
    TASK_TEXT,
    UPDATED_THIS_PERIOD,
    UPDATED_AT,
    UPDATED_BY,
    TASK_ID,
]
# What staff read first (which task), then every field they fill in, then who and when;
# the role is the tab's, the task id is kept (hidden) for the detail panel and the tests.
EDITOR_COLUMNS: list[str] = [
    MEASURE,
    TASK_TEXT,
    *(PROGRESS_FIELDS[f] for f in ("status", "percent", "due_date", *EDITOR_TEXT_FIELDS)),
    UPDATED_THIS_PERIOD,
    UPDATED_AT,
    UPDATED_BY,
    TASK_ID,
    VERSION,
]

SOURCE_LABELS: dict[str, str] = {"web": "网页填报", "api": "接口", "excel": "Excel导入"}
HISTORY_COLUMNS: list[str] = [
    "责任单位",
    "字段",
    "原值",
    "新值",
    "修改人",
    "时间",
    "来源",
    "报告期",
]
PARTNER_COLUMNS: list[str] = [
    MEASURE,
    TASK_TEXT,
    "责任单位",
    ROLE,
    "状态",
    "完成比例(%)",
    "进展情况",
    "更新时间",
    TASK_ID,
]
TREND_COLUMNS: list[str] = ["报告期", "分工数", "已完成", "完成率(%)", "平均完成比例(%)"]


def current_period(today: date) -> str:
    """The reporting period edits made ``today`` are stamped with (月报 or 季报)."""
    return period_of(today)


def unit_options(assignments: pd.DataFrame) -> list[str]:
    """Units that have at least one live assignment, in a stable order."""
    return sorted(assignments["unit"].dropna().unique().tolist()) if len(assignments) else []


def editor_frame(
    assignments: pd.DataFrame, unit: str, role: str, period: str | None = None
) -> pd.DataFrame:
    """The unit's assignments in one role, indexed by assignment id, with Chinese headers.

    ``措施`` is the measure's short label (``〔2025〕11号·3``), status its Chinese label, due
    date a ``date`` or ``None``; ``本期已更新`` marks rows already saved in ``period``;
    ``版本`` is the version each row was loaded at.
    """
    rows = assignments[(assignments["unit"] == unit) & (assignments["role"] == role)]
    due = pd.to_datetime(rows["due_date"], errors="coerce")
    updated = pd.to_datetime(rows["updated_at"], errors="coerce")
    this_period = rows["period"] == period if period else pd.Series(False, index=rows.index)
    frame = pd.DataFrame(
        {
            MEASURE: _measure_labels(rows),
            TASK_TEXT: rows["task_text"].astype(str),
            PROGRESS_FIELDS["status"]: rows["status"].map(STATUS_LABELS).fillna(rows["status"]),
            PROGRESS_FIELDS["percent"]: rows["percent"].astype("int64"),
            PROGRESS_FIELDS["due_date"]: [None if pd.isna(d) else d.date() for d in due],
            **{PROGRESS_FIELDS[f]: rows[f].fillna("").astype(str) for f in EDITOR_TEXT_FIELDS},
            UPDATED_THIS_PERIOD: this_period.map({True: "✓", False: ""}),
            UPDATED_AT: updated,
            UPDATED_BY: rows["updated_by"].fillna("").astype(str),
            TASK_ID: rows["task_id"].astype(str),
            VERSION: rows["version"].astype("int64"),
        }
    )
    frame.index = pd.Index(rows["assignment_id"].astype("int64").to_numpy(), name="assignment_id")
    frame[PROGRESS_FIELDS["due_date"]] = frame[PROGRESS_FIELDS["due_date"]].astype(object)
    return frame[EDITOR_COLUMNS]


def _measure_labels(rows: pd.DataFrame) -> list[str]:
    return [
        measure_label(doc_no, no)
        for doc_no, no in zip(rows["doc_no"], rows["measure_no"], strict=True)
    ]


def task_detail(assignments: pd.DataFrame, unit: str, assignment_id: int) -> dict[str, str]:
    """What the detail panel shows above one task's form: policy (文号 and title), measure
    (label and title), the full task text, the unit's role and the other units on the task
    with theirs (``市教委（配合）``); empty when the assignment is gone."""
    match = assignments.loc[assignments["assignment_id"] == assignment_id]
    if match.empty:  # archived since the page was loaded
        return {}
    row = match.iloc[0]
    task = assignments[(assignments["task_id"] == row["task_id"]) & (assignments["unit"] != unit)]
    others = "、".join(
        f"{u}（{ROLE_LABELS.get(r, r)}）" for u, r in zip(task["unit"], task["role"], strict=True)
    )
    return {
        "文号": str(row["doc_no"]),
        "政策": str(row["policy_title"]),
        MEASURE: measure_label(row["doc_no"], row["measure_no"]),
        "措施名称": str(row["measure_title"]),
        TASK_TEXT: str(row["task_text"]),
        ROLE: ROLE_LABELS.get(row["role"], row["role"]),
        "其他责任单位": others or "无",
        TASK_ID: str(row["task_id"]),
    }


def detail_labels(assignments: pd.DataFrame, unit: str) -> dict[int, str]:
    """assignment id -> "牵头 · 〔2025〕11号·3　任务内容…" for the unit's tasks, lead first:
    the detail panel's task picker."""
    rows = assignments[assignments["unit"] == unit].sort_values("role", kind="stable")
    labels = (
        rows["role"].map(ROLE_LABELS).fillna(rows["role"])
        + " · "
        + pd.Series(_measure_labels(rows), index=rows.index)
        + "　"
        + rows["task_text"].astype(str).map(lambda text: short_text(text, 40))
    )
    return dict(zip(rows["assignment_id"].astype(int), labels, strict=True))


def opening_unit(units: list[str], wanted: Iterable[str | None]) -> str:
    """The unit 进度填报 opens at: the first of ``wanted`` (the link's ``?unit=``, then the
    sidebar's unit filter) this account may edit, else its first unit.

    >>> opening_unit(["市教委", "市科委"], ["市财政局", "市科委"])
    '市科委'
    """
    return next((w for w in wanted if w in units), units[0])


def changed_updates(loaded: pd.DataFrame, edited: pd.DataFrame) -> list[Update]:
    """One :class:`Update` per edited assignment, holding only the cells that changed.

    Rows are matched by assignment id (the index), so a reordered or re-sorted edited frame
    still maps each edit to its own task.  ``base_version`` comes from ``loaded`` — the
    version the user saw — never from the edited frame.  ``row`` is the 1-based position
    in the loaded frame, so refusal messages point at the row on screen.
    """
    updates: list[Update] = []
    positions = {aid: pos for pos, aid in enumerate(loaded.index)}
    labels = [label for label in EDITABLE_LABELS if label in edited.columns]
    common = loaded.index.intersection(edited.index)
    # Compare whole columns first: only rows with some cell unequal get the exact check
    # (a 10,000-row grid compared row by row took seconds on every rerun).
    before_all, after_all = loaded.loc[common, labels], edited.loc[common, labels]
    unequal = ~((before_all == after_all) | (before_all.isna() & after_all.isna()))
    candidates = set(common[unequal.any(axis=1).to_numpy()])
    for aid in loaded.index:
        if aid not in candidates:
            continue
        before, after = loaded.loc[aid], edited.loc[aid]
        changes: dict[str, object] = {}
        for label in labels:
            name = EDITABLE_LABELS[label]
            if not _same(name, before[label], after[label]):
                changes[name] = _outgoing(name, after[label])
        if changes:
            updates.append(
                Update(
                    assignment_id=int(aid),
                    base_version=int(before[VERSION]),
                    changes=changes,
                    row=positions[aid] + 1,
                )
            )
    return updates


def _same(name: str, old: object, new: object) -> bool:
    """Equal as stored values?  Unparseable input counts as a change (the store refuses it)."""
    if is_blank(old) and is_blank(new):
        return True
    try:
        return normalize_value(name, old) == normalize_value(name, new)
    except ValueError:
        return False


def _outgoing(name: str, value: object) -> object:
    """The value to send: status as its code, whole floats as ints, dates as dates."""
    if name == "status":
        return normalize_status(value) or value
    if name == "percent" and isinstance(value, numbers.Real) and not isinstance(value, bool):
        if isinstance(value, numbers.Integral):
            return int(value)
        if math.isnan(value):
            return None
        return int(value) if value == int(value) else float(value)
    if name == "due_date":
        if is_blank(value):
            return None
        if isinstance(value, pd.Timestamp | datetime):
            return value.date()
        return value
    if name in EDITOR_TEXT_FIELDS:
        return "" if is_blank(value) else str(value)
    return value


# --- read-only views ------------------------------------------------------------------------


def history_table(history: pd.DataFrame) -> pd.DataFrame:
    """A change log (``Store.history``) with Chinese headers and labels, newest first."""
    if history.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)

    def shown(field: str, value: object) -> str:
        text = "" if value is None else str(value)
        return STATUS_LABELS.get(text, text) if field == "status" else text

    return pd.DataFrame(
        {
            "责任单位": history["unit"].astype(str),
            "字段": history["field"].map(PROGRESS_FIELDS).fillna(history["field"]),
            "原值": [
                shown(f, v) for f, v in zip(history["field"], history["old_value"], strict=True)
            ],
            "新值": [
                shown(f, v) for f, v in zip(history["field"], history["new_value"], strict=True)
            ],
            "修改人": history["changed_by"].astype(str),
            "时间": pd.to_datetime(history["changed_at"]),
            "来源": history["source"].map(lambda s: SOURCE_LABELS.get(s, s)),
            "报告期": history["period"].astype(str),
        }
    ).reset_index(drop=True)


def unit_assignment_ids(assignments: pd.DataFrame, unit: str) -> list[int]:
    """Assignment ids of the unit (both roles), for its trend table."""
    return [int(i) for i in assignments.loc[assignments["unit"] == unit, "assignment_id"]]


def task_choices(assignments: pd.DataFrame, unit: str) -> dict[str, str]:
    """task_id -> "措施　任务内容…" for the unit's live tasks (the history picker)."""
    rows = assignments[assignments["unit"] == unit].drop_duplicates("task_id")
    return {
        t: f"{label}　{short_text(text, 40)}"
        for t, label, text in zip(
            rows["task_id"], _measure_labels(rows), rows["task_text"], strict=True
        )
    }


def partner_table(assignments: pd.DataFrame, unit: str) -> pd.DataFrame:
    """On the tasks ``unit`` leads, every other unit's assignment, its progress and note."""
    led = assignments.loc[
        (assignments["unit"] == unit) & (assignments["role"] == "lead"), "task_id"
    ]
    rows = assignments[assignments["task_id"].isin(set(led)) & (assignments["unit"] != unit)]
    return pd.DataFrame(
        {
            MEASURE: _measure_labels(rows),
            TASK_TEXT: rows["task_text"].astype(str).to_numpy(),
            "责任单位": rows["unit"].astype(str).to_numpy(),
            ROLE: rows["role"].map(ROLE_LABELS).fillna(rows["role"]).to_numpy(),
            "状态": rows["status"].map(STATUS_LABELS).fillna(rows["status"]).to_numpy(),
            "完成比例(%)": rows["percent"].astype("int64").to_numpy(),
            "进展情况": rows["note"].fillna("").astype(str).to_numpy(),
            "更新时间": pd.to_datetime(rows["updated_at"], errors="coerce").to_numpy(),
            TASK_ID: rows["task_id"].astype(str).to_numpy(),
        },
        columns=PARTNER_COLUMNS,
    )


def refused_lines(
    conflicts: Iterable[Conflict], problems: Iterable[Problem], texts: dict[str, str]
) -> list[str]:
    """One line per edit a save refused, naming the task by its text, not its id.

    ``texts`` maps task_id -> what the user saw (``措施　任务内容``).  A conflict says who
    changed the task to what, and which of the user's values were not saved.
    """
    lines = []
    for c in conflicts:
        theirs = "，".join(f"{k} {v or '（空）'}" for k, v in c.theirs.items())
        mine = "，".join(f"{k} {v or '（空）'}" for k, v in c.mine.items())
        lines.append(
            f"{texts.get(c.task_id, c.task_id)}：{c.updated_by or '他人'} 已改为 {theirs}；"
            f"您的 {mine} 未保存"
        )
    for p in problems:
        what = texts.get(p.task_id, p.task_id) if p.task_id else f"第{p.row}行"
        lines.append(f"{what}：{p.message}")
    return lines


def period_trend(snapshots: pd.DataFrame, assignment_ids: list[int]) -> pd.DataFrame:
    """Share done per reporting period for the given assignments.

    A snapshot is written only when an assignment is saved in a period, so each period
    carries forward the latest earlier snapshot; never-saved assignments count as not done.
    """
    ids = [int(i) for i in assignment_ids]
    if snapshots.empty or not ids:
        return pd.DataFrame(columns=TREND_COLUMNS)
    snaps = snapshots[snapshots["assignment_id"].astype("int64").isin(ids)]
    periods = sorted(snaps["period"].unique())
    rows = []
    for period in periods:
        latest = (
            snaps[snaps["period"] <= period]
            .sort_values("period")
            .drop_duplicates("assignment_id", keep="last")
        )
        done = int((latest["status"] == DONE).sum())
        percent_sum = int(latest["percent"].sum())
        rows.append(
            {
                "报告期": period,
                "分工数": len(ids),
                "已完成": done,
                "完成率(%)": round(100 * done / len(ids), 1),
                "平均完成比例(%)": round(percent_sum / len(ids), 1),
            }
        )
    return pd.DataFrame(rows, columns=TREND_COLUMNS)
