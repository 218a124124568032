"""The floor for ``python -m bench.browser``: the least a Streamlit page can do with our rows.

Reads the same assignments the dashboard reads (cached, as any real page would) and draws
one plotly chart and one number.  Not part of the app; never listed in dashboard.py.
"""

import plotly.express as px
import streamlit as st

from tracker.store import Store, database_url, make_engine


@st.cache_data
def rows():
    return Store(make_engine(database_url())).assignments()


st.title("基准页")
frame = rows()
st.metric("分工条数", len(frame))
st.plotly_chart(px.histogram(frame, y="unit", color="status"), key="floor_chart")
