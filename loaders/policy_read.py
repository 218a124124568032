"""A policy file's bytes to its text and its parsed :class:`~loaders.policy_text.Policy`.

What may run long or large on a hostile file lives here: the PDF and DOCX readers and the
parser.  The module imports nothing heavier than them (no pandas), so the worker process
:mod:`loaders.policy_worker` runs :func:`read_policy` under a small address-space limit;
every function is pure and callable in-process too (tests, the benchmark).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import PurePath

from loaders.policy_gate import check_docx, check_text
from loaders.policy_records import FILE_NAME_DATE
from loaders.policy_text import (
    ParseWarning,
    Policy,
    decode_policy,
    parse_policy,
    policy_id_from_name,
)
from tracker.errors import ImportFileError, TrackerError, ValidationError

UPLOAD_SUFFIXES = (".pdf", ".docx", ".txt", ".md")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_PDF_PAGES = 500


def extract_text(data: bytes, file_name: str) -> str:
    """The text of a policy file: PDF (pypdf), DOCX (python-docx), or UTF-8/GB18030 text.

    Every file passes the gate first (:mod:`loaders.policy_gate`: sizes and counts, before a
    reader builds anything), and whatever a reader raises on a damaged or hostile file comes
    back as :class:`ImportFileError` naming the file; nothing here writes anything.
    """
    suffix = PurePath(file_name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise ImportFileError(
            f"不支持的文件类型「{suffix or '无扩展名'}」（可上传 PDF、DOCX、TXT、MD）",
            file=file_name,
        )
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportFileError(f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB", file=file_name)
    if suffix == ".pdf":
        text = _read_with(_pdf_text, data, file_name, "PDF")
    elif suffix == ".docx":
        check_docx(data, file_name)
        text = _read_with(_docx_text, data, file_name, "DOCX")
    else:
        text = decode_policy(data, file_name)
    check_text(text, file_name)
    return text


def _read_with(reader: Callable[[bytes, str], str], data: bytes, file_name: str, kind: str) -> str:
    """``reader(data, file_name)``, with any error of the third-party reader (pypdf, lxml,
    zipfile, zlib: each raises its own types, and a hostile file reaches odd ones such as
    RecursionError) turned into :class:`ImportFileError` naming the file."""
    try:
        return reader(data, file_name)
    except TrackerError:
        raise
    except Exception as exc:  # any reader error, RecursionError included: see the docstring
        reason = type(exc).__name__
        raise ImportFileError(
            f"无法读取 {kind}（文件损坏、不完整或格式不受支持：{reason}）", file=file_name
        ) from exc


def _pdf_text(data: bytes, file_name: str) -> str:
    """The text of every page in pypdf's layout mode: lines where the page has them and a
    blank line where it leaves a gap, so paragraphs stay apart (the plain mode runs a
    paragraph's last line into the next one's number, and a clause's bracket then seems
    never to close); the padding it lays lines out with is trimmed."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise ImportFileError("PDF 已加密，无法读取文字", file=file_name)
    if len(reader.pages) > MAX_PDF_PAGES:
        raise ImportFileError(f"PDF 超过 {MAX_PDF_PAGES} 页", file=file_name)
    pages = [page.extract_text(extraction_mode="layout") or "" for page in reader.pages]
    text = "\n".join(line.strip() for page in pages for line in page.splitlines())
    if not text.strip():
        raise ImportFileError(
            "PDF 中没有可提取的文字（可能是扫描件），请上传文字版或粘贴正文", file=file_name
        )
    return text


def _docx_text(data: bytes, file_name: str) -> str:
    from docx import Document

    document = Document(io.BytesIO(data))
    # One paragraph per block, blank lines between: the paragraph style the parser reads.
    return "\n\n".join(p.text for p in document.paragraphs if p.text.strip())


_NAME_DATE_RE = re.compile(
    r"(?<!\d)(?P<y>20\d{2})(?:[-_.年]?)(?P<m>0[1-9]|1[0-2]|[1-9](?=[^\d]))(?:[-_.月]?)"
    r"(?P<d>0[1-9]|[12]\d|3[01]|[1-9](?!\d))日?(?!\d)"
)


