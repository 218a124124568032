"""Evidence files (佐证文件) on a page: the files on one row with their downloads, an uploader
for who may attach, and the reviewer's view with image thumbnails and PDF page counts.

Every upload goes through :mod:`excel.evidence_gate` (type by content, zip and image bomb
checks) and then :class:`tracker.evidence.Evidence`, which checks the account's rights again
and writes the history.  Names are shown as text (:mod:`webui.safe`); downloads carry the
stored type and a cleaned name, and Streamlit serves them as attachments.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from excel import evidence_gate
from tracker.accounts import Account
from tracker.errors import TrackerError
from tracker.evidence import (
    ACCEPTED,
    IMAGES,
    PDF,
    TYPE_LABELS,
    Evidence,
    download_name,
    max_bytes,
    max_files,
    write_refusal,
)
from tracker.store import Store
from webui import safe

_FLASH = "evidence_flash"
_GENERATION = "evidence_generation"


def _size(size: int) -> str:
    return f"{size / 1024:,.0f} KB" if size < 1024 * 1024 else f"{size / 1048576:,.1f} MB"


def _loader(evidence: Evidence, account: Account, file_id: int) -> Callable[[], bytes]:
    # Read on click, with the rights checked again then: the page never holds every file.
    return lambda: evidence.open(file_id, user=account).data


@st.cache_data(max_entries=500, show_spinner=False)
def _preview(sha256: str, mime: str, _load: Callable[[], bytes]) -> tuple[bytes | None, int | None]:
    """(thumbnail PNG, PDF page count) of one stored content, cached by its hash (the
    same bytes always give the same preview; only files the account may read are asked)."""
    if mime in IMAGES:
        return evidence_gate.thumbnail(_load()), None
    if mime == PDF:
        return None, evidence_gate.pdf_pages(_load())
    return None, None


def _download(evidence: Evidence, account: Account, file, key: str) -> None:
    st.download_button(
        "下载",
        _loader(evidence, account, int(file.file_id)),
        download_name(file.file_name, file.mime),
        file.mime,
        key=f"evidence_download_{key}_{file.file_id}",
        on_click="ignore",
    )


def _describe(file) -> str:
    return (
        f"{file.file_name}（{TYPE_LABELS.get(file.mime, file.mime)}，{_size(int(file.size))}）"
        f"　{file.added_by} 上传于 {pd.Timestamp(file.added_at):%Y-%m-%d %H:%M}"
    )


def manager(store: Store, account: Account, assignment_id: int, unit: str, *, key: str) -> None:
    """The files on one row, a download for each, and, for an account that may write for
    ``unit``, a remove button for each and an uploader."""
    evidence = Evidence(store)
    flash = st.session_state.pop(f"{_FLASH}_{key}", None)
    if flash:
        for message in flash["refused"]:
            safe.error(message)
        if flash["saved"]:
            safe.success(f"已上传佐证文件：{'、'.join(flash['saved'])}。")
    files = evidence.files([assignment_id], user=account)
    may_write = write_refusal(account, unit) is None
    if files.empty:
        st.caption("尚未上传佐证文件。")
    for file in files.itertuples(index=False):
        name, get, drop = st.columns([6, 1, 1], vertical_alignment="center")
        with name:
            safe.caption(_describe(file))
        with get:
            _download(evidence, account, file, key)
        if may_write and drop.button("删除", key=f"evidence_remove_{key}_{file.file_id}"):
            safe.attempt(
                lambda f=int(file.file_id): evidence.remove(f, user=account),
                f"已删除佐证文件「{file.file_name}」（原文件保留在修改记录中）。",
            )
    if may_write:
        _uploader(evidence, account, assignment_id, key)


def _uploader(evidence: Evidence, account: Account, assignment_id: int, key: str) -> None:
    generation = st.session_state.get(f"{_GENERATION}_{key}", 0)
    uploads = st.file_uploader(
        "上传佐证文件",
        accept_multiple_files=True,
        key=f"evidence_upload_{key}_{generation}",
        help=f"接受 {ACCEPTED}；每个文件不超过 {max_bytes() // 1048576} MB，"
        f"每项任务最多 {max_files()} 个。文件类型按内容判断，与扩展名无关。",
    )
    if not st.button("上传", key=f"evidence_attach_{key}", disabled=not uploads):
        return
    accepted, refused = evidence_gate.check_uploads((u.name, u) for u in uploads or [])
    saved: list[str] = []
    if accepted:
        try:
            evidence.attach(assignment_id, accepted, user=account)
            saved = [f.file_name for f in accepted]
        except TrackerError as exc:
            refused.append(exc)
    st.session_state[f"{_FLASH}_{key}"] = {
        "saved": saved,
        "refused": [f"未保存：{exc}" for exc in refused],
    }
    st.session_state[f"{_GENERATION}_{key}"] = generation + 1  # an empty uploader again
    st.rerun()


def viewer(store: Store, account: Account, assignment_id: int, *, key: str) -> None:
    """What a reviewer sees of a row's files: a thumbnail of each image, the page count of
    each PDF, and a download for every file."""
    evidence = Evidence(store)
    files = evidence.files([assignment_id], user=account)
    if files.empty:
        st.caption("佐证文件：未上传。")
        return
    st.caption(f"佐证文件（{len(files)} 个）")
    for file in files.itertuples(index=False):
        picture, pdf_pages = _preview(
            file.sha256, file.mime, _loader(evidence, account, int(file.file_id))
        )
        left, right = st.columns([3, 1], vertical_alignment="center")
        with left:
            if picture is not None:
                st.image(picture, width=240)
            pages = f"，共 {pdf_pages} 页" if pdf_pages else ""
            safe.caption(_describe(file) + pages)
        with right:
            _download(evidence, account, file, key)
