"""Adding a policy: a PDF, a DOCX or pasted text -> a checked draft -> published sources.

The same three steps serve the 政策库 page and ``python -m loaders add FILE``:

1. :func:`draft_policy` reads the file (bytes, whatever the source) and parses it: the
   measures, tasks and units it would add, every warning, and each unit name the register
   does not know with the closest registered names;
2. :func:`prepare` rebuilds the whole measures table with the draft among the sources and
   asks the store what that changes (a :class:`~tracker.revisions.RevisionPlan`: a new
   policy only adds tasks; a new edition of a known policy id is a revision);
3. :func:`publish`, once a supervisor has seen that plan, saves the text into the sources
   folder, writes the register (if a unit name was mapped) and ``measures.csv``, and syncs
   the store with exactly that plan.

Uploaded policies live where the shipped ones do: the extracted text is saved as
``data/sources/<issue date>_<policy id>.txt`` (the original PDF/DOCX beside it, in
``originals/``), and ``measures.csv`` is rebuilt from the folder.  A restart or a
``python -m loaders build`` therefore finds the same table, and a second upload of the same
policy id replaces the earlier file (kept in ``superseded/``) instead of adding a twin.
The text, not the PDF, is the source: a rebuild never depends on a PDF library's version.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import pandas as pd

from loaders.measures_csv import build_measures, policies_frame, to_csv_bytes
from loaders.policy_gate import MAX_DOCX_UNPACKED as MAX_DOCX_UNPACKED  # re-exported
from loaders.policy_read import PASTED as PASTED  # re-exported
from loaders.policy_read import check_policy_id as check_policy_id  # re-exported
from loaders.policy_records import INCOMPLETE
from loaders.policy_text import ParseWarning, Policy, policy_id_from_name
from loaders.policy_worker import read_policy_bounded
from loaders.store_sync import file_digest
from loaders.units import UNKNOWN_KIND, UnitRegistry, read_units, write_units
from tracker import config
from tracker import sources as db_sources
from tracker.accounts import Account
from tracker.errors import ConflictError, PermissionDenied, PolicyParseError, TrackerError
from tracker.events import log_event
from tracker.revisions import RevisionPlan
from tracker.schema import LEAD
from tracker.store import Store, SyncReport

SOURCE_SUFFIXES = (".md", ".txt")
ORIGINALS = "originals"
SUPERSEDED = "superseded"
TASK_COLUMNS = ["措施", "任务编号", "任务内容", "牵头单位", "配合单位", "完成时限"]


def sources_dir() -> Path:
    """Where the published policy texts live: ``TRACKER_SOURCES_DIR``, else data/sources."""
    return Path(str(config.value("TRACKER_SOURCES_DIR")))


def units_csv() -> Path:
    """The unit register: ``TRACKER_UNITS_CSV``, else data/units.csv."""
    return Path(str(config.value("TRACKER_UNITS_CSV")))


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_sources(folder: Path) -> list[tuple[str, bytes]]:
    """``(file name, bytes)`` of every policy text in ``folder``, sorted by name (= by date)."""
    if not folder.is_dir():
        raise TrackerError(f"找不到政策原文目录 {folder}")
    files = sorted(_source_files(folder))
    if not files:
        raise TrackerError(f"目录 {folder} 中没有 .md 或 .txt 政策原文")
    return [(p.name, p.read_bytes()) for p in files]


def _source_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES]


# --- 2. text -> draft -----------------------------------------------------------------------


@dataclass(frozen=True)
class UnknownUnit:
    """A unit name the register does not know, how many tasks name it, and the closest
    registered units."""

    name: str
    tasks: int
    suggestions: tuple[str, ...]


@dataclass(frozen=True)
class Draft:
    """A parsed policy not yet published: what it would add, and what to check first."""

    original_name: str  # the uploaded file's name, as the user knows it
    original: bytes
    source_name: str  # the name the text is saved under: <issue date>_<policy id>.txt
    text: str
    policy: Policy
    frame: pd.DataFrame  # this policy's rows of the measures table
    warnings: tuple[ParseWarning, ...]
    unknown_units: tuple[UnknownUnit, ...]
    registry: UnitRegistry = field(repr=False)

    def tasks_table(self) -> pd.DataFrame:
        """One row per task: measure, id, text, lead and support units, stated deadline."""
        rows = []
        for task_id, group in self.frame.groupby("task_id", sort=False):
            first = group.iloc[0]
            lead = group["role"] == LEAD
            rows.append(
                (
                    f"（{first['measure_no']}）{first['measure_title']}",
                    task_id,
                    first["task_text"],
                    "、".join(group.loc[lead, "unit"]),
                    "、".join(group.loc[~lead, "unit"]),
                    first["due_hint"],
                )
            )
        return pd.DataFrame.from_records(rows, columns=TASK_COLUMNS)

    @property
    def incomplete(self) -> tuple[ParseWarning, ...]:
        """The cut-off items (a last clause without its closing bracket): left out of the
        tasks, so publishing needs the publisher's confirmation (:func:`publish`)."""
        return tuple(w for w in self.warnings if w.kind == INCOMPLETE)

    def summary(self) -> str:
        policy = self.policy
        return (
            f"《{policy.title or '（未识别标题）'}》{policy.doc_no}：{len(policy.measures)} 条措施，"
            f"{len(policy.tasks)} 项任务，{self.frame['unit'].nunique()} 个责任单位"
        )


