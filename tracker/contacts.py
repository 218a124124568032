"""Who notices reach: an account's e-mail (and mobile, kept for SMS later) and a unit's
group robots.  Only an admin changes them (CLI ``python -m loaders contact``, page 通知记录);
a robot is stored by kind and secret reference, never by its address or key.

>>> check_email(" kw01@example.gov.cn ")
'kw01@example.gov.cn'
"""

from __future__ import annotations

import re

import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from tracker.accounts import Account
from tracker.errors import PermissionDenied, ValidationError
from tracker.models import AccountContact, Unit, UnitRobot, User, UserUnit
from tracker.progress import now
from tracker.schema import ADMIN
from tracker.senders import REF_PATTERN, ROBOT_KINDS, robot_secrets
from tracker.store import Store

_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
_MOBILE = re.compile(r"^\+?[0-9]{6,20}$")


def check_email(raw: str) -> str:
    email = raw.strip()
    if email and not _EMAIL.match(email):
        raise ValidationError(f"邮箱地址格式不对：{email}")
    return email


def check_mobile(raw: str) -> str:
    mobile = raw.strip().replace(" ", "").replace("-", "")
    if mobile and not _MOBILE.match(mobile):
        raise ValidationError(f"手机号格式不对：{raw}")
    return mobile


class Contacts:
    """The ``account_contacts`` and ``unit_robots`` tables over a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    def _admin(self, conn, user: Account) -> Account:
        if not isinstance(user, Account):
            raise PermissionDenied("请先登录")
        account = self.store.accounts.current(conn, user.username)
        if account.role != ADMIN:
            raise PermissionDenied("联系方式由管理员设置")
        return account

    def set_email(self, username: str, email: str, mobile: str = "", *, user: Account) -> None:
        """Set (or with "" clear) an account's e-mail and mobile."""
        email, mobile = check_email(email), check_mobile(mobile)
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            admin = self._admin(conn, user)
            if conn.scalar(select(User.username).where(User.username == username)) is None:
                raise ValidationError(f"没有账号 {username}")
            values = {
                "username": username,
                "email": email,
                "mobile": mobile,
                "updated_by": admin.username,
                "updated_at": now(),
            }
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(AccountContact).values(values)
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["username"],
                    set_={k: v for k, v in values.items() if k != "username"},
                )
            )

    def set_robot(self, unit: str, kind: str, ref: str, *, user: Account) -> None:
        """Give ``unit`` a robot of ``kind`` whose address is the secret named ``ref``."""
        if kind not in ROBOT_KINDS:
            raise ValidationError(f"机器人类型须为 {'、'.join(ROBOT_KINDS)}")
        if not REF_PATTERN.match(ref):
            raise ValidationError("密钥名只能用字母、数字和下划线（1–60 个）")
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            admin = self._admin(conn, user)
            if conn.scalar(select(Unit.unit).where(Unit.unit == unit)) is None:
                raise ValidationError(f"没有单位 {unit}")
            conn.execute(delete(UnitRobot).where(UnitRobot.unit == unit, UnitRobot.kind == kind))
            conn.execute(
                insert(UnitRobot).values(
                    unit=unit,
                    kind=kind,
                    secret_ref=ref,
                    updated_by=admin.username,
                    updated_at=now(),
                )
            )

    def remove_robot(self, unit: str, kind: str, *, user: Account) -> bool:
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            self._admin(conn, user)
            result = conn.execute(
                delete(UnitRobot).where(UnitRobot.unit == unit, UnitRobot.kind == kind)
            )
            return bool(result.rowcount)

    def accounts_table(self) -> pd.DataFrame:
        """Every account with its units, e-mail and mobile."""
        with self.engine.connect() as conn:
            users = conn.execute(
                select(
                    User.username,
                    User.role,
                    User.active,
                    AccountContact.email,
                    AccountContact.mobile,
                )
                .outerjoin(AccountContact, AccountContact.username == User.username)
                .order_by(User.username)
            ).all()
            units = conn.execute(select(UserUnit.username, UserUnit.unit)).all()
        frame = pd.DataFrame(users, columns=["username", "role", "active", "email", "mobile"])
        joined: dict[str, list[str]] = {}
        for username, unit in units:
            joined.setdefault(username, []).append(unit)
        frame["units"] = ["、".join(sorted(joined.get(u, []))) for u in frame["username"]]
        return frame.fillna({"email": "", "mobile": ""})

    def robots_table(self) -> pd.DataFrame:
        """Every unit robot with whether its secret is configured (never the secret)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(UnitRobot.unit, UnitRobot.kind, UnitRobot.secret_ref).order_by(
                    UnitRobot.unit, UnitRobot.kind
                )
            ).all()
        frame = pd.DataFrame(rows, columns=["unit", "kind", "secret_ref"])
        frame["configured"] = [bool(robot_secrets(ref)[0]) for ref in frame["secret_ref"]]
        frame["signed"] = [bool(robot_secrets(ref)[1]) for ref in frame["secret_ref"]]
        return frame
