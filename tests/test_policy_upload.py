"""Adding a policy: PDF, DOCX and pasted text are read, parsed and checked
before anything is saved; unknown units map to the register; publishing saves the text
into the sources, rebuilds measures.csv and syncs the store through the same plan a
revision uses, so a restart or a rebuild neither loses nor doubles an uploaded policy."""

from __future__ import annotations

import io
import re
import shutil
import time
import zipfile
from pathlib import Path

import pytest
import streamlit as st
from pypdf import PdfWriter

from cli import main
from loaders import policy_files
from loaders.measures_csv import read_measures
from loaders.store_sync import file_digest, pending_revision, sync_measures_file
from loaders.units import read_units
from tests.factories import shown_text, signed_in, signed_in_app
from tracker.errors import ConflictError, ImportFileError, PermissionDenied, PolicyParseError
from tracker.progress import Update
from tracker.revisions import ADDED, CHANGED, MOVED
from tracker.schema import MEASURES_CSV, SOURCES_DIR, UNITS_CSV
from tracker.store import Store, make_engine

UPLOADS = Path(__file__).parent / "data" / "uploads"
SAMPLES = sorted(UPLOADS.glob("shuzi-keji-2025-8.*"))
POLICY = "shuzi-keji-2025-8"  # the sample files' name
DOC_ID = "hukegui-2025-8"  # the id proposed from their 文号 沪科规〔2025〕8号


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    """A copy of the shipped sources, register and measures table, as a server has them."""
    shutil.copytree(SOURCES_DIR, tmp_path / "sources")
    shutil.copy(UNITS_CSV, tmp_path / "units.csv")
    shutil.copy(MEASURES_CSV, tmp_path / "measures.csv")
    monkeypatch.setenv("TRACKER_SOURCES_DIR", str(tmp_path / "sources"))
    monkeypatch.setenv("TRACKER_UNITS_CSV", str(tmp_path / "units.csv"))
    monkeypatch.setenv("TRACKER_MEASURES_CSV", str(tmp_path / "measures.csv"))
    return tmp_path


def _registry(site: Path):
    return read_units((site / "units.csv").read_bytes())


@pytest.fixture
def store(site, make_store) -> Store:
    return make_store(read_measures((site / "measures.csv").read_bytes()))


# --- reading the file -----------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.suffix)
def test_every_format_gives_the_same_tasks_units_and_warnings(path, site):
    draft = policy_files.draft_policy(path.read_bytes(), path.name, _registry(site))
    assert draft.source_name == f"2025-07-01_{DOC_ID}.txt"
    assert draft.policy.title == "推进数字科技服务高质量发展的若干措施"
    assert draft.policy.doc_no == "沪科规〔2025〕8号"
    table = draft.tasks_table()
    assert list(table["牵头单位"]) == ["市经济信息化委", "市科委", "市科委", "市人才局"]
    assert list(table["配合单位"]) == [
        "市科委、市数据局",
        "市教委",
        "市财政局、市低碳办",
        "市人力资源社会保障局",
    ]
    assert list(table["完成时限"]) == ["2026-12-31", "", "", ""]
    assert [u.name for u in draft.unknown_units] == ["市低碳办"]
    messages = [w.message for w in draft.warnings]
    assert "单位「市经信委」按单位表记为「市经济信息化委」" in messages
    assert "未登记单位「市低碳办」，已按原名保留" in messages


def _blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _bomb_docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"0" * (policy_files.MAX_DOCX_UNPACKED + 1))
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"%PDF-1.4 garbage", "bad.pdf", "无法读取 PDF"),
        (_blank_pdf(), "scan.pdf", "没有可提取的文字"),
        (b"not a zip", "bad.docx", "无法读取 DOCX"),
        (_bomb_docx(), "bomb.docx", "解压后过大"),
        (b"x", "policy.xlsx", "不支持的文件类型"),
        (b"\x00\x01binary", "policy.txt", "NUL"),
    ],
    ids=["corrupt-pdf", "scanned-pdf", "corrupt-docx", "zip-bomb-docx", "xlsx", "binary-txt"],
)
def test_unreadable_files_are_refused_with_their_name(data, name, message, site):
    with pytest.raises((ImportFileError, PolicyParseError), match=message) as info:
        policy_files.draft_policy(data, name, _registry(site), policy_id="x-1")
    assert info.value.file == name


