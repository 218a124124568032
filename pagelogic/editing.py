"""Pure logic behind the 进度填报 page: the frame a unit edits and the updates its edits mean.

No Streamlit here, so the traps of ``st.data_editor`` (edits kept by row position, values
written back into the widget state) are handled by plain, testable functions:

* :func:`editor_frame` indexes the editor by ``assignment_id`` and keeps the version each
  row was loaded at in a hidden column, so a save is always tied to the row the user saw;
* :func:`changed_updates` compares the edited frame with the loaded one *by assignment id*
  (never by position) and sends only the cells that changed, with the loaded versions as
  ``base_version`` — the store then refuses anything someone else changed meanwhile;
* :func:`grid_page` cuts the grid to one page of ``PAGE_SIZE`` rows (a 14,500-row grid sent
  every row to the browser on every visit), filtered by status or keyword;
* unsaved edits live outside the widget as :class:`Draft` s (:func:`record_drafts`,
  :func:`with_drafts`, :func:`draft_updates`), so they survive leaving the page, another
  page of the grid or another filter, each with the version it was made on.
"""

from __future__ import annotations

import json
import math
import numbers
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime

import pandas as pd

from tracker.aggregate import short_text
from tracker.errors import Conflict, Problem, TrackerError
from tracker.labels import TASK_LABEL, measure_label, task_labels
from tracker.progress import Update, is_blank, normalize_status, normalize_value, period_of
from tracker.schema import (
    DONE,
    PROGRESS_FIELDS,
    ROLE_LABELS,
    STATUS_LABELS,
)

# A grid cell's value as the editor hands it back (int counts as float here; a Timestamp is
# a datetime, which is a date).
Cell = str | float | date | None

# --- editor column labels ----------------------------------------------------------------
TASK_ID = "任务编号"
MEASURE = TASK_LABEL  # the task as people name it, 〔2025〕11号·3-2 (tracker.labels)
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


