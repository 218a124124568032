"""导入导出: the progress report, per-unit fill-in templates, and importing filled workbooks.

Thin on purpose: every workbook is built, read and checked by ``loaders.excel_*`` (tested
without Streamlit); this page wires those calls to buttons.  An import is always previewed
(dry run) first and applied only on confirmation; every cache is keyed by the data revision, so
after a write every page shows the new values.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from excel.read import (
    CONFLICT_COLUMNS,
    ERROR_COLUMNS,
    ImportPreview,
    ImportResult,
    conflicts_frame,
    diffs_frame,
    error_report,
    import_workbook,
    problems_frame,
)
from excel.report import build_report
from excel.template import build_template
from tracker.accounts import Account
from tracker.errors import TrackerError
from tracker.evidence import Evidence
from tracker.filters import policy_names
from tracker.store import Store
from tracker.supervision import Supervision
from webui import auth, data, filters, safe

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PREVIEW = "excel_preview"  # the ImportPreview (dry run) of the uploaded file
# (digest of the file, its ImportResult): the last confirmed import, shown in place of the
# preview for as long as that file stays in the uploader (a fresh dry run of it would say
# "将修改 0 条" under the result and read as if nothing was saved).
_DONE = "excel_done"


def _show_result(result: ImportResult) -> None:
    """Summary, the old -> new table, refusals, conflicts, warnings and the error report."""
    if result.ok:
        safe.success(result.summary())
    else:
        safe.warning(result.summary())
    kind = "preview" if result.dry_run else "done"
    hide_ids = data.task_id_toggle(f"excel_show_ids_{kind}")
    if len(result.diffs):
        st.dataframe(diffs_frame(result), hide_index=True, width="stretch", column_config=hide_ids)
    if result.skipped_unchanged_stale:
        st.info(
            f"{result.skipped_unchanged_stale} 行在模板生成后已被他人更新，本文件未改动这些行，已跳过。"
        )
    if result.problems:
        st.error(f"{len(result.problems)} 处错误：")
        st.dataframe(
            problems_frame(result).rename(columns={c.key: c.header for c in ERROR_COLUMNS}),
            hide_index=True,
            width="stretch",
            column_config={**data.whole_headers([c.header for c in ERROR_COLUMNS]), **hide_ids},
        )
    if result.conflicts:
        st.error(f"{len(result.conflicts)} 条冲突：模板生成后他人已修改这些任务，您的修改未保存。")
        st.dataframe(
            conflicts_frame(result).rename(columns={c.key: c.header for c in CONFLICT_COLUMNS}),
            hide_index=True,
            width="stretch",
            column_config={**data.whole_headers([c.header for c in CONFLICT_COLUMNS]), **hide_ids},
        )
    for warning in result.warnings:
        safe.caption(f"提示：{warning}")
    if result.problems or result.conflicts:
        st.download_button(
            "下载错误报告（xlsx）",
            error_report(result),
            f"错误报告_{result.file_name.rsplit('.', 1)[0]}.xlsx",
            XLSX_MIME,
            key=f"excel_errors_{kind}",
        )


def _report(account: Account, store: Store, rows, today) -> None:
    """The progress report under the sidebar filters, for readers of every unit."""
    if not account.reads_all:
        st.info("导出进度报表需要领导、督办员或管理员账号；填报员可下载本单位的填报模板。")
        return
    chosen = filters.current()
    matched = len(chosen.apply(rows))
    safe.caption(
        f"按侧栏筛选条件导出（{chosen.describe(policy_names(rows))}，{matched} 条分工）："
        "汇总、按政策、明细和通报表，可直接打印上报。"
    )
    # Built when clicked: at city scale the report takes seconds and most visits never ask.
    st.download_button(
        "下载进度报表（xlsx）",
        lambda: build_report(
            rows,
            filters=chosen,
            today=today,
            rankings=Supervision(store).rankings(rows, today),
            evidence=Evidence(store).summary(user=account),
        ),
        f"进度报表_{today.isoformat()}.xlsx",
        XLSX_MIME,
        key="excel_report",
        type="primary",
    )


def _template(account: Account, rows, today) -> None:
    """One unit's fill-in template, for a unit the account may read."""
    units = sorted(rows["unit"].unique()) if len(rows) else []
    if not account.reads_all:
        units = account.editable_units(units)
    if not units:
        st.info("暂无可下载模板的任务分工。")
        return
    chosen = filters.current()
    preferred = chosen.unit[0] if chosen.unit and chosen.unit[0] in units else units[0]
    unit = st.selectbox("责任单位", units, index=units.index(preferred), key="excel_unit")
    st.caption("模板中任务编号、任务内容等列已锁定；状态、完成比例、完成时限和各说明列可填写。")
    st.download_button(
        safe.label(f"下载「{unit}」填报模板（xlsx）"),
        lambda: build_template(rows, unit, today=today),
        f"填报模板_{unit}_{today.isoformat()}.xlsx",
        XLSX_MIME,
        key="excel_template",
    )


