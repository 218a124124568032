"""The floor for ``python -m bench.browser``: the least a Streamlit page can do with our rows.

Reads the same assignments the dashboard reads (cached, as any real page would) and draws
one number and one plotly chart.  Its second page, 基准副页, draws the same: the floor of a
switch between two pages.  Not part of the app; never listed in dashboard.py.
"""

import plotly.express as px
import streamlit as st

from tracker.store import Store, database_url, make_engine


@st.cache_data
def rows():
    return Store(make_engine(database_url())).assignments()


def chart(title: str) -> None:
    st.title(title)
    frame = rows()
    st.metric("分工条数", len(frame))
    st.plotly_chart(px.histogram(frame, y="unit", color="status"), key="floor_chart")


pages = [
    st.Page(lambda: chart("基准页"), title="基准页", url_path="floor"),
    st.Page(lambda: chart("基准副页"), title="基准副页", url_path="floor2"),
]
st.navigation(pages).run()