def editor_frame(
    assignments: pd.DataFrame, unit: str, role: str, period: str | None = None
) -> pd.DataFrame:
    """The unit's assignments in one role, indexed by assignment id, with Chinese headers.

    ``任务`` is the task's label (``〔2025〕11号·3-2``), status its Chinese label, due
    date a ``date`` or ``None``; ``本期已更新`` marks rows already saved in ``period``;
    ``版本`` is the version each row was loaded at.
    """
    rows = assignments[(assignments["unit"] == unit) & (assignments["role"] == role)]
    due = pd.to_datetime(rows["due_date"], errors="coerce")
    updated = pd.to_datetime(rows["updated_at"], errors="coerce")
    this_period = rows["period"] == period if period else pd.Series(False, index=rows.index)
    frame = pd.DataFrame(
        {
            MEASURE: task_labels(rows),
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


@dataclass(frozen=True)
class TaskDetail:
    """What the detail panel shows above one task's form."""

    doc_no: str  # 文号
    policy_title: str
    measure: str  # the measure's short label, 〔2025〕11号·3
    measure_title: str
    task_text: str  # in full
    role: str  # the unit's role, 牵头 or 配合
    others: str  # the other units on the task with theirs: 市教委（配合）、…; 无 when none
    task_id: str


def task_detail(assignments: pd.DataFrame, unit: str, assignment_id: int) -> TaskDetail | None:
    """One of ``unit``'s tasks described for the detail panel: policy, measure, the full task
    text, the unit's role and the other units on the task; ``None`` when the assignment is
    gone (archived since the page was loaded)."""
    match = assignments.loc[assignments["assignment_id"] == assignment_id]
    if match.empty:
        return None
    row = match.iloc[0]
    task = assignments[(assignments["task_id"] == row["task_id"]) & (assignments["unit"] != unit)]
    if "collective" in task:  # 各区政府 names its 16 districts once, not each of them
        task = task[task["collective"] == ""]
    others = "、".join(
        f"{u}（{ROLE_LABELS.get(r, r)}）" for u, r in zip(task["unit"], task["role"], strict=True)
    )
    return TaskDetail(
        doc_no=str(row["doc_no"]),
        policy_title=str(row["policy_title"]),
        measure=measure_label(row["doc_no"], row["measure_no"]),
        measure_title=str(row["measure_title"]),
        task_text=str(row["task_text"]),
        role=ROLE_LABELS.get(row["role"], row["role"]),
        others=others or "无",
        task_id=str(row["task_id"]),
    )


def picker_labels(frame: pd.DataFrame, role: str) -> dict[int, str]:
    """assignment id -> "牵头 · 〔2025〕11号·3-2　任务内容…" for the rows of an editor frame
    (:func:`editor_frame`): the detail panel's task picker, built for the rows on screen."""
    prefix = f"{ROLE_LABELS.get(role, role)} · "
    return {
        int(aid): f"{prefix}{measure}　{short_text(text, 40)}"
        for aid, measure, text in zip(frame.index, frame[MEASURE], frame[TASK_TEXT], strict=True)
    }


def task_texts(frame: pd.DataFrame) -> dict[str, str]:
    """task_id -> "任务　任务内容…" (label and text) for the rows of editor frames: how a refused edit names
    its task (people know a task by its text, not its id)."""
    rows = frame.drop_duplicates(TASK_ID)
    return {
        str(t): f"{measure}　{short_text(text, 40)}"
        for t, measure, text in zip(rows[TASK_ID], rows[MEASURE], rows[TASK_TEXT], strict=True)
    }


def opening_unit(units: list[str], wanted: Iterable[str | None]) -> str:
    """The unit 进度填报 opens at: the first of ``wanted`` (the link's ``?unit=``, then the
    sidebar's unit filter) this account may edit, else its first unit.

    >>> opening_unit(["市教委", "市科委"], ["市财政局", "市科委"])
    '市科委'
    """
    return next((w for w in wanted if w in units), units[0])


def changed_cells(loaded: pd.DataFrame, edited: pd.DataFrame) -> dict[int, dict[str, Cell]]:
    """assignment id -> {editor label: edited value} of every editable cell that changed.

    Rows are matched by assignment id (the index), so a reordered, re-sorted or partial
    edited frame still maps each edit to its own task; rows of ``edited`` not in ``loaded``
    are ignored.  Equal as stored values (blank and blank, 40 and 40.0) is no change.
    """
    labels = [label for label in EDITABLE_LABELS if label in edited.columns]
    common = loaded.index.intersection(edited.index)
    # Compare whole columns first: only rows with some cell unequal get the exact check
    # (a 10,000-row grid compared row by row took seconds on every rerun).
    before_all, after_all = loaded.loc[common, labels], edited.loc[common, labels]
    unequal = ~((before_all == after_all) | (before_all.isna() & after_all.isna()))
    changed: dict[int, dict[str, Cell]] = {}
    for aid in common[unequal.any(axis=1).to_numpy()]:
        before, after = before_all.loc[aid], after_all.loc[aid]
        cells = {
            label: after[label]
            for label in labels
            if not _same(EDITABLE_LABELS[label], before[label], after[label])
        }
        if cells:
            changed[int(aid)] = cells
    return changed


def changed_updates(loaded: pd.DataFrame, edited: pd.DataFrame) -> list[Update]:
    """One :class:`Update` per edited assignment, holding only the cells that changed
    (:func:`changed_cells`), in the order of ``loaded``.

    ``base_version`` comes from ``loaded`` — the version the user saw — never from the
    edited frame.  ``row`` is the 1-based position in the loaded frame, so refusal messages
    point at the row on screen.
    """
    changed = changed_cells(loaded, edited)
    if not changed:
        return []
    positions = {int(aid): pos for pos, aid in enumerate(loaded.index)}
    versions = loaded[VERSION]
    return [
        Update(
            assignment_id=aid,
            base_version=int(versions.loc[aid]),
            changes={
                EDITABLE_LABELS[k]: _outgoing(EDITABLE_LABELS[k], v) for k, v in cells.items()
            },
            row=positions[aid] + 1,
        )
        for aid, cells in sorted(changed.items(), key=lambda item: positions[item[0]])
    ]


# --- unsaved edits (drafts) ------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """Unsaved edits to one assignment: the changed cells (editor label -> value as the grid
    holds it) and the version of the row they were made on, which the save sends as
    ``base_version`` (so an edit kept while someone else saved is refused, never applied
    over theirs)."""

    base_version: int
    cells: dict[str, Cell]


def record_drafts(
    drafts: Mapping[int, Draft], loaded: pd.DataFrame, edited: pd.DataFrame
) -> dict[int, Draft]:
    """``drafts`` with the rows of ``edited`` (one page of the grid) written in: a changed
    row's cells replace its draft, an unchanged row drops its draft; rows not in ``edited``
    keep theirs.  A draft keeps the version it was first made on.

    >>> loaded = pd.DataFrame({"进展情况": ["", ""], "版本": [3, 0]}, index=[7, 8])
    >>> edited = loaded.assign(进展情况=["已推进", ""])
    >>> record_drafts({}, loaded, edited)
    {7: Draft(base_version=3, cells={'进展情况': '已推进'})}
    """
    changed = changed_cells(loaded, edited)
    recorded = {aid: draft for aid, draft in drafts.items() if aid not in edited.index}
    for aid, cells in changed.items():
        kept = drafts.get(aid)
        base = kept.base_version if kept else int(loaded[VERSION].loc[aid])
        recorded[aid] = Draft(base, cells)
    return recorded


def encode_drafts(drafts: Mapping[int, Draft]) -> str:
    """The drafts as JSON for the store (``tracker.unsaved``); dates as ``{"date": iso}``.

    >>> decode_drafts(encode_drafts({7: Draft(3, {"完成时限": date(2026, 5, 1)})}))
    {7: Draft(base_version=3, cells={'完成时限': datetime.date(2026, 5, 1)})}
    """
    return json.dumps(
        {
            str(aid): {"base": draft.base_version, "cells": _json_cells(draft.cells)}
            for aid, draft in drafts.items()
        },
        ensure_ascii=False,
    )


def decode_drafts(payload: str) -> dict[int, Draft]:
    """The drafts :func:`encode_drafts` wrote."""
    return {
        int(aid): Draft(
            int(kept["base"]),
            {
                label: date.fromisoformat(value["date"]) if isinstance(value, dict) else value
                for label, value in kept["cells"].items()
            },
        )
        for aid, kept in json.loads(payload).items()
    }


def _json_cells(cells: Mapping[str, Cell]) -> dict[str, object]:
    encoded: dict[str, object] = {}
    for label, value in cells.items():
        if isinstance(value, datetime | date):
            encoded[label] = {"date": pd.Timestamp(value).date().isoformat()}
        elif is_blank(value):
            encoded[label] = None
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            encoded[label] = int(value) if float(value).is_integer() else float(value)
        else:
            encoded[label] = str(value)
    return encoded


def with_drafts(frame: pd.DataFrame, drafts: Mapping[int, Draft]) -> pd.DataFrame:
    """``frame`` (editor rows) showing the drafts' values; ``frame`` itself when none apply."""
    mine = [aid for aid in frame.index if aid in drafts] if drafts else []
    if not mine:
        return frame
    shown = frame.copy()
    for aid in mine:
        for label, value in drafts[aid].cells.items():
            try:
                shown.loc[aid, label] = value
            except TypeError:  # 25.5 in the whole-number column: shown, and the save refuses it
                shown[label] = shown[label].astype(
                    "float64" if isinstance(value, float) else object
                )
                shown.loc[aid, label] = value
    return shown


DRAFT_MARK = "✎ "  # before the 任务 of a row with unsaved edits


def marked_drafts(frame: pd.DataFrame, drafts: Mapping[int, Draft]) -> pd.DataFrame:
    """``frame`` with the rows that hold unsaved edits marked: ✎ before their 任务 (a
    read-only cell); ``frame`` itself when no row on it has a draft.

    Always a plain frame, never a Styler: Streamlit keys a fixed-rows editor's identity on
    the data's format and schema, so turning the frame into a Styler at the first edit (as
    the yellow rows once did) made the grid a new widget, and an edit typed before that
    run reached the browser was dropped with the old one.  A changed cell value keeps it.

    >>> frame = pd.DataFrame({"任务": ["a", "b"], "进展情况": ["", ""]}, index=[7, 8])
    >>> marked_drafts(frame, {8: Draft(0, {"进展情况": "已推进"})})["任务"].tolist()
    ['a', '✎ b']
    """
    marked = frame.index.isin(list(drafts))
    if not marked.any():
        return frame
    shown = frame.copy()
    shown.loc[marked, MEASURE] = DRAFT_MARK + shown.loc[marked, MEASURE].astype(str)
    return shown


def draft_updates(loaded: pd.DataFrame, drafts: Mapping[int, Draft]) -> list[Update]:
    """The updates the drafts on ``loaded``'s rows mean, each based on the version its
    draft was made on; ``row`` is the position in ``loaded``."""
    mine = [aid for aid in loaded.index if aid in drafts] if drafts else []
    if not mine:
        return []
    edited = with_drafts(loaded.loc[mine], drafts)
    return [
        replace(update, base_version=drafts[update.assignment_id].base_version)
        for update in changed_updates(loaded, edited)
    ]


def draft_count(drafts: Mapping[int, Draft], among: pd.Index | None = None) -> int:
    """How many cells the drafts change (what "N 处未保存的修改" counts), of the rows
    ``among`` (an editor frame's index) or all."""
    return sum(len(draft.cells) for aid, draft in drafts.items() if among is None or aid in among)


# --- one page of the grid --------------------------------------------------------------------

PAGE_SIZE = 200
ALL_ROWS = "全部"
UNSAVED_ROWS = "有未保存修改的"
# The grid's status filter: every row, rows in one status, or rows with unsaved edits.
ROW_FILTERS: list[str] = [ALL_ROWS, *STATUS_LABELS.values(), UNSAVED_ROWS]


@dataclass(frozen=True)
class GridPage:
    """The rows of one page of the grid, of ``matching`` rows that pass the filter."""

    rows: pd.DataFrame
    matching: int
    page: int  # 1-based, within 1..pages
    pages: int
    size: int  # rows per page

    @property
    def first(self) -> int:
        """1-based position of the page's first row among the matching rows (0 if none)."""
        return (self.page - 1) * self.size + 1 if self.matching else 0

    @property
    def key(self) -> str:
        """A short fingerprint of which rows are shown: part of the editor's key, so the
        grid's own edit state (kept by row position) never carries over to other rows."""
        ids = self.rows.index.to_numpy(dtype="int64")
        return f"{zlib.crc32(ids.tobytes()):08x}"


def grid_page(
    loaded: pd.DataFrame,
    *,
    rows: str = ALL_ROWS,
    keyword: str = "",
    page: int = 1,
    drafts: Mapping[int, Draft] | None = None,
    size: int | None = None,
) -> GridPage:
    """Page ``page`` (clamped) of the loaded editor rows that pass the filter: ``rows`` is
    one of :data:`ROW_FILTERS`, ``keyword`` is looked for in 任务 (the label), 任务内容 and 任务编号.

    Filters look at the loaded values, not the unsaved ones: a row whose status the user
    just changed stays where it is until saved.
    """
    size = size or PAGE_SIZE
    keep = pd.Series(True, index=loaded.index)
    if rows == UNSAVED_ROWS:
        keep &= loaded.index.isin(list(drafts or {}))
    elif rows != ALL_ROWS:
        keep &= loaded[PROGRESS_FIELDS["status"]] == rows
    words = keyword.strip()
    if words:
        found = pd.Series(False, index=loaded.index)
        for column in (MEASURE, TASK_TEXT, TASK_ID):
            found |= loaded[column].str.contains(words, case=False, regex=False, na=False)
        keep &= found
    matching = loaded[keep.to_numpy()] if not keep.all() else loaded
    pages = max(1, -(-len(matching) // size))
    page = min(max(1, page), pages)
    return GridPage(
        matching.iloc[(page - 1) * size : page * size], len(matching), page, pages, size
    )


def day_text(value: object) -> str:
    """A deadline as a form's text box shows it: ``2026-12-31``, or empty.

    >>> day_text(date(2026, 12, 31)), day_text(None)
    ('2026-12-31', '')
    """
    if is_blank(value):
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    return str(value)


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
        number = float(value)
        if math.isnan(number):
            return None
        return int(number) if number.is_integer() else number
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


def unit_assignment_ids(assignments: pd.DataFrame, unit: str) -> list[int]:
    """Assignment ids of the unit (both roles), for its trend table."""
    return [int(i) for i in assignments.loc[assignments["unit"] == unit, "assignment_id"]]


def partner_table(assignments: pd.DataFrame, unit: str) -> pd.DataFrame:
    """On the tasks ``unit`` leads, every other unit's assignment, its progress and note."""
    led = assignments.loc[
        (assignments["unit"] == unit) & (assignments["role"] == "lead"), "task_id"
    ]
    rows = assignments[assignments["task_id"].isin(set(led)) & (assignments["unit"] != unit)]
    return pd.DataFrame(
        {
            MEASURE: task_labels(rows).to_numpy(),
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


def refusal_text(error: TrackerError, texts: Mapping[str, str], *, form: bool) -> str:
    """What 进度填报 says when a save is refused whole (nothing was written).

    On the one-task form each refused value is named by its field (「完成比例(%)」), never
    by a row, a column or a task id; on the grids by the task as the user sees it
    (``texts``: task_id -> ``任务　任务内容``) and the column.  The file's wording (sheet,
    row, column) stays with imports (``str(error)``).  Conflicts are named the same way
    (:func:`refused_lines`).

    >>> from tracker.errors import ValidationError
    >>> bad = Problem("须在 0 到 100 之间", row=3, column="完成比例(%)", value=150, task_id="t")
    >>> print(refusal_text(ValidationError("1 处数据不符合要求", [bad]), {"t": "甲任务"}, form=True))
    未保存：
    「完成比例(%)」：须在 0 到 100 之间（填写的值：150）
    >>> print(refusal_text(ValidationError("1 处数据不符合要求", [bad]), {"t": "甲任务"}, form=False))
    1 处数据不符合要求：
    甲任务，「完成比例(%)」：须在 0 到 100 之间（填写的值：150）
    """
    problems = getattr(error, "problems", None) or []
    conflicts = getattr(error, "conflicts", None) or []
    if conflicts:  # someone saved these tasks since they were loaded
        return "\n".join([f"{error.message}：", *refused_lines(conflicts, [], dict(texts))])
    if not problems:
        return error.message
    if form:
        return "\n".join(["未保存：", *(p.on_form() for p in problems)])
    named = (f"{texts.get(p.task_id or '', '') or '该任务'}，{p.on_form()}" for p in problems)
    return "\n".join([f"{error.message}：", *named])


SELF_ELSEWHERE = "您本人（在另一个标签页或会话中）"


def refused_lines(
    conflicts: Iterable[Conflict],
    problems: Iterable[Problem],
    texts: dict[str, str],
    me: str = "",
) -> list[str]:
    """One line per edit a save refused, naming the task by its text, not its id.

    ``texts`` maps task_id -> what the user saw (``任务　任务内容``).  A conflict says who
    changed the task to what (the account ``me`` itself, from another tab, is named so,
    not as someone else), and which of the user's values were not saved.
    """
    lines = []
    for c in conflicts:
        theirs = "，".join(f"{k} {v or '（空）'}" for k, v in c.theirs.items())
        mine = "，".join(f"{k} {v or '（空）'}" for k, v in c.mine.items())
        who = SELF_ELSEWHERE if me and c.updated_by == me else c.updated_by or "他人"
        lines.append(
            f"{texts.get(c.task_id, c.task_id)}：{who} 已改为 {theirs}；您的 {mine} 未保存"
        )
    for p in problems:
        what = texts.get(p.task_id, p.task_id) if p.task_id else f"第{p.row}行"
        lines.append(f"{what}：{p.message}")
    return lines


def conflict_head(conflicts: list[Conflict], me: str, saved: int) -> str:
    """The first line above the refused edits: who changed the tasks meanwhile (someone
    else, the same account in another tab or session, or both)."""
    by = {c.updated_by == me for c in conflicts}
    who = {
        frozenset({True}): "已被" + SELF_ELSEWHERE + "修改",
        frozenset({False}): "已被他人修改",
    }.get(frozenset(by), "已被他人或" + SELF_ELSEWHERE + "修改")
    return (
        f"以下 {len(conflicts)} 条任务在您打开本页后{who}，您对它们的修改没有保存"
        + ("（其余修改已保存）" if saved else "")
        + "。表中已是最新值；您填写的内容已保留，可点「重新应用我的修改」放回表中，核对后再保存："
    )


def refused_cells(updates: Iterable[Update], conflicts: Iterable[Conflict]) -> dict[int, dict]:
    """assignment id -> {editor label: value as the grid holds it} of the updates refused
    as conflicts: what the user typed, kept to be put back into the grid on request.

    >>> from tracker.errors import Conflict
    >>> refused_cells([Update(7, 0, {"status": "done", "note": "我的"})],
    ...               [Conflict(7, "t", "市科委", 0, 1, "张三")])
    {7: {'状态': '已完成', '进展情况': '我的'}}
    """
    refused = {int(c.assignment_id) for c in conflicts}
    return {
        int(u.assignment_id): {
            PROGRESS_FIELDS[name]: STATUS_LABELS.get(str(value), value)
            if name == "status"
            else value
            for name, value in u.changes.items()
        }
        for u in updates
        if int(u.assignment_id) in refused
    }


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
