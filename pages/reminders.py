"""催办: per unit, what is overdue, due within N days or not reported this period (under the
sidebar filters); one click records the reminder, and the list comes as an Excel sheet and
as a notice ready to paste."""

from __future__ import annotations

import streamlit as st

from excel.reminders import build_reminder_workbook
from pagelogic import notices as notice_log
from pagelogic.views import TABLE_LIMIT
from tracker import reminders as rm
from tracker import supervision as sv
from tracker.accounts import Account
from tracker.labels import SHOW_IDS
from tracker.progress import period_of
from tracker.schema import REMINDER_DAYS
from tracker.store import Store
from webui import auth, data, filters, safe

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _actions(account: Account, store: Store, board, days: int, sender: str, ids: bool) -> None:
    """Send the reminders (the button says to how many units and items), or take the list
    away as a workbook (with the task ids when the page shows them)."""
    items, summary = board.items, board.summary
    listed = items if ids else items.drop(columns=rm.TASK_ID)
    today = data.today()
    period = period_of(today)
    title = f"催办清单（截至 {today}，{days} 天内到期）"
    left, right = st.columns(2)
    if left.button(board.send_label, type="primary", key="reminders_send"):
        notices = rm.unit_notices(items, today=today, days=days, period=period, sender=sender)
        safe.attempt(
            lambda: sv.Supervision(store).remind(notices, user=account),
            f"已向 {len(notices)} 个单位发送催办，共 {len(items)} 项。",
        )
    right.download_button(
        "下载催办清单（xlsx）",
        lambda: build_reminder_workbook(listed, summary, title),
        f"催办清单_{today.isoformat()}.xlsx",
        XLSX_MIME,
        key="reminders_export",
        on_click="ignore",
    )


def _notice(board, days: int, sender: str) -> None:
    """The notice ready to paste; the whole of it as a file when the screen shows a part."""
    today = data.today()
    st.caption("可直接复制。")
    st.code(board.notice, language=None, wrap_lines=True, height=420)
    if board.cut:
        st.download_button(
            "下载完整催办通知（txt）",
            lambda: rm.notice_text(
                board.items, today=today, days=days, period=period_of(today), sender=sender
            ).encode("utf-8"),
            f"催办通知_{today.isoformat()}.txt",
            "text/plain",
            key="reminders_notice",
            on_click="ignore",
        )


def _log(log) -> None:
    if log.empty:
        st.info("尚未记录催办。")
        return
    st.dataframe(
        log.head(TABLE_LIMIT)[["unit", "period", "items", "sent_by", "sent_at"]].rename(
            columns={
                "unit": "责任单位",
                "period": "报告期",
                "items": "事项数",
                "sent_by": "催办人",
                "sent_at": "时间",
            }
        ),
        hide_index=True,
        width="stretch",
    )


def _tabs(board, days: int, sender: str, ids: bool) -> None:
    # Only the open tab is drawn: each grid cost the browser ~250 ms of every page switch.
    summary_tab, items_tab, notice_tab, log_tab = st.tabs(
        ["按单位汇总", "催办清单", "催办通知", "催办记录"], key="reminders_tab", on_change="rerun"
    )
    if summary_tab.open:
        with summary_tab:
            st.dataframe(board.summary, hide_index=True, width="stretch")
    if items_tab.open:
        with items_tab:
            st.dataframe(
                board.shown,
                hide_index=True,
                width="stretch",
                column_config={} if ids else {rm.TASK_ID: None},
            )
            if board.cut:
                st.caption(
                    f"仅显示前 {len(board.shown):,} 项，共 {len(board.items):,} 项；"
                    "完整清单请下载 xlsx。"
                )
    if notice_tab.open:
        with notice_tab:
            _notice(board, days, sender)
    if log_tab.open:
        with log_tab:
            _log(board.log)


def _failed_notices(store: Store, account: Account) -> None:
    """Notices that failed or wait for a retry, with the reason (below the reminders)."""
    failures = notice_log.failures_table(notice_log.for_account(store.engine, account))
    if len(failures):
        st.warning(f"有 {len(failures)} 条通知发送失败或等待重试，原因如下（详见「通知记录」）。")
        st.dataframe(failures.head(TABLE_LIMIT), hide_index=True, width="stretch")


def main(account: Account) -> None:
    """The page, top to bottom: what to chase, the list per unit, recording and exporting."""
    st.title("催办")
    store = data.get_store()
    today = data.today()
    period = period_of(today)
    safe.flash()

    left, right = st.columns([1, 3])
    days = left.number_input(
        "即将到期：N 天内", min_value=1, max_value=365, value=REMINDER_DAYS, key="reminders_days"
    )
    reasons = right.multiselect(
        "催办事项", rm.REASONS, default=rm.DEFAULT_REASONS, key="reminders_reasons"
    )
    sender = account.display_name or account.username
    board = data.supervised(
        sv.Supervision.reminder_board,
        filters.current(),
        int(days),
        tuple(reasons),
        sender,
        TABLE_LIMIT,
    )
    st.caption(
        f"截至 {today}：已逾期或 {days} 天内到期（均指未完成的任务）的任务，按单位列出（受侧栏筛选"
        f"影响）；本期（{period}）未报送、未签收的任务需在「催办事项」中勾选。已催办次数为此前记录的催办。"
    )
    if board.items.empty:
        st.success("当前筛选条件下没有需要催办的事项。")
        _failed_notices(store, account)
        return

    st.subheader(f"需催办 {len(board.summary)} 个单位，{len(board.items)} 项")
    ids = st.toggle(SHOW_IDS, value=False, key="reminders_show_ids")
    _actions(account, store, board, int(days), sender, ids)
    _tabs(board, int(days), sender, ids)
    _failed_notices(store, account)


account = auth.account()
main(account)
