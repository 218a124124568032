"""A demo database for trying the product out: ``python -m loaders demo``.

Fills a separate database (default ``data/demo.db``) with the seeds and believable work on
them: varied progress and deadlines (every status and light appears), a unit signing for
its tasks and reporting, a review accepted and one sent back, an extension request and
reminders.  Every write goes through the store as a demo account, as a real one would.  It
refuses a database that already holds tasks or accounts, so it never touches real data.

The browser tests and the screenshots use the same two steps (``bench.live``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from loaders.store_sync import open_store
from tracker.backup import is_empty
from tracker.errors import TrackerError
from tracker.progress import Update, now, period_of
from tracker.rollup import counted, roll_up
from tracker.store import Store, make_engine
from tracker.supervision import Supervision

DEMO_DB_URL = "sqlite:///data/demo.db"
# status, percent, due date offset (days from today), note: cycled over assignments
PROGRESS = [
    ("done", 100, -30, "已完成并报送成果"),
    ("in_progress", 60, 90, "按计划推进"),
    ("in_progress", 30, 20, "推进中，临近时限"),
    ("delayed", 20, -10, "配套资金尚未到位"),
    ("not_started", 0, 180, ""),
    ("done", 100, -5, "已完成"),
    ("on_hold", 10, 120, "等待上级部署"),
]
DAYS_AGO = 20  # the demo progress is dated this long ago: some done tasks are on time
DEMO_UNIT = "市科委"


@dataclass(frozen=True)
class DemoAccounts:
    """The demo's supervisor and staff member of ``DEMO_UNIT``, with their passwords."""

    supervisor: str
    staff: str
    password: str


def seed_progress(url: str, supervisor: str, password: str) -> None:
    """Give lead and support rows varied, valid progress so every status and light appears,
    written by a new supervisor account as of ``DAYS_AGO`` days ago (so a task marked done
    with a deadline since then counts as done on time in 通报 and one due before as late)."""
    store = open_store(url)
    try:
        rows = counted(roll_up(store.assignments()))  # members report, never their roll-up
        today = now().date()  # the dashboard's today (Shanghai), not the machine's
        ranks = rows["unit_rank"].fillna(0).astype(int).tolist()
        ids, versions = rows["assignment_id"].tolist(), rows["version"].tolist()
        updates = []
        for i, (aid, version, rank) in enumerate(zip(ids, versions, ranks, strict=True)):
            status, percent, offset, note = PROGRESS[(i * 3 + rank) % len(PROGRESS)]
            changes: dict[str, object] = {"status": status, "percent": percent, "note": note}
            changes["due_date"] = (today + timedelta(days=offset)).isoformat()
            updates.append(Update(int(aid), int(version), changes))
        store.accounts.add(supervisor, role="supervisor", password=password)
        account = store.accounts.sign_in(supervisor, password)
        written = now() - timedelta(days=DAYS_AGO)
        result = store.apply(updates, user=account, source="web", at=written)
        print(f"demo progress: {result.changed_assignments} assignments updated")
    finally:
        store.engine.dispose()


def seed_workflow(url: str, supervisor: str, staff_name: str, password: str) -> None:
    """After :func:`seed_progress`: a 填报员 of ``DEMO_UNIT`` signs for its lead tasks and
    reports some (one accepted, one sent back, the rest waiting for review), asks for more
    time on one, and the supervisor reminds a few units."""
    store = open_store(url)
    try:
        store.accounts.add(staff_name, role="staff", units=[DEMO_UNIT], password=password)
        staff = store.accounts.sign_in(staff_name, password)
        boss = store.accounts.sign_in(supervisor, password)
        flow = Supervision(store)
        rows = store.assignments()
        today = now().date()
        period = period_of(today)
        leads = rows[(rows["unit"] == DEMO_UNIT) & (rows["role"] == "lead")]
        ids = [int(a) for a in leads["assignment_id"]]
        for aid in ids[:8]:
            flow.acknowledge(aid, user=staff)
        for aid in ids[:5]:
            flow.submit(aid, "本期按计划推进，已召开专题会议部署。", user=staff)
        flow.accept(ids[0], period, user=boss)
        flow.send_back(ids[1], period, "请补充佐证材料和下一步计划。", user=boss)
        open_due = leads[(leads["due_date"].notna()) & (leads["status"] != "done")]
        for aid, due in zip(open_due["assignment_id"], open_due["due_date"], strict=True):
            if date.fromisoformat(str(due)[:10]) > today:
                later = date.fromisoformat(str(due)[:10]) + timedelta(days=60)
                flow.request_extension(int(aid), later, "配套资金下达较晚", user=staff)
                break
        flow.remind(
            [(unit, 3, f"请{unit}尽快报送本期进展。") for unit in ("市科委", "市教委", "市商务委")],
            user=boss,
        )
    finally:
        store.engine.dispose()
    print("demo workflow: reports, a review, an extension request and reminders")


def fill_demo(url: str = DEMO_DB_URL) -> DemoAccounts:
    """Fill the empty database at ``url`` with the demo; refused (TrackerError) when it
    already holds tasks or accounts.  The accounts get one fresh random password."""
    store = Store(make_engine(url))
    try:
        store.create_schema()
        if not is_empty(store):
            raise TrackerError(f"{url} 已有任务或账号：演示数据只写入空数据库（如 data/demo.db）")
    finally:
        store.engine.dispose()
    accounts = DemoAccounts("演示督办员", "演示填报员", secrets.token_urlsafe(12))
    seed_progress(url, accounts.supervisor, accounts.password)
    seed_workflow(url, accounts.supervisor, accounts.staff, accounts.password)
    return accounts
