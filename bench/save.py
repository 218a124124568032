"""What one save costs against its floor: ``python -m bench.save --url URL --n 1000``.

Times ``n`` single-row :meth:`tracker.store.Store.apply` calls (a 填报员 changing the
percentage and the note of one of their rows) against ``n`` plain Core UPDATEs of the same
columns of the same rows, one transaction each, on the same engine, interleaved in blocks
so that a busy machine slows both alike; prints both, the ratio, the statements one save
runs, and saves per second with ``--writers`` processes saving disjoint rows at once.

On PostgreSQL the run works in a schema of its own (dropped afterwards), so it can share a
database; without ``--url`` it uses a temporary SQLite file.  Not a test: numbers depend on
the machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text, update

from bench.generate import synthetic_measures
from tracker.accounts import Account
from tracker.models import Progress
from tracker.progress import Update
from tracker.schema import SOURCE_API, STAFF
from tracker.store import Store, make_engine

USERNAME = "bench-clerk"


@contextmanager
def bench_database(url: str | None) -> Iterator[str]:
    """``url`` as given for SQLite (a temporary file without one); on PostgreSQL a URL to a
    fresh schema of the database, dropped on the way out."""
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'save.db'}"
        return
    if not url.startswith("postgresql"):
        yield url
        return
    schema = f"bench_save_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def seed(url: str, assignments: int) -> tuple[list[int], list[int]]:
    """A synced store with a 填报员 of its busiest units; their rows' ids and versions."""
    store = Store.open(url, measures=synthetic_measures(assignments))
    frame = store.assignments()
    busiest = frame["unit"].value_counts().index[:5].tolist()
    store.accounts.add(USERNAME, role=STAFF, units=busiest, password=None)
    rows = frame[frame["unit"].isin(busiest)]
    store.engine.dispose()
    return rows["assignment_id"].tolist(), rows["version"].tolist()


def changes(i: int) -> dict[str, object]:
    """The i-th save's change: a new percentage and note (status stays 未启动)."""
    return {"percent": i % 99 + 1, "note": f"第{i}次报送：按计划推进"}


class Saver:
    """Saves rows one at a time, keeping each row's version as the editor would."""

    def __init__(self, store: Store, ids: list[int], versions: list[int]) -> None:
        self.store = store
        self.account = Account(USERNAME, STAFF)  # the store re-reads role and units itself
        self.version = dict(zip(ids, versions, strict=True))

    def apply(self, aid: int, i: int) -> None:
        result = self.store.apply(
            [Update(aid, self.version[aid], changes(i))], user=self.account, source=SOURCE_API
        )
        assert result.changed_assignments == 1, result
        self.version[aid] += 1

    def plain(self, aid: int, i: int) -> None:
        with self.store.engine.connect().execution_options(write=True) as conn, conn.begin():
            # Other values than the saves' (which would otherwise find nothing to change).
            values = changes(i + 50)
            conn.execute(update(Progress).where(Progress.assignment_id == aid).values(values))


def statements_per_save(saver: Saver, aid: int) -> int:
    count = 0

    def seen(*_args) -> None:
        nonlocal count
        count += 1

    event.listen(saver.store.engine, "before_cursor_execute", seen)
    try:
        saver.apply(aid, 10_000)
    finally:
        event.remove(saver.store.engine, "before_cursor_execute", seen)
    return count


def single(url: str, ids: list[int], versions: list[int], n: int, blocks: int = 10) -> None:
    saver = Saver(Store(make_engine(url)), ids, versions)
    order = [ids[i % len(ids)] for i in range(n)]
    for i, aid in enumerate(order[:20]):  # warm the pool, the statement caches and imports
        saver.plain(aid, i)
        saver.apply(aid, i)
    spent = {"apply": 0.0, "plain": 0.0}
    size = max(1, n // blocks)
    for start in range(0, n, size):
        block = list(enumerate(order[start : start + size], start=start))
        for kind in ("plain", "apply"):
            run = getattr(saver, kind)
            began = time.perf_counter()
            for i, aid in block:
                run(aid, i)
            spent[kind] += time.perf_counter() - began
    statements = statements_per_save(saver, order[0])
    saver.store.engine.dispose()
    print(f"  Store.apply  {n} single-row saves  {spent['apply']:.3f} s", end="")
    print(f"  ({spent['apply'] / n * 1000:.2f} ms each, {statements} statements)")
    print(f"  Core UPDATE  {n} single-row saves  {spent['plain']:.3f} s", end="")
    print(f"  ({spent['plain'] / n * 1000:.2f} ms each, 1 statement)")
    print(f"  ratio        {spent['apply'] / spent['plain']:.1f}×")


def _writer(url: str, ids: list[int], versions: list[int], n: int, barrier, out) -> None:
    saver = Saver(Store(make_engine(url)), ids, versions)
    saver.apply(ids[0], 0)  # connect and warm up before the clock starts
    barrier.wait()
    began = time.monotonic()
    for i in range(1, n + 1):
        saver.apply(ids[i % len(ids)], i)
    out.put((began, time.monotonic()))
    saver.store.engine.dispose()


def concurrent(url: str, ids: list[int], versions: list[int], n: int, writers: int) -> None:
    """``writers`` processes, each saving ``n // writers`` times on rows of its own."""
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(writers), context.Queue()
    each = max(1, n // writers)
    processes = [
        context.Process(
            target=_writer,
            args=(url, ids[w::writers], versions[w::writers], each, barrier, out),
        )
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    spans = [out.get() for _ in processes]
    for process in processes:
        process.join()
    wall = max(end for _b, end in spans) - min(began for began, _e in spans)
    print(f"  {writers} writers  {each * writers} saves in {wall:.2f} s", end="")
    print(f"  = {each * writers / wall:.0f} saves/s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--n", type=int, default=1000, help="saves of each kind")
    parser.add_argument("--assignments", type=int, default=2000, help="rows in the store")
    parser.add_argument("--writers", type=int, default=8, help="concurrent writer processes")
    args = parser.parse_args(argv)
    with bench_database(args.url) as url:
        ids, versions = seed(url, args.assignments)
        print(f"{url.split(':')[0]}: {len(ids)} rows of the clerk's units")
        single(url, ids, versions, args.n)
        # The single-row run moved every row's version: read them again.
        store = Store(make_engine(url))
        version = dict(
            zip(*store.assignments()[["assignment_id", "version"]].T.values, strict=True)
        )
        store.engine.dispose()
        versions = [int(version[aid]) for aid in ids]
        if args.writers > 1:
            concurrent(url, ids, versions, args.n, args.writers)


if __name__ == "__main__":
    main()
