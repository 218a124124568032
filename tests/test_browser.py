"""A real headless Chromium against ``streamlit run dashboard.py``: no page may show an
exception box, and a link carrying filters must reproduce the filtered view."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import openpyxl
import pytest
from browser_helpers import (
    CHROMIUM,
    PAGE_PATHS,
    exceptions_on,
    launch_chromium,
    streamlit_server,
    wait_until_idle,
)

from tracker.schema import MEASURES_CSV

pytestmark = pytest.mark.browser
POLICY = "hufubanfa-2025-11"


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 't.db'}"
    with streamlit_server(url) as base:
        yield base


def metric_value(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(f"^{label}$"))
    )
    return metric.locator('[data-testid="stMetricValue"]').first.inner_text().strip()


@pytest.mark.parametrize("name", list(PAGE_PATHS))
def test_page_shows_no_exception(chromium, server, name: str) -> None:
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{server}/{PAGE_PATHS[name]}")
        wait_until_idle(page)
        assert page.locator("h1").count() >= 1, f"{name}: nothing rendered"
        assert exceptions_on(page) == [], name
    finally:
        page.close()


def test_link_with_filters_reproduces_the_view(chromium, server) -> None:
    with open(MEASURES_CSV, encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["policy_id"] == POLICY]
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{server}/?policy={POLICY}")
        wait_until_idle(page)
        assert metric_value(page, "任务") == str(len({r["task_id"] for r in rows}))
        assert metric_value(page, "分工条数") == str(len(rows))
        assert f"policy={POLICY}" in page.url
        # navigating keeps the filter in the address bar and in the numbers
        page.goto(f"{server}/tasks?policy={POLICY}&role=lead")
        wait_until_idle(page)
        leads = [r for r in rows if r["role"] == "lead"]
        assert metric_value(page, "分工条数") == str(len(leads))
        assert "role=lead" in page.url
        assert exceptions_on(page) == []
    finally:
        page.close()


def test_report_download_is_built_on_click_and_is_a_workbook(chromium, server, tmp_path) -> None:
    """The report button carries a callable (built only when clicked): the browser must
    still receive a real workbook with the three report sheets."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    try:
        page.goto(f"{server}/{PAGE_PATHS['excel']}")
        wait_until_idle(page)
        with page.expect_download(timeout=60_000) as download:
            page.get_by_role("button", name="下载进度报表（xlsx）").click()
        target = tmp_path / "report.xlsx"
        download.value.save_as(target)
        workbook = openpyxl.load_workbook(target, read_only=True)
        assert workbook.sheetnames[:3] == ["汇总", "按政策", "明细"]
        assert exceptions_on(page) == []
    finally:
        page.close()
