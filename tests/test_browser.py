"""A real headless Chromium against ``streamlit run dashboard.py``: nothing shows before
signing in, no page may show an exception box, a link carrying filters reproduces the
filtered view, and a staff member signs in and saves an edit made in the grid."""

from __future__ import annotations

import csv
import re
import urllib.parse

import openpyxl
import pytest

from bench.live import (
    BROWSER_PASSWORD,
    BROWSER_USER,
    PAGE_PATHS,
    add_account,
    exceptions_on,
    open_signed_in,
    streamlit_server,
    wait_until_idle,
)
from tests.update_grid import PERCENT, edit_cell
from tracker.schema import MEASURES_CSV, STAFF
from tracker.store import Store

STAFF_USER = "市科委浏览器"

pytestmark = pytest.mark.browser
POLICY = "hufubanfa-2025-11"


@pytest.fixture(scope="module")
def seed_browser_database():
    """A staff member of 市科委 besides the supervisor."""
    return lambda url: add_account(url, STAFF_USER, STAFF, ["市科委"])


def metric_value(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(f"^{label}$"))
    )
    return metric.locator('[data-testid="stMetricValue"]').first.inner_text().strip()


@pytest.mark.parametrize("name", list(PAGE_PATHS))
def test_page_shows_no_exception(chromium, server, name: str) -> None:
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    try:
        open_signed_in(page, f"{server}/{PAGE_PATHS[name]}")
        assert page.locator("h1").count() >= 1, f"{name}: nothing rendered"
        assert exceptions_on(page) == [], name
    finally:
        page.close()


def test_link_with_filters_reproduces_the_view(chromium, server) -> None:
    with open(MEASURES_CSV, encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["policy_id"] == POLICY]
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    try:
        open_signed_in(page, f"{server}/?policy={POLICY}")
        assert metric_value(page, "任务") == str(len({r["task_id"] for r in rows}))
        # each 各区政府 row counts as its 16 districts (data/unit_members.csv)
        collective = sum(r["unit"] == "各区政府" for r in rows)
        assert metric_value(page, "分工条数") == str(len(rows) + 15 * collective)
        assert f"policy={POLICY}" in page.url
        # navigating keeps the filter in the address bar and in the numbers
        open_signed_in(page, f"{server}/tasks?policy={POLICY}&role=lead")
        leads = [r for r in rows if r["role"] == "lead"]
        assert metric_value(page, "分工条数") == str(len(leads))
        assert "role=lead" in page.url
        assert exceptions_on(page) == []
    finally:
        page.close()


def test_deep_link_is_kept_by_the_first_session_of_a_fresh_server(chromium, database) -> None:
    """Before any script run has called ``st.navigation``, Streamlit runs ``pages/update.py``
    itself for ``/update``: the first visitor of a new server must still land on 进度填报
    at the linked unit once signed in, not on 总览."""
    with streamlit_server(database) as fresh:
        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        try:
            open_signed_in(page, f"{fresh}/update?unit=市科委")
            assert page.locator('[data-testid="stMain"] h1').first.inner_text() == "进度填报"
            assert urllib.parse.unquote(page.url) == f"{fresh}/update?unit=市科委"
            assert exceptions_on(page) == []
        finally:
            page.close()


