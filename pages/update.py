"""进度填报: a unit edits its assignments, as the signed-in account (staff see only their own
units; the store enforces it again on save).  Two ways in, one write path: the grid for many
tasks at once, the detail panel for one task with room for long text (and for phones).

The frames the editors show are pinned in session state with the data revision they were
loaded at, and that revision is part of the editor keys: a write by someone else never
shifts the user's pending edits onto other rows (streamlit #7354/#11679).  「重新加载」 also
moves the keys on (``generation``), which is what discards the user's own edits.

Unsaved edits live in ``webui.drafts`` (each with the version its row was edited on), not
only in the editor: the grid shows one page of ``editing.PAGE_SIZE`` rows at a time (a unit
may have 14,500 tasks), and its own state is lost on another page of the grid, another
filter, or when the user leaves 进度填报 (the browser navigates; nothing can stop it).  Each
run records the page's edits there and draws the page from there, so nothing is lost; on
coming back a banner says what was kept.  The editor key also carries a fingerprint of the
rows shown, so the grid's edit state (kept by row position) never lands on other rows.

Saving: an invalid value refuses the whole batch and keeps the edits in the grid to be
corrected.  Rows someone else changed meanwhile are never overwritten; the rest of the batch
is saved and those rows are listed with both values (``Store.apply(partial=True)``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pagelogic import editing, views
from tracker import audit
from tracker.accounts import Account
from tracker.errors import ConflictError, ValidationError
from tracker.progress import period_kind
from tracker.schema import (
    LEAD,
    PERIOD_KINDS,
    PROGRESS_FIELDS,
    ROLE_LABELS,
    SOURCE_WEB,
    STATUS_LABELS,
    SUPPORT,
)
from tracker.store import Store
from webui import auth, data, drafts, filters, safe
from webui import evidence as evidence_ui

_LOADED = "update_loaded"  # {"unit", "revision", "bench": views.Workbench}
_GENERATION = "update_generation"  # bumped by 重新加载: new editor keys, edits discarded
_FLASH = "update_flash"  # outcome of the last save: shown until the next save or unit
_PENDING = "update_pending"  # unsaved edits counted at the end of the last run
_SWITCH = "update_switch_to"  # unit picked while edits were pending: asks first
_RESTORED = "update_restored"  # the page opened with edits kept from an earlier visit
_UNIT = "update_unit"
DETAIL_ANCHOR = "detail"  # 逐项填报's heading, linked from above the grid
_LOWER = "update_lower"  # which of LOWER_TABS is open under the grids
LOWER_TABS = ["逐项填报", "本单位各期完成情况", "牵头任务的配合单位进展"]
_REFUSED = "update_refused"  # {assignment_id: {label: value}} refused as conflicts, kept


def _reload() -> None:
    """Show the stored values again: drop the pinned frames and every unsaved edit."""
    st.session_state.pop(_LOADED, None)
    st.session_state.pop(_PENDING, None)
    st.session_state.pop(_RESTORED, None)
    st.session_state.pop(_REFUSED, None)
    st.session_state[_GENERATION] = st.session_state.get(_GENERATION, 0) + 1
    drafts.discard()


def _open_at(units: list[str]) -> None:
    """Open at the unit with edits kept from an earlier visit in this session, else at the
    unit in the link (/update?unit=市科委) or the sidebar's unit filter, when this account
    reports for it; else at the account's first unit."""
    kept = [u for u in drafts.waiting() if u in units]
    wanted = [*kept, st.query_params.get("unit"), *filters.current().unit]
    st.session_state[_UNIT] = editing.opening_unit(units, wanted)
    if kept:
        st.session_state[_RESTORED] = True


def _unit_picked() -> None:
    """Switching unit would drop unsaved edits: keep the unit and ask first."""
    st.session_state.pop(_FLASH, None)  # the last save's outcome was another unit's
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


def _first_page(role: str) -> None:
    """Another filter: start at its first page."""
    st.session_state.pop(f"update_page_{role}", None)


