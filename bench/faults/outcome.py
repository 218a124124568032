"""Outcomes and the report: what each attack tried and saw, and the verdict."""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

SHOWN_FAILURES = 12


@dataclass
class Outcome:
    """What one category tried on one backend, what happened, and every check that failed."""

    category: str
    backend: str
    tried: str = ""
    happened: str = ""
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    counts: Counter = field(default_factory=Counter)  # what was tried and seen, by name
    details: list[str] = field(default_factory=list)  # one line per trial or file (--verbose)

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def text(self, *, verbose: bool = False) -> str:
        lines = [
            f"{self.category} · {self.backend} · {self.seconds:.0f} s",
            f"  tried:    {self.tried}",
            f"  happened: {self.happened}",
        ]
        lines += [f"  FAILED:   {failure}" for failure in self.failures[:SHOWN_FAILURES]]
        if len(self.failures) > SHOWN_FAILURES:
            lines.append(f"  FAILED:   … and {len(self.failures) - SHOWN_FAILURES} more")
        if verbose:
            lines += [f"    {detail}" for detail in self.details]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


@dataclass
class Printed:
    text: str = ""


@contextmanager
def stderr_captured() -> Iterator[Printed]:
    """What native code writes to file descriptor 2 meanwhile (a Rust panic report goes
    there, past ``sys.stderr``)."""
    printed = Printed()
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield printed
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            printed.text = sink.read().decode("utf-8", errors="replace")


@contextmanager
def timed(outcome: Outcome) -> Iterator[Outcome]:
    """Time ``outcome``'s work; an unexpected exception in the suite itself is a failure too."""
    start = time.monotonic()
    try:
        yield outcome
    except Exception as exc:  # the suite must report, not die: this is a failed check
        outcome.fail(f"the check itself raised {exc.__class__.__name__}: {exc}")
        outcome.fail(traceback.format_exc(limit=4).replace("\n", " | ")[-600:])
    finally:
        outcome.seconds = time.monotonic() - start


def report(outcomes: Sequence[Outcome], *, header: str, verbose: bool = False) -> tuple[str, int]:
    """The printed report and the exit code: 0 with "nothing lost" only if every check passed."""
    lines = [header, ""]
    for outcome in outcomes:
        lines += [outcome.text(verbose=verbose), ""]
    failed = [o for o in outcomes if not o.ok]
    if outcomes and not failed:
        lines.append(
            "Result: nothing lost. Every acknowledged save is in the history exactly once and "
            "every row holds its last acknowledged write; no killed import was half-written "
            "and every rerun completed; every hostile file was refused with exit 2 and wrote "
            "nothing; fuzzing raised nothing but the project's own errors."
        )
        return "\n".join(lines), 0
    count = sum(len(o.failures) for o in failed)
    where = ", ".join(f"{o.category} · {o.backend}" for o in failed) or "nothing was run"
    lines.append(f"Result: FAILED, {count} failed check(s) in: {where}.")
    return "\n".join(lines), 1
