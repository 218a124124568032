"""One truth: on a hand-made store, every headline figure worked out by hand equals
what the pages show (``pagelogic.views``), what the report workbook says (its cells, read
back with openpyxl) and what the CSV downloads hold, with and without a unit filter.

The store, four tasks and seven assignments (today = the day the updates are saved):

    task    lead (own status)          support (own status)
    m1-t1   市科委 done                 市财政局 delayed (red), 市教委 done
    m1-t2   市教委 delayed (red)        市科委 in_progress
    m2-t1   市科委 in_progress, due in  市财政局 in_progress
            10 days (yellow)
    m2-t2   市财政局 done               –
"""

from __future__ import annotations

import io
from dataclasses import asdict
from datetime import date, timedelta

import openpyxl
import pandas as pd
import pytest

from excel.report import SHEET_POLICY, SHEET_SUMMARY, build_report
from loaders.table_csv import csv_bytes
from pagelogic import views
from tests.conftest import measures_frame
from tests.factories import signed_in
from tracker.aggregate import FIGURES
from tracker.filters import Filters
from tracker.progress import Update, now, warning_light

KEWEI, CAIZHENG, JIAOWEI = "市科委", "市财政局", "市教委"
POLICY = {"effective_from": "2020-01-01", "effective_to": "2035-12-31"}


def _row(measure: int, seq: int, unit: str, role: str, rank: int) -> dict:
    return {
        **POLICY,
        "measure_no": measure,
        "measure_title": f"措施{measure}",
        "task_id": f"demo-m{measure:02d}-t{seq}",
        "task_seq": seq,
        "unit": unit,
        "role": role,
        "unit_rank": rank,
    }


MEASURES = measures_frame(
    [
        _row(1, 1, KEWEI, "lead", 1),
        _row(1, 1, CAIZHENG, "support", 2),
        _row(1, 1, JIAOWEI, "support", 3),
        _row(1, 2, JIAOWEI, "lead", 1),
        _row(1, 2, KEWEI, "support", 2),
        _row(2, 1, KEWEI, "lead", 1),
        _row(2, 1, CAIZHENG, "support", 2),
        _row(2, 2, CAIZHENG, "lead", 1),
    ]
)


@pytest.fixture
def today() -> date:
    return now().date()


@pytest.fixture
def rows(make_store, today) -> pd.DataFrame:
    """The store's assignments with lights, as ``webui.data.assignments()`` gives them."""
    store = make_store(MEASURES)
    due = (today + timedelta(days=10)).isoformat()
    progress = {
        ("demo-m01-t1", KEWEI): {"status": "已完成"},
        ("demo-m01-t1", CAIZHENG): {"status": "滞后", "note": "资金未到位"},
        ("demo-m01-t1", JIAOWEI): {"status": "已完成"},
        ("demo-m01-t2", JIAOWEI): {"status": "滞后", "note": "等待批复"},
        ("demo-m01-t2", KEWEI): {"status": "推进中"},
        ("demo-m02-t1", KEWEI): {"status": "推进中", "due_date": due},
        ("demo-m02-t1", CAIZHENG): {"status": "推进中"},
        ("demo-m02-t2", CAIZHENG): {"status": "已完成"},
    }
    current = store.assignments().set_index(["task_id", "unit"])
    updates = [
        Update(int(current.loc[key, "assignment_id"]), int(current.loc[key, "version"]), changes)
        for key, changes in progress.items()
    ]
    store.apply(updates, user=signed_in(store), source="test")
    frame = store.assignments()
    frame["light"] = warning_light(frame, today)
    return frame


# Worked out by hand from the table in the module docstring.
EVERYTHING = {
    "headline": {
        "政策": 1,
        "措施": 2,
        "任务": 4,
        "责任单位数": 3,
        "分工条数": 8,
        "已完成任务": 2,  # m1-t1 (lead 市科委 done, although 市财政局 is delayed), m2-t2
        "任务完成率": 2 / 4,  # not 3 / 8 (done assignments), not 1 / 4 (every unit done)
        "滞后任务": 1,  # m1-t2
        "红灯": 2,
        "黄灯": 1,
        "绿灯": 5,
        "60天未更新任务": 0,
        "未落实到具体单位的分工": 0,  # no 各相关单位 among these units
    },
    # 任务, 责任单位数, 已完成任务, 滞后任务, 任务完成率
    "measures": {1: (2, 3, 1, 1, 0.5), 2: (2, 2, 1, 0, 0.5)},
    # 牵头任务, 配合任务, 分工条数, 已完成, 滞后, 分工完成率, 红灯
    "units": {
        KEWEI: (2, 1, 3, 1, 0, 1 / 3, 0),
        CAIZHENG: (1, 2, 3, 1, 1, 1 / 3, 1),
        JIAOWEI: (1, 1, 2, 1, 1, 1 / 2, 1),
    },
    # lead unit -> (red, yellow, green) tasks
    "lights": {KEWEI: (0, 1, 1), JIAOWEI: (1, 0, 0), CAIZHENG: (0, 0, 1)},
}
# ?unit=市财政局: the tasks 市财政局 takes part in (m1-t1, m2-t1, m2-t2), each counted with
# its LEAD's status and light; lights and assignments are 市财政局's own three rows.
CAIZHENG_ONLY = {
    "headline": {
        "政策": 1,
        "措施": 2,
        "任务": 3,
        "责任单位数": 1,
        "分工条数": 3,
        "已完成任务": 2,  # m1-t1 by 市科委's status (市财政局's own row there is delayed)
        "任务完成率": 2 / 3,
        "滞后任务": 0,
        "红灯": 1,
        "黄灯": 0,
        "绿灯": 2,
        "60天未更新任务": 0,
        "未落实到具体单位的分工": 0,  # no 各相关单位 among these units
    },
    "measures": {1: (1, 1, 1, 0, 1.0), 2: (2, 1, 1, 0, 0.5)},
    "units": {CAIZHENG: (1, 2, 3, 1, 1, 1 / 3, 1)},
    # 市科委 leads m1-t1 (done, green) and m2-t1 (due soon, yellow): not 市财政局's red
    "lights": {KEWEI: (0, 1, 1), CAIZHENG: (0, 0, 1)},
}
CASES = [(Filters(), EVERYTHING), (Filters(unit=(CAIZHENG,)), CAIZHENG_ONLY)]
MEASURE_COLUMNS = ["任务", "责任单位数", "已完成任务", "滞后任务", "任务完成率"]
UNIT_COLUMNS = ["牵头任务", "配合任务", "分工条数", "已完成", "滞后", "分工完成率", "红灯"]


