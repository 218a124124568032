"""Across policies: what one unit owes under every policy, which measures of other policies
resemble a task, and the list of published policies.

Pure functions of the assignment table (``Store.assignments()`` with ``light``), called as
``builder(rows, today, *args)`` like :mod:`pagelogic.views`, so pages cache them per data
revision.  Similar tasks are ranked with ``difflib.SequenceMatcher`` (the ratio
:mod:`tracker.revisions` uses to recognise a reworded task).

>>> similar_tasks(rows, today, "hufubanfa-2025-11-m01-t1")   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher

import pandas as pd

from tracker.schema import DONE, LEAD, LIGHT_LABELS, RED, ROLE_LABELS, STATUS_LABELS

MIN_SIMILARITY = 0.3  # below this two tasks share words, not a subject
POLICY_COLUMNS = ["政策编号", "政策名称", "文号", "成文日期", "措施", "任务", "责任单位"]
OBLIGATION_SUMMARY_COLUMNS = ["政策", "牵头任务", "配合任务", "已完成", "红灯"]
# What staff read first comes first: the task, their role, its state; where it sits last.
OBLIGATION_COLUMNS = [
    "任务编号",
    "任务内容",
    "角色",
    "牵头单位",
    "状态",
    "完成比例(%)",
    "完成时限",
    "预警灯",
    "措施",
    "政策",
]
SIMILAR_COLUMNS = ["相似度", "任务内容", "共同责任单位", "牵头单位", "任务编号", "措施", "政策"]


def policy_list(rows: pd.DataFrame, today: date) -> pd.DataFrame:
    """One row per published policy: id, title, number, date and how much it holds."""
    if rows.empty:
        return pd.DataFrame(columns=POLICY_COLUMNS)
    grouped = rows.groupby("policy_id", sort=True)
    out = grouped.agg(
        政策名称=("policy_title", "first"),
        文号=("doc_no", "first"),
        成文日期=("issue_date", "first"),
        措施=("measure_id", "nunique"),
        任务=("task_id", "nunique"),
        责任单位=("unit", "nunique"),
    ).reset_index(names="政策编号")
    out["成文日期"] = pd.to_datetime(out["成文日期"]).dt.strftime("%Y-%m-%d").fillna("")
    return out[POLICY_COLUMNS]


@dataclass(frozen=True)
class Obligations:
    """A unit's tasks under every policy: totals per policy and the task list."""

    unit: str
    policies: int
    lead: int
    support: int
    by_policy: pd.DataFrame  # OBLIGATION_SUMMARY_COLUMNS
    tasks: pd.DataFrame  # OBLIGATION_COLUMNS


def unit_obligations(rows: pd.DataFrame, today: date, unit: str) -> Obligations:
    """Everything ``unit`` leads or supports, across all policies, in policy order."""
    own = rows[rows["unit"] == unit].sort_values(
        ["policy_id", "measure_no", "task_seq"], kind="stable"
    )
    is_lead = own["role"] == LEAD
    by_policy = (
        own.assign(
            lead=is_lead,
            support=~is_lead,
            done=own["status"] == DONE,
            red=own.get("light", pd.Series("", index=own.index)) == RED,
        )
        .groupby("policy_title", sort=False)[["lead", "support", "done", "red"]]
        .sum()
        .reset_index()
    )
    by_policy.columns = OBLIGATION_SUMMARY_COLUMNS
    tasks = pd.DataFrame(
        {
            "政策": own["policy_title"],
            "措施": own["measure_title"],
            "任务编号": own["task_id"],
            "任务内容": own["task_text"],
            "角色": own["role"].map(ROLE_LABELS),
            "牵头单位": own["lead_unit"],
            "状态": own["status"].map(STATUS_LABELS),
            "完成比例(%)": own["percent"],
            "完成时限": pd.to_datetime(own["due_date"]).dt.strftime("%Y-%m-%d").fillna(""),
            "预警灯": own["light"].map(LIGHT_LABELS) if "light" in own else "",
        }
    ).reset_index(drop=True)
    return Obligations(
        unit=unit,
        policies=int(own["policy_id"].nunique()),
        lead=int(is_lead.sum()),
        support=int((~is_lead).sum()),
        by_policy=by_policy,
        tasks=tasks[OBLIGATION_COLUMNS],
    )


def similar_tasks(rows: pd.DataFrame, today: date, task_id: str, limit: int = 5) -> pd.DataFrame:
    """Tasks of *other* policies most like ``task_id``'s text, best first, with the units
    they share: where another policy already asks the same of the same bureaus."""
    tasks = rows.drop_duplicates("task_id")
    mine = tasks[tasks["task_id"] == task_id]
    if mine.empty:
        return pd.DataFrame(columns=SIMILAR_COLUMNS)
    target = mine.iloc[0]
    own_units = frozenset(rows.loc[rows["task_id"] == task_id, "unit"])
    others = tasks[tasks["policy_id"] != target["policy_id"]]
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(target["task_text"])  # SequenceMatcher caches what it learns of seq2
    scored = []
    for other in others.itertuples(index=False):
        matcher.set_seq1(other.task_text)
        if matcher.real_quick_ratio() < MIN_SIMILARITY or matcher.quick_ratio() < MIN_SIMILARITY:
            continue
        ratio = matcher.ratio()
        if ratio >= MIN_SIMILARITY:
            scored.append(
                (
                    round(ratio, 2),
                    other.task_text,
                    other.task_id,  # replaced by the shared units below
                    other.lead_unit,
                    other.task_id,
                    other.measure_title,
                    other.policy_title,
                )
            )
    scored.sort(key=lambda row: (-row[0], row[4]))
    best = pd.DataFrame.from_records(scored[:limit], columns=SIMILAR_COLUMNS)
    # Units only for the few best matches (grouping all 100,000 rows took ~0.4 s).
    ids = best["任务编号"]
    theirs = rows[rows["task_id"].isin(ids)].groupby("task_id")["unit"].agg(frozenset)
    best["共同责任单位"] = ["、".join(sorted(own_units & theirs[t])) for t in ids]
    return best


def unit_choices(rows: pd.DataFrame, today: date) -> list[str]:
    """Units with any task, those with the most first (ties by name)."""
    counts = rows["unit"].value_counts()
    return sorted(counts.index, key=lambda unit: (-int(counts[unit]), unit))
