"""What each dashboard page shows, computed in one call: rows in, tables and figures out.

A page calls its function through ``webui.data.view``, which caches the result per data
revision, filters and arguments; a rerun then only draws.  At 100,000 assignments that is
the difference between seconds and milliseconds.  Long tables are cut to ``TABLE_LIMIT``
rows for display; their downloads carry every row.

>>> overview(assignments, today)["headline"]["tasks"]     # doctest: +SKIP
49
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from tracker import aggregate, editing, figures
from tracker.schema import LEAD, SUPPORT

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


def overview(rows: pd.DataFrame, today: date) -> dict:
    tasks = aggregate.task_frame(rows, today)
    counts = aggregate.status_counts(tasks)
    lights = aggregate.lights_by_lead_unit(tasks)
    head = aggregate.headline(rows, today, tasks)
    return {
        "headline": head,
        "headline_table": aggregate.headline_table(head),
        "status_counts": counts,
        "status_donut": figures.status_donut(counts),
        "lights": lights,
        "lights_bar": figures.lights_by_unit_bar(lights),
        "red": Table(aggregate.red_tasks(tasks)),
    }


def by_unit(rows: pd.DataFrame, today: date) -> dict:
    load = aggregate.unit_load(rows)
    return {
        "load": load,
        "load_bar": figures.unit_load_bar(load),
        "units": aggregate.units_by_load(rows),
        "unit_table": Table(aggregate.unit_table(rows)),
    }


def unit_detail(rows: pd.DataFrame, today: date, unit: str) -> dict:
    return {
        "summary": aggregate.unit_summary(rows, unit),
        "late": Table(aggregate.unit_tasks(rows, unit, late_only=True)),
        "tasks": Table(aggregate.unit_tasks(rows, unit)),
    }


def by_policy(rows: pd.DataFrame, today: date) -> dict:
    tasks = aggregate.task_frame(rows, today)
    tree = aggregate.policy_tree(tasks)
    return {
        "tree": tree,
        "sunburst": figures.policy_sunburst(aggregate.top_policies(tree)),
        "progress": Table(aggregate.measure_progress(rows, today, tasks)),
    }


def coverage(rows: pd.DataFrame, today: date) -> dict:
    matrix = aggregate.coverage(rows)
    return {
        "matrix": matrix.reset_index(),
        "heatmap": figures.coverage_heatmap(matrix),
        "single": Table(aggregate.single_unit_measures(rows)),
        "spread": Table(aggregate.unit_spread(rows)),
    }


def task_list(rows: pd.DataFrame, today: date) -> dict:
    return {"count": len(rows), "table": Table(aggregate.task_table(rows))}


def unit_workbench(rows: pd.DataFrame, today: date, unit: str, period: str) -> dict:
    """The update page's read side for one unit: editor frames, the detail panel's task
    picker, partners, task choices."""
    return {
        LEAD: editing.editor_frame(rows, unit, LEAD, period),
        SUPPORT: editing.editor_frame(rows, unit, SUPPORT, period),
        "detail_labels": editing.detail_labels(rows, unit),
        "partners": Table(editing.partner_table(rows, unit)),
        "choices": editing.task_choices(rows, unit),
    }


def task_detail(rows: pd.DataFrame, today: date, unit: str, assignment_id: int) -> dict:
    """The detail panel's description of one of ``unit``'s tasks (computed on demand: at a
    unit with 10,000 tasks, describing every one up front took a second)."""
    return editing.task_detail(rows, unit, assignment_id)


def filter_options(rows: pd.DataFrame, today: date) -> dict:
    """What the sidebar offers: policy id -> "文号 short title", and units A–Z."""
    heads = rows.drop_duplicates("policy_id")
    return {
        "policies": {
            r.policy_id: f"{r.doc_no} {aggregate.short_text(r.policy_title, 12)}"
            for r in heads.itertuples(index=False)
        },
        "units": sorted(rows["unit"].unique()) if len(rows) else [],
    }
