"""Aggregations: pure functions, DataFrame in, DataFrame out (no Streamlit, no database).

Definitions used by every dashboard page and by the Excel report (and only here, so they
stay consistent).  Each figure has one name and one definition, :data:`FIGURES`, and
both are printed wherever the figure is shown (page captions and help, report notes):

* **assignment** (分工) – one row of the agency-by-task table: a task x a responsible unit.
* **task** (任务) – counts once.  Its status, due date, light and last update are those of
  its lead unit's assignment (``role == "lead"``; :func:`derive` names it in ``lead_unit``
  and gives every row its ``light``), also when the filters hide the lead's row: :meth:`tracker.filters.Filters.apply` carries the lead's progress along as
  ``lead_<field>`` columns.  A filter (unit, role, status, light) selects assignments; a
  task is in view when one of its assignments is.
* **task share done** (任务完成率) – done tasks / tasks (0 when there are no tasks).
* **delayed tasks** (滞后任务) – tasks whose lead status is ``delayed`` (滞后).
* **stale tasks** – no update on the lead row for 60 days (:func:`tracker.progress.stale`).
* **red / yellow / green counts** – per *assignment* light (``light`` column from
  :func:`tracker.progress.warning_light`), because each unit answers for its own light.
* **collective units** (各区政府) – a row with members is their roll-up, never counted
  itself (:mod:`tracker.rollup`): every count is over :func:`counted` rows.
* **per unit** (按责任单位, the report's 汇总) – a unit's own assignments with its own
  status; their share done is 分工完成率, a different figure from 任务完成率.

Charts must stay readable on 100 units and thousands of measures: the ``top_n`` arguments
keep the largest items and fold the rest into one :data:`OTHERS` bucket.

>>> FIGURES["share_done"].note()
'任务完成率：已完成任务 ÷ 任务。'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from tracker.labels import measure_label
from tracker.progress import stale, warning_light
from tracker.rollup import counted, roll_up
from tracker.schema import (
    DELAYED,
    DONE,
    GREEN,
    IN_PROGRESS,
    LEAD,
    LIGHT_LABELS,
    NOT_STARTED,
    ON_HOLD,
    RED,
    ROLE_LABELS,
    STATUS_LABELS,
    STATUSES,
    SUPPORT,
    UNNAMED_LABEL,
    YELLOW,
)

OTHERS = "其他"
UNIT_TOP_N = 40
MEASURE_TOP_N = 60
POLICY_TOP_N = 15  # sunburst: more fold into 其他 (30 were slivers, slow to draw: README)
LIGHTS: list[str] = [RED, YELLOW, GREEN]
# Coverage matrix cell values: how a unit is involved in a measure.
COVER_NONE, COVER_SUPPORT, COVER_LEAD = 0, 1, 2


# Status columns of the per-unit table, done first (the report's chart stacks them so).
UNIT_STATUSES: list[str] = [DONE, IN_PROGRESS, DELAYED, ON_HOLD, NOT_STARTED]


@dataclass(frozen=True)
class Figure:
    """A number shown to users: the one name it goes by and what it counts."""

    name: str
    definition: str

    def note(self) -> str:
        return f"{self.name}：{self.definition}"


FIGURES: dict[str, Figure] = {
    "policies": Figure("政策", "所选范围内的政策文件数。"),
    "measures": Figure("措施", "政策中编号的措施数。"),
    "tasks": Figure("任务", "措施中的一项任务；无论有几个责任单位，每项任务只计一次。"),
    "units": Figure("责任单位数", "承担任务（牵头或配合）的单位数。"),
    "assignments": Figure(
        "分工条数",
        "任务 × 责任单位：一项任务的每个责任单位各计一条；各区政府等集体单位按成员单位各计一条，"
        "集体单位本身不计。",
    ),
    "rollup": Figure(
        "集体单位汇总",
        "各区政府等集体单位由各成员单位分别填报：全部成员已完成才算已完成，预警灯取成员中最差的，"
        "完成比例取成员的平均值（向下取整）。",
    ),
    "unnamed": Figure(
        "未落实到具体单位的分工",
        "责任单位为“各相关单位”“有关部门”等泛指、督办员尚未明确具体单位的分工条数（显示为待明确）。",
    ),
    "done": Figure("已完成任务", "牵头单位状态为“已完成”的任务数（不看配合单位的状态）。"),
    "share_done": Figure("任务完成率", "已完成任务 ÷ 任务。"),
    "delayed": Figure("滞后任务", "牵头单位状态为“滞后”的任务数。"),
    "red": Figure("红灯", "预警灯为红灯的分工条数：状态为滞后，或已过完成时限仍未完成。"),
    "yellow": Figure(
        "黄灯", "预警灯为黄灯的分工条数：未完成，且30天内到期或超过60天没有进度更新。"
    ),
    "green": Figure("绿灯", "预警灯为绿灯的分工条数：其余分工。"),
    "stale": Figure("60天未更新任务", "牵头单位超过60天没有进度更新的未完成任务数。"),
    "lead": Figure("牵头任务", "该单位作为牵头单位的任务数。"),
    "support": Figure("配合任务", "该单位作为配合单位的任务数。"),
    "unit_status": Figure(
        "、".join(STATUS_LABELS[s] for s in UNIT_STATUSES),
        "该单位自己填报的状态为该状态的分工条数（每个单位按自己的状态计）。",
    ),
    "unit_share_done": Figure(
        "分工完成率", "状态为“已完成”的分工条数 ÷ 分工条数（按单位自己的状态计）。"
    ),
}
# The overview's headline, in display order (also the report's 汇总 block and its CSV).
HEADLINE_KEYS: list[str] = [
    "policies",
    "measures",
    "tasks",
    "units",
    "assignments",
    "done",
    "share_done",
    "delayed",
    "red",
    "yellow",
    "green",
    "stale",
    "unnamed",
]
# A task's progress comes from its lead's row; these columns travel with filtered rows.
LEAD_PROGRESS: list[str] = [
    "status",
    "percent",
    "due_date",
    "updated_at",
    "assigned_at",
    "note",
    "light",
]


def notes(*keys: str) -> list[str]:
    """``名称：定义`` for each figure, for captions and report notes."""
    return [FIGURES[key].note() for key in keys]


def notes_text(*keys: str) -> str:
    """The figures' notes as one running text for a caption, each its own sentence.

    >>> notes_text("share_done", "delayed")
    '任务完成率：已完成任务 ÷ 任务。滞后任务：牵头单位状态为“滞后”的任务数。'
    """
    return "".join(note if note.endswith("。") else note + "。" for note in notes(*keys))


# What a reader needs first (who, how far, by when, which task, what was done), then the
# references; the same order on screen and in the CSV.
TASK_TABLE_COLUMNS = {
    "unit": "责任单位",
    "role": "角色",
    "status": "状态",
    "percent": "完成比例(%)",
    "due_date": "完成时限",
    "light": "预警",
    "measure": "措施",
    "task_text": "任务内容",
    "note": "进展情况",
    "doc_no": "文号",
    "measure_title": "措施名称",
    "task_id": "任务编号",
    "updated_by": "更新人",
    "updated_at": "更新时间",
}

TASK_COLUMNS: list[str] = [
    "task_id",
    "policy_id",
    "policy_title",
    "doc_no",
    "section_no",
    "section_title",
    "measure_id",
    "measure_no",
    "measure_title",
    "task_seq",
    "task_text",
    "lead_unit",
    "units",
    "status",
    "percent",
    "due_date",
    "updated_at",
    "assigned_at",
    "note",
    "light",
    "stale",
]


def task_table(assignments: pd.DataFrame) -> pd.DataFrame:
    """The flattened agency-by-task table with Chinese headers and labels, for display.

    ``措施`` is the measure's short label (:func:`measure_label`), ``进展情况`` the unit's note.
    """
    table = assignments.reindex(columns=list(TASK_TABLE_COLUMNS)).copy()
    # One label per measure, spread to its rows (a label per row was ~0.5 s at 100,000).
    where = assignments.reindex(columns=["doc_no", "measure_no"])
    pairs = where.drop_duplicates()
    labels = pairs.assign(
        measure=[
            "" if pd.isna(no) else measure_label(doc_no, no)
            for doc_no, no in zip(pairs["doc_no"], pairs["measure_no"], strict=True)
        ]
    )
    table["measure"] = where.merge(labels, how="left", on=["doc_no", "measure_no"])[
        "measure"
    ].to_numpy()
    if "unnamed" in assignments:
        unnamed = assignments["unnamed"].to_numpy(dtype=bool)
        table.loc[unnamed, "unit"] = table.loc[unnamed, "unit"] + f"（{UNNAMED_LABEL}）"
    table["role"] = table["role"].map(ROLE_LABELS)
    table["status"] = table["status"].map(STATUS_LABELS)
    table["light"] = table["light"].map(LIGHT_LABELS)
    table["due_date"] = pd.to_datetime(table["due_date"]).dt.date
    table["note"] = table["note"].astype(object).fillna("")  # all-empty reads as float NaN
    return table.rename(columns=TASK_TABLE_COLUMNS)


# --- tasks ----------------------------------------------------------------------------


def derive(assignments: pd.DataFrame, today: date | None = None) -> pd.DataFrame:
    """``assignments`` with the two columns every page, the report and the CLI read and the
    store does not hold, each computed only where missing: ``lead_unit`` (the task's
    lowest-ranked lead row, else, with no lead at all, its lowest-ranked unit) and ``light``
    as of ``today`` (:func:`tracker.progress.warning_light`).

    Call it on the full table, before any filter, so a task keeps naming its lead.  The
    result is a new frame sharing the input's columns (the input is not changed).

    >>> rows = pd.DataFrame({"task_id": ["t1", "t1"], "unit": ["A", "B"],
    ...     "role": ["support", "lead"], "unit_rank": [1, 2], "status": ["done", "delayed"],
    ...     "due_date": [None, None], "updated_at": [None, None]})
    >>> derive(rows)[["lead_unit", "light"]].to_numpy().tolist()
    [['B', 'green'], ['B', 'red']]
    """
    frame = assignments.copy(deep=False)
    if "lead_unit" not in frame:
        frame["lead_unit"] = _lead_units(frame)
    if "light" not in frame:
        frame["light"] = warning_light(frame, today)
    if "rollup" not in frame:
        frame = roll_up(frame)  # collective rows from their members: tracker.rollup
    return frame


def _lead_units(assignments: pd.DataFrame) -> pd.Series:
    """Each row's task's lead unit, by one stable sort of (task, not lead, rank) in NumPy:
    pandas' sort and drop_duplicates on the frame cost four times more at 100,000 rows."""
    if assignments.empty:
        return pd.Series([], index=assignments.index, dtype=object)
    codes, tasks = pd.factorize(assignments["task_id"], use_na_sentinel=False)
    not_lead = (assignments["role"] != LEAD).to_numpy(dtype=bool)
    if "collective_id" in assignments:  # a member never leads instead of its collective
        not_lead = not_lead | (assignments["collective_id"].fillna(0) > 0).to_numpy()
    order = np.lexsort((assignments["unit_rank"].to_numpy(), not_lead, codes))
    sorted_codes = codes[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_codes[1:] != sorted_codes[:-1]
    lead_row = np.empty(len(tasks), dtype=np.intp)
    lead_row[sorted_codes[first]] = order[first]
    lead = assignments["unit"].take(lead_row[codes])
    lead.index = assignments.index
    return lead


def with_lead_progress(assignments: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """``chosen`` (a subset of ``assignments``) with its task's lead progress on every row.

    Adds ``lead_<field>`` for each :data:`LEAD_PROGRESS` field, taken from the lead's row in
    ``assignments``, so task-level figures keep the lead's status and light even when a
    filter (e.g. a support unit) hides that row.  ``assignments`` must carry ``lead_unit``.
    """
    present = [f for f in LEAD_PROGRESS if f in assignments]
    if chosen.empty:
        return chosen.assign(**{f"lead_{f}": chosen[f] for f in present})
    # Positions of the lead rows, looked up once and taken column-wise: mapping each field
    # separately costs several times more at 100,000 rows.
    is_lead = (assignments["unit"] == assignments["lead_unit"]).to_numpy()
    lead_tasks = assignments["task_id"][is_lead]
    first = ~lead_tasks.duplicated().to_numpy()  # one row per task (unit is unique per task)
    lead_rows = np.flatnonzero(is_lead)[first]
    lead_at = lead_rows[pd.Index(lead_tasks[first]).get_indexer(chosen["task_id"])]
    carried = assignments[present].take(lead_at)
    carried.index = chosen.index
    carried.columns = [f"lead_{f}" for f in present]
    return pd.concat([chosen, carried], axis=1)


def task_frame(assignments: pd.DataFrame, today: date | None = None) -> pd.DataFrame:
    """One row per task, carrying its lead row's status, due date, light and update time.

    The lead's progress comes from the ``lead_<field>`` columns when the rows carry them
    (filtered rows, see :func:`with_lead_progress`); otherwise from the lead's row, or, when
    the rows hold no lead for a task, from its first-ranked row.
    """
    if assignments.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TASK_COLUMNS})
    frame = derive(assignments, today)
    # Order a narrow key frame, then take only the chosen rows: sorting all columns of
    # 100,000 rows costs ten times more.
    keys = frame[["task_id", "unit_rank"]].assign(_not_lead=frame["role"] != LEAD)
    first = keys.sort_values(["_not_lead", "unit_rank"], kind="stable").drop_duplicates("task_id")
    tasks = frame.loc[first.index, [c for c in TASK_COLUMNS if c in frame]]
    for field in LEAD_PROGRESS:
        if f"lead_{field}" in frame:
            tasks[field] = frame.loc[first.index, f"lead_{field}"]
    units = counted(frame).groupby("task_id")["unit"].nunique()
    tasks["units"] = tasks["task_id"].map(units).astype("int64")
    tasks["stale"] = stale(tasks, today).astype(bool)
    tasks = tasks.reindex(columns=TASK_COLUMNS)
    return tasks.sort_values(["policy_id", "measure_no", "task_seq"], kind="stable").reset_index(
        drop=True
    )


