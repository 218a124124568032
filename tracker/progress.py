"""Progress rules, the warning light and reporting periods: pure functions, no database.

An :class:`Update` is one proposed change to an assignment's progress, whichever way it
comes in (web page, Excel file, API); the store calls :func:`check_progress` before it
writes anything, so the rules hold for all of them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
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
    MAX_DEADLINE_YEARS,
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
# A typed date: 2026-12-31, 2026/12/31, 2026.12.31 or 2026年12月31日, optionally with a time
# (what a date cell read as text, or a timestamp turned into text, looks like).
_DATE_TEXT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?"
)
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


def text_problems(texts: Iterable[str]) -> dict[str, str]:
    """text -> why, for each of ``texts`` that :func:`text_problem` refuses.  The usual
    case, none, costs one scan of them all (an import's 20,000 keys).

    >>> list(text_problems(["市科委", "资金" + chr(1)]).values())
    ['含有 Excel 无法保存的控制字符（U+0001），请删除后再提交']
    """
    distinct = set(texts)
    if not _UNSTORABLE.search("\n".join(distinct)) and (
        max(map(len, distinct), default=0) <= MAX_TEXT_CHARS
    ):
        return {}
    return {text: why for text in distinct if (why := text_problem(text))}


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
            day = parse_day(str(value))
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


def parse_day(text: str) -> date:
    """A typed date, read strictly: a month or day that does not exist is refused, never
    rolled over into another date (``2025-13-45`` is not 2026-02-14 nor 2025-03-05).

    >>> parse_day("2026年2月28日"), parse_day(" 2026/12/31 00:00:00 ")
    (datetime.date(2026, 2, 28), datetime.date(2026, 12, 31))
    >>> parse_day("2025-13-45")
    Traceback (most recent call last):
    ...
    ValueError: 完成时限 2025-13-45 不是有效日期（没有这个月或这一天），请按 2026-12-31 的格式填写
    """
    text = text.strip()
    match = _DATE_TEXT.fullmatch(text)
    if match is None:
        raise ValueError(DUE_DATE_ERROR)
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise ValueError(
            f"完成时限 {text} 不是有效日期（没有这个月或这一天），请按 2026-12-31 的格式填写"
        ) from None


def deadline_problem(
    day: date, *, issued: date | None, effective_to: date | None, today: date
) -> str | None:
    """Why ``day`` cannot be a task's deadline under its policy, or None: before the
    policy was issued (成文日期), after its 有效期 ends, or more than
    :data:`~tracker.schema.MAX_DEADLINE_YEARS` years from ``today``.  ``plan_apply`` runs it
    on every deadline that changes, whichever way it came in.

    >>> deadline_problem(date(2025, 3, 5), issued=date(2026, 1, 10), effective_to=None,
    ...                  today=date(2026, 11, 23))
    '完成时限 2025-03-05 早于政策成文日期 2026-01-10'
    """
    if issued is not None and day < issued:
        return f"完成时限 {day} 早于政策成文日期 {issued}"
    if effective_to is not None and day > effective_to:
        return f"完成时限 {day} 晚于政策有效期截止日 {effective_to}"
    latest = _years_after(today, MAX_DEADLINE_YEARS)
    if day > latest:
        return f"完成时限 {day} 超过 {MAX_DEADLINE_YEARS} 年以后（最晚 {latest}），请核对"
    return None


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_progress(state: Mapping[str, object]) -> list[str]:
    """Check a full progress state; return its errors as Chinese sentences.

    The store runs it on every save, whichever way the change came in, so the web editor and
    an Excel import refuse the same things with the same words.

    >>> check_progress({"status": "done", "percent": 80, "note": ""})
    ['状态为“已完成”时完成比例必须为100']
    """
    errors: list[str] = []
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
    return errors


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
