"""进度填报 across sessions and tabs (issue 23, items 5, 6 and the form's errors in 10).

A closed or reloaded tab ends its Streamlit session: the unsaved grid edits are kept in
the store per account, so a new session (another AppTest here, as another tab or server
would be) offers them back.  Two tabs of one account that both save the same task: the
losing one is told it was the same account in another tab, and keeps what it typed.
"""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from pagelogic import editing
from tests.conftest import tasks_frame
from tests.factories import shown_text, signed_in_app, stored_row
from tracker.schema import LEAD, STAFF, SUPERVISOR
from tracker.store import Store, make_engine

TASKS = [
    ("demo-m01-t1", "甲任务", "市科委", "lead", 1),
    ("demo-m01-t1", "甲任务", "市教委", "support", 2),
    ("demo-m02-t1", "乙任务", "市科委", "lead", 1),
]


@pytest.fixture
def app_env(app_env_of) -> str:
    return app_env_of(tasks_frame(TASKS))


def _open(who: str = "张三", role: str = SUPERVISOR) -> AppTest:
    at = signed_in_app("pages/update.py", who, role, ["市科委"] if role == STAFF else [])
    at.selectbox(key="update_unit").select("市科委")
    at.run()
    assert not at.exception, at.exception
    return at


def _editor(at: AppTest, role: str = LEAD):
    [editor] = [e for e in at.data_editor if e.key and e.key.startswith(f"update_editor_{role}_")]
    return editor


