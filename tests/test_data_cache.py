"""webui/data.py keeps each page's view and supervision read per data revision and day, and
lets go of those of an older revision or day once a run reads a newer one: they are never
asked for again, and at 100,000 assignments each round of pages after a save held about
70 MB more (see README › Performance, fourth round)."""

from __future__ import annotations

import gc
import weakref
from datetime import timedelta

from tests.factories import staff
from tracker.progress import Update
from tracker.schema import SOURCE_WEB
from tracker.store import Store, make_engine


class Built:
    """Something a view builder returned, that a weak reference can watch."""

    def __init__(self, rows: int) -> None:
        self.rows = rows


def _page_view(rows, today):
    return Built(len(rows))


def _supervision_read(supervision, rows, today):
    return Built(len(rows))


def _gone(ref: weakref.ref) -> bool:
    gc.collect()
    return ref() is None


def _save_a_note(url: str) -> None:
    store = Store(make_engine(url))
    row = store.assignments().iloc[0]
    account = staff(store, row["unit"])
    store.apply(
        [Update(int(row["assignment_id"]), int(row["version"]), {"note": "新进展"})],
        user=account,
        source=SOURCE_WEB,
    )
    store.engine.dispose()


def test_views_of_an_older_revision_are_let_go_after_a_save(app_env_of, small_measures) -> None:
    from webui import data

    url = app_env_of(small_measures)
    view = data.view(_page_view, filtered=False)
    read = data.supervised(_supervision_read)
    assert data.view(_page_view, filtered=False) is view  # kept while nothing changed
    assert data.supervised(_supervision_read) is read
    old_view, old_read = weakref.ref(view), weakref.ref(read)
    del view, read

    _save_a_note(url)
    assert not _gone(old_view)  # nobody has read the new revision yet
    view = data.view(_page_view, filtered=False)
    assert view is not old_view() and view.rows == len(small_measures)
    assert _gone(old_view)
    assert data.supervised(_supervision_read).rows == len(small_measures)
    assert _gone(old_read)
    assert data.view(_page_view, filtered=False) is view  # the new one is kept


def test_views_of_yesterday_are_let_go_on_a_new_day(
    app_env_of, small_measures, monkeypatch
) -> None:
    from webui import data

    app_env_of(small_measures)
    today = data.today()
    old_view = weakref.ref(data.view(_page_view, filtered=False))
    assert not _gone(old_view)
    monkeypatch.setattr(data, "today", lambda: today + timedelta(days=1))
    data.view(_page_view, filtered=False)
    assert _gone(old_view)
