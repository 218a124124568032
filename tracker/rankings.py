"""Rankings (通报): units compared on four figures, for this reporting period and the one
before, and units late two periods in a row flagged.  Pure functions: frames in, frame out.

Each figure is read "as of" a moment: for the current period, now (today's deadlines, the
current statuses); for a past period, the end of its last day, with statuses and deadlines
rebuilt from the append-only history.  Every unit's own assignments count (lead and support
alike), as for 分工完成率.

* 按期完成率: of the assignments whose deadline had passed, the share done by their
  deadline (deadline passed = the deadline is before the as-of day);
* 逾期: assignments whose deadline had passed and that were not done — the red light's
  "past due and not done";
* 一次审核通过率: of the assignments whose report for the period was reviewed, the share
  accepted at the first review (not sent back first);
* 距上次更新天数: days from the unit's last progress change to the as-of day.

A unit is late in a period when it has at least one overdue assignment; late in both the
period and the one before, it is flagged (连续两期逾期).

>>> table = rankings(assignments, history, steps, today=date(2026, 11, 30))  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd

from tracker.progress import period_of
from tracker.rollup import counted, group_label
from tracker.schema import ACCEPTED, DONE, RETURNED

UNIT = "责任单位"
RANK = "名次"
ASSIGNMENTS = "分工数"
DUE = "到期"
ON_TIME = "按期完成"
ON_TIME_RATE = "按期完成率"
OVERDUE = "逾期"
FIRST_PASS = "一次审核通过率"
IDLE_DAYS = "距上次更新天数"
FLAG = "连续两期逾期"
NOTE = "说明"
PREVIOUS = "上期"
# Below this many due assignments a rate is stated as resting on few cases.
SMALL_DUE = 3
NOTHING_DUE = "本期无到期任务，不参加排名"
PLACEHOLDER_NOTE = "待明确的单位，不参加排名"
TIED = "并列"
FEW_DUE = f"到期分工少于{SMALL_DUE}项，比率仅供参考"
# Unit kinds that stand for units not yet named (各相关单位): never ranked.
UNRANKED_KINDS: frozenset[str] = frozenset({"placeholder"})
FIGURE_COLUMNS: list[str] = [
    ASSIGNMENTS,
    DUE,
    ON_TIME,
    ON_TIME_RATE,
    OVERDUE,
    FIRST_PASS,
    IDLE_DAYS,
]
COMPARED: list[str] = [ON_TIME_RATE, OVERDUE, FIRST_PASS, IDLE_DAYS]
RANKING_COLUMNS: list[str] = [
    RANK,
    UNIT,
    *FIGURE_COLUMNS,
    *(PREVIOUS + c for c in COMPARED),
    FLAG,
    NOTE,
]
RATE_COLUMNS: list[str] = [ON_TIME_RATE, FIRST_PASS, PREVIOUS + ON_TIME_RATE, PREVIOUS + FIRST_PASS]
DEFINITIONS: dict[str, str] = {
    DUE: "完成时限早于统计日的分工数",
    ON_TIME_RATE: "到期分工中，在完成时限当日或之前标记为已完成的比例",
    OVERDUE: "完成时限早于统计日且尚未完成的分工数（即红灯中的“超期未完成”）",
    FIRST_PASS: "本期报送经审核的分工中，第一次审核即通过（未被退回）的比例",
    IDLE_DAYS: "统计日距本单位最近一次进度更新的天数（从未更新为空）",
    FLAG: "本期和上期都有逾期分工",
}
RANKING_ORDER = (
    "排序：按期完成率高者在前，其次逾期少、一次审核通过率高、距上次更新天数少；"
    "各项都相同的单位名次并列；本期无到期任务的单位和待明确的单位不参加排名，列在表末"
)


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of a reporting period (``2026-11`` or ``2026-Q4``).

    >>> period_bounds("2026-Q4")
    (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))
    """
    year, rest = period.split("-")
    if rest.startswith("Q"):
        first_month = (int(rest[1:]) - 1) * 3 + 1
        months = 3
    else:
        first_month, months = int(rest), 1
    start = date(int(year), first_month, 1)
    end_month = first_month + months
    end = date(int(year) + (end_month > 12), (end_month - 1) % 12 + 1, 1) - timedelta(days=1)
    return start, end