def _edit(at: AppTest, edited_rows: dict) -> None:
    at.session_state[_editor(at).key] = {
        "edited_rows": edited_rows,
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception, at.exception


def _lead(at: AppTest) -> pd.DataFrame:
    return _editor(at).value.set_index("任务编号")


def _kept_rows(url: str) -> list[tuple[str, str]]:
    store = Store(make_engine(url))
    try:
        with store.engine.connect() as conn:
            return [
                tuple(r) for r in conn.exec_driver_sql("SELECT username, unit FROM unsaved_edits")
            ]
    finally:
        store.engine.dispose()


def test_a_new_session_of_the_same_account_is_offered_the_unsaved_edits(app_env):
    first = _open()
    _edit(first, {1: {"完成比例(%)": 45, "进展情况": "关页前填写"}})
    assert _kept_rows(app_env) == [("张三", "市科委")]  # in the store, not only the session
    del first  # the tab is closed: its session is gone

    again = _open()  # a new session of the same account (another tab or server)
    [banner] = [shown_text(i.value) for i in again.info if "未保存的修改" in i.value]
    assert banner.startswith("有 2 处未保存的修改（牵头任务 2 处）")
    lead = _lead(again)
    assert (lead.loc["demo-m02-t1", "完成比例(%)"], lead.loc["demo-m02-t1", "进展情况"]) == (
        45,
        "关页前填写",
    )
    again.button(key="update_kept_save").click()
    again.run()
    assert [shown_text(s.value) for s in again.success] == ["已保存 1 条任务分工的修改。"]
    row = stored_row(app_env, "demo-m02-t1", "市科委")
    assert (row.percent, row.note) == (45, "关页前填写")
    assert _kept_rows(app_env) == []  # saved: nothing kept any more


def test_kept_edits_belong_to_their_account_and_go_when_discarded(app_env):
    first = _open()
    _edit(first, {0: {"进展情况": "张三的草稿"}})
    other = _open("李四")
    assert _lead(other).loc["demo-m01-t1", "进展情况"] == ""
    assert not any("未保存的修改" in i.value for i in other.info)

    again = _open()
    again.button(key="update_kept_discard").click()
    again.run()
    assert _kept_rows(app_env) == []
    assert _lead(_open()).loc["demo-m01-t1", "进展情况"] == ""


def test_rows_with_unsaved_edits_are_marked_in_the_grid() -> None:
    frame = pd.DataFrame(
        {"任务": ["a", "b"], "任务内容": ["甲", "乙"], "进展情况": ["", ""]}, index=[7, 8]
    )
    marked = editing.marked_drafts(frame, {8: editing.Draft(0, {"进展情况": "已推进"})})
    assert marked["任务"].tolist() == ["a", "✎ b"]  # the edited row only
    assert marked.drop(columns="任务").equals(frame.drop(columns="任务"))
    assert frame["任务"].tolist() == ["a", "b"]  # the loaded rows are left as they were
    assert editing.marked_drafts(frame, {}) is frame
    assert editing.marked_drafts(frame, {9: editing.Draft(0, {"进展情况": "x"})}) is frame


def test_the_grid_stays_one_widget_across_its_first_edit(app_env):
    """Streamlit keys a fixed-rows editor on its data's format and schema: had the first
    edit changed them (a Styler for the marked rows), the grid would become a new widget
    and an edit typed before that run reached the browser would be lost with the old one."""
    at = _open()
    before = _editor(at).id
    _edit(at, {0: {"完成比例(%)": 30}})  # recorded as a draft: the next run shows it marked
    at.run()
    assert _editor(at).id == before
    assert at.session_state[_editor(at).key]["edited_rows"] == {0: {"完成比例(%)": 30}}
    assert _lead(at)["任务"].iloc[0].startswith("✎ ")
    _edit(at, {0: {"完成比例(%)": 30}, 1: {"完成比例(%)": 40}})
    at.run()
    assert _editor(at).id == before
    assert _lead(at)["完成比例(%)"].iloc[:2].tolist() == [30, 40]


def test_the_same_account_in_two_tabs_is_named_and_keeps_what_it_typed(app_env):
    tab_a, tab_b = _open(), _open()
    _edit(tab_a, {0: {"进展情况": "甲标签页"}})
    _edit(tab_b, {0: {"进展情况": "乙标签页的长说明"}, 1: {"完成比例(%)": 15}})
    tab_a.button(key="update_save").click()
    tab_a.run()
    tab_b.button(key="update_save").click()
    tab_b.run()
    assert not tab_b.exception, tab_b.exception
    [warning] = [shown_text(w.value) for w in tab_b.warning]
    assert "他人" not in warning
    assert warning.splitlines() == [
        "以下 1 条任务在您打开本页后已被您本人（在另一个标签页或会话中）修改，您对它们的修改没有保存"
        "（其余修改已保存）。表中已是最新值；您填写的内容已保留，可点「重新应用我的修改」放回表中，"
        "核对后再保存：",
        "· 〔2026〕1号·1-1　甲任务：您本人（在另一个标签页或会话中） 已改为 进展情况 甲标签页；"
        "您的 进展情况 乙标签页的长说明 未保存",
    ]
    assert _lead(tab_b).loc["demo-m01-t1", "进展情况"] == "甲标签页"  # the stored value

    tab_b.button(key="update_reapply").click()
    tab_b.run()
    assert _lead(tab_b).loc["demo-m01-t1", "进展情况"] == "乙标签页的长说明"  # typed text back
    assert stored_row(app_env, "demo-m01-t1", "市科委").note == "甲标签页"  # not yet saved
    tab_b.button(key="update_save").click()
    tab_b.run()
    assert [shown_text(s.value) for s in tab_b.success] == ["已保存 1 条任务分工的修改。"]
    assert stored_row(app_env, "demo-m01-t1", "市科委").note == "乙标签页的长说明"


def test_the_single_task_form_names_the_field_not_a_row(app_env):
    at = _open()
    aid = int(stored_row(app_env, "demo-m02-t1", "市科委").assignment_id)
    at.selectbox(key="update_detail_task").select(aid)
    at.run()
    [percent] = [w for w in at.number_input if w.key.startswith("update_detail_percent_")]
    percent.set_value(150)
    at.button(key="update_detail_save").click()
    at.run()
    [error] = [shown_text(e.value) for e in at.error]
    assert error.startswith("未保存：\n「完成比例(%)」：")
    assert "（填写的值：150）" in error
    assert "行" not in error


def test_above_the_grid_a_pointer_leads_to_the_single_task_form(app_env):
    """On a phone the grid shows three columns: a line above it names the way to the rest
    and links to 逐项填报 below (issue 23, item 9)."""
    at = _open()
    [pointer] = [c.value for c in at.caption if "逐项填报" in c.value and "手机" in c.value]
    assert "[逐项填报](#detail)" in pointer
    assert [h.proto.anchor for h in at.subheader if h.value.startswith("逐项填报")] == ["detail"]
    assert at.tabs[2].label == "逐项填报"  # the section opens on it
    assert [s.key for s in at.tabs[2].selectbox] == ["update_detail_task"]
