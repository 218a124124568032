"""Test data builders shared by the suite: accounts that really sign in.

Every write in the product is tied to a signed-in account, so tests create an account the
way the CLI does and sign in with its password, never by building an ``Account`` by hand.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from weakref import WeakKeyDictionary

import pandas as pd
from streamlit.testing.v1 import AppTest

from tracker.accounts import Account
from tracker.schema import STAFF, SUPERVISOR
from tracker.store import Store, database_url, make_engine

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


DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")


def sign_in_app(
    at: AppTest,
    username: str = "督办甲",
    role: str = SUPERVISOR,
    units: Iterable[str] = (),
    *,
    password: str = PASSWORD,
) -> AppTest:
    """Sign ``at`` in through the sign-in form, as a real user does.

    Runs the app once if it has not run (the first run creates and seeds the database at
    ``DATABASE_URL``), creates the account there if it is new, then fills in the form.
    """
    if not at.text_input:
        at.run()
    store = Store(make_engine(database_url()))
    try:
        if username not in set(store.accounts.table()["username"]):
            store.accounts.add(username, role=role, units=units, password=password)
    finally:
        store.engine.dispose()
    at.text_input(key="sign_in_user").input(username)
    at.text_input(key="sign_in_password").input(password)
    at.button(key="sign_in_submit").click()
    at.run()
    assert not at.exception, at.exception
    refused = [e.value for e in at.error]
    assert not any(w.key == "sign_in_user" for w in at.text_input), refused
    return at


def signed_in_app(
    page: str | None = None,
    username: str = "督办甲",
    role: str = SUPERVISOR,
    units: Iterable[str] = (),
) -> AppTest:
    """A new AppTest of dashboard.py, signed in, on ``page`` (e.g. "pages/update.py")."""
    at = sign_in_app(AppTest.from_file(DASHBOARD, default_timeout=60), username, role, units)
    if page is not None:
        at.switch_page(page)
        at.run()
        assert not at.exception, at.exception
    return at


def shown_text(markdown: str) -> str:
    """What a reader sees of a message written with ``webui.safe`` (escapes removed)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("  \n", "\n")


def row_of(store: Store, task_id: str, unit: str) -> pd.Series:
    """The stored assignment of ``unit`` on ``task_id`` (with its progress), as a row."""
    rows = store.assignments()
    return rows[(rows.task_id == task_id) & (rows.unit == unit)].iloc[0]


def stored_row(url: str, task_id: str, unit: str) -> pd.Series:
    """:func:`row_of`, read through a fresh engine (what the app, or another process, wrote)."""
    store = Store(make_engine(url))
    try:
        return row_of(store, task_id, unit)
    finally:
        store.engine.dispose()


def unit_state(url: str, unit: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``unit``'s stored assignments and its change history, read through a fresh engine
    (what another process, such as a live server, has written)."""
    store = Store(make_engine(url))
    try:
        rows = store.assignments()
        return rows[rows.unit == unit], store.history(units=[unit])
    finally:
        store.engine.dispose()


def side_by_side(
    count: int, action: Callable[[], object], timeout: float = 120
) -> list[BaseException]:
    """Run ``action`` in ``count`` threads released together; what they raised.  Fails if a
    thread is still running after ``timeout`` seconds (a start that hangs is not a success)."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            action()
        except BaseException as exc:  # returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is still running"
    return errors


def on_page(at: AppTest, page: str, username: str, role: str, units=()) -> AppTest:
    """``at`` signed in as ``username`` and switched to ``page``, run without an exception."""
    sign_in_app(at, username, role, units)
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def aid_of(store: Store, task_id: str, unit: str) -> int:
    """The assignment id of ``unit`` on ``task_id``."""
    rows = store.assignments()
    return int(rows[(rows.task_id == task_id) & (rows.unit == unit)].assignment_id.iloc[0])
