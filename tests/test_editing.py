"""The update page's pure logic: the editor frame and the updates its edits mean.

Exact cases, including the data_editor trap: another user's save reorders or changes the
data while an edit is pending, and the edit must still land on the task the user saw.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from pagelogic import editing
from pagelogic.editing import changed_updates, editor_frame
from tests.conftest import measures_frame
from tests.factories import signed_in
from tracker import audit
from tracker.errors import Conflict, ConflictError, Problem
from tracker.progress import Update
from tracker.schema import LEAD, PROGRESS_FIELDS, SUPPORT

STATUS = PROGRESS_FIELDS["status"]
PERCENT = PROGRESS_FIELDS["percent"]
DUE = PROGRESS_FIELDS["due_date"]
NOTE = PROGRESS_FIELDS["note"]
AT = datetime(2026, 11, 23, 10, 0)


def _ids(store, unit: str, role: str) -> list[int]:
    df = store.assignments()
    return df.loc[(df.unit == unit) & (df.role == role), "assignment_id"].tolist()


def test_editor_frame_indexes_by_assignment_id(make_store, small_measures):
    store = make_store(small_measures)
    frame = editor_frame(store.assignments(), "市科委", LEAD, "2026-11")
    assert frame.index.name == "assignment_id"
    assert list(frame.index) == _ids(store, "市科委", LEAD)
    assert list(frame.columns) == editing.EDITOR_COLUMNS
    assert list(frame[editing.TASK_ID]) == ["demo-m01-t1", "demo-m02-t1"]
    assert list(frame[editing.MEASURE]) == ["〔2026〕1号·1-1", "〔2026〕1号·2-1"]
    assert set(frame[STATUS]) == {"未启动"}
    assert list(frame[PERCENT]) == [0, 0]
    assert list(frame[DUE]) == [None, None]
    assert list(frame[editing.UPDATED_THIS_PERIOD]) == ["", ""]
    assert list(frame[editing.VERSION]) == [0, 0]
    support = editor_frame(store.assignments(), "市教委", SUPPORT)
    assert list(support[editing.TASK_ID]) == ["demo-m01-t1", "demo-m02-t1"]
    assert editor_frame(store.assignments(), "市财政局", LEAD).empty


def test_editor_frame_marks_rows_updated_this_period(make_store, small_measures):
    store = make_store(small_measures)
    first, second = _ids(store, "市科委", LEAD)
    store.apply(
        [Update(second, 0, {"status": "推进中", "percent": 30, "due_date": "2027-06-30"})],
        user=signed_in(store, "张三"),
        source="web",
        at=AT,
    )
    frame = editor_frame(store.assignments(), "市科委", LEAD, "2026-11")
    assert frame.loc[first, editing.UPDATED_THIS_PERIOD] == ""
    assert frame.loc[second, editing.UPDATED_THIS_PERIOD] == "✓"
    assert frame.loc[second, STATUS] == "推进中"
    assert frame.loc[second, PERCENT] == 30
    assert frame.loc[second, DUE] == date(2027, 6, 30)
    assert frame.loc[second, editing.VERSION] == 1
    assert frame.loc[second, editing.UPDATED_BY] == "张三"
    # Next month the same row is no longer "updated this period", but keeps its values.
    later = editor_frame(store.assignments(), "市科委", LEAD, "2026-12")
    assert later.loc[second, editing.UPDATED_THIS_PERIOD] == ""
    assert later.loc[second, PERCENT] == 30


def _loaded() -> pd.DataFrame:
    """A hand-made editor frame: three assignments at versions 3, 0, 7."""
    rows = pd.DataFrame(
        {
            "assignment_id": [11, 12, 13],
            "task_id": ["p-m01-t1", "p-m01-t2", "p-m02-t1"],
            "task_text": ["甲", "乙", "丙"],
            "doc_no": ["沪府办发〔2026〕1号"] * 3,
            "measure_no": [1, 1, 2],
            "task_seq": [1, 2, 1],
            "unit": ["市科委"] * 3,
            "role": [LEAD] * 3,
            "status": ["in_progress", "not_started", "done"],
            "percent": [40, 0, 100],
            "due_date": [pd.Timestamp("2027-01-31"), pd.NaT, pd.NaT],
            "note": ["进行中", "", "完成"],
            "next_step": ["", "", ""],
            "problems": ["", "", ""],
            "evidence": ["", "", ""],
            "period": ["2026-10", "", "2026-11"],
            "updated_by": ["甲", "", "乙"],
            "updated_at": [pd.Timestamp("2026-10-01"), pd.NaT, pd.Timestamp("2026-11-02")],
            "version": [3, 0, 7],
        }
    )
    return editor_frame(rows, "市科委", LEAD, "2026-11")


def test_no_edits_no_updates():
    loaded = _loaded()
    assert changed_updates(loaded, loaded.copy()) == []


def test_only_changed_cells_are_sent_with_loaded_versions():
    loaded = _loaded()
    edited = loaded.copy()
    edited.loc[12, PERCENT] = 25.0  # the editor hands back floats
    edited.loc[12, STATUS] = "推进中"
    edited.loc[13, NOTE] = "已验收"
    updates = changed_updates(loaded, edited)
    assert updates == [
        Update(12, 0, {"status": "in_progress", "percent": 25}, row=2),
        Update(13, 7, {"note": "已验收"}, row=3),
    ]
    assert type(updates[0].changes["percent"]) is int


def test_blank_and_equal_values_are_not_changes():
    loaded = _loaded()
    edited = loaded.copy()
    edited[NOTE] = edited[NOTE].astype(object)
    edited.loc[12, NOTE] = None  # "" -> None is not an edit
    edited.loc[11, DUE] = pd.Timestamp("2027-01-31")  # same day, other type
    edited.loc[11, PERCENT] = 40.0
    edited.loc[11, STATUS] = "in_progress"  # code for the same label
    assert changed_updates(loaded, edited) == []


def test_due_date_set_and_cleared():
    loaded = _loaded()
    edited = loaded.copy()
    edited.loc[11, DUE] = None
    edited.loc[12, DUE] = date(2027, 3, 1)
    assert changed_updates(loaded, edited) == [
        Update(11, 3, {"due_date": None}, row=1),
        Update(12, 0, {"due_date": date(2027, 3, 1)}, row=2),
    ]


def test_invalid_values_are_sent_for_the_store_to_refuse():
    loaded = _loaded()
    edited = loaded.copy()
    edited.loc[11, PERCENT] = 150
    edited[STATUS] = edited[STATUS].astype(object)
    edited.loc[12, STATUS] = "进行"
    assert changed_updates(loaded, edited) == [
        Update(11, 3, {"percent": 150}, row=1),
        Update(12, 0, {"status": "进行"}, row=2),
    ]


def test_edits_are_matched_by_id_not_position():
    loaded = _loaded()
    edited = loaded.copy()
    edited.loc[13, PERCENT] = 100  # unchanged
    edited.loc[12, PERCENT] = 10
    reordered = edited.iloc[[2, 0, 1]]  # e.g. the user sorted the grid
    assert changed_updates(loaded, reordered) == [Update(12, 0, {"percent": 10}, row=2)]


def test_base_version_comes_from_loaded_frame_not_edited():
    loaded = _loaded()
    edited = loaded.copy()
    edited[editing.VERSION] = 99  # a tampered / refreshed hidden column is ignored
    edited.loc[11, PERCENT] = 50
    assert changed_updates(loaded, edited) == [Update(11, 3, {"percent": 50}, row=1)]


def test_read_only_columns_are_never_sent():
    loaded = _loaded()
    edited = loaded.copy()
    edited.loc[11, editing.TASK_ID] = "other"
    edited.loc[11, editing.TASK_TEXT] = "改过"
    edited.loc[11, editing.MEASURE] = "〔2026〕9号·9"
    assert changed_updates(loaded, edited) == []


def _reordering_measures(with_new_first_task: bool) -> pd.DataFrame:
    rows = [
        {
            "measure_no": 2,
            "task_id": "demo-m02-t1",
            "task_seq": 1,
            "task_text": "乙任务",
            "unit": "市科委",
            "role": "lead",
            "unit_rank": 1,
        },
        {
            "measure_no": 3,
            "task_id": "demo-m03-t1",
            "task_seq": 1,
            "task_text": "丙任务",
            "unit": "市科委",
            "role": "lead",
            "unit_rank": 1,
        },
        {
            "measure_no": 3,
            "task_id": "demo-m03-t1",
            "task_seq": 1,
            "task_text": "丙任务",
            "unit": "市教委",
            "role": "support",
            "unit_rank": 2,
        },
    ]
    if with_new_first_task:
        rows.insert(
            0,
            {
                "measure_no": 1,
                "task_id": "demo-m01-t1",
                "task_seq": 1,
                "task_text": "甲任务",
                "unit": "市科委",
                "role": "lead",
                "unit_rank": 1,
            },
        )
    return measures_frame(rows)


@pytest.mark.parametrize("edit_row_that_moved", [False, True])
def test_edit_lands_on_right_task_after_another_users_change(make_store, edit_row_that_moved):
    """Load frame A; another user saves a row and a sync inserts a task in front
    (positions shift); the user's edit of frame A still targets the task they saw."""
    store = make_store(_reordering_measures(with_new_first_task=False))
    loaded = editor_frame(store.assignments(), "市科委", LEAD, "2026-11")
    b_task, c_task = loaded.index  # demo-m02-t1, demo-m03-t1
    assert list(loaded[editing.TASK_ID]) == ["demo-m02-t1", "demo-m03-t1"]

    # Another user: bumps the version of the first row and reorders the data.
    store.apply(
        [Update(b_task, 0, {"percent": 20})], user=signed_in(store, "李四"), source="web", at=AT
    )
    store.sync(_reordering_measures(with_new_first_task=True))
    now_frame = editor_frame(store.assignments(), "市科委", LEAD, "2026-11")
    assert list(now_frame[editing.TASK_ID]) == ["demo-m01-t1", "demo-m02-t1", "demo-m03-t1"]

    # The user edits frame A, by assignment id.
    target = b_task if edit_row_that_moved else c_task
    edited = loaded.copy()
    edited.loc[target, PERCENT] = 60
    edited.loc[target, STATUS] = "推进中"
    updates = changed_updates(loaded, edited)
    assert [u.assignment_id for u in updates] == [target]
    assert updates[0].base_version == 0

    if edit_row_that_moved:
        with pytest.raises(ConflictError) as info:
            store.apply(updates, user=signed_in(store, "张三"), source="web", at=AT)
        assert info.value.conflicts[0].task_id == "demo-m02-t1"
        assert "李四" in str(info.value)
        after = store.assignments().set_index("assignment_id")
        assert after.loc[b_task, "percent"] == 20  # the winner's value, untouched
        assert len(store.history(assignment_ids=[b_task])) == 1
    else:
        store.apply(updates, user=signed_in(store, "张三"), source="web", at=AT)
        after = store.assignments().set_index("assignment_id")
        assert after.loc[c_task, "task_id"] == "demo-m03-t1"
        assert after.loc[c_task, "percent"] == 60
        assert after.loc[b_task, "percent"] == 20
        new_task = after.index[after.task_id == "demo-m01-t1"][0]
        assert after.loc[new_task, "percent"] == 0
        history = store.history(assignment_ids=[c_task])
        assert set(history["task_id"]) == {"demo-m03-t1"}
        assert set(history["field"]) == {"status", "percent"}


