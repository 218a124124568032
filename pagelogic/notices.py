"""What the 通知记录 page shows: the outbox as the signed-in account may see it (督办员,
领导 and admin: every unit; 填报员: its own units), filtered, with Chinese headers and labels.

>>> notice_table(pd.DataFrame(columns=outbox.NOTICE_COLUMNS)).columns[:3].tolist()
['编号', '通知类型', '责任单位']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from tracker import notices as nt
from tracker import outbox
from tracker.accounts import Account
from tracker.senders import CHANNEL_LABELS

HEADERS = {
    "notice_id": "编号",
    "rule": "通知类型",
    "unit": "责任单位",
    "title": "标题",
    "channel": "渠道",
    "receiver": "接收人",
    "status": "状态",
    "attempts": "尝试次数",
    "last_error": "失败原因",
    "created_at": "生成时间",
    "sent_at": "发送时间",
    "next_try_at": "下次重试",
}


@dataclass(frozen=True)
class NoticeFilter:
    units: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None


def for_account(engine, account: Account) -> pd.DataFrame:
    """The notices ``account`` may read."""
    return outbox.notices_table(engine, None if account.reads_all else sorted(account.units))


def rule_of(code: str) -> str:
    """``due_7`` -> ``due``: the rule a notice belongs to, for the filter."""
    return "due" if code.startswith("due_") else code


def filtered(frame: pd.DataFrame, chosen: NoticeFilter) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    if chosen.units:
        mask &= frame["unit"].isin(chosen.units)
    if chosen.rules:
        mask &= frame["rule"].map(rule_of).isin(chosen.rules)
    if chosen.statuses:
        mask &= frame["status"].isin(chosen.statuses)
    created = pd.to_datetime(frame["created_at"])
    if chosen.since:
        mask &= created >= pd.Timestamp(chosen.since)
    if chosen.until:
        mask &= created < pd.Timestamp(chosen.until) + pd.Timedelta(days=1)
    return frame[mask]


def notice_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows as shown and exported: labels instead of codes; a robot's receiver is its
    secret's name, never its address."""
    table = frame[list(HEADERS)].copy()
    table["rule"] = table["rule"].map(nt.rule_label)
    table["channel"] = table["channel"].map(lambda c: CHANNEL_LABELS.get(c, c))
    table["status"] = table["status"].map(lambda s: nt.STATUS_LABELS.get(s, s))
    return table.rename(columns=HEADERS)


def failures_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Notices given up or waiting for a retry after an error, for 催办."""
    return notice_table(outbox.failing(frame))


def summary(frame: pd.DataFrame) -> dict[str, int]:
    """Status label -> count."""
    counts = frame["status"].value_counts()
    return {label: int(counts.get(code, 0)) for code, label in nt.STATUS_LABELS.items()}


def unit_options(frame: pd.DataFrame) -> Sequence[str]:
    return sorted(frame["unit"].dropna().unique())
