"""Aggregations on small hand-made assignment frames, expected numbers worked out by hand."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from loaders.table_csv import csv_bytes
from tracker import aggregate as ag
from tracker.filters import Filters

TODAY = date(2026, 11, 23)


def assignments_frame(rows: list[dict]) -> pd.DataFrame:
    """A frame shaped like ``webui.data.assignments()`` from short row dicts."""
    defaults = {
        "policy_id": "p1",
        "policy_title": "政策一",
        "doc_no": "沪府办发〔2026〕1号",
        "issue_date": pd.Timestamp("2026-01-10"),
        "section_no": 1,
        "section_title": "一、总体",
        "measure_no": 1,
        "measure_title": "措施一",
        "task_seq": 1,
        "task_text": "任务",
        "role": "lead",
        "unit_rank": 1,
        "status": "not_started",
        "percent": 0,
        "due_date": pd.NaT,
        "note": "",
        "updated_by": "",
        "updated_at": pd.Timestamp("2026-11-01"),
        "light": "green",
    }
    frame = pd.DataFrame([{**defaults, **row} for row in rows])
    frame["measure_id"] = frame["policy_id"] + "-m" + frame["measure_no"].astype(str)
    if "task_id" not in frame:
        frame["task_id"] = frame["measure_id"] + "-t" + frame["task_seq"].astype(str)
    frame["assignment_id"] = range(1, len(frame) + 1)
    return frame


@pytest.fixture
def frame() -> pd.DataFrame:
    """Two policies, three measures, five tasks, nine assignments, four units.

    task      lead (status, light)          support
    p1 m1 t1  A done green                  B delayed red
    p1 m1 t2  B delayed red (stale)         A in_progress yellow, C not_started yellow
    p1 m2 t1  A in_progress yellow          –
    p2 m1 t1  C done green                  D done green
    p2 m1 t2  C on_hold yellow (stale)      D not_started green
    """
    old = pd.Timestamp("2026-08-01")  # > 60 days before TODAY
    r = [
        dict(measure_no=1, task_seq=1, unit="A", status="done", light="green"),
        dict(measure_no=1, task_seq=1, unit="B", role="support", unit_rank=2, status="delayed", light="red"),
        dict(measure_no=1, task_seq=2, unit="B", status="delayed", light="red", updated_at=old,
             due_date=pd.Timestamp("2026-10-01"), note="资金未到位"),
        dict(measure_no=1, task_seq=2, unit="A", role="support", unit_rank=2, status="in_progress", light="yellow"),
        dict(measure_no=1, task_seq=2, unit="C", role="support", unit_rank=3, light="yellow"),
        dict(measure_no=2, task_seq=1, unit="A", status="in_progress", light="yellow", measure_title="措施二"),
        dict(policy_id="p2", doc_no="沪府办规〔2024〕14号", unit="C", status="done"),
        dict(policy_id="p2", doc_no="沪府办规〔2024〕14号", unit="D", role="support", unit_rank=2, status="done"),
        dict(policy_id="p2", doc_no="沪府办规〔2024〕14号", task_seq=2, unit="C", status="on_hold",
             light="yellow", updated_at=old),
        dict(policy_id="p2", doc_no="沪府办规〔2024〕14号", task_seq=2, unit="D", role="support", unit_rank=2),
    ]  # fmt: skip
    return ag.derive(assignments_frame(r))


def test_fixture_shape(frame: pd.DataFrame) -> None:
    assert len(frame) == 10 and frame["task_id"].nunique() == 5


def test_task_counts_once_with_its_lead_status(frame: pd.DataFrame) -> None:
    tasks = ag.task_frame(frame, TODAY)
    assert len(tasks) == 5
    by_id = tasks.set_index("task_id")
    assert by_id.loc["p1-m1-t1", "status"] == "done"  # lead A, not support B (delayed)
    assert by_id.loc["p1-m1-t2", "lead_unit"] == "B"
    assert by_id.loc["p1-m1-t2", "units"] == 3
    assert by_id["stale"].to_dict() == {
        "p1-m1-t1": False,
        "p1-m1-t2": True,
        "p1-m2-t1": False,
        "p2-m1-t1": False,
        "p2-m1-t2": True,
    }


def test_filtered_rows_keep_the_lead_unit_and_its_status(frame: pd.DataFrame) -> None:
    only_support = Filters(role=("support",)).apply(frame)
    tasks = ag.task_frame(only_support, TODAY).set_index("task_id")
    assert set(tasks.index) == {"p1-m1-t1", "p1-m1-t2", "p2-m1-t1", "p2-m1-t2"}
    # the lead's row is filtered out, yet the task shows lead A's status and light, not
    # support B's delayed / red row
    assert tasks.loc["p1-m1-t1", "lead_unit"] == "A"
    assert (tasks.loc["p1-m1-t1", "status"], tasks.loc["p1-m1-t1", "light"]) == ("done", "green")
    assert tasks.loc["p1-m1-t2", "stale"]  # B's lead row, 60+ days old


def test_unit_filter_lead_unit_lights_use_the_leads_light(frame: pd.DataFrame) -> None:
    """Issue 9: ?unit=<a support unit> showed that unit's own lights under the lead's name."""
    rows = Filters(unit=("B",)).apply(frame)
    lights = ag.lights_by_lead_unit(ag.task_frame(rows, TODAY))
    wide = lights.pivot(index="unit", columns="light", values="tasks")
    # B supports p1-m1-t1 (lead A: done, green; B's own row: delayed, red) and leads p1-m1-t2
    assert wide.loc["A"].to_dict() == {"green": 1, "red": 0, "yellow": 0}
    assert wide.loc["B"].to_dict() == {"green": 0, "red": 1, "yellow": 0}
    head = ag.headline(rows, TODAY)
    assert (head["tasks"], head["done"], head["delayed"]) == (2, 1, 1)
    assert (head["assignments"], head["red"]) == (2, 2)  # B's own rows: lights per assignment


def test_no_filter_returns_the_rows_unchanged(frame: pd.DataFrame) -> None:
    assert Filters().apply(frame) is frame


def test_headline(frame: pd.DataFrame) -> None:
    head = ag.headline(frame, TODAY)
    assert head == {
        "policies": 2,
        "measures": 3,
        "tasks": 5,
        "units": 4,
        "assignments": 10,
        "done": 2,
        "share_done": pytest.approx(0.4),
        "delayed": 1,
        "red": 2,
        "yellow": 4,
        "green": 4,
        "stale": 2,
        "unnamed": 0,  # every unit named: no 各相关单位
    }


def _hand_rows() -> pd.DataFrame:
    """Three tasks whose leads are worked out by hand: t1 led by its rank-2 lead B (the
    rank-1 row is support), t2 by its lower-ranked lead of two (D, rank 1), t3 with no lead
    at all by its lowest-ranked unit (F, rank 1)."""
    rows = [
        dict(task_id="t1", unit="A", role="support", unit_rank=1, status="delayed"),
        dict(task_id="t1", unit="B", role="lead", unit_rank=2, status="done"),
        dict(task_id="t2", unit="C", role="lead", unit_rank=3, due_date=pd.Timestamp("2026-11-01")),
        dict(task_id="t2", unit="D", role="lead", unit_rank=1, due_date=pd.Timestamp("2026-12-10")),
        dict(task_id="t3", unit="E", role="support", unit_rank=2),
        dict(task_id="t3", unit="F", role="support", unit_rank=1),
    ]  # fmt: skip
    return assignments_frame(rows).drop(columns="light")


def test_derive_names_each_tasks_lead_and_lights_every_row() -> None:
    derived = ag.derive(_hand_rows(), TODAY)
    assert derived["lead_unit"].tolist() == ["B", "B", "D", "D", "F", "F"]
    # A delayed: red; C past due (11-01): red; D due in 17 days: yellow; the rest green
    assert derived["light"].tolist() == ["red", "green", "red", "yellow", "green", "green"]


def test_derive_does_not_depend_on_row_order_and_leaves_its_input_alone() -> None:
    rows = _hand_rows()
    shuffled = rows.iloc[[5, 2, 0, 4, 3, 1]]
    derived = ag.derive(shuffled, TODAY)
    assert derived["lead_unit"].to_dict() == ag.derive(rows, TODAY)["lead_unit"].to_dict()
    assert "lead_unit" not in shuffled and "light" not in shuffled


def test_derive_keeps_columns_already_there(frame: pd.DataFrame) -> None:
    """Rows a page or the CLI derived once pass through the report unchanged (the lights
    of the fixture are hand-set, not what the rule would compute today)."""
    derived = ag.derive(frame, date(2030, 1, 1))
    assert derived["light"].tolist() == frame["light"].tolist()
    assert derived["lead_unit"].tolist() == frame["lead_unit"].tolist()


def test_derive_on_nothing() -> None:
    empty = ag.derive(_hand_rows().iloc[0:0], TODAY)
    assert empty.empty and {"lead_unit", "light"} <= set(empty.columns)


def test_headline_on_nothing() -> None:
    empty = ag.derive(assignments_frame([{"unit": "A"}]).iloc[0:0])
    head = ag.headline(empty, TODAY)
    assert head["tasks"] == 0 and head["share_done"] == 0.0 and head["red"] == 0


def test_status_counts_in_vocabulary_order_with_zeros(frame: pd.DataFrame) -> None:
    counts = ag.status_counts(ag.task_frame(frame, TODAY))
    assert counts["status"].tolist() == ["not_started", "in_progress", "done", "delayed", "on_hold"]
    assert counts["label"].tolist() == ["未启动", "推进中", "已完成", "滞后", "暂缓"]
    assert counts["tasks"].tolist() == [0, 1, 2, 1, 1]


def test_lights_by_lead_unit_red_first(frame: pd.DataFrame) -> None:
    lights = ag.lights_by_lead_unit(ag.task_frame(frame, TODAY))
    assert list(dict.fromkeys(lights["unit"])) == ["B", "A", "C"]
    wide = lights.pivot(index="unit", columns="light", values="tasks")
    assert wide.loc["A"].to_dict() == {"green": 1, "red": 0, "yellow": 1}
    assert wide.loc["B", "red"] == 1
    assert wide.loc["C"].to_dict() == {"green": 1, "red": 0, "yellow": 1}


def test_red_tasks_list_lead_and_due_date(frame: pd.DataFrame) -> None:
    red = ag.red_tasks(ag.task_frame(frame, TODAY))
    assert len(red) == 1
    row = red.iloc[0]
    assert (row["牵头单位"], row["完成时限"], row["状态"], row["进展情况"]) == (
        "B",
        date(2026, 10, 1),
        "滞后",
        "资金未到位",
    )


def test_unit_load_sorted_by_load_lead_and_support_apart(frame: pd.DataFrame) -> None:
    load = ag.unit_load(frame)
    assert list(dict.fromkeys(load["unit"])) == ["A", "C", "B", "D"]  # 3, 3, 2, 2 (stable)
    a = load[load["unit"] == "A"].set_index(["role", "status"])["tasks"]
    assert a[("lead", "done")] == 1 and a[("lead", "in_progress")] == 1
    assert a[("support", "in_progress")] == 1
    assert a.sum() == 3
    assert load.groupby("unit")["total"].first().to_dict() == {"A": 3, "B": 2, "C": 3, "D": 2}
    assert load["tasks"].sum() == len(frame)


def test_unit_load_folds_the_tail_into_others(frame: pd.DataFrame) -> None:
    load = ag.unit_load(frame, top_n=3)
    assert list(dict.fromkeys(load["unit"])) == ["A", "C", ag.OTHERS]
    assert load[load["unit"] == ag.OTHERS]["tasks"].sum() == 4  # B 2 + D 2
    assert load["tasks"].sum() == len(frame)


def test_unit_summary_and_lists(frame: pd.DataFrame) -> None:
    assert ag.units_by_load(frame) == ["A", "C", "B", "D"]
    b = ag.unit_summary(frame, "B")
    assert b == {
        "tasks": 2,
        "lead": 1,
        "support": 1,
        "done": 0,
        "share_done": 0.0,
        "delayed": 2,
        "red": 2,
    }
    assert ag.unit_summary(frame, "D")["share_done"] == pytest.approx(0.5)
    assert len(ag.unit_tasks(frame, "A")) == 3
    assert ag.unit_tasks(frame, "B", late_only=True)["预警"].tolist() == ["红灯", "红灯"]


def test_unit_table_counts_each_units_own_rows_with_a_total(frame: pd.DataFrame) -> None:
    table = ag.unit_table(frame)
    assert table.columns.tolist() == ag.UNIT_TABLE_COLUMNS
    assert table["责任单位"].tolist() == ["A", "C", "B", "D", ag.TOTAL]
    b = table.set_index("责任单位").loc["B"]
    assert (b["牵头任务"], b["配合任务"], b["分工条数"], b["滞后"], b["红灯"]) == (1, 1, 2, 2, 2)
    total = table.iloc[-1]
    assert total["分工条数"] == len(frame) and total["已完成"] == 3
    assert total["分工完成率"] == pytest.approx(3 / 10)
    assert ag.unit_summary(frame, "B")["share_done"] == b["分工完成率"] == 0.0


def test_every_figure_has_one_name_and_one_definition() -> None:
    names = [f.name for f in ag.FIGURES.values()]
    definitions = [f.definition for f in ag.FIGURES.values()]
    assert len(set(names)) == len(names) and len(set(definitions)) == len(definitions)
    assert ag.FIGURES["share_done"].name != ag.FIGURES["unit_share_done"].name


def test_headline_table_names_values_and_definitions(frame: pd.DataFrame) -> None:
    table = ag.headline_table(ag.headline(frame, TODAY)).set_index("指标")
    assert table.loc["任务", "数值"] == 5
    assert table.loc["任务完成率", "数值"] == pytest.approx(0.4)
    assert table.loc["任务完成率", "口径"] == "已完成任务 ÷ 任务。"


def test_policy_tree_sums_up(frame: pd.DataFrame) -> None:
    tree = ag.policy_tree(ag.task_frame(frame, TODAY)).set_index("id")
    assert tree.loc["p1", "tasks"] == 3 and tree.loc["p1", "done"] == 1
    assert tree.loc["p2", "share_done"] == pytest.approx(0.5)
    assert tree.loc["p1/s1", "parent"] == "p1"
    assert tree.loc["p1-m2", "parent"] == "p1/s1"
    for node, row in tree.iterrows():
        children = tree[tree["parent"] == node]
        if len(children):
            assert children["tasks"].sum() == row["tasks"]


def test_measure_progress(frame: pd.DataFrame) -> None:
    table = ag.measure_progress(frame, TODAY)
    assert table.columns.tolist() == ag.MEASURE_PROGRESS_COLUMNS
    assert table[["任务", "责任单位数", "已完成任务", "滞后任务"]].to_numpy().tolist() == [
        [2, 3, 1, 1],
        [1, 1, 0, 0],
        [2, 2, 1, 0],
    ]
    assert table["牵头单位"].tolist() == ["A、B", "A", "C"]
    assert table["任务完成率"].tolist() == pytest.approx([0.5, 0.0, 0.5])
    # the measures add up to the headline
    head = ag.headline(frame, TODAY)
    assert (table["任务"].sum(), table["已完成任务"].sum()) == (head["tasks"], head["done"])


def test_coverage_matrix(frame: pd.DataFrame) -> None:
    matrix = ag.coverage(frame)
    # A and C reach 2 measures each (tie on load too, so name order); B and D 1 each
    assert matrix.index.tolist()[:2] == ["A", "C"]
    assert matrix.columns.tolist() == ["〔2026〕1号·1", "★〔2026〕1号·2", "〔2024〕14号·1"]
    assert matrix.loc["A"].tolist() == [ag.COVER_LEAD, ag.COVER_LEAD, ag.COVER_NONE]
    assert matrix.loc["C"].tolist() == [ag.COVER_SUPPORT, ag.COVER_NONE, ag.COVER_LEAD]
    assert matrix.loc["D"].tolist() == [0, 0, 1]


def test_single_unit_measures_and_spread(frame: pd.DataFrame) -> None:
    single = ag.single_unit_measures(frame)
    assert single[["措施", "单位", "任务数"]].to_numpy().tolist() == [[2, "A", 1]]
    spread = ag.unit_spread(frame).set_index("单位")
    assert spread.index[0] == "A"
    assert spread.loc["A"].tolist() == [2, 2, 1, 3]
    assert spread.loc["D"].tolist() == [1, 0, 1, 2]


def test_empty_inputs_give_empty_frames() -> None:
    empty = ag.derive(assignments_frame([{"unit": "A"}]).iloc[0:0])
    tasks = ag.task_frame(empty, TODAY)
    assert tasks.empty
    for frame in (
        ag.status_counts(tasks),
        ag.lights_by_lead_unit(tasks),
        ag.red_tasks(tasks),
        ag.unit_load(empty),
        ag.policy_tree(tasks),
        ag.measure_progress(empty, TODAY),
        ag.unit_table(empty),
        ag.coverage(empty),
        ag.single_unit_measures(empty),
        ag.unit_spread(empty),
    ):
        assert isinstance(frame, pd.DataFrame)
    assert ag.status_counts(tasks)["tasks"].sum() == 0
    assert ag.units_by_load(empty) == []


def test_measure_label() -> None:
    assert ag.measure_label("沪府办发〔2025〕11号", 3) == "〔2025〕11号·3"
    assert ag.measure_label("无文号", 2) == "无文号·2"


def test_task_table_leads_with_unit_status_and_note_and_its_csv_has_them(frame) -> None:
    table = ag.task_table(frame.assign(note="已召开推进会"))
    assert list(table.columns) == list(ag.TASK_TABLE_COLUMNS.values())
    assert list(table.columns[:3]) == ["责任单位", "角色", "状态"]
    assert set(table["进展情况"]) == {"已召开推进会"}
    assert table["措施"].iloc[0] == ag.measure_label(
        frame["doc_no"].iloc[0], frame["measure_no"].iloc[0]
    )
    header = csv_bytes(table).decode("utf-8-sig").splitlines()[0].split(",")
    assert header[:3] == ["责任单位", "角色", "状态"] and "进展情况" in header


def test_top_policies_keeps_the_largest_whole_and_folds_the_rest(frame: pd.DataFrame) -> None:
    tree = ag.policy_tree(ag.task_frame(frame, TODAY))
    assert ag.top_policies(tree, top_n=2).equals(tree)  # two policies: nothing to fold
    folded = ag.top_policies(tree, top_n=1).set_index("id")
    policies = tree[tree["level"] == "policy"]
    assert list(folded.index) == [ag.OTHERS]
    assert folded.loc[ag.OTHERS, "tasks"] == policies["tasks"].sum()
    assert folded.loc[ag.OTHERS, "label"] == f"{ag.OTHERS}（2 项政策）"


def test_top_policies_at_scale_stay_small() -> None:
    rows = []
    for p in range(100):
        rows.append(
            {
                "id": f"p{p}",
                "parent": "",
                "label": f"文{p}",
                "level": "policy",
                "tasks": 100 - p,
                "done": 0,
                "share_done": 0.0,
            }
        )
        rows.append(
            {
                "id": f"p{p}/s1",
                "parent": f"p{p}",
                "label": "一、",
                "level": "section",
                "tasks": 100 - p,
                "done": 0,
                "share_done": 0.0,
            }
        )
    tree = pd.DataFrame(rows)
    folded = ag.top_policies(tree)
    assert (folded["level"] == "policy").sum() == ag.POLICY_TOP_N
    assert set(folded["parent"]) <= set(folded["id"]) | {""}  # no orphans
    assert folded.iloc[-1]["id"] == ag.OTHERS
    assert folded.iloc[-1]["tasks"] == sum(100 - p for p in range(ag.POLICY_TOP_N - 1, 100))
