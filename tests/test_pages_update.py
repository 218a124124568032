"""The 进度填报 page driven through AppTest: pick a unit, edit, save, see the history;
invalid and conflicting saves write nothing.

AppTest cannot type into ``st.data_editor``; a keyed editor is seeded by assigning its edit
state (``edited_rows`` by row position, column label -> value) on ``at.session_state``
before the run, which is exactly what the browser sends.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from loaders.measures_csv import read_measures
from loaders.store_sync import measures_path
from tests.conftest import measures_frame, tasks_frame
from tests.factories import DASHBOARD, shown_text, sign_in_app, signed_in, signed_in_app, stored_row
from tracker.progress import Update
from tracker.schema import LEAD, STAFF, SUPERVISOR, SUPPORT
from tracker.store import Store, make_engine

TASKS = [
    ("demo-m01-t1", "甲任务", "市科委", "lead", 1),
    ("demo-m01-t1", "甲任务", "市教委", "support", 2),
    ("demo-m02-t1", "乙任务", "市科委", "lead", 1),
    ("demo-m03-t1", "丙任务", "市教委", "lead", 1),
    ("demo-m03-t1", "丙任务", "市科委", "support", 2),
]


@pytest.fixture
def app_env(app_env_of) -> str:
    """A fresh SQLite database seeded from a small measures CSV; caches cleared."""
    return app_env_of(tasks_frame(TASKS))


def _open(unit: str = "市科委", who: str = "张三", role: str = SUPERVISOR) -> AppTest:
    at = signed_in_app("pages/update.py", who, role, [unit] if role == STAFF else [])
    at.selectbox(key="update_unit").select(unit)
    at.run()
    assert not at.exception, at.exception
    return at


def _errors(at: AppTest) -> list[str]:
    return [shown_text(e.value) for e in at.error]


_TAB = {LEAD: "牵头任务（", SUPPORT: "配合任务（"}  # the grids' tab labels, then a count


def _open_tab(at: AppTest, role: str) -> None:
    """Open ``role``'s grid tab (a closed tab's grid is not drawn) and run."""
    [label] = [t.label for t in at.tabs if t.label.startswith(_TAB[role])]
    at.session_state["update_tab"] = label
    at.run()
    assert not at.exception, at.exception


def _editors(at: AppTest, role: str) -> list:
    return [e for e in at.data_editor if e.key and e.key.startswith(f"update_editor_{role}_")]


def _editor(at: AppTest, role: str):
    """``role``'s grid, its tab opened first if it is closed."""
    if not _editors(at, role):
        _open_tab(at, role)
    editors = _editors(at, role)
    assert len(editors) == 1, [e.key for e in at.data_editor]
    return editors[0]


def _edit(at: AppTest, role: str, edited_rows: dict) -> None:
    at.session_state[_editor(at, role).key] = {
        "edited_rows": edited_rows,
        "added_rows": [],
        "deleted_rows": [],
    }


def _save(at: AppTest) -> None:
    at.button(key="update_save").click()
    at.run()
    assert not at.exception, at.exception


def _store(url: str) -> Store:
    return Store(make_engine(url))


def test_shows_lead_and_support_tabs_with_period(app_env):
    at = _open()
    assert [t.label for t in at.tabs] == [
        "牵头任务（2）",
        "配合任务（1）",
        "逐项填报",
        "本单位各期完成情况",
        "牵头任务的配合单位进展",
    ]
    lead = _editor(at, LEAD).value
    assert list(lead["任务编号"]) == ["demo-m01-t1", "demo-m02-t1"]
    assert _editors(at, SUPPORT) == []  # a closed tab's grid is not drawn
    assert list(_editor(at, SUPPORT).value["任务编号"]) == ["demo-m03-t1"]
    assert _editors(at, LEAD) == []
    assert any("当前报告期" in c.value for c in at.caption)
    # 逐项填报's picker still lists both grids' rows, whichever tab is open.
    picker = at.selectbox(key="update_detail_task")
    assert len(picker.options) == 3


