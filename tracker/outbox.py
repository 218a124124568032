"""The outbox's bookkeeping: the scheduled scan, claiming due notices, sending them and
recording the outcome, with retries and backoff; and the reads the 通知记录 and 催办 pages use.

Delivery is **at least once per receiver**.  A run claims one notice at a time in its own
short transaction (PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``; SQLite: ``BEGIN
IMMEDIATE``), marking it ``sending`` with a lease, so overlapping runs never take the same
notice.  It then sends, and records ``sent`` (or the error and the next try) in a second
transaction.  A run killed in between leaves the notice ``sending``; once the lease
(``TRACKER_NOTICE_LEASE_SECONDS``) has passed, the next run sends it again.  The only
duplicate possible is a receiver that accepted the message just before the kill: it then
gets the same notice twice, recognisable by its number (``通知编号 #N``, and for e-mail the
same Message-ID).  Nothing is lost.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import and_, or_, select, update

from tracker import config
from tracker import notices as nt
from tracker import supervision as sv
from tracker.models import Notice
from tracker.progress import now, period_kind, period_of
from tracker.senders import EMAIL, Message, SendError, send_email, send_robot
from tracker.store import Store


@dataclass
class RunResult:
    """What one ``notify`` run did."""

    created: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"新通知 {self.created} 条；已发送 {self.sent} 条，"
            f"待重试 {self.retrying} 条，已放弃 {self.failed} 条"
        )


@dataclass(frozen=True)
class Claimed:
    notice_id: int
    channel: str
    receiver: str
    attempts: int
    message: Message


def scan(store: Store, today: date, at: datetime | None = None) -> int:
    """Write the time-based notices due ``today`` (deadline, overdue, report due) to the
    outbox; the unique key makes a second scan on the same day write nothing."""
    at = at or now()
    period = period_of(today)
    rows = store.assignments()
    states = sv.with_states(rows, sv.Supervision(store).latest(period), period)
    events = nt.time_events(
        states,
        today,
        days=config.value("TRACKER_NOTICE_DAYS"),  # type: ignore[arg-type]
        report_days=int(config.value("TRACKER_NOTICE_REPORT_DAYS")),  # type: ignore[call-overload]
        period_kind=period_kind(),
        base_url=str(config.value("TRACKER_BASE_URL")),
    )
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        return nt.enqueue(conn, events, at, keep_unreachable=False)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(engine, worker: str, at: datetime, lease_seconds: int) -> Claimed | None:
    """Take the oldest due notice for ``worker``: pending and due, or ``sending`` by a run
    whose lease ran out.  None when nothing is due."""
    expired = at - timedelta(seconds=lease_seconds)
    due = or_(
        and_(Notice.status == nt.PENDING, Notice.next_try_at <= at),
        and_(Notice.status == nt.SENDING, Notice.claimed_at <= expired),
    )
    query = select(Notice).where(due).order_by(Notice.notice_id).limit(1)
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        row = conn.execute(query).first()
        if row is None:
            return None
        conn.execute(
            update(Notice)
            .where(Notice.notice_id == row.notice_id)
            .values(
                status=nt.SENDING,
                claimed_by=worker,
                claimed_at=at,
                attempts=Notice.attempts + 1,
            )
        )
        return Claimed(
            notice_id=row.notice_id,
            channel=row.channel,
            receiver=row.receiver,
            attempts=row.attempts + 1,
            message=Message(row.notice_id, row.title, tuple(row.body.split("\n")), row.link),
        )


def deliver(claimed: Claimed, at: datetime) -> None:
    """Send one claimed notice through its channel; raises :class:`SendError`."""
    if claimed.channel == EMAIL:
        send_email(claimed.receiver, claimed.message)
    else:
        send_robot(claimed.channel, claimed.receiver, claimed.message, timestamp=_millis(at))


def _millis(at: datetime) -> int:
    from tracker.progress import TZ

    return int(at.replace(tzinfo=TZ).timestamp() * 1000)


def finish(engine, claimed: Claimed, worker: str, at: datetime, error: str | None) -> str:
    """Record the outcome of a send; returns the notice's new status.  A failure waits
    ``backoff × 2^(attempts-1)`` before the next try and is given up after the last one."""
    if error is None:
        values: dict[str, object] = {"status": nt.SENT, "sent_at": at, "last_error": ""}
    elif claimed.attempts >= int(config.value("TRACKER_NOTICE_ATTEMPTS")):  # type: ignore[call-overload]
        values = {"status": nt.FAILED, "last_error": error}
    else:
        backoff = int(config.value("TRACKER_NOTICE_BACKOFF_SECONDS"))  # type: ignore[call-overload]
        wait = timedelta(seconds=backoff * 2 ** (claimed.attempts - 1))
        values = {"status": nt.PENDING, "last_error": error, "next_try_at": at + wait}
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        # Only the run holding the claim records: one whose lease ran out lost it.
        conn.execute(
            update(Notice)
            .where(
                Notice.notice_id == claimed.notice_id,
                Notice.status == nt.SENDING,
                Notice.claimed_by == worker,
            )
            .values(**values)
        )
    return str(values["status"])


def send_due(
    engine,
    *,
    clock: Callable[[], datetime] = now,
    send: Callable[[Claimed, datetime], None] = deliver,
    limit: int = 10_000,
    worker: str | None = None,
) -> RunResult:
    """Claim and send due notices one by one until none is due (or ``limit``)."""
    worker = worker or worker_name()
    lease = int(config.value("TRACKER_NOTICE_LEASE_SECONDS"))  # type: ignore[call-overload]
    result = RunResult()
    for _ in range(limit):
        claimed = claim(engine, worker, clock(), lease)
        if claimed is None:
            break
        error = None
        try:
            send(claimed, clock())
        except SendError as exc:
            error = exc.reason
        status = finish(engine, claimed, worker, clock(), error)
        if status == nt.SENT:
            result.sent += 1
        else:
            result.errors.append(f"#{claimed.notice_id} {claimed.channel}: {error}")
            if status == nt.FAILED:
                result.failed += 1
            else:
                result.retrying += 1
    return result


def run(store: Store, today: date | None = None, *, scan_first: bool = True) -> RunResult:
    """``python -m loaders notify``: the scan for ``today``, then every due notice."""
    at = now()
    created = scan(store, today or at.date(), at) if scan_first else 0
    result = send_due(store.engine)
    result.created = created
    return result


# --- reads ----------------------------------------------------------------------------------

NOTICE_COLUMNS = [
    "notice_id",
    "rule",
    "unit",
    "assignment_id",
    "day",
    "channel",
    "receiver",
    "title",
    "status",
    "attempts",
    "last_error",
    "created_at",
    "sent_at",
    "next_try_at",
]


def notices_table(engine, units: Sequence[str] | None = None) -> pd.DataFrame:
    """The outbox, newest first; ``units`` limits it to those units (a 填报员's own)."""
    query = select(*(getattr(Notice, c) for c in NOTICE_COLUMNS)).order_by(Notice.notice_id.desc())
    if units is not None:
        query = query.where(Notice.unit.in_(list(units)))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=NOTICE_COLUMNS)


def failing(frame: pd.DataFrame) -> pd.DataFrame:
    """Notices that failed (given up) or are waiting for a retry after an error."""
    return frame[(frame["status"] == nt.FAILED) | (frame["last_error"].fillna("") != "")]
