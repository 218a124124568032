"""Export speed and memory: the formatted 进度报表 against plain dumps of the same rows.

    python -m bench.excel_export [ROWS]        # default 100,000 assignments

Against two floors, the same rows written unformatted: pandas' ``to_excel`` with xlsxwriter
and rustpy-xlsxwriter (the fastest writer installable from the package index), given the
frame itself so only its write is timed.  Prints the three timings and the report's ratio to
each, then each writer's peak resident memory in a fresh process against the memory of that
process once the rows are loaded (the report streams its long sheet: its peak must stay
within 1.5× of that at any size).
"""

from __future__ import annotations

import gc
import io
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from excel.kit import labelled
from excel.report import DETAIL_COLUMNS, build_report
from tracker.aggregate import derive
from tracker.schema import STATUSES


def synthetic_assignments(n: int, seed: int = 0) -> pd.DataFrame:
    """An ``assignments()``-shaped frame: ~40 policies x 25 measures, 60 units."""
    rng = np.random.default_rng(seed)
    units = [f"单位{i:02d}" for i in range(60)]
    task = np.arange(n) // 2
    policy = task % 40
    measure = (task // 40) % 25 + 1
    status = rng.choice(STATUSES, n)
    notes = np.array(
        ["", "已完成前期调研，正在起草实施细则。", "=1+1", "正在推进 & 协调<资金>"], dtype=object
    )
    return pd.DataFrame(
        {
            "assignment_id": np.arange(1, n + 1),
            "policy_id": [f"p{p:02d}" for p in policy],
            "policy_title": [f"关于加快推进重点领域发展的若干政策措施（{p}）" for p in policy],
            "doc_no": [f"沪府办发〔2026〕{p}号" for p in policy],
            "issue_date": pd.Timestamp("2026-01-10"),
            "effective_from": pd.Timestamp("2026-02-01"),
            "effective_to": pd.Timestamp("2028-01-31"),
            "section_no": 1,
            "section_title": "一、总体要求",
            "measure_id": [f"p{p:02d}-m{m:02d}" for p, m in zip(policy, measure, strict=True)],
            "measure_no": measure,
            "measure_title": "支持科技创新与成果转化",
            "task_id": [
                f"p{p:02d}-m{m:02d}-t{t}" for p, m, t in zip(policy, measure, task, strict=True)
            ],
            "task_text": "支持企业牵头组建创新联合体，围绕关键核心技术开展联合攻关，对符合条件的项目给予最高1000万元资助。",
            "unit": rng.choice(units, n),
            "role": np.where(np.arange(n) % 2 == 0, "lead", "support"),
            "unit_rank": np.where(np.arange(n) % 2 == 0, 1, 2),
            "unit_full_name": "",
            "unit_kind": "municipal",
            "task_seq": 1,
            "assigned_at": pd.Timestamp("2026-02-01 09:00:00"),
            "period": "2026-11",
            "archived": False,
            "status": status,
            "percent": np.where(status == "done", 100, rng.integers(0, 100, n)),
            "due_date": pd.Timestamp("2026-06-30")
            + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
            "note": rng.choice(notes, n),
            "next_step": "继续推进",
            "problems": "",
            "evidence": "",
            "updated_by": "张三",
            "updated_at": pd.Timestamp("2026-11-01 09:30:00"),
            "version": rng.integers(0, 5, n),
        }
    )


def plain_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The report's detail rows as plain values under their headers: what a dump writes."""
    # The evidence columns come from the store, not the rows: empty in a plain dump.
    plain = labelled(frame).reindex(columns=[c.key for c in DETAIL_COLUMNS], fill_value="")
    plain.columns = [c.header for c in DETAIL_COLUMNS]
    return plain


def xlsxwriter_dump(plain: pd.DataFrame) -> bytes:
    """``DataFrame.to_excel`` with xlsxwriter: the usual pandas way, unformatted."""
    buffer = io.BytesIO()
    plain.to_excel(buffer, engine="xlsxwriter", index=False)
    return buffer.getvalue()


def rustpy_dump(plain: pd.DataFrame) -> bytes:
    """The fastest writer on the package index we found: rustpy-xlsxwriter (Rust's
    rust_xlsxwriter), given the frame itself (it reads the columns; a ``to_dict`` of records
    first would time Python's conversion, not the writer)."""
    import rustpy_xlsxwriter

    buffer = io.BytesIO()
    rustpy_xlsxwriter.write_worksheet(plain, buffer)
    return buffer.getvalue()


def _seconds(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


WRITERS = {
    "xlsxwriter plain dump": lambda frame, plain: xlsxwriter_dump(plain),
    "rustpy-xlsxwriter dump": lambda frame, plain: rustpy_dump(plain),
    "formatted report": lambda frame, plain: build_report(frame),
}


def measure(n: int, repeat: int = 1) -> dict[str, float]:
    """Best seconds of ``repeat`` rounds to write the same ``n`` rows: a plain xlsxwriter
    dump, a rustpy-xlsxwriter dump and the formatted report, in turn each round (so a slower
    spell of a shared machine falls on all three)."""
    frame = derive(synthetic_assignments(n))
    plain = plain_rows(frame)
    best = dict.fromkeys(WRITERS, float("inf"))
    for _ in range(repeat):
        for label, write in WRITERS.items():
            best[label] = min(best[label], _seconds(write, frame, plain))
    return best


_PEAK = """
import sys
from bench.excel_export import peak_of
print(*peak_of(sys.argv[1], int(sys.argv[2])))
"""


def _rss_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def peak_of(label: str, n: int) -> tuple[float, float]:
    """In this process: resident MB with the ``n`` rows loaded (and the writer imported),
    and the peak resident MB while ``label`` writes them."""
    frame = derive(synthetic_assignments(n))
    plain = plain_rows(frame) if label != "formatted report" else frame
    WRITERS[label](frame.head(10), plain.head(10))  # import what the writer imports
    gc.collect()
    loaded = _rss_mb("VmRSS")
    with open("/proc/self/clear_refs", "w") as refs:  # the peak restarts from here
        refs.write("5")
    WRITERS[label](frame, plain)
    return loaded, _rss_mb("VmHWM")


def memory(n: int) -> dict[str, tuple[float, float]]:
    """Per writer, in a fresh process each: resident MB with the rows loaded, and the peak
    while writing them."""
    peaks = {}
    for label in WRITERS:
        done = subprocess.run(
            [sys.executable, "-c", _PEAK, label, str(n)],
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            check=True,
        )
        loaded, peak = done.stdout.split()
        peaks[label] = (float(loaded), float(peak))
    return peaks


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 100_000
    timings = measure(n, repeat=3)
    ours = timings["formatted report"]
    print(f"rows: {n:,}")
    for label, seconds in timings.items():
        print(f"{label:28s} {seconds:7.2f} s   report / this: {ours / seconds:5.2f}")
    for label, (loaded, peak) in memory(n).items():
        print(f"{label:28s} peak {peak:6,.0f} MB, {loaded:6,.0f} MB loaded: {peak / loaded:.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