def test_history_table_has_chinese_headers(make_store, small_measures):
    store = make_store(small_measures)
    aid = _ids(store, "市科委", LEAD)[0]
    store.apply(
        [Update(aid, 0, {"status": "推进中"})], user=signed_in(store, "张三"), source="web", at=AT
    )
    table = audit.history_table(store.history(task_id="demo-m01-t1"))
    assert list(table.columns) == audit.HISTORY_COLUMNS
    assert table.iloc[0][["字段", "原值", "新值", "修改人", "来源"]].tolist() == [
        "状态",
        "未启动",
        "推进中",
        "张三",
        "网页填报",
    ]
    assert table.iloc[0]["时间"] == pd.Timestamp(AT)
    assert list(audit.history_table(store.history(task_id="nope")).columns) == (
        audit.HISTORY_COLUMNS
    )


def test_partner_table_shows_other_units_on_led_tasks(make_store, small_measures):
    store = make_store(small_measures)
    rows = store.assignments()
    finance = rows.loc[rows.unit == "市财政局", "assignment_id"].iloc[0]
    store.apply(
        [Update(finance, 0, {"percent": 30})], user=signed_in(store, "王五"), source="web", at=AT
    )
    table = editing.partner_table(store.assignments(), "市科委")
    assert list(table.columns) == editing.PARTNER_COLUMNS
    assert table[
        [editing.TASK_ID, editing.MEASURE, "责任单位", editing.ROLE, "状态", "完成比例(%)"]
    ].values.tolist() == [
        ["demo-m01-t1", "〔2026〕1号·1-1", "市教委", "配合", "未启动", 0],
        ["demo-m02-t1", "〔2026〕1号·2-1", "市财政局", "配合", "未启动", 30],
        ["demo-m02-t1", "〔2026〕1号·2-1", "市教委", "配合", "未启动", 0],
    ]
    assert set(table[editing.TASK_TEXT]) == {"示范任务"}
    assert editing.partner_table(store.assignments(), "市财政局").empty  # leads nothing


