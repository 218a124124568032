"""导入导出's import in a real headless Chromium (AppTest cannot upload a file): a workbook
with an error is refused with a located message in a table with Chinese headers; a valid
edit is previewed, saved on 确认导入 (the result stays and the preview of the saved file
goes), and previewing the same file again in a new session finds nothing to change and blames
nobody else for the user's own rows.  Tasks are named by 文号·措施-任务, the id on request."""

from __future__ import annotations

import io

import openpyxl
import pytest

from bench.live import BROWSER_USER, open_signed_in, wait_until_idle
from excel.template import SHEET_TEMPLATE, build_template
from tests.factories import unit_state
from tests.update_grid import tab_panel
from tracker.labels import task_labels
from tracker.store import Store

pytestmark = pytest.mark.browser
UNIT = "市人才局"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENGLISH_KEYS = {"sheet", "row", "column", "value", "task_id", "message"}


def _template(database: str) -> bytes:
    store = Store.open(database)
    try:
        return build_template(store.assignments(), UNIT)
    finally:
        store.engine.dispose()


def _filled(template: bytes, cells: dict[str, object]) -> tuple[bytes, str]:
    """The template with the first task's cells (by header) set as a user types them;
    also returns that task's id."""
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    sheet = workbook[SHEET_TEMPLATE]
    columns = {cell.value: cell.column for cell in sheet[2] if cell.value}
    for header, value in cells.items():
        sheet.cell(3, columns[header]).value = value
    task_id = sheet.cell(3, columns["任务编号"]).value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue(), str(task_id)


def _label(database: str, task_id: str) -> str:
    rows, _ = unit_state(database, UNIT)
    return str(task_labels(rows[rows.task_id == task_id]).iloc[0])


def _stored(database: str, task_id: str):
    rows, history = unit_state(database, UNIT)
    return rows[rows.task_id == task_id].iloc[0], history


def _upload(page, server: str, name: str, payload: bytes):
    """Sign in on 导入导出 (a new session), open the import tab, choose the file; returns
    the import tab's panel once the preview is drawn."""
    open_signed_in(page, f"{server}/excel")
    page.get_by_role("tab", name="导入填报结果").click()
    panel = tab_panel(page)
    panel.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": name, "mimeType": XLSX_MIME, "buffer": payload}]
    )
    page.wait_for_selector("text=预览（尚未保存）", timeout=60_000)
    wait_until_idle(page)
    return panel


def _table_after(panel, text: str):
    """The first table drawn below the element showing ``text``."""
    anchor = panel.get_by_text(text).first
    return anchor.locator("xpath=following::*[@data-testid='stDataFrame'][1]")


def _headers(table) -> list[str]:
    return [h.strip() for h in table.locator('[role="columnheader"]').all_inner_texts()]


def _row(table, row: int = 0) -> list[str]:
    cells = table.locator(f'[id^="glide-cell-"][id$="-{row}"]').all()
    return [(cell.text_content() or "").strip() for cell in cells]


def test_refused_cell_is_listed_with_chinese_headers_and_its_place(page, server, database):
    payload, task_id = _filled(_template(database), {"状态": "差不多"})
    panel = _upload(page, server, "填报_有错.xlsx", payload)

    assert "读取 7 行，将修改 0 条任务分工、0 个字段；1 处错误" in panel.inner_text()
    errors = _table_after(panel, "1 处错误：")
    headers = _headers(errors)
    assert headers == ["工作表", "行号", "列", "值", "任务", "原因"]  # 任务编号 on request
    assert not ENGLISH_KEYS & {h.lower() for h in headers}
    sheet, row, column, value, task, message = _row(errors)
    label = _label(database, task_id)
    assert (sheet, row, column, value, task) == (SHEET_TEMPLATE, "3", "状态", "差不多", label)
    assert message.startswith("状态必须是以下之一：未启动、推进中")
    assert panel.get_by_role("button", name="下载错误报告（xlsx）").count() == 1
    assert panel.get_by_role("button", name="确认导入").is_disabled()
    _, history = _stored(database, task_id)
    assert history.empty


def test_valid_edit_is_previewed_saved_and_not_blamed_on_others(page, server, database):
    cells = {"完成比例(%)": 55, "进展情况": "浏览器导入的进展"}
    payload, task_id = _filled(_template(database), cells)
    before, _ = _stored(database, task_id)
    panel = _upload(page, server, "填报_市人才局.xlsx", payload)

    assert "将修改 1 条任务分工、2 个字段" in panel.inner_text()
    preview = _table_after(panel, "预览（尚未保存）")
    assert _headers(preview) == ["行号", "任务", "责任单位", "字段", "原值", "新值"]
    label = _label(database, task_id)
    assert _row(preview, 0) == ["3", label, UNIT, "完成比例(%)", str(before.percent), "55"]
    assert _row(preview, 1)[3:] == ["进展情况", "", "浏览器导入的进展"]
    _, history = _stored(database, task_id)
    assert history.empty  # a preview writes nothing

    panel.get_by_role("button", name="确认导入").click()
    page.wait_for_selector("text=导入结果", timeout=60_000)
    wait_until_idle(page)
    stored, history = _stored(database, task_id)
    assert (stored.percent, stored.note, stored.version) == (
        55,
        "浏览器导入的进展",
        before.version + 1,
    )
    assert set(history.changed_by) == {BROWSER_USER}
    assert set(history.source) == {"填报_市人才局.xlsx"}
    shown = panel.inner_text()
    assert "已修改 1 条任务分工、2 个字段" in shown
    # The file is still chosen, but the result stays and no stale preview says "将修改 0 条"
    # under it (users read that as nothing saved).
    assert "预览（尚未保存）" not in shown and "将修改" not in shown
    assert "他人" not in shown and "冲突" not in shown
    assert panel.get_by_role("button", name="确认导入").count() == 0

    # The same file previewed again in a new session says the same.
    panel = _upload(page, server, "填报_市人才局.xlsx", payload)
    shown = panel.inner_text()
    assert "将修改 0 条任务分工、0 个字段" in shown
    assert "他人" not in shown and "冲突" not in shown
    assert _stored(database, task_id)[0].version == before.version + 1
