"""政策库: the published policies, a revision of measures.csv waiting for confirmation, and
adding a policy from a PDF, a DOCX or pasted text - parsed and checked, units mapped to the
register, the resulting changes shown - before anything is saved."""

from __future__ import annotations

import streamlit as st

from loaders import policy_files, store_sync
from loaders.policy_report import confidence_report
from tracker import aggregate, crosspolicy, members, rollup
from tracker.accounts import Account
from tracker.errors import TrackerError
from tracker.store import Store
from webui import auth, data, safe

_DRAFT = "policies_draft"
_FLASH = "policies_flash"
_KEEP = "（保留原名，作为未登记单位）"


def _flash(message: str) -> None:
    st.session_state[_FLASH] = message
    st.session_state.pop(_DRAFT, None)
    st.rerun()


def _plan(plan, key: str) -> None:
    safe.info(plan.summary())
    if plan.changes:
        st.dataframe(
            plan.table(),
            hide_index=True,
            width="stretch",
            key=key,
            column_config={
                # Where a reworded task changed ("3个"→"5个"): both texts cut at one width
                # hid it.
                "改动": st.column_config.TextColumn("改动", width="large"),
                "原任务": st.column_config.TextColumn("原任务", width="medium"),
                "新任务": st.column_config.TextColumn("新任务", width="medium"),
            },
        )


def _pending(store: Store, account: Account) -> None:
    """A revision of measures.csv waiting for confirmation: what it changes, and confirming it."""
    try:
        pending = store_sync.pending_revision(store)
    except TrackerError as exc:
        pending = None
        safe.error(exc)
    if pending is None:
        return
    st.subheader("待确认的修订")
    safe.warning(
        f"{pending.file} 已更新，与数据库中的任务不一致。下表是生效后的变化："
        "任务按内容对应，进度随任务移动；删除的任务归档（保留进度和历史）。"
    )
    _plan(pending.plan, "policies_pending_plan")
    if st.button("确认修订并生效", type="primary", key="policies_confirm_pending"):
        try:
            store_sync.apply_pending(store, pending, user=account)
        except TrackerError as exc:
            safe.error(exc)
        else:
            _flash(f"修订已生效：{pending.plan.summary()}")


def _parse_form() -> None:
    """The policy's source (a file or pasted text) and its id; 解析 drafts it in session
    state, checked against the unit register."""
    how = st.radio("来源", ["上传文件", "粘贴正文"], horizontal=True, key="policies_how")
    if how == "上传文件":
        uploaded = st.file_uploader(
            "政策文件", type=["pdf", "docx", "txt", "md"], key="policies_file"
        )
        raw, name = (uploaded.getvalue(), uploaded.name) if uploaded else (b"", "")
    else:
        raw = st.text_area("政策正文", height=240, key="policies_text").encode("utf-8")
        name = policy_files.PASTED
    policy_id = st.text_input(
        "政策编号（小写字母、数字和连字符，如 hufubanfa-2025-11）",
        placeholder="留空则按文号生成，如 沪府办发〔2025〕11号 → hufubanfa-2025-11",
        key=f"policies_id_{name}",
    )
    if st.button("解析", key="policies_parse", disabled=not raw.strip()):
        try:
            registry = policy_files.current_registry(data.get_store())
            st.session_state[_DRAFT] = policy_files.draft_policy(
                raw, name, registry, policy_id=policy_id.strip() or None
            )
        except TrackerError as exc:
            st.session_state.pop(_DRAFT, None)
            safe.error("\n".join(policy_files.located(exc, name)))


def _map_units(draft) -> None:
    """Each unit the register does not know: mapped to a registered unit (an alias) or kept."""
    st.markdown("**未登记的责任单位**：选择对应的登记单位（写入单位表作为别名），或保留原名。")
    registered = draft.registry.names()
    mapping = {}
    for unknown in draft.unknown_units:
        options = [_KEEP, *unknown.suggestions]
        options += [u for u in registered if u not in options]
        mapping[unknown.name] = st.selectbox(
            safe.label(f"「{unknown.name}」（{unknown.tasks} 项任务）"),
            options,
            key=f"policies_map_{unknown.name}",
        )
    if st.button("应用单位对应", key="policies_map"):
        chosen = {k: ("" if v == _KEEP else v) for k, v in mapping.items()}
        try:
            st.session_state[_DRAFT] = policy_files.map_units(draft, chosen)
        except TrackerError as exc:
            safe.error(exc)
        else:
            st.rerun()


