"""Accounts: who may sign in, with which role, for which units.

Passwords are hashed with argon2 (``argon2-cffi``), never stored or logged in clear.  A
signed-in user is an :class:`Account`; every write the store accepts names one, and the
store re-reads the account's role and units from the database inside the write's own
transaction, so a stale or forged ``Account`` object grants nothing.

>>> accounts = Accounts(make_engine("sqlite://"))   # doctest: +SKIP
>>> accounts.add("zhang", role="staff", units=["市科委"], password="correct horse")  # doctest: +SKIP
>>> accounts.sign_in("zhang", "correct horse").units  # doctest: +SKIP
frozenset({'市科委'})
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, insert, select, update

from tracker.errors import PermissionDenied, SignInError, TrackerError
from tracker.models import SignInThrottle, Unit, User, UserUnit
from tracker.progress import now
from tracker.schema import (
    ACCOUNT_ROLE_LABELS,
    MAX_FAILED_SIGN_INS,
    MIN_PASSWORD_LENGTH,
    READ_ALL_ROLES,
    SIGN_IN_LOCK_MINUTES,
    STAFF,
    SUPERVISING_ROLES,
)

_hasher = PasswordHasher()
SIGN_IN_FAILED = "用户名或密码错误"
SIGN_IN_EMPTY = "请输入用户名和密码"
# Failures from one client address, whatever names it tries, before the address is locked.
MAX_FAILED_PER_ADDRESS = 4 * MAX_FAILED_SIGN_INS
UNKNOWN_ADDRESS = "-"


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong name costs as long as a
    wrong password and response times don't reveal which accounts exist.  Made on first use:
    a command that signs nobody in does not pay for an argon2 hash."""
    return _hasher.hash("no such account")


def _locked_message(until: datetime) -> str:
    return (
        f"连续 {MAX_FAILED_SIGN_INS} 次登录失败，已暂时锁定，请于 {until:%H:%M} 后再试或联系管理员"
    )


@dataclass(frozen=True)
class Account:
    """A signed-in user.  ``units`` matters for staff only (others act for every unit)."""

    username: str
    role: str
    units: frozenset[str] = frozenset()
    display_name: str = ""

    @property
    def label(self) -> str:
        """How pages name the account: display name (username), role."""
        name = self.display_name or self.username
        if name != self.username:
            name = f"{name}（{self.username}）"
        return f"{name} · {ACCOUNT_ROLE_LABELS.get(self.role, self.role)}"

    @property
    def supervises(self) -> bool:
        """May write for any unit and set deadlines (督办员, admin)."""
        return self.role in SUPERVISING_ROLES

    @property
    def reads_all(self) -> bool:
        """May export the report and read every unit's audit trail."""
        return self.role in READ_ALL_ROLES

    @property
    def writes(self) -> bool:
        return self.role == STAFF or self.supervises

    def may_edit_unit(self, unit: str) -> bool:
        return self.supervises or (self.role == STAFF and unit in self.units)

    def editable_units(self, units: Iterable[str]) -> list[str]:
        """The units among ``units`` this account may report for, in the given order."""
        return [u for u in units if self.may_edit_unit(u)]


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise TrackerError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")


