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


def _days_list(raw: str) -> tuple[int, ...]:
    """``"7,1"`` -> (7, 1): days before a deadline to remind, largest first."""
    try:
        days = sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True)
    except ValueError:
        raise ValueError("须为逗号分隔的正整数，如 7,1") from None
    if not days or days[-1] <= 0:
        raise ValueError("须为逗号分隔的正整数，如 7,1")
    return tuple(days)


def _yes_no(raw: str) -> bool:
    if raw.lower() not in ("yes", "no"):
        raise ValueError("可选值为 yes、no")
    return raw.lower() == "yes"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    meaning: str
    parse: Callable[[str], object] = _text


# --- notices (tracker/notices.py, tracker/outbox.py, tracker/senders.py) -----------------
# The rules: code -> what it sends.  ``due_<N>`` exists for every N in TRACKER_NOTICE_DAYS.
NOTICE_RULES: dict[str, str] = {
    "due": "临近提醒：完成时限前 N 天（TRACKER_NOTICE_DAYS，默认 7 天和 1 天），每个时限一次",
    "overdue": "超期提醒：过了完成时限仍未完成，每天至多一次，直到办结",
    "returned": "退回通知：报送被退回，附退回理由",
    "extension_approved": "延期批准：新的完成时限",
    "extension_refused": "延期不予批准：附理由",
    "report_due": "报送提醒：本期结束前 N 天（TRACKER_NOTICE_REPORT_DAYS）仍未报送，每期一次",
    "remind": "催办：督办员在「催办」页记录催办时发送，每单位每天一次",
}
NOTICE_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "TRACKER_BASE_URL",
        "http://127.0.0.1:8501",
        "Where the dashboard is reached; every notice links to its task page under it.",
    ),
    Setting(
        "TRACKER_NOTICE_DAYS",
        "7,1",
        "Days before a deadline a reminder is sent (comma-separated).",
        _days_list,
    ),
    Setting(
        "TRACKER_NOTICE_REPORT_DAYS",
        "3",
        "Days before a reporting period ends that an unsent report is reminded.",
        _positive_int,
    ),
    Setting("TRACKER_SMTP_HOST", "", "SMTP server for e-mail notices (empty: e-mail waits)."),
    Setting("TRACKER_SMTP_PORT", "587", "SMTP port.", _positive_int),
    Setting(
        "TRACKER_SMTP_SECURITY",
        "starttls",
        "starttls (port 587), ssl (port 465) or none (a local relay only).",
        _choice({"starttls": "", "ssl": "", "none": ""}),
    ),
    Setting("TRACKER_SMTP_USER", "", "SMTP login (empty: no login)."),
    Setting(
        "TRACKER_SMTP_PASSWORD",
        "",
        "SMTP password; or [smtp] password in .streamlit/secrets.toml. Never shown or logged.",
    ),
    Setting("TRACKER_SMTP_FROM", "tracker@localhost", "The From address of e-mail notices."),
    Setting(
        "TRACKER_NOTICE_ATTEMPTS",
        "6",
        "Tries per notice before it is marked failed (shown on 催办 and 通知记录).",
        _positive_int,
    ),
    Setting(
        "TRACKER_NOTICE_BACKOFF_SECONDS",
        "60",
        "Wait before the first retry; doubled after every failed try.",
        _positive_int,
    ),
    Setting(
        "TRACKER_NOTICE_TIMEOUT_SECONDS",
        "10",
        "Network timeout of one send (SMTP or robot).",
        _positive_int,
    ),
    Setting(
        "TRACKER_NOTICE_LEASE_SECONDS",
        "300",
        "A notice claimed by a notify run that died is sent again after this long.",
        _positive_int,
    ),
)

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
        *NOTICE_SETTINGS,
        Setting(
            "TRACKER_EVIDENCE_MAX_MB",
            "20",
            "Largest evidence file (佐证文件) a unit may attach, in MB.",
            _positive_int,
        ),
        Setting(
            "TRACKER_EVIDENCE_MAX_FILES",
            "20",
            "Most evidence files one task × unit row may hold at once.",
            _positive_int,
        ),
        Setting(
            "TRACKER_CLOSE_NEEDS_EVIDENCE",
            "no",
            "yes: a task is closed (办结) only once its unit attached at least one evidence file.",
            _yes_no,
        ),
        Setting(
            "TRACKER_PARSE_SECONDS",
            "60",
            "An uploaded policy file is read and parsed in a worker process stopped after this long.",
            _positive_int,
        ),
        Setting(
            "TRACKER_PARSE_MEMORY_MB",
            "1024",
            "The address space (MB) of that worker process; a file needing more is refused.",
            _positive_int,
        ),
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
