"""The size rules of ARCHITECTURE.md ("Code health"), checked: no product file over 800 lines,
and no function over 60 lines unless its docstring has a line starting "Long because" that
says why it reads better whole."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ["dashboard.py", "cli.py", "tracker", "loaders", "excel", "pagelogic", "webui", "pages"]
MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 60
REASON = "Long because"
# Files still over the limits because they are being split elsewhere; the check on them is
# a strict expected failure, so an entry fails once its file is fixed and must be removed.
# Empty now: the store and the parser were split before this test landed.
PENDING: set[str] = set()


def product_files(root: Path = ROOT) -> list[Path]:
    """Every product module.  Alembic migrations are left out: a migration is history, never
    edited once released, so its length is the schema it builds."""
    files: list[Path] = []
    for name in PRODUCT:
        path = root / name
        found = sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else []
        files += [f for f in found if "migrations" not in f.relative_to(root).parts]
    return files


def function_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """From the ``def`` line to the last line of the body, docstring included."""
    return (node.end_lineno or node.lineno) - node.lineno + 1


def has_reason(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    docstring = ast.get_docstring(node) or ""
    return any(line.strip().startswith(REASON) for line in docstring.splitlines())


def long_functions(source: str) -> list[str]:
    """``name (N lines)`` for each function or method over the limit with no reason given."""
    return [
        f"{node.name} ({function_lines(node)} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and function_lines(node) > MAX_FUNCTION_LINES
        and not has_reason(node)
    ]


def _id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _params() -> list:
    return [
        pytest.param(
            path,
            id=_id(path),
            marks=pytest.mark.xfail(strict=True, reason="pending split")
            if _id(path) in PENDING
            else (),
        )
        for path in product_files()
    ]


@pytest.mark.parametrize("path", _params())
def test_no_long_function_without_a_reason(path: Path) -> None:
    assert long_functions(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", _params())
def test_no_file_over_the_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_FILE_LINES


def test_pending_files_exist() -> None:
    assert {p for p in PENDING if not (ROOT / p).exists()} == set()


def _function(lines: int, docstring: str = "") -> str:
    """A function whose ``def`` and body span exactly ``lines`` lines."""
    head = ["def f():"]
    if docstring:
        head += ['    """' + docstring, '    """']
    body = ["    x = 1"] * (lines - len(head))
    return "\n".join(head + body) + "\n"


def test_the_check_can_fail(tmp_path: Path) -> None:
    assert long_functions(_function(60)) == []
    assert long_functions(_function(61)) == ["f (61 lines)"]
    assert long_functions(_function(61, "Sums.\n    Long because it is a table.")) == []
    assert long_functions(_function(61, "Sums, and not Long because of anything.")) == [
        "f (61 lines)"
    ]
    # Methods and nested functions count too.
    method = "class C:\n" + "".join("    " + line + "\n" for line in _function(70).splitlines())
    assert long_functions(method) == ["f (70 lines)"]
    # Migrations are left out; everything else under a product package is in.
    (tmp_path / "tracker" / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "tracker" / "migrations" / "versions" / "0001.py").write_text("")
    (tmp_path / "tracker" / "store.py").write_text("")
    for name in ("dashboard.py", "cli.py"):
        (tmp_path / name).write_text("")
    found = {p.relative_to(tmp_path).as_posix() for p in product_files(tmp_path)}
    assert found == {"dashboard.py", "cli.py", "tracker/store.py"}