def _grid_keys(role: str) -> tuple[str, str, str]:
    """The session keys of one tab's row filter, search and page picker."""
    return f"update_rows_{role}", f"update_search_{role}", f"update_page_{role}"


def _grid_page(role: str, frame: pd.DataFrame, kept: dict) -> editing.GridPage:
    """The filter, search and page picker above one tab's grid; the page they choose."""
    rows_key, search_key, page_key = _grid_keys(role)
    which, search, pick = st.columns([1, 2, 1], vertical_alignment="bottom")
    rows = which.selectbox(
        "显示", editing.ROW_FILTERS, key=rows_key, on_change=_first_page, args=(role,)
    )
    keyword = search.text_input(
        "搜索",
        key=search_key,
        placeholder="措施、任务内容或任务编号",
        on_change=_first_page,
        args=(role,),
    )
    grid = editing.grid_page(
        frame,
        rows=rows,
        keyword=keyword,
        page=st.session_state.get(page_key, 1),
        drafts=kept,
        size=editing.PAGE_SIZE,
    )
    if grid.pages > 1:
        st.session_state[page_key] = grid.page  # clamped: the filter may have fewer pages
        pick.selectbox(
            "页",
            range(1, grid.pages + 1),
            key=page_key,
            format_func=lambda page: f"第 {page} / {grid.pages} 页",
        )
    if grid.matching:
        shown = f"共 {grid.matching:,} 项"
        if grid.pages > 1:
            shown += f"，显示第 {grid.first:,}–{grid.first + len(grid.rows) - 1:,} 项"
        st.caption(shown)
    return grid


def _closed_grid_page(role: str, frame: pd.DataFrame, kept: dict) -> editing.GridPage:
    """The page a closed tab's grid would show, its filter, search and page kept as they
    were (Streamlit forgets the state of a widget a run does not draw)."""
    for key in _grid_keys(role):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    rows_key, search_key, page_key = _grid_keys(role)
    return editing.grid_page(
        frame,
        rows=st.session_state.get(rows_key, editing.ALL_ROWS),
        keyword=st.session_state.get(search_key, ""),
        page=st.session_state.get(page_key, 1),
        drafts=kept,
        size=editing.PAGE_SIZE,
    )


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


def _save(
    store: Store, account: Account, updates: list, bench: views.Workbench, *, form: bool = False
) -> None:
    """Write ``updates`` (from the grids, or from the one-task ``form``); on success (whole or
    in part) reload and rerun with the outcome.  Edits refused as conflicts are kept
    (``_REFUSED``) to be put back on request."""
    if not updates:
        st.info("没有需要保存的修改。")
        return
    try:
        result = store.apply(updates, user=account, source=SOURCE_WEB)
    except ValidationError as exc:
        texts = editing.task_texts(pd.concat([bench.lead, bench.support]))
        safe.error(editing.refusal_text(exc, texts, form=form))
        st.caption("未保存任何修改。您的修改仍在页面上：改正后再保存，或点「重新加载」放弃。")
        return
    except ConflictError:
        # Rows changed since they were loaded (by others, or by this account in another
        # tab): save the rest, never overwrite theirs, and say which edits were not saved.
        result = store.apply(updates, user=account, source=SOURCE_WEB, partial=True)
    refusals = result.conflicts or result.problems
    texts = editing.task_texts(pd.concat([bench.lead, bench.support])) if refusals else {}
    refused = editing.refused_lines(result.conflicts, result.problems, texts, account.username)
    st.session_state[_FLASH] = {
        "saved": result.changed_assignments,
        "refused": refused,
        "head": editing.conflict_head(
            result.conflicts, account.username, result.changed_assignments
        )
        if result.conflicts
        else "",
        "warnings": [str(w) for w in result.warnings],
    }
    _reload()
    if result.conflicts:
        st.session_state[_REFUSED] = editing.refused_cells(updates, result.conflicts)
    st.rerun()


