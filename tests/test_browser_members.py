"""A district's own account in a real headless Chromium: 浦东新区's 填报员 signs in, finds
its 13 rows of the seeds (one per 各区政府 row) on 进度填报, saves one, and only its own row
changes; 黄浦区's rows of the same tasks stay as they were."""

from __future__ import annotations

import re

import pytest

from bench.live import BROWSER_PASSWORD, open_signed_in, wait_until_idle
from tests.factories import unit_state
from tests.update_grid import PERCENT, edit_cell, tab_panel
from tracker.schema import STAFF
from tracker.store import Store, make_engine

pytestmark = pytest.mark.browser
DISTRICT = "浦东新区"
DISTRICT_USER = "浦东新区填报员"


@pytest.fixture(scope="module")
def seed_browser_database():
    def seed(url: str) -> None:
        store = Store(make_engine(url))
        try:
            store.accounts.add(
                DISTRICT_USER, role=STAFF, units=[DISTRICT], password=BROWSER_PASSWORD
            )
        finally:
            store.engine.dispose()

    return seed


def test_a_district_account_reports_its_own_row_only(page, server, database) -> None:
    open_signed_in(page, f"{server}/update", username=DISTRICT_USER)
    page.wait_for_selector("h1:has-text('进度填报')")
    # 各区政府 supports all 13 of its tasks, so the district's rows are 配合任务 (13)
    page.get_by_role("tab", name=re.compile(r"配合任务（13）")).click()
    wait_until_idle(page)
    before, _ = unit_state(database, DISTRICT)
    others, _ = unit_state(database, "黄浦区")
    edit_cell(page, tab_panel(page), PERCENT, 0, "55")
    page.get_by_role("button", name="保存修改").click()
    page.wait_for_selector("text=已保存 1 条")
    wait_until_idle(page)
    rows, history = unit_state(database, DISTRICT)
    changed = rows[rows.version > 0]
    assert len(rows) == 13 and len(before) == 13
    assert changed.percent.tolist() == [55]
    assert set(history.changed_by) == {DISTRICT_USER}
    after, other_history = unit_state(database, "黄浦区")
    assert other_history.empty
    assert after.set_index("assignment_id").version.equals(
        others.set_index("assignment_id").version
    )
