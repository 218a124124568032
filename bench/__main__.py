"""Benchmark at city scale: ``python -m bench [--assignments 100000]``.

Every figure is printed beside a floor measured in the same run on the same rows, and as the
ratio of the two (:mod:`bench.floors` says why each floor is the least the job needs):

* parsing 1,000 policies, against decoding the files and splitting them into lines;
* each page's first load, and its first run after someone saved, against a bare
  ``pandas.read_sql`` of the same rows in a fresh process; its cached rerun against the
  floor page's (``bench/floor_app.py``);
* the formatted Excel report against a plain xlsxwriter dump and a rustpy-xlsxwriter dump of
  the same rows;
* importing 20,000 updates against a raw python-calamine read of the same file;
* the peak resident memory of the dashboard's server after a browser visited every page,
  against the floor page's server.

Not a test: numbers depend on the machine, ratios less so; targets (from issue 25) are shown
where one is set, and the exit code is 0 whatever they say.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench import excel_export, excel_import, floors
from bench.floors import Figure, table
from bench.generate import synthetic_measures, synthetic_policy_text
from bench.live import PAGE_PATHS
from loaders.measures_csv import to_csv_bytes
from tracker.accounts import Account
from tracker.aggregate import derive
from tracker.progress import Update
from tracker.schema import ADMIN, SOURCE_API, STATUSES, UNITS_CSV
from tracker.store import Store, make_engine

ROOT = Path(__file__).resolve().parent.parent
PAGES = list(PAGE_PATHS)  # every page of the navigation, in its order


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[float, object]:
    """Best wall time of ``repeat`` runs, in seconds, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


BENCH_USER, BENCH_PASSWORD = "bench", "bench-password-1"


def bench_account(store: Store) -> Account:
    """The supervisor account every benchmark write is made as (created on first use)."""
    if BENCH_USER not in set(store.accounts.table()["username"]):
        # An admin sees every page of the navigation (账号管理 included).
        store.accounts.add(BENCH_USER, role=ADMIN, password=BENCH_PASSWORD)
    return store.accounts.sign_in(BENCH_USER, BENCH_PASSWORD)


def seed_progress(store: Store, share: float = 0.6, seed: int = 3) -> float:
    """Give ``share`` of the assignments a status through the real write path; seconds taken."""
    frame = store.assignments()
    rng = np.random.default_rng(seed)
    picked = frame.sample(frac=share, random_state=seed)
    statuses = rng.choice([s for s in STATUSES if s != "not_started"], size=len(picked))
    updates = [
        Update(
            int(aid),
            int(version),
            {
                "status": status,
                "percent": 100 if status == "done" else int(rng.integers(0, 100)),
                "note": "" if status not in ("delayed", "on_hold") else "原因说明",
                "due_date": f"2027-{int(rng.integers(1, 13)):02d}-15",
            },
        )
        for aid, version, status in zip(
            picked["assignment_id"], picked["version"], statuses, strict=True
        )
    ]
    account = bench_account(store)
    seconds, _ = timed(lambda: store.apply(updates, user=account, source=SOURCE_API, partial=True))
    return seconds


