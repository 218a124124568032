"""Page views: one call per page, long tables cut for display but whole for download."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from bench.generate import synthetic_measures
from pagelogic import editing, views
from tracker import aggregate as ag
from tracker.aggregate import FIGURES, HEADLINE_KEYS, derive
from tracker.filters import Filters

TODAY = date(2026, 11, 23)


def _as_loaded(frame: pd.DataFrame) -> pd.DataFrame:
    """Synthetic measures shaped like ``webui.data.assignments()``."""
    frame = frame.assign(
        assignment_id=range(1, len(frame) + 1),
        measure_id=frame["policy_id"] + "-m" + frame["measure_no"].astype(str),
        status="not_started",
        percent=0,
        due_date=pd.NaT,
        updated_at=pd.NaT,
        updated_by="",
        note="",
        next_step="",
        problems="",
        evidence="",
        period="",
        version=0,
        issue_date=pd.Timestamp("2026-01-01"),
    )
    return derive(frame, TODAY)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    """2,500 synthetic assignments shaped like ``webui.data.assignments()``."""
    return _as_loaded(synthetic_measures(2_500, units=30))


def test_table_shows_at_most_the_limit_and_keeps_every_row() -> None:
    big = views.Table(pd.DataFrame({"x": range(views.TABLE_LIMIT + 5)}))
    small = views.Table(pd.DataFrame({"x": range(3)}))
    assert (len(big), len(big.shown), big.cut) == (views.TABLE_LIMIT + 5, views.TABLE_LIMIT, True)
    assert (len(small), len(small.shown), small.cut) == (3, 3, False)


def test_task_list_counts_every_row_but_shows_the_first_thousand(rows) -> None:
    view = views.task_list(rows, TODAY)
    assert view.count == 2_500
    assert len(view.table.full) == 2_500
    assert len(view.table.shown) == views.TABLE_LIMIT


def test_filter_options_name_policies_by_document_number_and_sort_units(rows) -> None:
    options = views.filter_options(rows, TODAY)
    assert set(options.policies) == set(rows["policy_id"])
    first = rows.iloc[0]
    assert options.policies[first["policy_id"]].startswith(first["doc_no"] + " ")
    assert options.units == sorted(rows["unit"].unique())


def test_by_unit_orders_the_picker_by_load(rows) -> None:
    units = views.by_unit(rows, TODAY).units
    loads = rows["unit"].value_counts()
    assert units[0] == loads.idxmax()
    assert [loads[u] for u in units] == sorted(loads, reverse=True)


def test_overview_headline_counts_tasks_once(rows) -> None:
    head = views.overview(rows, TODAY).headline
    assert head.tasks == rows["task_id"].nunique()
    assert head.assignments == 2_500
    assert head.red + head.yellow + head.green == 2_500


def test_synthetic_measures_have_one_lead_per_task() -> None:
    frame = synthetic_measures(1_000, units=20)
    assert len(frame) == 1_000
    leads = frame[frame["role"] == "lead"].groupby("task_id").size()
    assert set(leads) == {1} and len(leads) == frame["task_id"].nunique()
    assert frame.groupby("task_id")["unit"].apply(lambda u: u.is_unique).all()


def test_overview_headline_table_is_the_headline_with_definitions(rows) -> None:
    view = views.overview(rows, TODAY)
    table = view.headline_table
    assert table["指标"].tolist() == [FIGURES[k].name for k in HEADLINE_KEYS]
    assert table["数值"].tolist() == [getattr(view.headline, k) for k in HEADLINE_KEYS]
    assert table["口径"].tolist() == [FIGURES[k].definition for k in HEADLINE_KEYS]
    # the page's metrics: the same figures in the same order, the share as a percent
    metrics = view.headline.metrics()
    assert [figure for figure, _ in metrics] == [FIGURES[k] for k in HEADLINE_KEYS]
    shown = {figure.name: value for figure, value in metrics}
    assert shown[FIGURES["tasks"].name] == str(rows["task_id"].nunique())
    assert shown[FIGURES["share_done"].name] == f"{view.headline.share_done:.0%}"


def test_by_unit_table_adds_up_to_every_assignment(rows) -> None:
    table = views.by_unit(rows, TODAY).unit_table.full
    total = table.iloc[-1]
    assert total["责任单位"] == "合计" and total["分工条数"] == len(rows)
    assert table["分工条数"].iloc[:-1].sum() == len(rows)


def test_filtered_views_count_tasks_with_their_leads_status(rows) -> None:
    """A support-only filter still counts each task once, with its lead's status."""
    leads_done = rows.assign(status=rows["role"].map({"lead": "done", "support": "delayed"}))
    support = Filters(role=("support",)).apply(leads_done)
    head = views.overview(support, TODAY).headline
    assert head.tasks == support["task_id"].nunique() > 0
    assert (head.done, head.delayed) == (head.tasks, 0)
    progress = views.by_policy(support, TODAY).progress.full
    assert progress["已完成任务"].sum() == head.tasks


def test_by_policy_sunburst_draws_the_largest_policies_and_the_csv_keeps_all() -> None:
    many = _as_loaded(synthetic_measures(2_500, units=30, tasks_per_policy=3))
    view = views.by_policy(many, TODAY)
    sunburst = view.sunburst.data[0]
    assert (view.tree["level"] == "policy").sum() > ag.POLICY_TOP_N
    assert sum(1 for parent in sunburst.parents if parent == "") == ag.POLICY_TOP_N
    assert sunburst.ids[-1] == ag.OTHERS and len(sunburst.ids) < len(view.tree)


def test_unit_workbench_at_scale_sends_one_update_per_edit(rows) -> None:
    unit = rows["unit"].value_counts().index[0]
    bench = views.unit_workbench(rows, TODAY, unit, "2026-11")
    loaded = bench.support if len(bench.support) > len(bench.lead) else bench.lead
    edited = loaded.copy()
    edited["完成比例(%)"] = edited["完成比例(%)"].astype(float)  # the grid hands back floats
    aid = edited.index[len(edited) // 2]
    edited.loc[aid, "进展情况"] = "已推进"
    [update] = editing.changed_updates(loaded, edited)
    assert (update.assignment_id, update.changes) == (aid, {"note": "已推进"})
    detail = views.task_detail(rows, TODAY, unit, aid)
    assert detail is not None and detail.task_id == loaded.loc[aid, "任务编号"]
    assert len(bench.partners.shown) <= views.TABLE_LIMIT
