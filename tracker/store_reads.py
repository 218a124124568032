"""Reading rows by a list of thousands of ids, for the store's import-sized reads (the rows
``Store.apply`` locks, the assignments an imported file names).

The list travels as ONE parameter: a PostgreSQL array (``= ANY(%(ids)s)``) or, on SQLite,
a JSON array (``IN (SELECT value FROM json_each(?))``).  An expanding ``IN (…)`` binds and
renders every id in Python, in chunks the database accepts: for 20,000 ids that cost more
than the query (and on PostgreSQL three times the query).  The statement is compiled once per
dialect and run as driver SQL, and each column's SQLAlchemy result conversion (SQLite's text
dates, 0/1 booleans) runs once per distinct value, not once per row: an import's rows share
a handful of dates.  PostgreSQL returns native values, so nothing is converted there.

>>> rows_by_ids(conn, select(Progress.assignment_id, Progress.due_date),
...             Progress.assignment_id, [3, 1])  # doctest: +SKIP
[{'assignment_id': 1, 'due_date': datetime.date(2026, 12, 31)}, {'assignment_id': 3, ...}]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Connection, Select, any_, bindparam, column, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import QueryableAttribute

Key = ColumnElement[Any] | QueryableAttribute[Any]  # the column the ids are values of


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool  # the driver takes a tuple (SQLite's ?), else a dict (%(ids)s)
    convert: tuple[Callable[[Any], Any] | None, ...]  # per selected column


def rows_by_ids(
    conn: Connection, query: Select, key: Key, ids: Sequence[object]
) -> list[dict[str, Any]]:
    """The rows of ``query`` whose ``key`` is one of ``ids``, as dicts keyed by column name,
    with the values SQLAlchemy would give; in the database's order.  ``query`` is a
    module-level statement (compiled once per dialect and kept)."""
    names, rows, convert = _fetch(conn, query, key, ids)
    converted: list[tuple[int, str, Callable[[Any], Any], dict[Any, Any]]] = [
        (index, names[index], fn, {}) for index, fn in enumerate(convert) if fn
    ]
    out = []
    for row in rows:
        record = dict(zip(names, row, strict=True))
        for index, name, fn, done in converted:
            value = row[index]
            try:
                record[name] = done[value]
            except KeyError:
                record[name] = done[value] = fn(value)
        out.append(record)
    return out


def frame_by_ids(conn: Connection, query: Select, key: Key, ids: Sequence[object]) -> pd.DataFrame:
    """The same rows as a frame of ``object`` columns (the Python values as they are:
    inferring Arrow strings for 20,000 rows costs more than the query)."""
    names, rows, convert = _fetch(conn, query, key, ids)
    columns = list(zip(*rows, strict=True)) or [() for _name in names]
    return pd.DataFrame(
        {
            name: np.array(values if fn is None else _converted(values, fn), dtype=object)
            for name, values, fn in zip(names, columns, convert, strict=True)
        }
    )


def _converted(values: Sequence[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """``convert`` applied to each distinct value once (database values are hashable)."""
    done: dict[Any, Any] = {}
    out = []
    for value in values:
        try:
            out.append(done[value])
        except KeyError:
            done[value] = converted = convert(value)
            out.append(converted)
    return out


def _fetch(
    conn: Connection, query: Select, key: Key, ids: Sequence[object]
) -> tuple[list[str], Sequence[Sequence[Any]], tuple[Callable[[Any], Any] | None, ...]]:
    """Column names, the rows as the driver gives them, and each column's conversion."""
    compiled = _compile(query, key, conn.dialect)
    values = list(ids)
    param = values if conn.dialect.name == "postgresql" else json.dumps(values)
    result = conn.exec_driver_sql(compiled.sql, (param,) if compiled.positional else {"ids": param})
    return list(result.keys()), result.fetchall(), compiled.convert


_COMPILED: dict[tuple, _Compiled] = {}


def _compile(query: Select, key: Key, dialect: Any) -> _Compiled:
    """``query`` filtered on ``key`` by one list parameter, compiled for ``dialect``'s kind
    (kept: the statements are module constants)."""
    kept = _COMPILED.get((query, key, dialect.name, dialect.driver))
    if kept is not None:
        return kept
    if dialect.name == "postgresql":
        condition = key == any_(bindparam("ids", type_=postgresql.ARRAY(key.type)))
    else:
        listed: Select = select(column("value")).select_from(func.json_each(bindparam("ids")))
        condition = key.in_(listed)
    statement = query.where(condition)
    compiled = statement.compile(dialect=dialect)
    convert = tuple(
        dialect.type_descriptor(selected.type).result_processor(dialect, None)
        for selected in statement.selected_columns
    )
    kept = _Compiled(str(compiled), compiled.positional, convert)
    _COMPILED[(query, key, dialect.name, dialect.driver)] = kept
    return kept
