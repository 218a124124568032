"""总览: the one-minute view for leadership: headline numbers, status mix, lights, red list."""

import streamlit as st

from pagelogic import views
from tracker import aggregate
from webui import auth, data, filters, safe

METRIC_WIDTH = 150


def main() -> None:
    """The page, top to bottom."""
    st.title("总览")
    st.caption(
        aggregate.notes_text("tasks", "done", "share_done", "delayed", "red", "stale", "rollup")
        + "所有数字与导出的进度报表同一口径。"
    )
    view = data.view(views.overview)

    # Fixed-width metrics in a wrapping row: six a line on a laptop, two on a phone (columns
    # would stack them one per line there).
    with st.container(horizontal=True, gap="small"):
        for figure, value in view.headline.metrics():
            st.metric(figure.name, value, help=figure.definition, width=METRIC_WIDTH)
    data.download_csv(view.headline_table, "headline.csv", "下载总览数字及口径（CSV）")

    left, right = st.columns([2, 3])
    with left:
        st.subheader("任务状态")
        st.caption("各状态的任务数：每项任务计一次，按牵头单位的状态计。")
        st.plotly_chart(view.status_donut, key="status_donut")
        data.download_csv(view.status_counts, "status_counts.csv")
    with right:
        st.subheader("牵头单位预警灯")
        st.caption(
            "每项任务计在其牵头单位名下，颜色为牵头单位那条分工的预警灯，红灯多者在上。"
            "按责任单位筛选时，显示所选单位参与（牵头或配合）的任务，仍按各任务的牵头单位"
            "及牵头单位的预警灯计，不是所选单位自己的状态。"
        )
        chosen = filters.current()
        if chosen.unit:
            st.caption(f"当前所选单位：{safe.plain('、'.join(chosen.unit))}")
        st.plotly_chart(view.lights_bar, key="lights_by_unit")
        data.download_csv(view.lights, "lights_by_lead_unit.csv")

    st.subheader("红灯任务")
    st.caption(
        "牵头单位那条分工为红灯的任务（状态为滞后，或已过完成时限仍未完成），按完成时限排序。"
    )
    data.table(view.red, key="red_tasks", empty="没有红灯任务。")
    data.download_csv(view.red.full, "red_tasks.csv")


auth.account()  # no signed-in account: back to the frame's sign-in
main()
