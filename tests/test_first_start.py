"""First start: the one-time setup code (file mode, works once, expires, refused when
wrong), the first-start page under AppTest, and a new user reaching 总览 in a real browser
with nothing but the code the server printed."""

from __future__ import annotations

import stat
from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from bench.live import streamlit_server, wait_until_idle
from tests.conftest import tasks_frame
from tests.factories import DASHBOARD
from tracker import first_start
from tracker.errors import SignInError, TrackerError
from tracker.progress import now
from tracker.schema import ADMIN
from tracker.store import Store, make_engine

TASKS = [("demo-m01-t1", "甲任务", "市科委", "lead", 1)]


@pytest.fixture
def store(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 't.db'}")
    yield store
    store.engine.dispose()


def test_code_file_is_owner_only_and_the_code_works_once(store, tmp_path):
    path = tmp_path / "data" / "setup-code"
    code = first_start.ensure_code(store, path)
    assert code is not None and len(code.replace("-", "")) == 20
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == code
    assert first_start.ensure_code(store, path) == code  # a restart prints the same code
    admin = first_start.claim(store, code.lower(), "管理员甲", "first-admin-pass", path=path)
    assert admin.role == ADMIN
    assert store.accounts.sign_in("管理员甲", "first-admin-pass").username == "管理员甲"
    assert not path.exists()
    with pytest.raises(TrackerError, match="初始化码不正确"):
        first_start.claim(store, code, "管理员乙", "other-admin-pass", path=path)
    assert first_start.ensure_code(store, path) is None  # an account exists: no code at all
    assert store.accounts.table()["username"].tolist() == ["管理员甲"]


def test_a_wrong_or_expired_code_creates_nothing(store, tmp_path):
    path = tmp_path / "setup-code"
    code = first_start.ensure_code(store, path)
    assert code is not None
    with pytest.raises(TrackerError, match="初始化码不正确"):
        first_start.claim(store, "AAAAA-AAAAA-AAAAA-AAAAA", "admin", "first-admin-pass", path=path)
    later = now() + first_start.CODE_LIFETIME + timedelta(minutes=1)
    with pytest.raises(TrackerError, match="已过期"):
        first_start.claim(store, code, "admin", "first-admin-pass", path=path, at=later)
    with pytest.raises(TrackerError, match="至少需要"):
        first_start.claim(store, code, "admin", "short", path=path)
    assert store.accounts.count() == 0
    fresh = first_start.ensure_code(store, path, at=later)  # expired: a new code is issued
    assert fresh not in (None, code)
    first_start.claim(store, fresh, "admin", "first-admin-pass", path=path, at=later)
    with pytest.raises(SignInError):
        store.accounts.sign_in("admin", "wrong-password-1")


@pytest.fixture
def app_env(app_env_of) -> str:
    return app_env_of(tasks_frame(TASKS))


def test_first_start_page_creates_the_admin_and_signs_in(app_env, tmp_path):
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    assert not at.exception
    code = (tmp_path / "setup-code").read_text().strip()
    at.text_input(key="setup_code").input("WRONG-CODE")
    at.text_input(key="setup_user").input("admin")
    at.text_input(key="setup_password").input("first-admin-pass")
    at.text_input(key="setup_password_again").input("first-admin-pass")
    at.button(key="setup_submit").click()
    at.run()
    assert "初始化码不正确" in at.error[0].value
    at.text_input(key="setup_code").input(code)
    at.button(key="setup_submit").click()
    at.run()
    assert not at.exception
    assert at.title[0].value == "总览"
    store = Store(make_engine(app_env))
    assert store.accounts.table()[["username", "role"]].values.tolist() == [["admin", ADMIN]]
    store.engine.dispose()


def test_a_new_user_reaches_the_dashboard_in_the_browser_alone(page, tmp_path):
    """`streamlit run dashboard.py` on a fresh database: the code the server wrote, the
    admin's name and password typed into the page, and 总览 is drawn."""
    code_file = tmp_path / "setup-code"
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    with streamlit_server(url, env={"TRACKER_SETUP_CODE_FILE": str(code_file)}) as base:
        page.goto(base)
        page.get_by_label("初始化码").wait_for(timeout=60_000)
        wait_until_idle(page)
        assert stat.S_IMODE(code_file.stat().st_mode) == 0o600
        page.get_by_label("初始化码").fill(code_file.read_text().strip())
        page.get_by_label("管理员用户名").fill("admin")
        page.get_by_label("密码", exact=True).first.fill("first-admin-pass")
        page.get_by_label("再次输入密码").fill("first-admin-pass")
        page.get_by_role("button", name="创建管理员并登录").click()
        page.wait_for_selector("h1:has-text('总览')", timeout=60_000)
        wait_until_idle(page)
        assert page.get_by_text("已登录：").count() == 1
    assert not code_file.exists()
