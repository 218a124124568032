"""Validating an imported sheet's cells: each progress cell normalised by the store's rules
(:func:`tracker.progress.normalize_value`) or refused with the reason, the key cells as text,
the hidden 版本 column as a whole number.  Column-wise and cached per distinct value, so
checking stays cheap next to reading (:mod:`excel.read_sheet` calls these).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from tracker.progress import is_blank, normalize_value
from tracker.schema import TEXT_FIELDS


def cell_text(value: object) -> str:
    """A key or text cell as the user sees it (12.0 -> '12', dates as ISO)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def cell_value(name: str, value: object) -> object:
    """Normalise one progress cell by the store's rules; raises ValueError with a reason.

    What only a file can hold is settled first: a number that is not one (a cell holding
    ``inf`` or ``1e400`` reads as infinity, never as blank), a date typed as a plain number or
    a time.  Dates typed as text are read strictly by the store's rule
    (:func:`tracker.progress.parse_day`: 2026年12月31日 too, 2025-13-45 refused).
    """
    if name == "due_date":
        if isinstance(value, time | timedelta | int | float):
            raise ValueError("完成时限必须是日期（如 2026-12-31），不是数字或时间")
    elif isinstance(value, float) and not math.isfinite(value):
        if name in TEXT_FIELDS:
            raise ValueError(f"不是有效的数值（{value}）")
        value = str(value)  # not blank: the field's own rule refuses it, in its own words
    elif name in TEXT_FIELDS:
        value = "" if is_blank(value) else cell_text(value)
    return normalize_value(name, value)


class Refused:
    """A cell value that failed its check (cached like a good value)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def checked_column(name: str, values: Sequence[object]) -> list[object]:
    """Normalise a whole column; each distinct (type, value) is checked once.

    Real columns repeat a handful of statuses, percents and dates, so this turns ~7 checks
    per row into dictionary look-ups — the bulk of keeping validation cheap next to the read.
    """
    cache: dict[tuple[type, object], object] = {}
    out = []
    for value in values:
        key = (type(value), value)
        try:
            result = cache[key]
        except KeyError:
            try:
                result = cell_value(name, value)
            except ValueError as exc:
                result = Refused(str(exc))
            cache[key] = result
        except TypeError:  # unhashable: never from calamine, but stay safe
            try:
                result = cell_value(name, value)
            except ValueError as exc:
                result = Refused(str(exc))
        out.append(result)
    return out


def key_texts(values: Sequence[object]) -> list[str]:
    return [v.strip() if type(v) is str else ("" if is_blank(v) else cell_text(v)) for v in values]


def version_column(values: Sequence[object]) -> list[int | Refused | None]:
    cache: dict[tuple[type, object], int | Refused | None] = {}
    out = []
    for raw in values:
        key = (type(raw), raw)
        if key not in cache:
            cache[key] = version_of(raw)
        out.append(cache[key])
    return out


def version_of(raw: object) -> int | Refused:
    """A 版本 cell as a whole number >= 0 (``3``, ``3.0``, ``" 3 "``)."""
    version: int | None = None
    if isinstance(raw, str):
        try:
            version = int(raw.strip())
        except ValueError:
            version = None
    elif isinstance(raw, int) and not isinstance(raw, bool):
        version = raw
    elif isinstance(raw, float) and raw.is_integer():
        version = int(raw)
    if version is None or version < 0:
        return Refused("版本号无效（隐藏的「版本」列被改动），请重新下载模板")
    return version
