"""账号管理 (admin only): add a clerk, hand over a one-time code for the password, lift a
sign-in lock, disable a leaver or enable them again, change an account's units; every change
in the account history below.  The store checks that the account acting is an admin."""

from __future__ import annotations

import streamlit as st

from pagelogic import accounts as account_tables
from tracker.accounts import CODE_DAYS, Account, Accounts
from tracker.schema import ACCOUNT_ROLE_LABELS, STAFF
from webui import auth, data, safe

_NEW_CODE = "accounts_new_code"  # (username, code) to show once, after the rerun


def _hand_over(accounts: Accounts, username: str, account: Account) -> None:
    """Issue a one-time code for ``username`` and keep it for the next run to show once."""
    code = accounts.issue_code(username, by=account)
    st.session_state[_NEW_CODE] = (username, code)


def _shown_code() -> None:
    """The code just issued, this once: the admin hands it over; it is never shown again."""
    issued = st.session_state.pop(_NEW_CODE, None)
    if issued is None:
        return
    username, code = issued
    safe.success(
        f"{username} 的一次性设置码如下，只显示这一次。请当面或电话告知本人，"
        f"{CODE_DAYS} 天内在登录页点「使用一次性设置码设置密码」设置密码；用过即失效。"
    )
    st.code(code, language=None)


def _add_form(accounts: Accounts, account: Account, units: list[str]) -> None:
    with st.form("accounts_add"):
        st.markdown("**新增账号**")
        left, right = st.columns(2)
        username = left.text_input("用户名（登录名）", key="accounts_add_name")
        display_name = right.text_input("姓名", key="accounts_add_display")
        left, right = st.columns(2)  # a row of its own: a phone stacks name, 姓名, role, units
        role = left.selectbox(
            "角色",
            list(ACCOUNT_ROLE_LABELS),
            format_func=ACCOUNT_ROLE_LABELS.get,
            key="accounts_add_role",
        )
        chosen = right.multiselect(
            "责任单位（填报员必选）", units, key="accounts_add_units", placeholder="选择单位"
        )
        submitted = st.form_submit_button("新增并生成设置码", type="primary")
    if submitted:
        safe.attempt(
            lambda: (
                accounts.add(
                    username,
                    role=role,
                    units=chosen if role == STAFF else (),
                    password=None,
                    display_name=display_name,
                    by=account,
                ),
                _hand_over(accounts, username.strip(), account),
            ),
            f"已新增账号 {username.strip()}。",
        )


def _change_form(accounts: Accounts, account: Account, listing, units: list[str]) -> None:
    """One account's actions: code, unlock, disable/enable, units."""
    st.markdown("**修改账号**")
    names = list(listing["username"])
    username = st.selectbox("账号", names, key="accounts_change_name")
    if username is None:
        return
    row = listing.set_index("username").loc[username]
    left, middle, right = st.columns(3)
    if left.button("重置密码：生成一次性设置码", key="accounts_code"):
        safe.attempt(
            lambda: _hand_over(accounts, username, account), f"已为 {username} 生成设置码。"
        )
    if middle.button("解除登录锁定", key="accounts_unlock"):
        safe.attempt(
            lambda: accounts.unlock(username, by=account), f"已解除 {username} 的登录锁定。"
        )
    active = bool(row["active"])
    if right.button("停用账号" if active else "启用账号", key="accounts_active"):
        safe.attempt(
            lambda: accounts.set_active(username, not active, by=account),
            f"已{'停用' if active else '启用'}账号 {username}。",
        )
    if row["role"] == STAFF:
        current = [u for u in str(row["units"]).split("、") if u]
        with st.form("accounts_units"):
            chosen = st.multiselect(
                "责任单位",
                units,
                default=[u for u in current if u in units],
                key=f"accounts_units_{username}",
            )
            if st.form_submit_button("保存责任单位"):
                safe.attempt(
                    lambda: accounts.set_units(username, chosen, by=account),
                    f"已更新 {username} 的责任单位。",
                )


def main(account: Account) -> None:
    """The page, top to bottom: a code just issued, the accounts, add, change, history."""
    st.title("账号管理")
    if not account.administers:
        st.error("只有管理员可以管理账号。")
        return
    accounts = data.get_store().accounts
    safe.flash()
    _shown_code()
    listing = accounts.table()
    st.dataframe(account_tables.account_table(listing), hide_index=True, width="stretch")
    st.caption("密码由本人用一次性设置码设置，管理员看不到也不设置密码。")
    units = accounts.unit_names()
    _add_form(accounts, account, units)
    _change_form(accounts, account, listing, units)
    st.subheader("变更记录")
    history = account_tables.history_table(accounts.history(by=account))
    if history.empty:
        st.info("还没有账号变更记录。")
    else:
        st.dataframe(history, hide_index=True, width="stretch")


account = auth.account()
main(account)