def _show_flash(flash: dict) -> None:
    saved, refused = flash["saved"], flash["refused"]
    if saved:
        safe.success(f"已保存 {saved} 条任务分工的修改。")
    if refused:
        head = flash["head"] or "以下修改没有保存："
        safe.warning("\n".join([head, *(f"· {line}" for line in refused)]))
    for warning in flash["warnings"]:
        safe.warning(warning)


def _reapply(unit: str) -> None:
    """Put the edits refused as conflicts back into the grid, on the rows as stored now
    (the user saw both values in the warning and saves them again deliberately)."""
    refused = st.session_state.pop(_REFUSED, {})
    bench: views.Workbench = st.session_state[_LOADED]["bench"]
    kept = drafts.of(unit)
    for aid, cells in refused.items():
        for frame in (bench.lead, bench.support):
            if aid in frame.index:
                kept[aid] = editing.Draft(int(frame.at[aid, editing.VERSION]), dict(cells))
    drafts.keep(unit, kept)


def _refused_offer(unit: str) -> None:
    """While edits refused as conflicts are kept: put them back, or let them go."""
    refused = st.session_state.get(_REFUSED)
    if not refused:
        return
    safe.info(f"有 {len(refused)} 条任务的修改因冲突未保存，您填写的内容已保留。")
    again, drop = st.columns(2)
    again.button(
        "重新应用我的修改", key="update_reapply", type="primary", on_click=_reapply, args=(unit,)
    )
    drop.button(
        "不再需要", key="update_refused_drop", on_click=lambda: st.session_state.pop(_REFUSED)
    )


def _pick_unit(account: Account) -> str | None:
    """The unit to fill in for (``None`` when the account reports for none), and the question
    asked when the user picked another unit while edits were pending."""
    units = account.editable_units(data.view(views.filter_options, filtered=False).units)
    if not units:
        st.info("本账号没有可填报的任务分工。")
        return None
    if _UNIT not in st.session_state or st.session_state[_UNIT] not in units:
        _open_at(units)
    unit = st.selectbox("责任单位", units, key=_UNIT, on_change=_unit_picked)
    st.caption(f"填报人：{safe.plain(account.label)}（保存时自动记录）")

    target = st.session_state.get(_SWITCH)
    if target:
        safe.warning(
            f"「{unit}」有 {drafts.waiting().get(unit, 0)} 处未保存的修改，"
            f"切换到「{target}」会丢弃这些修改。"
        )
        keep, drop = st.columns(2)
        keep.button("留在本单位", key="update_switch_stay", on_click=_stay)
        drop.button(
            safe.label(f"放弃修改，切换到「{target}」"),
            key="update_switch_go",
            on_click=_switch,
            args=(target,),
        )
    return unit


def _editing(loaded: dict) -> bool:
    """Whether the pinned rows carry edits not saved yet: drafts kept, or cells typed into
    a grid drawn on them."""
    if drafts.of(loaded["unit"]):
        return True
    prefixes = tuple(
        f"update_editor_{role}_{loaded['unit']}_{loaded['revision']}_" for role in (LEAD, SUPPORT)
    )
    return any(
        isinstance(state := st.session_state[key], dict) and state.get("edited_rows")
        for key in list(st.session_state)
        if isinstance(key, str) and key.startswith(prefixes)
    )


def _pinned(store: Store, unit: str, period: str) -> dict:
    """The unit's rows as pinned in session state: read again through the revision-keyed
    cache for another unit, after a save or 重新加载, and whenever the data moved (a save on
    any page, this user's included) while nothing is being edited; says so when the data
    moved under unsaved edits."""
    revision = store.revision()
    loaded = st.session_state.get(_LOADED)
    if (
        loaded is None
        or loaded["unit"] != unit
        or (revision != loaded["revision"] and not _editing(loaded))
    ):
        # Pinned while edited: the edits are made on these rows.
        loaded = {
            "unit": unit,
            "revision": revision,
            "bench": data.view(views.unit_workbench, unit, period, filtered=False),
        }
        st.session_state[_LOADED] = loaded
    if revision != loaded["revision"]:
        st.info(
            "您编辑期间数据已有新的保存（可能来自其他页面或其他账号）。保存时不会覆盖打开本页后"
            "被改过的任务：其余修改照常保存，这些任务会列出；点击「重新加载」可查看最新数据"
            "（会放弃未保存的修改）。"
        )
    return loaded


