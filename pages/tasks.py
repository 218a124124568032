"""任务清单: the flattened agency-by-task table under the sidebar filters."""

import streamlit as st

from pagelogic import views
from tracker import aggregate
from webui import auth, data


def main() -> None:
    """The page, top to bottom."""
    st.title("任务清单")
    st.caption(
        "按任务 × 责任单位展开的分工表：每行是一项任务的一个责任单位（牵头或配合）。"
        + aggregate.notes_text("rollup")
    )
    view = data.view(views.task_list)
    st.metric("分工条数", view.count)
    data.table(
        view.table,
        key="task_table",
        column_config={
            "任务内容": st.column_config.TextColumn("任务内容", width=300),
            "进展情况": st.column_config.TextColumn("进展情况", width=200),
        },
    )
    data.download_csv(view.table.full, "tasks.csv")


auth.account()  # no signed-in account: back to the frame's sign-in
main()
