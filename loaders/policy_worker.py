"""Parsing an uploaded policy in a worker process with a time and memory budget.

The gate (:mod:`loaders.policy_gate`) refuses files far beyond any policy before a reader
sees them, but a reader or the parser can still meet a file the gate did not foresee.  So
the server never runs them in its own process: :func:`read_policy_bounded` runs
:func:`loaders.policy_read.read_policy` in a child process whose address space is capped
(``RLIMIT_AS``, ``TRACKER_PARSE_MEMORY_MB``) and which is killed when it runs past
``TRACKER_PARSE_SECONDS``.  Either way the caller gets the project's own error naming the
file ("解析超时" / "内存超限"), and the server keeps its memory.

The child is a fresh interpreter, ``python -m loaders.policy_worker MB``, that caps its own
address space before it reads anything, then reads the job (a module-level function and its
arguments, pickled) on stdin and writes how it ended on stdout, as plain data: the text and
the parsed policy, or the project error it raised.  Not ``multiprocessing``: its ``spawn``
and ``forkserver`` children import the parent's ``__main__`` again (the Streamlit launcher,
the CLI with pandas) before the limit holds, and ``fork`` is unsafe in a threaded server; a
``ProcessPoolExecutor`` cannot kill the one worker that hangs.  ``subprocess.run`` kills it
at the timeout.  Starting the child costs a fraction of a second, once per upload; at most
:data:`MAX_WORKERS` run at once on one server.

>>> run_limited(len, "abc", file="a.txt", seconds=30, memory_mb=512)
3
"""

from __future__ import annotations

import pickle
import resource
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from loaders.policy_read import ReadPolicy, read_policy
from tracker import config
from tracker.errors import ImportFileError, TrackerError
from tracker.events import log_event

T = TypeVar("T")
MAX_WORKERS = 2  # parses running at once on one server; more wait for a free slot
_ROOT = Path(__file__).resolve().parents[1]  # where ``-m loaders.policy_worker`` imports from
_slots = threading.BoundedSemaphore(MAX_WORKERS)


def read_policy_bounded(data: bytes, file_name: str, policy_id: str | None) -> ReadPolicy:
    """:func:`~loaders.policy_read.read_policy` in a worker process, within the budget the
    settings give; raises what it raises, or :class:`ImportFileError` past the budget."""
    return run_limited(
        read_policy,
        data,
        file_name,
        policy_id,
        file=file_name,
        seconds=int(str(config.value("TRACKER_PARSE_SECONDS"))),
        memory_mb=int(str(config.value("TRACKER_PARSE_MEMORY_MB"))),
    )


def run_limited(job: Callable[..., T], *args: Any, file: str, seconds: float, memory_mb: int) -> T:
    """``job(*args)`` in a child process with ``memory_mb`` of address space, killed after
    ``seconds``.  ``job`` must be a module-level function, its arguments and result plain
    data (they are pickled).  A :class:`TrackerError` it raises is raised here; running out
    of time or memory, or dying, is an :class:`ImportFileError` naming ``file``."""
    if not _slots.acquire(timeout=seconds):
        raise ImportFileError("其他政策文件正在解析，请稍后重试", file=file)
    try:
        child = subprocess.run(
            [sys.executable, "-m", "loaders.policy_worker", str(memory_mb)],
            input=pickle.dumps((job, args)),
            capture_output=True,
            timeout=seconds,
            cwd=_ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed and reaped the child
        raise ImportFileError(
            f"解析超时：超过 {seconds:g} 秒仍未完成，已停止解析", file=file
        ) from None
    finally:
        _slots.release()
    if child.returncode != 0 or not child.stdout:
        said = child.stderr.decode("utf-8", "replace").strip().splitlines()
        log_event("parse_worker_died", file=file, code=child.returncode, said=said[-1:])
        raise ImportFileError(
            f"内存超限或解析进程异常退出（退出码 {child.returncode}），已停止解析", file=file
        )
    kind, value = pickle.loads(child.stdout)
    if kind == "ok":
        return value
    if kind == "error":
        raise value
    if kind == "memory":
        raise ImportFileError(f"内存超限：解析所需内存超过 {memory_mb} MB，已停止解析", file=file)
    raise RuntimeError(f"解析 {file} 时出错：\n{value}")  # a bug, not the file: say so


def main(memory_mb: int) -> int:
    """The child: cap the address space, read the job on stdin, run it, write how it
    ended on stdout ("ok", "error", "memory" or "bug", and the value)."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # whatever a reader prints must not corrupt the answer
    job, args = pickle.load(sys.stdin.buffer)
    message: tuple[str, Any]
    try:
        message = ("ok", job(*args))
    except TrackerError as exc:
        message = ("error", exc)
    except MemoryError:
        message = ("memory", None)
    except Exception:  # a bug in the parser: its traceback goes back as text
        message = ("bug", traceback.format_exc(limit=8))
    try:
        answer = pickle.dumps(message)
    except MemoryError:
        answer = pickle.dumps(("memory", None))
    out.write(answer)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
