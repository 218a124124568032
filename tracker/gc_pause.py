"""Pausing Python's cyclic garbage collector for one bulk step (an import, a batch save,
building the measures table from policy texts).

An import builds hundreds of thousands of small objects that live to its end (the sheet's
rows, the parsed rows, updates, the rows read back, the plan).  Each time enough of them
survive, CPython walks every tracked object of the process, the server's own included, to
look for reference cycles: measured on a 20,000-row import, a third of the dry run's time
went to those walks, which find nothing (no cycle is made there; reference counting frees
everything).  Inside :func:`gc_paused` the collector does not run; memory is still freed
by reference counting, and the first collection after it sees what was left.  Building
the table from 1,000 policies (their lines, measures, tasks and 72,000 rows) is the same
kind of step (``loaders.measures_csv.build_measures``).

Steps in several threads share one pause: the collector runs again when the last leaves,
and stays off if something else had turned it off before.

>>> with gc_paused():
...     rows = [[n] for n in range(100_000)]
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_inside = 0  # steps in a pause now
_resume = False  # whether the collector was on when the pause began


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection until the block (and any other pause) ends."""
    global _inside, _resume
    with _lock:
        if _inside == 0:
            _resume = gc.isenabled()
            gc.disable()
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _resume:
                gc.enable()
