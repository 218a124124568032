"""The database schema: SQLAlchemy 2.x declarative models, the only place tables are defined.

The same models serve SQLite (the embedded default) and PostgreSQL (``DATABASE_URL``).
``progress_history`` is append-only: the store inserts into it and never updates or deletes.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tracker.schema import NOT_STARTED


class Base(DeclarativeBase):
    pass


class Policy(Base):
    __tablename__ = "policies"

    policy_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    doc_no: Mapped[str] = mapped_column(String(100), default="")
    issuer: Mapped[str] = mapped_column(String(200), default="")
    issue_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    effective_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    effective_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    source_url: Mapped[str] = mapped_column(Text, default="")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class Measure(Base):
    __tablename__ = "measures"
    __table_args__ = (UniqueConstraint("policy_id", "measure_no"),)

    measure_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    policy_id: Mapped[str] = mapped_column(ForeignKey("policies.policy_id"))
    section_no: Mapped[int] = mapped_column(Integer)
    section_title: Mapped[str] = mapped_column(Text, default="")
    measure_no: Mapped[int] = mapped_column(Integer)
    measure_title: Mapped[str] = mapped_column(Text, default="")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class Unit(Base):
    __tablename__ = "units"

    unit: Mapped[str] = mapped_column(String(100), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(20), default="unknown")


class UnitMember(Base):
    """A member of a collective unit (各区政府 -> 浦东新区 …), as ``data/unit_members.csv``
    says: each member reports for itself on the collective's tasks."""

    __tablename__ = "unit_members"

    collective: Mapped[str] = mapped_column(ForeignKey("units.unit"), primary_key=True)
    member: Mapped[str] = mapped_column(ForeignKey("units.unit"), primary_key=True)


