"""The sign-in gate: no page shows a task before an account is signed in.

Accounts live in the database (``tracker.accounts``).  Where ``.streamlit/secrets.toml``
configures an identity provider (an ``[auth]`` section), Streamlit's ``st.login`` (OIDC)
signs people in instead, and the provider's e-mail must name an active account.

A session ends after ``TRACKER_SESSION_MINUTES`` (default 30) minutes without activity and
after 12 hours at most, and at the next run once its account is disabled or removed: the
account is read again from the store at most every ``RECHECK`` (a run in between reuses it),
which also picks up a changed role or units.  The password is checked and dropped: it never enters session state
beyond the form widget, the log or a page.

A reload or an opened link starts a new Streamlit session; so that it does not ask for the
password again, signing in leaves a signed, expiring token in a cookie
(``tracker.session_tokens``, renewed while the user works, cleared on 退出登录).  Streamlit
1.67 reads cookies (``st.context.cookies``, sent with the session's first request) but has
no call that sets one, so the cookie is written by a one-line script through
``st.html(..., unsafe_allow_javascript=True)``; the script holds only the token we made
(checked to be URL-safe characters), never user text.  Being set by a script, the cookie
cannot be HttpOnly: the text-as-text rule (``webui.safe``) is what keeps scripts out.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from tracker import config, session_tokens
from tracker.accounts import Account
from tracker.errors import PermissionDenied, SignInError, StoreUnavailable, TrackerError
from tracker.events import log_event
from tracker.schema import MIN_PASSWORD_LENGTH
from webui import data, first_start, safe

_ACCOUNT = "auth_account"
_SIGNED_IN_AT = "auth_signed_in_at"
_LAST_SEEN = "auth_last_seen"
_EXPIRED = "auth_expired"
_COOKIE_AT = "auth_cookie_at"  # when this session last wrote the token cookie
_SIGNED_OUT = "auth_signed_out"  # signed out here: the cookie sent at the start is void
_CODE_FORM = "auth_code_form"  # the one-time code form was opened
_CHECKED_AT = "auth_checked_at"  # when the account was last read from the store
_ENDED = "auth_ended"  # why the session was ended by the store (disabled account)
MAX_SESSION = timedelta(hours=12)
RECHECK = timedelta(seconds=30)
_TOKEN = re.compile(r"^[A-Za-z0-9_.\-]+$")


def idle_limit() -> timedelta:
    """How long a signed-in session may sit unused (``TRACKER_SESSION_MINUTES``)."""
    return timedelta(minutes=int(config.value("TRACKER_SESSION_MINUTES")))  # type: ignore[arg-type]


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def account() -> Account:
    """The signed-in account; every page starts by asking for it.

    Through the frame a page runs only after :func:`require` let it.  But until a script
    run has called ``st.navigation``, Streamlit (multipage v1, chosen because a ``pages/``
    folder exists) runs ``pages/<name>.py`` directly for a deep link such as ``/excel``:
    the first session after a server starts gets there without the frame and without an
    account.  The page then switches the server to ``st.navigation`` (what that call does
    itself) and reruns the same page and query, now through the frame and its sign-in, so
    the link still opens its page once signed in.
    """
    signed_in = st.session_state.get(_ACCOUNT)
    if signed_in is None:
        if PagesManager.uses_pages_directory:
            PagesManager.uses_pages_directory = False
            st.rerun()
        st.switch_page("dashboard.py")
    return signed_in


def sign_out() -> None:
    for key in (_ACCOUNT, _SIGNED_IN_AT, _LAST_SEEN, _CHECKED_AT, _COOKIE_AT):
        st.session_state.pop(key, None)
    st.session_state[_SIGNED_OUT] = True  # the sign-in page clears the cookie


def _from_cookie() -> Account | None:
    """The account the session cookie signs in again (a reload, an opened link), if any."""
    token = st.context.cookies.get(session_tokens.COOKIE) if st.context.cookies else None
    if not token or st.session_state.get(_SIGNED_OUT):
        return None
    restored = session_tokens.restore(
        data.get_store(), token, idle=idle_limit(), cap=MAX_SESSION, now=datetime.now()
    )
    if restored is None:
        return None
    log_event("session_restored", restored.account.username)
    _remember(restored.account, restored.signed_in_at)
    return restored.account


def _as_stored(signed_in: Account, now: datetime) -> Account | None:
    """``signed_in`` as the store holds it now (None once disabled or removed), read at
    most every :data:`RECHECK`: one small query per session per interval."""
    if now - st.session_state.get(_CHECKED_AT, datetime.min) < RECHECK:
        return signed_in
    try:
        current = data.get_store().accounts.account(signed_in.username)
    except PermissionDenied as exc:
        log_event("session_ended", signed_in.username, reason="account_inactive")
        st.session_state[_ENDED] = str(exc)
        return None
    except StoreUnavailable:
        return signed_in  # asked again next run; every page read fails meanwhile anyway
    st.session_state[_ACCOUNT] = current
    st.session_state[_CHECKED_AT] = now
    return current


def _current() -> Account | None:
    signed_in = st.session_state.get(_ACCOUNT)
    if signed_in is None:
        return _from_cookie()
    now = datetime.now()
    if (
        now - st.session_state[_LAST_SEEN] > idle_limit()
        or now - st.session_state[_SIGNED_IN_AT] > MAX_SESSION
    ):
        sign_out()
        st.session_state[_EXPIRED] = True
        return None
    signed_in = _as_stored(signed_in, now)
    if signed_in is None:
        sign_out()
        return None
    st.session_state[_LAST_SEEN] = now
    return signed_in


def _remember(signed_in: Account, signed_in_at: datetime | None = None) -> None:
    now = datetime.now()
    st.session_state[_ACCOUNT] = signed_in
    st.session_state[_SIGNED_IN_AT] = signed_in_at or now
    st.session_state[_LAST_SEEN] = now
    st.session_state[_CHECKED_AT] = now
    st.session_state.pop(_EXPIRED, None)
    st.session_state.pop(_SIGNED_OUT, None)


def _cookie_script(value: str, max_age: int) -> None:
    """Write (or with max_age 0, delete) the session cookie in the browser."""
    secure = "; Secure" if str(st.context.url or "").startswith("https:") else ""
    st.html(
        f"<script>document.cookie = '{session_tokens.COOKIE}={value}; Path=/; "
        f"Max-Age={max_age}; SameSite=Strict{secure}';</script>",
        unsafe_allow_javascript=True,
        width="content",
    )


def _keep_cookie(signed_in: Account) -> None:
    """Write the token cookie after signing in, and again once half the idle limit has
    passed (the token expires after the idle limit, so it follows the user's activity).

    Every run draws one element here, the script or an empty slot: an element that came
    and went would shift every element after it, and Streamlit would then redraw the
    page's tabs on their first tab (a file chosen under 导入填报结果 showed its preview in
    a hidden tab)."""
    now = datetime.now()
    written = st.session_state.get(_COOKIE_AT)
    token = None
    if written is None or now - written >= idle_limit() / 2:
        token = session_tokens.issue(data.get_store(), signed_in, st.session_state[_SIGNED_IN_AT])
    if token is not None and _TOKEN.match(token):
        _cookie_script(token, int(idle_limit().total_seconds()))
        st.session_state[_COOKIE_AT] = now
    else:
        st.empty()


def _first_admin() -> bool:
    """With no account yet, ``TRACKER_ADMIN_USER``/``TRACKER_ADMIN_PASSWORD`` create the
    admin; otherwise the first-start page (setup code) is drawn and True returned."""
    accounts = data.get_store().accounts
    if accounts.count():
        return False
    name = str(config.value("TRACKER_ADMIN_USER"))
    password = str(config.value("TRACKER_ADMIN_PASSWORD"))
    if name and password:
        try:
            accounts.add(name, role="admin", password=password)
        except TrackerError as exc:
            safe.error(f"无法按环境变量创建管理员：{exc}")
        return False
    first_start.form(_remember)
    return True


# Seconds the sign-in page's run waits, once the form is sent, before it sends the
# out-of-sight chart: time for the browser to draw the form first (see _warm_browser).
# Half a second was not enough on a loaded 2-core machine (the suite on both cores): the
# form was first painted 1.5 s after the page opened, the chart code asked for at 1.3 s.
PAINT_FIRST = 1.0


def _warm_browser() -> None:
    """Draw one empty chart and one empty grid out of sight on the sign-in page.

    Streamlit's browser code for charts and grids (about 6 MB of JavaScript, plotly.js
    most of it) is fetched and compiled only when a page first draws one.  Drawn here, that
    happens while the visitor types the password instead of after signing in, when 总览
    waits for it (about 1.2 s of the first 总览 on a busy 2-core server).

    They are sent ``PAINT_FIRST`` after the form.  From a warm browser cache the chart code
    is at hand at once, and compiling it (half a second or more) held the form's first
    paint back whenever both arrived together; from an empty cache the download took that
    long anyway.
    """
    if not st.get_option("global.appTest"):  # AppTest has no browser to paint anything
        time.sleep(PAINT_FIRST)
    with st.container(key="warm_browser"):
        st.html(
            "<style>.st-key-warm_browser{position:absolute;left:-10000px;width:300px;"
            "visibility:hidden}</style>"
        )
        st.plotly_chart(go.Figure(), key="warm_chart")
        st.dataframe(pd.DataFrame(), key="warm_grid")


def _client_address() -> str:
    """The browser's address as Streamlit saw it (behind a proxy: the proxy's, so throttling
    by address then needs the proxy to limit too); empty where there is none (AppTest)."""
    address = st.context.ip_address
    return address if isinstance(address, str) else ""


def _password_form() -> None:
    st.title("政策任务督办台")
    if st.session_state.pop(_EXPIRED, False):
        st.warning("长时间未操作，登录已过期，请重新登录。")
    ended = st.session_state.pop(_ENDED, None)
    if ended:
        safe.warning(f"{ended}，登录已结束；如有疑问请联系管理员。")
    if _first_admin():
        st.subheader("已有账号？登录")
    with st.form("sign_in"):
        username = st.text_input("用户名", key="sign_in_user")
        password = st.text_input("密码", type="password", key="sign_in_password")
        submitted = st.form_submit_button("登录", type="primary", key="sign_in_submit")
    if st.session_state.get(_SIGNED_OUT):
        _cookie_script("", 0)  # signed out: this browser is not signed in again by it
    if submitted:
        try:
            signed_in = data.get_store().accounts.sign_in(
                username, password, address=_client_address()
            )
        except SignInError as exc:
            log_event("sign_in_refused", username)
            safe.error(exc)
        else:
            log_event("sign_in", signed_in.username)
            _remember(signed_in)
            st.rerun()
    _code_form()
    _warm_browser()


def _code_form() -> None:
    """A new account (or a forgotten password): the one-time code an admin handed over,
    and the password the user chooses, twice.  Then the user signs in above.  The form
    opens on a click, so the sign-in form stays the only one with 用户名 and 密码 fields."""
    if not st.session_state.get(_CODE_FORM):
        if st.button("使用一次性设置码设置密码", key="code_open"):
            st.session_state[_CODE_FORM] = True
            st.rerun()
        return
    with st.form("set_password"):
        st.markdown("**使用一次性设置码设置密码**")
        username = st.text_input("用户名", key="code_user")
        code = st.text_input("一次性设置码（管理员提供）", key="code_code")
        password = st.text_input(
            f"新密码（至少 {MIN_PASSWORD_LENGTH} 个字符）", type="password", key="code_password"
        )
        again = st.text_input("再次输入新密码", type="password", key="code_password_again")
        submitted = st.form_submit_button("设置密码", key="code_submit")
    if not submitted:
        return
    if password != again:
        safe.error("两次输入的密码不一致")
        return
    try:
        data.get_store().accounts.set_password_with_code(username, code, password)
    except TrackerError as exc:
        log_event("password_code_refused", username)
        safe.error(exc)
    else:
        log_event("password_set_with_code", username)
        safe.success("密码已设置，请在上方用新密码登录。")


def _oidc_stand_in() -> None:
    """Signed out under OIDC: the button that starts the identity provider's sign-in."""
    st.title("政策任务督办台")
    if not st.user.get("is_logged_in", False):
        st.button("使用单位统一身份认证登录", on_click=st.login, type="primary")
        _warm_browser()


