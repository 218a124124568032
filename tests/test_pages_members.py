"""Pages under AppTest with a collective and a placeholder: 政策库 names a placeholder's
units as a signed-in supervisor, 通报 shows 各区政府 as one group with its members."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import tasks_frame
from tests.factories import DASHBOARD, sign_in_app
from tracker.store import Store, make_engine


@pytest.fixture
def app_env(app_env_of) -> str:
    # data/unit_members.csv gives 各区政府 its 16 districts when the app starts
    return app_env_of(
        tasks_frame(
            [
                ("demo-m01-t1", "建设示范园区", "市科委", "lead", 1),
                ("demo-m01-t1", "建设示范园区", "各区政府", "support", 2),
                ("demo-m02-t1", "培育人才", "市教委", "lead", 1),
                ("demo-m02-t1", "培育人才", "各相关单位", "support", 2),
            ]
        )
    )


def _open(page: str) -> AppTest:
    at = sign_in_app(AppTest.from_file(DASHBOARD, default_timeout=60), "督办甲")
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_supervisor_names_a_placeholder_on_the_policy_page(app_env) -> None:
    at = _open("pages/policies.py")
    assert "待明确的责任单位" in [s.value for s in at.subheader]
    at.multiselect(key="policies_name_units_chosen").select("市财政局").select("市科委")
    at.button(key="FormSubmitter:policies_name_units-确认责任单位").click()
    at.run()
    assert not at.exception, at.exception
    assert "已明确责任单位：市财政局、市科委" in [s.value for s in at.success]
    assert "待明确的责任单位" not in [s.value for s in at.subheader]
    store = Store(make_engine(app_env))
    try:
        rows = store.assignments()
        placeholder = rows[rows.unit == "各相关单位"].assignment_id.iloc[0]
        named = rows[rows.collective_id == placeholder]
        assert sorted(named.unit) == ["市科委", "市财政局"]
        assert set(named.task_id) == {"demo-m02-t1"}
        assert store.history(assignment_ids=[placeholder]).changed_by.tolist() == ["督办甲"]
    finally:
        store.engine.dispose()


def test_rankings_show_the_districts_as_one_group(app_env) -> None:
    at = _open("pages/rankings.py")
    labels = [e.label for e in at.expander]
    assert [label for label in labels if label.startswith("各区政府")] == [
        "各区政府（16个成员单位）：到期 0，按期完成 0，逾期 0"
    ]