def _docx_with(document_xml: bytes) -> bytes:
    """The sample DOCX with its document.xml replaced (every other part as Word wrote it)."""
    source = zipfile.ZipFile(UPLOADS / f"{POLICY}.docx")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = document_xml if info.filename == "word/document.xml" else source.read(info)
            archive.writestr(info.filename, data)
    return out.getvalue()


_W = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'


@pytest.mark.parametrize(
    ("make", "name", "message"),
    [
        # 16 million empty paragraphs drove the process to 5 GB; 60,000 are refused unread
        (
            lambda: _docx_with(_W + b"<w:p/>" * 60_000 + b"</w:body></w:document>"),
            "h.docx",
            "段落过多",
        ),
        # a paragraph-free flood of elements
        (
            lambda: _docx_with(_W + b"<w:r/>" * 2_000_001 + b"</w:body></w:document>"),
            "h.docx",
            "元素",
        ),
        (
            lambda: _docx_with(
                b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]>' + _W + b"</w:body>"
            ),
            "h.docx",
            "实体声明",
        ),
        # what lxml raised as XMLSyntaxError, with a traceback, before
        (lambda: _docx_with(_W + b"<w:p><w:r><w:t>\xe4\xb8"), "h.docx", "无法读取 DOCX"),
        (lambda: (UPLOADS / f"{POLICY}.docx").read_bytes()[:-200], "cut.docx", "无法读取 DOCX"),
        (lambda: (UPLOADS / f"{POLICY}.pdf").read_bytes()[:900], "cut.pdf", "无法读取 PDF"),
        (
            lambda: ("（一）任务。（责任单位：市科委）\n" * 2_001).encode(),
            "h.txt",
            "编号条目超过 2000 条",
        ),
    ],
    ids=[
        "paragraph-flood",
        "element-flood",
        "entities",
        "bad-xml",
        "cut-docx",
        "cut-pdf",
        "measures",
    ],
)
def test_hostile_files_are_refused_before_parsing_naming_the_file(make, name, message, site):
    data = make()
    started = time.perf_counter()
    with pytest.raises(ImportFileError, match=message) as info:
        policy_files.draft_policy(data, name, _registry(site), policy_id="x-1")
    assert info.value.file == name
    assert time.perf_counter() - started < 5


