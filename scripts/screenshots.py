"""Refresh docs/screenshots/<page>.png (1440 px wide) and docs/screenshots/phone/<page>.png
(390 px, a phone): one full-page PNG per dashboard page and width.

Runs the real app (``streamlit run``) on a throwaway SQLite database seeded from
data/measures.csv, with deterministic demo progress so the charts show every colour, and
photographs each page with headless Chromium.  Usage: ``python scripts/screenshots.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]  # run as a file: the project's packages are one folder up

from bench.live import (  # noqa: E402
    DEMO_PASSWORD,
    DEMO_USER,
    PAGE_PATHS,
    exceptions_on,
    launch_chromium,
    open_signed_in,
    seed_demo_progress,
    streamlit_server,
    wait_until_idle,
)

OUT = ROOT / "docs" / "screenshots"
WIDTHS = {OUT: 1440, OUT / "phone": 390}
# Pages photographed at a unit with something to show (the link also sets the sidebar filter).
QUERIES = {"update": "?unit=市科委"}


def _open_first_task(page) -> None:
    """进度填报 draws its detail form once a task is chosen: choose the first."""
    picker = page.locator('[data-testid="stMain"]').get_by_role("combobox", name="任务")
    picker.scroll_into_view_if_needed()
    picker.click()
    page.get_by_role("option").first.click()
    wait_until_idle(page)
    page.locator("h1").first.scroll_into_view_if_needed()  # photograph from the top


PREPARE = {"update": _open_first_task}


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


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'screens.db'}"
        seed_demo_progress(url)
        with streamlit_server(url) as base, sync_playwright() as p:
            browser = launch_chromium(p)
            failed = []
            for out, width in WIDTHS.items():
                out.mkdir(parents=True, exist_ok=True)
                page = browser.new_page(viewport={"width": width, "height": 1000})
                for name, path in PAGE_PATHS.items():
                    if not (ROOT / "pages" / f"{name}.py").is_file():
                        continue
                    page.set_viewport_size({"width": width, "height": 1000})  # measure afresh
                    link = f"{base}/{path}{QUERIES.get(name, '')}"
                    open_signed_in(page, link, DEMO_USER, DEMO_PASSWORD)
                    if name in PREPARE:
                        PREPARE[name](page)
                    if exceptions_on(page):
                        failed.append(f"{name} at {width} px")
                    _fit_height(page, width)
                    target = out / f"{name}.png"
                    page.screenshot(path=str(target), full_page=True)
                    print(f"wrote {target.relative_to(ROOT)}")
                page.close()
            browser.close()
    if failed:
        print(f"pages showing an exception: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
