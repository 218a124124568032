"""One log line per event: who did what, never a password, a token or a setup code.

Every line is ``event=<action> account=<name> key=value ...`` on the ``tracker.events``
logger, so ``journalctl -u tracker`` (or any log collector) can be grepped by account or
action.  Values are quoted when they hold spaces; newlines are flattened so one event stays
one line.

>>> format_event("sign_in", "张三", ok=True)
'event=sign_in account=张三 ok=True'
"""

from __future__ import annotations

import logging
import sys

LOGGER = logging.getLogger("tracker.events")
# Keys whose values never reach a log line, whatever a caller passes.
SECRET_KEYS = frozenset({"password", "token", "code", "secret", "setup_code"})


def _configure() -> None:
    """A stderr handler of our own (Streamlit configures only its own loggers)."""
    if not LOGGER.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        LOGGER.addHandler(handler)
        LOGGER.setLevel(logging.INFO)


def _value(value: object) -> str:
    text = " ".join(str(value).split())
    return f'"{text}"' if (" " in text or not text) else text


def format_event(action: str, account: str | None = None, **details: object) -> str:
    """The one line an event is logged as (secrets dropped, one line whatever the values)."""
    parts = [f"event={_value(action)}", f"account={_value(account or '-')}"]
    parts += [f"{key}={_value(value)}" for key, value in details.items() if key not in SECRET_KEYS]
    return " ".join(parts)


def log_event(action: str, account: str | None = None, **details: object) -> None:
    """Log one event: ``log_event("publish", "督办甲", policy="x-2025-1")``."""
    _configure()
    LOGGER.info(format_event(action, account, **details))