def bench_pages(
    db_url: str, pages: list[str] = PAGES, reruns: int = 5
) -> dict[str, tuple[float, float, float]]:
    """Per page, through streamlit's AppTest: the first run with nothing cached, the median
    cached rerun, and the first run after someone else saved one change (caches move on to
    the new revision; the store keeps its structure)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["DATABASE_URL"] = db_url
    writer = Store(make_engine(db_url))
    account = bench_account(writer)
    row = writer.assignments().iloc[0]
    version = int(row["version"])
    results = {}
    for name in pages:
        st.cache_data.clear()
        st.cache_resource.clear()
        app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
        app.run()  # the sign-in page
        app.text_input(key="sign_in_user").input(BENCH_USER)
        app.text_input(key="sign_in_password").input(BENCH_PASSWORD)
        app.button(key="sign_in_submit").click()
        app.run()  # signed in, on the default page: forget what it cached
        st.cache_data.clear()
        st.cache_resource.clear()
        app.switch_page(f"pages/{name}.py")
        first, _ = timed(app.run)
        times = [timed(app.run)[0] for _ in range(reruns)]
        writer.apply(
            [Update(int(row["assignment_id"]), version, {"note": f"基准测试第{version}次保存"})],
            user=account,
            source=SOURCE_API,
        )
        version += 1
        after_save, _ = timed(app.run)
        if app.exception:
            raise RuntimeError(f"page {name} raised: {app.exception[0].value}")
        results[name] = (first, statistics.median(times), after_save)
    writer.engine.dispose()
    return results


def bench_parse(policies: int) -> list[Figure]:
    """Parsing ``policies`` synthetic texts, and parsing them and building the table, against
    decoding them and splitting them into lines."""
    from loaders.measures_csv import build_measures
    from loaders.policy_text import decode_policy, parse_policy
    from loaders.units import read_units

    registry = read_units(UNITS_CSV.read_bytes())
    sources = [
        (f"2026-01-01_synth-{i:04d}.md", synthetic_policy_text(i).encode("utf-8"))
        for i in range(1, policies + 1)
    ]
    floor = floors.parse_floor(sources)
    parse, _ = timed(lambda: [parse_policy(decode_policy(b, n), n) for n, b in sources], 3)
    build, result = timed(lambda: build_measures(sources, registry), 3)
    print(f"  parsed {policies} policies into {len(result.frame):,} rows", file=sys.stderr)
    lines = f"decode + split lines of {policies:,} files"
    return [
        Figure(f"parse {policies:,} policies", parse, lines, floor),
        Figure(f"parse {policies:,} policies + build the table", build, lines, floor),
    ]


def bench_store(db_url: str, pages: list[str], reruns: int) -> list[Figure]:
    """Loading the rows, each page's first load, cached rerun and first run after a save."""
    runs = max(1, min(3, reruns))  # fresh processes each; the CI run (--reruns 1) reads once
    read, rows = floors.read_floor(db_url, runs)
    read_what = f"read_sql of the same {sum(rows):,} rows, fresh process"
    print(f"  {read_what}: {read * 1000:,.0f} ms", file=sys.stderr)
    with_history, counts = floors.read_floor(
        db_url, runs, tables=[*floors.READ_TABLES, floors.HISTORY_TABLE]
    )
    history_what = f"read_sql of those rows + {counts[-1]:,} of progress_history, fresh process"
    print(f"  {history_what}: {with_history * 1000:,.0f} ms", file=sys.stderr)
    cold = Store(make_engine(db_url))
    seconds, _frame = timed(lambda: derive(cold.assignments()))
    cold.engine.dispose()
    figures = [Figure("load assignments + lights (no cache)", seconds, read_what, read)]
    floor_rerun = floors.floor_page_rerun(db_url, max(reruns, 1))
    rerun_what = "floor page's cached rerun"
    for page, (first, rerun, after_save) in bench_pages(db_url, pages, reruns).items():
        floor, floor_what = (
            (with_history, history_what) if page in floors.HISTORY_PAGES else (read, read_what)
        )
        figures += [
            Figure(f"page {page}: first load", first, floor_what, floor, target=1.5),
            Figure(f"page {page}: cached rerun", rerun, rerun_what, floor_rerun),
            Figure(f"page {page}: first run after a save", after_save, read_what, read),
        ]
        print(f"  page {page}: {first * 1000:,.0f} ms first load", file=sys.stderr)
    return figures


