"""跨政策职责: one unit's obligations under every policy, and for one of its tasks the
similar tasks that other policies set."""

import streamlit as st

from pagelogic import views
from tracker import crosspolicy
from tracker.accounts import Account
from webui import auth, data, safe


def main(account: Account) -> None:
    """The page, top to bottom."""
    st.title("跨政策职责")
    st.caption(
        "一个责任单位在所有政策中的牵头和配合任务；选中一项任务，可查看其他政策中内容相近的任务"
        "（按文字相似度排序，并列出共同的责任单位）。"
    )
    units = data.view(crosspolicy.unit_choices, filtered=False)
    if not units:
        st.info("尚无任何任务。")
        return
    own = [u for u in units if u in account.units]
    unit = st.selectbox(
        "责任单位", units, index=units.index(own[0]) if own else 0, key="obligations_unit"
    )
    view = data.view(crosspolicy.unit_obligations, unit, filtered=False)
    policies, lead, support = st.columns(3)
    policies.metric("涉及政策", view.policies)
    lead.metric("牵头任务", view.lead)
    support.metric("配合任务", view.support)

    st.subheader("按政策")
    st.dataframe(view.by_policy, hide_index=True, width="stretch", key="obligations_by_policy")
    st.subheader("任务清单")
    st.caption("点选表中一行（行首的方框），在下方查看其他政策中内容相近的任务。")
    # A unit with thousands of tasks: the first TABLE_LIMIT go to the browser, the CSV has all.
    # A task is picked in the table itself (a picker of 1,000 tasks beside it cost 70 ms of
    # every visit).  Its key names the unit and the data revision: a row is picked by its
    # position, which must never carry over to another unit's table or to changed rows.
    tasks = views.Table(view.tasks)
    picked = data.table(
        tasks,
        key=f"obligations_tasks_{unit}_{data.get_store().revision()}",
        column_config={"任务内容": st.column_config.TextColumn("任务内容", width="large")},
        on_select="rerun",
        selection_mode="single-row",
    )
    data.download_csv(view.tasks, "obligations.csv")

    st.subheader("其他政策中的相似任务")
    # Nothing is compared until a task is chosen: comparing one task with every other policy's
    # tasks is the page's costliest step (about 2 s at 100,000 assignments).
    rows = picked.selection.rows if picked is not None else []
    if not rows:
        st.caption("尚未选择任务。")
        return
    task_id, text = tasks.shown.iloc[rows[0]][["任务编号", "任务内容"]]
    safe.caption(f"与「{text[:40]}」相近的任务：")
    similar = data.view(crosspolicy.similar_tasks, task_id, filtered=False)
    if similar.empty:
        safe.info(f"其他政策中没有与「{text[:40]}」相近的任务。")
    else:
        st.dataframe(similar, hide_index=True, width="stretch", key="obligations_similar")


account = auth.account()  # no signed-in account: back to the frame's sign-in
main(account)
