"""Export speed: the formatted 进度报表 vs a plain ``DataFrame.to_excel(engine="xlsxwriter")``.

    python -m bench.excel_export [ROWS]        # default 100,000 assignments

The target: the full formatted report is no slower than xlsxwriter writing the same
rows unformatted.  Prints both timings and the ratio; exits 1 if the target is missed.
"""

from __future__ import annotations

import io
import sys
import time

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


def measure(n: int) -> tuple[float, float]:
    """Seconds for (plain xlsxwriter dump, formatted report) of the same ``n`` rows."""
    frame = derive(synthetic_assignments(n))
    plain = labelled(frame)[[c.key for c in DETAIL_COLUMNS]]
    plain.columns = [c.header for c in DETAIL_COLUMNS]

    start = time.perf_counter()
    buffer = io.BytesIO()
    plain.to_excel(buffer, engine="xlsxwriter", index=False)
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    build_report(frame)
    return baseline, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 100_000
    baseline, ours = measure(n)

    print(f"rows: {n:,}")
    print(f"xlsxwriter to_excel (plain):  {baseline:7.2f} s")
    print(f"build_report (formatted):     {ours:7.2f} s")
    print(f"ratio report / xlsxwriter:    {ours / baseline:7.2f}  (target <= 1.00)")
    return 0 if ours <= baseline else 1


if __name__ == "__main__":
    raise SystemExit(main())
