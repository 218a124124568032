"""Hostile policy files: DOCX, PDF and text uploads built to exhaust the reader or the
parser, fed to ``python -m loaders add`` (the path 政策库 shares, :func:`draft_policy`).

Each must exit 2 naming the file, with no traceback, within :data:`POLICY_SECONDS`, and the
command's own process must stay small (:data:`POLICY_PEAK_MB`): the gate refuses what it
can see from sizes and counts, and what it lets through is read and parsed in a worker
process with a time and memory budget (:mod:`loaders.policy_worker`).  The cases are those
issue 23 met (16 million empty paragraphs in a 137 KB DOCX, 2.7 million one-letter
paragraphs, 8 MB of text with 60,000 measures, a truncated or entity-laden DOCX) and their
PDF kin; the files are built streaming, so building them costs the builder little memory.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.faults.cli_run import run_import
from bench.faults.databases import backend_of, fingerprint, seed_store
from bench.faults.hostile import _judge
from bench.faults.outcome import Outcome, timed
from bench.generate import synthetic_measures
from tracker.schema import SUPERVISOR

POLICY_SECONDS = 30.0  # wall time one refusal may take, the CLI and the worker starting included
POLICY_PEAK_MB = 400.0  # resident memory of the command itself (the worker is capped apart)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CHUNK = 1024 * 1024
_POLICY = ["关于推进某项工作的通知", "（一）完善创新券政策。（责任单位：市科委）"]


@dataclass(frozen=True)
class HostilePolicy:
    """One hostile upload: what it is, its file name, how to build its bytes, and what the
    refusal must say (besides the file name); ``env`` sets the command's environment."""

    what: str
    name: str
    build: Callable[[], bytes]
    says: str = ""
    env: dict[str, str] = field(default_factory=dict)