def headline(
    assignments: pd.DataFrame, today: date | None = None, tasks: pd.DataFrame | None = None
) -> dict[str, float]:
    """The overview's headline numbers, with the definitions of the module docstring.

    Keys: policies, measures, tasks, units, assignments, done, share_done, delayed,
    red, yellow, green (assignment lights), stale (tasks).  ``tasks`` is
    :func:`task_frame` of the same rows, when the caller has it already.
    """
    tasks = task_frame(assignments, today) if tasks is None else tasks
    n_tasks = len(tasks)
    done = int((tasks["status"] == DONE).sum())
    unnamed = int(assignments["unnamed"].sum()) if "unnamed" in assignments else 0
    assignments = counted(assignments)
    lights = assignments["light"].value_counts() if "light" in assignments else pd.Series()
    return {
        "policies": int(assignments["policy_id"].nunique()) if n_tasks else 0,
        "measures": int(assignments["measure_id"].nunique()) if n_tasks else 0,
        "tasks": n_tasks,
        "units": int(assignments["unit"].nunique()) if n_tasks else 0,
        "assignments": len(assignments),
        "done": done,
        "share_done": done / n_tasks if n_tasks else 0.0,
        "delayed": int((tasks["status"] == DELAYED).sum()),
        "red": int(lights.get(RED, 0)),
        "yellow": int(lights.get(YELLOW, 0)),
        "green": int(lights.get(GREEN, 0)),
        "stale": int(tasks["stale"].sum()),
        "unnamed": unnamed,
    }