def test_an_edit_made_as_the_tab_is_switched_is_kept(app_env):
    """The grid's edit and the tab switch can reach the server in one run: the closed
    tab's grid then runs once more, so the edit is recorded, not dropped with its state."""
    at = _open()
    _edit(at, LEAD, {1: {"完成比例(%)": 45}})
    [label] = [t.label for t in at.tabs if t.label.startswith(_TAB[SUPPORT])]
    at.session_state["update_tab"] = label  # no run in between
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["update_pending"] == 1
    _open_tab(at, LEAD)
    lead = _editor(at, LEAD).value.set_index("任务编号")
    assert lead.loc["demo-m02-t1", "完成比例(%)"] == 45
    _save(at)
    assert stored_row(app_env, "demo-m02-t1", "市科委").percent == 45


def test_a_closed_tab_keeps_its_search(app_env):
    at = _open()
    at.text_input(key="update_search_lead").input("demo-m02")
    at.run()
    assert list(_editor(at, LEAD).value["任务编号"]) == ["demo-m02-t1"]
    _open_tab(at, SUPPORT)
    _open_tab(at, LEAD)
    assert at.text_input(key="update_search_lead").value == "demo-m02"
    assert list(_editor(at, LEAD).value["任务编号"]) == ["demo-m02-t1"]


def test_edit_save_and_see_history(app_env):
    at = _open()
    _edit(at, LEAD, {1: {"完成比例(%)": 40, "状态": "推进中", "进展情况": "已完成方案"}})
    _save(at)
    assert _errors(at) == []
    assert any("已保存 1 条" in s.value for s in at.success)

    row = stored_row(app_env, "demo-m02-t1", "市科委")
    assert (row.status, row.percent, row.note, row.updated_by, row.version) == (
        "in_progress",
        40,
        "已完成方案",
        "张三",
        1,
    )
    assert stored_row(app_env, "demo-m01-t1", "市科委").version == 0
    # Reloaded after the save: the editor shows the stored values, marked as updated this period.
    lead = _editor(at, LEAD).value.set_index("任务编号")
    assert lead.loc["demo-m02-t1", "完成比例(%)"] == 40
    assert lead.loc["demo-m02-t1", "本期已更新"] == "✓"
    assert lead.loc["demo-m01-t1", "本期已更新"] == ""

    aid = int(stored_row(app_env, "demo-m02-t1", "市科委").assignment_id)
    at.selectbox(key="update_detail_task").select(aid)
    at.run()
    [history] = [d.value for d in at.dataframe if "字段" in d.value.columns]
    assert list(history.columns) == [
        "责任单位",
        "字段",
        "原值",
        "新值",
        "修改人",
        "时间",
        "来源",
        "报告期",
    ]
    assert sorted(history["字段"]) == sorted(["状态", "完成比例(%)", "进展情况"])
    assert set(history["修改人"]) == {"张三"}
    assert set(history["来源"]) == {"网页填报"}


def test_invalid_percent_is_refused_and_nothing_written(app_env):
    at = _open()
    _edit(at, LEAD, {0: {"完成比例(%)": 150}, 1: {"完成比例(%)": 20}})
    _save(at)
    errors = _errors(at)
    assert len(errors) == 1 and "完成比例" in errors[0] and "未保存" in errors[0]
    # The grid names the task as the user sees it, never by its id.
    assert (
        "〔2026〕1号·1-1　甲任务，「完成比例(%)」：" in errors[0] and "demo-m01-t1" not in errors[0]
    )
    store = _store(app_env)
    assert store.history().empty
    assert set(store.assignments().version) == {0}
    assert not at.success