def _incomplete(draft) -> bool:
    """A cut-off item, by file and line, and the publisher's confirmation; True when there
    is none or it is confirmed."""
    if not draft.incomplete:
        return True
    for cut in draft.incomplete:
        (where,) = policy_files.located(cut, draft.original_name)
        safe.error(f"{where}。其余各项可以发布，此项需核对原文后另行补全。")
    return st.checkbox(
        "我已确认末项不完整：发布其余各项，此项不生成任务", key="policies_accept_incomplete"
    )


def _publish(store: Store, account: Account, draft) -> None:
    """What publishing the draft would change, and publishing it."""
    try:
        publication = policy_files.prepare(draft, store)
    except TrackerError as exc:
        safe.error(exc)
        return
    st.subheader("发布后的变化")
    if publication.replaced:
        safe.warning(
            f"政策编号「{draft.policy.policy_id}」已发布：本文件将作为新版本替换 "
            f"{'、'.join(publication.replaced)}，任务按内容对应，进度随任务移动。"
        )
    _plan(publication.plan, "policies_plan")
    accepted = _incomplete(draft)
    if st.button("确认发布", type="primary", key="policies_publish", disabled=not accepted):
        try:
            report = policy_files.publish(
                publication,
                store,
                account,
                measures_csv=store_sync.measures_path(),
                accept_incomplete=bool(draft.incomplete) and accepted,
            )
        except TrackerError as exc:
            safe.error(exc)
        else:
            _flash(
                f"已发布《{draft.policy.title}》：新增 {report.added_tasks} 项任务、"
                f"{report.added_assignments} 条分工。"
            )


def _draft(store: Store, account: Account, draft) -> None:
    """The parsed draft: its tasks and warnings, its unknown units, and publishing it."""
    safe.info(draft.summary())
    st.markdown("**解析可信度**")
    for line in confidence_report(draft.policy, draft.frame).lines():
        safe.caption(line)
    st.dataframe(
        draft.tasks_table(),
        hide_index=True,
        width="stretch",
        key="policies_tasks",
        column_config={"任务内容": st.column_config.TextColumn("任务内容", width="large")},
    )
    for warning in draft.warnings:
        safe.warning("\n".join(policy_files.located(warning, draft.original_name)))
    if draft.unknown_units:
        _map_units(draft)
    _publish(store, account, draft)


def _placeholders(store: Store, account: Account) -> None:
    """Rows whose unit is a placeholder (各相关单位): the supervisor names the units."""
    unnamed = rollup.unnamed_rows(data.assignments())
    if unnamed.empty:
        return
    st.subheader("待明确的责任单位")
    st.caption(aggregate.FIGURES["unnamed"].note() + "明确后，每个单位各有一条分工，自行填报。")
    st.dataframe(
        unnamed.drop(columns="assignment_id"),
        hide_index=True,
        width="stretch",
        key="policies_unnamed",
    )
    labels = {
        int(
            r.assignment_id
        ): f"{r.任务编号} · {r.责任单位} · {aggregate.short_text(r.任务内容, 30)}"
        for r in unnamed.itertuples()
    }
    with st.form("policies_name_units"):
        chosen = st.selectbox("分工", list(labels), format_func=labels.get)
        units = st.multiselect(
            "明确为以下单位", members.named_units(store), key="policies_name_units_chosen"
        )
        if st.form_submit_button("确认责任单位", type="primary"):
            try:
                members.name_units(store, account, int(chosen), units)
            except TrackerError as exc:
                safe.error(exc)
            else:
                _flash(f"已明确责任单位：{'、'.join(units)}")


def main(account: Account) -> None:
    """The page, top to bottom: a revision waiting, the published policies, adding one."""
    st.title("政策库")
    if not account.supervises:
        st.warning("政策库仅供督办员和管理员使用。")
        return
    flash = st.session_state.pop(_FLASH, None)
    if flash:
        safe.success(flash)
    store = data.get_store()
    _pending(store, account)
    _placeholders(store, account)

    st.subheader("已发布政策")
    st.dataframe(
        data.view(crosspolicy.policy_list, filtered=False),
        hide_index=True,
        width="stretch",
        key="policies_list",
    )

    st.subheader("添加政策")
    st.caption(
        "上传 PDF、DOCX、TXT 或 MD 文件，或粘贴网页上的正文。解析结果、全部提示和发布后的变化"
        "确认无误后才会保存；政策编号与已发布政策相同时，作为该政策的新版本（修订）处理。"
    )
    _parse_form()
    draft = st.session_state.get(_DRAFT)
    if draft is not None:
        _draft(store, account, draft)


account = auth.account()  # no signed-in account: back to the frame's sign-in
main(account)