def headline_table(head: dict[str, float]) -> pd.DataFrame:
    """The headline as a table: 指标 (name), 数值 (value), 口径 (definition).

    The overview's CSV download and the report's 汇总 block are this same table.
    """
    return pd.DataFrame(
        {
            "指标": [FIGURES[k].name for k in HEADLINE_KEYS],
            "数值": [head[k] for k in HEADLINE_KEYS],
            "口径": [FIGURES[k].definition for k in HEADLINE_KEYS],
        }
    )


def status_counts(tasks: pd.DataFrame) -> pd.DataFrame:
    """Tasks per status, every status present (zero included), in vocabulary order."""
    counts = tasks["status"].value_counts().reindex(STATUSES, fill_value=0)
    return pd.DataFrame(
        {
            "status": STATUSES,
            "label": [STATUS_LABELS[s] for s in STATUSES],
            "tasks": counts.to_numpy().astype("int64"),
        }
    )


def lights_by_lead_unit(tasks: pd.DataFrame, top_n: int = UNIT_TOP_N) -> pd.DataFrame:
    """Tasks per lead unit x light (long form), units by red then total, rest in 其他."""
    columns = ["unit", "light", "label", "tasks"]
    if tasks.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    wide = pd.crosstab(tasks["lead_unit"], tasks["light"]).reindex(columns=LIGHTS, fill_value=0)
    wide = wide.assign(_total=wide.sum(axis=1)).sort_values(
        [RED, YELLOW, "_total"], ascending=False, kind="stable"
    )
    wide = _fold_others(wide.drop(columns="_total"), top_n)
    long = _long(wide.rename_axis(index="unit", columns="light"), "tasks")
    long["label"] = long["light"].map(LIGHT_LABELS)
    long["tasks"] = long["tasks"].astype("int64")
    return long[columns]


