"""How fast the pages feel in a real browser: ``python -m bench.browser [--assignments N]``.

Starts ``streamlit run dashboard.py`` on a throwaway SQLite database (the seeds from
``data/measures.csv`` with demo progress, or ``--assignments`` synthetic rows) and, beside it,
``bench/floor_app.py``: a 20-line page reading the same rows and drawing one plotly chart,
the floor any Streamlit page pays.  Headless Chromium then measures, from the click or the
navigation until the page is fully drawn (script finished, every chart and grid painted):

* the first render of a new session: open the link, the sign-in form (and the form with
  nothing left to fetch: it loads the chart and grid code while the visitor types), sign
  in, 总览 drawn;
* a page switch in the navigation: to every page an admin sees, in the sidebar's order,
  and back to 总览 (the script run on the server and the browser drawing what it sent),
  timed on the page's own clock from the click event, in a new tab each repeat, twice
  round (each page's first visit in the tab, then again);
* the floor page, opened in a new session, and the floor app's page switches (between its
  two pages, each one number and one chart) beside ours;
* what each phase fetched over HTTP (Streamlit's JavaScript chunks: most of the time a
  first render takes is the browser compiling them, not our data, which is a few kB).

Each is repeated and the median and best printed, with an empty browser cache (a new browser
profile) and with the cache warm (a new tab), the two in turn within each repeat.  Not a test: numbers depend on
the machine, so they go in the README, not in assertions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.live import (
    PAGE_TITLES,
    launch_chromium,
    open_signed_in,
    seed_demo_progress,
    streamlit_server,
)
from tracker.schema import ADMIN

# Fully drawn: the script run is over, the page's title is up, no skeleton is left, every
# visible plotly chart has its SVG and every visible grid its canvas.
_DRAWN = """(title) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    const h1 = document.querySelector('[data-testid="stMain"] h1');
    if (!h1 || !h1.textContent.includes(title)) return false;
    if (document.querySelector('[data-testid="stSkeleton"]')) return false;
    const shown = (e) => e.checkVisibility();  // a closed tab's grid draws when opened
    for (const c of document.querySelectorAll('[data-testid="stPlotlyChart"]'))
        if (shown(c) && !c.querySelector('.main-svg')) return false;
    for (const d of document.querySelectorAll('[data-testid="stDataFrame"]'))
        if (shown(d) && !d.querySelector('canvas')) return false;
    window.__drawnAt = performance.now();
    return true;
}"""
USER, PASSWORD = "基准督办员", "bench-browser-pass-1"
# Every page of dashboard.PAGES (an admin sees them all) in the sidebar's order, then
# 总览 (the first, default page) again.
_TITLES = list(PAGE_TITLES.values())
SWITCHES = [*_TITLES[1:], _TITLES[0]]


def drawn(page, title: str, timeout_ms: int = 120_000) -> None:
    page.wait_for_function(_DRAWN, arg=title, polling="raf", timeout=timeout_ms)


def seconds(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def prepare(url: str, assignments: int, tmp: Path) -> dict[str, str]:
    """Create the database (seeds + demo progress, or a synthetic table) and the account;
    return the environment the servers need."""
    from loaders.store_sync import open_store

    env: dict[str, str] = {}
    if assignments:
        from bench.__main__ import seed_progress
        from bench.generate import synthetic_measures
        from loaders.measures_csv import to_csv_bytes

        measures = synthetic_measures(assignments)
        csv_path = tmp / "measures.csv"
        csv_path.write_bytes(to_csv_bytes(measures))
        env["TRACKER_MEASURES_CSV"] = str(csv_path)
        store = open_store(url, csv_path)
        seed_progress(store)
    else:
        seed_demo_progress(url)
        store = open_store(url)
    store.accounts.add(USER, role=ADMIN, password=PASSWORD)  # every page, 账号管理 too
    store.engine.dispose()
    return env


class Fetched:
    """Bytes and files the page fetched over HTTP (the Streamlit client's JS chunks, CSS,
    fonts); what the scripts send over the websocket is not counted here."""

    def __init__(self, page) -> None:
        self.files: list[tuple[str, int]] = []
        page.on("requestfinished", self._add)

    def _add(self, request) -> None:
        self.files.append((request.url.rsplit("/", 1)[-1], request.sizes()["responseBodySize"]))

    def since(self, start: int) -> str:
        files = self.files[start:]
        return f"{len(files)} files, {sum(size for _, size in files) / 1e6:.1f} MB"


def _new_tab(browser, fresh_profile: bool, viewport: dict):
    """A tab with an empty cache (its own new profile, returned to be closed) or one in the
    shared profile with the cache warm: a warm cache, not a signed-in browser, so the
    session cookie an earlier sign-in left there is cleared (it would skip the form)."""
    if fresh_profile:
        context = browser.new_context(viewport=viewport)
        return context.new_page(), context
    browser.contexts[0].clear_cookies()
    return browser.contexts[0].new_page(), None


def new_session(
    browser, base: str, fresh_profile: bool, viewport: dict, network: list[str] | None = None
) -> tuple[float, float, float]:
    """Open the app in a new session; seconds to the sign-in form, to the form with nothing
    left to fetch (the sign-in page loads chart and grid code while the visitor types), then
    from clicking 登录 to 总览 drawn.  ``network`` receives what was fetched in each phase."""
    page, context = _new_tab(browser, fresh_profile, viewport)
    fetched = Fetched(page)
    try:

        def open_form() -> None:
            page.goto(base)
            page.get_by_label("密码").wait_for(timeout=120_000)

        def settle() -> None:  # a person takes longer than this to type a password
            page.wait_for_load_state("networkidle", timeout=120_000)

        def sign_in() -> None:
            page.get_by_role("button", name="登录").click()
            drawn(page, "总览")

        form = seconds(open_form)
        idle = form + seconds(settle)
        page.get_by_label("用户名").fill(USER)
        page.get_by_label("密码").fill(PASSWORD)
        before = len(fetched.files)
        signed_in = seconds(sign_in)
        if network is not None:
            network += [fetched.since(0), fetched.since(before)]
        return form, idle, signed_in
    finally:
        page.close()
        if context:
            context.close()


# The page's own clock at the click: what a visitor waits for starts here, not when
# Playwright starts checking that the link is visible, stable and not covered.
_CLICK_CLOCK = (
    "document.addEventListener('click', () => { window.__clickAt = performance.now(); }, true)"
)


def switches(
    browser, base: str, titles: list[str] = SWITCHES, first: str = "总览", passes: int = 2
) -> dict[str, list[tuple[float, float]]]:
    """Per navigation click in a new tab, from ``first`` to each of ``titles`` in turn and
    ``passes`` times round: seconds from the click event to the page drawn, read off the
    page's clock (``_DRAWN`` notes when it first holds), and seconds of the whole
    Playwright call (its checks before clicking and the polling after), one pair per pass.
    The dashboard's tab signs in first."""
    page = browser.contexts[0].new_page()
    try:
        if first == "总览":
            open_signed_in(page, base, USER, PASSWORD)
        else:
            page.goto(base)
        drawn(page, first)
        page.evaluate(_CLICK_CLOCK)
        times: dict[str, list[tuple[float, float]]] = {title: [] for title in titles}
        for title in titles * passes:
            link = page.locator('[data-testid="stSidebarNav"]').get_by_role(
                "link", name=title, exact=True
            )
            wall = seconds(lambda link=link, title=title: (link.click(), drawn(page, title)))
            in_page = page.evaluate("window.__drawnAt - window.__clickAt") / 1000
            times[title].append((in_page, wall))
        return times
    finally:
        page.close()


