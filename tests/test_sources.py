"""Policy sources in the database: the seeds copied in on first start, a publish that is
one transaction (killed with SIGKILL at every step it takes, the store holds the old or the
new state, never a mix), a second server whose files are behind not undoing it, export and
``build --check``, and two publishes of the same policy at once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from cli import main
from loaders import policy_files
from loaders.measures_csv import build_measures, to_csv_bytes
from loaders.store_sync import file_digest, open_store
from loaders.units import read_units
from tests.factories import side_by_side, signed_in
from tracker import sources
from tracker.errors import ConflictError
from tracker.schema import MEASURES_CSV, SOURCES_DIR, UNITS_CSV
from tracker.store import Store

ROOT = Path(__file__).resolve().parent.parent
SEED = "2024-09-27_hufubangui-2024-14.txt"
POLICY = "hufubangui-2024-14"


def _revised_seed() -> bytes:
    """The seed policy without its measure （十）: a revision that archives its tasks."""
    text = (SOURCES_DIR / SEED).read_text(encoding="utf-8")
    return (text[: text.index("（十）强化服务保障")] + text[text.index("本措施自") :]).encode()


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    """A server's files: copies of the shipped sources, register and measures table."""
    shutil.copytree(SOURCES_DIR, tmp_path / "sources")
    shutil.copy(UNITS_CSV, tmp_path / "units.csv")
    shutil.copy(MEASURES_CSV, tmp_path / "measures.csv")
    (tmp_path / f"{POLICY}.txt").write_bytes(_revised_seed())
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    return tmp_path


def _env(site: Path) -> dict[str, str]:
    return {
        "TRACKER_SOURCES_DIR": str(site / "sources"),
        "TRACKER_UNITS_CSV": str(site / "units.csv"),
        "TRACKER_MEASURES_CSV": str(site / "measures.csv"),
    }


def _state(store: Store) -> tuple:
    """What a publish changes: the measures digest, the texts in force, the live tasks."""
    live = store.assignments()
    texts = tuple((name, sources.sha256(content)) for name, content in sources.stored_texts(store))
    return store.content_digest(), texts, tuple(sorted(set(live["task_id"])))


def _consistent(store: Store, site: Path) -> bool:
    """The texts in force build exactly the measures the store is synced to."""
    registry = read_units((site / "units.csv").read_bytes())
    built = to_csv_bytes(build_measures(sources.stored_texts(store), registry).frame)
    return file_digest(built) == store.content_digest()


def test_first_start_copies_the_seeds_and_export_passes_build_check(site, db_url, tmp_path):
    store = open_store(db_url)
    stored = sources.stored_texts(store)
    assert [name for name, _ in stored] == sorted(p.name for p in SOURCES_DIR.iterdir())
    assert stored == [(n, (SOURCES_DIR / n).read_bytes()) for n, _ in stored]
    assert sources.disagreements(store, stored, file_digest(MEASURES_CSV.read_bytes())) == []
    out = tmp_path / "export"
    assert main(["sources", "export", str(out), "--db", db_url]) == 0
    args = ["--sources", str(out), "--out", str(MEASURES_CSV), "--units", str(UNITS_CSV)]
    assert main(["build", "--check", *args]) == 0
    store.engine.dispose()


def test_a_server_with_older_files_neither_undoes_a_publish_nor_stays_silent(
    site, db_url, tmp_path, monkeypatch, caplog
):
    store = open_store(db_url)
    admin = signed_in(store, "管理员", "admin")
    before = _state(store)
    add = ["add", str(site / f"{POLICY}.txt"), "--user", admin.username, "--db", db_url]
    assert main([*add, "--yes"]) == 0
    after = _state(store)
    assert after != before and len(after[2]) == len(before[2]) - 1  # measure （十） had 1 task
    assert _consistent(store, site)
    # Server B: its own copy of the files, as shipped (measures.csv from before the publish).
    other = tmp_path / "server-b"
    shutil.copytree(SOURCES_DIR, other / "sources")
    shutil.copy(UNITS_CSV, other / "units.csv")
    shutil.copy(MEASURES_CSV, other / "measures.csv")
    for name, value in _env(other).items():
        monkeypatch.setenv(name, value)
    with caplog.at_level("INFO", logger="tracker.events"):
        restarted = open_store(db_url)
    assert _state(restarted) == after  # not synced back from the stale file
    reported = [r.getMessage() for r in caplog.records if "startup_disagreement" in r.getMessage()]
    assert any("measures.csv 落后于数据库" in line for line in reported)
    assert any(SEED in line and "内容不同" in line for line in reported)
    assert main(["sources", "check", "--db", db_url]) == 1
    out = ["--measures", str(other / "measures.csv"), "--units", str(other / "units.csv")]
    assert main(["sources", "export", str(other / "sources"), *out, "--db", db_url]) == 0
    assert main(["sources", "check", "--db", db_url]) == 0
    for engine in (store.engine, restarted.engine):
        engine.dispose()


