"""Fault suite: try hard to lose an update or take the importer down, then say what happened.

``python -m bench.faults [--quick] [--backends sqlite,postgresql] [--seed N]`` attacks real
databases four ways and prints a report of what it tried and what came of it:

- **concurrent writers**: separate processes, each with its own connections, save overlapping
  rows through :meth:`tracker.store.Store.apply` with the optimistic version check.  Every
  acknowledged save must then be in the history exactly once, at the version after the one
  it was based on; each row must hold the last acknowledged write; versions run 1, 2, 3 …
  without a gap; refused saves (conflicts, deliberately stale ones) leave no trace.
- **kill -9 mid-import**: ``python -m loaders import`` of a filled template of thousands of
  rows is killed with SIGKILL, at random moments and inside its write transaction.  The
  database must open (SQLite: ``PRAGMA integrity_check``), the import must be all there or
  not at all, progress and history must agree row by row, and running it again completes.
- **hostile files**: broken and foreign workbooks fed to the same command each exit 2 with a
  message naming the file, never a traceback, a reader panic or a crash, and write nothing.
- **hostile policies**: DOCX, PDF and text policies built to exhaust the reader or the parser
  (millions of paragraphs, 60,000 measures, entities, inflating streams) fed to
  ``python -m loaders add`` each exit 2 naming the file, in seconds, the command staying small.
- **fuzzing**: hypothesis over the policy-text parser and table builder, and over the
  importer (random cell values, random bytes in the workbook's XML); any exception that is not
  a :class:`~tracker.errors.TrackerError` is a failure, and so is an import that leaves
  progress and history disagreeing.

The report ends in "nothing lost" and exit 0 only when every check passed; otherwise it lists
each failed check and exits 1.  ``tests/test_faults.py`` runs the same functions with small
budgets in CI (the ``faults`` marker).  Hostile workbooks reuse the hand-built generators of
``tests/test_excel_import.py`` and ``tests/test_import_hostile.py``, so run it from the
repository root.

One module per fault family: :mod:`~bench.faults.writers`, :mod:`~bench.faults.kill`,
:mod:`~bench.faults.hostile`, :mod:`~bench.faults.hostile_policies` and :mod:`~bench.faults.fuzzing`; beside them
:mod:`~bench.faults.outcome` (what an attack reports and the verdict),
:mod:`~bench.faults.databases` (fresh databases and the ledger check every attack ends with),
:mod:`~bench.faults.cli_run` (one ``python -m loaders import`` in a subprocess, killed or not)
and :mod:`~bench.faults.suite` (budgets, the whole run, the command line).

Each attack returns an :class:`Outcome`; :func:`report` turns them into the verdict:

>>> lost = Outcome("kill -9 mid-import", "sqlite", "1 kill", "half-written", ["trial 1: half"])
>>> report([lost], header="Fault suite")[1]
1
>>> passed = Outcome("hostile files", "sqlite", "1 file", "exit 2")
>>> report([passed], header="Fault suite")[0].splitlines()[-1][:21]
'Result: nothing lost.'
"""

from bench.faults.databases import ledger_problems, seed_store
from bench.faults.fuzzing import fuzz_importer, fuzz_policy_texts
from bench.faults.hostile import hostile_files
from bench.faults.hostile_corpus import hostile_corpus
from bench.faults.hostile_policies import hostile_policies, hostile_policy_corpus
from bench.faults.kill import FilledTemplate, import_state, kill_mid_import
from bench.faults.outcome import Outcome, report
from bench.faults.suite import FULL, QUICK, Budget, main, run_suite
from bench.faults.writers import Attempt, check_writers, concurrent_writers

__all__ = [
    "FULL",
    "QUICK",
    "Attempt",
    "Budget",
    "FilledTemplate",
    "Outcome",
    "check_writers",
    "concurrent_writers",
    "fuzz_importer",
    "fuzz_policy_texts",
    "hostile_corpus",
    "hostile_files",
    "hostile_policies",
    "hostile_policy_corpus",
    "import_state",
    "kill_mid_import",
    "ledger_problems",
    "main",
    "report",
    "run_suite",
    "seed_store",
]