def test_period_trend_carries_forward(make_store, small_measures):
    store = make_store(small_measures)
    first, second = _ids(store, "市科委", LEAD)
    store.apply(
        [Update(first, 0, {"status": "done"})],
        user=signed_in(store, "甲"),
        source="web",
        at=datetime(2026, 10, 5),
    )
    store.apply(
        [Update(second, 0, {"percent": 50})],
        user=signed_in(store, "甲"),
        source="web",
        at=datetime(2026, 11, 5),
    )
    trend = editing.period_trend(store.snapshots(), [first, second])
    assert trend.values.tolist() == [
        ["2026-10", 2, 1, 50.0, 50.0],
        ["2026-11", 2, 1, 50.0, 75.0],
    ]
    assert editing.period_trend(store.snapshots(), []).empty


def test_task_detail_names_the_policy_measure_and_other_units(make_store, small_measures):
    store = make_store(small_measures)
    rows = store.assignments()
    first, second = _ids(store, "市科委", LEAD)
    detail = editing.task_detail(rows, "市科委", first)
    assert detail is not None
    assert (detail.measure, detail.role, detail.others, detail.task_id) == (
        "〔2026〕1号·1",  # the measure itself (措施 1), beside its title
        "牵头",
        "市教委（配合）",
        "demo-m01-t1",
    )
    other = editing.task_detail(rows, "市科委", second)
    assert other is not None and other.others == "市财政局（配合）、市教委（配合）"
    assert editing.task_detail(rows, "市科委", 10_000) is None  # gone since the page loaded


