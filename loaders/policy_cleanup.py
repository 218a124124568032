"""Source lines as copies of a policy carry them, cleaned before parsing: web page chrome,
junk before numbers, and quote marks a PDF extraction moved to the wrong line.

Each cleaning keeps the line count (a dropped line becomes empty), so every later message
still names the source line, and each one that fires is a :class:`ParseWarning` of its kind,
which the confidence report lists for the publisher to check.

>>> lines, notes = clean_lines(["跳转到主要内容", "当前位置：首页 > 政策", "??关于某事的通知", "??1. 做事。"])
>>> lines
['', '', '关于某事的通知', '1. 做事。']
>>> [n.kind for n in notes]
['chrome', 'chrome', 'prefix', 'prefix']
"""

from __future__ import annotations

import re

from loaders.policy_patterns import _MARKER_RE
from loaders.policy_records import CHROME, PREFIX, QUOTES, ParseWarning

# Navigation and tool text of government web pages; a line holding only such text is chrome.
_CHROME_PHRASE_RE = re.compile(
    r"跳转到主要内容|跳到主要内容|无障碍(?:浏览|阅读)?|"
    r"(?:您的|您现在的|您当前的)?(?:当前)?位置\s*[:：][^\n]*|"
    r"字号\s*[:：]?\s*[【\[［(（]?\s*大\s*[】\]］)）]?\s*[【\[［(（]?\s*中\s*[】\]］)）]?\s*"
    r"[【\[［(（]?\s*小\s*[】\]］)）]?|"
    r"[【\[［]?\s*(?:打印本页|打印|关闭窗口|关闭本页|关闭|返回顶部|收藏|分享到|扫一扫在手机打开当前页)[:：]?"
    r"\s*[】\]］]?|"
    r"(?:浏览次数|访问量|点击数)\s*[:：]\s*\d*|"
    r"Page\s+\d+(?:\s+of\s+\d+)?"
)
_CHROME_ONLY_RE = re.compile(rf"^(?:\s|[|｜/·•>＞]|{_CHROME_PHRASE_RE.pattern})+$")
# Phrases that are chrome even when glued to other text (the title) on the same line.
_GLUED_CHROME_RE = re.compile(r"^\s*(?:跳转到主要内容|跳到主要内容|打印本页|关闭窗口)\s*")
# Junk a mirror copy puts before a number: ?? (lost characters), U+FFFD, mojibake, boxes.
_JUNK_PREFIX_RE = re.compile(r"^[ \t\u3000]*(?P<junk>(?:[?？\ufffd□■◆●]|锟斤拷|烫烫|屯屯)+)\s*")
# Lost characters before any Chinese text (the title of such a copy too): never a bullet.
_LOST_PREFIX_RE = re.compile(
    r"^[ \t\u3000]*(?:[?？\ufffd]|锟斤拷|烫烫|屯屯)+\s*(?=[\u4e00-\u9fff《“（(])"
)
# Words and characters without which no line needs a look (most texts: none of them).
_CHROME_WORDS = (
    "跳转",
    "跳到",
    "无障碍",
    "位置",
    "字号",
    "打印",
    "关闭",
    "返回顶部",
    "收藏",
    "分享到",
    "扫一扫",
    "浏览次数",
    "访问量",
    "点击数",
    "Page",
)
_JUNK_CHARS = "?？\ufffd□■◆●锟烫屯"
_OPEN_QUOTES = "“‘"
_CLOSE_QUOTES = "”’"
_LEADING_QUOTES_RE = re.compile(r"^[ \t\u3000]*(?P<quotes>[“”‘’]+)")


def clean_text(text: str, name: str | None = None) -> tuple[str, list[ParseWarning]]:
    """``text`` cleaned by :func:`clean_lines`; most texts need nothing and come back as is,
    after a few substring searches."""
    chrome = any(word in text for word in _CHROME_WORDS) or any(c in text for c in _JUNK_CHARS)
    quotes = any(q in text for q in _OPEN_QUOTES + _CLOSE_QUOTES)
    if not chrome and not quotes:
        return text, []
    lines, notes = clean_lines(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), name)
    return ("\n".join(lines), notes) if notes else (text, notes)


def clean_lines(lines: list[str], name: str | None = None) -> tuple[list[str], list[ParseWarning]]:
    """``lines`` with chrome emptied, junk prefixes cut and stray PDF quotes put back, and a
    warning for each change; the number of lines never changes."""
    out = list(lines)
    notes = _clean_each(out, name)
    notes.extend(_move_quotes(out, name))
    return out, notes


def _clean_each(out: list[str], name: str | None) -> list[ParseWarning]:
    notes: list[ParseWarning] = []
    for i, line in enumerate(out):
        if not line or line.isspace():
            continue
        cleaned, kind, what = _clean_line(line)
        if kind is None:
            continue
        out[i] = cleaned
        notes.append(ParseWarning(f"已去除{what}「{line.strip()[:30]}」", name, i + 1, kind))
    return notes


def _clean_line(line: str) -> tuple[str, str | None, str]:
    """The line cleaned, the kind of cleaning (None: none) and what was cut, in words."""
    if _CHROME_ONLY_RE.match(line):
        return "", CHROME, "网页导航文字"
    glued = _GLUED_CHROME_RE.match(line)
    if glued:
        return line[glued.end() :], CHROME, "网页导航文字"
    junk = _JUNK_PREFIX_RE.match(line)
    if junk and _MARKER_RE.match(line, junk.end()):
        return line[junk.end() :], PREFIX, "编号前的乱码"
    lost = _LOST_PREFIX_RE.match(line)
    if lost:
        return line[lost.end() :], PREFIX, "行首的乱码"
    return line, None, ""


def _move_quotes(lines: list[str], name: str | None) -> list[ParseWarning]:
    """A PDF extraction may put quote marks at the start of the next line (”（三）…): give
    closing quotes back to the line before when that line has an unclosed opening quote, and
    drop an orphan quote run off a line's start when a number follows it (where it stood in
    the line before cannot be known)."""
    notes: list[ParseWarning] = []
    previous = -1
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        lead = _LEADING_QUOTES_RE.match(line) if line.lstrip()[:1] in "“”‘’" else None
        if lead and previous >= 0:
            quotes = lead["quotes"]
            rest = line[lead.end() :]
            before = lines[previous]
            unclosed = sum(before.count(q) for q in _OPEN_QUOTES) > sum(
                before.count(q) for q in _CLOSE_QUOTES
            )
            if quotes[0] in _CLOSE_QUOTES and unclosed:
                lines[previous] = before.rstrip() + quotes
                lines[i] = rest
                notes.append(ParseWarning(f"引号「{quotes}」已移回上一行末尾", name, i + 1, QUOTES))
            elif _MARKER_RE.match(rest.lstrip()):  # orphan quotes hiding a number: dropped
                lines[i] = rest
                notes.append(
                    ParseWarning(f"编号前的引号「{quotes}」已去除，请核对原文", name, i + 1, QUOTES)
                )
        previous = i
    return notes