def bench_files(assignments: int, updates: int) -> list[Figure]:
    """The formatted report against plain dumps, and the import against a raw read."""
    writes = excel_export.measure(assignments, repeat=3)
    report = writes.pop("formatted report")
    figures = [
        Figure(f"formatted Excel report, {assignments:,} rows", report, f"{label}", seconds, target)
        for (label, seconds), target in zip(writes.items(), (1.0, 2.0), strict=True)
    ]
    loaded, peak = excel_export.memory(assignments)["formatted report"]
    figures.append(
        Figure(
            f"formatted Excel report, {assignments:,} rows: peak RSS",
            peak,
            "RSS with the rows loaded",
            loaded,
            target=1.5,
            unit="MB",
        )
    )
    timings = excel_import.measure(updates)
    raw = timings["python-calamine raw read"]
    targets = {
        "ours: gate + read + validate": 2.0,
        "ours: full import dry run (+ Store.apply)": 3.0,
    }
    figures += [
        Figure(f"import {updates:,}: {label}", seconds, "python-calamine raw read", raw, target)
        for label, seconds in timings.items()
        if label.startswith("ours")
        for target in [targets.get(label)]
    ]
    return figures


def setup_store(tmp: Path, assignments: int) -> str:
    """A SQLite store of ``assignments`` synthetic rows, 60% of them with progress written
    through ``Store.apply``; the app is pointed at the same measures table.  Its URL."""
    db_url = f"sqlite:///{tmp / 'bench.db'}"
    measures = synthetic_measures(assignments)
    # The app syncs from TRACKER_MEASURES_CSV on start: point it at the same synthetic table.
    csv_path = tmp / "measures.csv"
    csv_path.write_bytes(to_csv_bytes(measures))
    os.environ["TRACKER_MEASURES_CSV"] = str(csv_path)
    store = Store(make_engine(db_url))
    store.create_schema()
    seconds, _ = timed(lambda: store.sync(measures))
    print(f"setup: synced {len(measures):,} assignments in {seconds:.1f} s", file=sys.stderr)
    seconds = seed_progress(store)
    print(f"setup: {int(len(measures) * 0.6):,} updates in {seconds:.1f} s", file=sys.stderr)
    bench_account(store)
    store.engine.dispose()
    return db_url


def bench_memory(db_url: str, assignments: int, rounds: int = 3) -> list[Figure]:
    """Peak RSS of the dashboard's server after every page, and after ``rounds`` more rounds
    of a save and every page, against the floor page's."""
    writer = Store(make_engine(db_url))
    account = bench_account(writer)

    def save(round_no: int) -> None:
        row = writer.assignments().iloc[round_no]
        revision = writer.revision()
        writer.apply(  # a note one character longer: a save of the same note changes nothing
            [Update(int(row["assignment_id"]), int(row["version"]), {"note": f"{row['note']}+"})],
            user=account,
            source=SOURCE_API,
        )
        if writer.revision() == revision:
            raise RuntimeError("the save between two rounds of pages changed nothing")

    try:
        tour, after, floor = floors.server_memory(db_url, BENCH_USER, BENCH_PASSWORD, save, rounds)
    finally:
        writer.engine.dispose()
    floor_what = "floor page's server peak RSS"
    return [
        Figure(
            f"server peak RSS at {assignments:,} assignments, after every page",
            tour,
            floor_what,
            floor,
            unit="MB",
        ),
        Figure(
            f"server peak RSS at {assignments:,} assignments, then {rounds} saves "
            "each followed by every page",
            after,
            floor_what,
            floor,
            unit="MB",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--assignments", type=int, default=100_000)
    parser.add_argument("--policies", type=int, default=1_000)
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--reruns", type=int, default=5, help="cached reruns per page")
    parser.add_argument(
        "--pages",
        help="comma-separated page names (e.g. by_unit,reporting): only these pages' "
        "first load and reruns, without the parse, export, import and memory measurements",
    )
    args = parser.parse_args(argv)
    pages = args.pages.split(",") if args.pages else PAGES
    if unknown := set(pages) - set(PAGES):
        parser.error(f"no such page: {', '.join(sorted(unknown))}")
    figures: list[Figure] = []
    if not args.pages:
        figures += bench_parse(args.policies)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = setup_store(Path(tmp), args.assignments)
        figures += bench_store(db_url, pages, args.reruns)
        if not args.pages:
            figures += bench_memory(db_url, args.assignments)
    if not args.pages:
        figures += bench_files(args.assignments, args.updates)
    print(f"\n{args.assignments:,} assignments\n\n{table(figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
