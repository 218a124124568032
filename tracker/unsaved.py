"""Unsaved 进度填报 edits kept in the store, per account and unit (``unsaved_edits``).

Closing or reloading a tab ends its Streamlit session, and servers behind one database
share nothing else, so the grid's unsaved edits are written here as they are made and a
new session of the same account, on any server, offers them back.  They are not progress:
the payload is opaque JSON to this module (``pagelogic.editing`` encodes the drafts), no
history row is written and the data revision does not move (no cache is invalidated by
typing).  Only the account itself reads or writes its rows, and only for units it may
report for, checked against the account as stored.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from tracker.accounts import Account
from tracker.errors import PermissionDenied
from tracker.models import UnsavedEdit
from tracker.progress import now
from tracker.store import Store


class UnsavedEdits:
    """The ``unsaved_edits`` table over a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    def _checked(self, conn, user: Account, unit: str | None = None) -> Account:
        if not isinstance(user, Account):
            raise PermissionDenied("请先登录")
        account = self.store.accounts.current(conn, user.username)
        if unit is not None and not account.may_edit_unit(unit):
            raise PermissionDenied(f"账号 {account.username} 不能填报「{unit}」的任务")
        return account

    def load(self, *, user: Account) -> dict[str, str]:
        """unit -> payload of the account's kept edits, for the units it may still report
        for (a unit taken away since is left out)."""
        with self.engine.connect() as conn:
            account = self._checked(conn, user)
            rows = conn.execute(
                select(UnsavedEdit.unit, UnsavedEdit.payload)
                .where(UnsavedEdit.username == account.username)
                .order_by(UnsavedEdit.unit)
            ).all()
        return {unit: payload for unit, payload in rows if account.may_edit_unit(unit)}

    def keep(self, unit: str, payload: str | None, *, user: Account) -> None:
        """Store ``payload`` as the account's unsaved edits on ``unit``; ``None`` (or "")
        forgets them (saved, discarded or undone)."""
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            account = self._checked(conn, user, unit if payload else None)
            mine = (UnsavedEdit.username == account.username) & (UnsavedEdit.unit == unit)
            if not payload:
                conn.execute(delete(UnsavedEdit).where(mine))
                return
            values = {
                "username": account.username,
                "unit": unit,
                "payload": payload,
                "updated_at": now(),
            }
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            conn.execute(
                dialect.insert(UnsavedEdit)
                .values(values)
                .on_conflict_do_update(
                    index_elements=["username", "unit"],
                    set_={"payload": payload, "updated_at": values["updated_at"]},
                )
            )

    def discard(self, *, user: Account) -> None:
        """Forget every unsaved edit of the account."""
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            account = self._checked(conn, user)
            conn.execute(delete(UnsavedEdit).where(UnsavedEdit.username == account.username))
