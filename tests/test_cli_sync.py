"""``python -m loaders sync``: on-demand sync of the store from a measures CSV."""

from __future__ import annotations

from cli import main
from loaders.measures_csv import to_csv_bytes
from tests.factories import signed_in
from tracker.progress import Update
from tracker.store import Store, make_engine


def test_sync_adds_then_archives_and_keeps_progress(tmp_path, capsys, small_measures) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    csv = tmp_path / "measures.csv"
    csv.write_bytes(to_csv_bytes(small_measures))

    assert main(["sync", "--measures", str(csv), "--db", db]) == 0
    assert "synced: 3 new tasks, 6 new assignments, 0 tasks and 0 assignments archived" in (
        capsys.readouterr().out
    )
    store = Store(make_engine(db))
    row = store.assignments().iloc[0]
    store.apply(
        [Update(int(row.assignment_id), 0, {"status": "推进中"})],
        user=signed_in(store, "张三"),
        source="web",
    )

    # The second measure disappears from the sources: shown, and applied only when confirmed.
    csv.write_bytes(to_csv_bytes(small_measures[small_measures["measure_no"] == 1]))
    assert main(["sync", "--measures", str(csv), "--db", db]) == 1
    out, err = capsys.readouterr()
    assert out == (
        "删除（归档）\tdemo-m02-t1 -> -\t示范任务\n"
        "新增 0 项，删除（归档） 1 项，修改 0 项，移动 0 项，恢复 0 项，未变 2 项\n"
    )
    assert "nothing written" in err and "--yes --user" in err
    assert len(store.assignments()) == 6
    assert main(["sync", "--measures", str(csv), "--db", db, "--yes"]) == 2
    assert "--user" in capsys.readouterr().err
    assert main(["sync", "--measures", str(csv), "--db", db, "--yes", "--user", "张三"]) == 0
    assert "1 tasks and 3 assignments archived" in capsys.readouterr().out
    live = store.assignments()
    assert set(live["task_id"]) == {"demo-m01-t1", "demo-m01-t2"}
    assert len(store.assignments(include_archived=True)) == 6
    kept = live.set_index("assignment_id").loc[int(row.assignment_id)]
    assert (kept["status"], kept["version"]) == ("in_progress", 1)

    assert main(["sync", "--measures", str(csv), "--db", db]) == 0
    assert "synced: 0 new tasks, 0 new assignments, 0 tasks and 0 assignments archived" in (
        capsys.readouterr().out
    )


def test_sync_records_the_files_digest_so_the_next_start_does_nothing(
    tmp_path, capsys, small_measures
) -> None:
    """One digest: the CLI records the file's digest, which is what a start compares."""
    from loaders.store_sync import file_digest, open_store

    db = f"sqlite:///{tmp_path / 't.db'}"
    csv = tmp_path / "measures.csv"
    csv.write_bytes(to_csv_bytes(small_measures))
    assert main(["sync", "--measures", str(csv), "--db", db]) == 0
    store = open_store(db, csv)
    assert store.content_digest() == file_digest(csv.read_bytes())
    revision = store.revision()
    assert open_store(db, csv).revision() == revision


def test_sync_of_a_missing_file_exits_2(tmp_path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    assert main(["sync", "--measures", str(tmp_path / "nope.csv"), "--db", db]) == 2
    assert "nope.csv" in capsys.readouterr().err
