"""What each dashboard page shows, computed in one call: rows in, tables and figures out.

A page calls its function through ``webui.data.view``, which caches the result per data
revision, filters and arguments; a rerun then only draws.  At 100,000 assignments that is
the difference between seconds and milliseconds.  Long tables are cut to ``TABLE_LIMIT``
rows for display; their downloads carry every row.

Each view is a frozen dataclass, so a page reads ``view.status_donut``, not a string key
that only fails when the page runs (and it pickles, as ``st.cache_data`` needs).

>>> overview(assignments, today).headline.tasks     # doctest: +SKIP
49
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from pagelogic import editing, figures
from tracker import aggregate, rollup
from tracker import rankings as rk
from tracker.schema import LEAD, SUPPORT
from tracker.supervision import Supervision

TABLE_LIMIT = 1_000


@dataclass(frozen=True)
class Table:
    """A table for display (at most ``TABLE_LIMIT`` rows) and the full one for download."""

    full: pd.DataFrame

    @property
    def shown(self) -> pd.DataFrame:
        return self.full.head(TABLE_LIMIT)

    @property
    def cut(self) -> bool:
        return len(self.full) > TABLE_LIMIT

    def __len__(self) -> int:
        return len(self.full)


@dataclass(frozen=True)
class Headline:
    """The overview's headline numbers (``aggregate.headline``), fields in display order
    (``aggregate.HEADLINE_KEYS``); each field is named after its ``aggregate.FIGURES`` entry.

    >>> head = Headline(3, 5, 9, 4, 12, 3, 1 / 3, 1, 2, 0, 10, 0, 1)
    >>> [(figure.name, value) for figure, value in head.metrics()][5:8]
    [('已完成任务', '3'), ('任务完成率', '33%'), ('滞后任务', '1')]
    """

    policies: int
    measures: int
    tasks: int
    units: int
    assignments: int
    done: int
    share_done: float
    delayed: int
    red: int
    yellow: int
    green: int
    stale: int
    unnamed: int  # 未落实到具体单位的分工: placeholders (各相关单位) nobody has named yet

    def metrics(self) -> list[tuple[aggregate.Figure, str]]:
        """Each figure with its value as shown: counts as whole numbers, shares as percents."""
        return [(aggregate.FIGURES[f.name], _shown(getattr(self, f.name))) for f in fields(self)]


def _shown(value: float) -> str:
    return f"{value:.0%}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class UnitSummary:
    """One unit's own assignments (``aggregate.unit_summary``, one row of the unit table)."""

    assignments: int
    lead: int
    support: int
    done: int
    share_done: float  # 分工完成率: the unit's own status, per assignment
    delayed: int
    red: int


@dataclass(frozen=True)
class Overview:
    headline: Headline
    headline_table: pd.DataFrame  # the headline with names and definitions, for the CSV
    status_counts: pd.DataFrame
    status_donut: go.Figure
    lights: pd.DataFrame
    lights_bar: go.Figure
    red: Table


def overview(rows: pd.DataFrame, today: date) -> Overview:
    tasks = aggregate.task_frame(rows, today)
    counts = aggregate.status_counts(tasks)
    lights = aggregate.lights_by_lead_unit(tasks)
    head = aggregate.headline(rows, today, tasks)
    return Overview(
        headline=_headline(head),
        headline_table=aggregate.headline_table(head),
        status_counts=counts,
        status_donut=figures.status_donut(counts),
        lights=lights,
        lights_bar=figures.lights_by_unit_bar(lights),
        red=Table(aggregate.red_tasks(tasks)),
    )


def _headline(head: dict[str, float]) -> Headline:
    counts = {k: int(v) for k, v in head.items() if k != "share_done"}
    return Headline(
        policies=counts["policies"],
        measures=counts["measures"],
        tasks=counts["tasks"],
        units=counts["units"],
        assignments=counts["assignments"],
        done=counts["done"],
        share_done=float(head["share_done"]),
        delayed=counts["delayed"],
        red=counts["red"],
        yellow=counts["yellow"],
        green=counts["green"],
        stale=counts["stale"],
        unnamed=counts["unnamed"],
    )


@dataclass(frozen=True)
class ByUnit:
    load: pd.DataFrame
    load_bar: go.Figure
    units: list[str]  # the unit picker's options, heaviest load first
    unit_table: Table


def by_unit(rows: pd.DataFrame, today: date) -> ByUnit:
    rows = rollup.grouped(rows)  # 各区政府 as one group: its members' rows added up
    load = aggregate.unit_load(rows)
    return ByUnit(
        load=load,
        load_bar=figures.unit_load_bar(load),
        units=aggregate.units_by_load(rows),
        unit_table=Table(aggregate.unit_table(rows)),
    )


@dataclass(frozen=True)
class UnitDetail:
    summary: UnitSummary
    late: Table
    tasks: Table
    members: Table | None = None  # a collective's group: each member's own figures
    progress: Table | None = None  # a collective's group: each task, 12/16 已完成


