"""进度填报: a unit edits its assignments, as the signed-in account (staff see only their own
units; the store enforces it again on save).  Two ways in, one write path: the grid for many
tasks at once, the detail panel for one task with room for long text (and for phones).

The frames the editors show are pinned in session state with the data revision they were
loaded at, and that revision is part of the editor keys: a write by someone else never
shifts the user's pending edits onto other rows (streamlit #7354/#11679).  「重新加载」 also
moves the keys on (``generation``), which is what discards the user's own edits.

Saving: an invalid value refuses the whole batch and keeps the edits in the grid to be
corrected.  Rows someone else changed meanwhile are never overwritten; the rest of the batch
is saved and those rows are listed with both values (``Store.apply(partial=True)``).
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from tracker import editing, views
from tracker.errors import ConflictError, ValidationError
from tracker.progress import period_kind
from tracker.schema import LEAD, PERIOD_KINDS, PROGRESS_FIELDS, SOURCE_WEB, STATUS_LABELS, SUPPORT
from webui import auth, data, filters, safe

_LOADED = "update_loaded"  # {"unit", "revision", LEAD: frame, SUPPORT: frame}
_GENERATION = "update_generation"  # bumped by 重新加载: new editor keys, edits discarded
_FLASH = "update_flash"  # outcome of a save, shown after the rerun that reloads
_PENDING = "update_pending"  # unsaved edits counted at the end of the last run
_SWITCH = "update_switch_to"  # unit picked while edits were pending: asks first
_UNIT = "update_unit"


def _reload() -> None:
    """Show the stored values again: drop the pinned frames and every unsaved edit."""
    st.session_state.pop(_LOADED, None)
    st.session_state.pop(_PENDING, None)
    st.session_state[_GENERATION] = st.session_state.get(_GENERATION, 0) + 1


def _unit_picked() -> None:
    """Switching unit would drop unsaved edits: keep the unit and ask first."""
    loaded = st.session_state.get(_LOADED)
    if loaded and st.session_state.get(_PENDING) and st.session_state[_UNIT] != loaded["unit"]:
        st.session_state[_SWITCH] = st.session_state[_UNIT]
        st.session_state[_UNIT] = loaded["unit"]


def _switch(unit: str) -> None:
    st.session_state[_UNIT] = unit
    st.session_state.pop(_SWITCH, None)
    _reload()


def _stay() -> None:
    st.session_state.pop(_SWITCH, None)


def _column_config(account) -> dict:
    config = {
        # Widths that fit every field staff fill in on a laptop screen (the detail panel
        # below shows each text in full); nothing pinned, so a phone can still scroll to them.
        editing.MEASURE: st.column_config.TextColumn(editing.MEASURE, width=104),
        editing.TASK_TEXT: st.column_config.TextColumn(editing.TASK_TEXT, width=164),
        PROGRESS_FIELDS["status"]: st.column_config.SelectboxColumn(
            PROGRESS_FIELDS["status"], options=list(STATUS_LABELS.values()), required=True, width=72
        ),
        # No min/max here: the store's one rule refuses 150 or -5 with its message,
        # where the grid would silently clamp them.
        PROGRESS_FIELDS["percent"]: st.column_config.NumberColumn(
            PROGRESS_FIELDS["percent"], step=1, format="%d", width=100
        ),
        PROGRESS_FIELDS["due_date"]: st.column_config.DateColumn(
            PROGRESS_FIELDS["due_date"],
            format="YYYY-MM-DD",
            disabled=not account.supervises,
            help=None if account.supervises else "完成时限由督办员设定",
            width=96,
        ),
        editing.UPDATED_AT: st.column_config.DatetimeColumn(
            editing.UPDATED_AT, format="YYYY-MM-DD HH:mm"
        ),
        editing.TASK_ID: None,
        editing.VERSION: None,
    }
    for name, width in zip(editing.EDITOR_TEXT_FIELDS, (130, 120, 100, 100), strict=True):
        config[PROGRESS_FIELDS[name]] = st.column_config.TextColumn(
            PROGRESS_FIELDS[name], width=width
        )
    return config


def _save(updates: list, texts: dict[str, str]) -> None:
    """Write ``updates``; on success (whole or in part) reload and rerun with the outcome."""
    if not updates:
        st.info("没有需要保存的修改。")
        return
    try:
        result = store.apply(updates, user=account, source=SOURCE_WEB)
    except ValidationError as exc:
        safe.error(exc)
        st.caption("未保存任何修改。您的修改仍在页面上：改正后再保存，或点「重新加载」放弃。")
        return
    except ConflictError:
        # Others changed some of these rows since they were loaded: save the rest, never
        # overwrite theirs, and say which edits were not saved.
        result = store.apply(updates, user=account, source=SOURCE_WEB, partial=True)
    refused = editing.refused_lines(result.conflicts, result.problems, texts)
    st.session_state[_FLASH] = {
        "saved": result.changed_assignments,
        "refused": refused,
        "warnings": [str(w) for w in result.warnings],
    }
    _reload()
    st.rerun()


def _show_flash(flash: dict) -> None:
    saved, refused = flash["saved"], flash["refused"]
    if saved:
        safe.success(f"已保存 {saved} 条任务分工的修改。")
    if refused:
        head = (
            f"以下 {len(refused)} 条任务在您打开本页后已被他人修改，您对它们的修改没有保存"
            + ("（其余修改已保存）" if saved else "")
            + "。表中已是最新值；如仍需修改，请重新填写后保存："
        )
        safe.warning("\n".join([head, *(f"· {line}" for line in refused)]))
    for warning in flash["warnings"]:
        safe.warning(warning)


def _detail_form(loaded: dict, labels: dict[int, str], pending: int) -> list | None:
    """One task in full, with a form for every field and its change history: the updates
    the form means once submitted (``None`` until then)."""
    frames = {int(aid): role for role in (LEAD, SUPPORT) for aid in loaded[role].index}
    if not frames:
        return None
    ids = list(frames)
    if st.session_state.get("update_detail_task") not in ids:
        st.session_state.pop("update_detail_task", None)
    # Nothing chosen at first: the form and history are drawn only for a task asked for.
    aid = st.selectbox(
        "任务",
        ids,
        index=None,
        format_func=lambda i: labels.get(i, str(i)),
        placeholder="选择一项任务，查看全文并填报",
        key="update_detail_task",
    )
    if aid is None:
        return None
    role = frames[aid]
    row = loaded[role].loc[aid]
    info = data.view(views.task_detail, loaded["unit"], aid, filtered=False)
    if info:
        st.markdown(f"**{safe.plain(info[editing.TASK_TEXT])}**")
        safe.caption(
            f"{info['文号']}《{info['政策']}》　措施 {info[editing.MEASURE]}：{info['措施名称']}\n"
            f"本单位{info[editing.ROLE]}；其他责任单位：{info['其他责任单位']}"
        )
    suffix = f"{aid}_{loaded['revision']}_{st.session_state.get(_GENERATION, 0)}"
    with st.form(f"update_detail_{suffix}", border=True):
        left, middle, right = st.columns(3)
        statuses = list(STATUS_LABELS.values())
        status = left.selectbox(
            PROGRESS_FIELDS["status"],
            statuses,
            index=statuses.index(row[PROGRESS_FIELDS["status"]]),
            key=f"update_detail_status_{suffix}",
        )
        percent = middle.number_input(
            PROGRESS_FIELDS["percent"],
            value=int(row[PROGRESS_FIELDS["percent"]]),
            step=1,
            key=f"update_detail_percent_{suffix}",
        )
        due = right.date_input(
            PROGRESS_FIELDS["due_date"],
            value=row[PROGRESS_FIELDS["due_date"]],
            min_value=date(2000, 1, 1),
            max_value=date(2099, 12, 31),
            format="YYYY-MM-DD",
            disabled=not account.supervises,
            help=None if account.supervises else "完成时限由督办员设定",
            key=f"update_detail_due_{suffix}",
        )
        texts = {
            name: st.text_area(
                PROGRESS_FIELDS[name],
                value=row[PROGRESS_FIELDS[name]],
                height=90 if name == "note" else 68,
                key=f"update_detail_{name}_{suffix}",
            )
            for name in editing.EDITOR_TEXT_FIELDS
        }
        if pending:
            st.caption(f"表格中有 {pending} 处未保存的修改：请先「保存修改」或「重新加载」。")
        submitted = st.form_submit_button(
            "保存本项", type="primary", disabled=bool(pending), key="update_detail_save"
        )
    st.markdown("**该任务修改记录**")
    history = editing.history_table(store.history(task_id=row[editing.TASK_ID]))
    if history.empty:
        st.caption("该任务尚无修改记录。")
    else:
        st.dataframe(history, hide_index=True, width="stretch", placeholder="—")
    if not submitted:
        return None
    edited = loaded[role].copy()
    values = {"status": status, "percent": percent, "due_date": due, **texts}
    for name, value in values.items():
        edited.at[aid, PROGRESS_FIELDS[name]] = value
    return editing.changed_updates(loaded[role], edited)


account = auth.account()
st.title("进度填报")
store = data.get_store()
today = data.today()
period = editing.current_period(today)
st.caption(
    f"当前报告期：{period}（{PERIOD_KINDS[period_kind()]}）。表中为各任务当前填报值，"
    "只需修改有变化的单元格；「本期已更新」✓ 表示本期已填报。"
)

units = account.editable_units(data.view(views.filter_options, filtered=False)["units"])
if not units:
    st.info("本账号没有可填报的任务分工。")
    st.stop()
if _UNIT not in st.session_state or st.session_state[_UNIT] not in units:
    # Open at the unit in the link (/update?unit=市科委) or the sidebar's unit filter, when
    # this account reports for it; else at the account's first unit.
    wanted = [st.query_params.get("unit"), *filters.current().unit]
    st.session_state[_UNIT] = editing.opening_unit(units, wanted)
unit = st.selectbox("责任单位", units, key=_UNIT, on_change=_unit_picked)
st.caption(f"填报人：{safe.plain(account.label)}（保存时自动记录）")

target = st.session_state.get(_SWITCH)
if target:
    safe.warning(
        f"「{unit}」有 {st.session_state.get(_PENDING, 0)} 处未保存的修改，"
        f"切换到「{target}」会丢弃这些修改。"
    )
    keep, drop = st.columns(2)
    keep.button("留在本单位", key="update_switch_stay", on_click=_stay)
    drop.button(
        f"放弃修改，切换到「{target}」", key="update_switch_go", on_click=_switch, args=(target,)
    )

flash = st.session_state.pop(_FLASH, None)
if flash:
    _show_flash(flash)

loaded = st.session_state.get(_LOADED)
bench = data.view(views.unit_workbench, unit, period, filtered=False)
if loaded is None or loaded["unit"] != unit:
    loaded = {
        "unit": unit,
        "revision": store.revision(),
        LEAD: bench[LEAD],
        SUPPORT: bench[SUPPORT],
    }
    st.session_state[_LOADED] = loaded
if store.revision() != loaded["revision"]:
    st.info(
        "数据已被他人更新。保存时不会覆盖他人改过的任务：其余修改照常保存，这些任务会列出；"
        "点击「重新加载」可查看最新数据（会放弃未保存的修改）。"
    )

config = _column_config(account)
disabled = [*editing.READ_ONLY_COLUMNS, editing.VERSION]
edited = {}
generation = st.session_state.get(_GENERATION, 0)
lead_tab, support_tab = st.tabs(
    [f"牵头任务（{len(loaded[LEAD])}）", f"配合任务（{len(loaded[SUPPORT])}）"],
    key="update_tab",
    on_change="rerun",
)
for role, tab in ((LEAD, lead_tab), (SUPPORT, support_tab)):
    with tab:  # both editors run every time: a hidden tab keeps its edits
        if loaded[role].empty:
            st.caption("无")
            edited[role] = loaded[role]
            continue
        edited[role] = st.data_editor(
            loaded[role],
            key=f"update_editor_{role}_{unit}_{loaded['revision']}_{generation}",
            column_config=config,
            disabled=disabled,
            hide_index=True,
            num_rows="fixed",
            width="stretch",
            placeholder="",  # an empty date is an empty cell, not "None"
        )

updates = [
    *editing.changed_updates(loaded[LEAD], edited[LEAD]),
    *editing.changed_updates(loaded[SUPPORT], edited[SUPPORT]),
]
st.session_state[_PENDING] = sum(len(u.changes) for u in updates)
texts = bench["choices"]
save_col, reload_col = st.columns(2)
reload_col.button(
    "重新加载",
    key="update_reload",
    on_click=_reload,
    help="显示库中最新数据，放弃本页所有未保存的修改",
)
if save_col.button("保存修改", type="primary", key="update_save"):
    _save(updates, texts)

st.subheader("逐项填报")
st.caption("逐项查看任务全文、填写各项说明（适合手机或较长的说明）及其修改记录；保存后立即生效。")
detail_updates = _detail_form(loaded, bench["detail_labels"], st.session_state[_PENDING])
if detail_updates is not None:
    _save(detail_updates, texts)

st.subheader("本单位各期完成情况")
trend = data.unit_trend(unit)
if trend.empty:
    st.caption("尚无填报记录。")
else:
    st.dataframe(trend, hide_index=True, placeholder="—")

partners = bench["partners"]
if len(partners):
    st.subheader("牵头任务的配合单位进展")
    data.table(
        partners,
        key="update_partners",
        column_config={
            editing.TASK_TEXT: st.column_config.TextColumn(editing.TASK_TEXT, width="large"),
            editing.TASK_ID: None,
        },
    )
