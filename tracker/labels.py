"""How people name a task: the policy's 文号 and the measure's number, never the internal
id.  Every page, workbook and notice names a task with :func:`task_label`; the id
(``hufubanfa-2025-11-m01-t2``) is shown only where a user asks for it (a 「显示任务编号」
toggle) or where a file needs it as its key (the fill-in template and the report's 明细).

A measure may hold several tasks (the parser splits it by responsibility clause), so the
label always carries the task's number within its measure: ``〔2025〕11号·1-2`` is the
second task of measure 1 of 沪府办发〔2025〕11号.  The label depends on the task alone, so it
reads the same on every page whatever the filters.

>>> task_label("沪府办发〔2025〕11号", 1, 2)
'〔2025〕11号·1-2'
>>> measure_label("沪府办规〔2024〕14号", 3)
'〔2024〕14号·3'
"""

from __future__ import annotations

import math
import re

import pandas as pd

TASK_LABEL = "任务"  # the column that names a task in a table
TASK_ID = "任务编号"  # the internal id, shown only when asked for
SHOW_IDS = "显示任务编号"  # the toggle that asks for it

_DOC_NO = re.compile(r"〔\d{4}〕\d+号")
_TITLE_CHARS = 12  # a policy without a 文号 is named by the start of its title


def policy_short(doc_no: object, title: object = "") -> str:
    """The policy part of a label: the 文号's ``〔2025〕11号``; the whole 文号 when it has no
    such part; the start of the title when there is no 文号.

    >>> policy_short("沪府办发〔2025〕11号"), policy_short("沪科规2024-3")
    ('〔2025〕11号', '沪科规2024-3')
    >>> policy_short("", "上海市促进人工智能产业发展条例")
    '上海市促进人工智能产业发…'
    """
    text = _text(doc_no)
    match = _DOC_NO.search(text)
    if match:
        return match.group(0)
    if text:
        return text
    name = _text(title)
    return name if len(name) <= _TITLE_CHARS else name[:_TITLE_CHARS] + "…"


def _text(value: object) -> str:
    """A cell as text: "" for nothing (None, NaN, NA)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def measure_label(doc_no: object, measure_no: int, title: object = "") -> str:
    """A measure: ``〔2025〕11号·3`` (axis labels, the 措施 column)."""
    return f"{policy_short(doc_no, title)}·{int(measure_no)}"


def task_label(doc_no: object, measure_no: int, task_seq: int, title: object = "") -> str:
    """A task: its measure's label and its number in the measure, ``〔2025〕11号·3-2``.

    >>> task_label("沪府办规〔2024〕14号", 10, 1)
    '〔2024〕14号·10-1'
    """
    return f"{measure_label(doc_no, measure_no, title)}-{int(task_seq)}"


def task_labels(rows: pd.DataFrame) -> pd.Series:
    """:func:`task_label` of each row of a frame with ``doc_no``, ``measure_no`` and
    ``task_seq`` (and ``policy_title`` when it has one), on the frame's index."""
    if rows.empty:
        return pd.Series([], index=rows.index, dtype=object)
    titles = rows["policy_title"] if "policy_title" in rows else pd.Series("", index=rows.index)
    # The policy part once per policy, the numbers as whole columns: a label per row in
    # Python took 2.9 s for 100,000 tasks.
    policies = pd.DataFrame({"doc_no": rows["doc_no"], "title": titles}).fillna("").astype(str)
    distinct = policies.drop_duplicates()
    short = pd.Series(
        [policy_short(d, t) for d, t in zip(distinct["doc_no"], distinct["title"], strict=True)],
        index=pd.MultiIndex.from_frame(distinct),
        dtype=object,
    )
    policy = short.reindex(pd.MultiIndex.from_frame(policies)).to_numpy()
    numbers = (
        rows["measure_no"].astype("int64").astype(str)
        + "-"
        + rows["task_seq"].astype("int64").astype(str)
    )
    return pd.Series(policy + "·" + numbers.to_numpy(dtype=object), index=rows.index, dtype=object)


def labels_by_task(assignments: pd.DataFrame) -> dict[str, str]:
    """task_id -> :func:`task_label` for the tasks of an assignments frame: how a place that
    holds only ids (an import's rows, a conflict) names them."""
    tasks = assignments.drop_duplicates("task_id")
    # Whole columns as lists: iterating Arrow-backed text cell by cell is slow.
    return dict(
        zip(tasks["task_id"].astype(str).tolist(), task_labels(tasks).tolist(), strict=True)
    )
