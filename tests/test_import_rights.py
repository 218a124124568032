"""A staff member's Excel file may only change the staff member's own units' rows: a row of
another unit that would change something is refused by row with the reason (and, all or
nothing, nothing of the file is written), whatever the workbook's defined names or sheet
names claim; other units' rows left as stored are skipped.  On SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from cli import EXIT_BAD_INPUT, main
from excel.read import import_workbook
from excel.report import SHEET_DETAIL, build_report
from excel.template import SHEET_TEMPLATE, UNIT_NAME, build_template
from tests.factories import PASSWORD, signed_in, staff

TODAY = date(2026, 11, 23)


def _template_with_foreign_row(store, defined_name: str | None) -> bytes:
    """市科委's template, one row retargeted to 市财政局's assignment of demo-m02-t1 with a
    new percentage, and the template's unit defined name removed or rewritten."""
    book = openpyxl.load_workbook(io.BytesIO(build_template(store.assignments(), "市科委")))
    sheet = book[SHEET_TEMPLATE]
    header = {c.value: c.column for c in sheet[2] if c.value}
    for row in range(3, sheet.max_row + 1):
        if sheet.cell(row, header["任务编号"]).value == "demo-m02-t1":
            sheet.cell(row, header["责任单位"]).value = "市财政局"
            sheet.cell(row, header["完成比例(%)"]).value = 90
        elif sheet.cell(row, header["任务编号"]).value == "demo-m01-t1":
            sheet.cell(row, header["完成比例(%)"]).value = 20  # a legitimate own-unit edit
    if defined_name is None:
        del book.defined_names[UNIT_NAME]
    else:
        book.defined_names[UNIT_NAME].attr_text = f'"{defined_name}"'
    sheet.title = "市财政局"  # the sheet name claims the other unit too
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("defined_name", [None, "市财政局"], ids=["name-removed", "name-edited"])
@pytest.mark.parametrize("all_or_nothing", [False, True], ids=["partial", "all-or-nothing"])
def test_staff_file_with_another_units_row_refuses_that_row(
    make_store, small_measures, defined_name, all_or_nothing
):
    store = make_store(small_measures)
    data = _template_with_foreign_row(store, defined_name)
    account = staff(store, "市科委")
    result = import_workbook(
        store, data, file_name="市科委.xlsx", user=account, all_or_nothing=all_or_nothing
    )
    foreign = [p for p in result.problems if "无权修改" in p.message]
    assert len(foreign) == 1
    assert foreign[0].task_id == "demo-m02-t1" and "市财政局" in foreign[0].message
    assert foreign[0].row is not None
    rows = store.assignments()
    assert rows[rows.unit == "市财政局"].version.tolist() == [0]
    if all_or_nothing or defined_name:  # (a template of 市财政局 holds no row of 市科委)
        assert not result.written and store.history().empty
    else:  # the own row's edit is saved, the other unit's row is not
        assert result.written
        assert set(zip(store.history().task_id, store.history().unit, strict=True)) == {
            ("demo-m01-t1", "市科委")
        }


def test_staff_dry_run_shows_the_refusal(make_store, small_measures):
    store = make_store(small_measures)
    data = _template_with_foreign_row(store, None)
    result = import_workbook(
        store, data, file_name="市科委.xlsx", user=staff(store, "市科委"), dry_run=True
    )
    assert [p.task_id for p in result.problems if "无权修改" in p.message] == ["demo-m02-t1"]
    assert store.history().empty


def _report_detail(store, percent_of: dict[str, int] | None = None, every: int | None = None):
    """The exported report, its 明细 edited: ``percent_of`` by unit, or ``every`` row."""
    report = openpyxl.load_workbook(io.BytesIO(build_report(store.assignments(), today=TODAY)))
    sheet = report[SHEET_DETAIL]
    header = {c.value: c.column for c in sheet[2] if c.value}
    for row in range(3, sheet.max_row + 1):
        unit = sheet.cell(row, header["责任单位"]).value
        value = every if every is not None else (percent_of or {}).get(unit)
        if value is not None:
            sheet.cell(row, header["完成比例(%)"]).value = value
    out = io.BytesIO()
    report.save(out)
    return out.getvalue()


