"""In a real Chromium, on the seeds plus a policy whose units carry Markdown: a phone-width
chart keeps its toolbar off its legend (issue 23, item 9), and no page makes the browser
fetch anything from outside the server (item 14: a unit name drawn as a Markdown image
made the browser fetch it).  One server for the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from bench.live import (
    BROWSER_USER,
    PAGE_TITLES,
    add_account,
    exceptions_on,
    open_signed_in,
    streamlit_server,
    wait_until_idle,
)
from tests.conftest import measures_frame
from tracker.schema import MEASURES_CSV, SUPERVISOR

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
IMAGE_UNIT = "![u](http://tracker-test.invalid/u.png)"
KATEX_UNIT = "$$x^2$$"


@pytest.fixture(scope="module")
def hostile_csv(tmp_path_factory) -> Path:
    """The seeds and one more policy, led by a unit named as a Markdown image and supported
    by one named as KaTeX."""
    seeds = pd.read_csv(MEASURES_CSV, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    hostile = measures_frame(
        [
            {"measure_no": 1, "task_id": "demo-m01-t1", "unit": unit, "role": role, "unit_rank": n}
            for unit, role, n in ((IMAGE_UNIT, "lead", 1), (KATEX_UNIT, "support", 2))
        ]
    )
    path = tmp_path_factory.mktemp("hostile") / "measures.csv"
    pd.concat([seeds, hostile.astype(str)]).to_csv(path, index=False, encoding="utf-8-sig")
    return path


@pytest.fixture(scope="module")
def database(tmp_path_factory, hostile_csv: Path) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 't.db'}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TRACKER_MEASURES_CSV", str(hostile_csv))
        add_account(url, BROWSER_USER, SUPERVISOR)
    return url


@pytest.fixture(scope="module")
def server(database: str, hostile_csv: Path) -> Iterator[str]:
    with streamlit_server(database, env={"TRACKER_MEASURES_CSV": str(hostile_csv)}) as base:
        yield base


def _overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_on_a_phone_the_chart_toolbar_leaves_the_legend_free(chromium, server) -> None:
    """按责任单位 at 390 px: the legend got the narrow room right of the long unit names,
    wrapped into rows and grew up under the toolbar."""
    page = chromium.new_page(viewport=PHONE)
    try:
        open_signed_in(page, f"{server}/by_unit")
        plot = page.locator(".st-key-unit_load .js-plotly-plot").first
        plot.scroll_into_view_if_needed()
        plot.hover()  # the toolbar shows on touch or hover
        legend = plot.locator("g.legend").bounding_box()
        toolbar = plot.locator(".modebar").bounding_box()
        assert legend and toolbar, "the chart draws a legend and a toolbar"
        assert not _overlap(legend, toolbar), (legend, toolbar)
        assert exceptions_on(page) == []
    finally:
        page.close()


def test_no_page_fetches_from_outside_the_server(chromium, server) -> None:
    """Every request that leaves 127.0.0.1 is stopped and counted; the pages where unit
    names reach labels and messages are opened, the template tab's button among them."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    outside: list[str] = []

    def route(request_route) -> None:
        url = request_route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    try:
        open_signed_in(page, f"{server}/excel")
        page.get_by_role("tab", name="下载填报模板").click()
        page.get_by_role("button", name="填报模板").wait_for()
        nav = page.locator('[data-testid="stSidebarNav"]')
        for name in ("by_unit", "update", "tasks", "rankings", "reminders", "overview"):
            nav.get_by_role("link", name=PAGE_TITLES[name], exact=True).click()
            wait_until_idle(page)
        assert exceptions_on(page) == []
    finally:
        page.close()
    assert outside == [], outside


def test_a_reload_or_a_shared_link_keeps_the_sign_in_page_and_filters(chromium, server) -> None:
    """Issue 23, item 10: reloading or opening a link asked for the password every time.
    A signed, expiring cookie signs the new session in again; the link's page and filters
    survive signing in; 退出登录 ends it."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        open_signed_in(page, f"{server}/tasks?unit=市科委")  # the link, then the password
        assert "/tasks" in page.url and "unit=" in page.url
        page.wait_for_selector("h1:has-text('任务清单')")
        [cookie] = [c for c in context.cookies() if c["name"] == "tracker_session"]
        assert cookie["sameSite"] == "Strict"

        page.reload()
        wait_until_idle(page)
        assert page.get_by_label("密码").count() == 0, "asked to sign in again"
        page.wait_for_selector("h1:has-text('任务清单')")
        assert "unit=" in page.url

        shared = context.new_page()  # a link opened in another tab of the same browser
        shared.goto(f"{server}/by_unit?unit=市教委")
        wait_until_idle(shared)
        assert shared.get_by_label("密码").count() == 0
        shared.wait_for_selector("h1:has-text('按责任单位')")
        shared.get_by_role("button", name="退出登录").click()
        wait_until_idle(shared)
        assert not [c for c in context.cookies() if c["name"] == "tracker_session"]
        shared.reload()
        wait_until_idle(shared)
        assert shared.get_by_label("密码").count() == 1  # signed out stays signed out
        assert exceptions_on(page) == [] and exceptions_on(shared) == []
    finally:
        context.close()
