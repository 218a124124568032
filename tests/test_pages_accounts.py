"""账号管理 under AppTest: only an admin opens it; adding a clerk hands over a one-time code
shown once; the clerk sets a password with it on the sign-in page and signs in; a leaver
is disabled; every change is in the history the page shows."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import tasks_frame
from tests.factories import DASHBOARD, shown_text, signed_in_app
from tracker.schema import ADMIN, LEADER, STAFF, SUPERVISOR
from tracker.store import Store, make_engine

TASKS = [
    ("demo-m01-t1", "甲任务", "市科委", "lead", 1),
    ("demo-m01-t1", "甲任务", "市财政局", "support", 2),
]
PAGE = "pages/accounts.py"
CODE = re.compile(r"^([A-Z2-9]{5}-){3}[A-Z2-9]{5}$")


@pytest.fixture
def app_env(app_env_of) -> str:
    return app_env_of(tasks_frame(TASKS))


def _accounts(url: str):
    store = Store(make_engine(url))
    try:
        return store.accounts.table().set_index("username"), store.accounts.history()
    finally:
        store.engine.dispose()


def _grid(at: AppTest, first_column: str):
    return next(g.value for g in at.dataframe if g.value.columns[0] == first_column)


@pytest.mark.parametrize("role,units", [(SUPERVISOR, []), (LEADER, []), (STAFF, ["市科委"])])
def test_only_an_admin_can_open_it(app_env, role, units):
    at = signed_in_app(None, f"user-{role}", role, units)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)


def test_admin_adds_a_clerk_who_sets_the_password_with_the_code(app_env):
    at = signed_in_app(PAGE, "admin", ADMIN)
    assert at.title[0].value == "账号管理"
    at.text_input(key="accounts_add_name").input("kw09")
    at.text_input(key="accounts_add_display").input("王五")
    at.selectbox(key="accounts_add_role").set_value(STAFF)
    at.multiselect(key="accounts_add_units").set_value(["市科委"])
    at.button(key="FormSubmitter:accounts_add-新增并生成设置码").click()
    at.run()
    assert not at.exception, at.exception
    [code] = [c.value for c in at.code]
    assert CODE.match(code)
    accounts, history = _accounts(app_env)
    assert accounts.loc["kw09", ["role", "units", "has_password"]].tolist() == [
        STAFF,
        "市科委",
        False,
    ]
    shown = _grid(at, "账号").set_index("账号")
    assert shown.loc["kw09", "密码"].startswith("待用设置码设置")
    changes = _grid(at, "时间")
    assert changes[["账号", "变更", "操作人"]].values.tolist()[:2] == [
        ["kw09", "发放一次性设置码", "admin"],
        ["kw09", "新增账号", "admin"],
    ]
    assert code not in history.to_csv()
    at.run()  # shown once: the next run does not show it again
    assert not at.code

    # The clerk, on the sign-in page, sets a password with the code, then signs in.
    clerk = AppTest.from_file(DASHBOARD, default_timeout=60)
    clerk.run()
    clerk.button(key="code_open").click()
    clerk.run()
    clerk.text_input(key="code_user").input("kw09")
    clerk.text_input(key="code_code").input(code.lower())
    clerk.text_input(key="code_password").input("kw09-own-password")
    clerk.text_input(key="code_password_again").input("kw09-own-password")
    clerk.button(key="code_submit").click()
    clerk.run()
    assert [shown_text(s.value) for s in clerk.success] == ["密码已设置，请在上方用新密码登录。"]
    clerk.text_input(key="sign_in_user").input("kw09")
    clerk.text_input(key="sign_in_password").input("kw09-own-password")
    clerk.button(key="sign_in_submit").click()
    clerk.run()
    assert clerk.title[0].value == "总览"
    # Spent: the same code is refused, saying nothing about the account.
    again = AppTest.from_file(DASHBOARD, default_timeout=60)
    again.run()
    again.button(key="code_open").click()
    again.run()
    again.text_input(key="code_user").input("kw09")
    again.text_input(key="code_code").input(code)
    again.text_input(key="code_password").input("someone-elses-pass")
    again.text_input(key="code_password_again").input("someone-elses-pass")
    again.button(key="code_submit").click()
    again.run()
    assert [shown_text(e.value) for e in again.error] == [
        "用户名或设置码不正确，或设置码已过期：请向管理员索取新的设置码"
    ]


def test_admin_disables_a_leaver_and_changes_units(app_env):
    at = signed_in_app(PAGE, "admin", ADMIN)
    store = Store(make_engine(app_env))
    store.accounts.add("kw01", role=STAFF, units=["市科委"], password="kw01-password-1")
    store.engine.dispose()
    at.run()
    at.selectbox(key="accounts_change_name").set_value("kw01")
    at.run()
    at.button(key="accounts_active").click()
    at.run()
    assert not at.exception, at.exception
    assert [shown_text(s.value) for s in at.success] == ["已停用账号 kw01。"]
    at.multiselect(key="accounts_units_kw01").set_value(["市科委", "市财政局"])
    at.button(key="FormSubmitter:accounts_units-保存责任单位").click()
    at.run()
    accounts, history = _accounts(app_env)
    assert not accounts.loc["kw01", "active"]
    assert accounts.loc["kw01", "units"] == "市科委、市财政局"
    assert history[["username", "field", "new_value", "changed_by"]].values.tolist()[:2] == [
        ["kw01", "units", "市科委、市财政局", "admin"],
        ["kw01", "active", "停用", "admin"],
    ]
    assert _grid(at, "账号").set_index("账号").loc["kw01", "状态"] == "停用"
    # The admin's own account cannot be disabled from here.
    at.selectbox(key="accounts_change_name").set_value("admin")
    at.run()
    at.button(key="accounts_active").click()
    at.run()
    assert [shown_text(e.value) for e in at.error] == ["不能停用自己的账号"]
