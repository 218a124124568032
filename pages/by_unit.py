"""按责任单位: who carries how much (a lead and a support bar per unit), and one unit's list.

Two tabs, and only the open one is drawn (``on_change="rerun"``): the chart and the unit's
two lists cost the browser about as much as each other, and a page switch paid for both.
"""

import streamlit as st

from pagelogic import views
from tracker import aggregate
from webui import auth, data

FIGURES = aggregate.FIGURES
METRIC_WIDTH = 150


def _members(detail: views.UnitDetail) -> None:
    """A collective's drill-down: each task's roll-up and each member's own figures."""
    st.caption(aggregate.FIGURES["rollup"].note())
    st.markdown("**各任务的成员完成情况**")
    data.table(detail.progress, key="unit_member_progress")
    with st.expander("成员单位明细"):
        data.table(detail.members, key="unit_members")


def main() -> None:
    """The page, top to bottom."""
    st.title("按责任单位")
    load_tab, detail_tab = st.tabs(["各单位负担", "单位详情"], key="by_unit_tab", on_change="rerun")
    view = data.view(views.by_unit)

    if load_tab.open:
        with load_tab:
            st.caption(
                "每个责任单位承担的分工条数：上一条为牵头、下一条（斜纹）为配合，刻度相同；"
                "按该单位自己填报的状态堆叠，负担最重的单位在上；"
                "各区政府等集体单位作为一组，计其成员单位的分工，在“单位详情”中展开；"
                f"超过 {aggregate.UNIT_TOP_N} 个单位时其余合并为“{aggregate.OTHERS}”。"
            )
            st.plotly_chart(view.load_bar, key="unit_load")
            data.download_csv(view.load, "unit_load.csv")
            data.download_csv(
                view.unit_table.full,
                "unit_summary.csv",
                "下载各单位汇总（CSV，与进度报表“汇总”表相同）",
            )

    if detail_tab.open:
        with detail_tab:
            st.caption(
                aggregate.notes_text(
                    "assignments", "lead", "support", "unit_share_done", "unit_status", "red"
                )
            )
            units = view.units
            unit = st.selectbox("选择单位", units, index=0 if units else None, key="by_unit_unit")
            if unit:
                detail = data.view(views.unit_detail, unit)
                summary = detail.summary
                with st.container(horizontal=True, gap="small"):  # wraps two a line on a phone
                    st.metric(FIGURES["assignments"].name, summary.assignments, width=METRIC_WIDTH)
                    st.metric(FIGURES["lead"].name, summary.lead, width=METRIC_WIDTH)
                    st.metric(FIGURES["support"].name, summary.support, width=METRIC_WIDTH)
                    st.metric(
                        FIGURES["unit_share_done"].name,
                        f"{summary.share_done:.0%}",
                        help=f"已完成 {summary.done} 条",
                        width=METRIC_WIDTH,
                    )
                    st.metric("滞后", summary.delayed, width=METRIC_WIDTH)
                    st.metric(FIGURES["red"].name, summary.red, width=METRIC_WIDTH)
                if detail.members is not None:
                    _members(detail)
                st.markdown("**红灯事项**")
                data.table(detail.late, key="unit_late", empty="该单位没有红灯事项。")
                st.markdown("**任务清单**")
                data.table(detail.tasks, key="unit_tasks")
                data.download_csv(detail.tasks.full, "unit_tasks.csv", "下载该单位任务清单（CSV）")
            else:
                st.info("当前筛选条件下没有责任单位。")


auth.account()  # no signed-in account: back to the frame's sign-in
main()
