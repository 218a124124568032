"""Published policy sources in the database, and publishing as one transaction.

Every server reads the sources from the ``policy_sources`` table (bytes and SHA-256), so a
policy published on one server is the same policy on every other; ``data/sources/`` holds
the seeds the first start copies in, and an export (``python -m loaders sources export``).

A publish writes the text (and the uploaded original), retires the edition it replaces,
stores the unit register, and syncs tasks, assignments and the revision plan in the one
transaction of :meth:`Store.sync`: it commits or leaves nothing.  The files written after
it are a mirror; if they lag (a kill between the commit and the files), start-up reports
the difference (:func:`disagreements`) and the database still wins.

>>> publish(store, account, measures, plan, PublishedText("2025-01-01_x.txt", b"...")) # doctest: +SKIP
>>> stored_texts(store)                                                     # doctest: +SKIP
[('2025-01-01_x.txt', b'...')]
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

import pandas as pd
from sqlalchemy import Connection, delete, insert, select, update

from tracker.accounts import Account
from tracker.errors import ConflictError, PermissionDenied
from tracker.events import log_event
from tracker.models import PolicySource, StoreMeta
from tracker.progress import now
from tracker.revisions import RevisionPlan
from tracker.store import Store, SyncReport

UNITS_KEY = "units_csv"


def policy_id_of(file_name: str) -> str:
    """``2025-11-01_hufubanfa-2025-11.txt`` -> ``hufubanfa-2025-11`` (the date prefix off)."""
    stem = PurePath(file_name).stem
    return stem.split("_", 1)[1] if "_" in stem else stem


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class PublishedText:
    """One policy's text as published, and the uploaded original it came from (if any)."""

    file_name: str
    content: bytes
    original_name: str = ""
    original: bytes | None = None


def has_sources(store: Store) -> bool:
    with store.engine.connect() as conn:
        return conn.scalar(select(PolicySource.source_id).limit(1)) is not None


def stored_texts(store: Store) -> list[tuple[str, bytes]]:
    """``(file name, bytes)`` of every policy text in force, sorted by name (= by date)."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(PolicySource.file_name, PolicySource.content).where(PolicySource.active)
        ).all()
    return sorted((name, bytes(content)) for name, content in rows)


def stored_originals(store: Store) -> list[tuple[str, bytes]]:
    """``(export name, bytes)`` of the uploaded PDF/DOCX originals of the texts in force."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(PolicySource.file_name, PolicySource.original_name, PolicySource.original)
            .where(PolicySource.active)
            .where(PolicySource.original.is_not(None))
        ).all()
    return sorted(
        (f"{PurePath(name).stem}{PurePath(original_name).suffix.lower()}", bytes(original))
        for name, original_name, original in rows
        if original is not None
    )


def stored_units(store: Store) -> bytes | None:
    """The unit register as last published (CSV bytes), or None before any publish."""
    with store.engine.connect() as conn:
        value = conn.scalar(select(StoreMeta.value).where(StoreMeta.key == UNITS_KEY))
    return None if value is None else value.encode("utf-8")


def known_digests(store: Store) -> set[str]:
    """Every measures digest the database has held since its sources were first stored."""
    with store.engine.connect() as conn:
        return set(conn.scalars(select(PolicySource.measures_digest).distinct()))


def _insert(conn: Connection, text: PublishedText, digest: str, by: str) -> None:
    conn.execute(
        insert(PolicySource).values(
            policy_id=policy_id_of(text.file_name),
            file_name=text.file_name,
            content=text.content,
            sha256=sha256(text.content),
            original_name=text.original_name,
            original=text.original,
            measures_digest=digest,
            active=True,
            published_by=by,
            published_at=now(),
        )
    )


def _store_units(conn: Connection, units: bytes) -> None:
    conn.execute(delete(StoreMeta).where(StoreMeta.key == UNITS_KEY))
    conn.execute(insert(StoreMeta).values(key=UNITS_KEY, value=units.decode("utf-8")))


def seed(store: Store, texts: list[tuple[str, bytes]], units: bytes | None) -> bool:
    """Copy the seeds (``data/sources``) in when the table is empty and the store is synced
    (to the measures built from them); True if copied.  Concurrent first starts copy once."""
    digest = store.content_digest()
    if digest is None or not texts:
        return False
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        store._lock_revision(conn)
        if conn.scalar(select(PolicySource.source_id).limit(1)) is not None:
            return False
        for name, content in texts:
            _insert(conn, PublishedText(name, content), digest, "")
        if units is not None:
            _store_units(conn, units)
    log_event("sources_seeded", None, files=len(texts))
    return True


def publish(
    store: Store,
    account: Account,
    measures: pd.DataFrame,
    plan: RevisionPlan,
    text: PublishedText,
    *,
    units: bytes | None = None,
    others: Sequence[tuple[str, bytes]] = (),
    source: str = "",
) -> SyncReport:
    """Publish ``text`` (retiring the edition of the same policy id in force) together with
    the tasks and assignments of ``measures`` under the confirmed ``plan``: one transaction.

    Refused (ConflictError, nothing written) when the store was synced or published since
    the plan was made - also by a simultaneous publish of the very same text - and
    (PermissionDenied) when ``account`` is not a 督办员/admin as stored now.  ``others``
    are the texts in force beside it, stored too while the table is still empty (a
    database first synced from files, without the seeds copied in).
    """
    policy_id = policy_id_of(text.file_name)
    written: list[bool] = []

    def sources_step(conn: Connection) -> None:
        if conn.scalar(select(PolicySource.source_id).limit(1)) is None:
            for name, content in others:
                _insert(conn, PublishedText(name, content), plan.base or "", "")
        conn.execute(
            update(PolicySource)
            .where(PolicySource.policy_id == policy_id, PolicySource.active)
            .values(active=False)
        )
        _insert(conn, text, plan.digest, account.username)
        if units is not None:
            _store_units(conn, units)
        written.append(True)

    if not store.accounts.account(account.username).supervises:
        raise PermissionDenied(f"账号 {account.username} 无权发布政策（需督办员或管理员）")
    report = store.sync(measures, plan=plan, user=account, source=source, within=sources_step)
    if not written:  # the same content was published by someone else a moment ago
        raise ConflictError(f"政策 {policy_id} 的同一文本刚由他人发布，本次未写入；请刷新后查看")
    log_event("publish", account.username, policy=policy_id, sha256=sha256(text.content)[:12])
    return report


def disagreements(
    store: Store, files: list[tuple[str, bytes]], measures_file_digest: str | None
) -> list[str]:
    """Where the files (``data/sources`` and ``measures.csv``) differ from the database:
    one sentence each, empty when they agree or the database holds no sources yet."""
    if not has_sources(store):
        return []
    stored = {name: sha256(content) for name, content in stored_texts(store)}
    on_disk = {name: sha256(content) for name, content in files}
    found = [f"数据库中的政策原文 {n} 不在文件夹中" for n in sorted(stored.keys() - on_disk.keys())]
    found += [f"文件夹中的 {n} 不在数据库中" for n in sorted(on_disk.keys() - stored.keys())]
    found += [
        f"{n} 与数据库中的内容不同"
        for n in sorted(stored.keys() & on_disk.keys())
        if stored[n] != on_disk[n]
    ]
    current = store.content_digest()
    if measures_file_digest is not None and measures_file_digest != current:
        behind = measures_file_digest in known_digests(store)
        found.append(
            "measures.csv 落后于数据库（导出可对齐：python -m loaders sources export）"
            if behind
            else "measures.csv 与数据库不一致"
        )
    return found