class Task(Base):
    __tablename__ = "tasks"

    task_id: Mapped[str] = mapped_column(String(140), primary_key=True)
    measure_id: Mapped[str] = mapped_column(ForeignKey("measures.measure_id"), index=True)
    task_seq: Mapped[int] = mapped_column(Integer)
    task_text: Mapped[str] = mapped_column(Text)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class Assignment(Base):
    """One task x responsible unit: the row agency staff report on."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("task_id", "unit"),)

    assignment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.task_id"))
    unit: Mapped[str] = mapped_column(ForeignKey("units.unit"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    unit_rank: Mapped[int] = mapped_column(Integer)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the store first held this row: the "no update for N days" light counts from here.
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # A member's row (浦东新区 for 各区政府, a unit a supervisor named for 各相关单位) names the
    # collective row it belongs to; that row is then a roll-up nobody writes.  NULL otherwise.
    collective_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)


class Progress(Base):
    """The current state of one assignment.  ``version`` grows by one on every save."""

    __tablename__ = "progress"

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.assignment_id"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20), default=NOT_STARTED)
    percent: Mapped[int] = mapped_column(Integer, default=0)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    next_step: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    period: Mapped[str] = mapped_column(String(10), default="")
    updated_by: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class ProgressHistory(Base):
    """Append-only log: one row per changed field per save."""

    __tablename__ = "progress_history"
    __table_args__ = (Index("ix_history_assignment", "assignment_id", "history_id"),)

    history_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.assignment_id"))
    field: Mapped[str] = mapped_column(String(20))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(10), default="")
    version: Mapped[int] = mapped_column(Integer)


class ProgressSnapshot(Base):
    """The state of each assignment at the end of a reporting period (last save in it wins)."""

    __tablename__ = "progress_snapshots"

    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.assignment_id"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20))
    percent: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class StoreMeta(Base):
    """Key/value facts about the store, e.g. the data revision used as a cache key."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class User(Base):
    """An account.  ``password_hash`` is an argon2 hash (empty for single-sign-on accounts).
    Failed sign-ins are counted in :class:`SignInThrottle`, not here, so that a name that
    does not exist is throttled exactly like one that does."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class SignInThrottle(Base):
    """Consecutive failed sign-ins, per typed name *from one client address* and per client
    address alone.  A name is locked only for the address that guessed it (an attacker cannot
    lock a colleague out), an address that guesses many names is locked as a whole, and a
    name that does not exist is counted and locked like one that does (the answers do not
    tell them apart)."""

    __tablename__ = "sign_in_throttle"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)  # "" for the address row
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class UserUnit(Base):
    """The units a staff account reports for (one or more)."""

    __tablename__ = "user_units"

    username: Mapped[str] = mapped_column(ForeignKey("users.username"), primary_key=True)
    unit: Mapped[str] = mapped_column(ForeignKey("units.unit"), primary_key=True)


class AccountHistory(Base):
    """Append-only: one row per change to an account (created, role and units, disabled or
    enabled, a lock lifted, a one-time code issued, a password set), who made it and when.
    Never a password or a code, only that one was set or issued."""

    __tablename__ = "account_history"

    history_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    field: Mapped[str] = mapped_column(String(30))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(DateTime)


class PasswordCode(Base):
    """A one-time code an admin handed to a user to set their password: only its SHA-256
    is kept, with the expiry; it is deleted when used or replaced by a newer one."""

    __tablename__ = "password_codes"

    username: Mapped[str] = mapped_column(ForeignKey("users.username"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    issued_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(DateTime)


class SupervisionStep(Base):
    """Append-only log of the supervision workflow: one row per step (签收, 报送, 审核, 退回,
    办结, and extension requests and decisions), with the account and time.

    ``period`` is the reporting period the step belongs to (a review belongs to the period
    of the report it reviews); ``text`` is the report, the reason for a send-back or for an
    extension; ``due_date`` the date an extension asks for; ``request_id`` links a decision
    to its request.
    """

    __tablename__ = "supervision_steps"
    __table_args__ = (Index("ix_supervision_assignment", "assignment_id", "period", "step_id"),)

    step_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.assignment_id"))
    period: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    request_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acted_by: Mapped[str] = mapped_column(String(100))
    acted_at: Mapped[datetime] = mapped_column(DateTime)


class Reminder(Base):
    """Append-only log of reminders (催办): who reminded which unit, when, about what."""

    __tablename__ = "reminders"

    reminder_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit: Mapped[str] = mapped_column(ForeignKey("units.unit"), index=True)
    period: Mapped[str] = mapped_column(String(10))
    items: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text, default="")
    sent_by: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[datetime] = mapped_column(DateTime)


class AccountContact(Base):
    """How to reach an account: an e-mail address (notices) and a mobile number (kept for
    SMS later).  Set by an admin (``python -m loaders contact email``, page 通知记录)."""

    __tablename__ = "account_contacts"

    username: Mapped[str] = mapped_column(ForeignKey("users.username"), primary_key=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    mobile: Mapped[str] = mapped_column(String(30), default="")
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class UnitRobot(Base):
    """A unit's group robot (企业微信, 钉钉, 飞书).  Only the name of its secret is stored
    (``secret_ref``): the webhook address and signing secret come from the environment or
    ``.streamlit/secrets.toml`` (:mod:`tracker.senders`), never from the database."""

    __tablename__ = "unit_robots"

    unit: Mapped[str] = mapped_column(ForeignKey("units.unit"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    secret_ref: Mapped[str] = mapped_column(String(60))
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Notice(Base):
    """The outbox: one row per notice and receiver (an account's e-mail or a unit's robot).

    Written in the transaction of the event that causes it (a send-back, an extension
    decision, a 催办) or by the scheduled scan; the unique key (rule, subject, day, channel,
    receiver) keeps a notice from being created twice.  ``python -m loaders notify`` claims
    due rows (``pending`` → ``sending``), sends them and records ``sent`` or the error
    (``pending`` again with a later ``next_try_at``, ``failed`` after the last attempt).
    """

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("rule", "subject", "day", "channel", "receiver", name="uq_notice_key"),
        Index("ix_notices_due", "status", "next_try_at"),
    )

    notice_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(120))
    day: Mapped[date] = mapped_column(Date)
    assignment_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    unit: Mapped[str] = mapped_column(String(100), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    receiver: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class EvidenceBlob(Base):
    """The bytes of an evidence file (佐证文件), stored once per content: ``sha256`` is the
    hex digest of ``content``, so the same photo attached to ten rows is one blob.  Blobs
    are never deleted: removing a file from a row keeps what it was."""

    __tablename__ = "evidence_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(DateTime)


class EvidenceFile(Base):
    """One file attached to one assignment's report: the name as uploaded (text only), who
    attached it and when, and who removed it and when (``removed_at`` set, the row kept)."""

    __tablename__ = "evidence_files"
    __table_args__ = (Index("ix_evidence_assignment", "assignment_id", "file_id"),)

    file_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.assignment_id"))
    sha256: Mapped[str] = mapped_column(ForeignKey("evidence_blobs.sha256"))
    file_name: Mapped[str] = mapped_column(Text)
    period: Mapped[str] = mapped_column(String(10))
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(DateTime)
    removed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class PolicySource(Base):
    """A published policy text with its bytes and SHA-256 (and the uploaded PDF/DOCX), so
    every server sees the same sources; ``data/sources/`` holds the seeds and an export.

    ``active`` marks the edition in force; a revision keeps the earlier row inactive.
    ``measures_digest`` is the store's measures digest once this row was published: a
    measures file with an older digest is known to be behind the database.
    """

    __tablename__ = "policy_sources"

    source_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    policy_id: Mapped[str] = mapped_column(String(100), index=True)
    file_name: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(200), default="")
    original: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    measures_digest: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    published_by: Mapped[str] = mapped_column(String(100), default="")
    published_at: Mapped[datetime] = mapped_column(DateTime)


class UnsavedEdit(Base):
    """An account's unsaved 进度填报 edits on one unit's grid, kept in the store so that a
    closed or reloaded tab, or another server, offers them back.  ``payload`` is JSON:
    assignment id -> the version the row was edited on and the changed cells.  Not progress:
    nothing here is in the history, and a save or 重新加载 deletes the row."""

    __tablename__ = "unsaved_edits"

    username: Mapped[str] = mapped_column(ForeignKey("users.username"), primary_key=True)
    unit: Mapped[str] = mapped_column(String(100), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
