"""``python -m bench`` at a small scale, so the benchmark never rots: it runs end to end (the
pages under AppTest, a real server and Chromium for the memory figure, both Excel writers,
the importer) and prints every figure beside its floor with their ratio.  No timing is
asserted: numbers depend on the machine."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.floors import HISTORY_PAGES
from bench.live import PAGE_PATHS

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.browser  # the memory figure drives headless Chromium

ASSIGNMENTS, POLICIES, UPDATES = 2000, 50, 400
AMOUNT = re.compile(r"^[\d,]+(\.\d)? (ms|MB)$")
RATIO = re.compile(r"^\d+\.\d\d×$")


@pytest.fixture(scope="module")
def printed() -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--assignments",
            str(ASSIGNMENTS),
            "--policies",
            str(POLICIES),
            "--updates",
            str(UPDATES),
            "--reruns",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def rows(printed: str) -> dict[tuple[str, str], list[str]]:
    """(measurement, floor) -> the row's cells, from the printed Markdown table."""
    table = [line for line in printed.splitlines() if line.startswith("| ")][2:]  # past the header
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in table]
    return {(c[0], c[2]): c for c in cells}


def test_every_figure_is_printed_with_its_floor_and_ratio(printed: str) -> None:
    read = "read_sql of the same {} rows, fresh process"
    expected = [
        (f"parse {POLICIES} policies", f"decode + split lines of {POLICIES} files"),
        (
            f"parse {POLICIES} policies + build the table",
            f"decode + split lines of {POLICIES} files",
        ),
        ("load assignments + lights (no cache)", read),
        (f"formatted Excel report, {ASSIGNMENTS:,} rows", "xlsxwriter plain dump"),
        (f"formatted Excel report, {ASSIGNMENTS:,} rows", "rustpy-xlsxwriter dump"),
        (f"formatted Excel report, {ASSIGNMENTS:,} rows: peak RSS", "RSS with the rows loaded"),
        (f"import {UPDATES}: ours: gate + read + validate", "python-calamine raw read"),
        (f"import {UPDATES}: ours: + match rows to assignments", "python-calamine raw read"),
        (
            f"import {UPDATES}: ours: full import dry run (+ Store.apply)",
            "python-calamine raw read",
        ),
        (
            f"server peak RSS at {ASSIGNMENTS:,} assignments, after every page",
            "floor page's server peak RSS",
        ),
        (
            f"server peak RSS at {ASSIGNMENTS:,} assignments, then 3 saves each followed by "
            "every page",
            "floor page's server peak RSS",
        ),
    ]
    with_history = "read_sql of those rows + {} of progress_history, fresh process"
    for page in PAGE_PATHS:  # every page of dashboard.PAGES
        expected += [
            (f"page {page}: first load", with_history if page in HISTORY_PAGES else read),
            (f"page {page}: cached rerun", "floor page's cached rerun"),
            (f"page {page}: first run after a save", read),
        ]
    found = rows(printed)
    # The read floor names how many rows it read: take it from the load figure.
    load = [key for key in found if key[0] == "load assignments + lights (no cache)"]
    assert len(load) == 1, sorted(found)
    counted = re.fullmatch(r"read_sql of the same ([\d,]+) rows, fresh process", load[0][1])
    assert counted, load
    # At least the assignments and their progress rows were read.
    assert int(counted[1].replace(",", "")) >= 2 * ASSIGNMENTS
    # 通报's floor also reads the change history: at least one row per progress update.
    ranked = [key for key in found if key[0] == "page rankings: first load"]
    pattern = re.escape(with_history.format("@")).replace("@", r"([\d,]+)")
    history = re.fullmatch(pattern, ranked[0][1]) if ranked else None
    assert history and int(history[1].replace(",", "")) >= 1, ranked
    expected = [
        (what, floor.format(history[1] if floor == with_history else counted[1]))
        for what, floor in expected
    ]
    assert sorted(found) == sorted(expected)
    for key, (_what, measured, _floor, floor_measured, ratio, _target, _met) in found.items():
        assert AMOUNT.match(measured) and AMOUNT.match(floor_measured), key
        assert RATIO.match(ratio), (key, ratio)
        assert float(floor_measured.split()[0].replace(",", "")) > 0, key


def test_the_memory_figures_are_whole_servers_in_megabytes(printed: str) -> None:
    found = [r for (what, _f), r in rows(printed).items() if what.startswith("server peak RSS")]
    tour, after_saves = sorted(found, key=lambda r: "saves" in r[0])
    for row in (tour, after_saves):
        measured, floor = (float(row[i].split()[0].replace(",", "")) for i in (1, 3))
        # Both are real Streamlit servers holding the rows: far above an idle interpreter.
        assert row[1].endswith(" MB") and measured > 100 and floor > 100
    # One server's peak, read again after the saves: it can only have stayed or grown.
    assert float(after_saves[1].split()[0].replace(",", "")) >= float(
        tour[1].split()[0].replace(",", "")
    )
