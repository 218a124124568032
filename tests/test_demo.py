"""``python -m loaders demo``: a separate database with believable work on the seeds, and
never over a database that holds anything."""

from __future__ import annotations

from sqlalchemy import func, select

from cli import main
from tests.factories import signed_in
from tracker.aggregate import derive
from tracker.models import Reminder, SupervisionStep
from tracker.progress import now
from tracker.store import Store, make_engine


def test_demo_fills_an_empty_database_with_every_status_reports_and_reminders(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert main(["demo", "--db", url]) == 0
    printed = capsys.readouterr().out
    password = printed.rsplit("password (shown once): ", 1)[1].strip()
    store = Store(make_engine(url))
    rows = derive(store.assignments(), now().date())
    assert set(rows["status"]) == {"done", "in_progress", "delayed", "not_started", "on_hold"}
    assert set(rows["light"]) == {"red", "yellow", "green"}
    assert rows["due_date"].notna().all()
    with store.engine.connect() as conn:
        actions = dict(
            conn.execute(
                select(SupervisionStep.action, func.count()).group_by(SupervisionStep.action)
            ).all()
        )
        reminded = conn.scalar(select(func.count()).select_from(Reminder))
    assert reminded == 3  # 市科委, 市教委, 市商务委
    assert len(actions) >= 4  # signed for, reported, accepted, sent back (and an extension)
    assert store.accounts.sign_in("演示填报员", password).units == frozenset({"市科委"})
    store.engine.dispose()
    # A second run, or any database holding something, is refused and left alone.
    assert main(["demo", "--db", url]) == 2
    assert "只写入空数据库" in capsys.readouterr().err


def test_demo_refuses_a_database_with_only_an_account(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'real.db'}"
    store = Store.open(url)
    signed_in(store, "管理员", "admin")
    assert main(["demo", "--db", url]) == 2
    assert len(store.assignments()) == 0
    store.engine.dispose()