def test_staff_sees_own_units_only_and_cannot_set_deadlines(app_env):
    at = _open("市科委", "kw01", STAFF)
    assert at.selectbox(key="update_unit").options == ["市科委"]
    assert not any(t.key == "update_who" for t in at.text_input)  # no typed name
    _edit(at, LEAD, {0: {"完成时限": "2026-12-31"}, 1: {"完成比例(%)": 20}})
    _save(at)
    [error] = _errors(at)
    assert "完成时限由督办员设定" in error and "未保存" in error
    assert _store(app_env).history().empty


def test_unit_in_the_link_opens_that_unit(app_env):
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.query_params["unit"] = "市教委"
    sign_in_app(at, "督办乙")
    at.switch_page("pages/update.py")
    at.run()
    assert at.selectbox(key="update_unit").value == "市教委"


def test_history_names_the_signed_in_account(app_env):
    at = _open("市科委", "kw02", STAFF)
    _edit(at, LEAD, {0: {"完成比例(%)": 10}})
    _save(at)
    assert _errors(at) == []
    assert set(_store(app_env).history().changed_by) == {"kw02"}


def test_conflict_saves_the_rest_and_lists_what_was_refused(app_env):
    """Another user saved row 1 meanwhile: the edit to row 2 is saved, the edit to row 1 is
    not, and the message names the task by its text, their value and the unsaved one."""
    at = _open()
    aid = int(stored_row(app_env, "demo-m01-t1", "市科委").assignment_id)
    writer = _store(app_env)
    writer.apply([Update(aid, 0, {"percent": 70})], user=signed_in(writer, "李四"), source="web")
    _edit(at, LEAD, {0: {"完成比例(%)": 30}, 1: {"完成比例(%)": 5}})
    _save(at)
    assert _errors(at) == []
    assert [shown_text(s.value) for s in at.success] == ["已保存 1 条任务分工的修改。"]
    [warning] = [shown_text(w.value) for w in at.warning]
    assert warning.splitlines() == [
        "以下 1 条任务在您打开本页后已被他人修改，您对它们的修改没有保存（其余修改已保存）。"
        "表中已是最新值；您填写的内容已保留，可点「重新应用我的修改」放回表中，核对后再保存：",
        "· 〔2026〕1号·1-1　甲任务：李四 已改为 完成比例(%) 70；您的 完成比例(%) 30 未保存",
    ]
    assert stored_row(app_env, "demo-m01-t1", "市科委").percent == 70  # theirs, never overwritten
    assert stored_row(app_env, "demo-m02-t1", "市科委").percent == 5  # the rest was saved
    lead = _editor(at, LEAD).value.set_index("任务编号")
    assert lead.loc["demo-m01-t1", "完成比例(%)"] == 70  # the grid shows the stored values


def test_conflict_on_every_edit_saves_nothing_and_says_so(app_env):
    at = _open()
    aid = int(stored_row(app_env, "demo-m01-t1", "市科委").assignment_id)
    writer = _store(app_env)
    writer.apply([Update(aid, 0, {"note": "他人"})], user=signed_in(writer, "李四"), source="web")
    _edit(at, LEAD, {0: {"进展情况": "我的"}})
    _save(at)
    assert not at.success
    [warning] = [shown_text(w.value) for w in at.warning]
    assert warning.startswith("以下 1 条任务在您打开本页后已被他人修改，您对它们的修改没有保存。")
    assert "李四 已改为 进展情况 他人；您的 进展情况 我的 未保存" in warning
    assert stored_row(app_env, "demo-m01-t1", "市科委").note == "他人"


def test_reload_discards_the_users_own_unsaved_edits(app_env):
    at = _open()
    _edit(at, LEAD, {0: {"完成比例(%)": 150}})
    _save(at)
    assert len(_errors(at)) == 1
    _save(at)  # refused again: the edit stays in the grid to be corrected
    assert len(_errors(at)) == 1
    at.button(key="update_reload").click()
    at.run()
    _save(at)
    assert any("没有需要保存的修改" in i.value for i in at.info)
    assert _store(app_env).history().empty


