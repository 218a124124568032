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
    # A unit with thousands of tasks: the first TABLE_LIMIT go to the browser, the CSV has all.
    tasks = views.Table(view.tasks)
    data.table(
        tasks,
        key="obligations_tasks",
        column_config={"任务内容": st.column_config.TextColumn("任务内容", width="large")},
    )
    data.download_csv(view.tasks, "obligations.csv")

    st.subheader("其他政策中的相似任务")
    shown = tasks.shown
    texts = dict(zip(shown["任务编号"], shown["任务内容"], strict=True))
    if tasks.cut:
        st.caption(f"可选任务为上表所列的前 {len(shown):,} 项。")
    # Nothing is compared until a task is chosen: comparing one task with every other policy's
    # tasks is the page's costliest step (about 2 s at 100,000 assignments).
    task_id = st.selectbox(
        "任务",
        list(texts),
        index=None,
        format_func=lambda t: f"{t}　{texts[t][:40]}",
        key="obligations_task",
        placeholder="选择一项任务，查看其他政策中的相似任务",
    )
    if task_id is None:
        return
    similar = data.view(crosspolicy.similar_tasks, task_id, filtered=False)
    if similar.empty:
        safe.info(f"其他政策中没有与「{texts[task_id][:40]}」相近的任务。")
    else:
        st.dataframe(similar, hide_index=True, width="stretch", key="obligations_similar")


account = auth.account()  # no signed-in account: back to the frame's sign-in
main(account)
