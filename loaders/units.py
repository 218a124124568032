"""Responsible units: the unit register (``data/units.csv``), the members of collective
units (``data/unit_members.csv``: 各区政府 -> the 16 districts) and the clause splitter.

Policies name units by their published short names (市科委, 上海海关 ...).  The register maps
each short name to its full official name and a kind so the dashboard can group them; the
splitter turns the inside of a responsibility clause into an ordered list of (unit, role).
Other names for a registered unit - its full official name, and the ``aliases`` column
(``市经信委|上海市经信委``) - resolve to the registered short name, so one unit is one row
whatever a bureau calls it.

Published clauses come in several shapes; all go through :func:`parse_clause`:

* ``市科委、市发展改革委`` - first unit leads, the rest support;
* ``牵头单位：市科委；配合单位：市教委、市财政局`` - leads and supports named explicitly;
  ``牵头单位：A、B；责任单位：C`` - every unit of a 牵头 part leads, the others support;
* ``市科委、市教委牵头，市财政局配合`` / ``A牵头，B参与`` - roles written after the names;
* ``责任单位：市科委；完成时限：2025年底`` - a deadline field is the task's deadline, not a unit;
* ``市交通委（市道运局）`` - a unit carrying its own brackets stays one unit;
* ``市科委、市经济信息化委等；各区政府`` - a trailing 等 is dropped, ； separates like 、.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tracker.errors import TrackerError
from tracker.schema import LEAD, SUPPORT, UNIT_KIND_LABELS, UNIT_MEMBERS_FILE

UNIT_COLUMNS: list[str] = ["unit", "full_name", "kind"]
ALIASES_COLUMN = "aliases"  # optional: other names of the unit, separated by ALIAS_SEPARATOR
ALIAS_SEPARATOR = "|"
UNKNOWN_KIND = "unknown"

# Separators between units inside a clause (full- and half-width).
_SEPARATORS = frozenset("、，,；;")
_OPEN = "（("
_CLOSE = "）)"
_SEPARATOR_RE = re.compile("[" + re.escape("".join(_SEPARATORS)) + "]")
_SPLIT_TOKEN_RE = re.compile("[" + re.escape("".join(_SEPARATORS) + _OPEN + _CLOSE) + "]")
# Keywords that label the parts of a clause.  责任单位 names units without saying who leads;
# 牵头 parts lead and 配合 parts support; a deadline part is not a unit at all.
RESPONSIBLE_KEYWORDS: tuple[str, ...] = ("责任单位", "责任部门", "责任主体")
LEAD_KEYWORDS: tuple[str, ...] = ("牵头单位", "牵头部门", "主责单位", "主责部门")
SUPPORT_KEYWORDS: tuple[str, ...] = (
    "配合单位",
    "配合部门",
    "协同单位",
    "协同部门",
    "参与单位",
    "参与部门",
    "协办单位",
    "协办部门",
)
UNIT_KEYWORDS: tuple[str, ...] = RESPONSIBLE_KEYWORDS + LEAD_KEYWORDS + SUPPORT_KEYWORDS
DUE_KEYWORDS: tuple[str, ...] = ("完成时限", "完成时间", "完成期限", "时间节点", "时限", "时间")
_DUE = "due"
_KEYWORD_ROLE: dict[str, str | None] = {
    **dict.fromkeys(RESPONSIBLE_KEYWORDS),
    **dict.fromkeys(LEAD_KEYWORDS, LEAD),
    **dict.fromkeys(SUPPORT_KEYWORDS, SUPPORT),
    **dict.fromkeys(DUE_KEYWORDS, _DUE),
}
_PART_RE = re.compile(r"(?P<kw>" + "|".join(UNIT_KEYWORDS + DUE_KEYWORDS) + r")\s*[:：]")
# Roles written after a name (市科委牵头，市教委配合); longer markers first.
_ROLE_MARKERS: tuple[tuple[str, str], ...] = (
    ("按职责分工负责", SUPPORT),
    ("按职责负责", SUPPORT),
    ("牵头负责", LEAD),
    ("牵头", LEAD),
    ("主责", LEAD),
    ("负责", LEAD),
    ("配合", SUPPORT),
    ("参与", SUPPORT),
    ("协同", SUPPORT),
    ("协办", SUPPORT),
)
_MARKER_HINT_RE = re.compile("|".join(marker for marker, _ in _ROLE_MARKERS))
_MARKERS_BY_LAST_CHAR: dict[str, list[tuple[str, str]]] = {}
for _marker, _role in _ROLE_MARKERS:
    _MARKERS_BY_LAST_CHAR.setdefault(_marker[-1], []).append((_marker, _role))
# Last characters that mean a name may need more than a split: a role marker, 等, a stop.
_NAME_END_CHANGES = frozenset(_MARKERS_BY_LAST_CHAR) | frozenset("等。. \n\t\u3000")
# The database column holding a unit name is this long; a longer "name" is a clause gone wrong.
MAX_UNIT_LENGTH = 100
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
    """Short name -> :class:`UnitInfo`; other names of a unit resolve to it, unknown names
    to kind ``unknown``.

    >>> registry = UnitRegistry([UnitInfo("市经济信息化委", "上海市经济和信息化委员会", "municipal")],
    ...                         {"市经信委": "市经济信息化委"})
    >>> registry.resolve("市经信委").unit, registry.resolve("上海市经济和信息化委员会").unit
    ('市经济信息化委', '市经济信息化委')
    """

    def __init__(
        self, units: list[UnitInfo] | None = None, aliases: dict[str, str] | None = None
    ) -> None:
        self._units: dict[str, UnitInfo] = {u.unit: u for u in units or []}
        self._aliases: dict[str, str] = dict(aliases or {})
        self._other_names: dict[str, str] = {
            u.full_name: u.unit
            for u in self._units.values()
            if u.full_name != u.unit and u.full_name not in self._units
        } | self._aliases

    def __contains__(self, name: object) -> bool:
        return name in self._units

    def __len__(self) -> int:
        return len(self._units)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, UnitRegistry)
            and self._units == other._units
            and self._aliases == other._aliases
        )

    def names(self) -> list[str]:
        return list(self._units)

    def aliases(self) -> dict[str, str]:
        """Alias -> registered short name, as the ``aliases`` column lists them."""
        return dict(self._aliases)

    def resolve(self, name: str) -> UnitInfo:
        """Full name and kind of ``name`` (a short name, full name or alias); an unknown unit
        is kept as itself, kind unknown."""
        info = self._units.get(name)
        if info is None and name in self._other_names:
            info = self._units[self._other_names[name]]
        return info or UnitInfo(name, name, UNKNOWN_KIND)

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """Registered units whose names are closest to an unknown ``name`` (difflib), best
        first: ``市经信委`` -> ``['市经济信息化委', …]``."""
        candidates = [*self._units, *self._other_names]
        close = difflib.get_close_matches(name, candidates, n=n * 3, cutoff=0.4)
        suggested = (self._other_names.get(c, c) for c in close)
        return list(dict.fromkeys(suggested))[:n]

    def with_alias(self, alias: str, unit: str) -> UnitRegistry:
        """A register in which ``alias`` names ``unit`` (a registered short name)."""
        alias = alias.strip()
        if unit not in self._units:
            raise TrackerError(f"单位「{unit}」未登记，不能作为「{alias}」的规范名称")
        if not alias or alias in self._units:
            raise TrackerError(f"「{alias}」已是登记的单位简称，不能作为别名")
        if len(alias) > MAX_UNIT_LENGTH:
            raise TrackerError(f"别名超过{MAX_UNIT_LENGTH}个字符：「{alias[:20]}…」")
        return UnitRegistry(list(self._units.values()), {**self._aliases, alias: unit})


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
    aliases: dict[str, tuple[str, int]] = {}
    seen: set[str] = set()
    for line_no, row in enumerate(reader, start=2):
        unit = (row["unit"] or "").strip()
        full = (row["full_name"] or "").strip() or unit
        kind = (row["kind"] or "").strip()
        if not unit:
            raise TrackerError("单位简称为空", file=name, line=line_no)
        if len(unit) > MAX_UNIT_LENGTH:
            raise TrackerError(
                f"单位简称超过{MAX_UNIT_LENGTH}个字符：「{unit[:20]}…」", file=name, line=line_no
            )
        if kind not in UNIT_KIND_LABELS:
            raise TrackerError(f"单位「{unit}」的类别「{kind}」无效", file=name, line=line_no)
        if unit in seen:
            raise TrackerError(f"单位「{unit}」重复登记", file=name, line=line_no)
        seen.add(unit)
        units.append(UnitInfo(unit, full, kind))
        for alias in (row.get(ALIASES_COLUMN) or "").split(ALIAS_SEPARATOR):
            alias = alias.strip()
            if not alias:
                continue
            if alias in aliases:
                raise TrackerError(f"别名「{alias}」重复登记", file=name, line=line_no)
            aliases[alias] = (unit, line_no)
    for alias, (_unit, line_no) in aliases.items():
        if alias in seen:
            raise TrackerError(f"别名「{alias}」已是登记的单位简称", file=name, line=line_no)
    return UnitRegistry(units, {alias: unit for alias, (unit, _) in aliases.items()})


MEMBER_COLUMNS: list[str] = ["collective", "member"]


def members_path(units_csv: Path) -> Path:
    """The members file beside a unit register: ``data/unit_members.csv``."""
    return units_csv.with_name(UNIT_MEMBERS_FILE)


def read_members(
    buf: bytes, registry: UnitRegistry, name: str = UNIT_MEMBERS_FILE
) -> dict[str, list[str]]:
    """Read the members of collective units (``collective,member``, UTF-8, BOM optional):
    collective short name -> its members in file order.  Both sides are resolved through
    ``registry`` (a full name or alias names the registered unit) and must be registered;
    a member of two collectives, or of itself, is refused with its line.

    >>> registry = UnitRegistry([UnitInfo("各区政府", "各区人民政府", "district"),
    ...                          UnitInfo("浦东新区", "上海市浦东新区人民政府", "district")])
    >>> read_members("collective,member\\n各区政府,上海市浦东新区人民政府\\n".encode(), registry)
    {'各区政府': ['浦东新区']}
    """
    try:
        text = buf.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TrackerError("成员单位表不是 UTF-8 编码", file=name) from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in MEMBER_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise TrackerError(f"成员单位表缺少列：{'、'.join(missing)}", file=name, line=1)
    members: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for line_no, row in enumerate(reader, start=2):
        pair = [(row[c] or "").strip() for c in MEMBER_COLUMNS]
        collective, member = (registry.resolve(n).unit for n in pair)
        for unit in (collective, member):
            if unit not in registry:
                raise TrackerError(f"单位「{unit}」未在单位表中登记", file=name, line=line_no)
        if collective == member or member in members:
            raise TrackerError(f"「{member}」不能作为成员单位", file=name, line=line_no)
        if member in owner:
            raise TrackerError(
                f"「{member}」已是「{owner[member]}」的成员单位", file=name, line=line_no
            )
        owner[member] = collective
        members.setdefault(collective, []).append(member)
    return members


def write_units(registry: UnitRegistry) -> bytes:
    """The register as ``data/units.csv`` bytes (UTF-8 with BOM, ``\\n`` line ends), aliases
    in the ``aliases`` column; ``read_units(write_units(r)) == r``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*UNIT_COLUMNS, ALIASES_COLUMN])
    by_unit: dict[str, list[str]] = {}
    for alias, unit in registry.aliases().items():
        by_unit.setdefault(unit, []).append(alias)
    for unit in registry.names():
        info = registry.resolve(unit)
        writer.writerow(
            [info.unit, info.full_name, info.kind, ALIAS_SEPARATOR.join(by_unit.get(unit, []))]
        )
    return out.getvalue().encode("utf-8-sig")


