"""``data/measures.csv`` -> the store: the one place that syncs the database from the file.

The content is identified by one digest, the SHA-256 of the file's bytes: a start with an
unchanged file costs a hash, and ``python -m loaders sync`` records the same digest, so the
next start does nothing.  A revision that only adds tasks is applied at once; one that
moves, rewords or archives stored tasks (and so their progress) waits: the 政策库 page and
``python -m loaders sync`` show its plan, and a 督办员 or admin confirms it.

>>> store = open_store("sqlite://")                   # doctest: +SKIP
>>> outcome = sync_measures_file(store)               # doctest: +SKIP
>>> outcome.waiting                                   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from loaders.measures_csv import read_measures
from loaders.units import members_path, read_members, read_units
from tracker import config, sources
from tracker.accounts import Account
from tracker.errors import ConflictError
from tracker.events import log_event
from tracker.members import register_members
from tracker.revisions import RevisionPlan
from tracker.store import Store, SyncReport, make_engine


def measures_path(path: str | os.PathLike | None = None) -> Path:
    """``path``, else ``TRACKER_MEASURES_CSV``, else data/measures.csv."""
    return Path(path or str(config.value("TRACKER_MEASURES_CSV")))


def file_digest(data: bytes) -> str:
    """The content digest of a measures file: SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Pending:
    """The measures table the store is not yet synced to, and what syncing it would do."""

    frame: pd.DataFrame
    plan: RevisionPlan
    file: str


@dataclass(frozen=True)
class SyncOutcome:
    """``plan`` is None when the store was already in line; ``report`` is None when the
    plan waits for confirmation (nothing was written)."""

    plan: RevisionPlan | None
    report: SyncReport | None

    @property
    def waiting(self) -> bool:
        return self.plan is not None and self.report is None


# (path, inode, size, mtime) -> digest of the last measures file read: 政策库 asks on every
# run whether the file is in line, and hashing 100,000 rows' file took 0.1 s of each.
_DIGESTS: dict[tuple[str, int, int, int], str] = {}


def _stat_key(file: Path) -> tuple[str, int, int, int]:
    stat = file.stat()
    return (str(file.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _digest(file: Path) -> str:
    """The file's digest, hashed again whenever its inode, size or modification time moved
    (a write, or a file moved into place)."""
    key = _stat_key(file)
    if key not in _DIGESTS:
        digest = file_digest(file.read_bytes())
        if _stat_key(file) != key:  # rewritten while it was read: not remembered
            return digest
        _DIGESTS.clear()
        _DIGESTS[key] = digest
    return _DIGESTS[key]


def pending_revision(store: Store, path: str | os.PathLike | None = None) -> Pending | None:
    """What the measures file would change in the store, or None when it is in line."""
    file = measures_path(path)
    digest = _digest(file)
    if store.content_digest() == digest or _behind_database(store, digest):
        return None  # in line, or a file another server's publish has overtaken
    data = file.read_bytes()  # the plan is made of these bytes: their own digest
    frame = read_measures(data, name=str(file))
    return Pending(frame, store.plan_sync(frame, digest=file_digest(data)), str(file))


def sync_measures_file(
    store: Store,
    path: str | os.PathLike | None = None,
    *,
    user: Account | None = None,
    confirm: bool = False,
    source: str | None = None,
) -> SyncOutcome:
    """Sync the store from the measures file: at once when the revision only adds tasks,
    else only with ``confirm=True`` and a supervising ``user``.

    Servers starting side by side may sync between this one's plan and its write: an
    unconfirmed sync then simply looks again (a confirmed plan is never swapped for one
    nobody saw: that raises ConflictError)."""
    for _ in range(3):
        pending = pending_revision(store, path)
        if pending is None:
            return SyncOutcome(None, SyncReport())
        if pending.plan.needs_confirmation and not confirm:
            return SyncOutcome(pending.plan, None)
        try:
            return apply_pending(store, pending, user=user, source=source)
        except ConflictError:
            if confirm:
                raise
    raise ConflictError("数据库正被其他进程反复同步，请稍后重试")


def apply_pending(
    store: Store, pending: Pending, *, user: Account | None, source: str | None = None
) -> SyncOutcome:
    """Apply a plan the user has seen (refused if the store was synced since)."""
    source = source or f"measures.csv {pending.plan.digest[:12]}"
    report = store.sync(pending.frame, plan=pending.plan, user=user, source=source)
    return SyncOutcome(pending.plan, report)


def open_store(url: str | None = None, path: str | os.PathLike | None = None) -> Store:
    """Open the store (creating or migrating its tables) and sync it from the measures file
    as far as that needs no confirmation: what the app and the CLI do on start."""
    store = Store(make_engine(url))
    store.create_schema()
    load_members(store)
    file = measures_path(path)
    digest = _digest(file) if file.is_file() else None  # sync_measures_file asks again
    if digest is not None:
        sync_measures_file(store, path)
    texts = _folder_texts()
    if not sources.has_sources(store) and digest == store.content_digest():
        # The store holds the file's content, so its live policies are the file's.
        policy_ids = {sources.policy_id_of(name) for name, _ in texts}
        if policy_ids == store.policy_ids():
            units = Path(str(config.value("TRACKER_UNITS_CSV")))
            sources.seed(store, texts, units.read_bytes() if units.is_file() else None)
    for problem in sources.disagreements(store, texts, digest):
        log_event("startup_disagreement", None, detail=problem)
    return store


def load_members(store: Store) -> None:
    """Give the store the members of collective units (``data/unit_members.csv`` beside
    ``TRACKER_UNITS_CSV``) and expand their rows; nothing when either file is missing."""
    units_file = Path(str(config.value("TRACKER_UNITS_CSV")))
    file = members_path(units_file)
    if not units_file.is_file() or not file.is_file():
        return
    registry = read_units(units_file.read_bytes(), name=str(units_file))
    members = read_members(file.read_bytes(), registry, name=str(file))
    infos = {u: (registry.resolve(u).full_name, registry.resolve(u).kind) for u in registry.names()}
    report = register_members(store, members, infos)
    if report.changed:
        log_event("members_expanded", None, added=report.added, archived=report.archived)


def _behind_database(store: Store, digest: str) -> bool:
    """A measures file the database has already moved past (another server published
    since): syncing from it would undo that publish, so start-up reports it instead."""
    return digest != store.content_digest() and digest in sources.known_digests(store)


def _folder_texts() -> list[tuple[str, bytes]]:
    """``(name, bytes)`` of the policy texts in ``TRACKER_SOURCES_DIR`` (none: empty)."""
    folder = Path(str(config.value("TRACKER_SOURCES_DIR")))
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".md", ".txt")]
    return [(p.name, p.read_bytes()) for p in sorted(files)]
