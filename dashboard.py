"""政策任务督办台: the frame only (page config, sign-in gate, navigation, shared filters)."""

import streamlit as st

from tracker import views
from webui import auth, data, filters

st.set_page_config(page_title="政策任务督办台", page_icon=":material/assignment:", layout="wide")

account = auth.require()
pages = [
    st.Page("pages/overview.py", title="总览", icon=":material/dashboard:", default=True),
    st.Page(
        "pages/by_unit.py", title="按责任单位", icon=":material/apartment:", url_path="by_unit"
    ),
    st.Page(
        "pages/by_policy.py", title="按政策", icon=":material/description:", url_path="by_policy"
    ),
    st.Page(
        "pages/coverage.py", title="覆盖矩阵", icon=":material/grid_view:", url_path="coverage"
    ),
    st.Page("pages/tasks.py", title="任务清单", icon=":material/list:", url_path="tasks"),
]
if account.writes:
    pages.append(
        st.Page("pages/update.py", title="进度填报", icon=":material/edit:", url_path="update")
    )
if account.supervises:
    pages.append(
        st.Page(
            "pages/deadlines.py", title="完成时限", icon=":material/event:", url_path="deadlines"
        )
    )
pages += [
    st.Page("pages/excel.py", title="导入导出", icon=":material/swap_vert:", url_path="excel"),
    st.Page("pages/audit.py", title="审计", icon=":material/history:", url_path="audit"),
]
page = st.navigation(pages)
st.sidebar.caption("政策任务督办台")
filters.sidebar(data.view(views.filter_options, filtered=False))
page.run()