def _oidc() -> Account | None:
    if not st.user.get("is_logged_in", False):
        return None
    signed_in = st.session_state.get(_ACCOUNT)
    if signed_in is None:
        try:
            signed_in = data.get_store().accounts.account(str(st.user.get("email", "")))
        except PermissionDenied as exc:
            safe.error(exc)
            st.button("退出", on_click=st.logout)
            return None
        _remember(signed_in)
    return _current()


def require(url_paths: list[str]) -> Account:
    """The signed-in account, or draw the sign-in page and stop the script.

    ``url_paths`` are the app's page paths.  Signed out, every one of them is registered
    with the sign-in form in its place: ``st.navigation`` must run on every script run, or
    Streamlit falls back to running ``pages/*.py`` directly (no gate at all), and a link
    such as ``/update?unit=市科委`` then opens that page right after signing in.
    """
    signed_in = _oidc() if _oidc_configured() else _current()
    if signed_in is None:
        form = _oidc_stand_in if _oidc_configured() else _password_form
        gate = [
            st.Page(form, title="登录", url_path=path or "sign_in", default=not path)
            for path in url_paths
        ]
        st.navigation(gate, position="hidden").run()
        st.stop()
    if not _oidc_configured():
        _keep_cookie(signed_in)
    st.sidebar.caption(f"已登录：{safe.plain(signed_in.label)}")
    if st.sidebar.button("退出登录", key="sign_out"):
        sign_out()
        if _oidc_configured():
            st.logout()
        st.rerun()
    return signed_in
