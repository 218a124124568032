"""总览: the one-minute view for leadership: headline numbers, status mix, lights, red list."""

import streamlit as st

from tracker import views
from webui import data

st.title("总览")
st.caption(
    "任务按牵头单位的进度计一次；完成率 = 已完成任务 / 任务数；"
    "红黄绿灯按每条分工（任务 × 责任单位）计；“60天未更新”指超过60天没有进度更新的未完成任务。"
)
view = data.view(views.overview)
head = view["headline"]

cols = st.columns(6)
cols[0].metric("政策", head["policies"])
cols[1].metric("措施", head["measures"])
cols[2].metric("任务", head["tasks"])
cols[3].metric("责任单位", head["units"])
cols[4].metric("完成率", f"{head['share_done']:.0%}", help=f"已完成 {head['done']} 项任务")
cols[5].metric("滞后任务", head["delayed"])
cols = st.columns(6)
cols[0].metric("分工条数", head["assignments"])
cols[1].metric("红灯", head["red"], help="逾期未完成或状态为滞后的分工")
cols[2].metric("黄灯", head["yellow"], help="30天内到期或超过60天未更新的分工")
cols[3].metric("绿灯", head["green"])
cols[4].metric("60天未更新任务", head["stale"])

left, right = st.columns([2, 3])
with left:
    st.subheader("任务状态")
    st.caption("各状态的任务数（任务按牵头单位的状态计）。")
    st.plotly_chart(view["status_donut"], key="status_donut")
    data.download_csv(view["status_counts"], "status_counts.csv")
with right:
    st.subheader("牵头单位预警灯")
    st.caption("每个牵头单位所牵头任务的红黄绿灯分布，红灯多者在上。")
    st.plotly_chart(view["lights_bar"], key="lights_by_unit")
    data.download_csv(view["lights"], "lights_by_lead_unit.csv")

st.subheader("红灯任务")
st.caption("逾期未完成或状态为滞后的任务，按完成时限排序。")
if not len(view["red"]):
    st.info("没有红灯任务。")
data.table(view["red"], key="red_tasks")
data.download_csv(view["red"].full, "red_tasks.csv")
