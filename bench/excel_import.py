"""Import speed and reader choice on a filled 20,000-row template.

    python -m bench.excel_import [ROWS]        # default 20,000 updates

Measures, on the same file:
  * a raw python-calamine read of the sheet (the yardstick),
  * openpyxl read_only iterating every cell (the alternative reader),
  * our read + validation (safety gate, zip scans, header search, formula scan, per-cell checks),
  * the full import dry run (plus matching against the store and ``Store.apply(dry_run=True)``).
Target: import with validation <= 2x the raw calamine read.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import openpyxl
import pandas as pd
import python_calamine

from excel.read import import_workbook, plan_updates, read_sheet
from excel.safety import open_package
from excel.template import SHEET_TEMPLATE, build_template
from tracker.schema import MEASURE_COLUMNS
from tracker.store import Store

UNIT = "市科委"


def measures(n: int) -> pd.DataFrame:
    """n tasks, all led by one unit, in the shape of data/measures.csv."""
    task = np.arange(n)
    frame = pd.DataFrame(
        {
            "policy_id": "bench-2026-1",
            "policy_title": "基准测试政策",
            "doc_no": "沪府办发〔2026〕99号",
            "issuer": "上海市人民政府办公厅",
            "issue_date": "2026-01-10",
            "effective_from": "2026-02-01",
            "effective_to": "2028-01-31",
            "source_url": "",
            "section_no": 1,
            "section_title": "一、测试",
            "measure_no": task // 100 + 1,
            "measure_title": "测试措施",
            "task_id": [
                f"bench-m{m:03d}-t{t}" for m, t in zip(task // 100 + 1, task % 100 + 1, strict=True)
            ],
            "task_seq": task % 100 + 1,
            "task_text": "支持企业牵头组建创新联合体，围绕关键核心技术开展联合攻关。",
            "unit": UNIT,
            "unit_full_name": "上海市科学技术委员会",
            "unit_kind": "municipal",
            "role": "lead",
            "unit_rank": 1,
            "due_hint": "",
        }
    )
    return frame[MEASURE_COLUMNS]


def filled_template(store: Store) -> bytes:
    """The unit's template as a user returns it: every row edited (status, percent, notes)."""
    df = store.assignments()
    rng = np.random.default_rng(1)
    codes = np.array(["in_progress", "done", "delayed", "on_hold"])
    df["status"] = rng.choice(codes, len(df))
    df["percent"] = np.where(df["status"] == "done", 100, rng.integers(0, 100, len(df)))
    df["note"] = "已完成前期调研，正在起草实施细则。"
    df["due_date"] = pd.Timestamp("2026-12-31")
    return build_template(df, UNIT)


def timed(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(n: int) -> dict[str, float]:
    """Median seconds per reading / importing step on a filled ``n``-row template."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{os.path.join(tmp, 'bench.db')}", measures=measures(n))
        store.accounts.add("bench", role="supervisor", password="bench-password-1")
        account = store.accounts.sign_in("bench", "bench-password-1")
        data = filled_template(store)

        def calamine_raw() -> list:
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
            return book.get_sheet_by_name(SHEET_TEMPLATE).to_python(skip_empty_area=False)

        def openpyxl_read_only() -> int:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
            count = sum(
                1 for row in wb[SHEET_TEMPLATE].iter_rows() for cell in row if cell.data_type == "f"
            )
            wb.close()
            return count

        def ours_read_validate():
            parsed = read_sheet(open_package(data, "bench.xlsx"))
            assert parsed.data_rows == n and not parsed.problems, parsed.problems[:3]
            return parsed

        def ours_with_matching():
            return plan_updates(store, ours_read_validate())

        def full_dry_run():
            result = import_workbook(
                store, data, file_name="bench.xlsx", user=account, dry_run=True
            )
            assert result.ok and result.changed_assignments == n, result.summary()

        raw = timed(calamine_raw)
        rows = {
            "python-calamine raw read": raw,
            "openpyxl read_only (values + data_type)": timed(openpyxl_read_only, 1),
            "ours: gate + read + validate": timed(ours_read_validate),
            "ours: + match rows to assignments": timed(ours_with_matching),
            "ours: full import dry run (+ Store.apply)": timed(full_dry_run, 1),
        }
    return rows


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 20_000
    rows = measure(n)
    raw = rows["python-calamine raw read"]
    print(f"rows: {n:,}")
    for label, seconds in rows.items():
        print(f"{label:45s} {seconds:7.3f} s   {seconds / raw:5.2f}x calamine")
    target = rows["ours: gate + read + validate"] / raw
    print(f"target: read + validate <= 2.00x calamine -> {target:.2f}x")
    return 0 if target <= 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
