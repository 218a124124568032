"""账号管理's tables: the accounts and their history as an admin reads them (Chinese headers,
role labels, a lock or an unused one-time code in words), computed without Streamlit.

>>> password_state(True, None)
'已设置'
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from tracker.progress import is_blank
from tracker.schema import ACCOUNT_ROLE_LABELS

ACCOUNT_COLUMNS = ["账号", "姓名", "角色", "责任单位", "状态", "密码", "登录锁定至", "连续失败"]
HISTORY_COLUMNS = ["时间", "账号", "变更", "原值", "新值", "操作人"]
# What an ``account_history`` field means, as the admin reads it.
CHANGE_LABELS = {
    "created": "新增账号",
    "units": "责任单位",
    "active": "启用/停用",
    "unlocked": "解除锁定",
    "code": "发放一次性设置码",
    "password": "设置密码",
}


def _time(value: datetime | None) -> str:
    return "" if value is None or is_blank(value) else f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"


def password_state(has_password: bool, code_expires: datetime | None) -> str:
    """已设置, 待设置 (an unused code and until when), or 未设置."""
    if not is_blank(code_expires) and code_expires is not None:
        waiting = f"待用设置码设置（设置码有效至 {_time(code_expires)}）"
        return f"已设置；{waiting}" if has_password else waiting
    return "已设置" if has_password else "未设置"


def account_table(accounts: pd.DataFrame) -> pd.DataFrame:
    """``Accounts.table()`` with Chinese headers and words for role, state and password."""
    if accounts.empty:
        return pd.DataFrame(columns=ACCOUNT_COLUMNS)
    return pd.DataFrame(
        {
            "账号": accounts["username"].astype(str),
            "姓名": accounts["display_name"].astype(str),
            "角色": accounts["role"].map(ACCOUNT_ROLE_LABELS).fillna(accounts["role"]),
            "责任单位": accounts["units"].astype(str),
            "状态": accounts["active"].map({True: "启用", False: "停用"}),
            "密码": [
                password_state(bool(has), expires)
                for has, expires in zip(
                    accounts["has_password"], accounts["code_expires"], strict=True
                )
            ],
            "登录锁定至": accounts["locked_until"].map(_time),
            "连续失败": accounts["failed_sign_ins"].astype(int),
        }
    )[ACCOUNT_COLUMNS]


def history_table(history: pd.DataFrame) -> pd.DataFrame:
    """``Accounts.history()`` with Chinese headers, newest first as given."""
    if history.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    return pd.DataFrame(
        {
            "时间": history["changed_at"].map(_time),
            "账号": history["username"].astype(str),
            "变更": history["field"].map(CHANGE_LABELS).fillna(history["field"]),
            "原值": history["old_value"].astype(str),
            "新值": history["new_value"].astype(str),
            "操作人": history["changed_by"].astype(str),
        }
    )[HISTORY_COLUMNS]
