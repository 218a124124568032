"""The pages speak the users' language (issue 24), under AppTest on the seeds of
data/measures.csv (2 policies, 49 tasks, 170 rows of 33 units, no deadlines):

- tasks are named by 文号·措施-任务 (``〔2025〕11号·11-4``), never by an internal id, on 报送,
  审核 and in the 催办 notice;
- 催办 picks what is overdue or due soon, and its button says whom it reaches;
- 报送 shows the report it will send and sends it only once confirmed;
- after an import is saved the result stays and the preview of the same file goes.

Hand-read from the seeds: hufubanfa-2025-11-m11-t4 (沪府办发〔2025〕11号 measure 11, task 4)
is led by 上海海关 with 市科委 in support; hufubanfa-2025-11-m01-t2 (measure 1, task 2) is led
by 市教委 with 市经济信息化委 and 市科委 in support.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import date

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from excel.template import SHEET_TEMPLATE, build_template
from loaders.measures_csv import read_measures
from tests.factories import DASHBOARD, aid_of, on_page, shown_text, signed_in, staff
from tracker import supervision as sv
from tracker.progress import Update, now, period_of
from tracker.schema import MEASURES_CSV, STAFF, SUBMITTED, SUPERVISOR
from tracker.store import Store, make_engine
from webui import data

TODAY = date(2026, 3, 10)  # the page's clock, set by hand
INTERNAL_ID = re.compile(r"hufuban(fa|gui)-\d{4}-\d+-m\d+-t\d+")
OVERDUE_TASK, SOON_TASK = "hufubanfa-2025-11-m11-t4", "hufubanfa-2025-11-m01-t2"


@pytest.fixture
def seeded(app_env_of) -> Iterator[tuple[AppTest, Store]]:
    """The app on the seeds; a first run creates and seeds the database."""
    url = app_env_of(read_measures(MEASURES_CSV.read_bytes()))
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    store = Store(make_engine(url))
    yield at, store
    store.engine.dispose()


@pytest.fixture
def clock(monkeypatch) -> date:
    """The pages' calendar day set by hand to TODAY (supervision steps keep the real time,
    so the tests of 报送 and 审核 leave the clock alone)."""
    monkeypatch.setattr(data, "today", lambda: TODAY)
    return TODAY


def set_fields(store: Store, who, aid: int, **changes) -> None:
    version = int(store.assignments().set_index("assignment_id").at[aid, "version"])
    store.apply([Update(aid, version, changes)], user=who, source="web")


def page_text(at: AppTest) -> str:
    """Every message, caption, heading and code block the page shows, as read."""
    parts = [
        *(e.value for e in at.title),
        *(e.value for e in at.subheader),
        *(e.value for e in at.markdown),
        *(e.value for e in at.caption),
        *(e.value for e in at.info),
        *(e.value for e in at.success),
        *(e.value for e in at.warning),
        *(e.value for e in at.error),
        *(e.value for e in at.code),
    ]
    return "\n".join(shown_text(str(p)) for p in parts)


def shown_columns(frame_element) -> list[str]:
    """The columns a st.dataframe shows: those its column config does not hide."""
    config = json.loads(frame_element.proto.columns or "{}")
    hidden = {name for name, column in config.items() if column.get("hidden")}
    return [c for c in frame_element.value.columns if c not in hidden]


# --- 催办 ------------------------------------------------------------------------------------


def test_reminders_default_to_overdue_and_due_soon_and_say_whom_they_reach(seeded, clock) -> None:
    at, store = seeded
    boss = signed_in(store)
    for unit in ("上海海关", "市科委"):  # overdue by 5 days
        set_fields(store, boss, aid_of(store, OVERDUE_TASK, unit), due_date="2026-03-05")
    set_fields(store, boss, aid_of(store, SOON_TASK, "市教委"), due_date="2026-03-20")  # 10 days

    on_page(at, "pages/reminders.py", boss.username, SUPERVISOR)
    assert at.multiselect(key="reminders_reasons").value == ["已逾期", "即将到期"]
    # Every seed assignment is unsigned, yet only the three with a deadline near are chased.
    assert at.button(key="reminders_send").label == "发送催办（3个单位，3项）"
    at.session_state["reminders_tab"] = "催办通知"
    at.run()
    notice = at.code[0].value
    assert "【已逾期 5 天】〔2025〕11号·11-4 为科技服务业企业进出口研发" in notice
    assert "【10 天后到期】〔2025〕11号·1-2 加强校企合作" in notice
    assert not INTERNAL_ID.search(notice)
    at.session_state["reminders_tab"] = "催办清单"
    at.run()
    [items] = at.dataframe
    listed = items.value
    assert sorted(zip(listed["责任单位"], listed["任务"], strict=True)) == [
        ("上海海关", "〔2025〕11号·11-4"),
        ("市教委", "〔2025〕11号·1-2"),
        ("市科委", "〔2025〕11号·11-4"),
    ]
    assert "任务编号" not in shown_columns(items)  # the id only when asked for
    at.toggle(key="reminders_show_ids").set_value(True).run()
    assert "任务编号" in shown_columns(at.dataframe[0])

    # Asking for the unsigned ones too reaches every unit: the button says so first.  The
    # seeds' 170 rows name 33 units; the 13 rows of 各区政府 each become one row per member
    # district (16 in data/unit_members.csv), the collective row a roll-up nobody is chased
    # for: 170 - 13 + 13 × 16 = 365 items, 33 - 1 + 16 = 48 units.
    at.multiselect(key="reminders_reasons").select("未签收").run()
    assert at.button(key="reminders_send").label == "发送催办（48个单位，365项）"
    assert sv.Supervision(store).reminders().empty, "nothing is sent before the click"

    at.multiselect(key="reminders_reasons").unselect("未签收").run()
    at.button(key="reminders_send").click().run()
    assert [shown_text(s.value) for s in at.success] == ["已向 3 个单位发送催办，共 3 项。"]
    log = sv.Supervision(store).reminders()
    assert dict(zip(log["unit"], log["items"], strict=True)) == {
        "上海海关": 1,
        "市科委": 1,
        "市教委": 1,
    }
    assert not any(INTERNAL_ID.search(body) for body in log["body"])


# --- 报送 and 审核 ---------------------------------------------------------------------------


def test_reporting_shows_the_report_and_sends_only_what_is_confirmed(seeded) -> None:
    at, store = seeded
    jw = staff(store, "市教委")
    aid = aid_of(store, SOON_TASK, "市教委")
    set_fields(store, jw, aid, note="已与三所高校签约")
    supervision = sv.Supervision(store)
    supervision.acknowledge(aid, user=jw)

    on_page(at, "pages/reporting.py", jw.username, STAFF, ["市教委"])
    board = at.dataframe[0]
    assert "任务编号" not in shown_columns(board)
    assert "〔2025〕11号·1-2" in board.value["任务"].tolist()
    at.selectbox(key="reporting_task").select(aid).run()
    assert "〔2025〕11号·1-2：加强校企合作" in page_text(at)
    [report] = [t for t in at.text_area if t.key.startswith("reporting_text_")]
    assert report.value == "已与三所高校签约"  # the progress note, shown before it is sent

    at.button(key="reporting_submit").click().run()
    assert SUBMITTED not in supervision.steps(assignment_ids=[aid])["action"].tolist()
    assert "已与三所高校签约" in [shown_text(i.value) for i in at.info]
    at.button(key="reporting_cancel").click().run()  # 返回修改: nothing sent, no question left
    assert "reporting_confirm" not in [b.key for b in at.button]
    at.button(key="reporting_submit").click().run()
    assert at.button(key="reporting_confirm")  # asks again; still nothing sent
    assert supervision.steps(assignment_ids=[aid])["action"].tolist() == ["acknowledged"]

    # An edit withdraws the question; the edited text is what is sent once confirmed.
    [report] = [t for t in at.text_area if t.key.startswith("reporting_text_")]
    report.input("已与三所高校签约，联合创新中心挂牌").run()
    assert "reporting_confirm" not in [b.key for b in at.button]
    at.button(key="reporting_submit").click().run()
    at.button(key="reporting_confirm").click().run()
    assert not at.error, [e.value for e in at.error]
    steps = supervision.steps(assignment_ids=[aid])
    assert steps["action"].tolist() == ["acknowledged", SUBMITTED]
    assert steps["text"].tolist()[-1] == "已与三所高校签约，联合创新中心挂牌"
    period = period_of(now().date())
    assert [shown_text(s.value) for s in at.success] == [
        f"已报送任务 〔2025〕11号·1-2 的 {period} 进展，等待审核。"
    ]
    assert not INTERNAL_ID.search(page_text(at))


def test_review_names_the_task_by_its_label(seeded) -> None:
    at, store = seeded
    boss, jw = signed_in(store), staff(store, "市教委")
    aid = aid_of(store, SOON_TASK, "市教委")  # a lead report: the supervisor reviews it
    supervision = sv.Supervision(store)
    supervision.acknowledge(aid, user=jw)
    supervision.submit(aid, "已签约", user=jw)
    on_page(at, "pages/review.py", boss.username, SUPERVISOR)
    text = page_text(at)
    assert "市教委（牵头） · 〔2025〕11号·1-2：加强校企合作" in text
    assert not INTERNAL_ID.search(text)


# --- 导入 -------------------------------------------------------------------------------------


def filled_template(store: Store, unit: str, task_id: str, percent: int) -> bytes:
    """``unit``'s template with one row's 完成比例 set, as a user fills it in Excel."""
    wb = openpyxl.load_workbook(io.BytesIO(build_template(store.assignments(), unit, today=TODAY)))
    ws = wb[SHEET_TEMPLATE]
    cols = {c.value: c.column for c in ws[2] if c.value}
    for row in range(3, ws.max_row + 1):
        if ws.cell(row, cols["任务编号"]).value == task_id:
            ws.cell(row, cols["完成比例(%)"]).value = percent
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_after_an_import_the_result_stays_and_the_preview_goes(seeded, clock) -> None:
    at, store = seeded
    boss = signed_in(store)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    on_page(at, "pages/excel.py", boss.username, SUPERVISOR)
    upload = filled_template(store, "市教委", SOON_TASK, 40)
    at.file_uploader(key="excel_upload").set_value(("市教委.xlsx", upload, xlsx)).run()
    assert "预览（尚未保存）" in [s.value for s in at.subheader]
    assert "将修改 1 条任务分工" in page_text(at)
    [diffs] = [d for d in at.dataframe if "字段" in d.value.columns]
    assert diffs.value["任务"].tolist() == ["〔2025〕11号·1-2"]
    assert "任务编号" not in shown_columns(diffs)

    at.button(key="excel_apply").click().run()
    assert not at.exception, at.exception
    headings = [s.value for s in at.subheader]
    assert "导入结果" in headings and "预览（尚未保存）" not in headings
    text = page_text(at)
    assert "已修改 1 条任务分工" in text and "将修改" not in text
    assert (
        int(
            store.assignments()
            .set_index("task_id")
            .loc[SOON_TASK]
            .query("unit == '市教委'")["percent"]
            .iloc[0]
        )
        == 40
    )
    at.run()  # another rerun with the same file still shows the result, not a new preview
    assert "导入结果" in [s.value for s in at.subheader]

    # Another file: its preview replaces the last result.
    again = filled_template(store, "市教委", SOON_TASK, 60)
    at.file_uploader(key="excel_upload").set_value(("市教委2.xlsx", again, xlsx)).run()
    headings = [s.value for s in at.subheader]
    assert "预览（尚未保存）" in headings and "导入结果" not in headings


# --- 完成时限 ---------------------------------------------------------------------------------


def test_deadlines_name_tasks_by_label_also_when_a_save_is_refused(seeded) -> None:
    at, store = seeded
    boss, other = signed_in(store), signed_in(store, "督办乙")
    on_page(at, "pages/deadlines.py", boss.username, SUPERVISOR)
    editor = next(e for e in at.data_editor if e.key.startswith("deadlines_tasks_"))
    assert editor.value["任务"].iloc[0] == "〔2025〕11号·1-1"
    assert "任务编号" not in shown_columns(editor)
    # Someone else sets the deadline of the first task (市科委 leads it) meanwhile.
    set_fields(
        store, other, aid_of(store, "hufubanfa-2025-11-m01-t1", "市科委"), due_date="2026-05-01"
    )
    at.session_state[editor.key] = {
        "edited_rows": {0: {"完成时限": "2026-06-30"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.button(key="deadlines_save_tasks").click().run()
    [error] = [shown_text(e.value) for e in at.error]
    assert "〔2025〕11号·1-1　优化运营管理和开放共享考核制度" in error
    assert "督办乙 已改为 完成时限 2026-05-01" in error
    assert not INTERNAL_ID.search(error)
