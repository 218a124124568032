"""审核: reports waiting for this account (a lead unit reviews its support units, a 督办员
the lead units), accepted or sent back with a reason, and closed once done; a 督办员 also
decides on extension requests here."""

from __future__ import annotations

import streamlit as st

from tracker import supervision as sv
from tracker.accounts import Account
from tracker.schema import ACCEPTED, EXTENSION_LABELS, LEAD, SUBMITTED
from webui import auth, data, safe
from webui import evidence as evidence_ui

SHOWN = 30  # reports drawn at once; the rest follow as these are dealt with


def _report(supervision: sv.Supervision, account: Account, assignments, item) -> None:
    """One report waiting: its text (with the support units' for a lead unit's), accepted or
    sent back with a reason; once accepted and done, closed."""
    aid, period = int(item.assignment_id), item.period
    key = f"{aid}_{period}"
    with st.container(border=True):
        safe.caption(
            f"{item.period} · {item.unit}（{sv.role_label(item.role)}） · {item.task_label}：{item.task_text}"
        )
        safe.info(item.report)
        if item.role == LEAD:
            steps = supervision.steps(task_ids=[item.task_id])
            support = sv.support_reports(steps, assignments, item.task_id, period)
            if len(support):
                st.caption("配合单位本期已审核的报告")
                st.dataframe(sv.support_table(support), hide_index=True, width="stretch")
        evidence_ui.viewer(supervision.store, account, aid, key=f"review_{key}")
        safe.caption(f"报送人：{item.submitted_by}　报送时间：{item.submitted_at:%Y-%m-%d %H:%M}")
        if item.state == SUBMITTED:
            left, right = st.columns(2)
            if left.button("审核通过", key=f"review_accept_{key}", type="primary"):
                safe.attempt(
                    lambda a=aid, p=period: supervision.accept(a, p, user=account),
                    f"已审核通过 {item.unit} 的 {item.task_label}（{period}）。",
                )
            reason = right.text_input("退回理由", key=f"review_reason_{key}")
            if right.button("退回", key=f"review_return_{key}"):
                safe.attempt(
                    lambda a=aid, p=period, r=reason: supervision.send_back(a, p, r, user=account),
                    f"已退回 {item.unit} 的 {item.task_label}（{period}）。",
                )
        elif item.state == ACCEPTED and st.button("办结销号", key=f"review_close_{key}"):
            safe.attempt(
                lambda a=aid, p=period: supervision.close(a, p, user=account),
                f"{item.unit} 的 {item.task_label} 已办结。",
            )


def _extension(supervision: sv.Supervision, account: Account, request) -> None:
    """One extension request, approved (with an optional note) or refused with a reason."""
    rid = int(request.request_id)
    with st.container(border=True):
        safe.caption(f"#{rid} · {request.unit} · {request.task_label}：{request.task_text}")
        safe.info(
            f"当前完成时限 {request.due_date or '—'}，申请延期至 {request.requested_due}。"
            f"理由：{request.reason}"
        )
        safe.caption(f"申请人：{request.requested_by}　时间：{request.requested_at:%Y-%m-%d %H:%M}")
        left, right = st.columns(2)
        note = left.text_input("审批意见（可不填）", key=f"extension_note_{rid}")
        if left.button("批准延期", key=f"extension_approve_{rid}", type="primary"):
            safe.attempt(
                lambda r=rid, n=note: supervision.approve_extension(r, user=account, note=n),
                f"已批准延期申请 #{rid}，完成时限改为 {request.requested_due}。",
            )
        refusal = right.text_input("不予延期的理由", key=f"extension_reason_{rid}")
        if right.button("不予延期", key=f"extension_refuse_{rid}"):
            safe.attempt(
                lambda r=rid, t=refusal: supervision.refuse_extension(r, t, user=account),
                f"延期申请 #{rid} 未获批准，完成时限不变。",
            )


def main(account: Account) -> None:
    """The page, top to bottom: the reports waiting for this account, then (for a 督办员)
    the extension requests."""
    st.title("审核")
    st.caption(
        "配合单位的报送由牵头单位审核，牵头单位的报送由督办员审核；本人报送的、本单位报送的不能审核。"
        "退回须写明理由，原报送内容保留在办理记录中。任务标记为已完成且报送已审核通过后，可办结销号。"
    )
    safe.flash()

    store = data.get_store()
    supervision = sv.Supervision(store)
    assignments = data.assignments()
    queue = sv.review_queue(supervision.open_reports(), assignments, account)

    st.subheader(f"待审核（{int((queue['state'] == SUBMITTED).sum())} 份）与待办结")
    if queue.empty:
        st.info("没有等待本账号审核或办结的报送。")
    for item in queue.head(SHOWN).itertuples(index=False):
        _report(supervision, account, assignments, item)
    if len(queue) > SHOWN:
        st.caption(f"仅显示前 {SHOWN} 份，共 {len(queue)} 份。")

    if account.supervises:
        st.subheader("延期申请")
        requests = sv.pending_extensions(
            supervision.steps(actions=list(EXTENSION_LABELS)), assignments
        )
        if requests.empty:
            st.info("没有待审批的延期申请。")
        for request in requests.itertuples(index=False):
            _extension(supervision, account, request)


account = auth.account()
main(account)
