"""按政策: how far each policy is, drilled down policy -> section -> measure."""

import streamlit as st

from tracker import views
from webui import data

st.title("按政策")
st.caption(
    "旭日图由内向外为政策、部分、措施，面积为任务数，颜色为完成率（红 0% → 绿 100%），"
    "点击可下钻；下表列出每项措施的任务数、已完成、滞后和牵头单位。"
)
view = data.view(views.by_policy)
st.plotly_chart(view["sunburst"], key="policy_sunburst")
data.download_csv(view["tree"], "policy_tree.csv")

st.subheader("措施进度")
data.table(
    view["progress"],
    key="measure_progress",
    column_config={
        "完成率": st.column_config.ProgressColumn(
            "完成率", format="percent", min_value=0, max_value=1
        )
    },
)
data.download_csv(view["progress"].full, "measure_progress.csv")
