"""What a batch of progress updates does, decided without a database.

:meth:`tracker.store.Store.apply` takes the write lock, reads the account as stored and the
rows the batch touches, and hands them to :func:`plan_apply`.  The plan says, update by
update, whether the account may touch the row, which values are refused and why, which
rows someone else saved since the editor loaded them, and exactly which rows and history
rows to write.  The store then raises :meth:`ApplyPlan.refusal` or writes the plan: this
module is where "what happens to this update" is decided, and it is tested without a
database.

>>> from datetime import date, datetime
>>> row = {"assignment_id": 7, "task_id": "demo-m01-t1", "unit": "市科委", "version": 2,
...        "status": "not_started", "percent": 0, "due_date": None, "note": "",
...        "next_step": "", "problems": "", "evidence": "", "updated_by": "",
...        "updated_at": None, "effective_from": None, "effective_to": None}
>>> plan = plan_apply(Account("zhang", "staff", frozenset({"市科委"})), {7: row},
...                   [Update(7, 2, {"percent": "40%"})],
...                   at=datetime(2026, 11, 23, 9, 30), source="web")
>>> [(w.assignment_id, w.changed) for w in plan.writes], plan.refusal(partial=False)
([(7, {'percent': (0, 40)})], None)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from operator import itemgetter
from typing import Any, TypedDict

import numpy as np
import pandas as pd

from tracker.accounts import Account
from tracker.errors import (
    Conflict,
    ConflictError,
    PermissionDenied,
    Problem,
    TrackerError,
    ValidationError,
)
from tracker.progress import (
    Update,
    check_progress,
    deadline_problem,
    normalize_value,
    period_of,
)
from tracker.schema import DONE, PROGRESS_FIELDS, STATUS_LABELS

PROGRESS_COLUMNS = list(PROGRESS_FIELDS)  # the fields an update may change
_PROGRESS_OF = itemgetter(*PROGRESS_COLUMNS)  # a row's progress values, in that order
DIFF_COLUMNS = ["assignment_id", "task_id", "unit", "field", "old", "new", "row"]
MAX_SOURCE_CHARS = 200  # progress_history.source


def history_text(value: object) -> str:
    """A value as ``progress_history`` stores it: ISO dates, "" for nothing.

    >>> history_text(date(2026, 12, 31)), history_text(None), history_text(40)
    ('2026-12-31', '', '40')
    """
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def display_text(name: str, value: object) -> str:
    """A field's value as the user reads it (the status in Chinese)."""
    if name == "status":
        return STATUS_LABELS.get(str(value), history_text(value))
    return history_text(value)


class _Where(TypedDict, total=False):
    """Where a refused update sits, as :class:`Problem` takes it."""

    row: int | None
    sheet: str | None
    task_id: str | None


@dataclass(frozen=True)
class PlannedWrite:
    """One row to write: its progress fields after the update, guarded by ``version`` (the
    version it is at now, which the editor loaded)."""

    assignment_id: int
    version: int
    state: dict[str, object]  # every field of PROGRESS_COLUMNS, as it will be stored
    changed: dict[str, tuple[object, object]]  # field -> (old, new), in the order applied