def _csv(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as the CSV download delivers it, read back."""
    return pd.read_csv(io.BytesIO(csv_bytes(frame)), encoding="utf-8-sig")


def _sheet_table(ws, header_row: int) -> pd.DataFrame:
    """The table headed at ``header_row``, down to the first blank row or note."""
    rows = ws.iter_rows(min_row=header_row, values_only=True)
    header = next(rows)
    body = []
    for row in rows:
        if row[0] is None or str(row[0]).startswith("注："):
            break
        body.append(row)
    return pd.DataFrame(body, columns=header)


def _header_row(ws, first: str) -> int:
    return next(c.row for c in ws["A"] if c.value == first)


def _approx(values: dict) -> dict:
    return {k: pytest.approx(v) for k, v in values.items()}


@pytest.mark.parametrize(("chosen", "expected"), CASES, ids=["all", "unit=市财政局"])
def test_pages_report_and_csv_show_the_same_numbers(rows, today, chosen, expected) -> None:
    in_view = chosen.apply(rows)
    overview = views.overview(in_view, today)
    by_policy = views.by_policy(in_view, today)
    by_unit = views.by_unit(in_view, today)
    book = openpyxl.load_workbook(io.BytesIO(build_report(rows, filters=chosen, today=today)))

    # headline: the page's numbers, its CSV, and the report's 汇总 block
    headline = expected["headline"]
    page = overview.headline_table.set_index("指标")["数值"].to_dict()
    assert page == _approx(headline)
    metrics = {FIGURES[k].name: v for k, v in asdict(overview.headline).items()}
    assert metrics == _approx(headline)
    assert _csv(overview.headline_table).set_index("指标")["数值"].to_dict() == _approx(headline)
    summary = book[SHEET_SUMMARY]
    report = _sheet_table(summary, 2).set_index("指标")["数值"].to_dict()
    assert report == _approx(headline)
    counts = overview.status_counts.set_index("label")["tasks"]
    assert (
        counts["已完成"] == _csv(overview.status_counts).set_index("label").loc["已完成", "tasks"]
    )
    assert counts["已完成"] == headline["已完成任务"] and counts.sum() == headline["任务"]

    # per measure: the 按政策 page table, its CSV and the report's 按政策 sheet (with 合计)
    def by_measure(table: pd.DataFrame) -> dict:
        body = table[table["文号"] != "合计"]
        return {int(r["措施"]): tuple(r[c] for c in MEASURE_COLUMNS) for _, r in body.iterrows()}

    measures = {k: pytest.approx(v) for k, v in expected["measures"].items()}
    assert by_measure(by_policy.progress.full) == measures
    assert by_measure(_csv(by_policy.progress.full)) == measures
    policy_sheet = _sheet_table(book[SHEET_POLICY], 2)
    assert by_measure(policy_sheet) == measures
    total = policy_sheet[policy_sheet["文号"] == "合计"].iloc[0]
    assert tuple(total[MEASURE_COLUMNS]) == pytest.approx(
        tuple(headline[k] for k in ("任务", "责任单位数", "已完成任务", "滞后任务", "任务完成率"))
    )

    # per unit, each on its own rows: by-unit page, its CSV, the report's unit table
    def by_unit_name(table: pd.DataFrame) -> dict:
        body = table[table["责任单位"] != "合计"]
        return {r["责任单位"]: tuple(r[c] for c in UNIT_COLUMNS) for _, r in body.iterrows()}

    units = {k: pytest.approx(v) for k, v in expected["units"].items()}
    assert by_unit_name(by_unit.unit_table.full) == units
    assert by_unit_name(_csv(by_unit.unit_table.full)) == units
    assert by_unit_name(_sheet_table(summary, _header_row(summary, "责任单位"))) == units
    for unit, numbers in expected["units"].items():
        detail = views.unit_detail(in_view, today, unit).summary
        shown = (detail.lead, detail.support, detail.assignments, detail.done)
        assert shown + (detail.delayed, detail.share_done, detail.red) == pytest.approx(numbers)

    # lights by lead unit: the chart's data and its CSV
    def lights(table: pd.DataFrame) -> dict:
        wide = table.pivot(index="unit", columns="light", values="tasks")
        return {
            u: tuple(int(wide.loc[u, c]) for c in ("red", "yellow", "green")) for u in wide.index
        }

    assert lights(overview.lights) == expected["lights"]
    assert lights(_csv(overview.lights)) == expected["lights"]
