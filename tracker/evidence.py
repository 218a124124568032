"""Evidence files (佐证文件): a unit attaches the evidence of its report (a signed PDF, a
photo, a spreadsheet) to its row of a task, reviewers open it, and nothing attached is lost.

Files live in the database, so every server and every database backup has them: the bytes
once per content in ``evidence_blobs`` (keyed by sha256), and one ``evidence_files`` row per
file attached to an assignment, with the name as uploaded (kept as text, never used as a
path).  Removing a file marks its row removed and keeps the blob; both attaching and removing
write a row of the append-only ``progress_history`` (field ``evidence_file``: name, size and
sha256, who, when).

The deep content gate (zip bombs, macros, decompression bombs, polyglots) is
:mod:`excel.evidence_gate`, run where the upload arrives; the store checks again what it can
cheaply (allowed type, magic bytes matching that type, size and count limits), so a caller
that skipped the gate still cannot store a renamed program.

Rights, checked here against the account as stored at that moment: a 填报员 attaches to and
removes from its own units' rows; a 督办员 (or admin) any row; a 领导 none.  Reading: 督办员,
领导 and admin every row; a 填报员 its own units' rows and the rows of tasks its unit leads
(it reviews those units' reports).

>>> clean_name("../../etc/报告\\x00.pdf")
'报告.pdf'
>>> download_name("现场照片.pdf", PNG)
'现场照片.pdf.png'
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import func, insert, select, update

from tracker import config
from tracker.accounts import Account
from tracker.errors import ImportFileError, PermissionDenied, ValidationError
from tracker.models import (
    Assignment,
    EvidenceBlob,
    EvidenceFile,
    Progress,
    ProgressHistory,
)
from tracker.progress import now, period_of
from tracker.schema import EVIDENCE_FILE_FIELD, LEAD, SOURCE_WEB
from tracker.store import Store

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JPEG = "image/jpeg"
PNG = "image/png"
# The types a unit may attach, with the extension a download gets and how pages name them.
EXTENSIONS: dict[str, str] = {PDF: ".pdf", DOCX: ".docx", XLSX: ".xlsx", JPEG: ".jpg", PNG: ".png"}
TYPE_LABELS: dict[str, str] = {PDF: "PDF", DOCX: "Word", XLSX: "Excel", JPEG: "JPG", PNG: "PNG"}
IMAGES: frozenset[str] = frozenset({JPEG, PNG})
ACCEPTED = "PDF、Word（.docx）、Excel（.xlsx）、JPG、PNG"
# The part that makes an Office zip a document or a workbook.
OFFICE_MAIN_PART: dict[str, str] = {DOCX: "word/document.xml", XLSX: "xl/workbook.xml"}
MAX_NAME_CHARS = 120

FILE_COLUMNS: list[str] = [
    "file_id",
    "assignment_id",
    "task_id",
    "unit",
    "file_name",
    "mime",
    "size",
    "sha256",
    "period",
    "added_by",
    "added_at",
    "removed_by",
    "removed_at",
]
SUMMARY_COLUMNS: list[str] = ["assignment_id", "evidence_count", "evidence_files"]


def max_bytes() -> int:
    """The largest file a unit may attach (``TRACKER_EVIDENCE_MAX_MB``)."""
    return int(config.value("TRACKER_EVIDENCE_MAX_MB")) * 1024 * 1024  # type: ignore[call-overload]


def max_files() -> int:
    """The most files one row may hold at once (``TRACKER_EVIDENCE_MAX_FILES``)."""
    return int(config.value("TRACKER_EVIDENCE_MAX_FILES"))  # type: ignore[call-overload]


# --- names and bytes (pure) ------------------------------------------------------------------


def clean_name(name: object) -> str:
    """A file name as uploaded, made into plain text: no folders, no control or format
    characters, spaces collapsed, at most :data:`MAX_NAME_CHARS` characters (keeping the
    extension); ``未命名文件`` when nothing is left."""
    text = re.split(r"[\\/]", str(name or ""))[-1]
    text = "".join(" " if ch.isspace() else ch for ch in text)
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    text = re.sub(r" +", " ", text).strip(" .")
    if len(text) > MAX_NAME_CHARS:
        stem, dot, ext = text.rpartition(".")
        ext = dot + ext if dot and len(ext) <= 8 else ""
        text = text[: MAX_NAME_CHARS - len(ext)] + ext
    return text or "未命名文件"


def download_name(name: object, mime: str) -> str:
    """The name a download is saved under: :func:`clean_name` without the characters file
    systems or a Content-Disposition header trip on, ending in the stored type's extension
    (a PNG uploaded as ``x.pdf`` downloads as ``x.pdf.png``)."""
    text = re.sub(r'[<>:"|?*;%\'`]', "_", clean_name(name))
    endings = {JPEG: (".jpg", ".jpeg")}.get(mime, (EXTENSIONS.get(mime, ""),))
    if endings[0] and not text.lower().endswith(endings):
        text += endings[0]
    return text


def magic_type(data: bytes) -> str | None:
    """The allowed type ``data`` starts like (Office files: by the zip's main part), else
    None.  Only the signature: :mod:`excel.evidence_gate` checks the rest."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        for mime, part in OFFICE_MAIN_PART.items():
            if part in names:
                return mime
    return None


def describe(file_name: str, size: int, sha256: str) -> str:
    """How the history names a file: ``报告.pdf（12,345 字节，sha256:ab…）``."""
    return f"{file_name}（{size:,} 字节，sha256:{sha256}）"


@dataclass(frozen=True)
class CheckedFile:
    """A file ready to attach: its cleaned name, its type as read from the bytes, the bytes."""

    file_name: str
    mime: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class StoredFile:
    """An attached file read back: what a download needs."""

    file_id: int
    file_name: str
    mime: str
    size: int
    sha256: str
    data: bytes

    @property
    def download_name(self) -> str:
        return download_name(self.file_name, self.mime)


def content_refusal(file: CheckedFile, limit: int) -> str | None:
    """Why the store will not keep ``file`` (type, signature, size), or None."""
    if file.mime not in EXTENSIONS:
        return f"不支持的文件类型，仅接受 {ACCEPTED}"
    if not file.data:
        return "文件是空的"
    if file.size > limit:
        return f"文件超过 {limit // (1024 * 1024)} MB 上限"
    if magic_type(file.data) != file.mime:
        return f"文件内容不是 {TYPE_LABELS[file.mime]} 文件"
    return None


def write_refusal(account: Account, unit: str) -> str | None:
    """Why ``account`` may not attach to or remove from ``unit``'s row, or None."""
    if not account.writes:
        return f"账号 {account.username}（领导）只能查看佐证文件，不能上传或删除"
    if not account.may_edit_unit(unit):
        return f"账号 {account.username} 不负责「{unit}」，不能上传或删除该单位的佐证文件"
    return None


def read_refusal(account: Account, unit: str, lead_units: frozenset[str]) -> str | None:
    """Why ``account`` may not open ``unit``'s files, or None (readers of every unit, the
    unit's own 填报员, and the 填报员 of the task's lead unit, who reviews it)."""
    if account.reads_all or account.may_edit_unit(unit) or account.units & lead_units:
        return None
    return f"账号 {account.username} 无权查看「{unit}」的佐证文件"


# --- the store side --------------------------------------------------------------------------


class Evidence:
    """Attach, remove, list and open evidence files over a :class:`Store`'s engine."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    def attach(
        self,
        assignment_id: int,
        files: Sequence[CheckedFile],
        *,
        user: Account,
        at: datetime | None = None,
        source: str = SOURCE_WEB,
    ) -> list[int]:
        """Attach ``files`` to the assignment's row in one transaction, or nothing; the new
        file ids.  A refused file raises :class:`ImportFileError` naming it."""
        at = at or now()
        limit, most = max_bytes(), max_files()
        for file in files:
            why = content_refusal(file, limit)
            if why:
                raise ImportFileError(f"{why}，未保存", file=file.file_name)
        with self._writing() as conn:
            account = self._account(conn, user)
            unit, _version = self._row(conn, assignment_id)
            refusal = write_refusal(account, unit)
            if refusal:
                raise PermissionDenied(refusal)
            held = self._active_count(conn, assignment_id)
            if held + len(files) > most:
                raise ValidationError(
                    f"每项任务最多保留 {most} 个佐证文件（已有 {held} 个，本次 {len(files)} 个），"
                    "未保存；请先删除不再需要的文件"
                )
            ids = [
                self._attach_one(conn, int(assignment_id), file, account, at, source)
                for file in files
            ]
            self.store.bump_revision(conn)
            return ids

    def _attach_one(
        self,
        conn,
        assignment_id: int,
        file: CheckedFile,
        account: Account,
        at: datetime,
        source: str,
    ) -> int:
        digest = file.sha256
        # Writers hold the store lock, so no other transaction stores this blob meanwhile.
        if conn.scalar(select(EvidenceBlob.sha256).where(EvidenceBlob.sha256 == digest)) is None:
            conn.execute(
                insert(EvidenceBlob).values(
                    sha256=digest, size=file.size, mime=file.mime, content=file.data, stored_at=at
                )
            )
        name = clean_name(file.file_name)
        file_id = conn.execute(
            insert(EvidenceFile)
            .values(
                assignment_id=assignment_id,
                sha256=digest,
                file_name=name,
                period=period_of(at.date()),
                added_by=account.username,
                added_at=at,
            )
            .returning(EvidenceFile.file_id)
        ).scalar_one()
        new = describe(name, file.size, digest)
        self._history(conn, assignment_id, "", new, account, at, source)
        return int(file_id)

    def remove(
        self, file_id: int, *, user: Account, at: datetime | None = None, source: str = SOURCE_WEB
    ) -> None:
        """Take a file off its row; the row and the blob stay, the history says who and when."""
        at = at or now()
        with self._writing() as conn:
            account = self._account(conn, user)
            row = conn.execute(
                select(
                    EvidenceFile.assignment_id,
                    EvidenceFile.file_name,
                    EvidenceFile.removed_at,
                    EvidenceBlob.size,
                    EvidenceBlob.sha256,
                )
                .join(EvidenceBlob, EvidenceBlob.sha256 == EvidenceFile.sha256)
                .where(EvidenceFile.file_id == int(file_id))
            ).first()
            if row is None:
                raise ValidationError(f"未知的佐证文件编号 {file_id}")
            unit, _version = self._row(conn, row.assignment_id)
            refusal = write_refusal(account, unit)
            if refusal:
                raise PermissionDenied(refusal)
            if row.removed_at is not None:
                raise ValidationError(f"佐证文件「{row.file_name}」已删除")
            conn.execute(
                update(EvidenceFile)
                .where(EvidenceFile.file_id == int(file_id))
                .values(removed_by=account.username, removed_at=at)
            )
            old = describe(row.file_name, row.size, row.sha256)
            self._history(conn, row.assignment_id, old, "", account, at, source)
            self.store.bump_revision(conn)

    # --- reads ------------------------------------------------------------------------------

    def files(
        self,
        assignment_ids: Sequence[int] | None = None,
        *,
        user: Account,
        include_removed: bool = False,
    ) -> pd.DataFrame:
        """The files on the given rows (all rows when None) that ``user`` may read, oldest
        first, with :data:`FILE_COLUMNS` (never the bytes)."""
        query = (
            select(
                EvidenceFile.file_id,
                EvidenceFile.assignment_id,
                Assignment.task_id,
                Assignment.unit,
                EvidenceFile.file_name,
                EvidenceBlob.mime,
                EvidenceBlob.size,
                EvidenceFile.sha256,
                EvidenceFile.period,
                EvidenceFile.added_by,
                EvidenceFile.added_at,
                EvidenceFile.removed_by,
                EvidenceFile.removed_at,
            )
            .join(EvidenceBlob, EvidenceBlob.sha256 == EvidenceFile.sha256)
            .join(Assignment, Assignment.assignment_id == EvidenceFile.assignment_id)
            .order_by(EvidenceFile.file_id)
        )
        if assignment_ids is not None:
            query = query.where(EvidenceFile.assignment_id.in_([int(i) for i in assignment_ids]))
        if not include_removed:
            query = query.where(EvidenceFile.removed_at.is_(None))
        with self.engine.connect() as conn:
            account = self._account(conn, user)
            if not account.reads_all:
                led = select(Assignment.task_id).where(
                    Assignment.role == LEAD, Assignment.unit.in_(sorted(account.units))
                )
                query = query.where(
                    Assignment.unit.in_(sorted(account.units)) | Assignment.task_id.in_(led)
                )
            rows = conn.execute(query).all()
        return pd.DataFrame([tuple(r) for r in rows], columns=FILE_COLUMNS)

    def open(self, file_id: int, *, user: Account) -> StoredFile:
        """The bytes of one file (removed ones too: the history keeps them), if ``user`` may
        read its row."""
        with self.engine.connect() as conn:
            account = self._account(conn, user)
            row = conn.execute(
                select(
                    EvidenceFile.file_id,
                    EvidenceFile.file_name,
                    EvidenceFile.assignment_id,
                    EvidenceBlob.mime,
                    EvidenceBlob.size,
                    EvidenceBlob.sha256,
                    EvidenceBlob.content,
                )
                .join(EvidenceBlob, EvidenceBlob.sha256 == EvidenceFile.sha256)
                .where(EvidenceFile.file_id == int(file_id))
            ).first()
            if row is None:
                raise ValidationError(f"未知的佐证文件编号 {file_id}")
            unit, task_id = conn.execute(
                select(Assignment.unit, Assignment.task_id).where(
                    Assignment.assignment_id == row.assignment_id
                )
            ).one()
            refusal = read_refusal(account, unit, self._lead_units(conn, task_id))
            if refusal:
                raise PermissionDenied(refusal)
        return StoredFile(
            file_id=int(row.file_id),
            file_name=row.file_name,
            mime=row.mime,
            size=int(row.size),
            sha256=row.sha256,
            data=bytes(row.content),
        )

    def summary(self, *, user: Account) -> pd.DataFrame:
        """Per row with files: how many and their names (``、``-joined, oldest first), as the
        report lists them; only rows ``user`` may read."""
        files = self.files(user=user)
        if files.empty:
            return pd.DataFrame(columns=SUMMARY_COLUMNS)
        grouped = files.groupby("assignment_id", sort=True)["file_name"]
        return pd.DataFrame(
            {
                "assignment_id": grouped.size().index.astype("int64"),
                "evidence_count": grouped.size().to_numpy(),
                "evidence_files": grouped.agg("、".join).to_numpy(),
            }
        )

    # --- helpers ----------------------------------------------------------------------------

    def _writing(self):
        """The store's writer-lock transaction (:meth:`Store.writing`)."""
        return self.store.writing()

    def _account(self, conn, user: Account) -> Account:
        if not isinstance(user, Account):
            raise PermissionDenied(
                "请先登录：佐证文件的每次上传、删除和查看都必须对应一个已登录的账号"
            )
        return self.store.accounts.current(conn, user.username)

    @staticmethod
    def _row(conn, assignment_id: int) -> tuple[str, int]:
        row = conn.execute(
            select(Assignment.unit, Assignment.archived, Progress.version)
            .join(Progress, Progress.assignment_id == Assignment.assignment_id)
            .where(Assignment.assignment_id == int(assignment_id))
        ).first()
        if row is None or row.archived:
            raise ValidationError(f"未知的任务分工编号 {assignment_id}")
        return row.unit, int(row.version)

    @staticmethod
    def _lead_units(conn, task_id: str) -> frozenset[str]:
        return frozenset(
            conn.execute(
                select(Assignment.unit).where(
                    Assignment.task_id == task_id,
                    Assignment.role == LEAD,
                    Assignment.archived.is_(False),
                )
            ).scalars()
        )

    @staticmethod
    def _active_count(conn, assignment_id: int) -> int:
        return int(
            conn.scalar(
                select(func.count()).where(
                    EvidenceFile.assignment_id == int(assignment_id),
                    EvidenceFile.removed_at.is_(None),
                )
            )
            or 0
        )

    def _history(
        self,
        conn,
        assignment_id: int,
        old: str,
        new: str,
        account: Account,
        at: datetime,
        source: str = SOURCE_WEB,
    ) -> None:
        _unit, version = self._row(conn, assignment_id)
        conn.execute(
            insert(ProgressHistory).values(
                assignment_id=int(assignment_id),
                field=EVIDENCE_FILE_FIELD,
                old_value=old,
                new_value=new,
                changed_by=account.username,
                changed_at=at,
                source=source,
                period=period_of(at.date()),
                version=version,
            )
        )


def close_refusal(conn, assignment_id: int) -> str | None:
    """Why a task may not be closed (办结) yet for want of evidence, or None: only when
    ``TRACKER_CLOSE_NEEDS_EVIDENCE=yes`` and the row holds no file.  Called inside the
    closing transaction."""
    if not config.value("TRACKER_CLOSE_NEEDS_EVIDENCE"):
        return None
    if Evidence._active_count(conn, assignment_id):
        return None
    return "尚未上传佐证文件，不能办结（本系统要求办结前上传佐证材料）"
