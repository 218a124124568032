"""The pages people use every day, in a real headless Chromium: the 进度填报 flow
(reload, opening unit, switching unit, tabs, conflicts, the detail panel on a phone), what
the charts and tables show, Chinese everywhere, and the layout at phone width.

Every test works on its own unit of the seeds, so they share one server and database.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from bench.live import exceptions_on, open_signed_in, wait_until_idle
from tests.factories import signed_in, unit_state
from tests.update_grid import (
    DUE,
    GRID_WIDTHS,
    MEASURE,
    PERCENT,
    STATUS,
    TASK,
    edit_cell,
    grid_cell,
    open_update,
    tab_panel,
)
from tracker.progress import Update
from tracker.store import Store

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}


def _store(database: str) -> Store:
    return Store.open(database)


def _row(database: str, unit: str, role: str, position: int = 0):
    rows, _history = unit_state(database, unit)
    return rows[rows.role == role].iloc[position]


def _unit_box(page):
    return page.locator('[data-testid="stMain"]').get_by_role("combobox", name="责任单位")


def pick_unit(page, unit: str) -> None:
    box = _unit_box(page)
    box.click()
    box.fill(unit)
    page.get_by_role("option", name=unit, exact=True).click()
    wait_until_idle(page)


# --- 进度填报 ----------------------------------------------------------------------------


def test_update_opens_at_the_unit_in_the_link(page, server) -> None:
    open_update(page, server, "市人才局")
    assert _unit_box(page).input_value() == "市人才局"
    assert "牵头任务（2）" in page.get_by_role("tab").first.inner_text()


def test_update_reload_discards_the_users_own_edits(page, server, database) -> None:
    open_update(page, server, "市委宣传部")
    panel = tab_panel(page)
    before = grid_cell(panel, PERCENT).text_content()
    edit_cell(page, panel, PERCENT, 0, "77")
    page.get_by_role("button", name="重新加载").click()
    wait_until_idle(page)
    assert grid_cell(tab_panel(page), PERCENT).text_content() == before
    page.get_by_role("button", name="保存修改").click()
    page.wait_for_selector("text=没有需要保存的修改")
    store = _store(database)
    assert store.history(units=["市委宣传部"]).empty
    store.engine.dispose()


def test_update_asks_before_switching_unit_drops_edits(page, server) -> None:
    open_update(page, server, "市知识产权局")
    edit_cell(page, tab_panel(page), PERCENT, 0, "33")
    pick_unit(page, "市教委")
    page.wait_for_selector("text=切换到「市教委」会丢弃这些修改")
    page.get_by_role("button", name="留在本单位").click()
    wait_until_idle(page)
    assert grid_cell(tab_panel(page), PERCENT).text_content() == "33"  # still there
    assert _unit_box(page).input_value() == "市知识产权局"

    pick_unit(page, "市教委")
    page.get_by_role("button", name="放弃修改，切换到「市教委」").click()
    wait_until_idle(page)
    assert _unit_box(page).input_value() == "市教委"
    assert page.get_by_text("会丢弃这些修改").count() == 0


def test_update_stays_on_the_support_tab_after_saving(page, server, database) -> None:
    open_update(page, server, "市商务委")
    page.get_by_role("tab", name="配合任务（7）").click()
    wait_until_idle(page)
    edit_cell(page, tab_panel(page), PERCENT, 0, "15")
    page.get_by_role("button", name="保存修改").click()
    page.wait_for_selector("text=已保存 1 条", timeout=60_000)
    wait_until_idle(page)
    selected = page.locator('[role="tab"][aria-selected="true"]').first  # the grids' tabs
    assert selected.inner_text().startswith("配合任务")
    assert _row(database, "市商务委", "support").percent == 15


def test_update_conflict_saves_the_rest_and_lists_the_refused(page, server, database) -> None:
    open_update(page, server, "市经济信息化委")
    panel = tab_panel(page)
    edit_cell(page, panel, PERCENT, 0, "30")
    edit_cell(page, panel, PERCENT, 1, "40")
    first = _row(database, "市经济信息化委", "lead", 0)
    store = _store(database)
    store.apply(
        [Update(int(first.assignment_id), int(first.version), {"percent": 70})],
        user=signed_in(store, "冲突测试员"),
        source="web",
    )
    store.engine.dispose()
    page.get_by_role("button", name="保存修改").click()
    page.wait_for_selector("text=已保存 1 条", timeout=60_000)
    warning = page.locator('[data-testid="stAlertContentWarning"]').first.inner_text()
    assert "1 条任务在您打开本页后已被他人修改" in warning and "（其余修改已保存）" in warning
    assert "冲突测试员 已改为 完成比例(%) 70；您的 完成比例(%) 30 未保存" in warning
    assert _row(database, "市经济信息化委", "lead", 0).percent == 70
    assert _row(database, "市经济信息化委", "lead", 1).percent == 40
    assert grid_cell(tab_panel(page), PERCENT, 0).text_content() == "70"


def test_update_grid_shows_task_text_and_no_none(page, server) -> None:
    open_update(page, server, "上海金融监管局")
    panel = tab_panel(page)
    headers = panel.locator('[data-testid="stDataFrame"] [role="columnheader"]').all_inner_texts()
    assert [h.strip() for h in headers[:9]] == [
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
    assert grid_cell(panel, MEASURE).text_content().startswith("〔")
    assert len(grid_cell(panel, TASK).text_content()) > 10
    assert grid_cell(panel, DUE).text_content() == ""  # the seeds state no deadline
    # The grid paints on a canvas: an empty date must leave its cell blank (no grey "None"),
    # while the status cell beside it shows ink.
    assert not _has_ink(page, panel, x=sum(GRID_WIDTHS[:DUE]), width=GRID_WIDTHS[DUE])
    assert _has_ink(page, panel, x=sum(GRID_WIDTHS[:STATUS]), width=GRID_WIDTHS[STATUS])


def _has_ink(page, scope, x: int, width: int) -> bool:
    """Whether row 0 of the grid draws anything between ``x`` and ``x + width`` (pixels
    from the grid's left edge, as the page's column widths lay it out)."""
    box = scope.locator('[data-testid="stDataFrame"]').first.bounding_box()
    clip = {"x": box["x"] + x + 6, "y": box["y"] + 35 + 6, "width": width - 12, "height": 23}
    image = Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("L")
    low, high = image.getextrema()
    return high - low > 40


def test_update_support_units_table_shows_task_text(page, server) -> None:
    open_update(page, server, "市知识产权局")
    page.get_by_role("tab", name="牵头任务的配合单位进展").click()  # runs only when opened
    wait_until_idle(page)
    panel = page.get_by_role("tabpanel", name="牵头任务的配合单位进展")
    table = panel.locator('[data-testid="stDataFrame"]')
    assert table.locator("#glide-cell-0-0").text_content().startswith("〔")
    assert len(table.locator("#glide-cell-1-0").text_content()) > 10


def test_update_on_a_phone_through_the_detail_panel(chromium, server, database) -> None:
    page = chromium.new_page(viewport=PHONE)
    try:
        open_update(page, server, "市人才局")
        picker = page.locator('[data-testid="stMain"]').get_by_role("combobox", name="任务")
        picker.scroll_into_view_if_needed()
        picker.click()
        page.get_by_role("option").first.click()  # the first lead task
        wait_until_idle(page)
        form = page.locator('[data-testid="stForm"]')
        form.scroll_into_view_if_needed()
        assert form.bounding_box()["width"] <= PHONE["width"]
        form.get_by_label("进展情况").fill("手机上填写的进展")
        form.get_by_label("佐证材料").fill("会议纪要")
        form.get_by_role("button", name="保存本项").click()
        page.wait_for_selector("text=已保存 1 条", timeout=60_000)
        row = _row(database, "市人才局", "lead", 0)
        assert (row.note, row.evidence) == ("手机上填写的进展", "会议纪要")
        assert exceptions_on(page) == []
    finally:
        page.close()


# --- charts and tables ------------------------------------------------------------------


def _plot(page, key: str):
    """The drawn plotly div of the chart with Streamlit key ``key``."""
    return page.locator(f".st-key-{key} .js-plotly-plot").first


def _boxes(locator) -> list[dict]:
    return [b for b in (e.bounding_box() for e in locator.all()) if b and b["width"] > 0]


def _overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_by_unit_lead_and_support_bars_share_one_scale(page, server) -> None:
    open_signed_in(page, f"{server}/by_unit")
    plot = _plot(page, "unit_load")
    plot.wait_for()
    axis_range, axes = plot.evaluate(
        "p => [p._fullLayout.xaxis.range, p._fullData.map(t => t.xaxis)]"
    )
    assert set(axes) == {"x"}  # lead and support bars on one axis, one scale
    assert axis_range[1] >= 30  # 市科委 leads 30 tasks; its 16 support tasks use the same scale


def test_sunburst_paints_nothing_red_and_no_label_is_tiny(page, server) -> None:
    open_signed_in(page, f"{server}/by_policy")
    plot = _plot(page, "policy_sunburst")
    plot.wait_for()
    fills = plot.evaluate(
        "p => [...p.querySelectorAll('path.surface')].map(e => getComputedStyle(e).fill)"
    )
    assert fills
    for fill in fills:  # rgb(r, g, b): never the red of 红灯/滞后
        red, green, blue = (int(v) for v in fill[fill.index("(") + 1 : -1].split(",")[:3])
        assert not (red > 160 and red - max(green, blue) > 60), fill
    sizes = plot.evaluate(
        "p => [...p.querySelectorAll('text.slicetext')]"
        ".filter(t => t.textContent && getComputedStyle(t).display !== 'none')"
        ".map(t => parseFloat(t.style.fontSize || getComputedStyle(t).fontSize))"
    )
    assert sizes and min(sizes) >= 11


# Plotly's automargin widens a margin its labels, legend or colour bar do not fit in, and
# then draws the whole chart again: a third of a chart page's switch.
_DRAWN_MARGINS = """p => { const m = p._fullLayout.margin, s = p._fullLayout._size;
    return [[m.l, m.t, m.r, m.b], [s.l, s.t, s.r, s.b].map(Math.round)]; }"""
_CHARTS = {
    "": ["status_donut", "lights_by_unit"],
    "by_unit": ["unit_load"],
    "by_policy": ["policy_sunburst"],
    "coverage": ["coverage_heatmap"],
    "rankings": ["rankings_chart"],
}


def _heatmap_labels_inside(plot) -> None:
    """Every unit and measure label of 覆盖矩阵's heatmap lies whole inside the chart, none
    over the cells."""
    chart = plot.locator("svg.main-svg").first.bounding_box()
    cells = plot.locator("g.heatmaplayer").bounding_box()
    units, measures = _boxes(plot.locator("g.ytick text")), _boxes(plot.locator("g.xtick text"))
    assert len(units) >= 30 and len(measures) >= 20  # the seeds' units and measures
    for label in units + measures:
        assert label["x"] >= chart["x"] and label["y"] >= chart["y"], label
        assert not _overlap(label, cells), label
    assert max(u["x"] + u["width"] for u in units) <= cells["x"]
    assert max(m["y"] + m["height"] for m in measures) <= cells["y"]


def test_charts_are_drawn_once_on_a_desktop(page, server) -> None:
    """Each chart's margins are set wide enough for what it puts there (figures._reserve,
    figures.heatmap_margins), so on a desktop plotly keeps them as set and draws the chart
    once; and the heatmap's labels, worked out from their lengths, still fit."""
    for path, keys in _CHARTS.items():
        open_signed_in(page, f"{server}/{path}")  # the form once, then the session cookie
        for key in keys:
            plot = _plot(page, key)
            plot.wait_for()
            page.wait_for_function(
                "p => p._fullLayout && p._fullLayout._size", arg=plot.element_handle()
            )
            asked, drawn_with = plot.evaluate(_DRAWN_MARGINS)
            assert drawn_with == asked, key
            if key == "coverage_heatmap":
                _heatmap_labels_inside(plot)


