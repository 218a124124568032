"""The 完成时限 page under AppTest: it shows what is stored now, after the same user saved a
deadline on another page in the same session, with empty cells empty (never "None"); a
typed deadline that is no day, or lies outside its policy's dates, is refused by row."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import tasks_frame
from tests.factories import shown_text, signed_in_app, stored_row
from tracker.schema import LEAD, SUPERVISOR

TASKS = [
    ("demo-m01-t1", "甲任务", "市科委", "lead", 1),
    ("demo-m01-t1", "甲任务", "市财政局", "support", 2),
    ("demo-m02-t1", "乙任务", "市财政局", "lead", 1),
]


@pytest.fixture
def app_env(app_env_of) -> str:
    return app_env_of(tasks_frame(TASKS))


_TABS = {"deadlines_tasks_": "按任务设定", "deadlines_units_": "按单位调整"}


def _editor(at: AppTest, prefix: str):
    """The keyed editor, its tab opened first if it is closed (a closed tab is not run)."""
    if not [e for e in at.data_editor if e.key and e.key.startswith(prefix)]:
        at.session_state["deadlines_tab"] = _TABS[prefix]
        at.run()
        assert not at.exception, at.exception
    [editor] = [e for e in at.data_editor if e.key and e.key.startswith(prefix)]
    return editor


def _type_into(at: AppTest, prefix: str, edited_rows: dict) -> None:
    """What the browser sends when a cell of the keyed editor is typed into."""
    at.session_state[_editor(at, prefix).key] = {
        "edited_rows": edited_rows,
        "added_rows": [],
        "deleted_rows": [],
    }


def _shown_due(at: AppTest) -> dict[str, str]:
    """The per-unit editor's deadlines of the chosen task, as shown (empty for none)."""
    units = _editor(at, "deadlines_units_").value
    return {
        unit: "" if due is None else str(due)
        for unit, due in zip(units["责任单位"], units["完成时限"], strict=True)
    }


def test_a_deadline_saved_on_update_shows_on_the_deadline_page_in_the_same_session(app_env):
    at = signed_in_app("pages/deadlines.py", "督办甲", SUPERVISOR)
    assert _shown_due(at) == {"市科委": "", "市财政局": ""}
    for editor in at.data_editor:  # empty deadlines are drawn as empty cells
        assert editor.proto.HasField("placeholder") and editor.proto.placeholder == ""

    at.switch_page("pages/update.py")
    at.run()
    at.selectbox(key="update_unit").select("市科委")
    at.run()
    _type_into(at, f"update_editor_{LEAD}_", {0: {"完成时限": "2026-12-20"}})
    at.button(key="update_save").click()
    at.run()
    assert not at.exception, at.exception
    assert stored_row(app_env, "demo-m01-t1", "市科委").due_date.date().isoformat() == "2026-12-20"

    at.switch_page("pages/deadlines.py")
    at.run()
    assert not at.exception, at.exception
    assert _shown_due(at) == {"市科委": "2026-12-20", "市财政局": ""}
    assert not [i.value for i in at.info if "他人" in i.value or "新的保存" in i.value]
    tasks = _editor(at, "deadlines_tasks_").value
    assert str(tasks.set_index("任务编号").at["demo-m01-t1", "完成时限"]) == "2026-12-20"


@pytest.mark.parametrize(
    "typed, why",
    [
        ("2025-13-45", "完成时限 2025-13-45 不是有效日期"),
        ("2099-12-31", "完成时限 2099-12-31 晚于政策有效期截止日 2028-01-31"),
    ],
    ids=["month 13", "after the policy"],
)
def test_the_deadline_page_refuses_a_day_that_is_none_or_outside_the_policy(app_env, typed, why):
    at = signed_in_app("pages/deadlines.py", "督办甲", SUPERVISOR)
    _type_into(at, "deadlines_tasks_", {0: {"完成时限": typed}})
    at.button(key="deadlines_save_tasks").click()
    at.run()
    assert not at.exception, at.exception
    [error] = [shown_text(e.value) for e in at.error]
    assert why in error and "完成时限" in error
    assert stored_row(app_env, "demo-m01-t1", "市科委").version == 0


def test_a_deadline_saved_on_the_deadline_page_shows_on_update_in_the_same_session(app_env):
    at = signed_in_app("pages/update.py", "督办甲", SUPERVISOR)
    at.selectbox(key="update_unit").select("市科委")
    at.run()
    assert list(_editor(at, f"update_editor_{LEAD}_").value["完成时限"]) == [None]

    at.switch_page("pages/deadlines.py")
    at.run()
    _type_into(at, "deadlines_tasks_", {0: {"完成时限": "2026-12-20"}})
    at.button(key="deadlines_save_tasks").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error

    at.switch_page("pages/update.py")
    at.run()
    assert not at.exception, at.exception
    shown = _editor(at, f"update_editor_{LEAD}_").value["完成时限"]
    assert [str(d) for d in shown] == ["2026-12-20"]
    assert not [i.value for i in at.info if "他人" in i.value or "新的保存" in i.value]


def _editors(at: AppTest, prefix: str) -> list:
    return [e for e in at.data_editor if e.key and e.key.startswith(prefix)]


def test_only_the_open_tab_runs_and_an_unsaved_edit_waits_in_a_closed_one(app_env):
    at = signed_in_app("pages/deadlines.py", "督办甲", SUPERVISOR)
    assert [t.label for t in at.tabs] == ["按任务设定", "按单位调整"]
    assert _editors(at, "deadlines_units_") == [] and not at.selectbox  # closed: not run
    at.session_state["deadlines_tab"] = "按单位调整"
    at.run()
    assert _editors(at, "deadlines_tasks_") == []  # nothing to keep: not run
    assert len(_editors(at, "deadlines_units_")) == 1

    at.session_state["deadlines_tab"] = "按任务设定"
    at.run()
    _type_into(at, "deadlines_tasks_", {0: {"完成时限": "2026-12-20"}})
    at.session_state["deadlines_tab"] = "按单位调整"  # switched in the same run as the edit
    at.run()
    assert not at.exception, at.exception
    assert len(_editors(at, "deadlines_tasks_")) == 1  # runs on, closed, holding the edit
    at.session_state["deadlines_tab"] = "按任务设定"
    at.run()
    at.button(key="deadlines_save_tasks").click()
    at.run()
    assert not at.exception, at.exception
    assert stored_row(app_env, "demo-m01-t1", "市科委").due_date.date().isoformat() == "2026-12-20"
