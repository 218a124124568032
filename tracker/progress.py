"""Progress rules, the warning light and reporting periods: pure functions, no database.

An :class:`Update` is one proposed change to an assignment's progress, whichever way it
comes in (web page, Excel file, API); the store calls :func:`check_progress` before it
writes anything, so the rules hold for all of them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import overload
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from tracker import config
from tracker.schema import (
    DELAYED,
    DONE,
    DUE_SOON_DAYS,
    GREEN,
    IN_PROGRESS,
    PROGRESS_FIELDS,
    RED,
    STALE_DAYS,
    STATUS_CODES,
    STATUS_LABELS,
    STATUSES_NEEDING_NOTE,
    TEXT_FIELDS,
    YELLOW,
)

TZ = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """Current Shanghai wall-clock time, naive (as stored in the database)."""
    return datetime.now(TZ).replace(tzinfo=None, microsecond=0)


@dataclass
class Update:
    """Changes to one assignment, based on the version the editor loaded.

    ``changes`` maps a field of :data:`tracker.schema.PROGRESS_FIELDS` to its new value;
    status may be a code or a Chinese label.  ``row`` locates it in the user's file/grid.
    :meth:`tracker.store.Store.apply` validates and writes a batch of them.

    >>> Update(17, 3, {"status": "推进中", "percent": 40}, row=5).base_version
    3
    """

    assignment_id: int
    base_version: int
    changes: dict[str, object]
    row: int | None = None
    sheet: str | None = None


# --- reporting periods -----------------------------------------------------------


def period_kind() -> str:
    """``month`` (月报, default) or ``quarter`` (季报), from ``TRACKER_PERIOD``."""
    return str(config.value("TRACKER_PERIOD"))


def period_of(day: date, kind: str | None = None) -> str:
    """The reporting period a day belongs to.

    >>> period_of(date(2026, 11, 23)), period_of(date(2026, 11, 23), "quarter")
    ('2026-11', '2026-Q4')
    """
    kind = kind or period_kind()
    if kind == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


# --- value normalisation -------------------------------------------------------------


def is_blank(value: object) -> bool:
    """None, NA, NaN, NaT or a string of only whitespace: an empty cell."""
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def normalize_status(value: object) -> str | None:
    """Accept a code (``done``) or a Chinese label (``已完成``); None if neither."""
    if is_blank(value):
        return None
    text = str(value).strip()
    if text in STATUS_LABELS:
        return text
    return STATUS_CODES.get(text)


PERCENT_ERROR = "完成比例必须是0到100之间的整数"
IN_PROGRESS_AT_100 = "状态为“推进中”时完成比例不能为100；已全部完成请将状态改为“已完成”"
# Deadlines outside this span are typing errors (0001-01-01, 1899-12-30 from a blank Excel
# date, 20261-12-31); the template's date validation offers the same span.
EARLIEST_DUE, LATEST_DUE = date(2000, 1, 1), date(2099, 12, 31)
DUE_DATE_ERROR = "完成时限必须是日期（如 2026-12-31）"
MAX_TEXT_CHARS = 32_767  # what one Excel cell holds
# What an Excel cell (XML 1.0) cannot hold and PostgreSQL text refuses (NUL): tab, line feed
# and carriage return are the only control characters allowed.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored and exported to Excel as it is, or None.

    Refused rather than cleaned, so that what is saved is exactly what the user typed and a
    report or template round trip gives it back unchanged.

    >>> text_problem("资金" + chr(0) + "到位")
    '含有 Excel 无法保存的控制字符（U+0000），请删除后再提交'
    """
    bad = _UNSTORABLE.search(text)
    if bad:
        return f"含有 Excel 无法保存的控制字符（U+{ord(bad.group()):04X}），请删除后再提交"
    if len(text) > MAX_TEXT_CHARS:
        return (
            f"文字长度 {len(text):,} 超过 Excel 单元格上限 {MAX_TEXT_CHARS:,} 个字符，"
            "请精简后再提交"
        )
    return None


def normalize_value(field: str, value: object) -> object:
    """Turn an edited cell into the stored type, raising ValueError with a Chinese reason.

    One rule for every way in (web editor, Excel import, API): percent a whole number 0-100
    (150 is refused, never clamped), a due date between 2000-01-01 and 2099-12-31 written
    as a whole date, text Excel can hold.  The common, already-clean values (a code, an int,
    a date, a plain string) return first: an Excel import sends tens of thousands of them
    through here.

    >>> normalize_value("percent", "40%"), normalize_value("due_date", "2026-12-31")
    (40, datetime.date(2026, 12, 31))
    """
    if field == "status":
        code = value if value in STATUS_LABELS else normalize_status(value)
        if code is None:
            allowed = "、".join(STATUS_LABELS.values())
            raise ValueError(f"状态必须是以下之一：{allowed}")
        return code
    if field == "percent":
        if type(value) is int and 0 <= value <= 100:
            return value
        if is_blank(value):
            return 0
        if isinstance(value, bool):
            raise ValueError(PERCENT_ERROR)
        try:
            number = float(str(value).strip().rstrip("%"))
        except ValueError:
            raise ValueError(PERCENT_ERROR) from None
        if not math.isfinite(number) or not number.is_integer() or not 0 <= number <= 100:
            raise ValueError(PERCENT_ERROR)
        return int(number)
    if field == "due_date":
        if is_blank(value):
            return None
        if isinstance(value, datetime):  # pandas.Timestamp is a datetime too
            day = value.date()
        elif isinstance(value, date):
            day = value
        else:
            day = _iso_day(str(value).strip())
        if not EARLIEST_DUE <= day <= LATEST_DUE:
            raise ValueError(f"完成时限必须在 {EARLIEST_DUE} 至 {LATEST_DUE} 之间")
        return day
    if field in TEXT_FIELDS:
        if type(value) is not str:
            value = "" if is_blank(value) else str(value)
        problem = text_problem(value)
        if problem:
            raise ValueError(problem)
        return value.strip()
    raise ValueError(f"未知字段 {field}")