def test_donut_labels_do_not_overlap_its_legend(page, server) -> None:
    open_signed_in(page, server)
    plot = _plot(page, "status_donut")
    plot.wait_for()
    legend = plot.locator("g.legend").bounding_box()
    labels = _boxes(plot.locator("text.slicetext"))
    assert labels and not any(_overlap(legend, label) for label in labels)


def test_task_list_shows_unit_status_and_note_on_screen(page, server) -> None:
    open_signed_in(page, f"{server}/tasks")
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    # the grid's accessibility table holds only the columns in view
    headers = [h.strip() for h in grid.locator('[role="columnheader"]').all_inner_texts()]
    assert {"责任单位", "状态", "任务内容", "进展情况"} <= set(headers), headers


# --- Chinese everywhere we control ------------------------------------------------------


def test_no_deploy_button_no_select_all_no_empty_grid(page, server) -> None:
    open_signed_in(page, f"{server}/tasks?unit=市人才局&status=on_hold")
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
    assert page.get_by_text("Deploy", exact=True).count() == 0
    nav = page.locator('[data-testid="stSidebarNav"]')
    assert nav.get_by_text(re.compile(r"^View (\d+ more|less)$")).count() == 0  # all listed
    assert nav.get_by_text("政策库", exact=True).count() == 1  # the last page, on screen
    assert page.get_by_text("没有符合条件的数据。").count() == 1
    assert page.locator('[data-testid="stDataFrame"]').count() == 0  # no grid saying "empty"
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="筛选").click()
    policy = page.get_by_role("combobox", name="政策")  # the popover's lists, drawn on opening
    policy.click()
    page.get_by_role("option").first.wait_for(timeout=10_000)
    options = page.get_by_role("option").all_inner_texts()
    assert options and not any("Select all" in o for o in options), options
    page.keyboard.press("Escape")


