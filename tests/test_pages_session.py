"""An open session follows its account as stored: once an administrator disables the
account (CLI or store), the session's next run after the short re-check interval signs it
out with a message, and nothing of the page is drawn."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cli import main as cli_main
from tests.conftest import tasks_frame
from tests.factories import shown_text, signed_in_app
from tracker.schema import STAFF
from tracker.store import Store, make_engine
from webui.auth import RECHECK

TASKS = [
    ("demo-m01-t1", "甲任务", "市科委", "lead", 1),
    ("demo-m01-t1", "甲任务", "市财政局", "support", 2),
]


@pytest.fixture
def app_env(app_env_of) -> str:
    return app_env_of(tasks_frame(TASKS))


def _signed_in_pages(at) -> bool:
    return not any(t.key == "sign_in_user" for t in at.text_input)


@pytest.mark.parametrize("how", ["store", "cli"])
def test_a_disabled_account_is_signed_out_at_its_next_check(app_env, how):
    at = signed_in_app("pages/tasks.py", "kw01", STAFF, ["市科委"])
    assert _signed_in_pages(at) and at.dataframe
    if how == "store":
        store = Store(make_engine(app_env))
        store.accounts.set_active("kw01", False)
        store.engine.dispose()
    else:
        assert cli_main(["user", "disable", "kw01", "--db", app_env]) == 0
    at.run()  # within the interval the session is not asked about again
    assert _signed_in_pages(at)
    at.session_state["auth_checked_at"] = datetime.now() - RECHECK - timedelta(seconds=1)
    at.run()
    assert not at.exception, at.exception
    assert not _signed_in_pages(at)
    assert [shown_text(w.value) for w in at.warning] == [
        "账号 kw01 已停用，登录已结束；如有疑问请联系管理员。"
    ]
    assert not at.data_editor and all(grid.value.empty for grid in at.dataframe)


def test_an_active_account_stays_signed_in_and_picks_up_new_units(app_env):
    at = signed_in_app("pages/tasks.py", "kw01", STAFF, ["市科委"])
    store = Store(make_engine(app_env))
    store.accounts.set_units("kw01", ["市科委", "市财政局"])
    store.engine.dispose()
    at.session_state["auth_checked_at"] = datetime.now() - RECHECK - timedelta(seconds=1)
    at.run()
    assert _signed_in_pages(at)
    assert at.session_state["auth_account"].units == frozenset({"市科委", "市财政局"})
