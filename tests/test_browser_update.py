"""进度填报's unsaved edits in a real headless Chromium: the browser leaves the page through
the sidebar (Streamlit cannot stop it), comes back, and finds the edit still in the grid,
with a banner to save or discard it; saving it then writes it as the signed-in account.
"""

from __future__ import annotations

import pytest

from bench.live import BROWSER_USER, open_signed_in, wait_until_idle
from tests.factories import unit_state
from tests.update_grid import NOTE, PERCENT, edit_cell, grid_cell, tab_panel

pytestmark = pytest.mark.browser
UNIT = "市科委"


def _stored(database: str, position: int):
    rows, history = unit_state(database, UNIT)
    return rows[rows.role == "lead"].iloc[position], history


def _go(page, title: str) -> None:
    """Leave or reach a page the way people do: its link in the sidebar."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    wait_until_idle(page)


def test_edits_survive_leaving_the_page_and_are_saved_on_return(page, server, database):
    open_signed_in(page, f"{server}/update?unit={UNIT}")
    before, _ = _stored(database, 1)
    edit_cell(page, tab_panel(page), PERCENT, 1, "64")
    edit_cell(page, tab_panel(page), NOTE, 1, "离开前写的进展")

    _go(page, "总览")
    page.wait_for_selector("h1:has-text('总览')")
    _go(page, "进度填报")
    page.wait_for_selector("h1:has-text('进度填报')")

    panel = tab_panel(page)
    assert grid_cell(panel, PERCENT, 1).text_content() == "64"
    assert grid_cell(panel, NOTE, 1).text_content() == "离开前写的进展"
    banner = page.locator('[data-testid="stAlertContentInfo"]', has_text="未保存的修改")
    assert banner.inner_text().startswith("有 2 处未保存的修改（牵头任务 2 处）")
    _, history = _stored(database, 1)
    assert history.empty  # kept in the session, not written

    page.get_by_role("button", name="保存这些修改").click()
    page.wait_for_selector("text=已保存 1 条")
    wait_until_idle(page)
    row, history = _stored(database, 1)
    assert (row.percent, row.note, row.version) == (64, "离开前写的进展", before.version + 1)
    assert set(history.changed_by) == {BROWSER_USER}
    assert page.get_by_text("未保存的修改，是您上次离开本页时留下的").count() == 0