class Accounts:
    """The ``users`` and ``user_units`` tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- administration (CLI) -------------------------------------------------------------

    def add(
        self,
        username: str,
        *,
        role: str,
        units: Iterable[str] = (),
        password: str | None,
        display_name: str = "",
    ) -> Account:
        """Create an account.  ``password=None`` makes a single-sign-on (OIDC) account
        that can only sign in through the identity provider."""
        username = username.strip()
        units = sorted(set(units))
        if not username or len(username) > 100:
            raise TrackerError("用户名不能为空，且不超过100个字符")
        if role not in ACCOUNT_ROLE_LABELS:
            raise TrackerError(f"未知角色 {role!r}（可选：{', '.join(ACCOUNT_ROLE_LABELS)}）")
        if role == STAFF and not units:
            raise TrackerError("填报员账号至少需要一个责任单位（--unit）")
        if password is not None:
            check_password(password)
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            if conn.scalar(select(User.username).where(User.username == username)):
                raise TrackerError(f"用户 {username} 已存在")
            self._check_units(conn, units)
            conn.execute(
                insert(User).values(
                    username=username,
                    display_name=display_name.strip()[:100],
                    role=role,
                    password_hash="" if password is None else _hasher.hash(password),
                    active=True,
                    created_at=now(),
                )
            )
            if units:
                conn.execute(insert(UserUnit), [{"username": username, "unit": u} for u in units])
        return Account(username, role, frozenset(units), display_name)

    def set_active(self, username: str, active: bool) -> None:
        """Disable or enable; either way the name's sign-in locks are lifted."""
        self._update(username, active=active)

    def reset_password(self, username: str, password: str) -> None:
        """New password; also lifts the name's sign-in locks (from every address)."""
        check_password(password)
        self._update(username, password_hash=_hasher.hash(password))

    def set_units(self, username: str, units: Iterable[str]) -> None:
        units = sorted(set(units))
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            self._require(conn, username)
            self._check_units(conn, units)
            conn.execute(delete(UserUnit).where(UserUnit.username == username))
            if units:
                conn.execute(insert(UserUnit), [{"username": username, "unit": u} for u in units])

    def table(self) -> pd.DataFrame:
        """Every account without its hash: username, name, role, units, active, and its sign-in
        throttle: the most consecutive failures from one address, and the latest running lock
        (NaT when none)."""
        with self.engine.connect() as conn:
            users = conn.execute(
                select(
                    User.username,
                    User.display_name,
                    User.role,
                    User.active,
                ).order_by(User.username)
            ).all()
            units = self._units(conn)
            throttled = conn.execute(
                select(
                    SignInThrottle.username,
                    func.max(SignInThrottle.failures),
                    func.max(SignInThrottle.locked_until),
                )
                .where(SignInThrottle.username != "")
                .group_by(SignInThrottle.username)
            ).all()
        at = now()
        failures = {name: int(count) for name, count, _ in throttled}
        locks = {name: until for name, _, until in throttled if until is not None and until > at}
        return pd.DataFrame(
            [
                {
                    "username": u.username,
                    "display_name": u.display_name,
                    "role": u.role,
                    "units": "、".join(sorted(units.get(u.username, ()))),
                    "active": bool(u.active),
                    "failed_sign_ins": failures.get(u.username, 0),
                    "locked_until": locks.get(u.username),
                }
                for u in users
            ],
            columns=[
                "username",
                "display_name",
                "role",
                "units",
                "active",
                "failed_sign_ins",
                "locked_until",
            ],
        )

    def count(self) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(User.username)).all())

    # --- signing in -----------------------------------------------------------------------

    def sign_in(
        self, username: str, password: str, *, address: str = "", at: datetime | None = None
    ) -> Account:
        """The account, if the password matches and the account is active and not locked.

        Every failure raises :class:`SignInError`; a wrong name and a wrong password get one
        message, and so do their locks.  Failures are counted per typed name from the
        client ``address`` (``MAX_FAILED_SIGN_INS`` in a row lock that name *from that
        address* for ``SIGN_IN_LOCK_MINUTES``) and per address (``MAX_FAILED_PER_ADDRESS``
        lock the address), so guessing from one machine cannot lock a colleague out on
        another.  Empty fields are refused before anything is counted.
        """
        at = at or now()
        username = (username or "").strip()[:100]
        address = (address or UNKNOWN_ADDRESS).strip()[:64]
        if not username or not password:
            raise SignInError(SIGN_IN_EMPTY)
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            locked = self._running_lock(conn, username, address, at)
            if locked is not None:
                raise SignInError(_locked_message(locked))
            user = conn.execute(select(User).where(User.username == username)).first()
            if user is None or not user.password_hash:
                _verify(_dummy_hash(), password)
                matches = False
            else:
                matches = _verify(user.password_hash, password)
            self._count(conn, username, address, at, failed=not matches)
            units = self._units(conn, username).get(username, frozenset()) if matches else ()
        # Raised after the block commits, so the failure count survives the refusal.
        if not matches or user is None:
            raise SignInError(SIGN_IN_FAILED)
        if not user.active:
            raise SignInError("账号已停用，请联系管理员")
        return Account(user.username, user.role, frozenset(units), user.display_name)

    @staticmethod
    def _running_lock(conn, username: str, address: str, at: datetime) -> datetime | None:
        """The end of a lock on this name from this address, or on the address, if running."""
        rows = conn.execute(
            select(SignInThrottle.locked_until)
            .where(
                SignInThrottle.address == address,
                SignInThrottle.username.in_([username, ""]),
                SignInThrottle.locked_until > at,
            )
            .with_for_update()
        ).scalars()
        return max(rows, default=None)

    @staticmethod
    def _count(conn, username: str, address: str, at: datetime, *, failed: bool) -> None:
        """One more failure for the name from the address and for the address (locking
        either at its limit); a success clears the name's count from that address."""
        if not failed:
            conn.execute(
                delete(SignInThrottle).where(
                    SignInThrottle.username == username, SignInThrottle.address == address
                )
            )
            return
        until = at + timedelta(minutes=SIGN_IN_LOCK_MINUTES)
        for name, limit in ((username, MAX_FAILED_SIGN_INS), ("", MAX_FAILED_PER_ADDRESS)):
            key = (SignInThrottle.username == name, SignInThrottle.address == address)
            count = conn.scalar(select(SignInThrottle.failures).where(*key))
            if count is None:
                conn.execute(
                    insert(SignInThrottle).values(
                        username=name, address=address, failures=0, locked_until=None
                    )
                )
                count = 0
            count += 1
            conn.execute(
                update(SignInThrottle)
                .where(*key)
                .values(failures=count, locked_until=until if count >= limit else None)
            )

    def account(self, username: str) -> Account:
        """An active account by name, without a password: for the command line (whoever
        runs it already holds the database) and for single sign-on, where the identity
        provider checked the person."""
        with self.engine.connect() as conn:
            return self.current(conn, username)

    def current(self, conn, username: str) -> Account:
        """The account as stored now, read on ``conn`` (inside the caller's transaction)."""
        user = conn.execute(select(User).where(User.username == str(username))).first()
        if user is None:
            raise PermissionDenied(f"未知用户 {username!r}：请使用已登记的账号")
        if not user.active:
            raise PermissionDenied(f"账号 {username} 已停用")
        units = self._units(conn, user.username).get(user.username, frozenset())
        return Account(user.username, user.role, frozenset(units), user.display_name)

    # --- helpers --------------------------------------------------------------------------

    def _update(self, username: str, **values) -> None:
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            self._require(conn, username)
            conn.execute(update(User).where(User.username == username).values(**values))
            conn.execute(delete(SignInThrottle).where(SignInThrottle.username == username))

    @staticmethod
    def _require(conn, username: str) -> None:
        if not conn.scalar(select(User.username).where(User.username == username)):
            raise TrackerError(f"未知用户 {username!r}")

    @staticmethod
    def _check_units(conn, units: list[str]) -> None:
        known = set(conn.execute(select(Unit.unit)).scalars())
        unknown = [u for u in units if u not in known]
        if unknown:
            raise TrackerError(f"未知责任单位：{'、'.join(unknown)}")

    @staticmethod
    def _units(conn, username: str | None = None) -> dict[str, frozenset[str]]:
        query = select(UserUnit.username, UserUnit.unit)
        if username is not None:
            query = query.where(UserUnit.username == username)
        found: dict[str, set[str]] = {}
        for name, unit in conn.execute(query):
            found.setdefault(name, set()).add(unit)
        return {name: frozenset(units) for name, units in found.items()}


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False
