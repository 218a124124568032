"""Matching an imported sheet's rows to assignments: each (任务编号, 责任单位) looked up in
the store, duplicates, unknown tasks and revised task texts refused, and a stale row's
untouched fields left to the newer stored value.  What comes out is the ``Update`` list that
:meth:`tracker.store.Store.apply` checks and writes (:func:`excel.read.import_workbook`).
"""

from __future__ import annotations

import pandas as pd

from excel.kit import TASK_ID_HEADER, TASK_TEXT_HEADER, UNIT_HEADER
from excel.read_sheet import ParsedRow, ParsedSheet, RowAt
from tracker.errors import Problem
from tracker.labels import labels_by_task
from tracker.progress import Update
from tracker.store import Store, history_text

LOOKUP_CHUNK = 5_000


def _lookup(
    store: Store, task_ids: list[str], names: dict[str, str] | None = None
) -> dict[tuple[str, str], tuple[int, int, str]]:
    """(task_id, unit) -> (assignment_id, current version, task text), in one read;
    ``names`` (when given) gets each known task's label (:func:`tracker.labels.task_label`)
    from the same read."""
    frame = store.find_assignments(task_ids)
    if names is not None:
        names.update(labels_by_task(frame))
    columns = ["assignment_id", "task_id", "unit", "version", "task_text"]
    return {
        (task_id, unit): (int(aid), int(version), str(text))
        for aid, task_id, unit, version, text in zip(
            *(frame[c].tolist() for c in columns), strict=True
        )
    }


def _keep_newer_on_stale(store: Store, stale: list[Update]) -> set[int]:
    """Drop, from updates based on an old version, the fields the user left as they were then.

    The history tells what each field held at the file's version (the old value of its first
    change after that version); a field whose file value still equals that was not edited by
    this user, so the newer stored value stays and no conflict is raised for it.  What remains
    is a real concurrent edit and reaches the store as a conflict.  Set-based: one history
    read per 5,000 rows and a few merges, whatever the number of rows.

    Returns the assignments where a newer value by someone else was kept (the stored value
    differs from the file's); rows the file already equals, such as the user's own rows just
    imported from this same file, are not among them.
    """
    if not stale:
        return set()
    ids = [int(u.assignment_id) for u in stale]
    history = pd.concat(
        [
            store.history(assignment_ids=ids[start : start + LOOKUP_CHUNK])
            for start in range(0, len(ids), LOOKUP_CHUNK)
        ]
    )
    bases = pd.DataFrame({"assignment_id": ids, "base": [int(u.base_version) for u in stale]})
    later = history.merge(bases, on="assignment_id")
    later = later[later["version"] > later["base"]].sort_values(
        ["assignment_id", "field", "version", "history_id"], kind="stable"
    )
    keys = ["assignment_id", "field"]
    then = later.drop_duplicates(keys, keep="first")[[*keys, "old_value"]]
    stored = later.drop_duplicates(keys, keep="last")[[*keys, "new_value"]]
    mine = pd.DataFrame.from_records(
        [
            (int(u.assignment_id), name, history_text(value))
            for u in stale
            for name, value in u.changes.items()
        ],
        columns=[*keys, "mine"],
    )
    edited_since = mine.merge(then, on=keys).merge(stored, on=keys)
    untouched = edited_since[edited_since["mine"] == edited_since["old_value"].fillna("")]
    by_id = {int(u.assignment_id): u for u in stale}
    for aid, name in zip(untouched["assignment_id"], untouched["field"], strict=True):
        del by_id[int(aid)].changes[name]
    theirs = untouched[untouched["mine"] != untouched["new_value"].fillna("")]
    return set(theirs["assignment_id"].astype(int))


def _row_problem(
    row: ParsedRow,
    sheet: str,
    known: dict[tuple[str, str], tuple[int, int, str]],
    known_tasks: set[str],
) -> Problem | None:
    """Why a (not duplicated) row cannot be matched to its assignment, or None."""
    where: RowAt = {"row": row.row, "sheet": sheet, "task_id": row.task_id}
    match = known.get((row.task_id, row.unit))
    if match is None:
        if row.task_id in known_tasks:
            return Problem(
                f"「{row.unit}」不承担此任务", column=UNIT_HEADER, value=row.unit, **where
            )
        return Problem("未知的任务编号", column=TASK_ID_HEADER, value=row.task_id, **where)
    stored_text = match[2]
    if (
        row.task_text
        and row.task_text != stored_text
        and " ".join(row.task_text.split()) != " ".join(stored_text.split())
    ):
        # Task ids are positions in a policy: after a revision the same id can name another
        # task.  A row written for the old text must not land on the new one.
        return Problem(
            "任务内容与系统中该编号的任务不一致（政策可能已修订），请下载新模板后重新填报",
            column=TASK_TEXT_HEADER,
            value=row.task_text[:60],
            **where,
        )
    return None


def plan_updates(
    store: Store, parsed: ParsedSheet, names: dict[str, str] | None = None
) -> tuple[list[Update], list[Problem], set[int]]:
    """Match rows to assignments: updates to send, new problems, and the assignments where
    someone else's newer value was kept because the file had left that field alone.
    ``names``, when given, gets the label of each known task (for the result tables).

    Without a 版本 column the base is version 0: the store then applies a row only if it was
    never saved or the file equals it, and reports any other difference as a conflict.
    """
    problems: list[Problem] = []
    known = _lookup(store, [r.task_id for r in parsed.rows], names)
    known_tasks = {task for task, _unit in known}
    seen: dict[tuple[str, str], int] = {}
    updates: list[Update] = []
    stale: list[Update] = []
    for row in parsed.rows:
        key = (row.task_id, row.unit)
        if key in seen:
            problems.append(
                Problem(
                    f"同一任务分工重复出现（与第{seen[key]}行重复）",
                    column=TASK_ID_HEADER,
                    value=row.task_id,
                    row=row.row,
                    sheet=parsed.sheet,
                    task_id=row.task_id,
                )
            )
            continue
        seen[key] = row.row
        match = known.get(key)
        if match is None or (row.task_text and row.task_text != match[2]):
            problem = _row_problem(row, parsed.sheet, known, known_tasks)
            if problem is not None:
                problems.append(problem)
                continue
        if row.bad or match is None:
            continue
        aid, current, _text = match
        upd = Update(aid, row.version or 0, dict(row.changes), row=row.row, sheet=parsed.sheet)
        updates.append(upd)
        if row.version is not None and row.version != current:
            stale.append(upd)
    kept_theirs = _keep_newer_on_stale(store, stale)
    return [u for u in updates if u.changes], problems, kept_theirs