@dataclass
class ApplyPlan:
    """What one batch does: why it is refused, or what it writes (see the module)."""

    username: str
    at: datetime
    period: str
    source: str
    read_only: bool = False  # the account may not write at all (领导, or no such role)
    foreign: list[Problem] = field(default_factory=list)  # changed rows of other units
    foreign_unchanged: int = 0  # rows of other units equal to the stored ones, skipped
    rollups: list[Problem] = field(default_factory=list)  # changed collective rows with members
    problems: list[Problem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    writes: list[PlannedWrite] = field(default_factory=list)
    diffs: list[tuple] = field(default_factory=list)  # rows of DIFF_COLUMNS, raw values

    def refusal(self, *, partial: bool) -> TrackerError | None:
        """The error the whole batch fails with, or None if it may be written.

        A read-only account refuses the batch whatever ``partial`` says; a changed row of
        another unit, invalid values, then conflicts refuse it unless ``partial`` (then those
        rows are refused one by one, see :meth:`refused`).  Rows of other units the batch
        leaves as stored (a whole report's 明细 sent back by one unit) never refuse it.
        """
        if self.read_only:
            return PermissionDenied(f"账号 {self.username}（领导）只能查看和导出，不能修改")
        if not partial and self.foreign:
            return PermissionDenied(
                f"{len(self.foreign)} 行属于其他单位，账号 {self.username} 无权修改，"
                "本批次未保存任何修改",
                self.foreign,
            )
        if self.rollups:
            return PermissionDenied(
                f"{len(self.rollups)} 行是集体单位的汇总行（由各成员单位分别填报后汇总），"
                "不能直接修改，本批次未保存任何修改",
                self.rollups,
            )
        if not partial and self.problems:
            return ValidationError(
                f"{len(self.problems)} 处数据不符合要求，本批次未保存任何修改", self.problems
            )
        if not partial and self.conflicts:
            return ConflictError(
                f"{len(self.conflicts)} 条任务已被他人修改，本批次未保存任何修改",
                self.conflicts,
            )
        return None

    def refused(self) -> list[Problem]:
        """Every refused row of a batch written in part: other units' rows, then values."""
        return [*self.foreign, *self.problems]

    def history_rows(self) -> list[dict[str, object]]:
        """One ``progress_history`` row per changed field, at the row's next version."""
        return [
            {
                "assignment_id": write.assignment_id,
                "field": name,
                "old_value": history_text(old),
                "new_value": history_text(new),
                "changed_by": self.username,
                "changed_at": self.at,
                "source": self.source,
                "period": self.period,
                "version": write.version + 1,
            }
            for write in self.writes
            for name, (old, new) in write.changed.items()
        ]

    def snapshot_rows(self) -> list[dict[str, object]]:
        """Each written row's state for this period (the last save in a period wins)."""
        return [
            {
                "period": self.period,
                "assignment_id": write.assignment_id,
                "status": write.state["status"],
                "percent": write.state["percent"],
                "updated_at": self.at,
            }
            for write in self.writes
        ]


def plan_apply(
    account: Account,
    current: Mapping[int, Mapping[str, Any]],
    updates: Sequence[Update],
    *,
    at: datetime,
    source: str,
    period: str | None = None,
) -> ApplyPlan:
    """Decide what ``updates`` do to the ``current`` rows, as ``account``.

    ``account`` is the account as stored now; ``current`` maps assignment id to the row's
    progress (:data:`PROGRESS_COLUMNS`, ``assignment_id``, ``version``, ``updated_by``) with
    its ``task_id``, ``unit`` and policy's ``issue_date``/``effective_from``/``effective_to``; an id not in
    it is unknown (or archived).  Unchanged values plan no write (re-applying is a no-op).
    """
    plan = ApplyPlan(
        username=account.username,
        at=at,
        period=period or period_of(at.date()),
        source=source if len(source) <= MAX_SOURCE_CHARS else source[: MAX_SOURCE_CHARS - 1] + "…",
        read_only=not account.writes,
    )
    if plan.read_only:
        return plan
    seen: set[int] = set()
    memo = _Memo()
    for upd in updates:
        aid = int(upd.assignment_id)
        where: _Where = {"row": upd.row, "sheet": upd.sheet}
        row = current.get(aid)
        if row is None:
            plan.problems.append(Problem(f"未知的任务分工编号 {aid}", **where))
            continue
        where["task_id"] = str(row["task_id"])
        if row.get("rollup"):  # a collective row with members: rolled up, nobody writes it
            if not _as_stored(row, upd, where, memo):  # left as stored (sent back): skipped
                plan.rollups.append(
                    Problem(
                        f"「{row['unit']}」由各成员单位分别填报，此行为汇总行，不能直接修改",
                        **where,
                    )
                )
            continue
        if not account.may_edit_unit(str(row["unit"])):
            if _as_stored(row, upd, where, memo):
                plan.foreign_unchanged += 1
            else:
                units = "、".join(sorted(account.units)) or "无"
                plan.foreign.append(
                    Problem(f"无权修改「{row['unit']}」的任务（本账号负责：{units}）", **where)
                )
            continue
        if aid in seen:
            plan.problems.append(Problem("同一任务分工出现多次", **where))
            continue
        seen.add(aid)
        _plan_one(plan, account, row, upd, where, memo)
    return plan


class _Refusal:
    """Why a value is refused, and the column to name."""

    __slots__ = ("column", "message")

    def __init__(self, message: str, column: str) -> None:
        self.message, self.column = message, column


# Types whose equal values normalise alike (not float: -0.0 == 0.0 but the texts differ; not
# datetime: equal instants in two time zones fall on two days).
_PLAIN = frozenset({str, int, bool, date, type(None)})


class _Memo:
    """What a batch has decided already: each distinct (field, value)'s normal form or
    refusal, and the deadline rule's verdict per (deadline, policy dates).

    An import sends tens of thousands of rows sharing a few statuses, percents and one
    deadline; :func:`~tracker.progress.normalize_value` and
    :func:`~tracker.progress.deadline_problem` are pure, so every value is still checked
    (each distinct one once: then a dictionary look-up), whichever way it came in.
    """

    __slots__ = ("deadlines", "values")

    def __init__(self) -> None:
        self.values: dict[tuple[str, type, object], object] = {}
        self.deadlines: dict[tuple[date, date | None, date | None], str | None] = {}


def _as_stored(row: Mapping[str, Any], upd: Update, where: _Where, memo: _Memo) -> bool:
    """Whether ``upd`` leaves ``row`` as stored, with nothing refused: how a row the account
    may not write (another unit's, a roll-up) is skipped rather than refused."""
    _state, changed, bad = _merge(row, upd, where, memo)
    return not changed and not bad


def _plan_one(
    plan: ApplyPlan,
    account: Account,
    row: Mapping[str, Any],
    upd: Update,
    where: _Where,
    memo: _Memo,
) -> None:
    """Add one known row's outcome to ``plan``: refused values, a conflict, or a write."""
    state, changed, bad = _merge(row, upd, where, memo)
    if "due_date" in changed:
        bad.extend(_deadline_problems(plan, account, row, changed["due_date"][1], where, memo))
    if bad:
        plan.problems.extend(bad)
        return
    if not changed:
        return
    if int(upd.base_version) != row["version"]:
        plan.conflicts.append(_conflict(row, upd, changed))
        return
    errors = check_progress(state)
    if errors:
        plan.problems.extend(Problem(e, **where) for e in errors)
        return
    aid = int(upd.assignment_id)
    plan.writes.append(PlannedWrite(aid, int(row["version"]), state, changed))
    task_id, unit, at_row = row["task_id"], row["unit"], upd.row
    plan.diffs += [
        (aid, task_id, unit, name, old, new, at_row) for name, (old, new) in changed.items()
    ]


def _deadline_problems(
    plan: ApplyPlan,
    account: Account,
    row: Mapping[str, Any],
    due: object,
    where: _Where,
    memo: _Memo,
) -> list[Problem]:
    """A new deadline is a supervisor's, and lies within its policy's dates (the one
    deadline rule of every way in: 逐项填报, 完成时限, imports, extensions, the CLI)."""
    column = PROGRESS_FIELDS["due_date"]
    if not account.supervises:
        return [
            Problem(
                "完成时限由督办员设定，填报员不能修改",
                column=column,
                value=history_text(due),
                **where,
            )
        ]
    if not isinstance(due, date):
        return []  # a deadline cleared
    issued = _day(row.get("issue_date")) or _day(row.get("effective_from"))
    effective_to = _day(row.get("effective_to"))
    key = (due, issued, effective_to)
    try:
        why = memo.deadlines[key]
    except KeyError:
        why = memo.deadlines[key] = deadline_problem(
            due, issued=issued, effective_to=effective_to, today=plan.at.date()
        )
    return [Problem(why, column=column, value=history_text(due), **where)] if why else []


NAN_ERROR = "不是有效的数值（NaN）：空值请留空，不要填 NaN"


def _verdict(name: str, value: object) -> object:
    """``value`` as field ``name`` stores it, or the :class:`_Refusal` saying why not."""
    if name not in PROGRESS_FIELDS:
        return _Refusal("不可修改的字段", name)
    if isinstance(value, float) and math.isnan(value):  # NaN is no value, like inf
        return _Refusal(NAN_ERROR, PROGRESS_FIELDS[name])
    try:
        return normalize_value(name, value)
    except ValueError as exc:
        return _Refusal(str(exc), PROGRESS_FIELDS[name])


def _merge(
    row: Mapping[str, Any], upd: Update, where: _Where, memo: _Memo
) -> tuple[dict[str, object], dict[str, tuple[object, object]], list[Problem]]:
    """The row's progress with the update's values (normalised), what changed, what is
    refused."""
    state = dict(zip(PROGRESS_COLUMNS, _PROGRESS_OF(row), strict=True))
    changed: dict[str, tuple[object, object]] = {}
    bad: list[Problem] = []
    verdicts = memo.values
    for name, value in upd.changes.items():
        kind = type(value)
        if kind in _PLAIN:
            key = (name, kind, value)
            try:
                new_value = verdicts[key]
            except KeyError:
                new_value = verdicts[key] = _verdict(name, value)
        else:
            new_value = _verdict(name, value)
        if type(new_value) is _Refusal:
            bad.append(Problem(new_value.message, column=new_value.column, value=value, **where))
            continue
        state[name] = new_value
        old = row[name]
        if new_value != old:
            changed[name] = (old, new_value)
    # Marking a task done without touching the percentage means 100%.
    if (
        changed.get("status", (None, None))[1] == DONE
        and "percent" not in upd.changes
        and state["percent"] != 100
    ):
        changed["percent"] = (row["percent"], 100)
        state["percent"] = 100
    return state, changed, bad


def _conflict(row: Mapping[str, Any], upd: Update, changed: dict) -> Conflict:
    return Conflict(
        assignment_id=row["assignment_id"],
        task_id=row["task_id"],
        unit=row["unit"],
        base_version=int(upd.base_version),
        current_version=row["version"],
        updated_by=row["updated_by"],
        theirs={PROGRESS_FIELDS[k]: display_text(k, row[k]) for k in changed},
        mine={PROGRESS_FIELDS[k]: display_text(k, new) for k, (_old, new) in changed.items()},
    )


def _day(value: object) -> date | None:
    return value if isinstance(value, date) else None


@dataclass
class ApplyResult:
    """What a batch did (or, for a dry run, would do)."""

    changes: list[tuple] = field(default_factory=list)  # per changed field, DIFF_COLUMNS
    problems: list[Problem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    other_units_unchanged: int = 0  # rows of units the account does not report for, skipped

    @cached_property
    def diffs(self) -> pd.DataFrame:
        """One row per changed field (:data:`DIFF_COLUMNS`), old and new as the user reads
        them.  Built on first use: a single save from a page never needs the frame."""
        return diff_frame(self.changes)

    @property
    def changed_assignments(self) -> int:
        return len({change[0] for change in self.changes})


def diff_frame(changes: list[tuple]) -> pd.DataFrame:
    """Changed fields with old/new shown as the user reads them (status in Chinese).

    A file's values repeat (statuses, percents, one deadline for all): each distinct value
    is shown once and the rest taken by position (an import's preview has ~100,000 changes).
    """
    if not changes:
        return pd.DataFrame.from_records([], columns=DIFF_COLUMNS)
    frame = pd.DataFrame.from_records(changes, columns=DIFF_COLUMNS)
    status = (frame["field"] == "status").to_numpy()
    for side in ("old", "new"):
        codes, uniques = pd.factorize(frame[side].to_numpy(dtype=object), use_na_sentinel=False)
        # factorize turns None into NaN; no stored or changed value is ever NaN
        values = [None if pd.isna(value) else value for value in uniques]
        plain = np.array([display_text("", value) for value in values], dtype=object)
        labels = np.array([display_text("status", value) for value in values], dtype=object)
        shown = np.where(status, labels[codes], plain[codes])
        frame[side] = pd.Series(shown, index=frame.index, dtype=str)
    return frame