def test_a_filter_picked_in_the_popover_applies_and_is_stated(page, server) -> None:
    """The filters sit in a popover (its lists are built only when opened): a pick there
    filters the page, shows under the button and goes into the link."""
    open_signed_in(page, f"{server}/tasks")
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_text("当前筛选：全部").count() == 1
    assert page.get_by_role("combobox", name="责任单位").count() == 0  # not drawn yet
    sidebar.get_by_role("button", name="筛选").click()
    unit = page.get_by_role("combobox", name="责任单位")
    unit.click()
    unit.fill("市人才局")  # one option left in the list: nothing to shift under the click
    page.get_by_role("option", name="市人才局", exact=True).click()
    # Each step waited for on its own (a loaded CI machine once timed out with no clue which
    # step it was on): the pick shows as a tag, the run it starts writes the link, then the
    # sidebar states it.
    tag = page.locator('.react-aria-ComboBox [data-tag] [title="市人才局"]')
    tag.wait_for(timeout=30_000)
    page.wait_for_url(re.compile(r"[?&]unit="), timeout=60_000)
    wait_until_idle(page)
    page.keyboard.press("Escape")
    stated = sidebar.get_by_text("当前筛选：责任单位=市人才局")
    stated.wait_for(timeout=30_000)
    assert stated.count() == 1
    tasks = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').first
    units = {tasks.locator(f"#glide-cell-{c}-0").text_content() for c in range(8)}
    assert "市人才局" in units


