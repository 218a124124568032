"""Formats other bureaus publish, one small text per style in ``tests/data/formats``.

Every expected value comes from reading the sample text by hand: numbering without （一）,
top-level 一、 items as measures, clauses without brackets or on their own lines, 〔〕 and
half-width brackets, several leads and roles written after names, deadline fields,
traditional script, the document's own title and heading paragraphs.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from loaders.policy_text import (
    Policy,
    PolicyParseErrors,
    decode_policy,
    due_from_field,
    due_from_text,
    parse_policy,
)
from tracker.errors import PolicyParseError
from tracker.schema import LEAD, SUPPORT

FORMATS = Path(__file__).parent / "data" / "formats"
L, S = LEAD, SUPPORT

# file -> (title, [(section no, section title)], [(measure no, title, [(task text, units, due)])])
EXPECTED: dict[str, tuple[str, list[tuple[int, str]], list[tuple[int, str, list]]]] = {
    # 1. / 1、 measures under 一、 sections, no （一） level; numbering restarts per section
    "2025-02-10_arabic-under-sections.md": (
        "某区关于推进数字化转型的实施方案",
        [(1, "总体要求"), (2, "重点任务"), (3, "保障措施")],
        [
            (
                1,
                "推进政务服务“一网通办”",
                [
                    (
                        "优化线上办事流程，提升网办率。",
                        [("区行政服务中心", L), ("区数据局", S)],
                        None,
                    )
                ],
            ),
            # the only sentence is both the title and the task
            (
                2,
                "建设城市运行数字底座",
                [("建设城市运行数字底座。", [("区城运中心", L), ("区数据局", S)], None)],
            ),
            (
                3,
                "加强组织领导",
                [("建立区级工作专班，定期研究推进重点事项。", [("区政府办公室", L)], None)],
            ),
            (
                4,
                "强化资金保障",
                [
                    (
                        "统筹安排专项资金，提高资金使用效益。",
                        [("区财政局", L), ("区发展改革委", S)],
                        None,
                    )
                ],
            ),
        ],
    ),
    # 1、 measures with no heading at all; clauses without brackets at the paragraph end
    "2025-01-20_arabic-inline-clauses.txt": (
        "2025年科技服务工作要点",
        [],
        [
            (
                1,
                "完善科技服务体系",
                [
                    (
                        "推动孵化器提质增效，2025年底前新增高质量孵化器5家。",
                        [("市科委", L), ("各区政府", S)],
                        date(2025, 12, 31),
                    )
                ],
            ),
            (2, "加强知识产权保护", [("完善快速维权机制。", [("市知识产权局", L)], None)]),
            (
                3,
                "深化开放合作",
                [
                    (
                        "支持举办国际科技交流活动。",
                        [("市科委", L), ("市商务委", S), ("市政府外办", S)],
                        date(2025, 12, 31),  # 完成时限：2025年12月, after the clause's full stop
                    )
                ],
            ),
        ],
    ),
    # top-level 一、 items as measures; 牵头单位 / 配合单位 / 责任单位 lines; deadline lines
    "2024-11-05_top-level-items.txt": (
        "关于加快发展科技服务业的若干措施",
        [],
        [
            (
                1,
                "支持研发设计服务",
                [
                    (
                        "对研发设计企业给予补贴，支持建设公共服务平台。",
                        [("市科委", L), ("市经济信息化委", S), ("市财政局", S)],
                        None,
                    )
                ],
            ),
            (
                2,
                "发展检验检测服务",
                [
                    (
                        "推动检验检测机构集约化发展。",
                        [("市市场监管局", L), ("市科委", S)],
                        date(2026, 6, 30),
                    )
                ],
            ),
            (
                3,
                "培育技术转移机构",
                [
                    (
                        "支持技术经理人队伍建设。",
                        # 牵头单位：A、B、C；责任单位：D -> A, B and C lead
                        [
                            ("市科委", L),
                            ("市教委", L),
                            ("市人力资源社会保障局", L),
                            ("各区政府", S),
                        ],
                        None,  # 时间：持续推进
                    )
                ],
            ),
        ],
    ),
    # 〔〕, half-width brackets and colons, 牵头部门/配合部门, roles after names, a deadline bracket
    "2025-04-01_bracket-styles.md": (
        "关于优化营商环境的若干措施",
        [(1, "提升服务效能"), (2, "强化法治保障")],
        [
            (
                1,
                "推行“一件事”集成服务",
                [
                    (
                        "推动高频事项集成办理，2025年底前实现全覆盖。",
                        [("市政府办公厅", L), ("市数据局", S)],
                        date(2025, 12, 31),
                    ),
                    ("完善企业服务专员制度。", [("市经济信息化委", L), ("各区政府", S)], None),
                ],
            ),
            (
                2,
                "加强要素保障",
                [
                    (
                        "优化产业用地供给方式，推进标准地出让。",
                        [("市规划资源局", L), ("市经济信息化委", L), ("各区政府", S)],
                        None,
                    ),
                    (
                        "完善融资担保体系，扩大政府性融资担保覆盖面。",
                        [("市财政局", L), ("市委金融办", S), ("上海金融监管局", S)],
                        None,
                    ),
                ],
            ),
            (
                3,
                "规范涉企执法",
                [
                    (
                        "推行柔性执法，建立轻微违法免罚清单。",
                        [("市司法局", L), ("市市场监管局", L), ("市公安局", L), ("各区政府", S)],
                        date(2026, 6, 30),
                    )
                ],
            ),
        ],
    ),
    # traditional script: units simplified (they must match the register), texts as published
    "2025-03-01_traditional-script.txt": (
        "上海市促進綠色金融發展的若干措施",
        [(1, "健全綠色金融體系"), (2, "強化保障")],
        [
            (
                1,
                "支持綠色信貸發展",
                [
                    (
                        "鼓勵銀行機構擴大綠色信貸投放，到2026年6月綠色貸款餘額增長20%。",
                        [("市委金融办", L), ("中国人民银行上海总部", S), ("上海金融监管局", S)],
                        date(2026, 6, 30),
                    )
                ],
            ),
            (
                2,
                "發展綠色債券",
                [
                    (
                        "支持企業發行綠色債券，拓寬綠色項目融資渠道。",
                        [("市发展改革委", L), ("上海证监局", S), ("市财政局", S)],
                        None,
                    )
                ],
            ),
            (
                3,
                "加強統籌協調",
                [
                    (
                        "建立綠色金融工作聯席會議制度。",
                        [("市委金融办", L), ("市发展改革委", S), ("市生态环境局", S)],
                        None,
                    )
                ],
            ),
        ],
    ),
    # headings are not task text; a ## heading is a section; the page heading is the title
    # although the text cites another document first
    "2025-06-01_headings.md": (
        "关于推进人工智能产业发展的行动方案",
        [(1, "重点任务"), (2, "保障措施")],
        [
            (
                1,
                "夯实算力基础",
                [("建设公共算力服务平台，提升智能算力供给能力。", [("市经济信息化委", L)], None)],
            ),
            (
                2,
                "强化数据供给",
                [
                    ("推动公共数据向企业有序开放。", [("市数据局", L)], None),
                    ("支持数据交易所扩大交易规模。", [("市数据局", L), ("市发展改革委", S)], None),
                ],
            ),
            (3, "加强人才引育", [("引进高层次人工智能人才。", [("市人才局", L)], None)]),
        ],
    ),
}


def load(name: str) -> Policy:
    return parse_policy(decode_policy((FORMATS / name).read_bytes(), name), name)


def test_every_sample_is_covered() -> None:
    assert sorted(p.name for p in FORMATS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_format_structure(name: str) -> None:
    title, sections, measures = EXPECTED[name]
    policy = load(name)
    assert policy.title == title
    assert [(s.no, s.title) for s in policy.sections if s.no] == sections
    assert [(m.no, m.title) for m in policy.measures] == [(no, t) for no, t, _ in measures]
    for measure, (_, _, tasks) in zip(policy.measures, measures, strict=True):
        got = [(t.text, [(u.unit, u.role) for u in t.units], t.due) for t in measure.tasks]
        assert got == tasks, measure.title
        assert [t.seq for t in measure.tasks] == list(range(1, len(tasks) + 1))
        for task in measure.tasks:
            assert [u.rank for u in task.units] == list(range(1, len(task.units) + 1))
            assert "责任" not in task.text and "牵头" not in task.text and "時限" not in task.text
    assert not [w for w in policy.warnings if "措施" in w.message]


def test_clause_lines_point_at_the_clause() -> None:
    policy = load("2024-11-05_top-level-items.txt")
    assert [t.line for t in policy.tasks] == [5, 8, 11]
    assert [t.due_text for t in policy.tasks] == ["", "2026年6月底", "持续推进"]
    inline = load("2025-01-20_arabic-inline-clauses.txt")
    assert [t.line for t in inline.tasks] == [8, 9, 10]


def test_traditional_metadata_keeps_the_published_characters() -> None:
    policy = load("2025-03-01_traditional-script.txt")
    assert policy.doc_no == "滬府辦發〔2025〕8號"
    assert policy.issuer == "上海市人民政府辦公廳"
    assert policy.issue_date == date(2025, 3, 1)


def test_numbered_measures_without_chinese_level_are_not_an_error() -> None:
    """Issue 10: 1. under 一、 once gave "未找到任何…条款" (the clauses were dropped unseen)."""
    text = (
        "一、重点任务\n\n1.做好甲。（责任单位：市科委）\n\n2.做好乙。（责任单位：市教委）\n\n"
        "二、保障措施\n\n（1）做好丙。（责任单位：市财政局）\n"
    )
    policy = parse_policy(text, "mixed.md")
    assert [
        (m.no, m.title, [u.unit for t in m.tasks for u in t.units]) for m in policy.measures
    ] == [
        (1, "做好甲", ["市科委"]),
        (2, "做好乙", ["市教委"]),
        (3, "做好丙", ["市财政局"]),
    ]


def test_section_without_deeper_numbering_is_a_measure() -> None:
    text = (
        "一、重点任务\n\n（一）做好甲。建立机制。（责任单位：市科委）\n\n"
        "二、加强组织保障\n\n建立工作专班，定期调度。（责任单位：市政府办公厅）\n"
    )
    policy = parse_policy(text, "own.md")
    assert [(s.no, s.title) for s in policy.sections] == [(1, "重点任务"), (2, "加强组织保障")]
    assert [m.title for m in policy.measures] == ["做好甲", "加强组织保障"]
    assert policy.measures[1].tasks[0].text == "建立工作专班，定期调度。"


def test_heading_line_in_wrapped_text_is_not_task_text() -> None:
    text = (
        "一、总则\n\n（一）加强组织领导。建立市级统筹协调机制，定期研究解决重\n\n"
        "点难点问题，推动各项措施落地见效。（责任单位：市发展\n\n改革委、各区政府）\n\n"
        "（二）强化督促检查\n\n1.建立清单\n\n建立任务清单和责任清单，按季度开展督查评估，结果纳入\n\n"
        "绩效考核。（责任单位：市政府办公厅、市委组织部）\n"
    )
    policy = parse_policy(text, "wrapped.txt")
    assert [m.title for m in policy.measures] == ["加强组织领导", "强化督促检查"]
    assert policy.measures[1].tasks[0].text == (
        "建立任务清单和责任清单，按季度开展督查评估，结果纳入绩效考核。"
    )


def test_unbracketed_clause_in_wrapped_text() -> None:
    text = (
        "一、总则\n\n（一）甲\n\n做好甲工作，推动落实各项任务。责任单位：市科委、市\n\n教委\n\n"
        "（二）乙\n\n做好乙工作，推动落实各项任务，加强\n\n统筹协调。责任单位：市财政局\n"
    )
    policy = parse_policy(text, "wrapped.txt")
    assert [(t.text, [u.unit for u in t.units]) for t in policy.tasks] == [
        ("做好甲工作，推动落实各项任务。", ["市科委", "市教委"]),
        ("做好乙工作，推动落实各项任务，加强统筹协调。", ["市财政局"]),
    ]


def test_role_bracket_inside_the_text_merges_with_the_clause() -> None:
    text = "（一）甲\n\n建立联席会议制度（市科委牵头）。（责任单位：市科委、市教委）\n"
    task = parse_policy(text, "merge.md").tasks[0]
    assert task.text == "建立联席会议制度"
    assert [(u.unit, u.role, u.rank) for u in task.units] == [("市科委", L, 1), ("市教委", S, 2)]


# --- the document's own title ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (  # a cited document first, then the notice naming this one
            "根据《国务院关于加强科技服务的决定》，结合本市实际，现将《上海市科技服务若干措施》印发给你们。\n\n"
            "一、总则\n\n（一）甲。做好甲。（责任单位：市科委）\n",
            "上海市科技服务若干措施",
        ),
        (  # 《…》已经市政府同意
            "为贯彻落实《关于加快发展的意见》，《上海市某某办法》已经市政府同意，现印发给你们。\n\n"
            "一、总则\n\n（一）甲。做好甲。（责任单位：市科委）\n",
            "上海市某某办法",
        ),
        (  # a title line at the top, then a sentence citing another document
            "关于进一步加强科技伦理治理的实施意见\n\n为贯彻落实《关于加强科技伦理治理的意见》，"
            "提出如下意见。\n\n一、总则\n\n（一）甲。做好甲。（责任单位：市科委）\n",
            "关于进一步加强科技伦理治理的实施意见",
        ),
        (  # only a cited document: no title rather than a wrong one
            "根据《国务院关于加强科技服务的决定》，制定本措施。\n\n"
            "一、总则\n\n（一）甲。做好甲。（责任单位：市科委）\n",
            "",
        ),
        (  # a page heading citing a document is the title itself
            "# 关于贯彻落实《国务院关于加强科技服务的决定》的实施意见\n\n"
            "一、总则\n\n（一）甲。做好甲。（责任单位：市科委）\n",
            "关于贯彻落实《国务院关于加强科技服务的决定》的实施意见",
        ),
    ],
)
def test_own_title_not_a_cited_one(text: str, title: str) -> None:
    assert parse_policy(text, "title.md").title == title


# --- deadlines ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "due"),
    [
        ("2025年底", date(2025, 12, 31)),
        ("2025年年底前", date(2025, 12, 31)),
        ("2026年6月", date(2026, 6, 30)),
        ("2026年6月底", date(2026, 6, 30)),
        ("2026年2月", date(2026, 2, 28)),
        ("2026年", date(2026, 12, 31)),
        ("2026年上半年", date(2026, 6, 30)),
        ("2026年第三季度", date(2026, 9, 30)),
        ("2026年9月15日", date(2026, 9, 15)),
        ("２０２６年６月", date(2026, 6, 30)),
        ("2025年6月、2025年12月", date(2025, 12, 31)),
        ("持续推进", None),
        ("长期坚持", None),
        ("6月底", None),  # no year to put it in
    ],
)
def test_due_from_field(value: str, due: date | None) -> None:
    assert due_from_field(value) == due


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("2025年底前建成10个平台。", date(2025, 12, 31)),
        ("到2026年6月，实现全覆盖。", date(2026, 6, 30)),
        ("力争2027年基本建成国际科创中心。", date(2027, 12, 31)),
        ("2026年6月底前出台实施细则。", date(2026, 6, 30)),
        ("完善工作机制。完成时限：2025年10月。", date(2025, 10, 31)),
        ("到2025年底完成试点，到2027年全面推广。", date(2027, 12, 31)),
        ("自2025年1月1日起施行。", None),
        ("2024年以来成效明显，继续推进。", None),
        ("在2025年举办的博览会上设立专区。", None),
        ("推动《上海市2021—2025年发展规划》实施。", None),
        ("加强统筹推进，优化部门协同。", None),
    ],
)
def test_due_from_text(text: str, due: date | None) -> None:
    assert due_from_text(text) == due


def test_year_less_deadline_field_takes_the_year_of_issue() -> None:
    text = (
        "一、总则\n\n（一）甲\n\n做好甲。（责任单位：市科委；完成时限：6月底）\n\n"
        "上海市人民政府办公厅\n\n2026年1月5日\n"
    )
    assert parse_policy(text, "due.md").tasks[0].due == date(2026, 6, 30)


# --- problems are errors, reported together ------------------------------------------------------


def _problems(text: str, name: str = "bad.md") -> list[PolicyParseError]:
    with pytest.raises(PolicyParseError) as info:
        parse_policy(text, name)
    err = info.value
    return err.problems if isinstance(err, PolicyParseErrors) else [err]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (  # a clause in a section's lead-in, before its first measure
            "一、重点任务\n\n做好统筹。（责任单位：市科委）\n\n1.做好甲。（责任单位：市教委）\n",
            3,
            "不在任何编号措施",
        ),
        (  # text after the last clause of a measure
            "（一）甲\n\n做好甲。（责任单位：市科委）\n\n还要做好丙，加强协调。\n\n"
            "（二）乙\n\n做好乙。（责任单位：市教委）\n",
            5,
            "未归入任何任务",
        ),
        (  # a measure without a clause between measures with clauses
            "（一）甲\n\n做好甲。（责任单位：市科委）\n\n（二）乙\n\n做好乙，加强协调。\n\n"
            "（三）丙\n\n做好丙。（责任单位：市教委）\n",
            5,
            "没有责任分工条款",
        ),
        (  # a unit name too long for the database column
            "（一）甲\n\n做好甲。\n（责任单位：" + "市科委" * 34 + "）\n",
            4,
            "超过100个字符",
        ),
    ],
)
def test_dropped_items_and_bad_units_are_errors(text: str, line: int, words: str) -> None:
    problems = _problems(text)
    assert [(p.file, p.line) for p in problems] == [("bad.md", line)]
    assert words in problems[0].message


def test_text_with_clauses_but_no_numbering_is_one_implicit_measure_with_a_warning() -> None:
    """Issue 20, kind 8: this text was refused (不在任何编号措施); each clause now ends a task
    of one implicit measure, and the warning says so at the first task's line."""
    policy = parse_policy("做好甲。（责任单位：市科委）\n\n做好乙。（责任单位：市教委）\n", "n.md")
    assert [(t.text, [u.unit for u in t.units]) for t in policy.tasks] == [
        ("做好甲。", ["市科委"]),
        ("做好乙。", ["市教委"]),
    ]
    assert [(w.kind, w.line) for w in policy.warnings if w.kind] == [("implicit_measure", 1)]


def test_every_problem_of_a_file_is_reported() -> None:
    text = (
        "（一）甲\n\n做好甲。（责任单位：" + "市科委" * 40 + "）\n\n"
        "（二）乙\n\n做好乙。（责任单位：市教委）多余的话。\n\n"
        "（三）丙\n\n做好丙，加强协调。\n\n"
        "（四）丁\n\n做好丁。（责任单位：）\n\n"
        "（五）戊\n\n做好戊。（责任单位：市财政局）\n"
    )
    with pytest.raises(PolicyParseErrors) as info:
        parse_policy(text, "many.md")
    assert [p.line for p in info.value.problems] == [3, 7, 9, 15]
    message = str(info.value)
    assert message.startswith("many.md: 共 4 处错误")
    assert all(f"many.md, line {n}:" in message for n in (3, 7, 9, 15))


def test_unit_of_exactly_one_hundred_characters_is_accepted() -> None:
    unit = "市" + "科" * 98 + "委"
    policy = parse_policy(f"（一）甲\n\n做好甲。（责任单位：{unit}）\n", "long.md")
    assert policy.tasks[0].units[0].unit == unit
