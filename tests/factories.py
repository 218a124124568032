"""Test data builders shared by the suite: accounts that really sign in.

Every write in the product is tied to a signed-in account, so tests create an account the
way the CLI does and sign in with its password, never by building an ``Account`` by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from weakref import WeakKeyDictionary

from tracker.accounts import Account
from tracker.schema import STAFF, SUPERVISOR
from tracker.store import Store

PASSWORD = "test-password-123"
_signed_in: WeakKeyDictionary[Store, dict[str, Account]] = WeakKeyDictionary()


def signed_in(
    store: Store,
    username: str = "督办甲",
    role: str = SUPERVISOR,
    units: Iterable[str] = (),
    *,
    password: str = PASSWORD,
) -> Account:
    """Create the account (if new) and sign in with its password (once per store: argon2
    is slow on purpose)."""
    known = _signed_in.setdefault(store, {})
    if username not in known:
        store.accounts.add(username, role=role, units=units, password=password)
        known[username] = store.accounts.sign_in(username, password)
    return known[username]


def staff(store: Store, unit: str, username: str | None = None) -> Account:
    """A signed-in 填报员 of ``unit``."""
    return signed_in(store, username or f"{unit}填报员", STAFF, [unit])
