"""Refresh docs/screenshots/<page>.png (1440 px wide) and docs/screenshots/phone/<page>.png
(390 px, a phone): one full-page PNG per page of the navigation (dashboard.py's PAGES) and
width.

Runs the real app (``streamlit run``) on a throwaway SQLite database seeded from
data/measures.csv, with deterministic demo progress so the charts show every colour and a
demo unit's reports, review and reminders (bench.live), and photographs each page with headless Chromium.  Exits non-zero when a page shows an
exception or is not the page asked for.

Usage: ``python scripts/screenshots.py [PAGE ...]`` (script names such as ``overview``;
all pages when none is given).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]  # run as a file: the project's packages are one folder up

from bench.live import (  # noqa: E402
    DEMO_PASSWORD,
    DEMO_UNIT,
    DEMO_USER,
    PAGE_PATHS,
    PAGE_TITLES,
    add_account,
    exceptions_on,
    launch_chromium,
    open_signed_in,
    seed_demo_progress,
    seed_demo_workflow,
    streamlit_server,
    wait_until_idle,
)

OUT = ROOT / "docs" / "screenshots"
WIDTHS = {OUT: 1440, OUT / "phone": 390}
# Pages photographed at a unit with something to show (the link also sets the sidebar filter).
QUERIES = {"update": f"?unit={DEMO_UNIT}"}
# Pages only an admin sees, photographed signed in as one.
DEMO_ADMIN = "演示管理员"
AS_ADMIN = {"accounts"}


def _open_first_task(page) -> None:
    """进度填报 draws its detail form once a task is chosen: choose the first."""
    picker = page.locator('[data-testid="stMain"]').get_by_role("combobox", name="任务")
    picker.scroll_into_view_if_needed()
    picker.click()
    page.get_by_role("option").first.click()
    wait_until_idle(page)
    page.locator("h1").first.scroll_into_view_if_needed()  # photograph from the top


def _pick_unit(page) -> None:
    """报送 opens at its first unit: choose the demo unit, which has reports in flight."""
    box = page.locator('[data-testid="stMain"]').get_by_role("combobox", name="责任单位")
    box.click()
    box.fill(DEMO_UNIT)
    page.get_by_role("option", name=DEMO_UNIT, exact=True).click()
    wait_until_idle(page)
    page.evaluate("document.activeElement.blur()")  # no focus ring on the box


PREPARE = {"update": _open_first_task, "reporting": _pick_unit}


def _fit_height(page, width: int = 1440) -> None:
    """Streamlit scrolls inside its main container, so grow the viewport to the content."""
    height = page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid="stMainBlockContainer"]');
            const side = document.querySelector('[data-testid="stSidebarContent"]');
            // a phone's sidebar is folded away to the left: its height does not count
            const bottom = (e) =>
                e && e.getBoundingClientRect().right > 0
                    ? e.getBoundingClientRect().top + e.scrollHeight
                    : 0;
            return Math.max(bottom(main), bottom(side), 800);
        }"""
    )
    page.set_viewport_size({"width": width, "height": min(int(height) + 20, 6000)})
    wait_until_idle(page)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "pages",
        nargs="*",
        metavar="PAGE",
        help=f"pages to photograph (default all): {', '.join(PAGE_PATHS)}",
    )
    names = parser.parse_args(argv).pages or list(PAGE_PATHS)
    if unknown := [name for name in names if name not in PAGE_PATHS]:
        parser.error(f"no such page: {', '.join(unknown)}")

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'screens.db'}"
        seed_demo_progress(url)
        seed_demo_workflow(url)
        add_account(url, DEMO_ADMIN, "admin", password=DEMO_PASSWORD)
        with streamlit_server(url) as base, sync_playwright() as p:
            browser = launch_chromium(p)
            failed = []
            for out, width in WIDTHS.items():
                out.mkdir(parents=True, exist_ok=True)
                page = browser.new_page(viewport={"width": width, "height": 1000})
                for name in names:
                    page.set_viewport_size({"width": width, "height": 1000})  # measure afresh
                    link = f"{base}/{PAGE_PATHS[name]}{QUERIES.get(name, '')}"
                    user = DEMO_ADMIN if name in AS_ADMIN else DEMO_USER
                    open_signed_in(page, link, user, DEMO_PASSWORD)
                    if name in PREPARE:
                        PREPARE[name](page)
                    title = page.locator('[data-testid="stMain"] h1').first.inner_text()
                    if title != PAGE_TITLES[name]:
                        failed.append(f"{name} at {width} px shows {title!r}")
                    if exceptions_on(page):
                        failed.append(f"{name} at {width} px shows an exception")
                    # away from where 登录 was clicked: no hover highlight, no chart toolbar
                    page.mouse.move(width - 1, 0)
                    _fit_height(page, width)  # waits long enough for plotly's toolbar to fade
                    target = out / f"{name}.png"
                    page.screenshot(path=str(target), full_page=True)
                    print(f"wrote {target.relative_to(ROOT)}")
                page.close()
            browser.close()
    if failed:
        print("pages not photographed as they should be:", *failed, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
