"""Signed, expiring session tokens: a reload or a shared link keeps the user signed in.

A Streamlit session ends with its browser tab's connection, so every reload or opened link
asked for the password again.  After signing in, the browser keeps a cookie holding a token
signed with itsdangerous (HMAC, timestamped) and naming the account, when it signed in and
a fingerprint of its password hash; a new session that sends the cookie is signed in again
if the signature holds, the token is younger than the idle limit (it is renewed while the
user works), the sign-in is younger than the 12-hour cap, and the account is still active
with the same password.  The signing key lives in the store (``store_meta``), so every
server behind one database accepts the tokens of the others; changing a password, or
disabling the account, ends every token of that account.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import insert, select

from tracker.accounts import Account
from tracker.errors import PermissionDenied
from tracker.models import StoreMeta, User
from tracker.store import Store

COOKIE = "tracker_session"
_KEY = "session_secret"
_SALT = "tracker-session"


@dataclass(frozen=True)
class Restored:
    """The account a valid token names, and when that account signed in."""

    account: Account
    signed_in_at: datetime


def _secret(store: Store) -> str:
    """The signing key, made once by whichever server asks first."""
    with store.engine.connect() as conn:
        secret = conn.scalar(select(StoreMeta.value).where(StoreMeta.key == _KEY))
    if secret:
        return str(secret)
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        secret = conn.scalar(select(StoreMeta.value).where(StoreMeta.key == _KEY))
        if not secret:
            secret = secrets.token_urlsafe(32)
            conn.execute(insert(StoreMeta).values(key=_KEY, value=secret))
    return str(secret)


def _fingerprint(store: Store, username: str) -> str:
    with store.engine.connect() as conn:
        password_hash = conn.scalar(select(User.password_hash).where(User.username == username))
    return hashlib.sha256(str(password_hash or "").encode("utf-8")).hexdigest()[:16]


def issue(store: Store, account: Account, signed_in_at: datetime) -> str:
    """A token for ``account``, signed in at ``signed_in_at`` (local time, as the session)."""
    serializer = URLSafeTimedSerializer(_secret(store), salt=_SALT)
    payload = {
        "u": account.username,
        "t": signed_in_at.isoformat(timespec="seconds"),
        "p": _fingerprint(store, account.username),
    }
    return str(serializer.dumps(payload))


def restore(
    store: Store, token: str, *, idle: timedelta, cap: timedelta, now: datetime
) -> Restored | None:
    """The account ``token`` signs in again, or None when it is forged, older than ``idle``,
    from a sign-in older than ``cap``, or names an account disabled or whose password
    changed since."""
    serializer = URLSafeTimedSerializer(_secret(store), salt=_SALT)
    try:
        payload = serializer.loads(token, max_age=int(idle.total_seconds()))
        username, signed_in_at = str(payload["u"]), datetime.fromisoformat(payload["t"])
        fingerprint = str(payload["p"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if now - signed_in_at > cap or fingerprint != _fingerprint(store, username):
        return None
    try:
        account = store.accounts.account(username)
    except PermissionDenied:
        return None
    return Restored(account, signed_in_at)
