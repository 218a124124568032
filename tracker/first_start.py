"""First start in the browser: a one-time setup code creates the first administrator.

On a database with no account, the server issues a code (the pattern of Jenkins' initial
admin password): it prints it to its console and writes it to ``data/setup-code``
(``TRACKER_SETUP_CODE_FILE``), readable by the owner only.  Whoever can read the server's
console or disk types it into the page with the administrator's name and password.  Only a
hash and an expiry are kept in the database; the code works once, and not after
``CODE_LIFETIME``.  ``python -m loaders user add NAME --role admin`` still works.

>>> store = Store.open("sqlite://")                                 # doctest: +SKIP
>>> code = ensure_code(store, Path("/tmp/setup-code"))              # doctest: +SKIP
>>> claim(store, code, "admin", "a long password")                  # doctest: +SKIP
"""

from __future__ import annotations

import hmac
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert, select

from tracker import config
from tracker.accounts import Account, check_password, code_digest, new_code
from tracker.errors import TrackerError
from tracker.events import log_event
from tracker.models import StoreMeta
from tracker.progress import now
from tracker.schema import ADMIN
from tracker.store import Store

CODE_LIFETIME = timedelta(hours=2)
_META_KEY = "setup_code"


def code_file() -> Path:
    """Where the code is written: ``TRACKER_SETUP_CODE_FILE``, else data/setup-code."""
    return Path(str(config.value("TRACKER_SETUP_CODE_FILE")))


def _stored(store: Store) -> tuple[str, datetime] | None:
    with store.engine.connect() as conn:
        value = conn.scalar(select(StoreMeta.value).where(StoreMeta.key == _META_KEY))
    if not value:
        return None
    digest, _, expires = value.partition("|")
    return digest, datetime.fromisoformat(expires)


def write_code_file(path: Path, code: str) -> None:
    """Write the code readable and writable by the owner only (mode 0600), never wider."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(code + "\n")


def ensure_code(
    store: Store, path: Path | None = None, *, at: datetime | None = None
) -> str | None:
    """The setup code while the database has no account, else None (and the file removed).

    A code still valid in the database and in ``path`` is kept (a restart prints the same
    one); otherwise a new one replaces it and is printed to stderr and written to ``path``.
    """
    path = path or code_file()
    at = at or now()
    if store.accounts.count():
        path.unlink(missing_ok=True)
        return None
    stored = _stored(store)
    on_disk = path.read_text(encoding="ascii").strip() if path.is_file() else ""
    if (
        stored
        and on_disk
        and hmac.compare_digest(code_digest(on_disk), stored[0])
        and at < stored[1]
    ):
        return on_disk
    code = new_code()
    expires = at + CODE_LIFETIME
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(delete(StoreMeta).where(StoreMeta.key == _META_KEY))
        conn.execute(
            insert(StoreMeta).values(
                key=_META_KEY, value=f"{code_digest(code)}|{expires.isoformat()}"
            )
        )
    write_code_file(path, code)
    print(
        f"\n政策任务督办台 first start: no account yet. Open the dashboard in a browser and enter\n"
        f"this one-time setup code (valid until {expires:%Y-%m-%d %H:%M}, also in {path}):\n\n"
        f"    {code}\n",
        file=sys.stderr,
        flush=True,
    )
    log_event("setup_code_issued", None, file=str(path), expires=expires.isoformat())
    return code


def claim(
    store: Store,
    code: str,
    username: str,
    password: str,
    *,
    path: Path | None = None,
    at: datetime | None = None,
) -> Account:
    """Create the first administrator if ``code`` is the current, unexpired setup code.

    The name and password are checked before the code is spent; the code is then deleted in
    a write transaction that also finds no account yet, so of two people typing it at once
    only one gets an admin account.  Raises :class:`TrackerError` with the reason.
    """
    at = at or now()
    username = username.strip()
    if not username or len(username) > 100:
        raise TrackerError("用户名不能为空，且不超过100个字符")
    check_password(password)
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        row = conn.execute(
            select(StoreMeta.value).where(StoreMeta.key == _META_KEY).with_for_update()
        ).first()
        digest, _, expires = (row[0] if row else "").partition("|")
        if not row or not hmac.compare_digest(code_digest(code), digest):
            log_event("setup_code_refused", username)
            raise TrackerError("初始化码不正确：请查看服务器控制台或 data/setup-code 中的初始化码")
        if at >= datetime.fromisoformat(expires):
            raise TrackerError("初始化码已过期：刷新本页，服务器会生成新的初始化码")
        if store.accounts.count():
            raise TrackerError("已有账号，初始化码不再有效：请直接登录")
        conn.execute(delete(StoreMeta).where(StoreMeta.key == _META_KEY))
    account = store.accounts.add(username, role=ADMIN, password=password)
    (path or code_file()).unlink(missing_ok=True)
    log_event("first_admin_created", username)
    return account