def _split_top_level(text: str) -> list[str]:
    """Split on unit separators that are not inside brackets (市交通委（市道运局） stays whole)."""
    if "（" not in text and "(" not in text:
        return _SEPARATOR_RE.split(text)
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


# 及 / 以及 / 和 between two unit names joins two units (市级各有关部门及各县市区政府), but not
# inside one name (上海市发展和改革委员会): both sides must end like a unit does.
_JOIN_RE = re.compile("以及|及|和")
_UNIT_END_CHARS = frozenset("委局办部厅府院会室心团司关行署所处站队校馆社协联区镇道位门组")


def split_joined(name: str) -> list[str]:
    """``name`` split where 及 / 以及 / 和 stands between two unit names.

    >>> split_joined("市级各有关部门及各县市区政府"), split_joined("上海市发展和改革委员会")
    (['市级各有关部门', '各县市区政府'], ['上海市发展和改革委员会'])
    """
    if "及" not in name and "和" not in name:
        return [name]
    parts: list[str] = []
    start = 0
    for match in _JOIN_RE.finditer(name):
        left, right = name[start : match.start()], name[match.end() :]
        if len(left) >= 2 and left[-1] in _UNIT_END_CHARS and len(right) >= 2:
            right_end = _JOIN_RE.split(right, maxsplit=1)[0]
            if len(right_end) >= 2 and right_end[-1] in _UNIT_END_CHARS:
                parts.append(left)
                start = match.end()
    parts.append(name[start:])
    return parts


