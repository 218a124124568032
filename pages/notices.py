"""通知记录: every notice sent or waiting (督办员, 领导, admin: all units; 填报员: its own),
filtered and exported to Excel; an admin also sets e-mail addresses and unit robots here."""

from __future__ import annotations

import streamlit as st

from excel.notices import build_notices_workbook
from pagelogic import notices as notice_log
from tracker import notices as nt
from tracker.contacts import Contacts
from tracker.schema import ADMIN
from tracker.senders import ROBOT_KINDS
from webui import auth, data, safe

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWN_ROWS = 1_000

account = auth.account()
st.title("通知记录")
store = data.get_store()
today = data.today()
safe.flash()

notices = notice_log.for_account(store.engine, account)
left, middle, right = st.columns(3)
units = left.multiselect(
    "责任单位", notice_log.unit_options(notices), key="notices_units", placeholder="全部"
)
rules = middle.multiselect(
    "通知类型",
    list(nt.RULE_TITLES),
    format_func=nt.RULE_TITLES.get,
    key="notices_rules",
    placeholder="全部",
)
statuses = right.multiselect(
    "状态",
    list(nt.STATUS_LABELS),
    format_func=nt.STATUS_LABELS.get,
    key="notices_statuses",
    placeholder="全部",
)
chosen = notice_log.NoticeFilter(tuple(units), tuple(rules), tuple(statuses))
shown = notice_log.filtered(notices, chosen)
counts = notice_log.summary(shown)
st.caption(
    "；".join(f"{label} {count}" for label, count in counts.items())
    + "。通知由 python -m loaders notify 定时发送；失败的会按间隔重试，原因见「失败原因」。"
)
table = notice_log.notice_table(shown)
st.dataframe(table.head(SHOWN_ROWS), hide_index=True, width="stretch")
if len(table) > SHOWN_ROWS:
    st.caption(f"仅显示前 {SHOWN_ROWS:,} 条，共 {len(table):,} 条；完整记录请下载 xlsx。")
st.download_button(
    "下载通知记录（xlsx）",
    lambda: build_notices_workbook(table, f"通知记录（截至 {today}）"),
    f"通知记录_{today.isoformat()}.xlsx",
    XLSX_MIME,
    key="notices_export",
    on_click="ignore",
)

if account.role == ADMIN:
    contacts = Contacts(store)
    st.subheader("接收人设置")
    st.caption(
        "机器人只登记密钥名；地址与加签密钥放在环境变量或 .streamlit/secrets.toml，不在此显示。"
    )
    people = contacts.accounts_table()
    with st.form("notices_email"):
        username = st.selectbox("账号", list(people["username"]), key="notices_user")
        address = st.text_input("邮箱", key="notices_email_address")
        mobile = st.text_input("手机号（可选）", key="notices_mobile")
        if st.form_submit_button("保存邮箱"):
            safe.attempt(
                lambda: contacts.set_email(username, address, mobile, user=account),
                f"已保存 {username} 的联系方式。",
            )
    with st.form("notices_robot"):
        unit = st.text_input("责任单位", key="notices_robot_unit")
        kind = st.selectbox("机器人", list(ROBOT_KINDS), format_func=ROBOT_KINDS.get)
        ref = st.text_input("密钥名（如 kw_wecom）", key="notices_robot_ref")
        if st.form_submit_button("保存机器人"):
            safe.attempt(
                lambda: contacts.set_robot(unit, kind, ref, user=account),
                f"已保存 {unit} 的{ROBOT_KINDS[kind]}机器人。",
            )
    st.dataframe(
        people.rename(
            columns={
                "username": "账号",
                "role": "角色",
                "active": "启用",
                "email": "邮箱",
                "mobile": "手机号",
                "units": "单位",
            }
        ),
        hide_index=True,
        width="stretch",
    )
    robots = contacts.robots_table()
    robots["kind"] = robots["kind"].map(ROBOT_KINDS.get)
    st.dataframe(
        robots.rename(
            columns={
                "unit": "责任单位",
                "kind": "机器人",
                "secret_ref": "密钥名",
                "configured": "地址已配置",
                "signed": "已加签",
            }
        ),
        hide_index=True,
        width="stretch",
    )
