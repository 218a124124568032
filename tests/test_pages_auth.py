"""The sign-in gate under AppTest: nothing shows before signing in, each role sees the pages
and buttons it may use, refusals are told, sessions expire, and the audit page filters and
exports the history."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import openpyxl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import tasks_frame
from tests.factories import (
    DASHBOARD,
    PASSWORD,
    shown_text,
    sign_in_app,
    signed_in,
    signed_in_app,
    staff,
)
from tracker.progress import Update
from tracker.schema import ADMIN, LEADER, STAFF, SUPERVISOR
from tracker.store import Store, make_engine

TASKS = [
    ("demo-m01-t1", "甲任务", "市科委", "lead", 1),
    ("demo-m01-t1", "甲任务", "市财政局", "support", 2),
    ("demo-m02-t1", "乙任务", "市财政局", "lead", 1),
]


@pytest.fixture
def app_env(app_env_of) -> str:
    return app_env_of(tasks_frame(TASKS))


def _store(url: str) -> Store:
    return Store(make_engine(url))


def _page_title(at: AppTest) -> str:
    return at.title[0].value if at.title else ""


def _no_rows_shown(at: AppTest) -> bool:
    """No metric, editor or table row; the sign-in page's out-of-sight empty grid (drawn so
    the browser loads the grid code while the password is typed) has no rows."""
    grids_empty = all(grid.value.empty for grid in at.dataframe)
    return grids_empty and not at.data_editor and not at.metric


def _all_text(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "title", "info") for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)


def test_nothing_shows_before_signing_in_and_first_start_says_how(app_env):
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    assert not at.exception
    # No account yet: the first-start form (setup code) above the sign-in form, which
    # serves once the admin was made on the command line.
    assert [t.key for t in at.text_input] == [
        "setup_code",
        "setup_user",
        "setup_password",
        "setup_password_again",
        "sign_in_user",
        "sign_in_password",
    ]
    assert _no_rows_shown(at)
    assert "甲任务" not in _all_text(at)
    assert [c.value for c in at.code] == ["python -m loaders user add NAME --role admin"]
    # Signed out, no page script is registered at all: each path shows the sign-in form.
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/update.py")


def test_admin_from_environment_on_first_start(app_env, monkeypatch):
    monkeypatch.setenv("TRACKER_ADMIN_USER", "admin")
    monkeypatch.setenv("TRACKER_ADMIN_PASSWORD", "first-admin-pass")
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    assert not at.code  # no command needed: the admin exists
    at.text_input(key="sign_in_user").input("admin")
    at.text_input(key="sign_in_password").input("first-admin-pass")
    at.button(key="sign_in_submit").click()
    at.run()
    assert _page_title(at) == "总览"
    listing = _store(app_env).accounts.table()
    assert listing[["username", "role"]].values.tolist() == [["admin", ADMIN]]


def test_wrong_password_is_refused_and_counted(app_env):
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    _store(app_env).accounts.add("kw01", role=STAFF, units=["市科委"], password=PASSWORD)
    at.text_input(key="sign_in_user").input("kw01")
    at.text_input(key="sign_in_password").input("not-the-password")
    at.button(key="sign_in_submit").click()
    at.run()
    assert [shown_text(e.value) for e in at.error] == ["用户名或密码错误"]
    assert any(t.key == "sign_in_user" for t in at.text_input)  # still the sign-in form
    assert _store(app_env).accounts.table().failed_sign_ins.tolist() == [1]
    # The password appears nowhere on the page.
    assert "not-the-password" not in _all_text(at) + "".join(e.value for e in at.error)


@pytest.mark.parametrize(
    "role,units,update,deadlines,report",
    [
        (STAFF, ["市科委"], True, False, False),
        (SUPERVISOR, [], True, True, True),
        (LEADER, [], False, False, True),
        (ADMIN, [], True, True, True),
    ],
)
def test_each_role_sees_what_it_may_use(app_env, role, units, update, deadlines, report):
    at = signed_in_app(None, f"user-{role}", role, units)
    for page, title, allowed in (
        ("pages/update.py", "进度填报", update),
        ("pages/deadlines.py", "完成时限", deadlines),
    ):
        if not allowed:
            # Not in this role's navigation at all: AppTest cannot even switch to it.
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(page)
            continue
        at.switch_page(page)
        at.run()
        assert not at.exception, at.exception
        assert _page_title(at) == title, (role, page)
    at.switch_page("pages/excel.py")
    at.run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert ("下载进度报表（xlsx）" in labels) is report
    if role == LEADER:
        assert any("不能导入" in i.value for i in at.info)
    if role == STAFF:
        assert at.selectbox(key="excel_unit").options == ["市科委"]


def test_staff_update_page_refuses_a_forged_unit_choice(app_env):
    """Even if the browser sends a unit the account does not hold, the store refuses."""
    at = signed_in_app("pages/update.py", "kw01", STAFF, ["市科委"])
    assert at.selectbox(key="update_unit").options == ["市科委"]
    store = _store(app_env)
    rows = store.assignments()
    finance = int(rows[rows.unit == "市财政局"].assignment_id.iloc[0])
    account = store.accounts.sign_in("kw01", PASSWORD)
    with pytest.raises(Exception, match="无权修改"):
        store.apply([Update(finance, 0, {"percent": 10})], user=account, source="web")
    assert store.history().empty


def test_session_expires_after_idle_time(app_env, monkeypatch):
    monkeypatch.setenv("TRACKER_SESSION_MINUTES", "15")
    at = signed_in_app("pages/update.py", "kw01", STAFF, ["市科委"])
    at.session_state["auth_last_seen"] = datetime.now() - timedelta(minutes=16)
    at.run()
    assert any(t.key == "sign_in_user" for t in at.text_input)
    assert any("登录已过期" in w.value for w in at.warning)
    assert not at.data_editor


def test_sign_out(app_env):
    at = signed_in_app(None, "kw01", STAFF, ["市科委"])
    at.sidebar.button(key="sign_out").click()
    at.run()
    assert any(t.key == "sign_in_user" for t in at.text_input)


def test_deadline_page_sets_every_unit_of_a_task(app_env):
    at = signed_in_app("pages/deadlines.py", "督办甲", SUPERVISOR)
    editor = next(e for e in at.data_editor if e.key.startswith("deadlines_tasks_"))
    assert list(editor.value["任务编号"]) == ["demo-m01-t1", "demo-m02-t1"]
    at.session_state[editor.key] = {
        "edited_rows": {0: {"完成时限": "2026-12-31"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.button(key="deadlines_save_tasks").click()
    at.run()
    assert [e.value for e in at.error] == []
    rows = _store(app_env).assignments()
    due = rows.set_index(["task_id", "unit"])["due_date"].dt.strftime("%Y-%m-%d").fillna("")
    assert due.to_dict() == {
        ("demo-m01-t1", "市科委"): "2026-12-31",
        ("demo-m01-t1", "市财政局"): "2026-12-31",
        ("demo-m02-t1", "市财政局"): "",
    }
    assert set(_store(app_env).history().changed_by) == {"督办甲"}


def _history_rows(app_env) -> None:
    store = _store(app_env)
    rows = store.assignments()
    aid = {
        u: int(rows[(rows.unit == u) & (rows.role == "lead")].assignment_id.iloc[0])
        for u in ("市科委", "市财政局")
    }
    store.apply(
        [Update(aid["市科委"], 0, {"note": '=HYPERLINK("http://evil")'})],
        user=staff(store, "市科委", "kw01"),
        source="web",
    )
    store.apply(
        [Update(aid["市财政局"], 0, {"percent": 30})],
        user=staff(store, "市财政局", "cz01"),
        source="web",
    )
    store.engine.dispose()


def test_audit_page_staff_sees_own_units_supervisor_all_and_filters(app_env):
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    _history_rows(app_env)
    at = sign_in_app(at, "kw01", STAFF, ["市科委"])  # exists already; signs in with its password
    at.switch_page("pages/audit.py")
    at.run()
    table = at.dataframe[0].value
    assert set(table["责任单位"]) == {"市科委"} and set(table["修改人"]) == {"kw01"}

    at = signed_in_app("pages/audit.py", "督办甲", SUPERVISOR)
    assert set(at.dataframe[0].value["责任单位"]) == {"市科委", "市财政局"}
    at.multiselect(key="audit_users").select("cz01")
    at.run()
    assert set(at.dataframe[0].value["修改人"]) == {"cz01"}

    # The history is cached per data revision: a save made after the page was drawn shows
    # on the next run.
    store = _store(app_env)
    row = store.assignments().query("unit == '市财政局' and role == 'lead'").iloc[0]
    store.apply(
        [Update(int(row.assignment_id), int(row.version), {"note": "缓存之后的修改"})],
        user=store.accounts.account("cz01"),
        source="web",
    )
    at.run()
    assert "缓存之后的修改" in set(at.dataframe[0].value["新值"])


def test_audit_export_is_a_real_workbook_with_text_cells(app_env):
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    _history_rows(app_env)
    from excel.audit import build_audit_workbook
    from tracker.audit import audit_table

    store = _store(app_env)
    table = audit_table(store.history(), {"demo-2026-1": "示范政策"})
    book = openpyxl.load_workbook(io.BytesIO(build_audit_workbook(table, "审计记录（全部）")))
    sheet = book["审计记录"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "审计记录（全部）"
    assert list(rows[1]) == list(table.columns)
    assert len(rows) == 2 + len(table) == 2 + 2  # note + percent
    formula_cells = [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formula_cells == []
    new_value = rows[1].index("新值")
    assert any(row[new_value] == '=HYPERLINK("http://evil")' for row in rows[2:])
    assert {row[1] for row in rows[2:]} == {"示范政策"}


def test_signed_in_helper_refuses_unknown_roles(app_env):
    store = _store(app_env)
    store.create_schema()
    with pytest.raises(Exception, match="未知角色"):
        signed_in(store, "x", "boss")


def test_oidc_configured_offers_single_sign_on_instead_of_passwords(app_env):
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.secrets["auth"] = {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "test-cookie-secret",
        "client_id": "tracker",
        "client_secret": "test-client-secret",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
    }
    at.run()
    assert not at.exception, at.exception
    assert not at.text_input  # no password form
    assert [b.label for b in at.button] == ["使用单位统一身份认证登录"]
    assert _no_rows_shown(at)


def test_a_database_that_cannot_be_written_is_a_message_not_a_traceback(app_env, monkeypatch):
    _store(app_env).create_schema()
    path = app_env.removeprefix("sqlite:///")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///file:{path}?mode=ro&uri=true")
    st.cache_resource.clear()
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    [error] = [shown_text(e.value) for e in at.error]
    assert error.startswith("数据库暂不可用")


def test_an_invalid_setting_is_a_message_naming_it(app_env, monkeypatch):
    at = signed_in_app(None, "kw01", STAFF, ["市科委"])
    monkeypatch.setenv("TRACKER_SESSION_MINUTES", "soon")
    at.run()
    assert not at.exception, at.exception
    assert any("TRACKER_SESSION_MINUTES='soon'" in shown_text(e.value) for e in at.error)
    assert not at.metric  # nothing drawn past the refusal