def test_picker_labels_and_task_texts_come_from_the_rows_on_screen(make_store, small_measures):
    store = make_store(small_measures)
    first, second = _ids(store, "市科委", LEAD)
    frame = editor_frame(store.assignments(), "市科委", LEAD)
    labels = editing.picker_labels(frame.iloc[1:], LEAD)
    assert labels == {second: "牵头 · 〔2026〕1号·2-1　示范任务"}
    support = editor_frame(store.assignments(), "市教委", SUPPORT)
    assert list(editing.picker_labels(support, SUPPORT).values())[0].startswith("配合 · ")
    assert editing.task_texts(frame) == {
        "demo-m01-t1": "〔2026〕1号·1-1　示范任务",
        "demo-m02-t1": "〔2026〕1号·2-1　示范任务",
    }


def test_opening_unit_prefers_the_link_then_the_sidebar_then_the_first():
    units = ["市教委", "市科委"]
    assert editing.opening_unit(units, [None, "市科委"]) == "市科委"
    assert editing.opening_unit(units, ["市教委", "市科委"]) == "市教委"
    assert editing.opening_unit(units, ["市财政局"]) == "市教委"  # not this account's
    assert editing.opening_unit(units, []) == "市教委"


def test_refused_lines_name_the_task_by_its_text():
    conflict = Conflict(
        7, "demo-m01-t1", "市科委", 0, 1, "李四", {"进展情况": ""}, {"进展情况": "x"}
    )
    lines = editing.refused_lines(
        [conflict],
        [Problem("完成比例必须是0到100之间的整数", row=2, task_id="demo-m02-t1")],
        {"demo-m01-t1": "〔2026〕1号·1-1　甲任务"},
    )
    assert lines == [
        "〔2026〕1号·1-1　甲任务：李四 已改为 进展情况 （空）；您的 进展情况 x 未保存",
        "demo-m02-t1：完成比例必须是0到100之间的整数",
    ]


# --- unsaved edits (drafts) and paging --------------------------------------------------------