def red_tasks(tasks: pd.DataFrame) -> pd.DataFrame:
    """Red tasks with lead unit and due date, most overdue first, Chinese headers."""
    red = tasks[tasks["light"] == RED].sort_values("due_date", na_position="last", kind="stable")
    table = pd.DataFrame(
        {
            "牵头单位": red["lead_unit"],
            "完成时限": pd.to_datetime(red["due_date"]).dt.date,
            "状态": red["status"].map(STATUS_LABELS),
            "文号": red["doc_no"],
            "措施": red["measure_no"],
            "任务内容": red["task_text"],
            "进展情况": red["note"],
            "措施名称": red["measure_title"],
        }
    )
    return table.reset_index(drop=True)


# --- by unit ------------------------------------------------------------------------


def unit_load(assignments: pd.DataFrame, top_n: int = UNIT_TOP_N) -> pd.DataFrame:
    """Assignments per unit x role x status (long form), units by total load, rest in 其他.

    Each assignment is one task the unit answers for, so lead and support load add up.
    Column ``total`` is the unit's whole load, the sort key.
    """
    assignments = counted(assignments)
    columns = ["unit", "role", "role_label", "status", "label", "tasks", "total"]
    if assignments.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    wide = pd.crosstab(assignments["unit"], [assignments["role"], assignments["status"]])
    full = pd.MultiIndex.from_product([[LEAD, SUPPORT], STATUSES], names=["role", "status"])
    wide = wide.reindex(columns=full, fill_value=0)
    totals = wide.sum(axis=1)
    order = totals.sort_values(ascending=False, kind="stable").index
    wide = _fold_others(wide.loc[order], top_n)
    totals = wide.sum(axis=1)
    long = _long(wide.rename_axis(index="unit"), "tasks")
    long["role_label"] = long["role"].map(ROLE_LABELS)
    long["label"] = long["status"].map(STATUS_LABELS)
    long["tasks"] = long["tasks"].astype("int64")
    long["total"] = long["unit"].map(totals).astype("int64")
    return long[columns]


