"""Every setting the tracker reads from the environment, declared once: name, default,
meaning and how a value is checked.  An invalid value is an error naming the variable, never
a silent fallback.

>>> value("TRACKER_PERIOD", {"TRACKER_PERIOD": "quarter"})
'quarter'
>>> value("TRACKER_PERIOD", {"TRACKER_PERIOD": "week"})
Traceback (most recent call last):
...
tracker.errors.ConfigError: TRACKER_PERIOD='week'：可选值为 month、quarter
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tracker.errors import ConfigError
from tracker.schema import (
    DATA_DIR,
    DEFAULT_DB_PATH,
    MEASURES_CSV,
    PERIOD_KINDS,
    SOURCES_DIR,
    UNITS_CSV,
)


def _choice(options: Mapping[str, str]) -> Callable[[str], str]:
    def check(raw: str) -> str:
        if raw not in options:
            raise ValueError(f"可选值为 {'、'.join(options)}")
        return raw

    return check


def _positive_int(raw: str) -> int:
    try:
        number = int(raw)
    except ValueError:
        raise ValueError("必须是正整数") from None
    if number <= 0:
        raise ValueError("必须是正整数")
    return number


def _text(raw: str) -> str:
    return raw.strip()


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    meaning: str
    parse: Callable[[str], object] = _text


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting(
            "DATABASE_URL",
            f"sqlite:///{DEFAULT_DB_PATH}",
            "Any SQLAlchemy URL; postgresql+psycopg://user@host:5432/db for a shared server.",
        ),
        Setting(
            "TRACKER_PERIOD",
            "month",
            "Reporting period: month (月报) or quarter (季报).",
            _choice(PERIOD_KINDS),
        ),
        Setting(
            "TRACKER_MEASURES_CSV",
            str(MEASURES_CSV),
            "The agency-by-task table the store syncs from on start.",
        ),
        Setting(
            "TRACKER_SOURCES_DIR",
            str(SOURCES_DIR),
            "The published policy texts (uploads on 政策库 are saved here too).",
        ),
        Setting("TRACKER_UNITS_CSV", str(UNITS_CSV), "The unit register, with aliases."),
        Setting(
            "TRACKER_SESSION_MINUTES",
            "30",
            "A signed-in session ends after this many idle minutes (12 hours at most).",
            _positive_int,
        ),
        Setting(
            "TRACKER_ADMIN_USER",
            "",
            "With no account in the database yet, create this admin on first start.",
        ),
        Setting("TRACKER_ADMIN_PASSWORD", "", "The password of TRACKER_ADMIN_USER."),
        Setting(
            "TRACKER_SETUP_CODE_FILE",
            str(DATA_DIR / "setup-code"),
            "Where first start writes the one-time setup code (mode 0600).",
        ),
    )
}


def value(name: str, environ: Mapping[str, str] | None = None) -> object:
    """The checked value of setting ``name`` (its default when unset or empty)."""
    setting = SETTINGS[name]
    raw = (os.environ if environ is None else environ).get(name, "")
    if raw == "":
        raw = setting.default
    try:
        return setting.parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r}：{exc}") from None