def test_switching_unit_with_unsaved_edits_asks_first(app_env):
    at = _open()
    _edit(at, LEAD, {0: {"完成比例(%)": 20}})
    at.run()
    at.selectbox(key="update_unit").select("市教委")
    at.run()
    assert at.selectbox(key="update_unit").value == "市科委"  # not switched yet
    [warning] = [shown_text(w.value) for w in at.warning]
    assert warning == "「市科委」有 1 处未保存的修改，切换到「市教委」会丢弃这些修改。"
    at.button(key="update_switch_stay").click()
    at.run()
    assert at.selectbox(key="update_unit").value == "市科委"
    assert at.session_state["update_pending"] == 1  # the edit is still there

    at.selectbox(key="update_unit").select("市教委")
    at.run()
    at.button(key="update_switch_go").click()
    at.run()
    assert at.selectbox(key="update_unit").value == "市教委"
    assert not at.warning
    assert list(_editor(at, LEAD).value["任务编号"]) == ["demo-m03-t1"]


def test_switching_unit_without_edits_just_switches(app_env):
    at = _open()
    at.selectbox(key="update_unit").select("市教委")
    at.run()
    assert at.selectbox(key="update_unit").value == "市教委" and not at.warning


def test_edit_lands_on_right_task_after_another_users_change(app_env):
    """Another user's save (and a new task in front) while an edit is pending: the edit,
    made at row position 1 of the grid the user saw, still lands on that task."""
    at = _open()
    other = int(stored_row(app_env, "demo-m03-t1", "市教委").assignment_id)
    store = _store(app_env)
    store.apply([Update(other, 0, {"percent": 50})], user=signed_in(store, "李四"), source="web")
    measures = read_measures(measures_path().read_bytes())
    front = measures_frame(
        [
            {
                "measure_no": 0,
                "task_id": "demo-m00-t1",
                "task_seq": 1,
                "unit": "市科委",
                "role": "lead",
                "unit_rank": 1,
            }
        ]
    )
    assert store.sync(pd.concat([front, measures], ignore_index=True)).added_tasks == 1
    assert store.assignments().task_id.iloc[0] == "demo-m00-t1"  # positions shifted
    _edit(at, LEAD, {1: {"完成比例(%)": 35}})
    _save(at)
    assert _errors(at) == []
    assert stored_row(app_env, "demo-m02-t1", "市科委").percent == 35
    assert stored_row(app_env, "demo-m01-t1", "市科委").percent == 0
    assert stored_row(app_env, "demo-m03-t1", "市教委").percent == 50
    assert stored_row(app_env, "demo-m00-t1", "市科委").percent == 0


def test_due_date_outside_the_policy_is_refused_on_save(app_env):
    at = _open()
    _edit(at, LEAD, {0: {"完成时限": "2030-12-31"}})
    _save(at)
    [error] = _errors(at)
    assert "完成时限 2030-12-31 晚于政策有效期截止日 2028-01-31" in error
    assert stored_row(app_env, "demo-m01-t1", "市科委").version == 0


def _partner_tables(at: AppTest) -> list:
    return [
        d.value for d in at.dataframe if "责任单位" in d.value.columns and "角色" in d.value.columns
    ]


def test_lead_sees_support_units(app_env):
    at = _open()
    # The record's tabs run only when opened: the page opens on the detail panel.
    assert _partner_tables(at) == []
    at.session_state["update_lower"] = "牵头任务的配合单位进展"
    at.run()
    partners = _partner_tables(at)
    assert len(partners) == 1
    assert partners[0][["任务", "任务内容", "责任单位", "角色", "状态"]].values.tolist() == [
        ["〔2026〕1号·1-1", "甲任务", "市教委", "配合", "未启动"]
    ]
    assert [b.label for b in at.get("download_button")] == ["下载数据（CSV）"]
    assert not [s for s in at.selectbox if s.key == "update_detail_task"]  # its tab is shut


