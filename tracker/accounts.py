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

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, insert, select, update

from tracker.errors import PermissionDenied, SignInError, TrackerError
from tracker.models import Unit, User, UserUnit
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
# Verified against when the user does not exist, so a wrong name costs as long as a wrong
# password and response times don't reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("no such account")
SIGN_IN_FAILED = "用户名或密码错误"


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
                    failed_sign_ins=0,
                    locked_until=None,
                    created_at=now(),
                )
            )
            if units:
                conn.execute(insert(UserUnit), [{"username": username, "unit": u} for u in units])
        return Account(username, role, frozenset(units), display_name)

    def set_active(self, username: str, active: bool) -> None:
        self._update(username, active=active, failed_sign_ins=0, locked_until=None)

    def reset_password(self, username: str, password: str) -> None:
        """New password; also lifts a sign-in lock."""
        check_password(password)
        self._update(
            username, password_hash=_hasher.hash(password), failed_sign_ins=0, locked_until=None
        )

    def set_units(self, username: str, units: Iterable[str]) -> None:
        units = sorted(set(units))
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            self._require(conn, username)
            self._check_units(conn, units)
            conn.execute(delete(UserUnit).where(UserUnit.username == username))
            if units:
                conn.execute(insert(UserUnit), [{"username": username, "unit": u} for u in units])

    def table(self) -> pd.DataFrame:
        """Every account without its hash: username, name, role, units, active, lock."""
        with self.engine.connect() as conn:
            users = conn.execute(
                select(
                    User.username,
                    User.display_name,
                    User.role,
                    User.active,
                    User.failed_sign_ins,
                    User.locked_until,
                ).order_by(User.username)
            ).all()
            units = self._units(conn)
        return pd.DataFrame(
            [
                {
                    "username": u.username,
                    "display_name": u.display_name,
                    "role": u.role,
                    "units": "、".join(sorted(units.get(u.username, ()))),
                    "active": bool(u.active),
                    "failed_sign_ins": int(u.failed_sign_ins),
                    "locked_until": u.locked_until,
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

    def sign_in(self, username: str, password: str, *, at: datetime | None = None) -> Account:
        """The account, if the password matches and the account is active and not locked.

        Every failure raises :class:`SignInError` with one message that does not tell a
        wrong name from a wrong password; failures are counted per account and
        ``MAX_FAILED_SIGN_INS`` in a row lock it for ``SIGN_IN_LOCK_MINUTES``.
        """
        at = at or now()
        username = (username or "").strip()
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            user = conn.execute(
                select(User).where(User.username == username).with_for_update()
            ).first()
            if user is None or not user.password_hash:
                _verify(_DUMMY_HASH, password)
                raise SignInError(SIGN_IN_FAILED)
            if user.locked_until is not None and user.locked_until > at:
                raise SignInError(
                    f"连续 {MAX_FAILED_SIGN_INS} 次登录失败，账号已暂时锁定，"
                    f"请于 {user.locked_until:%H:%M} 后再试或联系管理员"
                )
            matches = _verify(user.password_hash, password)
            failed = 0 if matches else int(user.failed_sign_ins) + 1
            if failed or user.failed_sign_ins or user.locked_until:
                locked = at + timedelta(minutes=SIGN_IN_LOCK_MINUTES)
                conn.execute(
                    update(User)
                    .where(User.username == username)
                    .values(
                        failed_sign_ins=failed,
                        locked_until=locked if failed >= MAX_FAILED_SIGN_INS else None,
                    )
                )
            units = self._units(conn, username).get(username, frozenset())
        # Raised after the block commits, so the failure count survives the refusal.
        if not matches:
            raise SignInError(SIGN_IN_FAILED)
        if not user.active:
            raise SignInError("账号已停用，请联系管理员")
        return Account(user.username, user.role, frozenset(units), user.display_name)

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
