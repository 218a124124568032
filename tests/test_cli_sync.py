"""``python -m loaders sync``: on-demand sync of the store from a measures CSV."""

from __future__ import annotations

from loaders.__main__ import main
from loaders.measures_csv import to_csv_bytes
from tests.factories import signed_in
from tracker.store import Store, Update, make_engine


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

    # The second measure disappears from the sources: archived, never deleted.
    csv.write_bytes(to_csv_bytes(small_measures[small_measures["measure_no"] == 1]))
    assert main(["sync", "--measures", str(csv), "--db", db]) == 0
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


def test_sync_of_a_missing_file_exits_2(tmp_path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    assert main(["sync", "--measures", str(tmp_path / "nope.csv"), "--db", db]) == 2
    assert "nope.csv" in capsys.readouterr().err