def test_a_task_picked_in_the_obligations_table_shows_its_similar_tasks(page, server) -> None:
    open_signed_in(page, f"{server}/obligations")
    grid = page.get_by_role("heading", name="任务清单").locator(
        "xpath=following::*[@data-testid='stDataFrame'][1]"
    )
    cells = grid.locator("[id^=glide-cell-][id$='-0']")  # row 0, every column in view
    row = [cell.text_content() or "" for cell in cells.all()]
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # row 0's tick box
    wait_until_idle(page)
    picked = page.get_by_text(re.compile("^与「.+」相近的任务：$"))
    assert picked.count() == 1 and page.get_by_text("尚未选择任务。").count() == 0
    text = picked.inner_text().removeprefix("与「").split("」")[0]
    assert any(cell.startswith(text) for cell in row), row  # the row that was ticked


def test_navigation_icons_are_material_symbols_not_emoji(page, server) -> None:
    open_signed_in(page, server)
    links = page.locator('[data-testid="stSidebarNav"] a')
    assert links.count() >= 5
    for link in links.all():
        assert link.locator('[data-testid="stIconMaterial"]').count() == 1, link.inner_text()
        assert not any(ord(ch) > 0x1F000 for ch in link.inner_text())  # no emoji glyphs


def test_date_picker_speaks_chinese_in_a_chinese_browser(chromium, server) -> None:
    """Issue 24.5: Streamlit 1.67's calendar names months and weekdays in the browser's
    language (``navigator.language``, through ``Intl``); ``format`` orders only the typed
    field.  A zh-CN Chromium shows 年/月 and 一…日, never "March" or S M T W T F S."""
    context = chromium.new_context(locale="zh-CN", viewport=DESKTOP)
    page = context.new_page()
    try:
        open_signed_in(page, f"{server}/audit")
        field = page.locator('[data-testid="stDateInput"]').first
        field.wait_for()
        field.locator("button").last.click()
        calendar = page.locator('[data-testid="stDateInputCalendar"]')
        calendar.wait_for()
        heading = calendar.get_by_text(re.compile(r"^\d{4}年\d{1,2}月$")).first
        assert heading.is_visible()
        text = calendar.inner_text()
        assert "一\t二\t三\t四\t五\t六\t日" in text  # weekdays, Monday first
        assert "十一月" in text and "十二月" in text  # the month list
        months = "January|February|March|April|May|June|July|August|September|October|November"
        assert not re.search(rf"\b({months}|December)\b", text), text
        assert not re.search(r"\bS\s+M\s+T\s+W\s+T\s+F\s+S\b", text)
        assert not page.locator('[data-testid="stDateInputQuickSelect"]').is_visible()
        assert not page.get_by_text("Past Week").is_visible()
        assert exceptions_on(page) == []
    finally:
        context.close()


# --- phone width ------------------------------------------------------------------------


def test_headline_numbers_share_rows_on_a_phone(chromium, server) -> None:
    page = chromium.new_page(viewport=PHONE)
    try:
        open_signed_in(page, server)
        tops = [round(b["y"]) for b in _boxes(page.locator('[data-testid="stMetric"]'))]
        # 13 headline figures (12, and 未落实到具体单位的分工 since collective units)
        assert len(tops) == 13
        assert len(set(tops)) <= 7, "one headline number per row"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the page scrolls sideways"
        assert exceptions_on(page) == []
    finally:
        page.close()
