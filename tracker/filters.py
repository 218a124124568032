"""Filters shared by every page, as a plain value that round-trips through a URL query string.

>>> f = Filters.from_query({"unit": ["市科委"], "status": "done"})
>>> f.to_query()
{'unit': ['市科委'], 'status': ['done']}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import pandas as pd

FILTER_COLUMNS = {
    "policy": "policy_id",
    "unit": "unit",
    "role": "role",
    "status": "status",
    "light": "light",
}


FILTER_LABELS = {
    "policy": "政策",
    "unit": "责任单位",
    "role": "角色",
    "status": "状态",
    "light": "预警灯",
}


@dataclass(frozen=True)
class Filters:
    """Selected values per dimension; an empty tuple means "all"."""

    policy: tuple[str, ...] = ()
    unit: tuple[str, ...] = ()
    role: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    light: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, query: Mapping[str, object]) -> Filters:
        values = {}
        for f in fields(cls):
            raw = query.get(f.name, ())
            items = [raw] if isinstance(raw, str) else list(raw or ())
            values[f.name] = tuple(str(v) for v in items if str(v))
        return cls(**values)

    def to_query(self) -> dict[str, list[str]]:
        return {f.name: list(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name)}

    def apply(self, assignments: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``assignments`` that match every non-empty filter."""
        mask = pd.Series(True, index=assignments.index)
        for name, column in FILTER_COLUMNS.items():
            chosen = getattr(self, name)
            if chosen and column in assignments:
                mask &= assignments[column].isin(chosen)
        return assignments[mask]

    def describe(self) -> str:
        """Short Chinese description for report titles: 单位=市科委；状态=done."""
        parts = [f"{FILTER_LABELS[k]}={'、'.join(v)}" for k, v in self.to_query().items()]
        return "；".join(parts) or "全部"
