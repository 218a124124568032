"""The house rules of STYLE.md, checked: libraries never import streamlit, tracker never
imports the layers above it, pages never reach for SQL or openpyxl, and every page is
listed in the frame."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


LIBRARY_FILES = sorted((ROOT / "loaders").glob("*.py")) + sorted((ROOT / "tracker").glob("*.py"))
PAGE_FILES = sorted((ROOT / "pages").glob("*.py"))
# tracker/ (migrations included) is the bottom layer: the loaders, the Streamlit helpers and
# the pages build on it, never the other way round.
TRACKER_FILES = sorted((ROOT / "tracker").rglob("*.py"))
ABOVE_TRACKER = {"loaders", "webui", "pages", "dashboard", "streamlit"}


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_library_never_imports_streamlit(path: Path) -> None:
    assert "streamlit" not in imported_modules(path)


@pytest.mark.parametrize("path", TRACKER_FILES, ids=lambda p: str(p.relative_to(ROOT / "tracker")))
def test_tracker_never_imports_the_layers_above_it(path: Path) -> None:
    """Not even lazily inside a function: the store neither reads measures.csv nor derives
    page columns."""
    assert imported_modules(path).isdisjoint(ABOVE_TRACKER)


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_pages_stay_thin(path: Path) -> None:
    assert imported_modules(path).isdisjoint({"sqlalchemy", "openpyxl", "sqlite3", "psycopg"})


def test_every_page_is_listed_in_the_frame() -> None:
    frame = (ROOT / "dashboard.py").read_text(encoding="utf-8")
    listed = set(re.findall(r'"pages/([a-z_]+\.py)"', frame))
    assert listed == {p.name for p in PAGE_FILES}


def test_the_layer_rule_can_fail(tmp_path: Path) -> None:
    offender = tmp_path / "bad.py"
    offender.write_text(
        "import streamlit as st\nfrom sqlalchemy import select\n\n\n"
        "def sync():\n    from loaders.store_sync import open_store\n",
        encoding="utf-8",
    )
    assert imported_modules(offender) == {"streamlit", "sqlalchemy", "loaders"}


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_every_page_asks_for_the_signed_in_account_first(path: Path) -> None:
    """A deep link can run a page without the frame (Streamlit's pages/ fallback): each page
    must then send the visitor to the sign-in, before it draws anything."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module_level = [
        statement
        for statement in tree.body
        if not isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    streamlit_calls = [
        node
        for statement in module_level
        for node in ast.walk(statement)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in ("st", "auth")
    ]
    first = min(streamlit_calls, key=lambda node: (node.lineno, node.col_offset))
    assert (first.func.value.id, first.func.attr) == ("auth", "account")
