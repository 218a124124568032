"""Hostile files: broken and foreign workbooks fed to ``python -m loaders import`` must each
exit 2 naming the file, with no traceback, reader panic or crash, and write nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench.faults.cli_run import EXIT_BAD_INPUT, PANIC, RUN_TIMEOUT, ImportRun, run_import
from bench.faults.databases import backend_of, fingerprint, seed_store
from bench.faults.hostile_corpus import hostile_corpus
from bench.faults.outcome import Outcome, timed
from bench.generate import synthetic_measures
from excel.template import build_template
from tracker.schema import SUPERVISOR


def hostile_files(
    url: str, folder: Path, *, only: Sequence[str] | None = None, assignments: int = 200
) -> Outcome:
    """Feed every file of :func:`hostile_corpus` (or those named in ``only``) to the CLI
    import in its own subprocess: each must exit 2, name the file, print no traceback, and
    leave the database as it was."""
    outcome = Outcome("hostile files", backend_of(url))
    with timed(outcome):
        store, csv = seed_store(url, synthetic_measures(assignments, units=6, seed=1), folder)
        user = "faults-hostile"
        store.accounts.add(user, role=SUPERVISOR, password=None)
        frame = store.assignments()
        template = build_template(frame, frame["unit"].value_counts().index[0])
        corpus = hostile_corpus(template)
        if only is not None:
            for name in sorted(set(only) - {c[1] for c in corpus}):
                outcome.fail(f"no hostile file named {name}")
            corpus = [c for c in corpus if c[1] in only]
        before = fingerprint(store.engine)
        endings: Counter[str] = Counter()
        costs: list[tuple[float, float, str]] = []
        for what, name, build in corpus:
            file = folder / name
            file.write_bytes(build())
            run = run_import(url, csv, file, user)
            file.unlink()
            _judge(outcome, endings, what, name, run)
            costs.append((run.cpu_seconds, run.peak_mb, name))
            after = fingerprint(store.engine)
            if after != before:
                endings["wrote"] += 1
                outcome.fail(f"{what} ({name}): wrote to the database ({before} -> {after})")
                before = after
        store.engine.dispose()
        _summarise(outcome, corpus, endings, costs)
    return outcome


def _judge(outcome: Outcome, endings: Counter, what: str, name: str, run: ImportRun) -> None:
    """How one hostile file's import ended, counted in ``endings``; every way it is not
    "exit 2, naming the file, no traceback, no panic" is a failure of ``outcome``."""
    said = run.output
    if run.returncode is None:
        endings["hung"] += 1
        outcome.fail(f"{what} ({name}): still running after {RUN_TIMEOUT} s")
    elif run.returncode < 0 or run.returncode >= 128:  # a signal: abort, segfault
        endings["crashed"] += 1
        outcome.fail(f"{what} ({name}): the process died (exit {run.returncode})")
    elif run.returncode != EXIT_BAD_INPUT:
        endings[f"exit {run.returncode}"] += 1
        outcome.fail(f"{what} ({name}): exit {run.returncode}, expected 2: {said[-200:]!r}")
    else:
        endings["exit 2"] += 1
    last = said.strip().splitlines()[-1] if said.strip() else ""
    outcome.details.append(
        f"{name}: exit {run.returncode}, {run.cpu_seconds:.1f} s CPU, "
        f"{run.peak_mb:,.0f} MB: {last[:150]}"
    )
    if "Traceback" in said:
        endings["traceback"] += 1
        outcome.fail(f"{what} ({name}): printed a traceback: {said[-300:]!r}")
    if PANIC in said:  # caught, but the reader's panic report reached the user
        endings["panic"] += 1
        at = said.index(PANIC)
        outcome.fail(
            f"{what} ({name}): exit {run.returncode}, but printed the reader's panic "
            f"first: {said[max(0, at - 40) : at + 120]!r}"
        )
    if name not in said:
        outcome.fail(f"{what} ({name}): the message does not name the file: {said[-200:]!r}")


def _summarise(
    outcome: Outcome, corpus: list, endings: Counter, costs: list[tuple[float, float, str]]
) -> None:
    """What was fed and how each ending came out, in ``outcome``'s words and counts."""
    outcome.counts = endings
    outcome.tried = f"{len(corpus)} hostile files through `python -m loaders import`: " + (
        "; ".join(what for what, _n, _b in corpus[:8])
        + (f"; and {len(corpus) - 8} more" if len(corpus) > 8 else "")
    )
    outcome.happened = (
        f"{endings['exit 2']} exited 2 naming the file, {endings['crashed']} crashed, "
        f"{endings['hung']} hung, {endings['traceback']} printed a traceback, "
        f"{endings['panic']} printed a reader panic, "
        f"{sum(v for k, v in endings.items() if k.startswith('exit ') and k != 'exit 2')} "
        "other exit codes; "
        + (f"{endings['wrote']} wrote to the database" if endings["wrote"] else "nothing written")
    )
    if costs:
        cpu, _mb, slowest = max(costs)
        _cpu, mb, biggest = max(costs, key=lambda c: c[1])
        outcome.happened += (
            f"; the costliest: {slowest} ({cpu:.1f} s CPU), {biggest} ({mb:,.0f} MB resident)"
        )
