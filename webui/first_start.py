"""The first-start page: with no account yet, the one-time setup code creates the admin.

Shown by the sign-in gate (``webui.auth``) in place of the sign-in form while the database
has no account; the code itself is issued and checked by :mod:`tracker.first_start`.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from tracker import first_start
from tracker.accounts import Account
from tracker.errors import TrackerError
from webui import data, safe

ADD_ADMIN_COMMAND = "python -m loaders user add NAME --role admin"


def needed() -> bool:
    """True while the database has no account (the page to draw instead of signing in)."""
    return not data.get_store().accounts.count()


def form(remember: Callable[[Account], None]) -> None:
    """Setup code, the administrator's name and password (twice); on success the new admin
    is passed to ``remember`` (the gate signs them in) and the script reruns."""
    store = data.get_store()
    try:
        first_start.ensure_code(store)
    except OSError as exc:  # the data folder not writable: the CLI route still works
        safe.error(f"无法写入初始化码文件：{exc}")
    st.info(
        "首次启动：尚无任何账号。服务器已在其控制台输出一次性初始化码，"
        f"并写入 {first_start.code_file()}（仅服务器账号可读）。"
        "请填写初始化码，并设置管理员账号和密码（至少 10 个字符）。"
    )
    with st.form("first_start"):
        code = st.text_input("初始化码", key="setup_code")
        username = st.text_input("管理员用户名", key="setup_user")
        password = st.text_input("密码", type="password", key="setup_password")
        again = st.text_input("再次输入密码", type="password", key="setup_password_again")
        submitted = st.form_submit_button("创建管理员并登录", type="primary", key="setup_submit")
    if submitted:
        if password != again:
            safe.error("两次输入的密码不一致")
        else:
            try:
                admin = first_start.claim(store, code, username, password)
            except TrackerError as exc:
                safe.error(exc)
            else:
                remember(admin)
                st.rerun()
    st.caption("也可在服务器上运行下面的命令创建管理员（按提示输入密码），然后刷新本页登录：")
    st.code(ADD_ADMIN_COMMAND, language="bash")
