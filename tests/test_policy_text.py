"""Parsing published policy texts.  Expected numbers come from reading the documents by hand."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders.policy_text import Policy, cn_numeral, decode_policy, parse_policy, policy_id_from_name
from loaders.units import parse_clause, read_units, split_clause, split_units
from tracker.errors import PolicyParseError, TrackerError
from tracker.schema import LEAD, SOURCES_DIR, SUPPORT, UNITS_CSV

DATA = Path(__file__).parent / "data"
MD_2025 = "2025-05-27_hufubanfa-2025-11.md"
PDF_2024 = "2024-09-27_hufubangui-2024-14.txt"
FIXTURE_MD = "2025-03-01_lvse-jiaotong-2025-3.md"
FIXTURE_PDF = "2024-06-12_shuju-yaosu-2024-7.txt"


def load(folder: Path, name: str) -> Policy:
    return parse_policy(decode_policy((folder / name).read_bytes(), name), name)


def units_of(policy: Policy, measure_no: int, task_seq: int = 1) -> list[tuple[str, str]]:
    measure = next(m for m in policy.measures if m.no == measure_no)
    task = measure.tasks[task_seq - 1]
    return [(u.unit, u.role) for u in task.units]


@pytest.fixture(scope="module")
def md2025() -> Policy:
    return load(SOURCES_DIR, MD_2025)


@pytest.fixture(scope="module")
def pdf2024() -> Policy:
    return load(SOURCES_DIR, PDF_2024)


# --- the two real sources ----------------------------------------------------------------------


def test_counts_of_real_sources(md2025: Policy, pdf2024: Policy) -> None:
    assert len(md2025.measures) == 16
    assert len(pdf2024.measures) == 10
    assert len(md2025.tasks) == 39
    assert len(pdf2024.tasks) == 10
    # tasks per measure in the 2025 text, counted paragraph by paragraph
    assert [len(m.tasks) for m in md2025.measures] == [
        3,
        2,
        2,
        3,
        3,
        3,
        2,
        2,
        1,
        2,
        4,
        2,
        2,
        4,
        2,
        2,
    ]
    assert [len(m.tasks) for m in pdf2024.measures] == [1] * 10
    rows_2025 = sum(len(t.units) for t in md2025.tasks)
    rows_2024 = sum(len(t.units) for t in pdf2024.tasks)
    assert (rows_2025, rows_2024) == (121, 49)
    assert rows_2025 + rows_2024 == 170
    leads = [u for p in (md2025, pdf2024) for t in p.tasks for u in t.units if u.role == LEAD]
    assert len(leads) == 49
    names = {u.unit for p in (md2025, pdf2024) for t in p.tasks for u in t.units}
    assert len(names) == 33
    assert [len(t.units) for t in pdf2024.tasks] == [5, 2, 4, 2, 7, 6, 7, 4, 7, 5]


def test_metadata_2025(md2025: Policy) -> None:
    assert md2025.policy_id == "hufubanfa-2025-11"
    assert md2025.doc_no == "沪府办发〔2025〕11号"
    assert md2025.title == "关于进一步深化改革创新 加快科技服务业高质量发展的若干意见"
    assert md2025.issuer == "上海市人民政府办公厅"  # the signing body, not the 发布机构 header
    assert md2025.issue_date == date(2025, 5, 17)
    assert md2025.effective_from is None and md2025.effective_to is None
    assert md2025.source_url == (
        "http://stcsm.sh.gov.cn/zwgk/kjzc/zcwj/qtzcwj/20250527/ad5cf4a2721647b18c1b9fd6f4ca8637.html"
    )


def test_metadata_2024(pdf2024: Policy) -> None:
    assert pdf2024.policy_id == "hufubangui-2024-14"
    assert pdf2024.doc_no == "沪府办规〔2024〕14号"
    assert pdf2024.title == "上海市加快科技服务业高质量发展的若干措施"
    assert pdf2024.issuer == "上海市人民政府办公厅"
    assert pdf2024.issue_date == date(2024, 9, 27)
    assert pdf2024.effective_from == date(2024, 10, 10)
    assert pdf2024.effective_to == date(2027, 10, 9)
    assert pdf2024.source_url == ""


def test_sections_and_titles(md2025: Policy, pdf2024: Policy) -> None:
    assert [(s.no, s.title) for s in md2025.sections] == [
        (1, "提升科技服务供给质量"),
        (2, "促进科技服务市场升级"),
        (3, "强化科技服务要素保障"),
    ]
    assert [len(s.measures) for s in md2025.sections] == [7, 4, 5]
    assert [s.title for s in pdf2024.sections] == [
        "壮大主体，提供高质量发展新动能",
        "优化结构，构筑高质量发展新优势",
        "提升能级，开辟高质量发展新赛道",
        "强化引导，营造高质量发展新生态",
    ]
    assert [m.no for m in md2025.measures] == list(range(1, 17))
    assert md2025.measures[0].title == "推动科技创新资源开放"
    assert md2025.measures[2].title == "深化科技社团和科技期刊改革"  # indented bold line
    assert md2025.measures[15].title == "优化科技服务业发展推进机制"
    assert pdf2024.measures[0].title == "强化科技服务示范引领作用"
    assert pdf2024.measures[9].title == "强化服务保障"


def test_green_channel_task_units(md2025: Policy) -> None:
    task = next(t for t in md2025.tasks if "企业机时申请绿色通道" in t.text)
    assert [(u.unit, u.role, u.rank) for u in task.units] == [
        ("市科委", LEAD, 1),
        ("市发展改革委", SUPPORT, 2),
    ]
    assert task.text == (
        "优化运营管理和开放共享考核制度，加大重大科技基础设施、大型科学仪器向社会开放力度。"
        "建立企业机时申请绿色通道，保障企业用户的机时比例。"
    )


def test_2024_task_text_is_joined_exactly(pdf2024: Policy) -> None:
    first = pdf2024.measures[0].tasks[0]
    assert first.text.startswith(
        "鼓励科技服务业企业实施技术含量高、示范带动作用强的重大创新项目，符合条件的，"
    )
    assert first.text.endswith("鼓励科技服务业企业纳入“浦江之光”数字化服务平台。")
    eighth = pdf2024.measures[7].tasks[0]
    assert "给予不超过项目总投资金额的10%、最高500万元的支持。" in eighth.text
    ninth = pdf2024.measures[8].tasks[0]
    assert "市级层面给予不超过20万元的财政奖励；" in ninth.text


def test_2024_measure_six_has_clean_housing_unit(pdf2024: Policy) -> None:
    assert units_of(pdf2024, 6) == [
        ("市科委", LEAD),
        ("市经济信息化委", SUPPORT),
        ("市数据局", SUPPORT),
        ("市住房城乡建设管理委", SUPPORT),
        ("市国资委", SUPPORT),
        ("各区政府", SUPPORT),
    ]


def test_2024_measure_nine_clause_split_across_lines(pdf2024: Policy) -> None:
    assert [u for u, _ in units_of(pdf2024, 9)] == [
        "市科委",
        "市财政局",
        "市税务局",
        "市委金融办",
        "市发展改革委",
        "市经济信息化委",
        "各区政府",
    ]


def test_more_spot_checks(md2025: Policy, pdf2024: Policy) -> None:
    assert units_of(md2025, 16, 1) == [
        ("市科委", LEAD),
        ("各相关单位", SUPPORT),
        ("各区政府", SUPPORT),
    ]
    assert units_of(md2025, 11, 4) == [("上海海关", LEAD), ("市科委", SUPPORT)]
    assert units_of(md2025, 6, 1) == [("市知识产权局", LEAD)]
    assert units_of(pdf2024, 7)[0] == ("市人才局", LEAD)
    # body brackets are text, not units
    cro = md2025.measures[10].tasks[2]
    assert cro.text.startswith("支持合同研发机构（CRO）对接国际标准")


@pytest.mark.parametrize("name", [MD_2025, PDF_2024])
def test_task_text_is_clean(name: str) -> None:
    policy = load(SOURCES_DIR, name)
    for task in policy.tasks:
        assert task.text
        assert "\n" not in task.text and "\r" not in task.text
        assert "- 5 -" not in task.text and not re.search(r"-\s*\d+\s*-", task.text)
        assert "责任单位" not in task.text
        assert not re.search(r"\s", task.text), task.text  # no spaces inside Chinese text
        assert "**" not in task.text
        assert task.text.endswith("。")


def test_all_real_units_are_registered(md2025: Policy, pdf2024: Policy) -> None:
    registry = read_units(UNITS_CSV.read_bytes())
    names = {u.unit for p in (md2025, pdf2024) for t in p.tasks for u in t.units}
    assert names <= set(registry.names())
    assert registry.resolve("市科委").full_name == "上海市科学技术委员会"
    assert registry.resolve("市发展改革委").full_name == "上海市发展和改革委员会"
    assert registry.resolve("市委宣传部").full_name == "中共上海市委宣传部"
    assert registry.resolve("上海金融监管局").full_name == "国家金融监督管理总局上海监管局"
    assert registry.resolve("上海海关").kind == "central"
    assert registry.resolve("中国人民银行上海总部").kind == "central"
    assert registry.resolve("各区政府").kind == "district"
    assert registry.resolve("各相关单位").kind == "placeholder"
    assert registry.resolve("市不存在委").kind == "unknown"
    assert registry.resolve("市不存在委").full_name == "市不存在委"


# --- texts written for the tests, in the same style with other quirks ---------------------------


def test_markdown_fixture_quirks() -> None:
    policy = load(DATA, FIXTURE_MD)
    assert policy.policy_id == "lvse-jiaotong-2025-3"
    assert policy.doc_no == "沪府办发〔2025〕3号"
    assert policy.title == "关于推动绿色低碳交通高质量发展的若干措施"
    assert policy.issuer == "上海市人民政府办公厅"
    assert policy.issue_date == date(2025, 3, 1)
    assert (policy.effective_from, policy.effective_to) == (date(2025, 4, 1), date(2030, 3, 31))
    assert policy.source_url == "https://example.gov.cn/zcwj/2025/0305.html"
    assert [m.title for m in policy.measures] == [
        "建设低碳交通枢纽",
        "推广新能源车辆",
        "加大资金支持",
    ]
    assert [(s.no, len(s.measures)) for s in policy.sections] == [(1, 2), (2, 1)]
    # half-width brackets and colon, 责任部门, a unit with its own brackets, a body bracket
    hub = policy.measures[0].tasks[0]
    assert "（含中试验证平台）" in hub.text
    assert [(u.unit, u.role, u.rank) for u in hub.units] == [
        ("市交通委（市道运局）", LEAD, 1),
        ("市发展改革委", SUPPORT, 2),
    ]
    # split 牵头单位 / 配合单位 form
    assert [(u.unit, u.role, u.rank) for u in policy.measures[0].tasks[1].units] == [
        ("市交通委", LEAD, 1),
        ("市生态环境局", SUPPORT, 2),
        ("市规划资源局", SUPPORT, 3),
    ]
    # heading without bold; two paragraphs, one clause -> one task covering both; 等；各区政府
    ev = policy.measures[1]
    assert len(ev.tasks) == 1
    assert ev.tasks[0].text == (
        "加快公交、出租、环卫车辆新能源替代，到2027年基本实现全面替代。"
        "完善充电设施布局，推动居住区和公共停车场充电桩建设。"
    )
    assert units_of(policy, 2) == [
        ("市经济信息化委", LEAD),
        ("市交通委", SUPPORT),
        ("各区政府", SUPPORT),
    ]
    # mixed ，;  separators; a bracketed place name in the body
    assert units_of(policy, 3, 1) == [
        ("市财政局", LEAD),
        ("市发展改革委", SUPPORT),
        ("各区政府", SUPPORT),
    ]
    assert policy.measures[2].tasks[0].text.startswith("统筹用好中国（上海）自由贸易试验区")
    # an unregistered unit is kept (the warning is raised when the table is built)
    assert units_of(policy, 3, 2) == [("市低碳办", LEAD), ("市科委", SUPPORT)]


def test_pdf_fixture_quirks() -> None:
    policy = load(DATA, FIXTURE_PDF)
    assert policy.policy_id == "shuju-yaosu-2024-7"
    assert policy.doc_no == "沪府规〔2024〕7号"
    assert policy.title == "上海市促进数据要素市场发展的实施办法"
    assert policy.issuer == "上海市人民政府"
    assert policy.issue_date == date(2024, 6, 12)
    assert (policy.effective_from, policy.effective_to) == (date(2024, 7, 1), date(2029, 6, 30))
    assert [m.title for m in policy.measures] == [
        "建设数据基础设施",
        "培育数据要素市场主体",
        "完善数据交易规则和市场监管体系，健全数据要素收益分配制度",  # title broken across lines
        "加强数据安全保障",
    ]
    assert (
        policy.measures[0].tasks[0].text
        == "统筹建设算力网络和数据流通设施，推动公共数据100%接入统一平台。"
    )
    assert units_of(policy, 1) == [
        ("市数据局", LEAD),
        ("市经济信息化委", SUPPORT),
        ("市通信管理局", SUPPORT),
    ]
    # a measure of two paragraphs, each with its own clause
    two = policy.measures[1]
    assert [t.seq for t in two.tasks] == [1, 2]
    assert two.tasks[0].text == "支持数据商、第三方专业服务机构发展，给予不超过200万元的奖励。"
    assert two.tasks[1].text == "鼓励数据交易所拓展跨境数据交易业务，探索建立数据资产登记制度。"
    # the clause keyword and a unit name are both broken, the unit by a page number
    assert [(u.unit, u.role, u.rank) for u in two.tasks[1].units] == [
        ("市数据局", LEAD, 1),
        ("市委网信办", SUPPORT, 2),
        ("市发展改革委", SUPPORT, 3),
        ("上海海关", SUPPORT, 4),
    ]
    assert two.tasks[1].line == 38
    assert units_of(policy, 3)[-1] == ("各区政府", SUPPORT)
    assert not policy.warnings


def test_hard_wrapped_text_with_heading_lines() -> None:
    """Measure titles on a short line of their own, then hard-wrapped paragraphs."""
    text = (
        "一、总则\n\n（一）加强组织领导\n\n"
        "建立市级统筹协调机制，定期研究解决重点难点问\n\n"
        "题，推动各项措施落地见效。（责任单位：市发展\n\n改革委、各区政府）\n\n"
        "（二）强化督促检查。建立任务清单和责任清单，按季\n\n"
        "度开展督查评估，结果纳入绩效考核。（责任单位：\n\n市政府办公厅、市委组织部）\n"
    )
    policy = parse_policy(text, "wrapped.txt")
    assert [m.title for m in policy.measures] == ["加强组织领导", "强化督促检查"]
    assert policy.measures[0].tasks[0].text == (
        "建立市级统筹协调机制，定期研究解决重点难点问题，推动各项措施落地见效。"
    )
    assert units_of(policy, 1) == [("市发展改革委", LEAD), ("各区政府", SUPPORT)]
    assert units_of(policy, 2) == [("市政府办公厅", LEAD), ("市委组织部", SUPPORT)]


def test_metadata_falls_back_to_the_header() -> None:
    """No signature block in the text: issuer and date come from the page header."""
    text = (
        "# 某某办法\n\n**发布日期**: 2024-03-05\n**发布机构**: 上海市科学技术委员会\n"
        "**原文链接**: https://example.gov.cn/a.html\n\n---\n\n"
        "一、总则\n\n（一）甲\n\n做好甲。（责任单位：市科委）\n"
    )
    policy = parse_policy(text, "header.md")
    assert policy.title == "某某办法"
    assert policy.issuer == "上海市科学技术委员会"
    assert policy.issue_date == date(2024, 3, 5)
    assert policy.source_url == "https://example.gov.cn/a.html"
    assert policy.doc_no == ""


def test_policy_id_from_other_names() -> None:
    assert policy_id_from_name("2025-05-27_hufubanfa-2025-11.md") == "hufubanfa-2025-11"
    assert policy_id_from_name("Some Policy_v2.txt") == "some-policy-v2"
    chinese = policy_id_from_name("科技服务业措施.txt")
    assert chinese.isascii() and chinese.startswith("policy-")
    assert chinese == policy_id_from_name("科技服务业措施.txt")
    assert chinese != policy_id_from_name("另一个文件.txt")


def test_cn_numeral() -> None:
    assert [
        cn_numeral(s) for s in ("一", "九", "十", "十一", "十六", "二十", "二十三", "一百零五")
    ] == [
        1,
        9,
        10,
        11,
        16,
        20,
        23,
        105,
    ]


# --- clause splitting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("市科委、市发展改革委", [("市科委", LEAD), ("市发展改革委", SUPPORT)]),
        ("市科委，市教委,市财政局", [("市科委", LEAD), ("市教委", SUPPORT), ("市财政局", SUPPORT)]),
        (
            "市科委、市经济信息化委等；各区政府",
            [("市科委", LEAD), ("市经济信息化委", SUPPORT), ("各区政府", SUPPORT)],
        ),
        ("市交通委(市道运局)、市公安局", [("市交通委(市道运局)", LEAD), ("市公安局", SUPPORT)]),
        (
            "市科委、市教委；配合单位：市财政局、各区政府",
            [("市科委", LEAD), ("市教委", LEAD), ("市财政局", SUPPORT), ("各区政府", SUPPORT)],
        ),
        ("市科委; 配合部门: 市教委", [("市科委", LEAD), ("市教委", SUPPORT)]),
        ("市科\n委、市教\n委", [("市科委", LEAD), ("市教委", SUPPORT)]),
        # several leads: every unit of a 牵头 part leads, the 责任单位 part then supports
        (
            "牵头单位：市科委、市教委、市财政局；责任单位：各区政府",
            [("市科委", LEAD), ("市教委", LEAD), ("市财政局", LEAD), ("各区政府", SUPPORT)],
        ),
        ("主责单位：市科委；协办单位：市商务委", [("市科委", LEAD), ("市商务委", SUPPORT)]),
        ("牵头部门：市科委\n配合部门：市教委", [("市科委", LEAD), ("市教委", SUPPORT)]),
        # roles written after the names
        (
            "市科委、市教委牵头，市财政局、各区政府配合",
            [("市科委", LEAD), ("市教委", LEAD), ("市财政局", SUPPORT), ("各区政府", SUPPORT)],
        ),
        ("市科委牵头，市教委参与", [("市科委", LEAD), ("市教委", SUPPORT)]),
        (
            "由市科委牵头，各区政府按职责分工负责",
            [("市科委", LEAD), ("各区政府", SUPPORT)],
        ),
        (
            "市科委牵头，市教委、市财政局",
            [("市科委", LEAD), ("市教委", SUPPORT), ("市财政局", SUPPORT)],
        ),
        # deadline fields are not units
        ("市科委、市教委；完成时限：2025年底", [("市科委", LEAD), ("市教委", SUPPORT)]),
        ("时间：持续推进；责任单位：市科委", [("市科委", LEAD)]),
        # a unit named twice is one unit, leading if either mention leads
        ("市科委牵头；责任单位：市科委、市教委", [("市科委", LEAD), ("市教委", SUPPORT)]),
        ("市科委、市教委、市科委", [("市科委", LEAD), ("市教委", SUPPORT)]),
        # a lone 配合 part still gets someone to lead
        ("配合单位：市教委、市财政局", [("市教委", LEAD), ("市财政局", SUPPORT)]),
    ],
)
def test_split_clause_forms(content: str, expected: list[tuple[str, str]]) -> None:
    refs = split_clause(content)
    assert [(r.unit, r.role) for r in refs] == expected
    assert [r.rank for r in refs] == list(range(1, len(expected) + 1))


REGISTERED = read_units(UNITS_CSV.read_bytes()).names()
SEPARATOR = st.sampled_from(["、", "，", ",", "；", ";", "、\n", " 、 ", "；\n\n", "等、", "等；"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(REGISTERED), SEPARATOR), min_size=1, max_size=8))
def test_splitter_never_drops_a_registered_unit(parts: list[tuple[str, str]]) -> None:
    text = "".join(name + sep for name, sep in parts)
    assert split_units(text) == [name for name, _ in parts]


FRAGMENTS = st.sampled_from(
    [
        "一、总则",
        "二、措施",
        "（一）标题。",
        "（二）",
        "(三)标题",
        "**（四）粗体标题**",
        "（责任单位：市科委、市教委）",
        "（责任单位：市科委、",
        "（牵头单位：市科委；配合单位：",
        "）",
        "（含平台）",
        "。",
        "- 5 -",
        "",
        "上海市人民政府办公厅",
        "2024年 9月 27日",
        "**发布机构**: 某机构",
        "---",
        "# 标题《某办法》",
        "自2024年1月1日起施行，有效期至2024年2月30日。",
        "沪府发〔2024〕1号",
        "1.做好甲。",
        "（1）乙",
        "2、",
        "责任单位：市科委",
        "牵头单位：市科委、",
        "〔责任单位：市科委〕",
        "（市科委牵头，市教委配合）",
        "（完成时限：2025年底）",
        "完成时限：2025年底",
        "責任單位：市發展改革委",
        "## 二、保障",
        "**加强组织领导**",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=20)), max_size=25))
def test_parse_never_crashes_with_a_non_tracker_error(lines: list[str]) -> None:
    text = "\n".join(lines)
    try:
        policy = parse_policy(text, "random.md")
    except TrackerError as exc:
        assert "random.md" in str(exc)
        return
    assert policy.tasks


# --- bad input ---------------------------------------------------------------------------------


def _error(text: str, name: str = "bad.md") -> PolicyParseError:
    with pytest.raises(PolicyParseError) as info:
        parse_policy(text, name)
    return info.value


def test_clause_parts_and_deadline() -> None:
    clause = parse_clause("牵头单位：市科委；配合单位：市教委；完成时限：2025年底")
    assert [(u.unit, u.role) for u in clause.units] == [("市科委", LEAD), ("市教委", SUPPORT)]
    assert (clause.due, clause.marked) == ("2025年底", False)
    assert parse_clause("市科委牵头，市教委配合").marked


def test_no_clause_at_all() -> None:
    text = "沪府办发〔2025〕1号\n\n一、总则\n\n（一）加强领导\n\n做好各项工作。\n"
    err = _error(text, "noclause.md")
    assert "noclause.md" in str(err) and "line 5" in str(err)
    assert err.line == 5


def test_unterminated_clause_before_paragraph_end() -> None:
    text = (
        "一、总则\n\n**（一）加强领导**\n\n"
        "　　做好各项工作。（责任单位：市科委、\n\n"
        "　　完善制度。（责任单位：市教委）\n"
    )
    err = _error(text, "open.md")
    assert err.file == "open.md" and err.line == 5
    assert "open.md, line 5" in str(err)


def test_unterminated_clause_before_next_measure_in_wrapped_text() -> None:
    text = (
        "一、总则 \n\n（一）加强领导。做好各项工作，推动落实 \n\n各项任务。（责任单位：市科委、 \n\n市教委 \n\n"
        "（二）完善制度。建立健全工作机制，明确责任 \n\n分工。（责任单位：市教委） \n"
    )
    err = _error(text, "open.txt")
    assert err.line == 5 and "open.txt, line 5" in str(err)


def test_duplicate_measure_number() -> None:
    text = (
        "一、总则\n\n（一）甲\n\n做好甲。（责任单位：市科委）\n\n"
        "（二）乙\n\n做好乙。（责任单位：市科委）\n\n"
        "（二）丙\n\n做好丙。（责任单位：市科委）\n"
    )
    err = _error(text, "dup.md")
    assert err.line == 11 and "dup.md, line 11" in str(err)
    assert "（二）" in str(err)


def test_measure_numbers_may_restart_in_each_section() -> None:
    text = (
        "一、总则\n\n（一）甲\n\n做好甲。（责任单位：市科委）\n\n"
        "二、分则\n\n（一）乙\n\n做好乙。（责任单位：市教委）\n"
    )
    policy = parse_policy(text, "restart.md")
    assert [m.no for m in policy.measures] == [1, 2]


def test_nul_bytes_are_refused() -> None:
    with pytest.raises(PolicyParseError) as info:
        decode_policy(b"\x00\x01binary\x00garbage", "blob.txt")
    assert "blob.txt" in str(info.value) and "line 1" in str(info.value)


def test_undecodable_bytes_are_refused() -> None:
    with pytest.raises(PolicyParseError) as info:
        decode_policy(b"\xff\xfe\x80\x80\xff\x81", "junk.md")
    assert "junk.md, line 1" in str(info.value)


def test_gb18030_text_is_decoded() -> None:
    text = "一、总则\n（一）甲。做好甲。（责任单位：市科委）\n"
    assert decode_policy(text.encode("gb18030"), "gbk.txt") == text
    assert decode_policy("\ufeff".encode() + text.encode(), "bom.txt") == text


def test_a_cited_number_wrapped_onto_the_next_line_is_still_cited() -> None:
    # A printed PDF wraps the citing sentence inside the number: "（沪府办" / "规〔2024〕14号）".
    text = (
        "关于推进本区科技服务业发展的工作方案\n\n"
        "根据《上海市加快科技服务业高质量发展的若干措施》（沪府办\n"
        "规〔2024〕14号）要求，结合本区实际，制定本方案。\n\n"
        "（一）培育科技服务机构。（责任单位：区科委）"
    )
    policy = parse_policy(text, "a.txt")
    assert policy.doc_no == ""
    assert [(w.kind, w.line) for w in policy.warnings if w.kind] == [("cited_doc_no", 4)]