def test_drafts_keep_edits_from_every_page_with_the_version_they_were_made_on():
    loaded = _loaded()
    first_page, second_page = loaded.iloc[:2], loaded.iloc[2:]
    edited = first_page.copy()
    edited.loc[12, PERCENT] = 25.0
    drafts = editing.record_drafts({}, first_page, edited)
    assert drafts == {12: editing.Draft(0, {PERCENT: 25.0})}
    edited = second_page.copy()
    edited.loc[13, NOTE] = "已验收"
    drafts = editing.record_drafts(drafts, second_page, edited)  # page 1's edit survives
    assert set(drafts) == {12, 13} and editing.draft_count(drafts) == 2
    assert editing.draft_count(drafts, among=first_page.index) == 1
    # Shown again, the grid starts from the drafts' values; the edit is then sent once.
    shown = editing.with_drafts(first_page, drafts)
    assert shown.loc[12, PERCENT] == 25 and shown.loc[11, PERCENT] == 40
    assert first_page.loc[12, PERCENT] == 0  # the loaded rows are left as they were
    assert editing.record_drafts(drafts, first_page, shown) == drafts
    updates = editing.draft_updates(loaded, drafts)
    assert [(u.assignment_id, u.base_version, u.changes, u.row) for u in updates] == [
        (12, 0, {"percent": 25}, 2),
        (13, 7, {"note": "已验收"}, 3),
    ]
    # Values the store will refuse are kept and shown as typed, to be corrected.
    odd = {11: editing.Draft(3, {PERCENT: 25.5}), 12: editing.Draft(0, {PERCENT: None})}
    assert editing.with_drafts(first_page, odd)[PERCENT].tolist()[0] == 25.5
    assert pd.isna(editing.with_drafts(first_page, odd).loc[12, PERCENT])
    # Undone by hand: the draft goes, the other page's stays.
    assert editing.record_drafts(drafts, first_page, first_page) == {13: drafts[13]}


def test_a_draft_is_sent_on_the_version_it_was_made_on_even_after_a_reload():
    loaded = _loaded()
    edited = loaded.copy()
    edited.loc[11, NOTE] = "我的进展"
    drafts = editing.record_drafts({}, loaded, edited)
    newer = loaded.copy()
    newer.loc[11, editing.VERSION] = 4  # someone saved the row since
    newer.loc[11, PERCENT] = 60
    again = newer.copy()
    again.loc[11, NOTE] = "我的进展，补充"
    kept = editing.record_drafts(drafts, newer, again)
    assert kept[11].base_version == 3  # what the user first edited, so the store refuses it
    [update] = editing.draft_updates(newer, kept)
    assert (update.base_version, update.changes) == (3, {"note": "我的进展，补充"})


def test_grid_page_filters_on_loaded_values_and_clamps_the_page():
    loaded = _loaded()
    page = editing.grid_page(loaded, size=2)
    assert (list(page.rows.index), page.matching, page.page, page.pages) == ([11, 12], 3, 1, 2)
    last = editing.grid_page(loaded, page=9, size=2)
    assert (list(last.rows.index), last.page, last.first) == ([13], 2, 3)
    assert list(editing.grid_page(loaded, rows="已完成").rows.index) == [13]
    assert list(editing.grid_page(loaded, keyword=" 乙 ").rows.index) == [12]
    assert list(editing.grid_page(loaded, keyword="P-M02").rows.index) == [13]  # any case
    assert list(editing.grid_page(loaded, keyword="〔2026〕1号·1-").rows.index) == [11, 12]
    drafts = {13: editing.Draft(7, {NOTE: "x"})}
    unsaved = editing.grid_page(loaded, rows=editing.UNSAVED_ROWS, drafts=drafts)
    assert list(unsaved.rows.index) == [13]
    empty = editing.grid_page(loaded, keyword="没有这个")
    assert (empty.rows.empty, empty.matching, empty.pages, empty.first) == (True, 0, 1, 0)
    # Another row set, another fingerprint (the editor's key); the same rows, the same one.
    assert page.key != last.key and page.key == editing.grid_page(loaded, size=2).key


def test_source_labels_say_where_a_change_came_from():
    assert [
        audit.source_label(s)
        for s in (
            "web",
            "api",
            "市科委进度.xlsx",
            "revision:0123456789ab",
            "measures.csv 0123456789ab",
            "政策库：2026-01-01_示范.md",
            "延期申请#3",
            None,
        )
    ] == [
        "网页填报",
        "接口",
        "Excel导入：市科委进度.xlsx",
        "任务清单修订（0123456789ab）",
        "任务清单同步（0123456789ab）",
        "政策库：2026-01-01_示范.md",
        "延期申请#3",
        "",
    ]


def test_history_table_names_the_fields_a_sync_writes(make_store, small_measures):
    store = make_store(small_measures)
    account = signed_in(store, "督办甲")
    store.sync(small_measures.iloc[2:].reset_index(drop=True), user=account)  # one task gone
    table = audit.history_table(store.history())
    assert not table.empty
    assert set(table["字段"]) <= {"任务编号", "任务内容", "已归档"}
    archived = table[table["字段"] == "已归档"]
    assert not archived.empty and set(archived["新值"]) == {"是"}
    assert all(source.startswith("任务清单修订（") for source in table["来源"])
