"""The layer rules of ARCHITECTURE.md, checked: each layer imports only the layers below it
(not even lazily inside a function), libraries never import streamlit, plotly stays out of
the store's layers, pages never reach for SQL or openpyxl, and every page is listed in the
frame."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_names(path: Path) -> set[str]:
    """Every module ``path`` imports, lazily inside functions too, by its full name;
    ``from x import y`` names ``x`` and ``x.y`` (a module, or a name in ``x``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def imported_modules(path: Path) -> set[str]:
    """The top-level packages ``path`` imports."""
    return {name.split(".")[0] for name in imported_names(path)}


# Bottom up, as ARCHITECTURE.md draws them: a module may import its own layer and the layers
# before it in this list, never one after it.
LAYERS: list[str] = [
    "tracker",
    "loaders",
    "excel",
    "pagelogic",
    "cli",
    "webui",
    "pages",
    "dashboard",
]
# What each layer must not import from outside the project, besides the layers above it.
FORBIDDEN_LIBRARIES: dict[str, set[str]] = {
    "tracker": {"streamlit", "plotly", "openpyxl"},
    "loaders": {"streamlit", "plotly"},
    "excel": {"streamlit", "plotly"},
    "pagelogic": {"streamlit"},
    "cli": {"streamlit", "plotly"},
}


def layer_of(path: Path) -> str:
    relative = path.relative_to(ROOT)
    if relative == Path("loaders/__main__.py"):  # the `python -m loaders` shim is the CLI's
        return "cli"
    return relative.parts[0].removesuffix(".py")


def layered_files() -> list[Path]:
    files: list[Path] = []
    for layer in LAYERS:
        folder = ROOT / layer
        files += sorted(folder.rglob("*.py")) if folder.is_dir() else [ROOT / f"{layer}.py"]
    return files


def offences(path: Path) -> set[str]:
    """The imports of ``path`` that break the layer rule: a layer above its own, or a library
    its layer must not use."""
    layer = layer_of(path)
    above = set(LAYERS[LAYERS.index(layer) + 1 :])
    return imported_modules(path) & (above | FORBIDDEN_LIBRARIES.get(layer, set()))


PAGE_FILES = sorted((ROOT / "pages").glob("*.py"))


@pytest.mark.parametrize("path", layered_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_layer_imports_only_the_layers_below_it(path: Path) -> None:
    """Not even lazily inside a function: the store neither reads measures.csv nor derives
    page columns, and no figure code reaches the store's layer."""
    assert offences(path) == set()


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_pages_stay_thin(path: Path) -> None:
    assert imported_modules(path).isdisjoint({"sqlalchemy", "openpyxl", "sqlite3", "psycopg"})


def test_every_page_is_listed_in_the_frame() -> None:
    frame = (ROOT / "dashboard.py").read_text(encoding="utf-8")
    listed = set(re.findall(r'"pages/([a-z_]+\.py)"', frame))
    assert listed == {p.name for p in PAGE_FILES}


def test_the_layer_rule_can_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    (tmp_path / "tracker").mkdir()
    offender = tmp_path / "tracker" / "bad.py"
    offender.write_text(
        "import plotly.graph_objects as go\nfrom sqlalchemy import select\n\n\n"
        "def sync():\n    from loaders.store_sync import open_store\n",
        encoding="utf-8",
    )
    assert imported_modules(offender) == {"plotly", "sqlalchemy", "loaders"}
    assert offences(offender) == {"plotly", "loaders"}
    # The same import is fine one layer up.
    (tmp_path / "excel").mkdir()
    fine = tmp_path / "excel" / "ok.py"
    fine.write_text("from loaders.store_sync import open_store\n", encoding="utf-8")
    assert offences(fine) == set()


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


def test_every_module_a_page_imports_is_loaded_before_the_heap_is_frozen() -> None:
    """``webui.data`` imports what the pages need and then calls ``gc.freeze()``: a module a
    page imports that is not loaded by then is imported on that page's first visit (0.1-0.2 s
    for the workbook libraries), and its objects stay in every later collection.  Its
    pre-import list is kept by hand; this is what keeps it complete."""
    script = "import json, sys, webui.data; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(out.stdout.splitlines()[-1]))
    named: set[str] = set()
    for path in [ROOT / "dashboard.py", *sorted((ROOT / "pages").glob("*.py"))]:
        named |= imported_names(path)
    missing = sorted(name for name in named - loaded if _is_module(name))
    assert missing == [], f"add to webui/data.py's pre-import list: {missing}"


def _is_module(name: str) -> bool:
    """Whether ``name`` is a module (not a function or class imported from one)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # its parent is not a package
        return False
