"""通报: units ranked by on-time rate, overdue count, share accepted at first review and
days since last update, this period beside the last; units late two periods running are
flagged.  Downloadable as the progress report with a 通报 sheet."""

from __future__ import annotations

import streamlit as st

from excel.report import build_report
from pagelogic import views
from tracker import aggregate
from tracker import rankings as rk
from tracker.accounts import Account
from tracker.progress import period_of
from webui import auth, data, filters, safe

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def main(account: Account) -> None:
    """The page, top to bottom."""
    st.title("通报")
    today = data.today()
    period = period_of(today)
    view = data.supervised(views.rankings)
    st.caption(
        f"本期 {period}，上期 {rk.previous_period(period)}；全部责任单位，不受侧栏筛选影响。"
    )

    if view.flagged:
        safe.warning(f"连续两期有逾期任务：{'、'.join(view.flagged)}")
    st.plotly_chart(view.chart, key="rankings_chart")
    st.dataframe(view.shown, hide_index=True, width="stretch")
    safe.caption("\n".join(rk.ranking_notes(period)))
    if view.groups:
        st.caption(
            "各区政府等集体单位由各成员单位分别排名，下面按集体单位合计，展开查看各成员单位。"
            + aggregate.FIGURES["rollup"].note()
        )
    for line, members in view.groups:
        with st.expander(line):
            st.dataframe(members, hide_index=True, width="stretch")
    st.download_button(
        "下载进度报表（含通报表）",
        lambda: build_report(
            data.assignments(), filters=filters.current(), today=today, rankings=view.table
        ),
        f"进度报表_通报_{today.isoformat()}.xlsx",
        XLSX_MIME,
        key="rankings_export",
        on_click="ignore",
    )


account = auth.account()
main(account)