def test_two_publishes_of_one_policy_at_once_leave_one_edition(site, db_url):
    store = open_store(db_url)
    admin = signed_in(store, "管理员", "admin")
    registry = policy_files.current_registry(store)
    data = (site / f"{POLICY}.txt").read_bytes()
    publications = [
        policy_files.prepare(policy_files.draft_policy(data, f"{POLICY}.txt", registry), store)
        for _ in range(2)
    ]
    outcomes: list[str] = []
    lock = threading.Lock()

    def publish_one() -> None:
        with lock:
            publication = publications.pop()
        try:
            policy_files.publish(publication, store, admin, measures_csv=site / "measures.csv")
            outcomes.append("published")
        except ConflictError as exc:
            outcomes.append(str(exc))

    assert side_by_side(2, publish_one) == []
    assert outcomes.count("published") == 1, outcomes
    (other,) = [outcome for outcome in outcomes if outcome != "published"]
    assert "已被他人同步或修订" in other or "刚由他人发布" in other, outcomes
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM policy_sources WHERE policy_id = %s AND active"
            if conn.dialect.name == "postgresql"
            else "SELECT COUNT(*) FROM policy_sources WHERE policy_id = ? AND active",
            (POLICY,),
        ).scalar()
    assert rows == 1
    assert _consistent(store, site)
    store.engine.dispose()


# The steps of a publish a kill can fall between: inside the transaction (tasks, sources,
# digest, revision) and after the commit (each file of the mirror, each rename).
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import loaders.policy_files as policy_files
    from tracker import sources
    from tracker import sync
    from tracker.store import Store
    from cli import main

    kill_at, calls = int(os.environ["KILL_AT"]), [0]

    def counted(owner, name):
        original = getattr(owner, name)

        def step(*args, **kwargs):
            calls[0] += 1
            if calls[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)

        setattr(owner, name, step)

    for name in ("_sync_policies", "_sync_units", "_sync_measures", "_sync_tasks",
                 "_sync_assignments"):
        counted(sync, name)
    for name in ("_set_meta", "bump_revision"):
        counted(Store, name)
    for name in ("_insert", "_store_units"):
        counted(sources, name)
    counted(policy_files, "write_atomic")
    counted(policy_files.os, "replace")
    code = main(sys.argv[1:])
    print("STEPS", calls[0])
    sys.exit(code)
    """
)


def _run_child(site: Path, db: str, kill_at: int) -> subprocess.CompletedProcess:
    args = ["add", str(site / f"{POLICY}.txt"), "--user", "管理员", "--yes", "--db", db]
    return subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        cwd=ROOT,
        env={**os.environ, **_env(site), "KILL_AT": str(kill_at)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.faults
def test_a_publish_killed_at_every_step_leaves_the_old_or_the_new_state(tmp_path):
    template = tmp_path / "template"
    template.mkdir()
    shutil.copytree(SOURCES_DIR, template / "sources")
    shutil.copy(UNITS_CSV, template / "units.csv")
    shutil.copy(MEASURES_CSV, template / "measures.csv")
    (template / f"{POLICY}.txt").write_bytes(_revised_seed())
    os.environ.update(_env(template))  # open_store below reads the template's files
    try:
        store = open_store(f"sqlite:///{template / 't.db'}")
        signed_in(store, "管理员", "admin")
        old = _state(store)
        store.engine.dispose()
        complete = tmp_path / "complete"
        shutil.copytree(template, complete)
        finished = _run_child(complete, f"sqlite:///{complete / 't.db'}", 0)
        assert finished.returncode == 0, finished.stderr
        steps = int(finished.stdout.rsplit("STEPS", 1)[1])
        new = _state(Store.open(f"sqlite:///{complete / 't.db'}"))
        assert new != old and steps >= 12
        seen = {"old": 0, "new": 0}
        for kill_at in range(1, steps + 1):
            site = tmp_path / f"kill-{kill_at}"
            shutil.copytree(template, site)
            db = f"sqlite:///{site / 't.db'}"
            killed = _run_child(site, db, kill_at)
            assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
            for name, value in _env(site).items():
                os.environ[name] = value
            restarted = open_store(db)  # what the next start makes of it
            state = _state(restarted)
            assert state in (old, new), f"killed at step {kill_at}: a mix"
            assert _consistent(restarted, site), f"killed at step {kill_at}"
            seen["old" if state == old else "new"] += 1
            files = policy_files.read_sources(site / "sources")
            measures = file_digest((site / "measures.csv").read_bytes())
            found = sources.disagreements(restarted, files, measures)
            files_in_line = measures == restarted.content_digest() and sorted(files) == sorted(
                sources.stored_texts(restarted)
            )
            assert (found == []) == files_in_line, (kill_at, found)
            restarted.engine.dispose()
        assert seen["old"] >= 7 and seen["new"] >= 3, seen
    finally:
        for name in _env(template):
            os.environ.pop(name, None)
