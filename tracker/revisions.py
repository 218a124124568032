"""What a revision of the sources does to the stored tasks, matched by content, not by id.

Task ids are positional (``<policy>-m<measure>-t<seq>``): inserting one measure renumbers
every measure after it, so an id alone cannot say which stored task a new row is.  This
module compares the stored tasks with the incoming measures table policy by policy and
pairs tasks by their text (``difflib.SequenceMatcher``) and responsible units, and returns
a :class:`RevisionPlan` - what is added, removed, changed, moved or restored - for a
person to confirm.  :meth:`tracker.store.Store.sync` then applies exactly that plan:
progress and history follow the stored task to the id its text now has.

Pure: frames in, a frozen plan out; no database and no Streamlit.

>>> stored = pd.DataFrame({"policy_id": ["p", "p"], "task_id": ["p-m01-t1", "p-m02-t1"],
...     "measure_no": [1, 2], "task_seq": [1, 1], "task_text": ["甲任务", "乙任务"],
...     "unit": ["市科委", "市教委"], "role": ["lead", "lead"], "unit_rank": [1, 1]})
>>> incoming = stored.assign(task_id=["p-m02-t1", "p-m01-t1"], measure_no=[2, 1])
>>> [(c.kind, c.old_task_id, c.new_task_id) for c in plan_revision(stored, incoming).changes]
[('moved', 'p-m02-t1', 'p-m01-t1'), ('moved', 'p-m01-t1', 'p-m02-t1')]
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from dataclasses import dataclass
from difflib import SequenceMatcher

import pandas as pd

from tracker.schema import ROLE_LABELS

ADDED, REMOVED, CHANGED, MOVED, RESTORED = "added", "removed", "changed", "moved", "restored"
KIND_LABELS: dict[str, str] = {
    ADDED: "新增",
    REMOVED: "删除（归档）",
    CHANGED: "修改",
    MOVED: "移动",
    RESTORED: "恢复",
}
# Two different tasks of the published policies never come closer than 0.40 (measured over
# every pair in data/measures.csv); a reworded task keeps most of its text.  A pair is the
# same task when the texts are this close, whatever the units ...
SAME_TEXT = 0.8
# ... or this close and sharing at least half of their units (Jaccard).
SIMILAR_TEXT = 0.6
SHARED_UNITS = 0.5
UNIT_WEIGHT = 0.25  # how much unit overlap counts when ranking candidate pairs

PLAN_COLUMNS: list[str] = [
    "变化",
    "改动",
    "原编号",
    "新编号",
    "原任务",
    "新任务",
    "原责任单位",
    "新责任单位",
    "文字相似度",
    "已填报分工",
]

Units = tuple[tuple[str, str], ...]  # (unit, role) in published order


@dataclass(frozen=True)
class TaskChange:
    """One stored or incoming task and what the revision does to it.

    ``old_*`` describe the stored task (empty for an added one), ``new_*`` the incoming one
    (empty for a removed one).  ``reported`` counts the stored task's assignments that carry
    saved progress: what a wrong match would misattach.
    """

    kind: str
    policy_id: str
    old_task_id: str = ""
    new_task_id: str = ""
    old_text: str = ""
    new_text: str = ""
    old_units: Units = ()
    new_units: Units = ()
    similarity: float = 0.0
    reported: int = 0

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class RevisionPlan:
    """Everything a sync would do to the tasks, for confirmation before it takes effect.

    ``base`` is the store's content digest the plan was computed against (the store refuses
    a plan whose base is no longer current) and ``digest`` the incoming content's.
    ``evicted`` lists archived stored tasks whose id an incoming task takes: they move to
    another id with their history.
    """

    base: str | None
    digest: str
    changes: tuple[TaskChange, ...] = ()
    unchanged: int = 0
    evicted: tuple[str, ...] = ()
    policies_added: tuple[str, ...] = ()
    policies_removed: tuple[str, ...] = ()

    def of_kind(self, *kinds: str) -> list[TaskChange]:
        return [c for c in self.changes if c.kind in kinds]

    @property
    def needs_confirmation(self) -> bool:
        """Anything beyond new tasks moves or archives stored progress: a person confirms it."""
        return bool(self.evicted) or any(c.kind != ADDED for c in self.changes)

    @property
    def moves(self) -> dict[str, str]:
        """Stored task id -> the id its matched task has now (only where they differ)."""
        return {
            c.old_task_id: c.new_task_id
            for c in self.changes
            if c.old_task_id and c.new_task_id and c.old_task_id != c.new_task_id
        }

    def counts(self) -> dict[str, int]:
        counts = {kind: 0 for kind in KIND_LABELS}
        for change in self.changes:
            counts[change.kind] += 1
        return counts

    def summary(self) -> str:
        """One line: 新增 1 项，删除（归档） 0 项，… 未变 40 项."""
        parts = [f"{KIND_LABELS[k]} {n} 项" for k, n in self.counts().items()]
        return "，".join([*parts, f"未变 {self.unchanged} 项"])

    def table(self) -> pd.DataFrame:
        """The changes as a table with Chinese headers, in policy and task order."""
        rows = [
            (
                c.label,
                text_change(c.old_text, c.new_text) if c.old_text and c.new_text else "",
                c.old_task_id,
                c.new_task_id,
                c.old_text,
                c.new_text,
                units_text(c.old_units),
                units_text(c.new_units),
                round(c.similarity, 2) if c.old_task_id and c.new_task_id else None,
                c.reported,
            )
            for c in self.changes
        ]
        return pd.DataFrame.from_records(rows, columns=PLAN_COLUMNS)


# A diff token: a number, a Latin word, a run of spaces, or one other character (Chinese
# has no spaces between words; a number changed from 3 to 15 is one change, not two).
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[A-Za-z]+|\s+|.", re.DOTALL)
CONTEXT = 6  # tokens of unchanged text shown on each side of a change


def text_change(old: str, new: str, context: int = CONTEXT) -> str:
    """Where a reworded task's text changed, word by word: the new text with each change
    marked in place (``〔3→5〕``, an insertion ``〔+…〕``, a deletion ``〔−…〕``) and long
    unchanged stretches shortened to ``context`` tokens each side of a change, with "…".
    Both full texts cut at one width hid the change.  "" when nothing changed.

    >>> text_change("到2026年建设3个创新中心", "到2026年建设5个创新中心")
    '到2026年建设〔3→5〕个创新中心'
    >>> text_change("推进改革试点", "推进综合改革")
    '推进〔+综合〕改革〔−试点〕'
    """
    before, after = _TOKEN.findall(old), _TOKEN.findall(new)
    opcodes = SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
    if all(tag == "equal" for tag, *_ in opcodes):
        return ""
    pieces = []
    for n, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        gone, added = "".join(before[i1:i2]), "".join(after[j1:j2])
        if tag != "equal":
            marks = {"replace": f"{gone}→{added}", "delete": f"−{gone}", "insert": f"+{added}"}
            pieces.append(f"〔{marks[tag]}〕")
            continue
        run = before[i1:i2]
        head = 0 if n == 0 else context  # kept after the change before it
        tail = 0 if n == len(opcodes) - 1 else context  # kept before the change after it
        if len(run) <= head + tail:
            pieces.append(gone)
        else:
            pieces.append("".join(run[:head]) + "…" + "".join(run[len(run) - tail :]))
    return "".join(pieces)


def units_text(units: Units) -> str:
    """``市科委（牵头）、市教委（配合）``."""
    return "、".join(f"{unit}（{ROLE_LABELS.get(role, role)}）" for unit, role in units)


@dataclass
class _Task:
    task_id: str
    policy_id: str
    text: str
    units: Units
    order: int
    archived: bool = False
    reported: int = 0
    unit_names: frozenset[str] = frozenset()


def _tasks(rows: pd.DataFrame) -> list[_Task]:
    """One :class:`_Task` per task id of a measures-shaped frame, in table order."""
    ordered = rows.sort_values(
        ["policy_id", "measure_no", "task_seq", "task_id", "unit_rank"], kind="stable"
    )
    # Plain lists sliced per task: iterating pandas' string arrays row by row costs several
    # times more at 100,000 rows.
    ids, policies, texts, names, roles = (
        ordered[c].tolist() for c in ("task_id", "policy_id", "task_text", "unit", "role")
    )
    none = [False] * len(ids)
    archived, reported = (
        ordered[c].astype(bool).tolist() if c in ordered else none for c in ("archived", "reported")
    )
    starts = [i for i in range(len(ids)) if i == 0 or ids[i] != ids[i - 1]]
    tasks = []
    for order, (start, end) in enumerate(zip(starts, [*starts[1:], len(ids)], strict=True)):
        units = tuple((u, r) for u, r in zip(names[start:end], roles[start:end], strict=True) if u)
        tasks.append(
            _Task(
                ids[start],
                policies[start],
                texts[start],
                units,
                order,
                archived[start],
                sum(reported[start:end]),
                frozenset(u for u, _ in units),
            )
        )
    return tasks


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _pick(candidates: list[tuple], matched: dict[str, tuple[_Task, float]], taken: set[str]):
    """Greedy one-to-one pairing, best first: ``candidates`` are (sort key, old, new, text)."""
    for _key, old, new, similarity in sorted(candidates, key=lambda c: c[0]):
        if old.task_id in matched or new.task_id in taken:
            continue
        matched[old.task_id] = (new, similarity)
        taken.add(new.task_id)


def _key(old: _Task, new: _Task, score: float) -> tuple:
    # Best score first; among equals the same id, then the nearest position, then order.
    return (-score, old.task_id != new.task_id, abs(old.order - new.order), old.order, new.order)


def _match(olds: list[_Task], news: list[_Task], taken: set[str]) -> dict[str, tuple[_Task, float]]:
    """Stored task id -> (incoming task, text similarity), for tasks that are the same.

    Identical texts pair first - at the same id, then with the same units, then any, each
    in table order - and the rest by ``SequenceMatcher.ratio`` when close enough (see
    :data:`SAME_TEXT`), best pairs first."""
    matched: dict[str, tuple[_Task, float]] = {}
    free = {n.task_id: n for n in news if n.task_id not in taken}
    for old in olds:
        new = free.get(old.task_id)
        if new is not None and new.text == old.text and new.units == old.units:
            matched[old.task_id] = (new, 1.0)
            del free[new.task_id]
    for key in (lambda t: (t.text, t.unit_names), lambda t: t.text):
        queues: dict[object, deque[_Task]] = defaultdict(deque)
        for new in free.values():
            queues[key(new)].append(new)
        for old in olds:
            queue = queues.get(key(old)) if old.task_id not in matched else None
            if queue:
                new = queue.popleft()
                matched[old.task_id] = (new, 1.0)
                del free[new.task_id]
    taken.update(new.task_id for new, _ in matched.values())
    fuzzy = []
    for old in (o for o in olds if o.task_id not in matched):
        matcher = SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(old.text)  # SequenceMatcher caches what it learns about seq2
        for new in free.values():
            matcher.set_seq1(new.text)
            if matcher.real_quick_ratio() < SIMILAR_TEXT or matcher.quick_ratio() < SIMILAR_TEXT:
                continue
            similarity = matcher.ratio()
            shared = _jaccard(old.unit_names, new.unit_names)
            if similarity >= SAME_TEXT or (similarity >= SIMILAR_TEXT and shared >= SHARED_UNITS):
                score = similarity + UNIT_WEIGHT * shared
                fuzzy.append((_key(old, new, score), old, new, similarity))
    _pick(fuzzy, matched, taken)
    return matched


def _paired_change(policy_id: str, old: _Task, new: _Task, similarity: float) -> TaskChange | None:
    """What became of a stored task paired with an incoming one (None: nothing)."""
    if old.archived:
        kind = RESTORED
    elif old.text != new.text or old.units != new.units:
        kind = CHANGED
    elif old.task_id != new.task_id:
        kind = MOVED
    else:
        return None
    return TaskChange(
        kind,
        policy_id,
        old.task_id,
        new.task_id,
        old.text,
        new.text,
        old.units,
        new.units,
        similarity,
        old.reported,
    )


def _policy_changes(
    policy_id: str, olds: list[_Task], news: list[_Task]
) -> tuple[list[TaskChange], int]:
    """One policy's changes, and how many of its tasks stay as they are: live stored tasks
    pair first, then archived ones."""
    taken: set[str] = set()
    live = _match([o for o in olds if not o.archived], news, taken)
    back = _match([o for o in olds if o.archived], news, taken)
    paired = {**live, **back}
    by_id = {old.task_id: old for old in olds}
    old_of = {new.task_id: (by_id[old_id], sim) for old_id, (new, sim) in paired.items()}
    changes: list[TaskChange] = []
    unchanged = 0
    for new in news:
        hit = old_of.get(new.task_id)
        if hit is None:
            changes.append(
                TaskChange(
                    ADDED,
                    policy_id,
                    new_task_id=new.task_id,
                    new_text=new.text,
                    new_units=new.units,
                )
            )
            continue
        change = _paired_change(policy_id, hit[0], new, hit[1])
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    for old in olds:
        if not old.archived and old.task_id not in paired:
            changes.append(
                TaskChange(
                    REMOVED,
                    policy_id,
                    old_task_id=old.task_id,
                    old_text=old.text,
                    old_units=old.units,
                    reported=old.reported,
                )
            )
    return changes, unchanged


def plan_revision(
    stored: pd.DataFrame,
    incoming: pd.DataFrame,
    *,
    base: str | None = None,
    digest: str = "",
) -> RevisionPlan:
    """Pair the stored tasks with the incoming ones by content and say what changes.

    ``stored`` has the measures.csv columns for every stored assignment (``archived``:
    the task is archived; ``reported``: the assignment has saved progress; an archived
    task lists all its units, a live one its live units).  ``incoming`` is the measures
    table to sync to.  Tasks pair only within one policy: live stored tasks first, then
    archived ones (a task that comes back is restored with its progress).
    """
    old_tasks = _tasks(stored) if len(stored) else []
    new_tasks = _tasks(incoming) if len(incoming) else []
    old_by_policy: dict[str, list[_Task]] = defaultdict(list)
    new_by_policy: dict[str, list[_Task]] = defaultdict(list)
    for task in old_tasks:
        old_by_policy[task.policy_id].append(task)
    for task in new_tasks:
        new_by_policy[task.policy_id].append(task)
    changes: list[TaskChange] = []
    unchanged = 0
    for policy_id in dict.fromkeys([*new_by_policy, *old_by_policy]):
        found, same = _policy_changes(
            policy_id, old_by_policy.get(policy_id, []), new_by_policy.get(policy_id, [])
        )
        changes += found
        unchanged += same
    incoming_ids = {t.task_id for t in new_tasks}
    restored = {c.old_task_id for c in changes if c.kind == RESTORED}
    evicted = tuple(
        t.task_id
        for t in old_tasks
        if t.archived and t.task_id in incoming_ids and t.task_id not in restored
    )
    live_policies = {t.policy_id for t in old_tasks if not t.archived}
    known_policies = {t.policy_id for t in old_tasks}
    return RevisionPlan(
        base=base,
        digest=digest,
        changes=tuple(changes),
        unchanged=unchanged,
        evicted=evicted,
        policies_added=tuple(p for p in new_by_policy if p not in known_policies),
        policies_removed=tuple(sorted(live_policies - set(new_by_policy))),
    )
