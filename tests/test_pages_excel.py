"""The 导入导出 page under AppTest: it renders the report and template downloads with the
sidebar filters applied.  Uploads cannot be simulated in AppTest, so the page stays thin and
the functions it calls are tested in tests/test_excel_*.py."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import tasks_frame
from tests.factories import DASHBOARD, shown_text, sign_in_app


@pytest.fixture
def app_env(app_env_of) -> str:
    return app_env_of(
        tasks_frame(
            [
                ("demo-m01-t1", "示范任务", "市科委", "lead", 1),
                ("demo-m01-t1", "示范任务", "市教委", "support", 2),
                ("demo-m02-t1", "示范任务", "市教委", "lead", 1),
            ]
        )
    )


def _open() -> AppTest:
    at = sign_in_app(AppTest.from_file(DASHBOARD, default_timeout=60), "督办甲")
    at.switch_page("pages/excel.py")
    at.run()
    assert not at.exception, at.exception
    return at


def _download_labels(at: AppTest) -> list[str]:
    return [el.proto.label for el in at.get("download_button")]


def test_page_renders_report_and_template_downloads(app_env) -> None:
    at = _open()
    assert at.title[0].value == "导入导出"
    labels = _download_labels(at)
    assert "下载进度报表（xlsx）" in labels
    assert any(label.startswith("下载「") and "填报模板" in label for label in labels)
    assert at.selectbox(key="excel_unit").options == ["市教委", "市科委"]
    assert not [t for t in at.text_input if t.key == "excel_who"]  # the account reports
    assert any("导入人：督办甲" in shown_text(c.value) for c in at.caption)
    assert any("共" not in c.value and "全部" in c.value for c in at.caption)


def test_template_follows_the_chosen_unit(app_env) -> None:
    at = _open()
    at.selectbox(key="excel_unit").select("市科委")
    at.run()
    assert not at.exception, at.exception
    assert "下载「市科委」填报模板（xlsx）" in _download_labels(at)


def test_confirm_button_is_absent_without_an_upload(app_env) -> None:
    at = _open()
    assert not [b for b in at.button if b.key == "excel_apply"]
    assert "导入结果" not in [s.value for s in at.subheader]


def test_report_uses_the_sidebar_filters(app_env) -> None:
    at = _open()
    at.multiselect(key="filter_unit").set_value(["市教委"])
    at.run()
    assert not at.exception, at.exception
    captions = " ".join(shown_text(c.value) for c in at.caption)
    assert "市教委" in captions and "2 条分工" in captions
    assert at.selectbox(key="excel_unit").value == "市教委"