def shown_name(file_name: str) -> str:
    """How the page names the policy's source to its user: the uploaded file's name, or
    粘贴的文本 (never a file name the page made up)."""
    return "粘贴的文本" if file_name == PASTED else file_name


def located(problem: object, file_name: str) -> list[str]:
    """A problem of one policy source (a parse error, several, or a warning) as lines that
    name the source as the user knows it and the line: ``粘贴的文本 第3行：…``.

    >>> from loaders.policy_text import ParseWarning
    >>> located(ParseWarning("编号不连续", "2025-05-27_x.txt", 3), PASTED)
    ['粘贴的文本 第3行：编号不连续']
    """
    parts = getattr(problem, "problems", None) or [problem]
    lines = []
    for part in parts:
        message = getattr(part, "message", None)
        if message is None or not getattr(part, "file", None):
            lines.append(str(part))
            continue
        line = getattr(part, "line", None)
        lines.append(f"{shown_name(file_name)}{f' 第{line}行' if line else ''}：{message}")
    return lines


def draft_policy(
    data: bytes,
    file_name: str,
    registry: UnitRegistry,
    *,
    policy_id: str | None = None,
) -> Draft:
    """Read and parse an uploaded policy; raises :class:`PolicyParseError` (every problem of
    the file) or :class:`ImportFileError` (also when reading and parsing, which run in a
    worker process, :mod:`loaders.policy_worker`, ran out of time or memory).

    ``policy_id`` defaults to one made from the 文号 (:func:`loaders.policy_read.proposed_policy_id`); it is
    what tells a new policy from a new edition of a known one, so the page lets the user
    set it.  Pasted text comes as :data:`PASTED`.
    """
    read = read_policy_bounded(data, file_name, policy_id)  # in a worker, within a budget
    text, source_name, policy = read.text, read.source_name, read.policy
    frame, unit_warnings = policies_frame([policy], registry)
    unknown = frame[frame["unit_kind"] == UNKNOWN_KIND]
    unknown_units = tuple(
        UnknownUnit(unit, int(group["task_id"].nunique()), tuple(registry.suggest(unit)))
        for unit, group in unknown.groupby(unknown["unit"].astype(str), sort=False)
    )
    return Draft(
        original_name=file_name,
        original=data,
        source_name=source_name,
        text=text,
        policy=policy,
        frame=frame,
        warnings=tuple(policy.warnings) + tuple(unit_warnings),
        unknown_units=unknown_units,
        registry=registry,
    )


def map_units(draft: Draft, mapping: dict[str, str]) -> Draft:
    """The draft again with unknown unit names mapped to registered units (as aliases in
    the register, so the next build files them the same way); "" keeps a name as it is."""
    registry = draft.registry
    for name, unit in mapping.items():
        if unit:
            registry = registry.with_alias(name, unit)
    if registry == draft.registry:
        return draft
    return draft_policy(
        draft.original, draft.original_name, registry, policy_id=draft.policy.policy_id
    )


# --- 3. draft -> plan -> published ------------------------------------------------------------


@dataclass(frozen=True)
class Publication:
    """The whole measures table with the draft among the sources, and the store's plan for it."""

    draft: Draft
    replaced: tuple[str, ...]  # source files of the same policy id the draft replaces
    csv: bytes
    frame: pd.DataFrame
    plan: RevisionPlan
    texts: tuple[tuple[str, bytes], ...] = ()  # every source text the table was built from

    @property
    def is_revision(self) -> bool:
        return bool(self.replaced)