@dataclass(frozen=True)
class Clause:
    """What a responsibility clause says: the units with their roles, and the deadline field.

    ``due`` is the deadline as written (``2025年底``, ``持续推进``), "" when the clause has none;
    ``marked`` tells that roles were written after names (``A牵头，B配合``).
    """

    units: list[UnitRef]
    due: str = ""
    marked: bool = False
    joined: tuple[str, ...] = ()  # names split at 及 / 和 (市级各部门及各区政府)


def _strip_marker(raw: str) -> tuple[str, str | None]:
    """``市科委牵头`` -> (``市科委``, lead); a name without a role marker -> (name, None)."""
    if raw[-1:] not in _NAME_END_CHANGES and " " not in raw and raw.isprintable():
        return raw, None  # most names: nothing to strip
    name = raw
    if " " in name or not name.isprintable():  # PDF line breaks, ideographic spaces
        name = _WS_RE.sub("", name)
    name = name.strip("。.")
    role = None
    for marker, marker_role in _MARKERS_BY_LAST_CHAR.get(name[-1:], ()):
        if name.endswith(marker) and len(name) > len(marker):
            name, role = name[: -len(marker)], marker_role
            if name.startswith("由") and len(name) > 1:
                name = name[1:]
            break
    if len(name) > 1 and name.endswith("等"):
        name = name[:-1]
    return name, role