def previous_period(period: str) -> str:
    """The period before ``period``, of the same kind.

    >>> previous_period("2026-01"), previous_period("2026-Q1")
    ('2025-12', '2025-Q4')
    """
    start, _ = period_bounds(period)
    kind = "quarter" if "Q" in period else "month"
    return period_of(start - timedelta(days=1), kind)


def _value_at(current: pd.Series, changes: pd.DataFrame, moment: datetime | None) -> pd.Series:
    """Each assignment's value of one field at ``moment``: the old value of its first change
    after that moment, else its current value (``current`` is indexed by assignment id)."""
    if moment is None or changes.empty:
        return current
    later = changes[changes["changed_at"] >= moment].sort_values("changed_at", kind="stable")
    first = later.drop_duplicates("assignment_id").set_index("assignment_id")["old_value"]
    then = current.copy()
    known = first.index.intersection(then.index)
    then.loc[known] = first.loc[known]
    return then


def _as_of(period: str, today: date) -> tuple[date, datetime | None]:
    """The day deadlines are compared with, and the moment values are read at (None: now)."""
    if period == period_of(today, "quarter" if "Q" in period else "month"):
        return today, None
    day_after = period_bounds(period)[1] + timedelta(days=1)
    return day_after, datetime.combine(day_after, datetime.min.time())


def unit_figures(
    assignments: pd.DataFrame,
    history: pd.DataFrame,
    steps: pd.DataFrame,
    period: str,
    today: date,
) -> pd.DataFrame:
    """The figures of one period, one row per unit (indexed by unit).

    ``assignments``: assignment_id, unit, status, due_date (current values).
    ``history``: assignment_id, field, old_value, new_value, changed_at
    (:meth:`tracker.supervision.Supervision.ranking_history`).
    ``steps``: assignment_id, period, action, step_id (the supervision steps).
    """
    cut_day, moment = _as_of(period, today)
    changes = history.assign(changed_at=pd.to_datetime(history["changed_at"]))
    figures = _deadline_figures(assignments, changes, cut_day, moment)
    figures[FIRST_PASS] = _first_pass(assignments, steps, period).reindex(figures.index)
    last = _last_change(assignments, changes, moment).reindex(figures.index)
    seen_day = pd.Timestamp(cut_day if moment is None else cut_day - timedelta(days=1))
    figures[IDLE_DAYS] = (seen_day - last.dt.normalize()).dt.days
    return figures[FIGURE_COLUMNS]


def _deadline_figures(
    assignments: pd.DataFrame, changes: pd.DataFrame, cut_day: date, moment: datetime | None
) -> pd.DataFrame:
    """Per unit: assignments, those due by ``cut_day``, done on time, overdue, and the
    on-time rate, from the status and deadline each assignment had at ``moment``."""
    ids = assignments["assignment_id"].to_numpy()
    status_now = pd.Series(assignments["status"].to_numpy(), index=ids, dtype=object)
    due_now = pd.Series(_iso_days(assignments["due_date"]).to_numpy(), index=ids, dtype=object)
    status = _value_at(status_now, changes[changes["field"] == "status"], moment)
    due_text = _value_at(due_now, changes[changes["field"] == "due_date"], moment)
    due = pd.to_datetime(due_text.where(due_text != ""), errors="coerce")
    done_at = (
        changes[
            (changes["field"] == "status")
            & (changes["new_value"] == DONE)
            & ((changes["changed_at"] < moment) if moment is not None else True)
        ]
        .groupby("assignment_id")["changed_at"]
        .max()
        .reindex(ids)
    )
    cut = pd.Timestamp(cut_day)
    is_done = (status == DONE).to_numpy()
    passed = (due < cut).to_numpy()
    on_time = passed & is_done & (done_at.dt.normalize() <= due).to_numpy()
    per_row = pd.DataFrame(
        {
            "unit": assignments["unit"].to_numpy(),
            ASSIGNMENTS: 1,
            DUE: passed.astype(int),
            ON_TIME: on_time.astype(int),
            OVERDUE: (passed & ~is_done).astype(int),
        }
    )
    figures = per_row.groupby("unit")[[ASSIGNMENTS, DUE, ON_TIME, OVERDUE]].sum()
    figures[ON_TIME_RATE] = figures[ON_TIME] / figures[DUE].where(figures[DUE] > 0)
    return figures