def test_cli_add_of_a_broken_docx_exits_2_without_a_traceback(site, tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(make_engine(db))
    store.create_schema()
    signed_in(store, "boss")
    broken = tmp_path / "broken.docx"
    broken.write_bytes(_docx_with(_W + b"<w:p><w:t>unclosed"))
    assert main(["add", str(broken), "--user", "boss", "--db", db]) == 2
    err = capsys.readouterr().err
    assert "broken.docx" in err and "无法读取 DOCX" in err
    assert "Traceback" not in err


def test_a_text_without_clauses_lists_its_problems(site):
    with pytest.raises(PolicyParseError, match="责任"):
        policy_files.draft_policy(
            "关于某事的通知\n\n一、总则\n\n加强管理。".encode(), "a.txt", _registry(site)
        )


@pytest.mark.parametrize("policy_id", ["Bad Id", "中文", "-x", "a" * 61])
def test_a_bad_policy_id_is_refused(policy_id, site):
    with pytest.raises(Exception, match="政策编号"):
        policy_files.check_policy_id(policy_id)


def test_mapping_an_unknown_unit_files_it_under_the_registered_one(site):
    path = UPLOADS / f"{POLICY}.txt"
    draft = policy_files.draft_policy(path.read_bytes(), path.name, _registry(site))
    assert draft.unknown_units[0].suggestions  # the closest registered names are offered
    mapped = policy_files.map_units(draft, {"市低碳办": "市生态环境局"})
    assert mapped.unknown_units == ()
    assert list(mapped.tasks_table()["配合单位"])[2] == "市财政局、市生态环境局"
    assert mapped.registry.aliases()["市低碳办"] == "市生态环境局"
    assert policy_files.map_units(draft, {"市低碳办": ""}) is draft


# --- publishing -----------------------------------------------------------------------------


def _published(site, store, user, path=UPLOADS / f"{POLICY}.pdf", mapping=None):
    draft = policy_files.draft_policy(path.read_bytes(), path.name, _registry(site))
    draft = policy_files.map_units(draft, mapping or {})
    publication = policy_files.prepare(draft, store)
    report = policy_files.publish(publication, store, user, measures_csv=site / "measures.csv")
    return publication, report


def test_publish_saves_the_source_rebuilds_the_table_and_syncs(site, store, capsys):
    boss = signed_in(store)
    publication, report = _published(site, store, boss, mapping={"市低碳办": "市生态环境局"})
    assert [c.kind for c in publication.plan.changes] == [ADDED] * 4
    assert (report.added_tasks, report.added_assignments) == (4, 10)
    sources = site / "sources"
    assert (sources / f"2025-07-01_{DOC_ID}.txt").exists()
    assert (sources / "originals" / f"2025-07-01_{DOC_ID}.pdf").read_bytes() == (
        UPLOADS / f"{POLICY}.pdf"
    ).read_bytes()
    assert read_units((site / "units.csv").read_bytes()).resolve("市低碳办").unit == "市生态环境局"
    live = store.assignments()
    assert set(live.loc[live.policy_id == DOC_ID, "unit"]) >= {"市生态环境局", "市经济信息化委"}
    # A restart finds the store in line with the file (one digest), and a rebuild from the
    # sources gives the very same table: nothing lost, nothing doubled.
    assert store.content_digest() == file_digest((site / "measures.csv").read_bytes())
    assert pending_revision(store) is None
    revision = store.revision()
    assert not sync_measures_file(store).waiting and store.revision() == revision
    args = [
        "--sources",
        str(sources),
        "--out",
        str(site / "measures.csv"),
        "--units",
        str(site / "units.csv"),
    ]
    assert main(["build", "--check", *args]) == 0
    # The same file again: the same policy id, so it replaces itself and changes nothing.
    again = policy_files.prepare(
        policy_files.draft_policy(
            (UPLOADS / f"{POLICY}.pdf").read_bytes(), f"{POLICY}.pdf", _registry(site)
        ),
        store,
    )
    assert again.replaced == (f"2025-07-01_{DOC_ID}.txt",) and again.plan.changes == ()


def test_a_new_edition_is_a_revision_and_progress_follows_its_task(site, store):
    boss = signed_in(store)
    _published(site, store, boss, mapping={"市低碳办": "市生态环境局"})
    rows = store.assignments()
    ours = rows[rows.policy_id == DOC_ID]
    store.apply(
        [Update(int(r.assignment_id), 0, {"note": r.task_text[:10]}) for r in ours.itertuples()],
        user=boss,
        source="web",
    )
    text = (UPLOADS / f"{POLICY}.txt").read_text(encoding="utf-8")
    inserted = (
        "（一）完善科技服务统计制度。建立数字科技服务业统计监测体系。（责任单位：市统计局）\n\n"
    )
    revised = (
        text.replace("（一）建设公共算力", inserted + "（二）建设公共算力")
        .replace("（二）推动科学数据", "（三）推动科学数据")
        .replace("（三）支持数字", "（四）支持数字")
        .replace("（四）加强人才", "（五）加强人才")
    )
    revised = revised.replace("降低企业用算成本", "切实降低中小企业用算成本")
    path = site / f"{POLICY}.txt"
    path.write_text(revised, encoding="utf-8")
    publication, report = _published(site, store, boss, path=path)
    assert publication.replaced == (f"2025-07-01_{DOC_ID}.txt",)
    kinds = [c.kind for c in publication.plan.changes]
    assert kinds.count(ADDED) == 1 and kinds.count(CHANGED) == 1 and kinds.count(MOVED) == 3
    assert (report.added_tasks, report.changed_tasks, report.moved_tasks) == (1, 1, 3)
    after = store.assignments()
    ours = after[after.policy_id == DOC_ID]
    for r in ours.itertuples():
        if r.note:
            assert r.note == r.task_text[:10] or r.task_text.startswith("统筹全市智能算力资源")
        else:
            assert "统计" in r.task_text
    assert (site / "sources" / "superseded" / f"2025-07-01_{DOC_ID}.txt").exists()


def test_publish_is_refused_for_staff_and_for_a_stale_plan(site, store):
    path = UPLOADS / f"{POLICY}.txt"
    draft = policy_files.draft_policy(path.read_bytes(), path.name, _registry(site))
    publication = policy_files.prepare(draft, store)
    staff = signed_in(store, "市科委填报员", "staff", ["市科委"])
    with pytest.raises(PermissionDenied):
        policy_files.publish(publication, store, staff, measures_csv=site / "measures.csv")
    boss = signed_in(store)
    store.sync(read_measures((site / "measures.csv").read_bytes()).iloc[:-1], user=boss)
    with pytest.raises(ConflictError):
        policy_files.publish(publication, store, boss, measures_csv=site / "measures.csv")
    assert not (site / "sources" / f"2025-07-01_{DOC_ID}.txt").exists()


# --- the command line -----------------------------------------------------------------------


def test_cli_add_shows_then_publishes(site, tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(make_engine(db))
    store.create_schema()
    sync_measures_file(store)
    signed_in(store, "boss")
    signed_in(store, "kw01", "staff", ["市科委"])
    file = str(UPLOADS / f"{POLICY}.docx")
    assert main(["add", file, "--user", "kw01", "--db", db]) == 2
    assert "无权发布政策" in capsys.readouterr().err

    assert main(["add", file, "--user", "boss", "--db", db]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == (
        f"2025-07-01_{DOC_ID}.txt: 《推进数字科技服务高质量发展的若干措施》沪科规〔2025〕8号："
        "4 条措施，4 项任务，8 个责任单位"
    )
    assert "新增 4 项，删除（归档） 0 项，修改 0 项，移动 0 项，恢复 0 项，未变 49 项" in out
    assert out.splitlines()[-1].startswith("nothing written")
    assert (
        "confidence: 4 条措施，4 项任务，10 条分工行，1 个未登记单位，跳过 0 行" in out.splitlines()
    )
    assert "unknown unit: 市低碳办 (1 tasks)" in err and "--unit-alias 市低碳办=UNIT" in err
    assert not (site / "sources" / f"2025-07-01_{DOC_ID}.txt").exists()

    assert main(["add", file, "--user", "boss", "--db", db, "--unit-alias", "市低碳办"]) == 2
    capsys.readouterr()
    args = ["add", file, "--user", "boss", "--db", db, "--unit-alias", "市低碳办=市生态环境局"]
    assert main([*args, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "synced: 4 new tasks, 10 new assignments" in out
    assert len(store.assignments().query("policy_id == @DOC_ID")) == 10


CUT = Path(__file__).parent / "data" / "policies" / "incomplete" / "cut-bracket.txt"


def test_cli_add_refuses_a_cut_off_item_until_it_is_accepted(site, tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'cut.db'}"
    store = Store(make_engine(db))
    store.create_schema()
    sync_measures_file(store)
    signed_in(store, "boss")
    file = tmp_path / "cut-bracket.txt"  # item (二) stops at "市财": line 3
    shutil.copy(CUT, file)
    base = ["add", str(file), "--user", "boss", "--db", db, "--policy-id", "cut-1"]
    assert main(base) == 0
    assert "incomplete: cut-bracket.txt, line 3: publish with --accept-incomplete" in (
        capsys.readouterr().out
    )
    assert main([*base, "--yes"]) == 2
    err = capsys.readouterr().err
    assert "error: cut-bracket.txt, line 3: 最后一项的责任分工条款不完整" in err
    assert "--accept-incomplete" in err and "Traceback" not in err
    assert store.assignments().query("policy_id == 'cut-1'").empty

    assert main([*base, "--yes", "--accept-incomplete"]) == 0
    assert "synced: 1 new tasks, 1 new assignments" in capsys.readouterr().out
    published = store.assignments().query("policy_id == 'cut-1'")
    assert list(published["unit"]) == ["市科委"]


# --- the 政策库 page ------------------------------------------------------------------------


@pytest.fixture
def app_site(site, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{site / 'app.db'}")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield site
    st.cache_data.clear()
    st.cache_resource.clear()


def _frames(at, column: str) -> list:
    """The tables on the page that have ``column`` (AppTest does not expose their keys)."""
    return [d.value for d in at.dataframe if column in d.value.columns]


def _texts(elements) -> list[str]:
    return [shown_text(e.value) for e in elements]


def test_page_parses_pasted_text_maps_a_unit_and_publishes(app_site):
    at = signed_in_app("pages/policies.py")
    assert "政策库" in [t.value for t in at.title]
    at.radio(key="policies_how").set_value("粘贴正文").run()
    at.text_area(key="policies_text").input((UPLOADS / f"{POLICY}.txt").read_text("utf-8")).run()
    at.text_input(key="policies_id_粘贴的文本.txt").input(POLICY).run()
    at.button(key="policies_parse").click().run()
    assert not at.exception, at.exception
    (tasks,) = _frames(at, "牵头单位")
    assert len(tasks) == 4
    assert any("市低碳办" in w for w in _texts(at.warning))
    # the confidence report: 4 measures, 4 tasks, 4 leads + 6 supports, 市低碳办 unregistered
    assert "4 条措施，4 项任务，10 条分工行，1 个未登记单位，跳过 0 行" in _texts(at.caption)
    assert not (app_site / "sources" / f"2025-07-01_{POLICY}.txt").exists()  # nothing saved yet
    at.selectbox(key="policies_map_市低碳办").set_value("市生态环境局")
    at.button(key="policies_map").click().run()
    assert not any(s.key == "policies_map_市低碳办" for s in at.selectbox)
    (plan,) = _frames(at, "变化")
    assert list(plan["变化"]) == ["新增"] * 4
    at.button(key="policies_publish").click().run()
    assert not at.exception, at.exception
    assert any("已发布《推进数字科技服务高质量发展的若干措施》" in s for s in _texts(at.success))
    assert (app_site / "sources" / f"2025-07-01_{POLICY}.txt").exists()
    (listed,) = _frames(at, "政策编号")
    assert POLICY in set(listed["政策编号"])


def test_page_proposes_the_id_from_the_doc_no_and_names_pasted_text_as_such(app_site):
    """Pasted text: the id comes from its 文号 (沪科规〔2025〕8号), and every warning names
    粘贴的文本 and the line, never a .txt file the page made up (issue 23, item 10)."""
    at = signed_in_app("pages/policies.py")
    at.radio(key="policies_how").set_value("粘贴正文").run()
    at.text_area(key="policies_text").input((UPLOADS / f"{POLICY}.txt").read_text("utf-8")).run()
    at.button(key="policies_parse").click().run()
    assert not at.exception, at.exception
    assert "hukegui-2025-8" in at.session_state["policies_draft"].source_name
    warnings = _texts(at.warning)
    assert warnings and all(".txt" not in w for w in warnings), warnings
    assert any(re.match(r"粘贴的文本 第\d+行：", w) for w in warnings), warnings


def test_pasted_text_without_a_doc_no_asks_for_an_id(app_site):
    at = signed_in_app("pages/policies.py")
    at.radio(key="policies_how").set_value("粘贴正文").run()
    text = (UPLOADS / f"{POLICY}.txt").read_text("utf-8").replace("沪科规〔2025〕8号", "")
    at.text_area(key="policies_text").input(text).run()
    at.button(key="policies_parse").click().run()
    assert _texts(at.error) == ["粘贴的文本中没有识别出文号，请填写政策编号"]


def test_page_shows_a_waiting_revision_and_applies_it_when_confirmed(app_site):
    at = signed_in_app("pages/policies.py")
    measures = read_measures((app_site / "measures.csv").read_bytes())
    gone = measures["task_id"].iloc[0]
    (app_site / "measures.csv").write_bytes(
        policy_files.to_csv_bytes(measures[measures.task_id != gone])
    )
    at.run()
    (plan,) = _frames(at, "变化")
    assert list(plan["原编号"]) == [gone]
    at.button(key="policies_confirm_pending").click().run()
    assert not at.exception, at.exception
    assert any("修订已生效" in s for s in _texts(at.success))
    assert _frames(at, "变化") == []


@pytest.mark.parametrize("role", ["staff", "leader"])
def test_only_supervisors_get_the_page(app_site, role):
    at = signed_in_app(None, f"user-{role}", role, ["市科委"] if role == "staff" else [])
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/policies.py")


def test_page_publishes_a_cut_off_text_only_once_the_publisher_confirms(app_site):
    at = signed_in_app("pages/policies.py")
    at.radio(key="policies_how").set_value("粘贴正文").run()
    at.text_area(key="policies_text").input(CUT.read_text("utf-8")).run()
    at.text_input(key=f"policies_id_{policy_files.PASTED}").input("cut-1").run()
    at.button(key="policies_parse").click().run()
    assert not at.exception, at.exception
    errors = _texts(at.error)
    assert any(e.startswith("粘贴的文本 第3行：最后一项的责任分工条款不完整") for e in errors)
    assert at.button(key="policies_publish").disabled
    at.checkbox(key="policies_accept_incomplete").check().run()
    assert not at.button(key="policies_publish").disabled
    at.button(key="policies_publish").click().run()
    assert not at.exception, at.exception
    assert any(s.startswith("已发布") and "1 项任务" in s for s in _texts(at.success))
    assert any(
        n.startswith("2") and n.endswith("_cut-1.txt")
        for n in [p.name for p in (app_site / "sources").iterdir()]
    )
