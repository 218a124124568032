"""Benchmark at city scale: ``python -m bench [--assignments 100000]``.

Measures, on one synthetic store, each target of DEVELOPERS.md and prints a table:
parsing 1,000 policies, first load and cached page reruns, the formatted Excel report against
a plain xlsxwriter dump of the same rows, and importing 20,000 updates against a raw
python-calamine read of the same file.  Not a test: numbers depend on the machine.
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

from bench import excel_export, excel_import
from bench.generate import synthetic_measures, synthetic_policy_text
from bench.live import PAGE_PATHS
from loaders.measures_csv import to_csv_bytes
from tracker.accounts import Account
from tracker.aggregate import derive
from tracker.progress import Update
from tracker.schema import SOURCE_API, STATUSES, SUPERVISOR, UNITS_CSV
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


def bench_parse(policies: int) -> tuple[float, float]:
    """Seconds to parse ``policies`` synthetic texts, and to parse them and build the table."""
    from loaders.measures_csv import build_measures
    from loaders.policy_text import decode_policy, parse_policy
    from loaders.units import read_units

    registry = read_units(UNITS_CSV.read_bytes())
    sources = [
        (f"2026-01-01_synth-{i:04d}.md", synthetic_policy_text(i).encode("utf-8"))
        for i in range(1, policies + 1)
    ]
    parse, _ = timed(lambda: [parse_policy(decode_policy(b, n), n) for n, b in sources], 3)
    build, result = timed(lambda: build_measures(sources, registry), 3)
    print(f"  parsed {policies} policies into {len(result.frame):,} rows", file=sys.stderr)
    return parse, build


BENCH_USER, BENCH_PASSWORD = "bench", "bench-password-1"


def bench_account(store: Store) -> Account:
    """The supervisor account every benchmark write is made as (created on first use)."""
    if BENCH_USER not in set(store.accounts.table()["username"]):
        store.accounts.add(BENCH_USER, role=SUPERVISOR, password=BENCH_PASSWORD)
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


def bench_pages(db_url: str, pages: list[str] = PAGES) -> dict[str, tuple[float, float, float]]:
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
        reruns = [timed(app.run)[0] for _ in range(5)]
        writer.apply(
            [Update(int(row["assignment_id"]), version, {"note": f"基准测试第{version}次保存"})],
            user=account,
            source=SOURCE_API,
        )
        version += 1
        after_save, _ = timed(app.run)
        if app.exception:
            raise RuntimeError(f"page {name} raised: {app.exception[0].value}")
        results[name] = (first, statistics.median(reruns), after_save)
    return results


def bench_files(
    assignments: int, updates: int, report: Callable[[str, float, str, bool], None]
) -> None:
    """The formatted report against a plain dump, and the import against a raw read."""
    export_plain, export_report = excel_export.measure(assignments)
    report(
        f"formatted Excel report, {assignments:,} rows",
        export_report,
        f"≤ xlsxwriter plain dump ({export_plain * 1000:,.0f} ms)",
        export_report <= export_plain,
    )
    timings = excel_import.measure(updates)
    raw = timings["python-calamine raw read"]
    for label, seconds in timings.items():
        if label.startswith("ours"):
            report(
                f"import {updates:,}: {label}",
                seconds,
                f"≤ 2 × calamine ({raw * 1000:,.0f} ms)",
                seconds <= 2 * raw,
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--assignments", type=int, default=100_000)
    parser.add_argument("--policies", type=int, default=1_000)
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument(
        "--pages",
        help="comma-separated page names (e.g. by_unit,reporting): only these pages' "
        "first load and reruns, without the parse, export and import measurements",
    )
    args = parser.parse_args(argv)
    pages = args.pages.split(",") if args.pages else PAGES
    if unknown := set(pages) - set(PAGES):
        parser.error(f"no such page: {', '.join(sorted(unknown))}")
    rows: list[tuple[str, str, str, bool]] = []

    def report(what: str, measured: float, target: str, ok: bool) -> None:
        rows.append((what, f"{measured * 1000:,.0f} ms", target, ok))
        print(f"{what}: {measured * 1000:,.0f} ms (target {target})", file=sys.stderr)

    if not args.pages:
        parse, build = bench_parse(args.policies)
        report(f"parse {args.policies:,} policies", parse, "≤ 2000 ms", parse <= 2)
        report(
            f"parse {args.policies:,} policies + build the table", build, "≤ 2000 ms", build <= 2
        )

    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        measures = synthetic_measures(args.assignments)
        # The app syncs from TRACKER_MEASURES_CSV on start: point it at the same synthetic table.
        csv_path = Path(tmp) / "measures.csv"
        csv_path.write_bytes(to_csv_bytes(measures))
        os.environ["TRACKER_MEASURES_CSV"] = str(csv_path)
        store = Store(make_engine(db_url))
        store.create_schema()
        seconds, _ = timed(lambda: store.sync(measures))
        report(f"sync {len(measures):,} assignments (setup)", seconds, "—", True)
        seconds = seed_progress(store)
        report(f"apply {int(len(measures) * 0.6):,} updates (setup)", seconds, "—", True)

        cold = Store(make_engine(db_url))
        seconds, frame = timed(lambda: derive(cold.assignments()))
        report("load assignments + lights (no cache)", seconds, "≤ 1000 ms", seconds <= 1)

        for page, (first, rerun, after_save) in bench_pages(db_url, pages).items():
            report(f"page {page}: first load", first, "≤ 1000 ms", first <= 1)
            report(f"page {page}: cached rerun", rerun, "≤ 150 ms", rerun <= 0.15)
            report(f"page {page}: first run after a save", after_save, "≤ 1000 ms", after_save <= 1)

    if not args.pages:
        bench_files(args.assignments, args.updates, report)

    print("\n| measurement | measured | target | met |\n| --- | ---: | --- | --- |")
    for what, measured, target, ok in rows:
        print(f"| {what} | {measured} | {target} | {'yes' if ok else 'NO'} |")
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