def _first_pass(assignments: pd.DataFrame, steps: pd.DataFrame, period: str) -> pd.Series:
    """Per unit: the share of its reports in ``period`` accepted at their first review."""
    ids = assignments["assignment_id"].to_numpy()
    reviews = steps[(steps["period"] == period) & steps["action"].isin([ACCEPTED, RETURNED])]
    first = reviews.sort_values("step_id").drop_duplicates("assignment_id")
    unit_of = pd.Series(assignments["unit"].to_numpy(), index=ids)
    first = first[first["assignment_id"].isin(ids)]
    return (
        pd.DataFrame(
            {
                "unit": unit_of.loc[first["assignment_id"].to_numpy()].to_numpy(),
                "accepted": (first["action"] == ACCEPTED).to_numpy(),
            }
        )
        .groupby("unit")["accepted"]
        .mean()
    )


def _last_change(
    assignments: pd.DataFrame, changes: pd.DataFrame, moment: datetime | None
) -> pd.Series:
    """Per unit: when any of its assignments last changed before ``moment``."""
    ids = assignments["assignment_id"].to_numpy()
    unit_of = pd.Series(assignments["unit"].to_numpy(), index=ids)
    touched = changes if moment is None else changes[changes["changed_at"] < moment]
    touched = touched[touched["assignment_id"].isin(ids)]
    return (
        pd.DataFrame(
            {
                "unit": unit_of.loc[touched["assignment_id"].to_numpy()].to_numpy(),
                "at": touched["changed_at"].to_numpy(),
            }
        )
        .groupby("unit")["at"]
        .max()
    )


def rankings(
    assignments: pd.DataFrame,
    history: pd.DataFrame,
    steps: pd.DataFrame,
    *,
    today: date,
    period: str | None = None,
) -> pd.DataFrame:
    """Units ranked for ``period`` (default: the one ``today`` is in) with the previous
    period's figures beside them and the 连续两期逾期 flag.  Columns: :data:`RANKING_COLUMNS`;
    rates are shares (0–1), empty where nothing counted."""
    period = period or period_of(today)
    assignments = counted(assignments)  # members rank, their collective row does not
    # Plain object columns once: every figure of both periods pulls unit and status out as
    # NumPy, and each pull from Arrow strings made 100,000 new str objects.
    wanted = [
        c for c in ("assignment_id", "unit", "status", "due_date", "unit_kind") if c in assignments
    ]
    assignments = assignments[wanted].astype({"unit": object, "status": object})
    now_figures = unit_figures(assignments, history, steps, period, today)
    before = unit_figures(assignments, history, steps, previous_period(period), today)
    table = now_figures.join(before[COMPARED].add_prefix(PREVIOUS), how="left")
    table[FLAG] = (table[OVERDUE] > 0) & (table[PREVIOUS + OVERDUE] > 0)
    table = table.rename_axis(UNIT).reset_index()
    placeholder = table[UNIT].isin(_placeholder_units(assignments))
    table = table.assign(_placeholder=placeholder, _unranked=(table[DUE] == 0) | placeholder)
    table = table.sort_values(
        ["_unranked", "_placeholder", ON_TIME_RATE, OVERDUE, FIRST_PASS, IDLE_DAYS, UNIT],
        ascending=[True, True, False, True, False, True, True],
        na_position="last",
        kind="stable",
    ).reset_index(drop=True)
    table.insert(0, RANK, _competition_ranks(table, ~table["_unranked"].to_numpy()))
    table[NOTE] = _notes(table, table["_placeholder"].to_numpy())
    table = table[RANKING_COLUMNS]
    table.attrs["period"] = period
    return table


