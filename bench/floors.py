"""The floors ``python -m bench`` divides its figures by, each measured in the same run on the
same rows, so a ratio says how much the code costs beyond the least the job needs on this
machine, whatever the machine:

* reading the rows: a bare ``pandas.read_sql`` of the tables behind ``Store.assignments()``
  in a fresh process (nothing cached, the connection opened), for first loads; for a page
  that also reads the change history (通报 ranks two periods from it), of those tables and
  ``progress_history`` (:data:`HISTORY_PAGES`);
* the least a Streamlit page can do with those rows (``bench/floor_app.py``: one metric, one
  chart), rerun with its data cached, for cached reruns;
* decoding the policy files and splitting them into lines, for parsing;
* the resident memory of a ``streamlit run`` of that floor page after drawing it, for the
  dashboard server's memory after every page.

The writers' and the reader's floors live beside their benchmarks (``bench.excel_export``,
``bench.excel_import``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tracker.models import Assignment, Measure, Policy, Progress, ProgressHistory, Task, Unit

ROOT = Path(__file__).resolve().parent.parent
# The tables ``Store.assignments()`` reads, each read whole by the floor.
READ_TABLES = [model.__tablename__ for model in (Policy, Measure, Unit, Task, Assignment, Progress)]
# Pages whose first load reads the whole change history besides those tables, and so whose
# floor reads it too (审计 reads one screen of it, 进度填报 one task's).
HISTORY_PAGES = {"rankings"}
HISTORY_TABLE = ProgressHistory.__tablename__
_READ = """
import sys, time
start = time.perf_counter()
import pandas as pd
from sqlalchemy import create_engine
imported = time.perf_counter()
with create_engine(sys.argv[1]).connect() as conn:
    rows = [len(pd.read_sql(f"SELECT * FROM {table}", conn)) for table in sys.argv[2:]]
print(time.perf_counter() - imported, imported - start, *rows)
"""


def read_floor(
    db_url: str, runs: int = 3, tables: list[str] = READ_TABLES
) -> tuple[float, list[int]]:
    """Median seconds, over ``runs`` fresh processes, of a bare ``pandas.read_sql`` of every
    row of the tables behind ``Store.assignments()`` (from opening the engine to the last
    frame; importing pandas is not counted, as a page's first load in a running server does
    not import it either), and the rows each table held."""
    times, rows = [], []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _READ, db_url, *tables],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        seconds, _imports, *rows = done.stdout.split()
        times.append(float(seconds))
    return statistics.median(times), [int(r) for r in rows]


def parse_floor(sources: list[tuple[str, bytes]], repeat: int = 3) -> float:
    """Best seconds to decode every policy file and split it into lines: the least a line
    parser does with them."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _name, data in sources:
            data.decode("utf-8", errors="replace").splitlines()
        best = min(best, time.perf_counter() - start)
    return best


def floor_page_rerun(db_url: str, reruns: int = 5) -> float:
    """Median seconds of a cached rerun of ``bench/floor_app.py`` under AppTest."""
    from streamlit.testing.v1 import AppTest

    os.environ["DATABASE_URL"] = db_url
    app = AppTest.from_file(str(ROOT / "bench" / "floor_app.py"), default_timeout=120)
    app.run()
    times = []
    for _ in range(reruns):
        start = time.perf_counter()
        app.run()
        times.append(time.perf_counter() - start)
    if app.exception:
        raise RuntimeError(f"the floor page raised: {app.exception[0].value}")
    return statistics.median(times)


def server_memory(
    db_url: str, user: str, password: str, save: Callable[[int], None], rounds: int = 3
) -> tuple[float, float, float]:
    """Peak resident MB of ``streamlit run dashboard.py`` after a signed-in Chromium visited
    every page in the navigation; its peak again after ``rounds`` more rounds of one save
    (``save(round)``, as another server would) followed by every page, which is where views
    of past revisions pile up if nothing lets them go; and the peak of
    ``streamlit run bench/floor_app.py`` after drawing its page, all serving ``db_url``."""
    from playwright.sync_api import sync_playwright

    from bench.browser import SWITCHES, drawn
    from bench.live import launch_chromium, open_signed_in, peak_rss_mb, streamlit_process

    floor_script = "bench/floor_app.py"
    with (
        streamlit_process(db_url, timeout=300) as (app_url, app),
        streamlit_process(db_url, timeout=300, script=floor_script) as (floor_url, floor),
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            open_signed_in(page, app_url, user, password)
            drawn(page, "总览")

            def every_page() -> None:
                for title in SWITCHES:
                    nav = page.locator('[data-testid="stSidebarNav"]')
                    nav.get_by_role("link", name=title).click()
                    drawn(page, title)

            every_page()
            tour = peak_rss_mb(app.pid)
            for round_no in range(1, rounds + 1):
                save(round_no)
                every_page()
            page.goto(floor_url)
            drawn(page, "基准页")
        finally:
            browser.close()
        return tour, peak_rss_mb(app.pid), peak_rss_mb(floor.pid)


@dataclass
class Figure:
    """One measurement, the floor it is divided by (measured in the same run), and the
    target ratio where issue 25 sets one.

    >>> Figure("page x: first load", 0.3, "read_sql", 0.2, target=1.5).cells()
    ('page x: first load', '300 ms', 'read_sql', '200 ms', '1.50×', '≤ 1.5×', 'yes')
    >>> Figure("server", 900.0, "floor server", 300.0, unit="MB").cells()[1:5]
    ('900 MB', 'floor server', '300 MB', '3.00×')
    """

    what: str
    measured: float  # seconds, or MB with unit="MB"
    floor_what: str
    floor: float
    target: float | None = None
    unit: str = "ms"

    @property
    def ratio(self) -> float:
        return self.measured / self.floor if self.floor > 0 else float("inf")

    def _amount(self, value: float) -> str:
        if self.unit == "MB":
            return f"{value:,.0f} MB"
        return f"{value * 1000:,.{1 if value < 0.01 else 0}f} ms"

    def cells(self) -> tuple[str, str, str, str, str, str, str]:
        met = "—" if self.target is None else ("yes" if self.ratio <= self.target else "NO")
        return (
            self.what,
            self._amount(self.measured),
            self.floor_what,
            self._amount(self.floor),
            f"{self.ratio:.2f}×",
            "—" if self.target is None else f"≤ {self.target:g}×",
            met,
        )


HEADER = "| measurement | measured | floor | floor measured | ratio | target | met |"


def table(figures: list[Figure]) -> str:
    """The figures as a Markdown table, one row each."""
    lines = [HEADER, "| --- | ---: | --- | ---: | ---: | --- | --- |"]
    lines += ["| " + " | ".join(figure.cells()) + " |" for figure in figures]
    return "\n".join(lines)