def unit_detail(rows: pd.DataFrame, today: date, unit: str) -> UnitDetail:
    collective = rollup.collective_of(unit, rows)
    members = progress = None
    if collective is not None:
        own = rows[rows["collective"] == collective]
        members = Table(aggregate.unit_table(own))
        progress = Table(rollup.member_progress(rows, collective))
        rows = rollup.grouped(rows)
    summary = aggregate.unit_summary(rows, unit)
    return UnitDetail(
        summary=UnitSummary(
            assignments=int(summary["tasks"]),
            lead=int(summary["lead"]),
            support=int(summary["support"]),
            done=int(summary["done"]),
            share_done=float(summary["share_done"]),
            delayed=int(summary["delayed"]),
            red=int(summary["red"]),
        ),
        late=Table(aggregate.unit_tasks(rows, unit, late_only=True)),
        tasks=Table(aggregate.unit_tasks(rows, unit)),
        members=members,
        progress=progress,
    )


@dataclass(frozen=True)
class ByPolicy:
    tree: pd.DataFrame  # every node, for the CSV
    sunburst: go.Figure  # the largest policies only
    progress: Table


def by_policy(rows: pd.DataFrame, today: date) -> ByPolicy:
    tasks = aggregate.task_frame(rows, today)
    tree = aggregate.policy_tree(tasks)
    return ByPolicy(
        tree=tree,
        sunburst=figures.policy_sunburst(aggregate.top_policies(tree)),
        progress=Table(aggregate.measure_progress(rows, today, tasks)),
    )


@dataclass(frozen=True)
class Coverage:
    matrix: pd.DataFrame
    heatmap: go.Figure
    single: Table
    spread: Table


_COVERAGE_COLUMNS = [
    *("unit", "role", "task_id", "measure_id", "measure_no", "measure_title"),
    *("policy_id", "doc_no", "collective", "rollup"),
]


def coverage(rows: pd.DataFrame, today: date, collective: str | None = None) -> Coverage:
    """The matrix with each collective as one group row, or, given ``collective``, the
    matrix of its members alone (the drill-down)."""
    # The few columns the matrix reads: every filter below then moves 10, not 40, columns.
    rows = rows[[c for c in _COVERAGE_COLUMNS if c in rows]]
    rows = rollup.grouped(rows) if collective is None else rows[rows["collective"] == collective]
    matrix = aggregate.coverage(rows)
    return Coverage(
        matrix=matrix.reset_index(),
        heatmap=figures.coverage_heatmap(matrix),
        single=Table(aggregate.single_unit_measures(rows)),
        spread=Table(aggregate.unit_spread(rows)),
    )


@dataclass(frozen=True)
class TaskList:
    count: int
    table: Table


def task_list(rows: pd.DataFrame, today: date) -> TaskList:
    rows = rollup.counted(rows)  # members' rows, as 分工条数 counts them, not the roll-up
    return TaskList(count=len(rows), table=Table(aggregate.task_table(rows)))


@dataclass(frozen=True)
class Workbench:
    """The update page's read side for one unit: its editor frames (``editing.editor_frame``)
    per role and, on the tasks it leads, the other units' progress.  The detail panel's
    picker labels and the task names in refusal messages are built from the frames, for
    the rows on screen and the rows refused (built for every task up front, at a unit with
    14,500 assignments they were two dicts of 14,500 entries copied out of the cache on
    every rerun)."""

    lead: pd.DataFrame
    support: pd.DataFrame
    partners: Table

    def frame(self, role: str) -> pd.DataFrame:
        """The editor frame of ``role`` (``LEAD`` or ``SUPPORT``)."""
        return self.lead if role == LEAD else self.support


def unit_workbench(rows: pd.DataFrame, today: date, unit: str, period: str) -> Workbench:
    return Workbench(
        lead=editing.editor_frame(rows, unit, LEAD, period),
        support=editing.editor_frame(rows, unit, SUPPORT, period),
        partners=Table(editing.partner_table(rows, unit)),
    )


def task_detail(
    rows: pd.DataFrame, today: date, unit: str, assignment_id: int
) -> editing.TaskDetail | None:
    """The detail panel's description of one of ``unit``'s tasks (computed on demand: at a
    unit with 10,000 tasks, describing every one up front took a second)."""
    return editing.task_detail(rows, unit, assignment_id)


@dataclass(frozen=True)
class FilterOptions:
    policies: dict[str, str]  # policy id -> "文号 short title"
    units: list[str]  # A–Z


def filter_options(rows: pd.DataFrame, today: date) -> FilterOptions:
    """What the sidebar offers: policy id -> "文号 short title", and units A–Z."""
    heads = rows.drop_duplicates("policy_id")
    return FilterOptions(
        policies={
            str(r.policy_id): f"{r.doc_no} {aggregate.short_text(r.policy_title, 12)}"
            for r in heads.itertuples(index=False)
        },
        units=sorted(rows["unit"].unique()) if len(rows) else [],
    )


@dataclass(frozen=True)
class Rankings:
    table: pd.DataFrame  # :func:`tracker.rankings.rankings` (the report's 通报 sheet takes it)
    shown: pd.DataFrame  # the table as the page shows it
    chart: go.Figure
    flagged: list[str]  # units late two periods running
    groups: list[tuple[str, pd.DataFrame]]  # a collective's line and its members' table


def rankings(supervision: Supervision, rows: pd.DataFrame, today: date) -> Rankings:
    """通报, built once per revision (``webui.data.supervised``): a rerun only draws."""
    table = supervision.rankings(rows, today)
    groups = rk.collective_groups(table, rollup.collectives(rows))
    return Rankings(
        table=table,
        shown=rk.ranking_table(table),
        chart=figures.ranking_figure(table),
        flagged=table.loc[table[rk.FLAG], rk.UNIT].tolist(),
        groups=[(line, rk.ranking_table(members)) for line, members in groups],
    )
