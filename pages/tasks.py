import streamlit as st

from tracker.aggregate import task_table
from webui import data, filters

st.title("任务清单")
st.caption("按任务 × 责任单位展开的分工表：每行是一项任务的一个责任单位（牵头或配合）。")
rows = filters.current().apply(data.assignments())
st.metric("分工条数", len(rows))
table = task_table(rows)
st.dataframe(table, hide_index=True, width="stretch")
data.download_csv(table, "tasks.csv")