def test_staff_importing_the_full_report_detail_refuses_other_units_rows(
    make_store, small_measures
):
    store = make_store(small_measures)
    result = import_workbook(
        store, _report_detail(store, every=10), file_name="report.xlsx", user=staff(store, "市科委")
    )
    refused_units = {p.message.split("「")[1].split("」")[0] for p in result.problems}
    assert refused_units == {"市教委", "市财政局"} and len(result.problems) == 4
    assert set(store.history().unit) == {"市科委"}  # the own two rows, saved in part


@pytest.mark.parametrize("all_or_nothing", [False, True], ids=["partial", "all-or-nothing"])
def test_other_units_unchanged_rows_of_the_report_are_skipped(
    make_store, small_measures, all_or_nothing
):
    """A 填报员 sends back the whole exported 明细 with only its own row edited: the other
    units' four rows, left as stored, are skipped in one line and the own edit is saved."""
    store = make_store(small_measures)
    data = _report_detail(store, {"市科委": 30})
    result = import_workbook(
        store,
        data,
        file_name="进度报表.xlsx",
        user=staff(store, "市科委"),
        all_or_nothing=all_or_nothing,
    )
    assert result.ok and result.written and result.skipped_other_units == 4
    assert "其他单位的 4 行与系统一致，已跳过" in result.summary()
    rows = store.assignments()
    assert rows.set_index("unit").percent.groupby("unit").max().to_dict() == {
        "市科委": 30,
        "市教委": 0,
        "市财政局": 0,
    }


def test_supervisor_may_import_for_any_unit(make_store, small_measures):
    store = make_store(small_measures)
    data = _template_with_foreign_row(store, None)
    result = import_workbook(store, data, file_name="市科委.xlsx", user=signed_in(store))
    assert result.written and not result.problems
    changed = set(zip(result.diffs["task_id"], result.diffs["unit"], strict=True))
    assert changed == {("demo-m01-t1", "市科委"), ("demo-m02-t1", "市财政局")}


def test_cli_import_as_staff_refuses_the_foreign_row(tmp_path, small_measures, monkeypatch):
    csv = tmp_path / "measures.csv"
    small_measures.to_csv(csv, index=False, encoding="utf-8-sig")
    monkeypatch.setenv("TRACKER_MEASURES_CSV", str(csv))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    from loaders.store_sync import open_store

    store = open_store(url)  # what the CLI opens: the tables and the measures file's tasks
    store.accounts.add("kw01", role="staff", units=["市科委"], password=PASSWORD)
    path = tmp_path / "市科委.xlsx"
    path.write_bytes(_template_with_foreign_row(store, "市财政局"))
    assert main(["import", str(path), "--user", "kw01", "--db", url]) == EXIT_BAD_INPUT
    assert main(["import", str(path), "--user", "nobody", "--db", url]) == EXIT_BAD_INPUT
    assert store.history().empty


def test_a_template_from_before_a_revision_does_not_land_on_the_new_task(
    make_store, small_measures
):
    """Task ids are positions: once a revision puts another task at demo-m01-t2, a row of an
    old template written for the old text is refused, not written onto the new task."""
    store = make_store(small_measures)
    old = build_template(store.assignments(), "市教委")
    book = openpyxl.load_workbook(io.BytesIO(old))
    sheet = book[SHEET_TEMPLATE]
    header = {c.value: c.column for c in sheet[2] if c.value}
    for row in range(3, sheet.max_row + 1):
        sheet.cell(row, header["完成比例(%)"]).value = 40
    out = io.BytesIO()
    book.save(out)
    # The revision: demo-m01-t2 now names a different task (same unit, new text).
    revised = small_measures.copy()
    revised.loc[revised.task_id == "demo-m01-t2", "task_text"] = "完全不同的一项新任务内容"
    store.sync(revised, plan=store.plan_sync(revised), user=signed_in(store), source="修订")
    rows = store.assignments()
    assert rows.loc[rows.task_id == "demo-m01-t2", "task_text"].tolist() == [
        "完全不同的一项新任务内容"
    ]
    result = import_workbook(
        store, out.getvalue(), file_name="市教委.xlsx", user=staff(store, "市教委")
    )
    refused = [p for p in result.problems if p.task_id == "demo-m01-t2"]
    assert len(refused) == 1 and "任务内容" in refused[0].message
    assert refused[0].column == "任务内容"
    rows = store.assignments()
    assert set(rows.loc[rows.task_id != "demo-m01-t2", "percent"]) == {0, 40}
    new_task = rows[(rows.task_id == "demo-m01-t2") & (rows.unit == "市教委")].iloc[0]
    assert new_task.percent == 0 and new_task.version == 0