def units_by_load(assignments: pd.DataFrame) -> list[str]:
    """Every unit, heaviest load (assignments) first: the unit picker's order."""
    assignments = counted(assignments)
    if assignments.empty:
        return []
    return (
        assignments["unit"]
        .value_counts(sort=False)
        .sort_values(ascending=False, kind="stable")
        .index.tolist()
    )


TOTAL = "合计"
UNIT_TABLE_COLUMNS: list[str] = [
    "责任单位",
    FIGURES["lead"].name,
    FIGURES["support"].name,
    FIGURES["assignments"].name,
    *(STATUS_LABELS[s] for s in UNIT_STATUSES),
    FIGURES["unit_share_done"].name,
    *(FIGURES[light].name for light in LIGHTS),
]


def unit_table(assignments: pd.DataFrame) -> pd.DataFrame:
    """Per unit, its own assignments: led, supported, by its own status, 分工完成率, lights.

    Heaviest load first (then by name), and a last 合计 row over every unit.  The report's
    汇总 table and the by-unit page's numbers (:func:`unit_summary`) are this table.
    """
    df = counted(assignments)
    names = [FIGURES[k].name for k in ("lead", "support", "assignments")]
    flags = {
        names[0]: df["role"] == LEAD,
        names[1]: df["role"] == SUPPORT,
        names[2]: pd.Series(True, index=df.index),
        **{STATUS_LABELS[s]: df["status"] == s for s in STATUSES},
        **{FIGURES[c].name: df["light"] == c for c in LIGHTS},
    }
    counts = pd.DataFrame(flags, index=df.index).astype("int64")
    counts["责任单位"] = df["unit"].to_numpy()
    table = counts.groupby("责任单位", sort=False).sum().reset_index()
    table = table.sort_values([names[2], "责任单位"], ascending=[False, True], kind="stable")
    total = table.drop(columns="责任单位").sum()
    table = pd.concat(
        [table, pd.DataFrame([{"责任单位": TOTAL, **total.to_dict()}])], ignore_index=True
    )
    share = FIGURES["unit_share_done"].name
    table[share] = (table[STATUS_LABELS[DONE]] / table[names[2]].where(table[names[2]] > 0)).fillna(
        0.0
    )
    for column in UNIT_TABLE_COLUMNS[1:]:
        if column != share:
            table[column] = table[column].astype("int64")
    return table[UNIT_TABLE_COLUMNS]