def _iso_day(text: str) -> date:
    """A whole ISO date (``2026-12-31``) or date-time; anything after it is refused."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(DUE_DATE_ERROR) from None


def check_progress(
    state: Mapping[str, object],
    *,
    effective_from: date | None = None,
    effective_to: date | None = None,
) -> tuple[list[str], list[str]]:
    """Check a full progress state; return (errors, warnings) as Chinese sentences.

    The store runs it on every save, whichever way the change came in, so the web editor and
    an Excel import refuse the same things with the same words.

    >>> check_progress({"status": "done", "percent": 80, "note": ""})[0]
    ['状态为“已完成”时完成比例必须为100']
    """
    errors: list[str] = []
    warnings: list[str] = []
    status = state.get("status")
    percent = state.get("percent")
    if status not in STATUS_LABELS:
        errors.append(f"未知状态 {status!r}")
    if not isinstance(percent, int) or not 0 <= percent <= 100:
        errors.append(PERCENT_ERROR)
    elif status == DONE and percent != 100:
        errors.append("状态为“已完成”时完成比例必须为100")
    elif status == IN_PROGRESS and percent == 100:
        errors.append(IN_PROGRESS_AT_100)
    if status in STATUSES_NEEDING_NOTE and is_blank(state.get("note")):
        errors.append(
            f"状态为“{STATUS_LABELS[status]}”时必须填写{PROGRESS_FIELDS['note']}（说明原因）"
        )
    due = state.get("due_date")
    too_early = effective_from is not None and isinstance(due, date) and due < effective_from
    too_late = effective_to is not None and isinstance(due, date) and due > effective_to
    if too_early or too_late:
        span = f"{effective_from or '—'} 至 {effective_to or '—'}"
        warnings.append(f"完成时限 {due} 超出政策有效期（{span}）")
    return errors, warnings


# --- warning light (红黄绿灯) -----------------------------------------------------------


# Light codes by index: 0 green, 1 yellow, 2 red (taking from this is faster than np.where
# on strings, and gives plain Python strings).
_LIGHT_OF = np.array([GREEN, YELLOW, RED], dtype=object)


@overload
def warning_light(rows: pd.DataFrame, today: date | None = None) -> pd.Series: ...


@overload
def warning_light(rows: Mapping[str, object], today: date | None = None) -> str: ...


def warning_light(
    rows: pd.DataFrame | Mapping[str, object], today: date | None = None
) -> pd.Series | str:
    """Red / yellow / green for one row (a mapping) or for a whole DataFrame (vectorised).

    red: delayed, or past due and not done.  yellow: due within 30 days and not done,
    or no update for 60 days (counting from when the store first assigned the row, if never
    updated).  Uses columns ``status``, ``due_date``, ``updated_at`` and, if present,
    ``assigned_at``.

    >>> warning_light({"status": "delayed", "due_date": None, "updated_at": None})
    'red'
    """
    if not isinstance(rows, pd.DataFrame):
        return str(warning_light(pd.DataFrame([dict(rows)]), today).iloc[0])
    today_ts = pd.Timestamp(today or now().date())
    if rows.empty:
        return pd.Series([], index=rows.index, dtype=object)
    status = rows["status"]
    open_ = (status != DONE).to_numpy(dtype=bool)
    days_left = (pd.to_datetime(rows["due_date"], errors="coerce") - today_ts).dt.days.to_numpy()
    idle_days = (today_ts - last_touched(rows)).dt.days.to_numpy()
    with np.errstate(invalid="ignore"):  # NaN days (no date) compare False
        red = (status == DELAYED).to_numpy(dtype=bool) | (open_ & (days_left < 0))
        yellow = open_ & ((days_left <= DUE_SOON_DAYS) | (idle_days > STALE_DAYS))
    light = _LIGHT_OF[np.where(red, 2, yellow.astype(np.intp))]
    return pd.Series(light, index=rows.index, dtype=object)


def last_touched(rows: pd.DataFrame) -> pd.Series:
    """When each row last moved: its last update, else when the store first assigned it."""
    touched = pd.to_datetime(rows["updated_at"], errors="coerce")
    if "assigned_at" in rows:
        touched = touched.fillna(pd.to_datetime(rows["assigned_at"], errors="coerce"))
    return touched


def stale(rows: pd.DataFrame, today: date | None = None) -> pd.Series:
    """True where an open assignment has not moved for more than 60 days, counting from
    its first assignment when never updated (a row with neither date counts as stale)."""
    today_ts = pd.Timestamp(today or now().date())
    touched = last_touched(rows)
    idle = (today_ts - touched).dt.days
    return (rows["status"] != DONE) & (touched.isna() | (idle > STALE_DAYS))
