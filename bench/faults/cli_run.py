"""One run of ``python -m loaders import`` in a subprocess, as a user at a terminal would make
it: its memory capped, timed out if hung, optionally killed with SIGKILL at a chosen moment
(inside its write transaction, seen from outside by :class:`WriteWatch`)."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.faults.databases import PG_URL

ROOT = Path(__file__).resolve().parents[2]
EXIT_BAD_INPUT = 2  # what `python -m loaders` returns for a refused file (nothing written)
RUN_TIMEOUT = 300  # seconds any one import may take before it counts as hung
MEMORY_LIMIT = 8 * 1024**3  # address space for an import under attack: a crash, not an OOM kill
PANIC = "panicked at"  # how a Rust extension (python-calamine) reports a panic on stderr


def _limit_memory() -> None:
    """Run in the child before exec: a runaway allocation fails in the child instead of
    pushing the whole machine into its out-of-memory killer."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


class WriteWatch:
    """Tells, from outside, whether an import process is inside its write transaction.

    The imported file is open only inside ``import_workbook``, after the store was opened and
    migrated, so "file open" rules out the start-up transaction.  Then, SQLite: the database's
    write lock is taken (a probe's ``BEGIN IMMEDIATE`` fails at once); PostgreSQL: the process's
    server session has a transaction id, which it gets at its first row lock or write.
    """

    def __init__(self, url: str, app_name: str, file: Path) -> None:
        self.file = str(file.resolve())
        self.app_name = app_name
        self.sqlite_path = make_url(url).database if url.startswith("sqlite") else None
        self.probe = None
        self.server = None
        if self.sqlite_path:
            self.probe = sqlite3.connect(self.sqlite_path, timeout=0, isolation_level=None)
        else:
            self.server = create_engine(PG_URL, isolation_level="AUTOCOMMIT").connect()

    def writing(self, pid: int) -> bool:
        if not _has_open(pid, self.file):
            return False
        if self.probe is not None:
            try:
                self.probe.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                return True
            self.probe.execute("ROLLBACK")
            return False
        return bool(
            self.server.scalar(
                text(
                    "select count(*) from pg_stat_activity "
                    "where application_name = :app and backend_xid is not null"
                ),
                {"app": self.app_name},
            )
        )

    def close(self) -> None:
        if self.probe is not None:
            self.probe.close()
        if self.server is not None:
            self.server.close()
            self.server.engine.dispose()


def _has_open(pid: int, path: str) -> bool:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        with suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{fd}") == path:
                return True
    return False


@dataclass
class ImportRun:
    """One run of ``python -m loaders import``: how it ended and what was seen of it."""

    returncode: int | None  # None: hung, killed at the timeout
    seconds: float
    killed: bool = False
    timed_out: bool = False
    writing_at_kill: bool = False
    write_seconds: float | None = None  # how long its write transaction was seen open
    cpu_seconds: float = 0.0
    peak_mb: float = 0.0  # largest resident set
    output: str = ""
    app_name: str = ""  # its PostgreSQL application_name


def run_import(
    url: str,
    measures_csv: Path,
    file: Path,
    user: str,
    *,
    all_or_nothing: bool = False,
    kill: tuple[str, float] | None = None,
    watch_writes: bool = False,
    command: str = "import",
    env: dict[str, str] | None = None,
) -> ImportRun:
    """Run the CLI import (or ``command``, another subcommand taking a file, such as
    ``add``) in a subprocess, as a user at a terminal would; ``env`` adds to its environment.

    ``kill`` sends SIGKILL at ("at", seconds after the start) or at ("in-write", seconds after
    its write transaction was first seen open).  ``watch_writes`` measures how long that
    transaction stays open in a run left alone.
    """
    app = f"faults-{uuid.uuid4().hex[:10]}"
    environ = {**os.environ, "TRACKER_MEASURES_CSV": str(measures_csv), "PGAPPNAME": app}
    environ.update(env or {})
    argv = [sys.executable, "-m", "loaders", command, str(file), "--user", user, "--db", url]
    if all_or_nothing:
        argv.append("--all-or-nothing")
    watched = watch_writes or (kill is not None and kill[0] == "in-write")
    watch = WriteWatch(url, app, file) if watched else None
    log = file.with_name(f"{file.name}.{app}.log")
    run = ImportRun(returncode=None, seconds=0.0, app_name=app)
    with log.open("w+b") as out:
        start = time.monotonic()
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_limit_memory,
        )
        try:
            _follow(process, run, watch, kill, start)
        finally:
            if watch:
                watch.close()
        run.seconds = time.monotonic() - start
        run.returncode = None if run.timed_out else process.returncode
        out.seek(0)
        run.output = out.read().decode("utf-8", errors="replace")
    log.unlink()
    return run


def _follow(
    process: subprocess.Popen,
    run: ImportRun,
    watch: WriteWatch | None,
    kill: tuple[str, float] | None,
    start: float,
) -> None:
    """Poll ``process`` until it ends, its kill is due or it hangs past ``RUN_TIMEOUT``;
    note in ``run`` whether it was killed, inside its write transaction or not, and how long
    that transaction was seen open when it ended by itself."""
    first_seen = last_seen = None
    while not _reaped(process, run, os.WNOHANG):
        now = time.monotonic()
        writing = watch.writing(process.pid) if watch else False
        if writing:
            first_seen = first_seen or now
            last_seen = now
        if now - start > RUN_TIMEOUT:
            run.timed_out = True
        elif not _kill_due(kill, now - start, first_seen and now - first_seen):
            time.sleep(0.002 if watch or kill else 0.02)
            continue
        run.killed = not run.timed_out
        run.writing_at_kill = writing
        os.kill(process.pid, signal.SIGKILL)
        _reaped(process, run, 0)
        return
    if first_seen and last_seen:
        run.write_seconds = last_seen - first_seen


def _reaped(process: subprocess.Popen, run: ImportRun, options: int) -> bool:
    """Reap ``process`` if it ended (``os.wait4``, unlike ``Popen.wait``, tells the CPU time
    and peak memory it took); ``options`` os.WNOHANG: do not wait."""
    pid, status, usage = os.wait4(process.pid, options)
    if pid == 0:
        return False
    process.returncode = os.waitstatus_to_exitcode(status)
    run.cpu_seconds = usage.ru_utime + usage.ru_stime
    run.peak_mb = usage.ru_maxrss / 1024
    return True


def _kill_due(kill: tuple[str, float] | None, elapsed: float, writing_for: float | None) -> bool:
    if kill is None:
        return False
    if kill[0] == "at":
        return elapsed >= kill[1]
    return writing_for is not None and writing_for >= kill[1]
