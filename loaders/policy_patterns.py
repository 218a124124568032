"""The regular expressions and character sets of the policy parser, in one place.

Numerals, digits, brackets and colons are matched full- or half-width.
"""

from __future__ import annotations

import re

from loaders.units import (
    DUE_KEYWORDS,
    UNIT_KEYWORDS,
)

# Patterns.  Chinese numerals; digits, brackets and colons full- or half-width.
_CN_NUM = "〇零一二三四五六七八九十百"
_DIGIT = "[0-9０-９]"
SECTION, CN_PAREN, ARABIC, ARABIC_PAREN = range(4)  # marker kinds, outermost first
_MARKER_RE = re.compile(
    rf"(?P<k0>[{_CN_NUM}]+)\s*[、.．]"
    rf"|[（(]\s*(?:(?P<k1>[{_CN_NUM}]+)|(?P<k3>{_DIGIT}{{1,3}}))\s*[）)]"
    rf"|(?P<k2>{_DIGIT}{{1,3}})\s*(?:[、．]|\.(?!{_DIGIT}))"
)
_MARKER_FIRST = frozenset(_CN_NUM + "（(0123456789０１２３４５６７８９")
_KEYWORDS = "|".join(UNIT_KEYWORDS)
_OPENERS = "（(〔［[【"
_OPEN = r"[（(〔［\[【]"
# Where a clause starts: a bracket and a unit keyword; a bracket and a deadline field (a clause
# when a unit keyword follows, else part of the clause right before it); a keyword alone
# (checked to stand at a paragraph, line or sentence start); or a bracket holding "A牵头"
# (checked to be a list of units).
_CLAUSE_START_RE = re.compile(
    rf"(?P<open>{_OPEN})\s*(?:{_KEYWORDS})\s*[:：]"
    rf"|(?P<due_open>{_OPEN})(?=\s*(?:{'|'.join(DUE_KEYWORDS)})\s*[:：])"
    rf"|(?P<plain>{_KEYWORDS})\s*[:：]"
    r"|(?P<mark_open>[（(])(?=[^（）()。\n]{1,80}?(?:牵头|主责|负责)[^（）()。\n]{0,80}[）)])"
)
_CLAUSE_OPEN_RE = re.compile(rf"{_OPEN}\s*(?:{_KEYWORDS})\s*[:：]")
_KEYWORD_RE = re.compile(rf"(?:{_KEYWORDS})\s*[:：]")
# A deadline field right after a clause (…。完成时限：2025年12月。) belongs to that clause.
_DUE_AFTER_RE = re.compile(
    rf"[\s。；;，,]*(?P<field>(?:{'|'.join(DUE_KEYWORDS)})\s*[:：][^。\n（(〔［\[【]*)。?"
)
_PART_AT_RE = re.compile(rf"\s*(?:{_KEYWORDS}|{'|'.join(DUE_KEYWORDS)})\s*[:：]")
_CLAUSE_TOKEN_RE = re.compile(r"[（(〔［\[【）)〕］\]】。\n]")
_PLAIN_END_RE = re.compile(r"[。\n]")
_PUNCTUATION_RE = re.compile(r"[，。；：,;:]")
# What may stand before a clause without brackets: a sentence or bracket end.
_BEFORE_PLAIN = frozenset("。；;！!？?）)〕］]】\n")
# Between two clauses that belong together: （牵头单位：A）（配合单位：B）.
_GAP_CHARS = " 。，,；;、\n"
# A unit named in a keyword-less clause (（市科委牵头，各区政府配合）) ends like a unit does.
_UNIT_ENDINGS = frozenset("委局办部厅府院会室心团司关行署所处站队校馆社协联区镇道位门组")
_PAGE_NUMBER_RE = re.compile(
    r"^\s*(?:[-—–－]\s*\d{1,4}\s*[-—–－]|第\s*\d{1,4}\s*页(?:\s*共\s*\d+\s*页)?)\s*$"
)
_PAGE_NUMBER_FIRST = frozenset("-—–－第")
_META_RE = re.compile(r"^\s*\*\*(?P<key>[^*]{1,12}?)\*\*\s*[:：]\s*(?P<value>.*?)\s*$")
_FRONT_META_RE = re.compile(r"^\s*(?P<key>[^:：\s]{1,12})\s*[:：]\s*(?P<value>.*?)\s*$")
_H1_RE = re.compile(r"^#\s+(?P<title>.+?)\s*#*\s*$")
_BOLD_RUN_RE = re.compile(r"\*\*(?P<inner>[^*]+)\*\*")
_DOC_NO_RE = re.compile(
    r"(?P<org>[\u4e00-\u9fff]{1,12})\s*[〔\[［(（【]\s*(?P<year>\d{4})\s*[〕\]］)）】]\s*(?P<no>\d{1,4})\s*号"
)
_DATE_LINE_RE = re.compile(r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日$")
_ISO_DATE_RE = re.compile(r"(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?")
_CN_DATE = r"(\d{4})年(\d{1,2})月(\d{1,2})日"
_EFFECTIVE_RE = re.compile(
    rf"自{_CN_DATE}起(?:施行|实施|执行|生效)(?:[，,；;]?有效期(?:至|到){_CN_DATE})?"
)
_TITLE_QUOTE_RE = re.compile(r"《(?P<title>[^《》]{2,120})》")
# 《》 holding the document's own title: 关于印发《…》的通知, 现将《…》印发, 《…》已经市政府同意.
_OWN_BEFORE_RE = re.compile(r"(?:印发|转发|发布|现将|将)$")
_OWN_AFTER_RE = re.compile(r"^(?:已经|已|经|印发|现印发|现予印发|的通知)")
_CITED_BEFORE_RE = re.compile(r"根据|依据|按照|依照|遵照|贯彻|落实|参照|对照|执行")
# A title line at the top of the text: ends with the kind of document.
_DOC_TYPE_RE = re.compile(
    r"(?:意见|办法|措施|方案|通知|规定|细则|计划|要点|清单|决定|条例|纲要|规划|指引|指南|举措)"
    r"(?:[（(][^）)]{1,8}[）)])?$"
)
_URL_RE = re.compile(r"https?://[^\s)\]>\"']+")
_ISSUER_RE = re.compile(r"^[\u4e00-\u9fff（）()]{4,40}$")
_FILENAME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}_(?P<slug>.+)$")
# Whitespace next to a non-ASCII character is an extraction artefact; between ASCII words it
# is a real space.
_CJK_WS_RE = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")
_WS_RE = re.compile(r"\s+")
# A line that ends a sentence or a clause; used to tell hard-wrapped text from paragraphs.
_LINE_END_CHARS = "。；;！!？?）)”：:"
_PARAGRAPH_BREAK = "\n"  # marks a blank line in the stream of a paragraph-style text
_MAX_HEADING = 40  # a line longer than this is text, not a heading
_MAX_TITLE = 80  # a measure's leading sentence longer than this is text, not its title

ISSUER_KEYS = ("发布机构", "发文机关", "发布单位")
DATE_KEYS = ("成文日期", "发布日期")
URL_KEYS = ("原文链接", "来源链接", "链接")
TITLE_KEYS = ("标题", "文件名称")
DOC_NO_KEYS = ("文号", "发文字号")
