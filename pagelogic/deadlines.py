"""Pure logic behind the 完成时限 page: supervisors set deadlines per task, or per assignment
where one unit's differs.  The store refuses deadline changes from anyone else.

>>> frame = task_deadlines(assignments)                      # doctest: +SKIP
>>> updates = task_deadline_updates(assignments, frame, edited)  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from tracker.labels import TASK_ID, TASK_LABEL, task_labels
from tracker.progress import Update, is_blank, parse_day
from tracker.schema import LEAD, PROGRESS_FIELDS, ROLE_LABELS

TASK = TASK_LABEL  # 〔2025〕11号·1-2; the id (TASK_ID) is the last column, shown on request
POLICY = "政策"
TASK_TEXT = "任务内容"
LEAD_UNIT = "牵头单位"
DUE = PROGRESS_FIELDS["due_date"]
SPREAD = "各单位时限"
UNIT = "责任单位"
ROLE = "角色"
VERSION = "版本"
SAME, DIFFERENT = "一致", "各单位不同"

TASK_COLUMNS = [TASK, POLICY, TASK_TEXT, LEAD_UNIT, DUE, SPREAD, TASK_ID]
ASSIGNMENT_COLUMNS = [UNIT, ROLE, DUE, VERSION]


def _dates(values: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(values, errors="coerce")
    return parsed.dt.date.astype(object).where(parsed.notna(), None)


def task_deadlines(assignments: pd.DataFrame) -> pd.DataFrame:
    """One row per task, indexed by task id: its lead unit and deadline.

    A task's deadline is its lead unit's; 各单位时限 says whether every unit has the same.
    """
    if assignments.empty:
        return pd.DataFrame(columns=TASK_COLUMNS, index=pd.Index([], name="task_id"))
    due = _dates(assignments["due_date"])
    spread = (
        pd.DataFrame({"task_id": assignments["task_id"], "due": due})
        .groupby("task_id")["due"]
        .nunique(dropna=False)
    )
    leads = assignments[assignments["role"] == LEAD].drop_duplicates("task_id")
    frame = pd.DataFrame(
        {
            TASK: task_labels(leads).to_numpy(),
            POLICY: leads["policy_title"].astype(str).to_numpy(),
            TASK_TEXT: leads["task_text"].astype(str).to_numpy(),
            LEAD_UNIT: leads["unit"].astype(str).to_numpy(),
            DUE: due.loc[leads.index].to_numpy(),
            SPREAD: np.where(spread.reindex(leads["task_id"]).to_numpy() == 1, SAME, DIFFERENT),
            TASK_ID: leads["task_id"].astype(str).to_numpy(),
        },
        index=pd.Index(leads["task_id"].astype(str).to_numpy(), name="task_id"),
    )
    frame[DUE] = frame[DUE].astype(object)
    return frame


def _to_date(value: object) -> date | str | None:
    """A cell of the deadline editor as a day: blank, a date (or Timestamp) or text read
    strictly (:func:`tracker.progress.parse_day`); text that is no day stays text, so the
    store refuses it by row with the reason instead of it turning into another date."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return parse_day(str(value))
    except ValueError:
        return str(value)


def task_deadline_updates(
    assignments: pd.DataFrame, loaded: pd.DataFrame, edited: pd.DataFrame
) -> list[Update]:
    """For every task whose 完成时限 was edited, the new deadline for each of its units.

    ``assignments`` is the frame ``loaded`` was built from: its versions are the base of
    each update, so a unit's save in between is a conflict, not overwritten.
    """
    changed = {
        task_id: _to_date(edited.at[task_id, DUE])
        for task_id in loaded.index
        if task_id in edited.index
        and _to_date(edited.at[task_id, DUE]) != _to_date(loaded.at[task_id, DUE])
    }
    rows = assignments[assignments["task_id"].isin(list(changed))]
    return [
        Update(int(aid), int(version), {"due_date": changed[task_id]}, row=position + 1)
        for position, (aid, version, task_id) in enumerate(
            zip(rows["assignment_id"], rows["version"], rows["task_id"], strict=True)
        )
    ]


def assignment_deadlines(assignments: pd.DataFrame, task_id: str) -> pd.DataFrame:
    """The units of one task and each one's deadline, indexed by assignment id."""
    # The five columns read, taken for the one task (a mask over every column of 100,000
    # rows took most of the page's rerun).
    wanted = ["unit", "role", "due_date", "version", "assignment_id"]
    rows = assignments.loc[(assignments["task_id"] == task_id).to_numpy(), wanted]
    frame = pd.DataFrame(
        {
            UNIT: rows["unit"].astype(str).to_numpy(),
            ROLE: rows["role"].map(ROLE_LABELS).fillna(rows["role"]).to_numpy(),
            DUE: _dates(rows["due_date"]).to_numpy(),
            VERSION: rows["version"].astype("int64").to_numpy(),
        },
        index=pd.Index(rows["assignment_id"].astype("int64").to_numpy(), name="assignment_id"),
    )
    frame[DUE] = frame[DUE].astype(object)
    return frame


def assignment_deadline_updates(loaded: pd.DataFrame, edited: pd.DataFrame) -> list[Update]:
    """One update per assignment whose deadline was edited, based on its loaded version."""
    return [
        Update(int(aid), int(version), {"due_date": new}, row=position + 1)
        for position, (aid, version) in enumerate(zip(loaded.index, loaded[VERSION], strict=True))
        if aid in edited.index
        and (new := _to_date(edited.at[aid, DUE])) != _to_date(loaded.at[aid, DUE])
    ]