def date_from_file_name(file_name: str) -> date | None:
    """The date a file name carries (``2025-03-01_x.pdf``, ``通知20250301.docx``,
    ``2025年3月1日印发.txt``), or None.

    >>> date_from_file_name("2025-03-01_x.pdf"), date_from_file_name("通知20250301.docx")
    (datetime.date(2025, 3, 1), datetime.date(2025, 3, 1))
    >>> date_from_file_name("2025年3月1日印发.txt"), date_from_file_name("hufubanfa-2025-11.md")
    (datetime.date(2025, 3, 1), None)
    """
    for match in _NAME_DATE_RE.finditer(PurePath(file_name).stem):
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            continue
    return None


PASTED = "粘贴的文本.txt"  # the file name pasted text is read under
_DOC_NO_RE = re.compile(
    r"^(?P<issuer>[\u4e00-\u9fff]+)\s*[〔［\[(（](?P<year>\d{4})[〕］\])）]\s*第?(?P<no>\d+)\s*号$"
)


def policy_id_from_doc_no(doc_no: str) -> str:
    """The id a 文号 suggests: the issuer's abbreviation in pinyin, the year, the number;
    "" when the 文号 is not of that form.

    >>> policy_id_from_doc_no("沪府办发〔2025〕11号"), policy_id_from_doc_no("无")
    ('hufubanfa-2025-11', '')
    """
    match = _DOC_NO_RE.match(doc_no.strip())
    if not match:
        return ""
    from pypinyin import lazy_pinyin  # 1 s to import: only when a 文号 is to be spelled

    letters = "".join(lazy_pinyin(match["issuer"], errors="ignore"))
    slug = re.sub(r"[^a-z0-9]+", "", letters.lower())
    return f"{slug}-{match['year']}-{int(match['no'])}" if slug else ""


def proposed_policy_id(doc_no: str, file_name: str) -> str:
    """The id proposed for a policy nobody named: from its 文号, else from the uploaded
    file's name; pasted text without a 文号 has no name to take one from, so it is asked for
    (two such pastes must never share an id)."""
    from_doc_no = policy_id_from_doc_no(doc_no)
    if from_doc_no:
        return from_doc_no
    if file_name == PASTED:
        raise ValidationError("粘贴的文本中没有识别出文号，请填写政策编号")
    return policy_id_from_name(file_name)


def check_policy_id(policy_id: str) -> str:
    policy_id = policy_id.strip()
    if not _POLICY_ID_RE.match(policy_id) or len(policy_id) > 60:
        raise TrackerError(
            f"政策编号「{policy_id}」无效：只能用小写字母、数字和连字符（如 hufubanfa-2025-11），"
            "不超过 60 个字符"
        )
    return policy_id


_POLICY_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class ReadPolicy:
    """What reading a file gives: its text, the name it is saved under, the parsed policy."""

    text: str
    source_name: str  # <issue date>_<policy id>.txt (or .md)
    policy: Policy


def read_policy(data: bytes, file_name: str, policy_id: str | None) -> ReadPolicy:
    """Extract ``file_name``'s text and parse it as policy ``policy_id`` (None: the id its
    文号 suggests, :func:`proposed_policy_id`), dated by its body, else by the date its file
    name carries (with a warning), else today.  Raises :class:`ImportFileError`,
    :class:`~tracker.errors.PolicyParseError` or, for an unusable id, :class:`TrackerError`.
    """
    text = extract_text(data, file_name)
    suffix = ".md" if PurePath(file_name).suffix.lower() == ".md" else ".txt"
    provisional = parse_policy(text, file_name)
    policy_id = check_policy_id(policy_id or proposed_policy_id(provisional.doc_no, file_name))
    named = None if provisional.issue_date else date_from_file_name(file_name)
    issued = provisional.issue_date or named or date.today()
    source_name = f"{issued.isoformat()}_{policy_id}{suffix}"
    policy = parse_policy(text, source_name)
    if named is not None:
        policy.issue_date = named
        policy.warnings.append(
            ParseWarning(
                f"正文中没有成文日期，按文件名「{file_name}」记为 {named.isoformat()}，请核对",
                source_name,
                None,
                FILE_NAME_DATE,
            )
        )
    return ReadPolicy(text, source_name, policy)
