"""按政策: how far each policy is, drilled down policy -> section -> measure."""

import streamlit as st

from pagelogic import views
from tracker import aggregate
from webui import auth, data


def main() -> None:
    """The page, top to bottom."""
    st.title("按政策")
    st.caption(
        "旭日图由内向外为政策、部分，点击某一环可下钻到措施；面积为任务数，颜色为任务完成率"
        "（灰 0% → 绿 100%），放不下的标签请悬停查看；"
        f"超过 {aggregate.POLICY_TOP_N} 项政策时，任务较少的合并为“{aggregate.OTHERS}”（下载 CSV 含全部）；"
        "下表列出每项措施的任务、已完成任务、滞后任务和牵头单位。"
    )
    st.caption(aggregate.notes_text("tasks", "units", "done", "delayed", "share_done"))
    view = data.view(views.by_policy)
    st.plotly_chart(view.sunburst, key="policy_sunburst")
    data.download_csv(view.tree, "policy_tree.csv")

    st.subheader("措施进度")
    share = aggregate.FIGURES["share_done"].name
    data.table(
        view.progress,
        key="measure_progress",
        column_config={
            share: st.column_config.ProgressColumn(
                share, format="percent", min_value=0, max_value=1
            )
        },
    )
    data.download_csv(view.progress.full, "measure_progress.csv")


auth.account()  # no signed-in account: back to the frame's sign-in
main()
