"""How a task is named for people (tracker/labels.py), checked against the seeds read by
hand: 沪府办发〔2025〕11号 measure 1 holds three tasks, measure 11 four; 沪府办规〔2024〕14号
measure 3 one."""

from __future__ import annotations

import pandas as pd

from loaders.measures_csv import read_measures
from tracker.labels import labels_by_task, measure_label, policy_short, task_label, task_labels
from tracker.schema import MEASURES_CSV


def test_a_task_is_named_by_its_policy_number_measure_and_place_in_the_measure() -> None:
    assert task_label("沪府办发〔2025〕11号", 1, 2) == "〔2025〕11号·1-2"
    assert task_label("沪府办发〔2025〕11号", 11, 4) == "〔2025〕11号·11-4"
    assert task_label("沪府办规〔2024〕14号", 3, 1) == "〔2024〕14号·3-1"
    assert measure_label("沪府办规〔2024〕14号", 3) == "〔2024〕14号·3"
    # No 〔year〕number in the 文号: the whole of it; no 文号 at all: the title's start.
    assert task_label("沪科规2024-3", 2, 1) == "沪科规2024-3·2-1"
    assert task_label("", 5, 2, "促进科技创新若干意见") == "促进科技创新若干意见·5-2"
    assert (
        policy_short(None, "上海市加快科技服务业高质量发展的若干措施")
        == "上海市加快科技服务业高质…"
    )


def test_the_seeds_get_one_distinct_label_per_task() -> None:
    seeds = read_measures(MEASURES_CSV.read_bytes())
    names = labels_by_task(seeds)
    assert names["hufubanfa-2025-11-m01-t1"] == "〔2025〕11号·1-1"
    assert names["hufubanfa-2025-11-m01-t2"] == "〔2025〕11号·1-2"
    assert names["hufubanfa-2025-11-m01-t3"] == "〔2025〕11号·1-3"
    assert names["hufubanfa-2025-11-m11-t4"] == "〔2025〕11号·11-4"
    assert names["hufubangui-2024-14-m03-t1"] == "〔2024〕14号·3-1"
    assert len(names) == 49 and len(set(names.values())) == 49
    # Row by row: every unit's row of a task carries the task's label.
    per_row = task_labels(seeds)
    m11_t4 = per_row[seeds["task_id"] == "hufubanfa-2025-11-m11-t4"]
    assert m11_t4.tolist() == ["〔2025〕11号·11-4", "〔2025〕11号·11-4"]  # 上海海关, 市科委
    assert task_labels(seeds.iloc[0:0]).empty


def test_labels_do_not_depend_on_which_rows_a_frame_holds() -> None:
    """The same task reads the same on a unit's page as on the whole list."""
    seeds = read_measures(MEASURES_CSV.read_bytes())
    whole = task_labels(seeds)
    one_unit = seeds[seeds["unit"] == "市科委"]
    assert task_labels(one_unit).to_dict() == whole[one_unit.index].to_dict()
    frame = pd.DataFrame(
        {"doc_no": ["沪府办发〔2025〕11号"], "measure_no": [1], "task_seq": [2]}, index=[7]
    )
    assert task_labels(frame).to_dict() == {7: "〔2025〕11号·1-2"}