def _clause_parts(content: str) -> list[tuple[str | None, str]]:
    """A clause cut at its keywords (牵头单位：, 配合单位：, 完成时限：…): each part with the
    role its keyword gives (None before the first keyword)."""
    parts: list[tuple[str | None, str]] = []  # (role given by the part's keyword, its text)
    pos = 0
    role: str | None = None
    for match in _PART_RE.finditer(content):
        parts.append((role, content[pos : match.start()]))
        role = _KEYWORD_ROLE[match.group("kw")]
        pos = match.end()
    parts.append((role, content[pos:]))
    return parts


def _resolved_roles(roles: list[str | None]) -> list[str]:
    """Every unit's role: the unmarked ones take the other role than the marked ones, and
    somebody leads (the first named, if nobody else does).

    >>> _resolved_roles([None, "support", None]), _resolved_roles([None, None])
    (['lead', 'support', 'lead'], ['lead', 'support'])
    """
    if LEAD in roles:
        resolved = [r or SUPPORT for r in roles]
    elif SUPPORT in roles:
        resolved = [r or LEAD for r in roles]
    else:
        resolved = [SUPPORT] * len(roles)
    if resolved and LEAD not in resolved:
        resolved[0] = LEAD  # somebody leads every task: the first named
    return resolved


def _plain_clause(units: str) -> Clause:
    """The common clause, a plain list of units with no parts or markers: the first leads."""
    names: list[str] = [n for n in (_strip_marker(raw)[0] for raw in _split_top_level(units)) if n]
    split_names: tuple[str, ...] = ()
    if "及" in units or "和" in units:
        split_names = tuple(n for n in names if len(split_joined(n)) > 1)
        names = [part for n in names for part in split_joined(n)]
    if len(set(names)) != len(names):
        names = list(dict.fromkeys(names))
    refs = [UnitRef(n, LEAD if i == 1 else SUPPORT, i) for i, n in enumerate(names, 1)]
    return Clause(refs, joined=split_names)


