"""Unsaved edits on 进度填报, kept outside any widget: in the session and in the store.

A widget's state is dropped when its page is left, and Streamlit cannot stop the browser
from navigating; so the update page writes each edit here as it is made (as
``pagelogic.editing.Draft`` s, with the version every row was edited on) and draws its grid
from here when the user comes back, or turns to another page of the grid.  Closing or
reloading the tab ends the session itself, so every change of a unit's drafts is also
written to the store (``tracker.unsaved``, shared by every server), and a new session of
the same account starts from what is kept there.  The edits belong to the account that
made them: another account signed in on the same browser never sees them.  Other pages
can say that edits are waiting (:func:`notice`).
"""

from __future__ import annotations

import streamlit as st

from pagelogic.editing import Draft, decode_drafts, draft_count, encode_drafts
from tracker.unsaved import UnsavedEdits
from webui import auth, data, safe

_KEY = "update_drafts"  # {"user": username, "units": {unit: {assignment_id: Draft}}}
UPDATE_PAGE = "pages/update.py"


def _kept_in_store() -> UnsavedEdits:
    return UnsavedEdits(data.get_store())


def _units() -> dict[str, dict[int, Draft]]:
    account = auth.account()
    kept = st.session_state.get(_KEY)
    if not kept or kept["user"] != account.username:
        stored = _kept_in_store().load(user=account)
        units = {unit: decode_drafts(payload) for unit, payload in stored.items()}
        kept = {"user": account.username, "units": {u: d for u, d in units.items() if d}}
        st.session_state[_KEY] = kept
    units: dict[str, dict[int, Draft]] = kept["units"]
    return units


def of(unit: str) -> dict[int, Draft]:
    """The unsaved edits on ``unit``'s tasks, by assignment id (empty when none)."""
    return dict(_units().get(unit, {}))


def keep(unit: str, drafts: dict[int, Draft]) -> None:
    """Remember ``drafts`` as all of ``unit``'s unsaved edits (written to the store when
    they differ from what was kept)."""
    units = _units()
    if units.get(unit, {}) == drafts:
        return
    if drafts:
        units[unit] = dict(drafts)
    else:
        units.pop(unit, None)
    _kept_in_store().keep(unit, encode_drafts(drafts) if drafts else None, user=auth.account())


def discard(unit: str | None = None) -> None:
    """Forget the unsaved edits of ``unit`` (all units when ``None``)."""
    units = _units()
    if unit is None:
        units.clear()
        _kept_in_store().discard(user=auth.account())
    elif units.pop(unit, None) is not None:
        _kept_in_store().keep(unit, None, user=auth.account())


def waiting() -> dict[str, int]:
    """unit -> how many unsaved cell edits it has, for units that have any."""
    return {unit: draft_count(drafts) for unit, drafts in _units().items() if drafts}


def notice() -> None:
    """A sidebar note with a link back when 进度填报 holds unsaved edits; for the other
    pages (``dashboard.py`` calls it unless the update page is the one running)."""
    pending = waiting()
    if not pending:
        return
    units = "、".join(pending)
    st.sidebar.warning(
        safe.plain(f"进度填报中「{units}」有 {sum(pending.values())} 处未保存的修改，已为您保留。"),
        icon=":material/edit_note:",
    )
    st.sidebar.page_link(UPDATE_PAGE, label="回到进度填报保存", icon=":material/edit:")
