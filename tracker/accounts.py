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

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, insert, select, update

from tracker.errors import PermissionDenied, SignInError, TrackerError
from tracker.models import AccountHistory, PasswordCode, SignInThrottle, Unit, User, UserUnit
from tracker.progress import now
from tracker.schema import (
    ACCOUNT_ROLE_LABELS,
    ADMIN,
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
# Who the history names for a change made on the command line (whoever holds the database).
COMMAND_LINE = "命令行"
# A one-time password code: 20 characters in groups of five, valid for CODE_DAYS.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read out or typed
CODE_DAYS = 3
CODE_REFUSED = "用户名或设置码不正确，或设置码已过期：请向管理员索取新的设置码"


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
    def administers(self) -> bool:
        """May manage accounts (账号管理): admin only."""
        return self.role == ADMIN

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


def new_code() -> str:
    """A one-time code, 20 characters (about 99 bits) in groups of five: ``ABCDE-FGHJK-…``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(20))
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


def code_digest(code: str) -> str:
    """SHA-256 of the code without case, spaces or dashes (``abcde fghjk`` = ``ABCDE-FGHJK``).
    A plain hash suffices: the code is random and long, unlike a password."""
    plain = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return hashlib.sha256(plain.encode("ascii", "replace")).hexdigest()


TABLE_COLUMNS = [
    "username",
    "display_name",
    "role",
    "units",
    "active",
    "has_password",
    "code_expires",
    "failed_sign_ins",
    "locked_until",
]


def _units_text(units: Iterable[str]) -> str:
    return "、".join(sorted(units))


class Accounts:
    """The ``users`` and ``user_units`` tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- administration (CLI and 账号管理) ----------------------------------------------------
    #
    # Each change takes ``by``: the signed-in account making it, which must be an admin as
    # stored at that moment (checked inside the change's transaction), or None for the
    # command line, whose user already holds the database.  Each writes its history row
    # (``account_history``) in the same transaction.

    def add(
        self,
        username: str,
        *,
        role: str,
        units: Iterable[str] = (),
        password: str | None,
        display_name: str = "",
        by: Account | None = None,
    ) -> Account:
        """Create an account.  ``password=None`` makes an account without a password: it
        signs in through the identity provider (OIDC), or once its user has set a password
        with a one-time code (:meth:`issue_code`)."""
        username = username.strip()
        units = sorted(set(units))
        if not username or len(username) > 100:
            raise TrackerError("用户名不能为空，且不超过100个字符")
        if role not in ACCOUNT_ROLE_LABELS:
            raise TrackerError(f"未知角色 {role!r}（可选：{', '.join(ACCOUNT_ROLE_LABELS)}）")
        if role == STAFF and not units:
            raise TrackerError("填报员账号至少需要一个责任单位")
        if password is not None:
            check_password(password)
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            actor = self._actor(conn, by)
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
            created = f"{ACCOUNT_ROLE_LABELS[role]}；{_units_text(units) or '全部单位'}"
            self._history(conn, username, "created", "", created, actor)
        return Account(username, role, frozenset(units), display_name)

    def set_active(self, username: str, active: bool, *, by: Account | None = None) -> None:
        """Disable or enable; either way the name's sign-in locks are lifted.  An admin
        cannot disable their own account (nobody might be left to enable it)."""
        change = "启用" if active else "停用"
        self._update(username, "active", change, by, refuse_self=not active, active=active)

    def reset_password(self, username: str, password: str, *, by: Account | None = None) -> None:
        """New password; also lifts the name's sign-in locks (from every address)."""
        check_password(password)
        self._update(username, "password", "已重置", by, password_hash=_hasher.hash(password))

    def unlock(self, username: str, *, by: Account | None = None) -> None:
        """Lift the name's sign-in locks and failure counts, from every address."""
        self._update(username, "unlocked", "已解除锁定", by)

    def set_units(self, username: str, units: Iterable[str], *, by: Account | None = None) -> None:
        units = sorted(set(units))
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            actor = self._actor(conn, by)
            role = self._require(conn, username)
            if role == STAFF and not units:
                raise TrackerError("填报员账号至少需要一个责任单位")
            self._check_units(conn, units)
            before = self._units(conn, username).get(username, frozenset())
            conn.execute(delete(UserUnit).where(UserUnit.username == username))
            if units:
                conn.execute(insert(UserUnit), [{"username": username, "unit": u} for u in units])
            if set(before) != set(units):
                old, new = _units_text(before), _units_text(units)
                self._history(conn, username, "units", old, new, actor)

    def issue_code(
        self, username: str, *, by: Account | None = None, at: datetime | None = None
    ) -> str:
        """A new one-time code with which ``username`` sets a password (see
        :meth:`set_password_with_code`), valid ``CODE_DAYS`` days; any earlier code of the
        name stops working.  Only its hash is stored: the caller shows the code once, to
        the admin who hands it over.  The current password keeps working until it is used."""
        at = at or now()
        code = new_code()
        expires = at + timedelta(days=CODE_DAYS)
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            actor = self._actor(conn, by)
            self._require(conn, username)
            conn.execute(delete(PasswordCode).where(PasswordCode.username == username))
            conn.execute(
                insert(PasswordCode).values(
                    username=username,
                    code_hash=code_digest(code),
                    expires_at=expires,
                    issued_by=actor,
                    issued_at=at,
                )
            )
            self._history(conn, username, "code", "", f"有效至 {expires:%Y-%m-%d %H:%M}", actor)
        return code

    def set_password_with_code(
        self, username: str, code: str, password: str, *, at: datetime | None = None
    ) -> None:
        """Set ``username``'s password if ``code`` is its current, unexpired one-time code;
        the code is spent and the name's sign-in locks lifted.  A wrong name, a wrong code
        and an expired one get one message, so the form reveals no account."""
        at = at or now()
        username = (username or "").strip()[:100]
        check_password(password)
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            stored = conn.execute(
                select(PasswordCode.code_hash, PasswordCode.expires_at)
                .where(PasswordCode.username == username)
                .with_for_update()
            ).first()
            if (
                stored is None
                or not hmac.compare_digest(code_digest(code), stored[0])
                or at >= stored[1]
            ):
                raise TrackerError(CODE_REFUSED)
            conn.execute(delete(PasswordCode).where(PasswordCode.username == username))
            conn.execute(
                update(User)
                .where(User.username == username)
                .values(password_hash=_hasher.hash(password))
            )
            conn.execute(delete(SignInThrottle).where(SignInThrottle.username == username))
            self._history(conn, username, "password", "", "用一次性设置码设置", username)

    def history(self, *, by: Account | None = None) -> pd.DataFrame:
        """Every account change, newest first: username, field, old and new value, who, when."""
        with self.engine.connect() as conn:
            self._actor(conn, by)
            rows = conn.execute(
                select(
                    AccountHistory.username,
                    AccountHistory.field,
                    AccountHistory.old_value,
                    AccountHistory.new_value,
                    AccountHistory.changed_by,
                    AccountHistory.changed_at,
                ).order_by(AccountHistory.history_id.desc())
            ).all()
        columns = ["username", "field", "old_value", "new_value", "changed_by", "changed_at"]
        return pd.DataFrame([tuple(r) for r in rows], columns=columns)

    def table(self) -> pd.DataFrame:
        """Every account without its hash: username, name, role, units, active, whether it
        has a password, the expiry of its unused one-time code (NaT when none), and its
        sign-in throttle: the most consecutive failures from one address, and the latest
        running lock (NaT when none)."""
        with self.engine.connect() as conn:
            users = conn.execute(
                select(
                    User.username,
                    User.display_name,
                    User.role,
                    User.active,
                    User.password_hash != "",
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
            codes = dict(conn.execute(select(PasswordCode.username, PasswordCode.expires_at)).all())
        at = now()
        failures = {name: int(count) for name, count, _ in throttled}
        locks = {name: until for name, _, until in throttled if until is not None and until > at}
        return pd.DataFrame(
            [
                {
                    "username": name,
                    "display_name": display_name,
                    "role": role,
                    "units": _units_text(units.get(name, ())),
                    "active": bool(active),
                    "has_password": bool(has_password),
                    "code_expires": codes.get(name) if codes.get(name, at) > at else None,
                    "failed_sign_ins": failures.get(name, 0),
                    "locked_until": locks.get(name),
                }
                for name, display_name, role, active, has_password in users
            ],
            columns=TABLE_COLUMNS,
        )

    def unit_names(self) -> list[str]:
        """The registered units an account may be given, A–Z (the 账号管理 choices)."""
        with self.engine.connect() as conn:
            return sorted(conn.execute(select(Unit.unit)).scalars())

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

    def _update(
        self,
        username: str,
        field: str,
        change: str,
        by: Account | None,
        *,
        refuse_self: bool = False,
        **values,
    ) -> None:
        """Set ``values`` on the user (if any), lift the name's locks, write the history."""
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            actor = self._actor(conn, by)
            if refuse_self and actor == username:
                raise TrackerError("不能停用自己的账号")
            self._require(conn, username)
            if values:
                conn.execute(update(User).where(User.username == username).values(**values))
            conn.execute(delete(SignInThrottle).where(SignInThrottle.username == username))
            self._history(conn, username, field, "", change, actor)

    def _actor(self, conn, by: Account | None) -> str:
        """The name the history gives the change: the command line, or ``by`` if it is an
        admin as stored now (else :class:`PermissionDenied`)."""
        if by is None:
            return COMMAND_LINE
        if not isinstance(by, Account) or self.current(conn, by.username).role != ADMIN:
            raise PermissionDenied("只有管理员可以管理账号")
        return by.username

    @staticmethod
    def _history(conn, username: str, field: str, old: str, new: str, actor: str) -> None:
        conn.execute(
            insert(AccountHistory).values(
                username=username,
                field=field,
                old_value=old,
                new_value=new,
                changed_by=actor,
                changed_at=now(),
            )
        )

    @staticmethod
    def _require(conn, username: str) -> str:
        """The user's role; :class:`TrackerError` for an unknown name."""
        role = conn.scalar(select(User.role).where(User.username == username))
        if role is None:
            raise TrackerError(f"未知用户 {username!r}")
        return role

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