def unit_summary(assignments: pd.DataFrame, unit: str) -> dict[str, float]:
    """One unit's row of :func:`unit_table`: assignments (``tasks``), lead, support, done,
    share_done (分工完成率), delayed, red."""
    row = unit_table(assignments[assignments["unit"] == unit]).iloc[-1]
    return {
        "tasks": int(row[FIGURES["assignments"].name]),
        "lead": int(row[FIGURES["lead"].name]),
        "support": int(row[FIGURES["support"].name]),
        "done": int(row[STATUS_LABELS[DONE]]),
        "share_done": float(row[FIGURES["unit_share_done"].name]),
        "delayed": int(row[STATUS_LABELS[DELAYED]]),
        "red": int(row[FIGURES["red"].name]),
    }


def unit_tasks(assignments: pd.DataFrame, unit: str, *, late_only: bool = False) -> pd.DataFrame:
    """The unit's task list (its own assignments) for display; ``late_only`` keeps red ones.

    What the unit must act on (light, status, due date) comes first, the long text last.
    """
    rows = assignments[assignments["unit"] == unit]
    if late_only:
        rows = rows[rows["light"] == RED]
    table = task_table(rows).drop(columns=["责任单位"])
    first = ["预警", "状态", "完成时限", "角色", "完成比例(%)", "措施", "任务内容", "进展情况"]
    return table[first + [c for c in table.columns if c not in first]]


# --- by policy ----------------------------------------------------------------------


def policy_tree(tasks: pd.DataFrame) -> pd.DataFrame:
    """Policy -> section -> measure nodes for a sunburst: id, parent, label, tasks, done, share.

    ``tasks`` sums the tasks below a node, so parents equal the sum of their children.
    """
    columns = ["id", "parent", "label", "level", "tasks", "done", "share_done"]
    if tasks.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    t = tasks.assign(
        _done=(tasks["status"] == DONE).astype("int64"),
        _section=tasks["policy_id"] + "/s" + tasks["section_no"].astype(str),
    )
    nodes: list[pd.DataFrame] = []
    pol = t.groupby("policy_id", sort=False).agg(
        label=("doc_no", "first"), tasks=("task_id", "size"), done=("_done", "sum")
    )
    nodes.append(pol.reset_index(names="id").assign(parent="", level="policy"))
    sec = t.groupby("_section", sort=False).agg(
        parent=("policy_id", "first"),
        label=("section_title", "first"),
        tasks=("task_id", "size"),
        done=("_done", "sum"),
    )
    nodes.append(sec.reset_index(names="id").assign(level="section"))
    mea = t.groupby("measure_id", sort=False).agg(
        parent=("_section", "first"),
        no=("measure_no", "first"),
        title=("measure_title", "first"),
        tasks=("task_id", "size"),
        done=("_done", "sum"),
    )
    mea["label"] = "（" + mea["no"].astype(str) + "）" + mea["title"].map(short_text)
    nodes.append(mea.drop(columns=["no", "title"]).reset_index(names="id").assign(level="measure"))
    tree = pd.concat(nodes, ignore_index=True)
    tree["tasks"] = tree["tasks"].astype("int64")
    tree["done"] = tree["done"].astype("int64")
    tree["share_done"] = tree["done"] / tree["tasks"]
    return tree[columns]


