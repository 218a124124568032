"""Responsible units: the unit register (``data/units.csv``) and the clause splitter.

Policies name units by their published short names (市科委, 上海海关 ...).  The register maps
each short name to its full official name and a kind so the dashboard can group them; the
splitter turns the inside of a responsibility clause into an ordered list of (unit, role).

Published clauses come in several shapes; all go through :func:`split_clause`:

* ``市科委、市发展改革委`` - first unit leads, the rest support;
* ``牵头单位：市科委；配合单位：市教委、市财政局`` - leads and supports named explicitly;
* ``市交通委（市道运局）`` - a unit carrying its own brackets stays one unit;
* ``市科委、市经济信息化委等；各区政府`` - a trailing 等 is dropped, ； separates like 、.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import BinaryIO

from tracker.errors import TrackerError
from tracker.schema import LEAD, SUPPORT, UNIT_KIND_LABELS

UNIT_COLUMNS: list[str] = ["unit", "full_name", "kind"]
UNKNOWN_KIND = "unknown"

# Separators between units inside a clause (full- and half-width).
_SEPARATORS = frozenset("、，,；;")
_OPEN = "（("
_CLOSE = "）)"
_SPLIT_TOKEN_RE = re.compile("[" + re.escape("".join(_SEPARATORS) + _OPEN + _CLOSE) + "]")
# Keywords that label the parts of a clause.  Lead keywords open the clause or its first part.
LEAD_KEYWORDS: tuple[str, ...] = ("责任单位", "责任部门", "牵头单位", "牵头部门")
SUPPORT_KEYWORDS: tuple[str, ...] = ("配合单位", "配合部门", "协同单位", "参与单位")
_PART_RE = re.compile(r"(?P<kw>" + "|".join(LEAD_KEYWORDS + SUPPORT_KEYWORDS) + r")\s*[:：]")
_WS_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class UnitInfo:
    """One row of the unit register."""

    unit: str
    full_name: str
    kind: str


@dataclass(frozen=True)
class UnitRef:
    """A unit as named in one clause, with its role and published position (1 = first)."""

    unit: str
    role: str
    rank: int


class UnitRegistry:
    """Short name -> :class:`UnitInfo`; unknown names resolve to kind ``unknown``."""

    def __init__(self, units: list[UnitInfo] | None = None) -> None:
        self._units: dict[str, UnitInfo] = {u.unit: u for u in units or []}

    def __contains__(self, name: object) -> bool:
        return name in self._units

    def __len__(self) -> int:
        return len(self._units)

    def names(self) -> list[str]:
        return list(self._units)

    def resolve(self, name: str) -> UnitInfo:
        """Full name and kind of ``name``; an unknown unit is kept as itself, kind unknown."""
        return self._units.get(name) or UnitInfo(name, name, UNKNOWN_KIND)


def read_units(buf: bytes | BinaryIO, name: str = "units.csv") -> UnitRegistry:
    """Read the unit register (UTF-8, BOM optional) and check every row is usable."""
    data = buf if isinstance(buf, bytes) else buf.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TrackerError("单位表不是 UTF-8 编码", file=name) from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in UNIT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise TrackerError(f"单位表缺少列：{'、'.join(missing)}", file=name, line=1)
    units: list[UnitInfo] = []
    seen: set[str] = set()
    for line_no, row in enumerate(reader, start=2):
        unit = (row["unit"] or "").strip()
        full = (row["full_name"] or "").strip() or unit
        kind = (row["kind"] or "").strip()
        if not unit:
            raise TrackerError("单位简称为空", file=name, line=line_no)
        if kind not in UNIT_KIND_LABELS:
            raise TrackerError(f"单位「{unit}」的类别「{kind}」无效", file=name, line=line_no)
        if unit in seen:
            raise TrackerError(f"单位「{unit}」重复登记", file=name, line=line_no)
        seen.add(unit)
        units.append(UnitInfo(unit, full, kind))
    return UnitRegistry(units)


def _split_top_level(text: str) -> list[str]:
    """Split on unit separators that are not inside brackets (市交通委（市道运局） stays whole)."""
    parts: list[str] = []
    depth = 0
    start = 0
    for token in _SPLIT_TOKEN_RE.finditer(text):
        ch = token.group()
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(depth - 1, 0)
        elif depth == 0:
            parts.append(text[start : token.start()])
            start = token.end()
    parts.append(text[start:])
    return parts


def _clean_unit(raw: str) -> str:
    """Strip whitespace (PDF line breaks) and a trailing 等 ("市科委等" -> "市科委")."""
    name = _WS_RE.sub("", raw).strip("。.")
    if len(name) > 1 and name.endswith("等"):
        name = name[:-1]
    return name


def split_units(text: str) -> list[str]:
    """Unit names in published order from a list such as ``市科委、市教委等；各区政府``."""
    return [u for u in (_clean_unit(p) for p in _split_top_level(text)) if u]


def split_clause(content: str) -> list[UnitRef]:
    """Units and roles from the inside of a clause (text after the opening keyword and colon).

    Without explicit 配合 parts the first unit leads and the rest support; with them, every unit
    before the first 配合 keyword leads and every unit after it supports.
    """
    pieces: list[tuple[str, str]] = []  # (role of the part, text of the part)
    pos = 0
    role = LEAD
    for match in _PART_RE.finditer(content):
        pieces.append((role, content[pos : match.start()]))
        role = LEAD if match.group("kw") in LEAD_KEYWORDS else SUPPORT
        pos = match.end()
    pieces.append((role, content[pos:]))
    explicit = any(r == SUPPORT for r, _ in pieces)
    refs: list[UnitRef] = []
    for part_role, part in pieces:
        for name in split_units(part):
            unit_role = part_role if explicit else (SUPPORT if refs else LEAD)
            refs.append(UnitRef(name, unit_role, len(refs) + 1))
    return refs