def _base_docx() -> bytes:
    from docx import Document

    document = Document()
    for line in _POLICY:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_with_body(repeat: bytes, times: int) -> bytes:
    """A real DOCX whose document.xml body is ``repeat`` ``times`` over, streamed into the
    archive a megabyte at a time (16 million paragraphs never sit in memory at once)."""
    base = _base_docx()
    out = io.BytesIO()
    per_chunk = max(1, _CHUNK // len(repeat))
    with zipfile.ZipFile(io.BytesIO(base)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            if info.filename != "word/document.xml":
                zout.writestr(info, zin.read(info.filename))
        target = zipfile.ZipInfo("word/document.xml")
        target.compress_type = zipfile.ZIP_DEFLATED
        with zout.open(target, "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0"?><w:document xmlns:w="{_W}"><w:body>'.encode())
            left = times
            while left:
                step = min(left, per_chunk)
                part.write(repeat * step)
                left -= step
            part.write(b"</w:body></w:document>")
    return out.getvalue()


def _entity_docx() -> bytes:
    """document.xml declares a billion-laughs entity and uses it."""
    laughs = '<!ENTITY a0 "ha">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    body = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [{laughs}]>'
        f'<w:document xmlns:w="{_W}"><w:body><w:p><w:r><w:t>&a9;</w:t></w:r></w:p>'
        "</w:body></w:document>"
    ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_base_docx())) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = body if info.filename == "word/document.xml" else zin.read(info.filename)
            zout.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF of ``objects`` (numbered from 1; 1 is the catalog) with a correct xref."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pdf_with_content(content: bytes, *, times: int = 1, pages: int = 1) -> bytes:
    """A PDF of ``pages`` references to one page drawing ``content`` ``times`` over
    (Flate-compressed a megabyte at a time)."""
    packer = zlib.compressobj(9)
    per_chunk = max(1, _CHUNK // len(content))
    chunks, left = [], times
    while left:
        step = min(left, per_chunk)
        chunks.append(packer.compress(content * step))
        left -= step
    packed = b"".join(chunks) + packer.flush()
    kids = b" ".join([b"3 0 R"] * pages)
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed)
            + packed
            + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def _many_measures_text(measures: int, body: str, gap: str = "\n\n") -> bytes:
    lines = ["关于某项工作的通知"]
    lines += [f"{n}. {body}（责任单位：市科委、市财政局）" for n in range(1, measures + 1)]
    return gap.join(lines).encode("utf-8")


_SLOW_BODY = "围绕重点产业链推进关键核心技术攻关，完善项目遴选和评价办法，强化要素保障。" * 25


def hostile_policy_corpus() -> list[HostilePolicy]:
    """Every hostile policy upload, cheapest to build first."""
    text_line = b"BT /F1 12 Tf 72 720 Td (a) Tj ET\n"
    return [
        HostilePolicy("a truncated DOCX", "truncated.docx", lambda: _base_docx()[:1500]),
        HostilePolicy(
            "a DOCX whose document.xml declares billion-laughs entities",
            "entities.docx",
            _entity_docx,
            "DTD",
        ),
        HostilePolicy(
            "16 million empty paragraphs (96 MB unpacked, ~140 KB zipped)",
            "empty-paragraphs.docx",
            lambda: docx_with_body(b"<w:p/>", 16_000_000),
        ),
        HostilePolicy(
            "2.7 million one-letter paragraphs",
            "one-letter-paragraphs.docx",
            lambda: docx_with_body(b"<w:p><w:r><w:t>a</w:t></w:r></w:p>", 2_700_000),
        ),
        HostilePolicy(
            "8 MB of text with 60,000 measures",
            "60000-measures.txt",
            lambda: _many_measures_text(60_000, "做好第某项工作，推进相关任务落实落地见效。"),
        ),
        HostilePolicy(
            "60,000 one-line measures under the character limit",
            "60000-short-measures.txt",
            lambda: _many_measures_text(60_000, "x", "\n"),
            "编号条目超过",
        ),
        HostilePolicy(
            "60,000 unnumbered sentences each with a responsibility clause",
            "60000-clauses.txt",
            lambda: "\n".join(
                ["关于某项工作的通知"] + ["做好甲。（责任单位：市科委）"] * 60_000
            ).encode(),
            "责任分工条款超过",
        ),
        HostilePolicy(
            "a text at the gate's limits (1,990 long measures) with a 1 s parse budget",
            "slow-text.txt",
            lambda: _many_measures_text(1_990, _SLOW_BODY),
            "解析超时",
            {"TRACKER_PARSE_SECONDS": "1"},
        ),
        HostilePolicy(
            "a truncated PDF", "truncated.pdf", lambda: pdf_with_content(text_line)[:300]
        ),
        HostilePolicy(
            "a PDF whose page inflates to 200 MB of drawing",
            "inflating.pdf",
            lambda: pdf_with_content(text_line, times=6_000_000),
        ),
        HostilePolicy(
            "a PDF of 200,000 pages (one page object referenced over and over)",
            "200000-pages.pdf",
            lambda: pdf_with_content(text_line, pages=200_000),
        ),
    ]


def hostile_policies(url: str, folder: Path, *, only: Sequence[str] | None = None) -> Outcome:
    """Feed each hostile policy (or those named in ``only``) to ``python -m loaders add`` in
    its own subprocess: exit 2 naming the file, no traceback, within the time and memory
    bounds, nothing written."""
    outcome = Outcome("hostile policies", backend_of(url))
    with timed(outcome):
        store, _csv = seed_store(url, synthetic_measures(60, units=6, seed=1), folder)
        user = "faults-policies"
        store.accounts.add(user, role=SUPERVISOR, password=None)
        corpus = hostile_policy_corpus()
        if only is not None:
            for name in sorted(set(only) - {c.name for c in corpus}):
                outcome.fail(f"no hostile policy named {name}")
            corpus = [c for c in corpus if c.name in only]
        before = fingerprint(store.engine)
        endings: Counter[str] = Counter()
        for case in corpus:
            file = folder / case.name
            file.write_bytes(case.build())
            run = run_import(url, _csv, file, user, command="add", env=case.env)
            file.unlink()
            _judge(outcome, endings, case.what, case.name, run)
            _bounds(outcome, case, run.seconds, run.peak_mb, run.output)
        if fingerprint(store.engine) != before:
            outcome.fail("a hostile policy wrote to the database")
        store.engine.dispose()
        outcome.counts = endings
        outcome.tried = f"{len(corpus)} hostile policy files through `python -m loaders add`: " + (
            "; ".join(c.what for c in corpus)
        )
        slowest = max((d for d in outcome.details), key=_seconds_of, default="")
        outcome.happened = (
            f"{endings['exit 2']} of {len(corpus)} refused with exit 2 naming the file; "
            f"slowest: {slowest}"
        )
    return outcome


def _bounds(outcome: Outcome, case: HostilePolicy, seconds: float, peak_mb: float, said: str):
    """The refusal came in time, the command stayed small, and it said what it should."""
    outcome.details[-1] += f" ({seconds:.1f} s)"
    if seconds > POLICY_SECONDS:
        outcome.fail(f"{case.what} ({case.name}): took {seconds:.1f} s (> {POLICY_SECONDS:g} s)")
    if peak_mb > POLICY_PEAK_MB:
        outcome.fail(f"{case.what} ({case.name}): the command reached {peak_mb:,.0f} MB")
    if case.says and case.says not in said:
        outcome.fail(f"{case.what} ({case.name}): does not say {case.says!r}: {said[-200:]!r}")


def _seconds_of(detail: str) -> float:
    try:
        return float(detail.rsplit("(", 1)[1].split(" s)")[0])
    except (IndexError, ValueError):
        return 0.0