def parse_clause(content: str) -> Clause:
    """Units, roles and deadline from the inside of a clause (keywords included or not).

    The common clause (责任单位：A、B) takes a fast path first (:func:`_plain_clause`,
    measured in the 1,000-policy benchmark); the general path follows.

    Roles, in order of precedence: a unit in a 牵头 part or marked 牵头 leads, and then every
    unit not marked otherwise supports; else a unit in a 配合 part or marked 配合 supports and
    every other unit leads; else the first unit leads and the rest support.

    >>> [(u.unit, u.role) for u in parse_clause("牵头单位：市科委、市教委；责任单位：市财政局").units]
    [('市科委', 'lead'), ('市教委', 'lead'), ('市财政局', 'support')]
    >>> parse_clause("市科委牵头，市教委配合；完成时限：2025年底").due
    '2025年底'
    """
    lead_in = _PART_RE.match(content)
    units = content[lead_in.end() :] if lead_in else content
    if (
        (lead_in is None or _KEYWORD_ROLE[lead_in.group("kw")] is None)
        and _PART_RE.search(units) is None
        and _MARKER_HINT_RE.search(units) is None
    ):  # the common clause: 责任单位：A、B、C - the first leads
        return _plain_clause(units)
    names: list[str] = []
    roles: list[str | None] = []
    due: list[str] = []
    joined: list[str] = []
    marked = False
    for part_role, text in _clause_parts(content):
        if not text:
            continue
        if part_role == _DUE:
            value = _WS_RE.sub("", text).strip("；;，,。. ")
            if value:
                due.append(value)
            continue
        pending = len(names)  # names from here on wait for a role marker later in the part
        for raw in _split_top_level(text):
            name, marker_role = _strip_marker(raw)
            if not name:
                continue
            split = split_joined(name)
            if len(split) > 1:
                joined.append(name)
            names.extend(split)
            if marker_role is None:
                roles.extend([part_role] * len(split))
                continue
            marked = True
            roles[pending:] = [marker_role] * (len(roles) - pending)
            roles.extend([marker_role] * len(split))
            pending = len(names)
    unit_roles: dict[str, str] = {}  # a unit named twice is one unit; it leads if either leads
    for name, unit_role in zip(names, _resolved_roles(roles), strict=True):
        if unit_roles.get(name) != LEAD:
            unit_roles[name] = unit_role
    refs = [UnitRef(n, r, i) for i, (n, r) in enumerate(unit_roles.items(), 1)]
    return Clause(refs, "；".join(due), marked, tuple(joined))


def split_clause(content: str) -> list[UnitRef]:
    """Units and roles from the inside of a clause; see :func:`parse_clause`.

    >>> [(u.unit, u.role) for u in split_clause("市科委、市教委；配合单位：市财政局")]
    [('市科委', 'lead'), ('市教委', 'lead'), ('市财政局', 'support')]
    """
    return parse_clause(content).units
