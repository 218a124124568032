"""政策任务督办台: the frame only (page config, navigation, shared filters)."""

import streamlit as st

from tracker import views
from webui import data, filters

st.set_page_config(page_title="政策任务督办台", page_icon="📋", layout="wide")

pages = [
    st.Page("pages/overview.py", title="总览", icon="📊", default=True),
    st.Page("pages/by_unit.py", title="按责任单位", icon="🏢", url_path="by_unit"),
    st.Page("pages/by_policy.py", title="按政策", icon="📑", url_path="by_policy"),
    st.Page("pages/coverage.py", title="覆盖矩阵", icon="🧩", url_path="coverage"),
    st.Page("pages/tasks.py", title="任务清单", icon="📋", url_path="tasks"),
    st.Page("pages/update.py", title="进度填报", icon="✏️", url_path="update"),
    st.Page("pages/excel.py", title="导入导出", icon="📥", url_path="excel"),
]
page = st.navigation(pages)
st.sidebar.caption("政策任务督办台")
filters.sidebar(data.view(views.filter_options, filtered=False))
page.run()
