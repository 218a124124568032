"""CSV downloads: text a spreadsheet would run as a formula (更新人, unit names,
notes) arrives inert; numbers stay numbers; the page button delivers exactly these bytes."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders.table_csv import FORMULA_STARTS, csv_bytes, inert
from pagelogic import views
from tracker import aggregate

HOSTILE = [
    '=HYPERLINK("http://evil","点我")',
    "=1+1",
    "+1",
    "-2",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
]


def _cells(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens Chinese cleanly
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_looks_like_a_formula_gets_an_apostrophe(text: str) -> None:
    frame = pd.DataFrame({"更新人": [text], "责任单位": [text], "任务": [3]})
    header, row = _cells(csv_bytes(frame))
    assert header == ["更新人", "责任单位", "任务"]
    assert row == ["'" + text, "'" + text, "3"]


def test_numbers_and_plain_text_are_untouched() -> None:
    frame = pd.DataFrame(
        {"单位": ["市科委", "a=b", " =1"], "滞后": [-2, 0, 5], "完成率": [-0.5, 0.25, 1.0]}
    )
    header, *rows = _cells(csv_bytes(frame))
    assert rows == [["市科委", "-2", "-0.5"], ["a=b", "0", "0.25"], [" =1", "5", "1.0"]]


def test_headers_from_data_are_made_inert_too() -> None:
    """The coverage matrix's columns are measure labels built from source text."""
    header, _ = _cells(csv_bytes(pd.DataFrame({"=cmd": ["x"]})))
    assert header == ["'=cmd"]


def test_blank_and_non_text_cells_survive() -> None:
    frame = pd.DataFrame(
        {"备注": ["=1", None], "时间": pd.to_datetime(["2026-01-01", None]), "是否": [True, False]}
    )
    _, first, second = _cells(csv_bytes(frame))
    assert first == ["'=1", "2026-01-01", "True"]
    assert second == ["", "", "False"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=5))
def test_no_field_a_spreadsheet_reads_starts_like_a_formula(texts: list[str]) -> None:
    frame = pd.DataFrame({"单位": texts})
    _, *rows = _cells(csv_bytes(frame))
    fields = [field for row in rows for field in row]
    assert not any(field.startswith(FORMULA_STARTS) for field in fields)
    assert [inert(t) for t in texts] == [
        ("'" + t if t.startswith(FORMULA_STARTS) else t) for t in texts
    ]


def test_the_page_download_button_delivers_the_inert_bytes(monkeypatch) -> None:
    """``webui.data.download_csv`` hands the button :func:`csv_bytes` of the table."""
    from webui import data

    pressed = {}

    def button(label, payload, **kwargs) -> None:
        pressed["bytes"] = payload() if callable(payload) else payload

    monkeypatch.setattr(data.st, "download_button", button)
    rows = pd.DataFrame(
        {
            "unit": ['=HYPERLINK("http://evil","x")'],
            "role": ["lead"],
            "status": ["done"],
            "light": ["green"],
            "due_date": [pd.NaT],
            "updated_by": ["@SUM(A1)"],
        }
    )
    table = views.task_list(rows, None).table.full
    data.download_csv(table, "tasks.csv")
    header, row = _cells(pressed["bytes"])
    values = dict(zip(header, row, strict=True))
    assert values[aggregate.TASK_TABLE_COLUMNS["unit"]] == '\'=HYPERLINK("http://evil","x")'
    assert values[aggregate.TASK_TABLE_COLUMNS["updated_by"]] == "'@SUM(A1)"