def test_quarterly_period_is_shown(app_env, monkeypatch):
    monkeypatch.setenv("TRACKER_PERIOD", "quarter")
    at = _open()
    caption = next(c.value for c in at.caption if "当前报告期" in c.value)
    assert "季报" in caption and "-Q" in caption


def test_staff_opens_at_own_unit_whatever_the_link_says(app_env):
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.query_params["unit"] = "市科委"
    sign_in_app(at, "jw01", STAFF, ["市教委"])
    at.switch_page("pages/update.py")
    at.run()
    assert at.selectbox(key="update_unit").options == ["市教委"]
    assert at.selectbox(key="update_unit").value == "市教委"


def test_opens_at_the_sidebar_unit(app_env):
    at = signed_in_app(None, "督办丙")
    at.multiselect(key="filter_unit").select("市教委")
    at.run()
    at.switch_page("pages/update.py")
    at.run()
    assert at.selectbox(key="update_unit").value == "市教委"


def test_grid_shows_task_text_measure_and_every_field_staff_fill_in(app_env):
    at = _open()
    lead = _editor(at, LEAD).value
    assert list(lead.columns[:9]) == [
        "任务",
        "任务内容",
        "状态",
        "完成比例(%)",
        "完成时限",
        "进展情况",
        "下一步计划",
        "佐证材料",
        "存在问题",
    ]
    assert lead[["任务", "任务内容"]].values.tolist() == [
        ["〔2026〕1号·1-1", "甲任务"],
        ["〔2026〕1号·2-1", "乙任务"],
    ]


def _pick(at: AppTest, task_id: str = "demo-m01-t1", unit: str = "市科委") -> None:
    """Choose a task in the detail panel (nothing is chosen when the page opens)."""
    url = os.environ["DATABASE_URL"]
    at.selectbox(key="update_detail_task").select(int(stored_row(url, task_id, unit).assignment_id))
    at.run()


def _detail(at: AppTest, kind, name: str):
    [widget] = [w for w in kind if w.key and w.key.startswith(f"update_detail_{name}_")]
    return widget


def test_detail_panel_shows_the_task_and_saves_its_text_fields(app_env):
    at = _open()
    at.selectbox(key="update_detail_task").select(
        int(stored_row(app_env, "demo-m03-t1", "市科委").assignment_id)
    )
    at.run()
    assert any("丙任务" in m.value for m in at.markdown)
    assert any("其他责任单位：市教委（牵头）" in shown_text(c.value) for c in at.caption)
    _detail(at, at.selectbox, "status").select("推进中")
    _detail(at, at.number_input, "percent").set_value(35)
    _detail(at, at.text_area, "note").input("已召开推进会")
    _detail(at, at.text_area, "next_step").input("12月底前出台细则")
    _detail(at, at.text_area, "evidence").input("会议纪要")
    at.button(key="update_detail_save").click()
    at.run()
    assert not at.exception, at.exception
    assert _errors(at) == []
    assert [shown_text(s.value) for s in at.success] == ["已保存 1 条任务分工的修改。"]
    row = stored_row(app_env, "demo-m03-t1", "市科委")
    assert (row.status, row.percent, row.note, row.next_step, row.evidence) == (
        "in_progress",
        35,
        "已召开推进会",
        "12月底前出台细则",
        "会议纪要",
    )
    assert stored_row(app_env, "demo-m01-t1", "市科委").version == 0


def test_detail_panel_refuses_what_the_store_refuses(app_env):
    at = _open()
    _pick(at)
    _detail(at, at.number_input, "percent").set_value(150)
    at.button(key="update_detail_save").click()
    at.run()
    [error] = _errors(at)
    # A form speaks of its fields: no row, no column of a file, no task id.
    lines = error.split("\n")
    assert lines[0] == "未保存：" and lines[1].startswith("「完成比例(%)」：")
    assert lines[1].endswith("（填写的值：150）") and len(lines) == 2
    assert not any(word in error for word in ("第1行", "列「", "demo-m01-t1", "任务 "))
    assert _store(app_env).history().empty


