"""覆盖矩阵: which unit is involved in which measure, to spot concentration and sprawl."""

import streamlit as st

from pagelogic import views
from tracker import aggregate, rollup
from webui import auth, data


def _members() -> None:
    """Drill-down: a collective's members, one row each."""
    groups = rollup.collectives(data.assignments())
    if not groups:
        return
    chosen = st.selectbox(
        "展开集体单位",
        list(groups),
        index=None,
        format_func=lambda c: rollup.group_label(c, len(groups[c])),
        placeholder="各区政府等集体单位在矩阵中为一行，选择后查看各成员单位",
        key="coverage_collective",
    )
    if chosen:
        st.caption(aggregate.FIGURES["rollup"].note())
        members = data.view(views.coverage, chosen)
        st.plotly_chart(members.heatmap, key="coverage_members_heatmap")


def main() -> None:
    """The page, top to bottom."""
    st.title("覆盖矩阵")
    st.caption(
        "行是责任单位（涉及措施最多的在上），列是措施（按文号和序号），深色为牵头、浅色为配合；"
        f"★ 表示只有一个单位负责的措施。单位或措施过多时其余合并为“{aggregate.OTHERS}”。"
        "屏幕较窄时可左右滑动查看。"
    )
    view = data.view(views.coverage)
    # Cells keep their size on a phone: the chart scrolls sideways instead of shrinking
    # (Streamlit caps a chart at its container's width, so the floor is a style rule).
    with st.container(key="coverage_scroll"):
        st.html(
            "<style>.st-key-coverage_scroll{overflow-x:auto}"
            ".st-key-coverage_scroll [data-testid=stElementContainer]"
            f"{{min-width:{view.heatmap.layout.width}px}}</style>"
        )
        st.plotly_chart(view.heatmap, key="coverage_heatmap")
    data.download_csv(view.matrix, "coverage.csv")
    _members()

    left, right = st.columns(2)
    with left:
        st.subheader("单一单位负责的措施")
        st.caption("只有一个责任单位、没有配合单位的措施。")
        data.table(view.single, key="single_unit", empty="每项措施都有两个及以上责任单位。")
        data.download_csv(view.single.full, "single_unit_measures.csv")
    with right:
        st.subheader("涉及措施最多的单位")
        st.caption("按涉及的措施数排序。")
        data.table(view.spread, key="unit_spread")
        data.download_csv(view.spread.full, "unit_spread.csv")


auth.account()  # no signed-in account: back to the frame's sign-in
main()