def top_policies(tree: pd.DataFrame, top_n: int = POLICY_TOP_N) -> pd.DataFrame:
    """:func:`policy_tree` cut for a chart: the ``top_n - 1`` policies with most tasks keep
    their sections and measures (in document order), the rest become one 其他 node.

    At 1,000 policies the whole tree is tens of thousands of nodes: megabytes to the browser
    and seconds to draw, for rings too thin to see.  The CSV keeps the whole tree.
    """
    policies = tree[tree["level"] == "policy"]
    if len(policies) <= top_n:
        return tree
    ranked = policies.sort_values("tasks", ascending=False, kind="stable")
    kept = set(ranked["id"].iloc[: top_n - 1])
    rest = ranked.iloc[top_n - 1 :]
    sections = set(tree.loc[(tree["level"] == "section") & tree["parent"].isin(kept), "id"])
    keep = tree["id"].isin(kept) | tree["id"].isin(sections) | tree["parent"].isin(sections)
    tasks, done = int(rest["tasks"].sum()), int(rest["done"].sum())
    other = {
        "id": OTHERS,
        "parent": "",
        "label": f"{OTHERS}（{len(rest)} 项政策）",
        "level": "policy",
        "tasks": tasks,
        "done": done,
        "share_done": done / tasks if tasks else 0.0,
    }
    return pd.concat([tree[keep], pd.DataFrame([other])], ignore_index=True)[tree.columns]


MEASURE_PROGRESS_COLUMNS: list[str] = [
    "文号",
    "政策名称",
    "措施",
    "措施名称",
    FIGURES["tasks"].name,
    FIGURES["units"].name,
    FIGURES["done"].name,
    FIGURES["delayed"].name,
    FIGURES["share_done"].name,
    "牵头单位",
]