def _grids(account: Account, loaded: dict, kept: dict) -> tuple[dict, dict[str, pd.DataFrame]]:
    """The lead and support tabs, one page of a grid each (only the open tab's is drawn):
    the drafts with this run's edits recorded, and the rows each grid shows."""
    bench: views.Workbench = loaded["bench"]
    config = _column_config(account)
    disabled = [*editing.READ_ONLY_COLUMNS, editing.VERSION]
    shown: dict[str, pd.DataFrame] = {}
    generation = st.session_state.get(_GENERATION, 0)
    lead_tab, support_tab = st.tabs(
        [f"牵头任务（{len(bench.lead)}）", f"配合任务（{len(bench.support)}）"],
        key="update_tab",
        on_change="rerun",
    )
    for role, tab in ((LEAD, lead_tab), (SUPPORT, support_tab)):
        frame = bench.frame(role)

        def editor_key(grid: editing.GridPage, role: str = role) -> str:
            # The account too: a grid's state outlives signing out (the sign-in page stops
            # early), and one account's edits are never shown to the next.
            return (
                f"update_editor_{role}_{loaded['unit']}_{loaded['revision']}_{generation}"
                f"_{grid.key}_{account.username}"
            )

        if not tab.open and not frame.empty:
            # A closed tab runs only to list its page in 逐项填报's picker, unless its grid
            # holds an edit this run has not recorded yet (made just before the tab was
            # switched): then it runs whole, so the edit lands in the drafts.
            grid = _closed_grid_page(role, frame, kept)
            shown[role] = grid.rows
            pending = st.session_state.get(editor_key(grid)) or {}
            if not pending.get("edited_rows"):
                continue
        with tab:
            if frame.empty:
                st.caption("无")
                shown[role] = frame
                continue
            grid = _grid_page(role, frame, kept)
            shown[role] = grid.rows
            if grid.rows.empty:
                st.info("没有符合条件的任务。")
                continue
            edited = st.data_editor(
                editing.marked_drafts(editing.with_drafts(grid.rows, kept), kept),
                key=editor_key(grid),
                column_config=config,
                disabled=disabled,
                hide_index=True,
                num_rows="fixed",
                width="stretch",
                placeholder="",  # an empty date is an empty cell, not "None"
            )
            kept = editing.record_drafts(kept, grid.rows, edited)
    return kept, shown


def _kept_banner(banner, bench: views.Workbench, kept: dict, pending: int) -> bool:
    """Say what was kept from an earlier visit (in ``banner``, above the grids); whether the
    user asked to save it."""
    if not pending:
        st.session_state.pop(_RESTORED, None)  # what was kept is saved, discarded or undone
        return False
    if not st.session_state.get(_RESTORED):
        return False
    counts = {role: editing.draft_count(kept, bench.frame(role).index) for role in (LEAD, SUPPORT)}
    per_role = "、".join(f"{ROLE_LABELS[r]}任务 {n} 处" for r, n in counts.items() if n)
    with banner:
        safe.info(
            f"有 {pending} 处未保存的修改（{per_role}），是您上次离开本页时留下的，已为您保留在表中"
            "（表格上方「显示」选「有未保存修改的」可只看这些任务）。"
        )
        save_kept, drop_kept = st.columns(2)
        restored_save = save_kept.button("保存这些修改", type="primary", key="update_kept_save")
        drop_kept.button("放弃这些修改", key="update_kept_discard", on_click=_reload)
    return restored_save


