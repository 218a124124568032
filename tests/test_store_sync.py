"""Syncing the store from measures.csv happens in one place, ``loaders.store_sync``, with
one digest: a start with an unchanged file does nothing, a revision that only
adds tasks applies at once, and one that moves or archives progress waits for a person."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders.measures_csv import to_csv_bytes
from loaders.store_sync import (
    file_digest,
    open_store,
    pending_revision,
    sync_measures_file,
)
from tests.factories import side_by_side, signed_in
from tracker.errors import PermissionDenied


@pytest.fixture
def csv(tmp_path, small_measures) -> Path:
    path = tmp_path / "measures.csv"
    path.write_bytes(to_csv_bytes(small_measures))
    return path


def test_a_start_with_an_unchanged_file_does_nothing(db_url, csv):
    store = open_store(db_url, csv)
    assert store.content_digest() == file_digest(csv.read_bytes())
    revision = store.revision()
    again = open_store(db_url, csv)
    assert again.revision() == revision and pending_revision(again, csv) is None
    store.engine.dispose()
    again.engine.dispose()


def test_a_start_adds_new_tasks_but_waits_for_a_revision_that_archives(db_url, csv, small_measures):
    store = open_store(db_url, csv)
    csv.write_bytes(to_csv_bytes(small_measures[small_measures.measure_no == 1]))
    outcome = sync_measures_file(store, csv)
    assert outcome.waiting and outcome.plan.summary().startswith("新增 0 项，删除（归档） 1 项")
    assert len(store.assignments()) == 6  # nothing written
    with pytest.raises(PermissionDenied):
        sync_measures_file(store, csv, confirm=True)
    done = sync_measures_file(store, csv, user=signed_in(store), confirm=True)
    assert done.report.archived_tasks == 1 and pending_revision(store, csv) is None
    store.engine.dispose()


def test_a_file_rewritten_in_place_is_read_again(db_url, csv, small_measures):
    """The digest is remembered by the file's inode, size and modification time: a write
    of the same size, with its time set back to the old one's second, still moves
    ``st_mtime_ns``; and a file moved into place has another inode."""
    import os

    store = open_store(db_url, csv)
    assert pending_revision(store, csv) is None
    before = csv.stat()
    text = csv.read_text(encoding="utf-8")
    first_task = small_measures.iloc[0]["task_text"]
    swapped = text.replace(first_task, first_task[::-1], 1)
    assert len(swapped.encode()) == before.st_size and swapped != text
    csv.write_text(swapped, encoding="utf-8")
    os.utime(csv, ns=(before.st_atime_ns, before.st_mtime_ns + 1))
    assert pending_revision(store, csv) is not None
    moved = csv.with_suffix(".new")
    moved.write_text(text, encoding="utf-8")
    os.utime(moved, ns=(before.st_atime_ns, before.st_mtime_ns + 1))
    moved.replace(csv)  # same size and time as the rewrite above, another inode
    assert pending_revision(store, csv) is None
    store.engine.dispose()


def test_servers_starting_side_by_side_all_come_up(db_url, csv):
    """Each start plans outside the write lock and writes under it: the first seeds the
    store, the others find it seeded; none fails and nothing is doubled."""
    from tracker.store import Store, make_engine

    store = Store(make_engine(db_url))
    store.create_schema()
    assert side_by_side(4, lambda: open_store(db_url, csv).engine.dispose()) == []
    assert len(store.assignments()) == 6
    store.engine.dispose()


def test_a_first_start_creates_and_seeds_the_file_but_store_open_only_opens(
    tmp_path, csv, monkeypatch
):
    """The app's first start on a fresh machine (README): ``open_store`` with no path reads
    TRACKER_MEASURES_CSV; ``Store.open`` creates the tables and reads no file."""
    from tracker.store import Store

    monkeypatch.setenv("TRACKER_MEASURES_CSV", str(csv))
    seeded_file = tmp_path / "first.db"
    seeded = open_store(f"sqlite:///{seeded_file}")
    assert seeded_file.exists() and len(seeded.assignments()) == 6
    assert seeded.content_digest() == file_digest(csv.read_bytes())
    seeded.engine.dispose()

    opened = Store.open(f"sqlite:///{tmp_path / 'bare.db'}")
    assert opened.content_digest() is None and opened.assignments().empty
    assert opened.revision() == 0
    opened.engine.dispose()
