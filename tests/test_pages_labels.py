"""Widget labels built from data are text, never Markdown (issue 23, item 14).

Streamlit renders Markdown (links, images, ``$…$`` as KaTeX, ``:material/…:`` icons) in
the labels of buttons, download buttons, selectboxes, expanders, tabs and metrics, not
only in messages.  A unit name published from an uploaded policy reached the 导入导出
download-button label as an image fetched from an outside server.  This walks every page
with two hostile unit names and reads every label the pages draw.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import measures_frame
from tests.factories import shown_text, sign_in_app
from webui import safe

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "dashboard.py"
PAGES = re.findall(r'\(\s*"(pages/[a-z_]+\.py)"', DASHBOARD.read_text(encoding="utf-8"))
IMAGE_UNIT = "![u](http://127.0.0.2/u.png)"
KATEX_UNIT = "$$x^2$$"


def hostile_measures():
    return measures_frame(
        [
            {
                "measure_no": 1,
                "task_id": "demo-m01-t1",
                "unit": unit,
                "role": role,
                "unit_rank": rank,
            }
            for unit, role, rank in ((IMAGE_UNIT, "lead", 1), (KATEX_UNIT, "support", 2))
        ]
        + [
            {
                "measure_no": 2,
                "task_id": "demo-m02-t1",
                "unit": unit,
                "role": role,
                "unit_rank": rank,
            }
            for unit, role, rank in ((KATEX_UNIT, "lead", 1), ("市科委", "support", 2))
        ]
    )


@pytest.fixture
def hostile_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    """dashboard.py on a store whose units carry Markdown, signed in as a supervisor."""
    path = tmp_path / "hostile.csv"
    hostile_measures().to_csv(path, index=False, encoding="utf-8-sig")
    monkeypatch.setenv("TRACKER_MEASURES_CSV", str(path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 't.db'}")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield sign_in_app(AppTest.from_file(str(DASHBOARD), default_timeout=60))
    st.cache_data.clear()
    st.cache_resource.clear()


def labels(at: AppTest) -> list[str]:
    """Every label of every element and container the run drew (tabs, expanders, metrics,
    buttons, download buttons, inputs)."""
    found = []
    for node in at:
        label = getattr(node, "label", None)
        if isinstance(label, str) and label:
            found.append(label)
    return found


def test_every_label_built_from_a_unit_name_is_escaped(hostile_app: AppTest) -> None:
    at = hostile_app
    seen: dict[str, list[str]] = {}
    live: list[tuple[str, str]] = []  # (page, label) drawn as a link, an image or KaTeX
    run_together: list[tuple[str, str]] = []  # captions reading "。；" (issue 23, item 10)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        run_together += [(page, c.value) for c in at.caption if "。；" in shown_text(c.value)]
        for label in labels(at):
            if "127.0.0.2" in shown_text(label) or "x^2" in shown_text(label):
                seen.setdefault(page, []).append(label)
            if "](http" in label or "$$" in label:
                live.append((page, label))
    assert live == []
    assert run_together == []
    # The walk did meet the names in labels (the 导入导出 template button names its unit).
    assert any(safe.plain(IMAGE_UNIT) in label for label in seen.get("pages/excel.py", []))
