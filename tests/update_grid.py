"""进度填报's grid as a browser test drives it: the columns as the browser numbers them, the
open tab's panel, a cell, and typing into a cell the way a person does.  Shared by the
browser test modules (``from tests.update_grid import ...``)."""

from __future__ import annotations

from bench.live import open_signed_in, wait_until_idle

# 进度填报 grid columns as the browser numbers them (hidden columns are not counted)
MEASURE, TASK, STATUS, PERCENT, DUE, NOTE = range(6)
GRID_WIDTHS = [104, 164, 72, 100, 96]  # pixels, as pages/update.py sets them


def open_update(page, server: str, unit: str) -> None:
    """Sign in on 进度填报 at ``unit`` (a new session) and wait for the page."""
    open_signed_in(page, f"{server}/update?unit={unit}")
    page.wait_for_selector("h1:has-text('进度填报')")


def tab_panel(page):
    """The open tab's panel on the update page."""
    return page.locator('[role="tabpanel"]:visible').first


def grid_cell(scope, column: int, row: int = 0):
    """The accessibility cell of the first grid in ``scope`` (the grid paints on a canvas;
    this hidden table holds the text of the cells in view)."""
    return scope.locator('[data-testid="stDataFrame"]').first.locator(f"#glide-cell-{column}-{row}")


def edit_cell(page, scope, column: int, row: int, text: str, attempts: int = 3) -> None:
    """Type ``text`` into a cell of the first grid in ``scope`` as a user does (click the
    row, arrow to the column, Enter, type, Enter) and wait until the grid's accessibility
    cell shows it."""
    grid = scope.locator('[data-testid="stDataFrame"]').first
    cell = grid_cell(scope, column, row)
    for _ in range(attempts):
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 30, box["y"] + 52 + 35 * row)
        page.keyboard.press("Home")
        for _ in range(column):
            page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")
        page.wait_for_timeout(400)
        page.keyboard.press("Control+A")
        page.keyboard.type(text, delay=60)  # typed at once, the overlay sometimes drops it
        page.wait_for_timeout(200)
        page.keyboard.press("Enter")
        for _poll in range(10):  # up to 5 s: a loaded machine shows the value late
            page.wait_for_timeout(500)
            if cell.text_content() == text:
                wait_until_idle(page)
                return
    raise AssertionError(f"the grid did not take {text!r}: cell shows {cell.text_content()!r}")
