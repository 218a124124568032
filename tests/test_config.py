"""Settings are declared once (tracker.config): invalid values are errors naming the
variable, and the README's configuration table lists every one of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker import config
from tracker.errors import ConfigError
from tracker.progress import period_kind

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize(
    "name,raw",
    [
        ("TRACKER_PERIOD", "week"),
        ("TRACKER_SESSION_MINUTES", "0"),
        ("TRACKER_SESSION_MINUTES", "x"),
    ],
)
def test_invalid_values_name_the_variable(name, raw):
    with pytest.raises(ConfigError, match=name):
        config.value(name, {name: raw})


def test_unknown_period_is_an_error_not_month(monkeypatch):
    monkeypatch.setenv("TRACKER_PERIOD", "week")
    with pytest.raises(ConfigError, match="TRACKER_PERIOD='week'"):
        period_kind()
    monkeypatch.setenv("TRACKER_PERIOD", "quarter")
    assert period_kind() == "quarter"
    monkeypatch.delenv("TRACKER_PERIOD")
    assert period_kind() == "month"


def test_readme_documents_every_setting():
    text = README.read_text(encoding="utf-8")
    missing = [name for name in config.SETTINGS if f"`{name}`" not in text]
    assert missing == []
