"""The whole suite: every attack on every backend with a budget, and the command line."""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.faults.databases import BACKENDS, fresh_database, postgres_problem
from bench.faults.fuzzing import fuzz_importer, fuzz_policy_texts
from bench.faults.hostile import hostile_files
from bench.faults.hostile_policies import hostile_policies
from bench.faults.kill import kill_mid_import
from bench.faults.outcome import Outcome, report
from bench.faults.writers import concurrent_writers

DESCRIPTION = (
    "Fault suite: try hard to lose an update or take the importer down, then say what happened."
)


@dataclass(frozen=True)
class Budget:
    """How much of each attack one run makes."""

    writers: int
    saves: int
    shared_rows: int
    kill_assignments: int
    kill_trials: int
    kill_aims: tuple[str, ...]
    hostile: tuple[str, ...] | None  # file names of the corpus to use; None: all of it
    policies: tuple[str, ...] | None  # hostile policy files to use; None: all of them
    fuzz_texts: int
    fuzz_workbooks: int


FULL = Budget(
    writers=4,
    saves=150,
    shared_rows=8,
    kill_assignments=12_000,
    kill_trials=8,
    kill_aims=("in-write", "at random"),
    hostile=None,
    policies=None,
    fuzz_texts=2_000,
    fuzz_workbooks=150,
)
# What CI runs (tests/test_faults.py): a few trials per category, a bounded hypothesis budget.
QUICK = Budget(
    writers=3,
    saves=30,
    shared_rows=6,
    kill_assignments=2_000,
    kill_trials=2,
    kill_aims=("in-write",),
    hostile=(
        "xfd1048576.xlsx",
        "zip-bomb.xlsx",
        "duplicate-member.xlsx",
        "shared-strings.xlsx",
        "formulas.xlsx",
        "csv.xlsx",
        "lying-unread.xlsx",
    ),
    policies=("empty-paragraphs.docx", "slow-text.txt"),
    fuzz_texts=150,
    fuzz_workbooks=12,
)


def run_suite(budget: Budget, backends: Sequence[str], seed: int, folder: Path) -> list[Outcome]:
    """Every category on every backend, each on a fresh database; each outcome goes to
    stderr as it comes, so a long run shows where it is."""
    outcomes: list[Outcome] = []

    def done(outcome: Outcome) -> None:
        outcomes.append(outcome)
        print(outcome, end="\n\n", file=sys.stderr, flush=True)

    for backend in backends:
        if backend == "postgresql" and (reason := postgres_problem()):
            done(Outcome("all categories", backend, "nothing", "not run", [reason]))
            continue
        runs: list[Callable[[str, Path], Outcome]] = [
            lambda url, _f: concurrent_writers(
                url,
                workers=budget.writers,
                saves=budget.saves,
                rows=budget.shared_rows,
                seed=seed,
            ),
            lambda url, f: kill_mid_import(
                url,
                f,
                assignments=budget.kill_assignments,
                trials=budget.kill_trials,
                aims=budget.kill_aims,
                seed=seed,
            ),
            lambda url, f: hostile_files(url, f, only=budget.hostile),
            lambda url, f: hostile_policies(url, f, only=budget.policies),
            lambda url, f: fuzz_importer(url, f, examples=budget.fuzz_workbooks, seed=seed),
        ]
        for run in runs:
            part = folder / uuid.uuid4().hex[:8]
            part.mkdir()
            with fresh_database(backend, part) as url:
                done(run(url, part))
    done(fuzz_policy_texts(examples=budget.fuzz_texts, seed=seed))
    return outcomes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=DESCRIPTION)
    parser.add_argument("--quick", action="store_true", help="the small budget CI runs")
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help="comma-separated: sqlite, postgresql (default both; PostgreSQL at TEST_DATABASE_URL)",
    )
    parser.add_argument("--seed", type=int, help="random seed (default: a new one, printed)")
    parser.add_argument(
        "--verbose", action="store_true", help="one line per kill trial and per hostile file"
    )
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    budget = QUICK if args.quick else FULL
    header = (
        f"Fault suite ({'quick' if args.quick else 'full'} run), backends: "
        f"{', '.join(backends)}, seed {seed} (`python -m bench.faults"
        f"{' --quick' if args.quick else ''} --seed {seed}` repeats it)"
    )
    print(header, end="\n\n", file=sys.stderr, flush=True)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        outcomes = run_suite(budget, backends, seed, Path(tmp))
    text_, code = report(
        outcomes,
        header=f"{header}; {time.monotonic() - start:.0f} s in all",
        verbose=args.verbose,
    )
    print(text_)
    return code


if __name__ == "__main__":
    sys.exit(main())