def test_detail_panel_waits_while_the_grid_has_unsaved_edits(app_env):
    at = _open()
    _pick(at)
    _edit(at, LEAD, {0: {"完成比例(%)": 20}})
    at.run()
    assert at.button(key="update_detail_save").disabled
    assert any("表格中有 1 处未保存的修改" in c.value for c in at.caption)


def test_staff_detail_panel_shows_the_deadline_read_only(app_env):
    at = _open("市科委", "kw03", STAFF)
    assert not [w for w in at.text_input if w.key.startswith("update_detail_due_")]  # no form yet
    _pick(at)
    assert [w.disabled for w in at.text_input if w.key.startswith("update_detail_due_")] == [True]


@pytest.mark.parametrize(
    "typed, why",
    [
        ("2025-13-45", "完成时限 2025-13-45 不是有效日期"),
        ("2099-12-31", "完成时限 2099-12-31 晚于政策有效期截止日 2028-01-31"),
        ("2025-03-05", "完成时限 2025-03-05 早于政策成文日期 2026-01-10"),
    ],
    ids=["month 13", "far out", "before issue"],
)
def test_detail_panel_refuses_a_mistyped_deadline(app_env, typed, why):
    """A typed deadline is read strictly, never rolled over, and must fall within the
    policy's dates (issued 2026-01-10, effective to 2028-01-31): refused, naming the field."""
    at = _open()
    _pick(at)
    _detail(at, at.text_input, "due").input(typed)
    at.button(key="update_detail_save").click()
    at.run()
    assert not at.exception, at.exception
    [error] = _errors(at)
    assert "完成时限" in error and why in error and "未保存" in error
    assert _store(app_env).history().empty
    _detail(at, at.text_input, "due").input("2027-03-31")
    at.button(key="update_detail_save").click()
    at.run()
    assert _errors(at) == []
    assert stored_row(app_env, "demo-m01-t1", "市科委").due_date == pd.Timestamp("2027-03-31")


# --- unsaved edits survive leaving the page; the grid is paged -----------------------------


def _away_and_back(at: AppTest, page: str = "pages/overview.py") -> list[str]:
    """Go to ``page`` and back; what the sidebar warned of while away."""
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    away = [shown_text(w.value) for w in at.sidebar.warning]
    at.switch_page("pages/update.py")
    at.run()
    assert not at.exception, at.exception
    return away


def test_unsaved_edits_are_kept_when_leaving_the_page_and_saved_from_the_banner(app_env):
    at = _open()
    _edit(at, LEAD, {1: {"完成比例(%)": 45, "进展情况": "离开前填写"}})
    _edit(at, SUPPORT, {0: {"进展情况": "配合进展"}})
    at.run()
    assert at.session_state["update_pending"] == 3
    assert _away_and_back(at) == ["进度填报中「市科委」有 3 处未保存的修改，已为您保留。"]
    assert not [w for w in at.sidebar.warning if "未保存" in w.value]  # not on the page itself
    assert at.selectbox(key="update_unit").value == "市科委"
    lead = _editor(at, LEAD).value.set_index("任务编号")
    assert (lead.loc["demo-m02-t1", "完成比例(%)"], lead.loc["demo-m02-t1", "进展情况"]) == (
        45,
        "离开前填写",
    )
    assert _editor(at, SUPPORT).value.iloc[0]["进展情况"] == "配合进展"
    [banner] = [shown_text(i.value) for i in at.info if "未保存的修改" in i.value]
    assert banner.startswith("有 3 处未保存的修改（牵头任务 2 处、配合任务 1 处）")
    assert _store(app_env).history().empty  # nothing written by leaving or coming back
    at.button(key="update_kept_save").click()
    at.run()
    assert [shown_text(s.value) for s in at.success] == ["已保存 2 条任务分工的修改。"]
    row = stored_row(app_env, "demo-m02-t1", "市科委")
    assert (row.percent, row.note, row.updated_by) == (45, "离开前填写", "张三")
    assert stored_row(app_env, "demo-m03-t1", "市科委").note == "配合进展"
    assert not any("未保存的修改" in i.value for i in at.info)  # nothing kept any more


