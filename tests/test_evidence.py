"""Evidence files in the store, on SQLite and PostgreSQL: attached once per content, listed
and opened by who may, removed without loss, every step in the history, limits and the
办结 rule from config."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pandas as pd
import pytest
from sqlalchemy import func, select

from excel.evidence_gate import check_upload
from tests import evidence_samples as samples
from tests.factories import signed_in, staff
from tracker import supervision as sv
from tracker.errors import ImportFileError, PermissionDenied, ValidationError
from tracker.evidence import PDF, CheckedFile, Evidence
from tracker.models import EvidenceBlob
from tracker.progress import Update
from tracker.schema import LEADER
from tracker.store import Store

AT = datetime(2026, 11, 4, 9, 30)


@pytest.fixture
def store(make_store, small_measures) -> Store:
    return make_store(small_measures)


def aid(store: Store, task_id: str, unit: str) -> int:
    rows = store.assignments()
    return int(rows[(rows.task_id == task_id) & (rows.unit == unit)].assignment_id.iloc[0])


def test_attach_stores_each_content_once_and_opens_it_byte_for_byte(store) -> None:
    kw = staff(store, "市科委")
    evidence = Evidence(store)
    report, photo = samples.pdf(), samples.photo()
    row = aid(store, "demo-m01-t1", "市科委")
    other = aid(store, "demo-m02-t1", "市科委")
    before = store.revision()
    ids = evidence.attach(
        row,
        [check_upload(report, "验收报告.pdf"), check_upload(photo, "现场照片.jpg")],
        user=kw,
        at=AT,
    )
    evidence.attach(other, [check_upload(report, "验收报告（副本）.pdf")], user=kw, at=AT)
    assert store.revision() == before + 2
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(EvidenceBlob)) == 2  # PDF once
    files = evidence.files([row], user=kw)
    assert files["file_name"].tolist() == ["验收报告.pdf", "现场照片.jpg"]
    assert files["size"].tolist() == [len(report), len(photo)]
    assert files["sha256"].tolist() == [
        hashlib.sha256(report).hexdigest(),
        hashlib.sha256(photo).hexdigest(),
    ]
    assert files["period"].tolist() == ["2026-11", "2026-11"]
    opened = evidence.open(ids[0], user=kw)
    assert (opened.data, opened.mime, opened.download_name) == (report, PDF, "验收报告.pdf")
    summary = evidence.summary(user=signed_in(store)).set_index("assignment_id")
    assert summary.at[row, "evidence_count"] == 2
    assert summary.at[row, "evidence_files"] == "验收报告.pdf、现场照片.jpg"
    assert summary.at[other, "evidence_files"] == "验收报告（副本）.pdf"


def test_remove_keeps_the_blob_and_the_history_names_both_steps(store) -> None:
    kw = staff(store, "市科委")
    evidence = Evidence(store)
    row = aid(store, "demo-m01-t1", "市科委")
    photo = samples.photo()
    digest = hashlib.sha256(photo).hexdigest()
    (file_id,) = evidence.attach(row, [check_upload(photo, "照片.jpg")], user=kw, at=AT)
    evidence.remove(file_id, user=kw, at=datetime(2026, 11, 5, 10, 0))
    assert evidence.files([row], user=kw).empty
    removed = evidence.files([row], user=kw, include_removed=True)
    assert removed["removed_by"].tolist() == [kw.username]
    assert evidence.open(file_id, user=kw).data == photo  # nothing is lost
    with pytest.raises(ValidationError, match="已删除"):
        evidence.remove(file_id, user=kw)
    history = store.history(assignment_ids=[row], fields=["evidence_file"])
    described = f"照片.jpg（{len(photo):,} 字节，sha256:{digest}）"
    assert history[["old_value", "new_value", "changed_by"]].values.tolist() == [
        [described, "", kw.username],
        ["", described, kw.username],
    ]
    assert pd.to_datetime(history["changed_at"]).tolist() == [
        datetime(2026, 11, 5, 10, 0),
        AT,
    ]


def test_rights_per_role(store) -> None:
    evidence = Evidence(store)
    support_row = aid(store, "demo-m01-t1", "市教委")  # 市科委 leads demo-m01-t1
    jw = staff(store, "市教委")
    kw = staff(store, "市科委")
    cz = staff(store, "市财政局")
    boss = signed_in(store)
    leader = signed_in(store, "领导甲", LEADER)
    pdf = check_upload(samples.pdf(), "通知.pdf")
    (file_id,) = evidence.attach(support_row, [pdf], user=jw, at=AT)
    evidence.attach(support_row, [check_upload(samples.png(), "图.png")], user=boss, at=AT)
    for outsider in (kw, leader):
        with pytest.raises(PermissionDenied):
            evidence.attach(support_row, [pdf], user=outsider)
        with pytest.raises(PermissionDenied):
            evidence.remove(file_id, user=outsider)
    # Reading: the unit, its lead unit (the reviewer), supervisors and leaders; not others.
    for reader in (jw, kw, boss, leader):
        assert evidence.open(file_id, user=reader).file_name == "通知.pdf"
        assert len(evidence.files([support_row], user=reader)) == 2
    with pytest.raises(PermissionDenied, match="无权查看"):
        evidence.open(file_id, user=cz)
    assert evidence.files([support_row], user=cz).empty
    with pytest.raises(PermissionDenied, match="请先登录"):
        evidence.files(user="市教委填报员")  # type: ignore[arg-type]
    # Disabled since signing in: refused, whatever the object says.
    store.accounts.set_active(jw.username, False)
    with pytest.raises(PermissionDenied, match="停用"):
        evidence.attach(support_row, [pdf], user=jw)


def test_the_store_checks_type_size_and_count_itself(store, monkeypatch) -> None:
    kw = staff(store, "市科委")
    evidence = Evidence(store)
    row = aid(store, "demo-m01-t1", "市科委")
    # A caller that skipped the gate still cannot store a renamed program.
    with pytest.raises(ImportFileError, match="不是 PDF") as refused:
        evidence.attach(row, [CheckedFile("纪要.pdf", PDF, samples.exe())], user=kw)
    assert refused.value.file == "纪要.pdf"
    monkeypatch.setenv("TRACKER_EVIDENCE_MAX_FILES", "2")
    evidence.attach(row, [check_upload(samples.png(), "1.png")], user=kw)
    with pytest.raises(ValidationError, match="最多保留 2 个"):
        evidence.attach(
            row,
            [check_upload(samples.photo(), "2.jpg"), check_upload(samples.pdf(), "3.pdf")],
            user=kw,
        )
    assert evidence.files([row], user=kw)["file_name"].tolist() == ["1.png"]  # all or nothing
    monkeypatch.setenv("TRACKER_EVIDENCE_MAX_MB", "1")
    big = CheckedFile("大图.png", "image/png", samples.png((1500, 1500)) + bytes(1024 * 1024))
    with pytest.raises(ImportFileError, match="超过 1 MB"):
        evidence.attach(row, [big], user=kw)


@pytest.mark.parametrize("needs", ["yes", "no"])
def test_closing_needs_evidence_only_when_config_says_so(store, monkeypatch, needs) -> None:
    monkeypatch.setenv("TRACKER_CLOSE_NEEDS_EVIDENCE", needs)
    kw = staff(store, "市科委")
    boss = signed_in(store)
    supervision = sv.Supervision(store)
    row = aid(store, "demo-m01-t1", "市科委")
    version = int(store.assignments().set_index("assignment_id").at[row, "version"])
    store.apply([Update(row, version, {"status": "done"})], user=kw, source="web", at=AT)
    supervision.acknowledge(row, user=kw, at=AT)
    supervision.submit(row, "已完成", user=kw, at=AT)
    supervision.accept(row, "2026-11", user=boss, at=AT)
    if needs == "yes":
        with pytest.raises(ValidationError, match="尚未上传佐证文件"):
            supervision.close(row, "2026-11", user=boss, at=AT)
        Evidence(store).attach(row, [check_upload(samples.pdf(), "验收.pdf")], user=kw, at=AT)
    supervision.close(row, "2026-11", user=boss, at=AT)


def test_the_report_lists_each_rows_files(store) -> None:
    import io

    import openpyxl

    from excel.report import SHEET_DETAIL, build_report

    kw = staff(store, "市科委")
    row = aid(store, "demo-m01-t1", "市科委")
    Evidence(store).attach(
        row,
        [check_upload(samples.pdf(), "验收报告.pdf"), check_upload(samples.photo(), "现场.jpg")],
        user=kw,
        at=AT,
    )
    boss = signed_in(store)
    data = build_report(store.assignments(), evidence=Evidence(store).summary(user=boss))
    ws = openpyxl.load_workbook(io.BytesIO(data))[SHEET_DETAIL]
    header = [c.value for c in ws[2]]
    count_col, names_col = header.index("佐证文件数"), header.index("佐证文件")
    task_col, unit_col = header.index("任务编号"), header.index("责任单位")
    listed = {
        (r[task_col], r[unit_col]): (r[count_col], r[names_col] or "")
        for r in ws.iter_rows(min_row=3, values_only=True)
    }
    assert listed[("demo-m01-t1", "市科委")] == (2, "验收报告.pdf、现场.jpg")
    assert listed[("demo-m01-t1", "市教委")] == (0, "")
    assert len(listed) == 6


def test_the_audit_export_lists_every_attach_and_remove(store) -> None:
    import io

    import openpyxl

    from excel.audit import SHEET, build_audit_workbook
    from tracker.audit import audit_table

    kw = staff(store, "市科委")
    row = aid(store, "demo-m01-t1", "市科委")
    pdf = samples.pdf()
    (file_id,) = Evidence(store).attach(row, [check_upload(pdf, "验收.pdf")], user=kw, at=AT)
    Evidence(store).remove(file_id, user=kw, at=datetime(2026, 11, 6, 8, 0))
    history = store.history(fields=["evidence_file"])
    table = audit_table(history, {})
    assert list(table["政策"]) == list(history["policy_id"])  # no title known: the id
    ws = openpyxl.load_workbook(io.BytesIO(build_audit_workbook(table, "审计")))[SHEET]
    rows = [r for r in ws.iter_rows(min_row=3, values_only=True)]
    described = f"验收.pdf（{len(pdf):,} 字节，sha256:{hashlib.sha256(pdf).hexdigest()}）"
    header = [c.value for c in ws[2]]
    shown = [dict(zip(header, r, strict=True)) for r in rows]
    assert [(r["字段"], r["原值"] or "", r["新值"] or "", r["修改人"]) for r in shown] == [
        ("佐证文件", described, "", kw.username),
        ("佐证文件", "", described, kw.username),
    ]