# The floor app's two pages: the same number and chart under two titles.  The
# dashboard's tour starts on 总览, which has drawn a chart and a grid before the first
# switch, as the floor's 基准页 has drawn its chart.
FLOOR_SWITCHES = ["基准副页", "基准页"]


def floor(
    browser, base: str, fresh_profile: bool, viewport: dict, network: list[str] | None = None
) -> float:
    page, context = _new_tab(browser, fresh_profile, viewport)
    fetched = Fetched(page)
    try:
        took = seconds(lambda: (page.goto(base), drawn(page, "基准页")))
        if network is not None:
            network.append(fetched.since(0))
        return took
    finally:
        page.close()
        if context:
            context.close()


def summary(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:,.0f} ms (best {min(values) * 1000:,.0f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.browser", description=__doc__)
    parser.add_argument(
        "--assignments", type=int, default=0, help="synthetic rows instead of the seeds"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument(
        "--switches-only",
        action="store_true",
        help="only the page switches: no new sessions, no floor page",
    )
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    viewport = {"width": args.width, "height": 1000}
    rows: list[tuple[str, str]] = []

    def report(what: str, values: list[float], ratio: bool = False) -> None:
        shown = f"{statistics.median(values):.2f}×" if ratio else summary(values)
        rows.append((what, shown))
        print(f"{what}: {shown}", file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        env = prepare(url, args.assignments, Path(tmp))
        with (
            streamlit_server(url, env=env, timeout=300) as app,
            streamlit_server(url, env=env, timeout=300, script="bench/floor_app.py") as floor_url,
            sync_playwright() as p,
        ):
            browser = launch_chromium(p)
            browser.new_context(viewport=viewport)  # the shared profile for "warm cache" runs
            if not args.switches_only:
                network: list[str] = []
                cold_form, cold_idle, cold_sign_in = new_session(
                    browser, app, True, viewport, network
                )
                rows.append(
                    ("server just started: open → sign-in form", f"{cold_form * 1000:,.0f} ms")
                )
                rows.append(
                    ("server just started: sign in → 总览 drawn", f"{cold_sign_in * 1000:,.0f} ms")
                )
                rows.append(("fetched over HTTP: open → sign-in form idle", network[0]))
                rows.append(("fetched over HTTP: sign in → 总览 drawn", network[1]))
                floor_fetched: list[str] = []
                floor(browser, floor_url, True, viewport, floor_fetched)  # warms its server cache
                rows.append(("fetched over HTTP: floor page", floor_fetched[0]))
                # Empty and warm cache in turn, each repeat, and the floor page beside each: a
                # later spell of a shared machine (or a server that has served more sessions)
                # then falls on both, not on whichever was measured second.
                runs_of: dict[bool, list[tuple[float, float, float]]] = {True: [], False: []}
                floors_of: dict[bool, list[float]] = {True: [], False: []}
                for _ in range(args.repeat):
                    for fresh in (True, False):
                        runs_of[fresh].append(new_session(browser, app, fresh, viewport))
                        floors_of[fresh].append(floor(browser, floor_url, fresh, viewport))
                for fresh, label in ((True, "empty browser cache"), (False, "warm browser cache")):
                    runs = runs_of[fresh]
                    report(f"new session, {label}: open → sign-in form", [r[0] for r in runs])
                    report(
                        f"new session, {label}: open → sign-in form, nothing left to fetch",
                        [r[1] for r in runs],
                    )
                    report(f"new session, {label}: sign in → 总览 drawn", [r[2] for r in runs])
                    report(
                        f"new session, {label}: form + sign in → 总览", [r[0] + r[2] for r in runs]
                    )
                    report(f"floor page, new session, {label}", floors_of[fresh])
                    report(
                        f"new session, {label}: form + sign in → 总览 / floor page",
                        [(r[0] + r[2]) / f for r, f in zip(runs, floors_of[fresh], strict=True)],
                        ratio=True,
                    )
            # The first tour computes each page's views (nothing cached yet); the repeats
            # are what a visitor meets once the data is cached, as a rerun target assumes.
            for title, passes in switches(browser, app, passes=1).items():
                value = passes[0][0]
                rows.append((f"page switch → {title}, first visit", f"{value * 1000:,.0f} ms"))
            switches(browser, floor_url, FLOOR_SWITCHES, "基准页")  # its cache, as above
            # A new tab each repeat, for the dashboard and the floor in the same spell; each
            # goes round twice: a page's first visit in a tab, and a visit to it again.
            visits = ("first visit in the tab", "again in the same tab")
            per: dict[tuple[str, int], list[tuple[float, float]]] = {}
            for _ in range(args.repeat):
                tours = [
                    switches(browser, app),
                    switches(browser, floor_url, FLOOR_SWITCHES, "基准页"),
                ]
                for tour in tours:
                    for title, passes in tour.items():
                        for n, value in enumerate(passes):
                            per.setdefault((title, n), []).append(value)
            for n, visit in enumerate(visits):
                floor_switch = statistics.median(
                    in_page for t in FLOOR_SWITCHES for in_page, _ in per[(t, n)]
                )
                for title in FLOOR_SWITCHES:
                    report(f"floor page switch → {title}, {visit}", [v for v, _ in per[(title, n)]])
                for title in SWITCHES:
                    values = [in_page for in_page, _ in per[(title, n)]]
                    report(f"page switch → {title}, {visit}", values)
                    rows.append(
                        (
                            f"page switch → {title}, {visit} / floor page switch",
                            f"{statistics.median(values) / floor_switch:.2f}×",
                        )
                    )
            for title in SWITCHES:
                report(
                    f"page switch → {title}, first visit in the tab, Playwright's whole call",
                    [wall for _, wall in per[(title, 0)]],
                )
            browser.close()

    scale = f"{args.assignments:,} synthetic assignments" if args.assignments else "the seeds"
    print(f"\n{scale}, viewport {args.width} px, median of {args.repeat}\n")
    print("| measurement | measured |\n| --- | ---: |")
    for what, measured in rows:
        print(f"| {what} | {measured} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