def test_kept_edits_can_be_discarded_and_another_account_never_sees_them(app_env):
    at = _open()
    _edit(at, LEAD, {0: {"进展情况": "草稿"}})
    at.run()
    _away_and_back(at)
    at.button(key="update_kept_discard").click()
    at.run()
    assert _editor(at, LEAD).value.iloc[0]["进展情况"] == ""
    assert at.session_state["update_pending"] == 0
    assert _away_and_back(at) == []  # nothing kept: no warning elsewhere
    assert not any("未保存的修改" in i.value for i in at.info)

    _edit(at, LEAD, {0: {"进展情况": "张三的草稿"}})
    at.run()
    at.button(key="sign_out").click()
    at.run()
    sign_in_app(at, "李四")
    at.switch_page("pages/update.py")
    at.run()
    assert _editor(at, LEAD).value.iloc[0]["进展情况"] == ""
    assert not any("未保存的修改" in i.value for i in at.info)


def test_the_grid_is_paged_and_edits_on_every_page_are_saved(app_env, monkeypatch):
    monkeypatch.setattr("pagelogic.editing.PAGE_SIZE", 1)
    at = _open()
    assert len(_editor(at, LEAD).value) == 1
    assert at.selectbox(key="update_page_lead").options == ["第 1 / 2 页", "第 2 / 2 页"]
    assert any("共 2 项，显示第 1–1 项" in c.value for c in at.caption)
    _edit(at, LEAD, {0: {"完成比例(%)": 11}})
    at.run()
    at.selectbox(key="update_page_lead").select(2)
    at.run()
    assert list(_editor(at, LEAD).value["任务编号"]) == ["demo-m02-t1"]
    _edit(at, LEAD, {0: {"完成比例(%)": 22}})
    at.run()
    assert at.session_state["update_pending"] == 2
    at.selectbox(key="update_page_lead").select(1)
    at.run()
    assert _editor(at, LEAD).value.iloc[0]["完成比例(%)"] == 11  # page 1's edit is still there
    _save(at)
    assert _errors(at) == []
    assert stored_row(app_env, "demo-m01-t1", "市科委").percent == 11
    assert stored_row(app_env, "demo-m02-t1", "市科委").percent == 22


def test_the_grid_filters_by_status_keyword_and_unsaved_edits(app_env):
    at = _open()
    _edit(at, LEAD, {1: {"状态": "推进中"}})
    at.run()
    at.text_input(key="update_search_lead").input("乙任务")
    at.run()
    assert list(_editor(at, LEAD).value["任务编号"]) == ["demo-m02-t1"]
    assert _editor(at, LEAD).value.iloc[0]["状态"] == "推进中"  # the unsaved value is shown
    at.text_input(key="update_search_lead").input("")
    at.selectbox(key="update_rows_lead").select("有未保存修改的")
    at.run()
    assert list(_editor(at, LEAD).value["任务编号"]) == ["demo-m02-t1"]
    at.selectbox(key="update_rows_lead").select("已完成")
    at.run()
    assert not [e for e in at.data_editor if e.key.startswith("update_editor_lead_")]
    assert any("没有符合条件的任务" in i.value for i in at.info)
    assert at.session_state["update_pending"] == 1  # hidden by the filter, still kept
    _save(at)
    assert stored_row(app_env, "demo-m02-t1", "市科委").status == "in_progress"