def prepare(draft: Draft, store: Store, *, folder: Path | None = None) -> Publication:
    """Rebuild the measures table from the sources in the database (before any is stored
    there: ``folder``, default the sources folder) with the draft in it, and compute the store's plan for that table.  Writes nothing."""
    folder = folder or sources_dir()
    policy_id = draft.policy.policy_id
    if db_sources.has_sources(store):  # the database holds the sources every server shares
        existing = db_sources.stored_texts(store)
    else:
        existing = read_sources(folder) if any(_source_files(folder)) else []
    replaced = tuple(name for name, _ in existing if policy_id_from_name(name) == policy_id)
    sources = [(n, d) for n, d in existing if n not in replaced]
    sources.append((draft.source_name, draft.text.encode("utf-8")))
    result = build_measures(sorted(sources), draft.registry)
    csv = to_csv_bytes(result.frame)
    plan = store.plan_sync(result.frame, digest=file_digest(csv))
    return Publication(draft, replaced, csv, result.frame, plan, tuple(sorted(sources)))


def publish(
    publication: Publication,
    store: Store,
    user: Account,
    *,
    folder: Path | None = None,
    measures_csv: Path,
    units_file: Path | None = None,
    accept_incomplete: bool = False,
) -> SyncReport:
    """Publish the draft with the plan the user saw: text, register, tasks, assignments
    and the revision in one database transaction (:func:`tracker.sources.publish`), then
    the files (sources folder, register, measures.csv) as this server's mirror.

    Refused before anything is written when ``user`` is not a 督办员/admin now, or when the
    store has been synced since the plan was made (ConflictError: look again).  A kill
    before the commit leaves the old state; after it, the new state with files behind,
    which start-up reports (:func:`tracker.sources.disagreements`).

    A draft with a cut-off item (:attr:`Draft.incomplete`) is refused, naming the file and
    the line, unless the publisher confirmed it (``accept_incomplete``): the rows it lacks
    would otherwise go missing silently.
    """
    folder = folder or sources_dir()
    units_file = units_file or units_csv()
    account = store.accounts.account(user.username)
    if not account.supervises:
        raise PermissionDenied(f"账号 {account.username} 无权发布政策（需督办员或管理员）")
    if store.content_digest() != publication.plan.base:
        raise ConflictError("政策任务已被他人同步或修订，请重新解析并核对差异")
    draft = publication.draft
    if draft.incomplete and not accept_incomplete:
        raise PolicyParseError(
            f"{draft.incomplete[0].message}。确认原文后才能发布其余各项"
            "（政策库：勾选「我已确认末项不完整」；命令行：加 --accept-incomplete）",
            file=draft.original_name,
            line=draft.incomplete[0].line,
        )
    suffix = PurePath(draft.original_name).suffix.lower()
    report = db_sources.publish(
        store,
        account,
        publication.frame,
        publication.plan,
        db_sources.PublishedText(
            draft.source_name,
            draft.text.encode("utf-8"),
            draft.original_name,
            draft.original if suffix in (".pdf", ".docx") else None,
        ),
        units=write_units(draft.registry),
        others=[t for t in publication.texts if t[0] != draft.source_name],
        source=f"政策库：{draft.original_name}"[:200],
    )
    try:
        _mirror(publication, folder, measures_csv, units_file)
    except OSError as exc:  # committed: the files are only a mirror, start-up reports it
        log_event("mirror_failed", account.username, error=exc)
    return report


def _mirror(publication: Publication, folder: Path, measures_csv: Path, units_file: Path) -> None:
    """After the database committed: the register, the text (earlier edition moved to
    ``superseded/``), the original and measures.csv on this server's disk, as an export."""
    draft = publication.draft
    if not units_file.exists() or read_units(units_file.read_bytes()) != draft.registry:
        write_atomic(units_file, write_units(draft.registry))
    for name in publication.replaced:
        if (folder / name).exists():
            (folder / SUPERSEDED).mkdir(parents=True, exist_ok=True)
            os.replace(folder / name, folder / SUPERSEDED / name)
    write_atomic(folder / draft.source_name, draft.text.encode("utf-8"))
    suffix = PurePath(draft.original_name).suffix.lower()
    if suffix in (".pdf", ".docx"):
        write_atomic(
            folder / ORIGINALS / f"{PurePath(draft.source_name).stem}{suffix}", draft.original
        )
    write_atomic(measures_csv, publication.csv)


def current_registry(store: Store) -> UnitRegistry:
    """The unit register as last published to the database, else ``units.csv``."""
    stored = db_sources.stored_units(store)
    if stored is not None:
        return read_units(stored, name="数据库中的单位名册")
    return read_units(units_csv().read_bytes(), name=str(units_csv()))