def test_report_download_is_built_on_click_and_is_a_workbook(chromium, server, tmp_path) -> None:
    """The report button carries a callable (built only when clicked): the browser must
    still receive a real workbook with the three report sheets."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    try:
        open_signed_in(page, f"{server}/{PAGE_PATHS['excel']}")
        with page.expect_download(timeout=60_000) as download:
            page.get_by_role("button", name="下载进度报表（xlsx）").click()
        target = tmp_path / "report.xlsx"
        download.value.save_as(target)
        workbook = openpyxl.load_workbook(target, read_only=True)
        assert workbook.sheetnames[:3] == ["汇总", "按政策", "明细"]
        assert exceptions_on(page) == []
    finally:
        page.close()


def test_nothing_shows_before_signing_in(chromium, server) -> None:
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{server}/{PAGE_PATHS['update']}")
        wait_until_idle(page)
        assert page.get_by_label("密码").count() == 1
        # the only grid and chart are the empty ones drawn out of sight to warm the browser
        assert page.locator('[data-testid="stDataFrame"]:visible').count() == 0
        assert page.locator('[data-testid="stPlotlyChart"]:visible').count() == 0
        assert page.locator('[data-testid="stMetric"]').count() == 0
        page.get_by_label("用户名").fill(STAFF_USER)
        page.get_by_label("密码").fill("wrong-password-1")
        page.get_by_role("button", name="登录").click()
        page.wait_for_selector("text=用户名或密码错误", timeout=60_000)
        assert page.locator('[data-testid="stDataFrame"]:visible').count() == 0
    finally:
        page.close()


# The page's clock when the sign-in form's password field is first in the page.
_FORM_CLOCK = """new MutationObserver((_, observer) => {
    if (document.querySelector('input[type=password]')) {
        window.__formAt = performance.now();
        observer.disconnect();
    }
}).observe(document, {childList: true, subtree: true});"""


def _warm_sign_in_page(context, server: str) -> tuple[float, float]:
    """Open the sign-in page in a new tab of ``context``: when (ms after it opened) the form
    entered the page and the chart code was asked for."""
    warm = context.new_page()
    try:
        warm.add_init_script(_FORM_CLOCK)
        warm.goto(f"{server}/")
        wait_until_idle(warm)
        warm.wait_for_load_state("networkidle")
        return warm.evaluate(
            "() => [window.__formAt, performance.getEntriesByType('resource')"
            ".find(e => e.name.includes('/PlotlyChart.')).startTime]"
        )
    finally:
        warm.close()


def test_chart_and_grid_code_loads_while_the_password_is_typed(chromium, server) -> None:
    """The sign-in page makes the browser fetch Streamlit's chart and grid code (plotly.js is
    4.7 MB), so 总览 after signing in does not wait for it; and only once the form is in
    the page, so that compiling the code (at once, from a warm cache) never holds the
    form's first paint back."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})  # empty cache
    page = context.new_page()
    fetched: list[str] = []
    page.on("requestfinished", lambda request: fetched.append(request.url.rsplit("/", 1)[-1]))
    try:
        page.goto(f"{server}/")
        wait_until_idle(page)
        page.wait_for_load_state("networkidle")
        chunks = ("PlotlyChart.", "DataFrame.")
        assert all(any(name.startswith(chunk) for name in fetched) for chunk in chunks)
        # From the same cache, now warm: the form is in the page before the chart code is
        # asked for.  Up to three tries: a browser whose main thread is held up for longer
        # than the server's PAINT_FIRST (both CI cores busy) handles the form and the chart
        # in one go, whatever the server does; sent together, they always are.
        timings = []
        for _try in range(3):
            form_at, chart_code_at = _warm_sign_in_page(context, server)
            timings.append((round(form_at), round(chart_code_at)))
            if form_at < chart_code_at:
                break
        assert timings[-1][0] < timings[-1][1], f"(form, chart code) at ms: {timings}"
        before = len(fetched)
        page.get_by_label("用户名").fill(BROWSER_USER)
        page.get_by_label("密码").fill(BROWSER_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_selector("text=已登录", timeout=60_000)
        wait_until_idle(page)
        assert page.locator('[data-testid="stPlotlyChart"] .main-svg').count() >= 1
        assert not [name for name in fetched[before:] if name.startswith(chunks)]
    finally:
        context.close()


def test_staff_signs_in_edits_in_the_grid_and_saves(chromium, server, database) -> None:
    """Type a percentage into the first lead task's cell, save, and find it stored under
    the signed-in account."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    try:
        open_signed_in(page, server, STAFF_USER)
        page.get_by_role("link", name="进度填报").click()
        wait_until_idle(page)
        edit_cell(page, page, PERCENT, 0, "40")  # of the first lead task
        page.get_by_role("button", name="保存修改").click()
        page.wait_for_selector("text=已保存 1 条", timeout=60_000)
        wait_until_idle(page)
        assert exceptions_on(page) == []
        store = Store.open(database)
        history = store.history(users=[STAFF_USER])
        store.engine.dispose()
        assert history[["unit", "field", "new_value"]].values.tolist() == [
            ["市科委", "percent", "40"]
        ]
    finally:
        page.close()