def _placeholder_units(assignments: pd.DataFrame) -> set[str]:
    if "unit_kind" not in assignments:
        return set()
    return set(assignments.loc[assignments["unit_kind"].isin(UNRANKED_KINDS), "unit"])


def _competition_ranks(table: pd.DataFrame, ranked) -> pd.Series:
    """1, 2, 2, 4 …: units equal on every ranking figure share a place; unranked rows get
    none (the table is already sorted, ranked rows first)."""
    keys = table[[ON_TIME_RATE, OVERDUE, FIRST_PASS, IDLE_DAYS]].astype(object)
    keys = keys.where(keys.notna(), None)
    ranks: list[object] = []
    previous: tuple | None = None
    for position, (row, is_ranked) in enumerate(
        zip(keys.itertuples(index=False, name=None), ranked, strict=True), start=1
    ):
        if not is_ranked:
            ranks.append(pd.NA)
            continue
        ranks.append(ranks[-1] if row == previous else position)
        previous = row
    return pd.Series(ranks, index=table.index, dtype="Int64")


def _notes(table: pd.DataFrame, placeholder) -> list[str]:
    """Why a row is not ranked, or what to bear in mind reading its place."""
    tied = table[RANK].duplicated(keep=False) & table[RANK].notna()
    notes = []
    for due, is_tied, is_placeholder in zip(table[DUE], tied, placeholder, strict=True):
        if is_placeholder:
            notes.append(PLACEHOLDER_NOTE)
        elif due == 0:
            notes.append(NOTHING_DUE)
        else:
            parts = [TIED] if is_tied else []
            parts += [FEW_DUE] if due < SMALL_DUE else []
            notes.append("；".join(parts))
    return notes


def ranking_notes(period: str) -> list[str]:
    """The definitions printed under the table (page and Excel sheet)."""
    start, end = period_bounds(period)
    return [
        f"本期 {period}（{start} 至 {end}，当期按今日统计），上期 {previous_period(period)}"
        "（按该期最后一日结束时统计）",
        *(f"{name}：{text}" for name, text in DEFINITIONS.items()),
        RANKING_ORDER,
    ]


def ranking_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table as pages show it: rates as percentages, the flag as 是/blank, every empty
    cell empty (never "None" or "<NA>")."""
    shown_table = table.copy()
    # Counts of this period are never empty and stay numbers (the grid sorts them); the
    # columns that can be empty become text.
    for column in (RANK, IDLE_DAYS, PREVIOUS + OVERDUE, PREVIOUS + IDLE_DAYS):
        shown_table[column] = ["" if pd.isna(v) else str(int(v)) for v in shown_table[column]]
    for column in RATE_COLUMNS:
        shown_table[column] = [percent_text(v) for v in shown_table[column]]
    shown_table[FLAG] = shown_table[FLAG].map({True: "是", False: ""})
    return shown_table


def collective_groups(
    table: pd.DataFrame, groups: dict[str, list[str]]
) -> list[tuple[str, pd.DataFrame]]:
    """Each collective (``tracker.rollup.collectives``) as one group of the ranking: a line
    adding its members' figures up, and its members' rows of ``table`` (the drill-down)."""
    found = []
    for collective, members in groups.items():
        own = table[table[UNIT].isin(members)]
        due, on_time = int(own[DUE].sum()), int(own[ON_TIME].sum())
        ranks = own[RANK].dropna()
        line = (
            f"{group_label(collective, len(members))}：{DUE} {due}，{ON_TIME} {on_time}，"
            f"{OVERDUE} {int(own[OVERDUE].sum())}"
            + (f"，名次 {int(ranks.min())}–{int(ranks.max())}" if len(ranks) else "")
        )
        found.append((line, own))
    return found


def percent_text(value: float | None) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.0%}"


def _iso_days(values: pd.Series) -> pd.Series:
    """Days as ISO text, "" where there is none: the form ``progress_history`` stores them in."""
    return pd.to_datetime(values, errors="coerce").dt.strftime("%Y-%m-%d").fillna("")
