"""gc_paused turns the cyclic collector off for a bulk step and back on after the last
step sharing the pause, never on if it was off before."""

from __future__ import annotations

import gc
import threading

from tracker.gc_pause import gc_paused


def test_the_collector_is_off_inside_and_on_after() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer step still runs
    assert gc.isenabled()


def test_an_error_inside_still_resumes_the_collector() -> None:
    try:
        with gc_paused():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()


def test_a_collector_turned_off_elsewhere_stays_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_steps_in_two_threads_share_one_pause() -> None:
    entered, leave = threading.Event(), threading.Event()

    def other_step() -> None:
        with gc_paused():
            entered.set()
            leave.wait(5)

    thread = threading.Thread(target=other_step)
    with gc_paused():
        thread.start()
        assert entered.wait(5)
    assert not gc.isenabled()  # the other thread's step is still running
    leave.set()
    thread.join(5)
    assert gc.isenabled()


@gc_paused()
def _decorated() -> bool:
    return gc.isenabled()


def test_it_decorates_a_function() -> None:
    assert _decorated() is False and gc.isenabled()
