"""报送: a unit signs for its tasks, reports each period (starting from its last accepted
report; a lead unit can add its support units' accepted reports), revises what was sent
back, and asks for more time before a deadline."""

from __future__ import annotations

import streamlit as st

from pagelogic import views
from tracker import supervision as sv
from tracker.accounts import Account
from tracker.progress import is_blank, period_of
from tracker.reminders import LAST_SENT, TIMES
from tracker.schema import (
    ACKNOWLEDGED,
    CLOSED,
    DONE,
    HANDLING,
    LEAD,
    SUBMITTED,
    SUPERVISION_NEXT,
    SUPERVISION_STATE_LABELS,
)
from webui import auth, data, safe
from webui import evidence as evidence_ui


def _unit_board(unit: str):
    """The unit's tasks with their state this period, narrowed by a search and a state: the
    board and which of its rows match."""
    board, sent = data.supervised(sv.Supervision.reporting_board, unit)
    if len(sent):
        st.warning(
            f"本单位已收到催办 {int(sent[TIMES].iloc[0])} 次，"
            f"最近一次：{sent[LAST_SENT].iloc[0]:%Y-%m-%d %H:%M}。"
        )
    states = board.states
    present = [s for s in SUPERVISION_STATE_LABELS if (states["state"] == s).any()]
    with st.container(horizontal=True, vertical_alignment="bottom"):
        search = st.text_input(
            "查找任务", key="reporting_search", placeholder="文号·措施序号或任务内容中的字词"
        )
        wanted = st.selectbox(
            "本期报送状态",
            [None, *present],
            format_func=lambda s: "全部" if s is None else sv.state_label(s),
            key="reporting_state",
        )
    found = sv.matching(states, search, wanted)
    everything = bool(found.all())
    hide_ids = data.task_id_toggle("reporting_show_ids")
    data.table(
        views.Table(board.table if everything else board.table[found.to_numpy()]),
        key="reporting_board",
        empty="没有符合条件的任务。",
        column_config=hide_ids,
    )
    if len(board.table) > views.TABLE_LIMIT:
        data.download_csv(board.table, f"报送_{unit}.csv", "下载本单位全部任务（CSV）")
    return board, found


def _pick_task(board, found):
    """The assignment chosen among the matching tasks."""
    # Only the first matches go to the browser as picker options (a unit may hold 14,500).
    offered = board.states.index[found.to_numpy()][: sv.PICKER_LIMIT].tolist()
    chosen = st.selectbox(
        "任务",
        offered,
        format_func=lambda a: board.labels.get(a, str(a)),
        key="reporting_task",
    )
    if int(found.sum()) > len(offered):
        st.caption(
            f"共 {int(found.sum()):,} 项任务符合条件，下拉框列出前 {len(offered)} 项；"
            "输入文号·措施序号或内容中的字词可缩小范围。"
        )
    return chosen


def _submit(supervision: sv.Supervision, account: Account, chosen, row, period: str) -> None:
    """This period's report, drafted from the last accepted one (and, for a lead unit, its
    support units' accepted reports when asked), and sent."""
    state = row["state"]
    steps = supervision.steps(task_ids=[row["task_id"]])
    draft = sv.draft_report(steps, int(chosen), period, fallback=str(row["note"]))
    if row["role"] == LEAD:
        support = sv.support_reports(steps, data.assignments(), row["task_id"], period)
        if len(support):
            st.markdown("**配合单位本期已审核的报告**")
            st.dataframe(sv.support_table(support), hide_index=True, width="stretch")
            if st.checkbox("附在本单位报告之后", key=f"reporting_with_support_{chosen}"):
                draft = sv.with_support_reports(draft, support)
    text = st.text_area(
        "本期报送内容（从上次审核通过的报告开始，修改后报送）",
        draft,
        height=160,
        key=f"reporting_text_{chosen}_{period}_{state}_{len(draft)}",
    )
    _confirm_submit(supervision, account, chosen, row, period, text)


