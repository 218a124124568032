"""进度填报: a unit edits its assignments and saves them in one all-or-nothing batch, as the
signed-in account (staff see only their own units; the store enforces it again on save).

The frames the editors show are pinned in session state with the data revision they were
loaded at, and that revision is part of the editor keys: a write by someone else never
shifts the user's pending edits onto other rows (streamlit #7354/#11679); the store's
version check then refuses only rows that really changed meanwhile.
"""

from __future__ import annotations

import streamlit as st

from tracker import editing, views
from tracker.errors import ConflictError, ValidationError
from tracker.progress import period_kind
from tracker.schema import LEAD, PERIOD_KINDS, PROGRESS_FIELDS, SOURCE_WEB, STATUS_LABELS, SUPPORT
from webui import auth, data, safe

_LOADED = "update_loaded"  # {"unit", "revision", LEAD: frame, SUPPORT: frame}
_FLASH = "update_flash"  # message to show after the post-save rerun


def _reload() -> None:
    """Drop the pinned frames so the next run shows the stored values (the data caches
    are keyed by revision and need no clearing)."""
    st.session_state.pop(_LOADED, None)


def _column_config(account) -> dict:
    config = {
        PROGRESS_FIELDS["status"]: st.column_config.SelectboxColumn(
            PROGRESS_FIELDS["status"], options=list(STATUS_LABELS.values()), required=True
        ),
        # No min/max here: the store's one rule refuses 150 or -5 with its message,
        # where the grid would silently clamp them.
        PROGRESS_FIELDS["percent"]: st.column_config.NumberColumn(
            PROGRESS_FIELDS["percent"], step=1, format="%d"
        ),
        PROGRESS_FIELDS["due_date"]: st.column_config.DateColumn(
            PROGRESS_FIELDS["due_date"],
            format="YYYY-MM-DD",
            disabled=not account.supervises,
            help=None if account.supervises else "完成时限由督办员设定",
        ),
        editing.TASK_TEXT: st.column_config.TextColumn(editing.TASK_TEXT, width="large"),
        editing.UPDATED_AT: st.column_config.DatetimeColumn(
            editing.UPDATED_AT, format="YYYY-MM-DD HH:mm"
        ),
        editing.VERSION: None,
    }
    for name in ("note", "next_step", "problems", "evidence"):
        config[PROGRESS_FIELDS[name]] = st.column_config.TextColumn(PROGRESS_FIELDS[name])
    return config


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
if "update_unit" not in st.session_state:
    # Open at the unit in the link (/update?unit=市科委) when this account reports for it.
    wanted = st.query_params.get("unit")
    st.session_state["update_unit"] = wanted if wanted in units else units[0]
unit = st.selectbox("责任单位", units, key="update_unit")
st.caption(f"填报人：{safe.plain(account.label)}（保存时自动记录）")

flash = st.session_state.pop(_FLASH, None)
if flash:
    safe.success(flash["message"])
    for warning in flash["warnings"]:
        safe.warning(warning)

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
    st.info("数据已被他人更新。保存时仅会拒绝他人改过的任务；如需查看最新数据请点击「重新加载」。")

config = _column_config(account)
disabled = [*editing.READ_ONLY_COLUMNS, editing.VERSION]
edited = {}
lead_tab, support_tab = st.tabs(
    [f"牵头任务（{len(loaded[LEAD])}）", f"配合任务（{len(loaded[SUPPORT])}）"]
)
for role, tab in ((LEAD, lead_tab), (SUPPORT, support_tab)):
    with tab:
        if loaded[role].empty:
            st.caption("无")
            edited[role] = loaded[role]
            continue
        edited[role] = st.data_editor(
            loaded[role],
            key=f"update_editor_{role}_{unit}_{loaded['revision']}",
            column_config=config,
            disabled=disabled,
            hide_index=True,
            num_rows="fixed",
            width="stretch",
        )

save_col, reload_col = st.columns([1, 1])
if reload_col.button("重新加载", key="update_reload"):
    _reload()
    st.rerun()
if save_col.button("保存修改", type="primary", key="update_save"):
    updates = [
        *editing.changed_updates(loaded[LEAD], edited[LEAD]),
        *editing.changed_updates(loaded[SUPPORT], edited[SUPPORT]),
    ]
    if not updates:
        st.info("没有需要保存的修改。")
    else:
        try:
            result = store.apply(updates, user=account, source=SOURCE_WEB)
        except ValidationError as exc:
            safe.error(exc)
        except ConflictError as exc:
            safe.error(exc)
            st.caption("未保存任何修改。请点击「重新加载」查看对方的值后再填报。")
        else:
            st.session_state[_FLASH] = {
                "message": f"已保存 {result.changed_assignments} 条任务分工的修改。",
                "warnings": [str(w) for w in result.warnings],
            }
            _reload()
            st.rerun()

st.subheader("本单位各期完成情况")
trend = data.unit_trend(unit)
if trend.empty:
    st.caption("尚无填报记录。")
else:
    st.dataframe(trend, hide_index=True)

partners = bench["partners"]
if not partners.empty:
    st.subheader("牵头任务的配合单位进展")
    st.dataframe(partners, hide_index=True, width="stretch")

st.subheader("任务修改记录")
choices = bench["choices"]
task_id = st.selectbox("任务", list(choices), format_func=choices.get, key="update_history_task")
history = editing.history_table(store.history(task_id=task_id))
if history.empty:
    st.caption("该任务尚无修改记录。")
else:
    st.dataframe(history, hide_index=True, width="stretch")
