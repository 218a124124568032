"""Synthetic scale: a measures table and policy texts shaped like the real ones, any size.

>>> frame = synthetic_measures(1_000)
>>> len(frame), bool(frame["role"].eq("lead").sum() == frame["task_id"].nunique())
(1000, True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tracker.schema import MEASURE_COLUMNS

CN_NUM = "一二三四五六七八九十"


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals as used for section and measure markers (十一, 二十三)."""
    if n <= 10:
        return CN_NUM[n - 1]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CN_NUM[tens - 1]
    return head + "十" + (CN_NUM[ones - 1] if ones else "")


def unit_names(count: int) -> list[str]:
    return [f"市测试{i:03d}局" for i in range(1, count + 1)]


def synthetic_measures(
    assignments: int, *, units: int = 100, tasks_per_policy: int = 40, seed: int = 7
) -> pd.DataFrame:
    """``assignments`` rows: tasks of 1–6 units each (3.5 on average, like the seeds)."""
    rng = np.random.default_rng(seed)
    names = unit_names(units)
    weights = 1 / np.arange(1, units + 1)  # a few units carry most of the load, as in reality
    weights /= weights.sum()
    rows: list[dict] = []
    task = 0
    while len(rows) < assignments:
        policy_no, seq_in_policy = divmod(task, tasks_per_policy)
        measure_no, task_seq = divmod(seq_in_policy, 3)
        size = min(int(rng.integers(1, 7)), assignments - len(rows))
        chosen = rng.choice(units, size=size, replace=False, p=weights)
        policy_id = f"synth-{policy_no + 1:04d}"
        for rank, unit_index in enumerate(chosen, start=1):
            rows.append(
                {
                    "policy_id": policy_id,
                    "policy_title": f"合成政策第{policy_no + 1}号",
                    "doc_no": f"沪府办发〔2026〕{policy_no + 1}号",
                    "issuer": "上海市人民政府办公厅",
                    "issue_date": "2026-01-01",
                    "effective_from": "2026-01-01",
                    "effective_to": "2028-12-31",
                    "source_url": "",
                    "section_no": measure_no // 4 + 1,
                    "section_title": f"第{measure_no // 4 + 1}部分",
                    "measure_no": measure_no + 1,
                    "measure_title": f"措施{measure_no + 1}",
                    "task_id": f"{policy_id}-m{measure_no + 1:02d}-t{task_seq + 1}",
                    "task_seq": task_seq + 1,
                    "task_text": "推动科技服务业高质量发展，完善相关支持政策和工作机制。" * 2,
                    "unit": names[unit_index],
                    "unit_full_name": "上海" + names[unit_index],
                    "unit_kind": "municipal",
                    "role": "lead" if rank == 1 else "support",
                    "unit_rank": rank,
                    "due_hint": "",
                }
            )
        task += 1
    return pd.DataFrame(rows, columns=MEASURE_COLUMNS)


def synthetic_policy_text(number: int, *, measures: int = 12, seed: int = 0) -> str:
    """A policy in the published Markdown style: sections, measures, paragraphs with clauses."""
    rng = np.random.default_rng(seed + number)
    names = unit_names(40)
    lines = [
        f"# 上海市人民政府办公厅印发《合成政策第{number}号若干措施》的通知",
        "",
        f"沪府办发〔2026〕{number}号",
        "",
    ]
    for m in range(1, measures + 1):
        if (m - 1) % 4 == 0:
            lines += [f"**{cn_number((m - 1) // 4 + 1)}、第{(m - 1) // 4 + 1}部分**", ""]
        lines += [f"**（{cn_number(m)}）措施{m}**", ""]
        for _ in range(int(rng.integers(1, 4))):
            picked = rng.choice(len(names), size=int(rng.integers(1, 6)), replace=False)
            units = "、".join(names[i] for i in picked)
            lines += [
                f"　　加强统筹推进，优化部门协同、市区联动工作模式。（责任单位：{units}）",
                "",
            ]
    lines += ["　　上海市人民政府办公厅", "", "　　2026年1月1日"]
    return "\n".join(lines)
