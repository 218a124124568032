"""The session cookie's token (tracker.session_tokens): a reload signs the same account in
again, and nothing else does — a forged or stale token, a sign-in past the 12-hour cap, a
changed password, a disabled account."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from tests.factories import signed_in
from tracker import session_tokens
from tracker.store import Store

IDLE, CAP = timedelta(minutes=30), timedelta(hours=12)
NOW = datetime(2026, 3, 2, 9, 0)


@pytest.fixture
def store(make_store, small_measures) -> Store:
    return make_store(small_measures)


def _restore(store: Store, token: str, now: datetime = NOW):
    return session_tokens.restore(store, token, idle=IDLE, cap=CAP, now=now)


def test_a_token_signs_its_account_in_again_and_keeps_the_sign_in_time(store) -> None:
    account = signed_in(store, "督办甲")
    token = session_tokens.issue(store, account, NOW - timedelta(hours=1))
    restored = _restore(store, token)
    assert restored is not None
    assert (restored.account.username, restored.signed_in_at) == (
        "督办甲",
        NOW - timedelta(hours=1),
    )
    assert "督办甲" not in token  # signed, and the name is not readable as plain text either


def test_a_changed_or_foreign_token_is_refused(store) -> None:
    account = signed_in(store, "督办甲")
    token = session_tokens.issue(store, account, NOW)
    payload, signature = token.rsplit(".", 1)
    assert _restore(store, payload + "." + signature[::-1]) is None
    assert _restore(store, "not-a-token") is None
    assert _restore(store, "") is None


def test_a_token_older_than_the_idle_limit_is_refused(store, monkeypatch) -> None:
    token = session_tokens.issue(store, signed_in(store, "督办甲"), NOW)
    later = time.time() + IDLE.total_seconds() + 5
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    assert _restore(store, token) is None


def test_a_sign_in_older_than_the_cap_is_refused(store) -> None:
    token = session_tokens.issue(
        store, signed_in(store, "督办甲"), NOW - CAP - timedelta(minutes=1)
    )
    assert _restore(store, token) is None


def test_a_new_password_or_a_disabled_account_ends_every_token(store) -> None:
    account = signed_in(store, "督办甲")
    token = session_tokens.issue(store, account, NOW)
    store.accounts.reset_password("督办甲", "another-password-456")
    assert _restore(store, token) is None

    token = session_tokens.issue(store, account, NOW)
    assert _restore(store, token) is not None
    store.accounts.set_active("督办甲", False)
    assert _restore(store, token) is None
