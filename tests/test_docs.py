"""ARCHITECTURE.md and the README's layout follow the code: every product module is named in
ARCHITECTURE.md, every module path it names exists, and the README's layout names every
top-level package."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["tracker", "loaders", "excel", "pagelogic", "webui", "pages"]


def product_modules() -> set[str]:
    found = {"dashboard.py", "cli.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if path.name == "__init__.py" or "migrations" in relative.parts:
                continue
            found.add(relative.as_posix())
    return found


def named_paths(text: str) -> set[str]:
    return set(re.findall(r"`((?:[a-z_]+/)*[a-z_]+\.py)`", text))


def test_architecture_names_every_module() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert product_modules() - named_paths(text) == set()


def test_architecture_names_no_module_that_is_gone() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert {p for p in named_paths(text) if not (ROOT / p).exists()} == set()


def test_readme_layout_names_every_package() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout") :].split("\n## ", 1)[0]
    listed = set(re.findall(r"^([a-z_.]+)/?\s", layout, re.M))
    top = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    top |= {"pages", "dashboard.py", "cli.py"}
    assert top - {"tests"} - listed == set()


def test_the_check_can_fail() -> None:
    assert named_paths("see `tracker/store.py` and `cli.py`, not tracker/x.py") == {
        "tracker/store.py",
        "cli.py",
    }
