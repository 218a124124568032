"""The roll-up of collective rows (各区政府) from their members' rows, and which rows count.

:func:`tracker.aggregate.derive` calls :func:`roll_up` on the full table; every figure of
:mod:`tracker.aggregate` counts :func:`counted` rows.  The rule, stated in the captions
through ``FIGURES["rollup"]``:

* a collective row with live members (``rollup``) shows its members' progress rolled up:
  已完成 only when every member is; else 滞后 if any member is; else 推进中 if any member has
  started (推进中 or 已完成); else 暂缓 if every member is; else 未启动;
* its 完成比例 is the members' mean, rounded down; its light is its worst member's
  (red before yellow before green); its 完成时限 the latest member's, its update time the
  latest member update; its 进展情况 reads ``成员单位 12/16 已完成``;
* counting: a collective row with members is not counted itself, each member is (so the
  16 districts count 16 times, 各区政府 none); a placeholder nobody has named yet
  (各相关单位) counts as one row and as 未落实到具体单位的分工 (``unnamed``).

>>> rows = pd.DataFrame({"assignment_id": [1, 2, 3], "collective_id": [0, 1, 1],
...     "unit": ["各区政府", "浦东新区", "黄浦区"], "status": ["not_started", "done", "in_progress"],
...     "percent": [0, 100, 40], "light": ["green", "green", "red"]})
>>> rolled = roll_up(rows)
>>> [str(v) for v in rolled.loc[0, ["status", "percent", "light", "members", "members_done"]]]
['in_progress', '70', 'red', '2', '1']
>>> counted(rolled).unit.tolist(), rolled.collective.tolist()
(['浦东新区', '黄浦区'], ['', '各区政府', '各区政府'])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tracker.schema import (
    DELAYED,
    DONE,
    GREEN,
    IN_PROGRESS,
    LIGHT_LABELS,
    NOT_STARTED,
    ON_HOLD,
    PLACEHOLDER_KIND,
    PLACEHOLDER_UNITS,
    RED,
    STATUS_LABELS,
    YELLOW,
)

_LIGHT_ORDER = {GREEN: 0, YELLOW: 1, RED: 2}
_LIGHT_OF = {v: k for k, v in _LIGHT_ORDER.items()}


def roll_up(assignments: pd.DataFrame) -> pd.DataFrame:
    """``assignments`` with ``collective`` (the collective's unit on a member's row, "" on
    others), ``rollup`` (a collective row with live members), ``members`` and
    ``members_done`` (counts on roll-up rows, 0 elsewhere) and ``unnamed`` (a placeholder
    not named yet), and each roll-up row's progress rolled up from its members."""
    frame = assignments.copy(deep=False)
    parent = (
        frame["collective_id"].fillna(0).astype("int64")
        if "collective_id" in frame
        else pd.Series(0, index=frame.index, dtype="int64")
    )
    live = parent > 0
    if "archived" in frame:
        live &= ~frame["archived"].astype(bool)
    if not (parent > 0).any():  # no member rows (hand-made rows may carry no ids at all)
        frame = frame.assign(collective="", rollup=False, members=0, members_done=0)
    else:
        _link_members(frame, parent, live)
    kind = frame["unit_kind"] if "unit_kind" in frame else pd.Series("", index=frame.index)
    placeholder = (kind == PLACEHOLDER_KIND) | frame["unit"].isin(PLACEHOLDER_UNITS)
    frame["unnamed"] = (placeholder & ~frame["rollup"] & ~live).to_numpy()
    return frame


def _link_members(frame: pd.DataFrame, parent: pd.Series, live: pd.Series) -> None:
    """Add ``collective``, ``rollup``, ``members`` and ``members_done`` to ``frame`` (in
    place) and roll the roll-up rows up from their live members."""
    ids = frame["assignment_id"].to_numpy()
    unit_of = pd.Series(frame["unit"].to_numpy(), index=ids)
    frame["collective"] = parent.map(unit_of).fillna("").astype(str).to_numpy()
    members = frame[live]
    size = members.groupby(parent[live]).size()
    frame["rollup"] = pd.Index(size.index).get_indexer(ids) >= 0
    frame["members"] = pd.Series(ids, index=frame.index).map(size).fillna(0).astype("int64")
    done = (members["status"] == DONE).groupby(parent[live]).sum()
    frame["members_done"] = pd.Series(ids, index=frame.index).map(done).fillna(0).astype("int64")
    if len(size):
        _apply_rollup(frame, members, parent[live], ids)