def _preview_and_apply(
    store: Store, account: Account, upload, digest: str, all_or_nothing: bool
) -> None:
    """The dry run of the upload (kept while the file, the data and the mode are the same),
    and 确认导入, which imports it for real and reruns to show the result."""
    payload = upload.getvalue()
    revision = store.revision()
    preview = st.session_state.get(_PREVIEW)
    try:
        if preview is None or not preview.holds_for(digest, revision, all_or_nothing):
            result = import_workbook(
                store,
                payload,
                file_name=upload.name,
                user=account,
                dry_run=True,
                all_or_nothing=all_or_nothing,
            )
            preview = ImportPreview(digest, revision, all_or_nothing, result)
            st.session_state[_PREVIEW] = preview
    except TrackerError as exc:
        safe.error(exc)
        return
    st.subheader("预览（尚未保存）")
    _show_result(preview.result)
    blocked = all_or_nothing and not preview.result.ok
    if not st.button(
        "确认导入",
        key="excel_apply",
        type="primary",
        disabled=blocked or not len(preview.result.diffs),
    ):
        return
    try:
        result = import_workbook(
            store, payload, file_name=upload.name, user=account, all_or_nothing=all_or_nothing
        )
    except TrackerError as exc:
        safe.error(exc)
    else:
        st.session_state.pop(_PREVIEW, None)
        st.session_state[_DONE] = (digest, result)
        st.rerun()


def _import(account: Account, store: Store) -> None:
    """Upload a filled workbook: the last import's result, then the new file's preview."""
    st.caption(
        "上传填好的填报模板，或导出报表中的「明细」表。先预览将要修改的内容，确认后才会保存。"
    )
    if not account.writes:
        st.info("领导账号只能查看和导出，不能导入。")
        return
    safe.caption(f"导入人：{account.label}（保存时自动记录）")
    upload = st.file_uploader("上传 xlsx 文件", key="excel_upload")
    mode = st.radio(
        "保存方式",
        ["部分保存：有效行写入，错误行列出", "全部成功才保存：有任何错误则不写入"],
        key="excel_mode",
        horizontal=True,
    )
    all_or_nothing = mode.startswith("全部")
    digest = None if upload is None else hashlib.sha256(upload.getvalue()).hexdigest()
    done = st.session_state.get(_DONE)
    if done is not None and digest not in (None, done[0]):
        st.session_state.pop(_DONE)  # another file: its preview replaces the result
        done = None
    if done is not None:
        st.subheader("导入结果")
        _show_result(done[1])
    elif upload is not None and digest is not None:
        _preview_and_apply(store, account, upload, digest, all_or_nothing)


def main(account: Account) -> None:
    """The page, top to bottom: three tabs, the report, a template and an import."""
    st.title("导入导出")
    store = data.get_store()
    rows = data.assignments()
    today = data.today()
    report_tab, template_tab, import_tab = st.tabs(["导出进度报表", "下载填报模板", "导入填报结果"])
    with report_tab:
        _report(account, store, rows, today)
    with template_tab:
        _template(account, rows, today)
    with import_tab:
        _import(account, store)


account = auth.account()
main(account)