def measure_progress(
    assignments: pd.DataFrame, today: date | None = None, tasks: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per measure: tasks, units, done and delayed tasks, 任务完成率 and lead unit(s).

    The same definitions as :func:`headline` (a task counts once, with its lead's status),
    so the measures add up to the headline.  ``tasks`` is :func:`task_frame` of the same
    rows, when the caller has it already.
    """
    tasks = task_frame(assignments, today) if tasks is None else tasks
    if tasks.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in MEASURE_PROGRESS_COLUMNS})
    keys = ["policy_id", "measure_no"]
    t = tasks.assign(
        _done=(tasks["status"] == DONE).astype("int64"),
        _delayed=(tasks["status"] == DELAYED).astype("int64"),
    )
    grouped = t.groupby(keys, sort=True).agg(
        doc_no=("doc_no", "first"),
        policy_title=("policy_title", "first"),
        title=("measure_title", "first"),
        tasks=("task_id", "size"),
        done=("_done", "sum"),
        delayed=("_delayed", "sum"),
    )
    grouped["units"] = counted(assignments).groupby(keys)["unit"].nunique().reindex(grouped.index)
    # Lead units per measure in first-seen order, in one pass (not a Series per measure).
    named = t.dropna(subset=["lead_unit"]).drop_duplicates([*keys, "lead_unit"])
    named = named.sort_values(keys, kind="stable")
    joined: dict[tuple, str] = {}
    pairs = zip(named["policy_id"].tolist(), named["measure_no"].tolist(), strict=True)
    for key, unit in zip(pairs, named["lead_unit"].tolist(), strict=True):
        joined[key] = f"{joined[key]}、{unit}" if key in joined else unit
    leads = pd.Series(joined, dtype=object)
    grouped["leads"] = leads.reindex(grouped.index).fillna("")
    grouped = grouped.reset_index()
    values = [
        grouped["doc_no"],
        grouped["policy_title"],
        grouped["measure_no"].astype("int64"),
        grouped["title"],
        grouped["tasks"].astype("int64"),
        grouped["units"].astype("int64"),
        grouped["done"].astype("int64"),
        grouped["delayed"].astype("int64"),
        grouped["done"] / grouped["tasks"],
        grouped["leads"],
    ]
    return pd.DataFrame(dict(zip(MEASURE_PROGRESS_COLUMNS, values, strict=True)))


# --- coverage -------------------------------------------------------------------------


def unit_spread(assignments: pd.DataFrame) -> pd.DataFrame:
    """Units by the number of measures they are involved in (as lead, as support)."""
    assignments = counted(assignments)
    columns = ["单位", "涉及措施数", "牵头措施数", "配合措施数", "分工条数"]
    if assignments.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    g = assignments.groupby("unit")
    lead = assignments[assignments["role"] == LEAD].groupby("unit")["measure_id"].nunique()
    support = assignments[assignments["role"] == SUPPORT].groupby("unit")["measure_id"].nunique()
    table = pd.DataFrame(
        {
            "涉及措施数": g["measure_id"].nunique(),
            "牵头措施数": lead,
            "配合措施数": support,
            "分工条数": g.size(),
        }
    ).fillna(0)
    table = table.astype("int64").sort_values(
        ["涉及措施数", "分工条数"], ascending=False, kind="stable"
    )
    return table.rename_axis("单位").reset_index()[columns]


def single_unit_measures(assignments: pd.DataFrame) -> pd.DataFrame:
    """Measures that rest on one unit alone (no support anywhere): a concentration risk."""
    assignments = counted(assignments)
    columns = ["文号", "措施", "措施名称", "单位", "任务数"]
    if assignments.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    g = assignments.groupby("measure_id", sort=False).agg(
        doc_no=("doc_no", "first"),
        no=("measure_no", "first"),
        title=("measure_title", "first"),
        units=("unit", "nunique"),
        unit=("unit", "first"),
        tasks=("task_id", "nunique"),
    )
    one = g[g["units"] == 1]
    return pd.DataFrame(
        {
            "文号": one["doc_no"],
            "措施": one["no"].astype("int64"),
            "措施名称": one["title"],
            "单位": one["unit"],
            "任务数": one["tasks"].astype("int64"),
        }
    ).reset_index(drop=True)


def coverage(
    assignments: pd.DataFrame, top_units: int = UNIT_TOP_N, top_measures: int = MEASURE_TOP_N
) -> pd.DataFrame:
    """Unit x measure matrix: 2 = leads a task of it, 1 = only supports, 0 = not involved.

    Rows are units spread over the most measures first; columns follow document order.
    Units beyond ``top_units`` fold into a 其他 row and measures with the fewest units
    beyond ``top_measures`` into a 其他 column (cell = strongest involvement folded in).
    Column labels are :func:`measure_label`, prefixed with ★ for single-unit measures.
    """
    if assignments.empty:
        return pd.DataFrame(dtype="int64")
    a = counted(assignments).assign(
        _value=(assignments["role"] == LEAD).map({True: COVER_LEAD, False: COVER_SUPPORT})
    )
    matrix = a.pivot_table(
        index="unit", columns="measure_id", values="_value", aggfunc="max", fill_value=0
    )
    spread = (matrix > 0).sum(axis=1)
    load = a.groupby("unit").size().reindex(matrix.index)
    rank = pd.DataFrame({"spread": spread, "load": load}).sort_values(
        ["spread", "load"], ascending=False, kind="stable"
    )
    matrix = matrix.loc[rank.index]
    measures = a.drop_duplicates("measure_id").set_index("measure_id")
    measures = measures.sort_values(["policy_id", "measure_no"], kind="stable")
    matrix = matrix[measures.index]
    n_units = (matrix > 0).sum(axis=0)
    labels = [
        ("★" if count == 1 else "") + measure_label(doc_no, no)
        for count, doc_no, no in zip(
            n_units.tolist(),
            measures["doc_no"].tolist(),
            measures["measure_no"].tolist(),
            strict=True,
        )
    ]
    matrix.columns = labels
    if matrix.shape[1] > top_measures:
        n_units.index = labels
        keep = set(n_units.sort_values(ascending=False, kind="stable").index[: top_measures - 1])
        kept = [c for c in matrix.columns if c in keep]
        rest = [c for c in matrix.columns if c not in keep]
        matrix = matrix[kept].assign(**{OTHERS: matrix[rest].max(axis=1)})
    matrix = _fold_others(matrix, top_units, how="max")
    matrix.index.name = "unit"
    matrix.columns.name = "measure"
    return matrix.astype("int64")


# --- helpers -------------------------------------------------------------------------


def _fold_others(wide: pd.DataFrame, top_n: int, how: str = "sum") -> pd.DataFrame:
    """Keep the first ``top_n - 1`` rows and fold the rest into one 其他 row (if > top_n)."""
    if len(wide) <= top_n:
        return wide
    head, tail = wide.iloc[: top_n - 1], wide.iloc[top_n - 1 :]
    folded = tail.max() if how == "max" else tail.sum()
    return pd.concat([head, folded.to_frame(OTHERS).T]).astype("int64")


def _long(wide: pd.DataFrame, value: str) -> pd.DataFrame:
    """``wide`` in long form, one row per cell: its index and column labels, and ``value``."""
    cells = wide.stack(list(range(wide.columns.nlevels)))
    assert isinstance(cells, pd.Series)  # every column level stacked: one value per row
    return cells.rename(value).reset_index()


def short_text(text: object, limit: int = 14) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, for chart labels."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