def _detail_choice(shown: dict[str, pd.DataFrame]) -> int | None:
    """The task the detail panel shows: picked among the tasks on screen in the grids
    (sending every task of a large unit cost more than the grid); none at first."""
    labels = {
        **editing.picker_labels(shown[LEAD], LEAD),
        **editing.picker_labels(shown[SUPPORT], SUPPORT),
    }
    if not labels:
        return None
    if st.session_state.get("update_detail_task") not in labels:
        st.session_state.pop("update_detail_task", None)
    # Nothing chosen at first: the form and history are drawn only for a task asked for.
    return st.selectbox(
        "任务",
        list(labels),
        index=None,
        format_func=labels.__getitem__,
        placeholder="选择表中的一项任务，查看全文并填报",
        key="update_detail_task",
    )


def _detail_fields(account: Account, row: pd.Series, suffix: str) -> dict:
    """Inside the detail form: one widget per field, opened at the row's values; the values
    they hold, by field name."""
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
    # Typed as text and read strictly by the store (tracker.progress.parse_day): a browser
    # date box rolls a mistyped 2025-13-45 over into another day and saves that.
    due = right.text_input(
        PROGRESS_FIELDS["due_date"],
        value=editing.day_text(row[PROGRESS_FIELDS["due_date"]]),
        placeholder="如 2026-12-31",
        disabled=not account.supervises,
        help="按 年-月-日 填写，如 2026-12-31；留空为不设时限"
        if account.supervises
        else "完成时限由督办员设定",
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
    return {"status": status, "percent": percent, "due_date": due, **texts}


def _task_history(task_id: str) -> None:
    st.markdown("**该任务修改记录**")
    history = audit.history_table(data.history(task_id=task_id))
    if history.empty:
        st.caption("该任务尚无修改记录。")
    else:
        st.dataframe(history, hide_index=True, width="stretch", placeholder="—")


def _detail_form(
    account: Account, loaded: dict, shown: dict[str, pd.DataFrame], pending: int
) -> list | None:
    """One task in full, with a form for every field and its change history: the updates
    the form means once submitted (``None`` until then)."""
    aid = _detail_choice(shown)
    if aid is None:
        return None
    bench: views.Workbench = loaded["bench"]
    role = LEAD if aid in shown[LEAD].index else SUPPORT
    frame = bench.frame(role)
    row = frame.loc[aid]
    info = data.view(views.task_detail, loaded["unit"], aid, filtered=False)
    if info is not None:
        st.markdown(f"**{safe.plain(info.task_text)}**")
        safe.caption(
            f"{info.doc_no}《{info.policy_title}》　措施 {info.measure}：{info.measure_title}\n"
            f"本单位{info.role}；其他责任单位：{info.others}"
        )
    suffix = f"{aid}_{loaded['revision']}_{st.session_state.get(_GENERATION, 0)}"
    with st.form(f"update_detail_{suffix}", border=True):
        values = _detail_fields(account, row, suffix)
        if pending:
            st.caption(f"表格中有 {pending} 处未保存的修改：请先「保存修改」或「重新加载」。")
        submitted = st.form_submit_button(
            "保存本项", type="primary", disabled=bool(pending), key="update_detail_save"
        )
    st.markdown("**佐证文件**")
    evidence_ui.manager(data.get_store(), account, int(aid), loaded["unit"], key=f"update_{aid}")
    _task_history(row[editing.TASK_ID])
    if not submitted:
        return None
    edited = frame.loc[[aid]].copy()
    for name, value in values.items():
        edited.at[aid, PROGRESS_FIELDS[name]] = value
    return editing.changed_updates(frame, edited)


def _unit_trend(unit: str) -> None:
    """The unit's completion per period."""
    trend = data.unit_trend(unit)
    if trend.empty:
        st.caption("尚无填报记录。")
    else:
        st.dataframe(trend, hide_index=True, placeholder="—")


def _partners(bench: views.Workbench) -> None:
    """On the unit's lead tasks, every other unit's progress and note."""
    partners = bench.partners
    if not len(partners):
        st.caption("本单位没有牵头任务，或牵头任务没有配合单位。")
        return
    data.table(
        partners,
        key="update_partners",
        column_config={
            editing.TASK_TEXT: st.column_config.TextColumn(editing.TASK_TEXT, width="large"),
            editing.TASK_ID: None,
        },
    )
    data.download_csv(partners.full, "partner_progress.csv")


def _lower(account: Account, loaded: dict, shown: dict, pending: int, unit: str) -> None:
    """Under the grids, one tab of three: the detail panel for one task, the unit's
    completion per period, and its partners' progress on its lead tasks."""
    st.subheader("逐项填报与本单位记录", anchor=DETAIL_ANCHOR)
    # Lazy tabs: only the open one runs and is drawn.  The record's two tables (up to
    # 1,000 rows of task text) took a third of the page's first draw at 100,000 rows.
    detail_tab, trend_tab, partner_tab = st.tabs(LOWER_TABS, key=_LOWER, on_change="rerun")
    if detail_tab.open:
        with detail_tab:
            st.caption(
                "逐项查看任务全文、填写各项说明（适合手机或较长的说明）及其修改记录；保存后立即生效。"
            )
            detail_updates = _detail_form(account, loaded, shown, pending)
            if detail_updates is not None:
                _save(data.get_store(), account, detail_updates, loaded["bench"], form=True)
    if trend_tab.open:
        with trend_tab:
            _unit_trend(unit)
    if partner_tab.open:
        with partner_tab:
            _partners(loaded["bench"])


def main(account: Account) -> None:
    """The page, top to bottom: the unit, its two grids with the drafts kept, saving, then
    one tab of three: the detail panel for one task, the unit's record per period, and its
    partners' progress on its lead tasks."""
    st.title("进度填报")
    store = data.get_store()
    period = editing.current_period(data.today())
    st.caption(
        f"当前报告期：{period}（{PERIOD_KINDS[period_kind()]}）。表中为各任务当前填报值，"
        "只需修改有变化的单元格；「本期已更新」✓ 表示本期已填报。未保存的修改（任务前标 ✎）在离开本页后仍为您保留。"
    )
    unit = _pick_unit(account)
    if unit is None:
        return
    flash = st.session_state.get(_FLASH)  # kept: a rerun must not wipe what was refused
    if flash:
        _show_flash(flash)

    loaded = _pinned(store, unit, period)
    _refused_offer(unit)
    bench: views.Workbench = loaded["bench"]
    kept = {
        aid: draft
        for aid, draft in drafts.of(unit).items()
        if aid in bench.lead.index or aid in bench.support.index
    }
    banner = st.container()  # filled once this run's edits are counted
    # A phone shows the grid's first three columns only: say where the rest is.
    st.caption(
        "表格较宽：手机上请左右滑动查看其余各列，"
        f"或到下方 [逐项填报](#{DETAIL_ANCHOR}) 逐项查看任务全文并填写。"
    )
    kept, shown = _grids(account, loaded, kept)
    drafts.keep(unit, kept)
    pending = editing.draft_count(kept)
    st.session_state[_PENDING] = pending
    restored_save = _kept_banner(banner, bench, kept, pending)

    save_col, reload_col = st.columns(2)
    reload_col.button(
        "重新加载",
        key="update_reload",
        on_click=_reload,
        help="显示库中最新数据，放弃本页所有未保存的修改",
    )
    if save_col.button("保存修改", type="primary", key="update_save") or restored_save:
        updates = [
            *editing.draft_updates(bench.lead, kept),
            *editing.draft_updates(bench.support, kept),
        ]
        _save(store, account, updates, bench)

    _lower(account, loaded, shown, pending, unit)


account = auth.account()
main(account)