def _apply_rollup(
    frame: pd.DataFrame, members: pd.DataFrame, parent: pd.Series, ids: np.ndarray
) -> None:
    """Write the rolled-up status, percent, light, deadline and update time into the
    roll-up rows of ``frame`` (in place)."""
    status = members["status"]
    grouped = pd.DataFrame(
        {
            "all_done": (status == DONE).groupby(parent).all(),
            "delayed": (status == DELAYED).groupby(parent).any(),
            "started": status.isin([IN_PROGRESS, DONE]).groupby(parent).any(),
            "all_hold": (status == ON_HOLD).groupby(parent).all(),
        }
    )
    rolled = np.select(
        [grouped["all_done"], grouped["delayed"], grouped["started"], grouped["all_hold"]],
        [DONE, DELAYED, IN_PROGRESS, ON_HOLD],
        NOT_STARTED,
    )
    values: dict[str, pd.Series] = {
        "status": pd.Series(rolled, index=grouped.index),
        "percent": members["percent"].groupby(parent).mean().astype("int64"),
    }
    if "note" in members:  # what a reader of the roll-up row needs: how many are done
        done = (status == DONE).groupby(parent).sum()
        size = status.groupby(parent).size()
        values["note"] = "成员单位 " + done.astype(str) + "/" + size.astype(str) + " 已完成"
    if "light" in members:
        worst = members["light"].map(_LIGHT_ORDER).groupby(parent).max()
        values["light"] = worst.map(_LIGHT_OF)
    for column in ("due_date", "updated_at"):
        if column in members:
            values[column] = members[column].groupby(parent).max()
    at = frame.index[frame["rollup"].to_numpy()]
    rows = ids[frame["rollup"].to_numpy()]
    for column, by_parent in values.items():
        frame.loc[at, column] = by_parent.reindex(rows).to_numpy()


def counted(assignments: pd.DataFrame) -> pd.DataFrame:
    """The rows every count is made of: all but roll-up rows (their members count)."""
    if "rollup" not in assignments:
        return assignments
    return assignments[~assignments["rollup"].to_numpy(dtype=bool)]


UNNAMED_COLUMNS = ["assignment_id", "文号", "任务编号", "任务内容", "责任单位"]


def unnamed_rows(assignments: pd.DataFrame) -> pd.DataFrame:
    """The placeholder rows nobody has named yet (derived rows in), for the page that names
    them: :data:`UNNAMED_COLUMNS`, in document order."""
    if "unnamed" not in assignments or assignments.empty:
        return pd.DataFrame(columns=UNNAMED_COLUMNS)
    rows = assignments[assignments["unnamed"].to_numpy(dtype=bool)]
    return pd.DataFrame(
        {
            "assignment_id": rows["assignment_id"].astype("int64"),
            "文号": rows["doc_no"],
            "任务编号": rows["task_id"],
            "任务内容": rows["task_text"],
            "责任单位": rows["unit"],
        }
    ).reset_index(drop=True)


def collectives(assignments: pd.DataFrame) -> dict[str, list[str]]:
    """Collective -> its members with rows here (derived rows in), by member name."""
    if "collective" not in assignments:
        return {}
    members = assignments[assignments["collective"] != ""]
    return {
        str(collective): sorted(units.unique())
        for collective, units in members.groupby("collective", sort=True)["unit"]
    }


def group_label(collective: str, members: int) -> str:
    """How a collective shows as one group: ``各区政府（16个成员单位）``."""
    return f"{collective}（{members}个成员单位）"


def grouped(assignments: pd.DataFrame) -> pd.DataFrame:
    """The rows with each member's unit replaced by its collective's group label, for the
    views that show a collective as one unit (按责任单位, 覆盖矩阵): the group's figures are
    its members' rows added up (:func:`counted` still leaves the roll-up rows out)."""
    groups = collectives(assignments)
    if not groups:
        return assignments
    labels = {c: group_label(c, len(m)) for c, m in groups.items()}
    frame = assignments.copy(deep=False)
    member = (frame["collective"] != "").to_numpy()
    unit = frame["unit"].to_numpy(dtype=object, copy=True)
    unit[member] = frame.loc[member, "collective"].map(labels).to_numpy()
    frame["unit"] = unit
    return frame


def collective_of(label: str, assignments: pd.DataFrame) -> str | None:
    """The collective a group label (:func:`group_label`) stands for, else None."""
    for collective, members in collectives(assignments).items():
        if label == group_label(collective, len(members)):
            return collective
    return None


MEMBER_PROGRESS_COLUMNS = [
    "任务编号",
    "任务内容",
    "状态",
    "完成比例(%)",
    "预警",
    "成员完成",
    "未完成成员",
]


def member_progress(assignments: pd.DataFrame, collective: str) -> pd.DataFrame:
    """The collective's roll-up rows, one per task: rolled-up status, percent and light,
    ``成员完成`` as ``12/16 已完成`` and the members not done yet (derived rows in)."""
    rows = assignments[(assignments["unit"] == collective) & assignments["rollup"]]
    members = assignments[assignments["collective"] == collective]
    open_ = members[members["status"] != DONE].groupby("collective_id")["unit"].agg("、".join)
    return pd.DataFrame(
        {
            "任务编号": rows["task_id"],
            "任务内容": rows["task_text"],
            "状态": rows["status"].map(STATUS_LABELS),
            "完成比例(%)": rows["percent"],
            "预警": rows["light"].map(LIGHT_LABELS),
            "成员完成": [
                f"{d}/{n} 已完成"
                for d, n in zip(rows["members_done"], rows["members"], strict=True)
            ],
            "未完成成员": rows["assignment_id"].map(open_).fillna(""),
        },
        columns=MEMBER_PROGRESS_COLUMNS,
    ).reset_index(drop=True)