def _confirm_submit(
    supervision: sv.Supervision, account: Account, chosen, row, period: str, text: str
) -> None:
    """报送 asks first: the text exactly as it will be sent, sent only on 「确认报送」; an edit
    after 报送 withdraws the question (the text confirmed is the text sent)."""
    asked = f"reporting_confirm_{chosen}_{period}"
    if st.button("报送", key="reporting_submit", type="primary"):
        st.session_state[asked] = text
    if st.session_state.get(asked) != text:
        st.session_state.pop(asked, None)
        return
    with st.container(border=True):
        st.markdown(f"**确认报送 {period} 进展？以下内容将提交审核：**")
        safe.info(text or "（空）")
        confirm, back = st.columns(2)
        if back.button("返回修改", key="reporting_cancel"):
            st.session_state.pop(asked, None)
            st.rerun()
        if confirm.button("确认报送", key="reporting_confirm", type="primary"):
            st.session_state.pop(asked, None)
            safe.attempt(
                lambda: supervision.submit(int(chosen), text, user=account),
                f"已报送任务 {row['task_label']} 的 {period} 进展，等待审核。",
            )


def _ask_extension(supervision: sv.Supervision, account: Account, chosen, row) -> None:
    with st.expander("申请延期"):
        due = row["due_date"]
        st.caption(
            f"当前完成时限：{due:%Y-%m-%d}。延期须在到期前申请，由督办员审批；"
            "未获批准的，到期后按逾期处理。"
            if not is_blank(due)
            else "该任务尚无完成时限，无需申请延期。"
        )
        new_due = st.date_input(
            "申请延期至", value=None, key="reporting_new_due", format="YYYY-MM-DD"
        )
        reason = st.text_area("延期理由", key="reporting_reason")
        if st.button("提交延期申请", key="reporting_extend"):
            safe.attempt(
                lambda: supervision.request_extension(int(chosen), new_due, reason, user=account),
                f"已提交任务 {row['task_label']} 的延期申请，等待督办员审批。",
            )


def _task(supervision: sv.Supervision, account: Account, chosen, row, period: str) -> None:
    """The chosen task: its state, the next steps it allows, and its record."""
    state = row["state"]
    safe.caption(f"{row['task_label']}：{row['task_text']}")
    st.markdown(f"**本期报送状态：{sv.state_label(state)}**")
    if row["reason"]:
        safe.warning(f"退回理由：{row['reason']}")
    allowed = SUPERVISION_NEXT[state]
    if ACKNOWLEDGED in allowed and st.button("签收", key="reporting_acknowledge", type="primary"):
        safe.attempt(
            lambda: supervision.acknowledge(int(chosen), user=account),
            f"已签收任务 {row['task_label']}。",
        )
    if HANDLING in allowed and st.button("开始办理", key="reporting_start"):
        safe.attempt(
            lambda: supervision.start(int(chosen), user=account),
            f"任务 {row['task_label']} 已转为办理中。",
        )
    if SUBMITTED in allowed:
        _submit(supervision, account, chosen, row, period)
    if row["status"] != DONE and state != CLOSED:
        _ask_extension(supervision, account, chosen, row)

    st.subheader("办理记录")
    step_log = sv.step_table(supervision.steps(assignment_ids=[int(chosen)]))
    if step_log.empty:
        st.info("该任务尚无办理记录。")
    else:
        st.dataframe(step_log, hide_index=True, width="stretch")
    st.caption("每一步都记录办理人和时间，记录只增不改；退回前的报送内容也保留在这里。")


def _evidence(supervision: sv.Supervision, account: Account, chosen: int, unit: str) -> None:
    st.subheader("佐证文件")
    st.caption(
        "佐证材料（文件、照片、表格）在此上传，随报送提交审核；删除的文件仍保留在修改记录中。"
    )
    evidence_ui.manager(supervision.store, account, chosen, unit, key=f"reporting_{chosen}")


def main(account: Account) -> None:
    """The page, top to bottom: the unit, its tasks this period, and the one chosen."""
    st.title("报送")
    supervision = sv.Supervision(data.get_store())
    period = period_of(data.today())
    st.caption(
        f"当前报告期：{period}。流程：签收 → 办理中 → 报送 → 审核通过（或退回修改后再报送）→ 办结。"
        "配合单位的报送由牵头单位审核，牵头单位的报送由督办员审核。"
    )
    safe.flash()

    units = account.editable_units(data.view(views.filter_options, filtered=False).units)
    if not units:
        st.info("本账号没有可报送的任务分工。")
        return
    unit = st.selectbox("责任单位", units, key="reporting_unit")
    board, found = _unit_board(unit)
    if not found.any():
        return
    chosen = _pick_task(board, found)
    _task(supervision, account, chosen, board.states.loc[chosen], period)
    _evidence(supervision, account, int(chosen), unit)


account = auth.account()
main(account)
