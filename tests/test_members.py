"""Collective units expanded into their members: the register, the seeds, rights on both
backends, revisions, a member leaving the register, and the migration of stored rows.

Expected numbers are read from the documents by hand: ``grep -o 各区政府 data/sources/*``
finds 7 in 沪府办规〔2024〕14号 and 6 in 沪府办发〔2025〕11号, each the clause of one task
(13 rows of data/measures.csv), and the issue lists 16 districts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

import tracker
from loaders.measures_csv import read_measures
from loaders.store_sync import open_store
from loaders.units import members_path, read_members, read_units
from tests.conftest import tasks_frame
from tests.factories import signed_in, staff
from tracker.errors import PermissionDenied
from tracker.members import COLLECTIVE_FIELD, register_members
from tracker.progress import Update
from tracker.schema import MEASURES_CSV, UNITS_CSV
from tracker.store import Store, make_engine

DISTRICTS = [
    "浦东新区",
    "黄浦区",
    "静安区",
    "徐汇区",
    "长宁区",
    "普陀区",
    "虹口区",
    "杨浦区",
    "宝山区",
    "闵行区",
    "嘉定区",
    "金山区",
    "松江区",
    "青浦区",
    "奉贤区",
    "崇明区",
]
INFOS = {u: (u, "district") for u in ["各区政府", *DISTRICTS]}


def test_the_register_gives_各区政府_the_16_districts_by_any_of_their_names() -> None:
    registry = read_units(UNITS_CSV.read_bytes())
    members = read_members(members_path(UNITS_CSV).read_bytes(), registry)
    assert members == {"各区政府": DISTRICTS}
    assert registry.resolve("上海市浦东新区人民政府").unit == "浦东新区"
    # other collectives found in real texts get no automatic members
    assert "相关区政府" not in members and "各街镇" not in members


def test_seeds_give_13_collective_rows_of_16_members_and_measures_stay_as_published(
    db_url,
) -> None:
    store = open_store(db_url)
    rows = store.assignments()
    collective = rows[rows.unit == "各区政府"]
    members = rows[rows.collective_id > 0]
    assert len(collective) == 13
    assert len(members) == 13 * 16 == 208
    assert set(members.collective_id) == set(collective.assignment_id)
    assert members.groupby("collective_id").unit.apply(sorted).map(tuple).unique().tolist() == [
        tuple(sorted(DISTRICTS))
    ]
    # a member carries its collective's role and task
    first = collective.iloc[0]
    of_first = members[members.collective_id == first.assignment_id]
    assert set(of_first.task_id) == {first.task_id} and set(of_first.role) == {first.role}
    measures = read_measures(MEASURES_CSV.read_bytes())
    assert len(measures) == 170 and (measures.unit == "各区政府").sum() == 13
    store.engine.dispose()


def test_a_district_saves_its_own_row_and_never_anothers(db_url) -> None:
    store = open_store(db_url)
    rows = store.assignments()
    task = rows[rows.unit == "各区政府"].task_id.iloc[0]
    pudong = rows[(rows.task_id == task) & (rows.unit == "浦东新区")].iloc[0]
    huangpu = rows[(rows.task_id == task) & (rows.unit == "黄浦区")].iloc[0]
    roll_up = rows[(rows.task_id == task) & (rows.unit == "各区政府")].iloc[0]
    account = staff(store, "浦东新区")
    store.apply(
        [Update(pudong.assignment_id, 0, {"status": "推进中", "percent": 40})],
        user=account,
        source="web",
    )
    with pytest.raises(PermissionDenied, match="黄浦区"):
        store.apply([Update(huangpu.assignment_id, 0, {"percent": 90})], user=account, source="web")
    with pytest.raises(PermissionDenied, match="汇总行"):
        store.apply(
            [Update(roll_up.assignment_id, 0, {"percent": 90})],
            user=signed_in(store),
            source="web",
        )
    after = store.assignments().set_index("assignment_id")
    assert (after.loc[pudong.assignment_id, ["status", "percent", "version"]].tolist()) == [
        "in_progress",
        40,
        1,
    ]
    for untouched in (huangpu, roll_up):
        assert after.loc[untouched.assignment_id, ["status", "percent", "version"]].tolist() == [
            "not_started",
            0,
            0,
        ]
    assert store.history(units=["黄浦区"]).empty
    store.engine.dispose()


def _store(db_url, frame) -> Store:
    store = Store.open(db_url)
    register_members(store, {"各区政府": ["浦东新区", "黄浦区"]}, INFOS)
    store.sync(frame)
    return store


def test_a_revision_keeps_members_progress_and_a_member_leaving_is_archived(db_url) -> None:
    first = tasks_frame(
        [
            ("demo-m01-t1", "建设示范园区", "市科委", "lead", 1),
            ("demo-m01-t1", "建设示范园区", "各区政府", "support", 2),
        ]
    )
    store = _store(db_url, first)
    pudong = store.assignments().query("unit == '浦东新区'").iloc[0]
    store.apply(
        [Update(pudong.assignment_id, 0, {"status": "推进中", "percent": 30})],
        user=staff(store, "浦东新区"),
        source="web",
    )
    # the revision puts a new task first: the old one moves to t2 with its members
    revised = tasks_frame(
        [
            ("demo-m01-t1", "新增一项人才任务", "市教委", "lead", 1),
            ("demo-m01-t2", "建设示范园区", "市科委", "lead", 1),
            ("demo-m01-t2", "建设示范园区", "各区政府", "support", 2),
        ]
    )
    store.sync(revised, plan=store.plan_sync(revised), user=signed_in(store))
    rows = store.assignments()
    moved = rows[rows.unit == "浦东新区"].iloc[0]
    assert (moved.task_id, moved.status, moved.percent) == ("demo-m01-t2", "in_progress", 30)
    assert moved.assignment_id == pudong.assignment_id
    # 黄浦区 leaves the register: archived with a history row, not deleted
    register_members(store, {"各区政府": ["浦东新区"]}, INFOS)
    assert "黄浦区" not in set(store.assignments().unit)
    archived = store.assignments(include_archived=True).query("unit == '黄浦区'")
    assert len(archived) == 1 and archived.archived.all()
    # newest first: archived now, moved with its task before
    assert store.history(units=["黄浦区"]).field.tolist() == ["archived", "task_id"]
    register_members(store, {"各区政府": ["浦东新区", "黄浦区"]}, INFOS)
    assert "黄浦区" in set(store.assignments().unit)
    store.engine.dispose()


def test_the_migration_carries_collective_progress_to_every_district(db_url) -> None:
    """A database made by migration 0010 with a 各区政府 row at 40% (version 2): after the
    upgrade each district has its own row at 40%, version 1, and a history row saying it was
    copied; the collective row keeps what it had."""
    from alembic import command
    from alembic.config import Config

    engine = make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(Path(tracker.__file__).parent / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0010")
        for statement in (
            "INSERT INTO policies (policy_id, title, doc_no, issuer, source_url, archived)"
            " VALUES ('p', '政策', '沪1号', '市政府', '', false)",
            "INSERT INTO measures (measure_id, policy_id, section_no, section_title,"
            " measure_no, measure_title, archived) VALUES ('p-m01', 'p', 1, '', 1, '', false)",
            "INSERT INTO tasks (task_id, measure_id, task_seq, task_text, archived)"
            " VALUES ('p-m01-t1', 'p-m01', 1, '任务', false)",
            "INSERT INTO units (unit, full_name, kind) VALUES ('各区政府', '各区人民政府',"
            " 'district'), ('市科委', '上海市科学技术委员会', 'municipal')",
            "INSERT INTO assignments (task_id, unit, role, unit_rank, archived)"
            " VALUES ('p-m01-t1', '市科委', 'lead', 1, false),"
            " ('p-m01-t1', '各区政府', 'support', 2, false)",
            "INSERT INTO progress (assignment_id, status, percent, note, next_step, problems,"
            " evidence, period, updated_by, version) SELECT assignment_id, 'not_started', 0,"
            " '', '', '', '', '', '', 0 FROM assignments WHERE unit = '市科委'",
            "INSERT INTO progress (assignment_id, status, percent, note, next_step, problems,"
            " evidence, period, updated_by, version) SELECT assignment_id, 'in_progress', 40,"
            " '各区已部署', '', '', '', '2026-11', '区填报', 2 FROM assignments"
            " WHERE unit = '各区政府'",
        ):
            conn.execute(text(statement))
    store = Store(engine)
    store.create_schema()
    rows = store.assignments()
    ids = rows.set_index("unit").assignment_id
    members = rows[rows.collective_id == ids["各区政府"]]
    assert sorted(members.unit) == sorted(DISTRICTS)
    assert set(members.status) == {"in_progress"} and set(members.percent) == {40}
    assert set(members.note) == {"各区已部署"} and set(members.version) == {1}
    kept = rows.set_index("assignment_id").loc[ids["各区政府"]]
    assert (kept.status, kept.percent, kept.version) == ("in_progress", 40, 2)
    history = store.history(units=["浦东新区"])
    assert history[["field", "old_value", "new_value"]].values.tolist() == [
        [COLLECTIVE_FIELD, "各区政府", "浦东新区"]
    ]
    assert rows.set_index("assignment_id").loc[ids["市科委"], "collective_id"] == 0
    engine.dispose()


def test_a_district_template_holds_only_its_rows_and_its_import_only_writes_them(tmp_path):
    import io
    from datetime import date

    import openpyxl

    from excel.read import import_workbook
    from excel.template import SHEET_TEMPLATE, build_template
    from tests.test_excel_import import fill
    from tracker.errors import TrackerError

    store = open_store(f"sqlite:///{tmp_path / 't.db'}")
    rows = store.assignments()
    data = build_template(rows, "浦东新区", today=date(2026, 11, 23))
    sheet = openpyxl.load_workbook(io.BytesIO(data))[SHEET_TEMPLATE]
    header = [c.value for c in sheet[2]]
    units = [r[header.index("责任单位")] for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert units == ["浦东新区"] * 13  # one row per 各区政府 row of the seeds
    with pytest.raises(TrackerError, match="成员单位"):
        build_template(rows, "各区政府", today=date(2026, 11, 23))
    task = rows[rows.unit == "浦东新区"].task_id.iloc[0]
    filled = fill(data, {(task, "浦东新区"): {"完成比例(%)": "60", "状态": "推进中"}})
    result = import_workbook(
        store, filled, file_name="浦东新区.xlsx", user=staff(store, "浦东新区")
    )
    assert result.problems == []
    after = store.assignments()
    same_task = after[after.task_id == task].set_index("unit")
    assert same_task.loc["浦东新区", "percent"] == 60
    assert (same_task.drop(index="浦东新区").version == 0).all()
    # the same file claiming 黄浦区's row: that row is refused, nothing of 黄浦区 written
    forged = fill(data, {(task, "浦东新区"): {"责任单位": "黄浦区", "完成比例(%)": "90"}})
    refused = import_workbook(
        store, forged, file_name="浦东新区.xlsx", user=staff(store, "浦东新区")
    )
    assert [p.value for p in refused.problems] == ["黄浦区"] and refused.diffs.empty
    assert store.assignments().query("unit == '黄浦区'").version.max() == 0
    store.engine.dispose()


def test_a_district_signs_and_reports_its_own_row_the_roll_up_row_takes_no_step(tmp_path):
    from tracker.supervision import Supervision

    store = open_store(f"sqlite:///{tmp_path / 't.db'}")
    rows = store.assignments()
    task = rows[rows.unit == "各区政府"].task_id.iloc[0]
    same_task = rows[rows.task_id == task].set_index("unit")
    flow = Supervision(store)
    district = staff(store, "浦东新区")
    flow.acknowledge(int(same_task.loc["浦东新区", "assignment_id"]), user=district)
    flow.submit(int(same_task.loc["浦东新区", "assignment_id"]), "已部署", user=district)
    with pytest.raises(PermissionDenied, match="汇总行"):
        flow.acknowledge(int(same_task.loc["各区政府", "assignment_id"]), user=signed_in(store))
    with pytest.raises(PermissionDenied):
        flow.acknowledge(int(same_task.loc["黄浦区", "assignment_id"]), user=district)
    steps = flow.steps()
    assert set(steps.assignment_id) == {same_task.loc["浦东新区", "assignment_id"]}
    assert len(steps) == 2  # 签收 and 报送
    store.engine.dispose()
