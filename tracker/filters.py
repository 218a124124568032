"""Filters shared by every page, as a plain value that round-trips through a URL query string.

A filter selects *assignments* (task x unit rows).  Task-level figures then count the tasks
those rows belong to, each with its lead unit's status and light (see
:mod:`tracker.aggregate`): ``?unit=市财政局`` shows the tasks 市财政局 takes part in, and a
lead-unit chart shows them under their lead (say 市科委) with 市科委's light.

>>> f = Filters.from_query({"unit": ["市科委"], "status": "done"})
>>> f.to_query()
{'unit': ['市科委'], 'status': ['done']}
>>> f.describe()
'责任单位=市科委；状态=已完成'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

import pandas as pd

from tracker.aggregate import derive, with_lead_progress
from tracker.schema import LIGHT_LABELS, ROLE_LABELS, STATUS_LABELS

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
# How a selected code is shown: the vocabulary's Chinese label.
VALUE_LABELS: dict[str, Mapping[str, str]] = {
    "role": ROLE_LABELS,
    "status": STATUS_LABELS,
    "light": LIGHT_LABELS,
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
            raw = query.get(f.name) or ()
            items = [raw] if isinstance(raw, str) or not isinstance(raw, Iterable) else list(raw)
            values[f.name] = tuple(str(v) for v in items if str(v))
        return cls(**values)

    def to_query(self) -> dict[str, list[str]]:
        return {f.name: list(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name)}

    def apply(self, assignments: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``assignments`` that match every non-empty filter.

        When a filter drops rows, each kept row also carries its task's lead progress
        (``lead_status``, ``lead_light``, …: :func:`tracker.aggregate.with_lead_progress`),
        so task-level figures show the lead's status even if the lead's row is filtered out.
        ``assignments`` is the full table, as :func:`tracker.aggregate.derive` gives it.
        """
        mask = pd.Series(True, index=assignments.index)
        for name, column in FILTER_COLUMNS.items():
            chosen = getattr(self, name)
            if chosen and column in assignments:
                mask &= assignments[column].isin(chosen)
        if mask.all():
            return assignments
        frame = derive(assignments)  # only a copy: pages and the report pass derived rows
        return with_lead_progress(frame, frame[mask])

    def describe(self, policy_names: Mapping[str, str] | None = None) -> str:
        """Chinese description for captions and report titles, labels instead of codes:
        ``角色=牵头；状态=推进中、滞后``.  ``policy_names`` maps policy id -> how to name it
        (:func:`policy_names`); ids it does not know are shown as they are."""
        names = {"policy": policy_names or {}, **VALUE_LABELS}
        parts = []
        for key, values in self.to_query().items():
            shown = [names.get(key, {}).get(v, v) for v in values]
            parts.append(f"{FILTER_LABELS[key]}={'、'.join(shown)}")
        return "；".join(parts) or "全部"


def policy_names(assignments: pd.DataFrame) -> dict[str, str]:
    """Policy id -> ``title（doc_no）``, how captions and report titles name a policy."""
    if assignments.empty:
        return {}
    heads = assignments.drop_duplicates("policy_id")
    return {
        str(policy_id): f"{title}（{doc_no}）"
        for policy_id, title, doc_no in zip(
            heads["policy_id"], heads["policy_title"], heads["doc_no"], strict=True
        )
    }
