"""完成时限: a supervisor sets each task's deadline (all its units), or one unit's where it
differs.  Staff see deadlines read-only on 进度填报; the store refuses their changes."""

from __future__ import annotations

import streamlit as st

from pagelogic import deadlines, editing
from tracker.accounts import Account
from tracker.errors import TrackerError
from tracker.schema import SOURCE_WEB
from tracker.store import Store
from webui import auth, data, filters, safe

_LOADED = "deadlines_loaded"  # (revision, filters, assignments, tasks) the editors show
_FLASH = "deadlines_flash"
SHOWN_TASKS = 1_000  # a grid of every task of a city is unusable and slow; filters narrow it


def _save(store: Store, account: Account, updates, tasks) -> None:
    """Write ``updates``; a refusal names the tasks as the grid shows them (``tasks``)."""
    if not updates:
        st.info("没有需要保存的修改。")
        return
    try:
        result = store.apply(updates, user=account, source=SOURCE_WEB)
    except TrackerError as exc:  # invalid, stale, not allowed, or the database is down
        safe.error(editing.refusal_text(exc, editing.task_texts(tasks), form=False))
        return
    st.session_state[_FLASH] = (
        f"已保存 {result.changed_assignments} 条任务分工的完成时限。",
        [str(w) for w in result.warnings],
    )
    st.session_state.pop(_LOADED, None)
    st.rerun()


_TASKS, _UNITS = "deadlines_tasks_", "deadlines_units_"  # the two editors' key prefixes


def _has_edits(revision: int, editors: tuple[str, ...] = (_TASKS, _UNITS)) -> bool:
    """Whether an editor drawn at ``revision`` (of ``editors``) holds edits not saved yet."""
    prefixes = tuple(f"{editor}{revision}" for editor in editors)
    return any(
        isinstance(state := st.session_state[key], dict) and state.get("edited_rows")
        for key in list(st.session_state)
        if isinstance(key, str) and key.startswith(prefixes)
    )


def _loaded(store: Store) -> tuple:
    """(revision, assignments, tasks) under the sidebar filters, from the revision-keyed
    cache: read again whenever the data or the filters moved (a save on any page, by anyone,
    this user included), except while the editors hold unsaved edits, which stay on the rows
    they were made on until saved or 「重新加载」."""
    revision = store.revision()
    chosen = filters.current()
    loaded = st.session_state.get(_LOADED)
    reload = st.button("重新加载", key="deadlines_reload")
    if loaded is None or reload or (loaded[:2] != (revision, chosen) and not _has_edits(loaded[0])):
        rows = chosen.apply(data.assignments())
        loaded = (revision, chosen, rows, deadlines.task_deadlines(rows).head(SHOWN_TASKS))
        st.session_state[_LOADED] = loaded
    if revision != loaded[0]:
        st.info(
            "您编辑期间数据已有新的保存（可能来自其他页面或其他账号）：保存时，"
            "打开本页后已被改过的任务会被拒绝；点击「重新加载」查看最新值（未保存的修改将放弃）。"
        )
    return loaded[0], loaded[2], loaded[3]


def _by_task(store: Store, account: Account, loaded: tuple) -> None:
    revision, rows, tasks = loaded
    if len(tasks) == SHOWN_TASKS:
        st.caption(f"仅显示前 {SHOWN_TASKS:,} 项任务；请用侧栏「筛选」中的政策、单位缩小范围。")
    else:
        st.caption(f"共 {len(tasks)} 项任务。")
    edited = st.data_editor(
        tasks,
        key=f"{_TASKS}{revision}",
        hide_index=True,
        num_rows="fixed",
        width="stretch",
        placeholder="",  # an empty deadline is an empty cell, not "None"
        disabled=[c for c in deadlines.TASK_COLUMNS if c != deadlines.DUE],
        column_config={
            deadlines.DUE: st.column_config.DateColumn(deadlines.DUE, format="YYYY-MM-DD"),
            deadlines.TASK_TEXT: st.column_config.TextColumn(deadlines.TASK_TEXT, width="large"),
            **data.task_id_toggle("deadlines_show_ids"),
        },
    )
    if st.button("保存任务时限", type="primary", key="deadlines_save_tasks"):
        _save(store, account, deadlines.task_deadline_updates(rows, tasks, edited), tasks)


def _by_unit(store: Store, account: Account, loaded: tuple) -> None:
    revision, rows, tasks = loaded
    labels = dict(
        zip(
            tasks.index,
            tasks[deadlines.TASK] + "　" + tasks[deadlines.TASK_TEXT].str[:40],
            strict=True,
        )
    )
    task_id = st.selectbox(
        "任务", list(labels), format_func=labels.__getitem__, key="deadlines_task"
    )
    units = deadlines.assignment_deadlines(rows, task_id)
    edited_units = st.data_editor(
        units,
        key=f"{_UNITS}{revision}_{task_id}",
        hide_index=True,
        num_rows="fixed",
        placeholder="",
        disabled=[deadlines.UNIT, deadlines.ROLE, deadlines.VERSION],
        column_config={
            deadlines.DUE: st.column_config.DateColumn(deadlines.DUE, format="YYYY-MM-DD"),
            deadlines.VERSION: None,
        },
    )
    if st.button("保存单位时限", key="deadlines_save_units"):
        _save(store, account, deadlines.assignment_deadline_updates(units, edited_units), tasks)


def main(account: Account) -> None:
    """The page, top to bottom: deadlines per task, or (the other tab) one task's per unit."""
    st.title("完成时限")
    st.caption(
        "完成时限由督办员设定：按任务设定时，该任务所有责任单位同时生效；"
        "个别单位不同时，在「按单位调整」中设定。政策原文写明的时限在首次导入时已作为建议值填入。"
    )
    flash = st.session_state.pop(_FLASH, None)
    if flash:
        safe.success(flash[0])
        for warning in flash[1]:
            safe.warning(warning)

    store = data.get_store()
    loaded = _loaded(store)
    if loaded[2].empty:
        st.info("当前筛选条件下没有任务。")
        return
    # Lazy tabs: only the open one runs and is drawn (each is a grid, the second also a
    # picker of up to 1,000 tasks), unless the closed one's grid holds unsaved edits (made
    # just before switching): it then runs too, so they wait there until saved or reloaded.
    task_tab, unit_tab = st.tabs(
        ["按任务设定", "按单位调整"], key="deadlines_tab", on_change="rerun"
    )
    if task_tab.open or _has_edits(loaded[0], (_TASKS,)):
        with task_tab:
            _by_task(store, account, loaded)
    if unit_tab.open or _has_edits(loaded[0], (_UNITS,)):
        with unit_tab:
            _by_unit(store, account, loaded)


account = auth.account()
main(account)
