"""The roll-up of collective rows and the counts that must not double count, on hand-made
rows whose answers are worked out by hand in the comments; and a placeholder named by a
supervisor through the store."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests.conftest import tasks_frame
from tests.factories import signed_in, staff
from tracker import aggregate
from tracker.errors import PermissionDenied, ValidationError
from tracker.members import NAMED_FIELD, name_units
from tracker.store import Store

TODAY = date(2026, 11, 30)


def _rows() -> pd.DataFrame:
    """t1: 市科委 leads (推进中 50%), 各区政府 supports through three members A 已完成 100,
    B 推进中 40, C 滞后 10.  t2: 市科委 leads, 各相关单位 supports, not named yet."""
    rows = [
        # id, task, unit, kind, role, rank, collective_id, status, percent
        (1, "t1", "市科委", "municipal", "lead", 1, 0, "in_progress", 50),
        (2, "t1", "各区政府", "district", "support", 2, 0, "not_started", 0),
        (3, "t1", "A区", "district", "support", 2, 2, "done", 100),
        (4, "t1", "B区", "district", "support", 2, 2, "in_progress", 40),
        (5, "t1", "C区", "district", "support", 2, 2, "delayed", 10),
        (6, "t2", "市科委", "municipal", "lead", 1, 0, "in_progress", 20),
        (7, "t2", "各相关单位", "placeholder", "support", 2, 0, "not_started", 0),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "assignment_id",
            "task_id",
            "unit",
            "unit_kind",
            "role",
            "unit_rank",
            "collective_id",
            "status",
            "percent",
        ],
    )
    return frame.assign(
        policy_id="p",
        policy_title="政策",
        doc_no="沪1号",
        section_no=1,
        section_title="",
        measure_id="p-m01",
        measure_no=1,
        measure_title="措施",
        task_seq=frame["task_id"].str[1].astype(int),
        task_text="任务",
        due_date=pd.Timestamp("2027-06-30"),
        updated_at=pd.Timestamp("2026-11-20"),
        assigned_at=pd.Timestamp("2026-10-01"),
        note="",
        next_step="",
        problems="",
        evidence="",
        updated_by="",
        version=0,
        issue_date=pd.Timestamp("2026-01-10"),
        effective_from=pd.Timestamp("2026-02-01"),
        effective_to=pd.Timestamp("2028-01-31"),
        archived=False,
        unit_full_name=frame["unit"],
        period="",
    )


def test_the_collective_row_is_its_members_rolled_up() -> None:
    rows = aggregate.derive(_rows(), TODAY).set_index("assignment_id")
    # C is 滞后 (so red): the collective is 滞后, red; percent (100 + 40 + 10) / 3 = 50
    assert rows.loc[2, ["status", "percent", "light", "members", "members_done"]].tolist() == [
        "delayed",
        50,
        "red",
        3,
        1,
    ]
    assert rows.loc[2, "note"] == "成员单位 1/3 已完成"
    assert rows.loc[[3, 4, 5], "collective"].tolist() == ["各区政府"] * 3
    assert rows.loc[7, "unnamed"] and not rows.loc[2, "unnamed"]
    # the lead stays 市科委, never a member
    assert set(rows.loc[[3, 4, 5], "lead_unit"]) == {"市科委"}


def test_done_only_when_every_member_is() -> None:
    raw = _rows()
    raw.loc[raw.assignment_id.isin([4, 5]), ["status", "percent"]] = ["done", 100]
    rows = aggregate.derive(raw, TODAY).set_index("assignment_id")
    assert rows.loc[2, ["status", "percent", "members_done"]].tolist() == ["done", 100, 3]
    raw.loc[raw.assignment_id == 5, ["status", "percent"]] = ["in_progress", 90]
    rows = aggregate.derive(raw, TODAY).set_index("assignment_id")
    # two of three done: 推进中, (100 + 100 + 90) / 3 = 96.67, rounded down to 96
    assert rows.loc[2, ["status", "percent", "members_done"]].tolist() == ["in_progress", 96, 2]


def test_counts_take_members_never_the_collective_row() -> None:
    rows = aggregate.derive(_rows(), TODAY)
    head = aggregate.headline(rows, TODAY)
    # counted rows: t1 市科委, A区, B区, C区; t2 市科委, 各相关单位 = 6, over 5 units
    assert (head["tasks"], head["assignments"], head["units"]) == (2, 6, 5)
    assert head["unnamed"] == 1
    # lights over the same 6 rows: C区 red (滞后), the rest green
    assert (head["red"], head["yellow"], head["green"]) == (1, 0, 5)
    table = aggregate.unit_table(rows).set_index("责任单位")
    assert "各区政府" not in table.index
    assert table.loc[aggregate.TOTAL, aggregate.FIGURES["assignments"].name] == 6
    assert (
        aggregate.headline_table(head).set_index("指标").loc["未落实到具体单位的分工", "数值"] == 1
    )
    shown = aggregate.task_table(rows)
    assert "各相关单位（待明确）" in set(shown["责任单位"])


def test_a_supervisor_names_a_placeholders_units(db_url) -> None:
    store = Store.open(
        db_url,
        measures=tasks_frame(
            [
                ("demo-m01-t1", "建设示范园区", "市科委", "lead", 1),
                ("demo-m01-t1", "建设示范园区", "各相关单位", "support", 2),
                ("demo-m02-t1", "培育人才", "市教委", "lead", 1),
            ]
        ),
    )
    rows = store.assignments()
    placeholder = rows[rows.unit == "各相关单位"].assignment_id.iloc[0]
    assert aggregate.headline(aggregate.derive(rows, TODAY), TODAY)["unnamed"] == 1
    with pytest.raises(PermissionDenied):
        name_units(store, staff(store, "市科委"), placeholder, ["市教委"])
    with pytest.raises(ValidationError):
        name_units(store, signed_in(store), placeholder, ["不存在的单位"])
    name_units(store, signed_in(store), placeholder, ["市教委"])
    rows = aggregate.derive(store.assignments(), TODAY)
    named = rows[rows.collective == "各相关单位"]
    assert named.unit.tolist() == ["市教委"] and named.task_id.tolist() == ["demo-m01-t1"]
    assert aggregate.headline(rows, TODAY)["unnamed"] == 0
    history = store.history(assignment_ids=[placeholder])
    assert history[["field", "new_value", "changed_by"]].values.tolist() == [
        [NAMED_FIELD, "市教委", "督办甲"]
    ]
    # the named unit reports for itself; the placeholder row is now a roll-up
    from tracker.progress import Update

    store.apply(
        [Update(named.assignment_id.iloc[0], 0, {"percent": 30})],
        user=staff(store, "市教委"),
        source="web",
    )
    with pytest.raises(PermissionDenied, match="汇总行"):
        store.apply([Update(placeholder, 0, {"percent": 30})], user=signed_in(store), source="web")
    store.engine.dispose()


def test_pages_and_the_report_show_a_collective_as_one_group_with_its_members() -> None:
    """Views on the hand-made rows: 各区政府 is one unit of 3 members' rows on 按责任单位 and
    覆盖矩阵, its detail shows 1/3 已完成; the report's 明细 lists the 3 member rows with
    所属集体单位 and not the roll-up row."""
    import io

    import openpyxl

    from excel.report import SHEET_DETAIL, build_report
    from pagelogic import views
    from tracker import rankings as rk
    from tracker import rollup

    rows = aggregate.derive(_rows(), TODAY)
    label = rollup.group_label("各区政府", 3)
    by_unit = views.by_unit(rows, TODAY)
    assert label in by_unit.units and not {"A区", "各区政府"} & set(by_unit.units)
    table = by_unit.unit_table.full.set_index("责任单位")
    assert table.loc[label, "分工条数"] == 3 and table.loc[label, "红灯"] == 1
    detail = views.unit_detail(rows, TODAY, label)
    assert detail.progress is not None and detail.members is not None
    assert detail.progress.full[["状态", "成员完成", "未完成成员"]].values.tolist() == [
        ["滞后", "1/3 已完成", "B区、C区"]
    ]
    assert detail.members.full["责任单位"].tolist() == ["A区", "B区", "C区", aggregate.TOTAL]
    assert label in set(views.coverage(rows, TODAY).matrix["unit"])
    assert set(views.coverage(rows, TODAY, "各区政府").matrix["unit"]) == {"A区", "B区", "C区"}
    ranking = pd.DataFrame(
        {rk.UNIT: ["A区", "B区", "C区", "市科委"], rk.DUE: [1, 1, 1, 2], rk.ON_TIME: [1, 0, 0, 2]}
    ).assign(**{rk.OVERDUE: [0, 1, 1, 0], rk.RANK: [1.0, 3.0, 3.0, 1.0]})
    [(line, members)] = rk.collective_groups(ranking, rollup.collectives(rows))
    assert line == f"{label}：到期 3，按期完成 1，逾期 2，名次 1–3"
    assert members[rk.UNIT].tolist() == ["A区", "B区", "C区"]
    book = openpyxl.load_workbook(io.BytesIO(build_report(_rows(), today=TODAY)))
    sheet = book[SHEET_DETAIL]
    header = [c.value for c in sheet[2]]
    shown = [
        (r[header.index("责任单位")], r[header.index("所属集体单位")])
        for r in sheet.iter_rows(min_row=3, values_only=True)
    ]
    # 7 rows less the roll-up row; openpyxl reads an empty string cell as None
    assert sorted(shown, key=str) == sorted(
        [("市科委", None), ("A区", "各区政府"), ("B区", "各区政府"), ("C区", "各区政府")]
        + [("市科委", None), ("各相关单位", None)],
        key=str,
    )
    assert "共 6 条分工" in sheet["A1"].value
