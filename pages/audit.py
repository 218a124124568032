"""审计: every recorded change across tasks, filtered by unit, account, date, policy and
field, and exported to Excel.  Staff see their own units' changes; other roles see all."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from excel.audit import build_audit_workbook
from pagelogic import views
from tracker.accounts import Account
from tracker.audit import HISTORY_FIELD_LABELS, audit_table
from tracker.schema import EVIDENCE_FILE_FIELD, PROGRESS_FIELDS
from tracker.store import Store
from webui import auth, data, safe

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWN_ROWS = 1_000


def _choices(account: Account, store: Store, units: list[str], policies: dict) -> dict:
    """The filter widgets above the table: what was chosen in each (empty: all)."""
    today = data.today()
    left, middle, right = st.columns(3)
    chosen_units = left.multiselect("责任单位", units, key="audit_units", placeholder="全部")
    chosen_policies = left.multiselect(
        "政策", list(policies), format_func=policies.get, key="audit_policies", placeholder="全部"
    )
    chosen_users = middle.multiselect(
        "修改人",
        sorted(store.accounts.table()["username"]) if account.reads_all else [account.username],
        key="audit_users",
        placeholder="全部",
    )
    chosen_fields = middle.multiselect(
        "字段",
        [*PROGRESS_FIELDS, EVIDENCE_FILE_FIELD],
        format_func=HISTORY_FIELD_LABELS.get,
        key="audit_fields",
        placeholder="全部",
    )
    days = right.date_input(
        "日期范围", (today - timedelta(days=30), today), key="audit_days", format="YYYY-MM-DD"
    )
    # The calendar names months and weekdays in the browser's language; its quick-select
    # list for ranges reaching back over two years ("Past Week" …) is English only.
    st.html("<style>[data-testid='stDateInputQuickSelect']{display:none}</style>")
    since, until = (days[0], days[-1]) if days else (None, None)
    return {
        "units": chosen_units,
        "users": chosen_users,
        "policies": chosen_policies,
        "fields": chosen_fields,
        "since": since,
        "until": until,
    }


def _described(chosen: dict, policies: dict) -> str:
    """The choices in words, for the caption and the workbook's title ("" for none)."""
    return "；".join(
        part
        for part in (
            f"单位：{'、'.join(chosen['units'])}" if chosen["units"] else "",
            f"修改人：{'、'.join(chosen['users'])}" if chosen["users"] else "",
            f"政策：{'、'.join(policies.get(p, p) for p in chosen['policies'])}"
            if chosen["policies"]
            else "",
            f"字段：{'、'.join(HISTORY_FIELD_LABELS[f] for f in chosen['fields'])}"
            if chosen["fields"]
            else "",
            f"{chosen['since']} 至 {chosen['until']}" if chosen["since"] else "",
        )
        if part
    )


def main(account: Account) -> None:
    """The page, top to bottom: the filters, the newest matching changes, the export."""
    st.title("审计")
    store = data.get_store()
    options = data.view(views.filter_options, filtered=False)
    units = options.units if account.reads_all else account.editable_units(options.units)
    policies = options.policies
    today = data.today()
    chosen = _choices(account, store, units, policies)
    query = {
        # no unit chosen: everything the account may read (all, for a reader of every unit)
        "units": chosen["units"] or (None if account.reads_all else units),
        "users": chosen["users"] or None,
        "policies": chosen["policies"] or None,
        "fields": chosen["fields"] or None,
        "since": chosen["since"],
        "until": chosen["until"],
    }
    # Only the newest rows are read for the screen; the export reads every matching row on click.
    table = audit_table(data.history(**query, limit=SHOWN_ROWS + 1), policies)
    cut = len(table) > SHOWN_ROWS
    described = _described(chosen, policies)
    count = f"超过 {SHOWN_ROWS:,}" if cut else f"{len(table):,}"
    safe.caption(f"共 {count} 条修改记录（{described or '全部'}）。记录只增不改。")
    if table.empty:
        st.info("没有符合条件的修改记录。")
        return
    st.dataframe(table.head(SHOWN_ROWS), hide_index=True, width="stretch")
    if cut:
        st.caption(f"仅显示最新 {SHOWN_ROWS:,} 条；导出 Excel 查看全部。")
    st.download_button(
        "导出审计记录（xlsx）",
        lambda: build_audit_workbook(
            audit_table(store.history(**query), policies), f"审计记录（{described or '全部'}）"
        ),
        f"审计记录_{today.isoformat()}.xlsx",
        XLSX_MIME,
        key="audit_export",
        on_click="ignore",
    )


account = auth.account()
main(account)
