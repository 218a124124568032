"""Every dashboard page under AppTest, on the seeds and on an empty store.

Expected numbers are computed here from data/measures.csv with the csv module only, never
through the code under test, so a wrong aggregation cannot agree with itself.
"""

from __future__ import annotations

import base64
import csv
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import measures_frame
from tests.factories import sign_in_app, signed_in
from tracker.aggregate import derive
from tracker.progress import Update
from tracker.schema import ADMIN, MEASURE_COLUMNS, MEASURES_CSV
from tracker.store import Store
from webui import safe

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "dashboard.py"
POLICY = "hufubanfa-2025-11"
DOC_NO = "沪府办发〔2025〕11号"
# dashboard.py lists its pages as ("pages/<name>.py", title, icon, url path, right) tuples
PAGES = re.findall(r'\(\s*"(pages/[a-z_]+\.py)"', DASHBOARD.read_text(encoding="utf-8"))


# --- expected numbers, straight from the CSV ---------------------------------------


def csv_rows() -> list[dict[str, str]]:
    with open(MEASURES_CSV, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


ROWS = csv_rows()
TASKS = {r["task_id"] for r in ROWS}
POLICY_TASKS = {r["task_id"] for r in ROWS if r["policy_id"] == POLICY}
# Each 各区政府 row (13, by grep in data/sources) counts as its 16 districts
# (data/unit_members.csv), the collective row itself not at all.
COUNTED_ROWS = len(ROWS) - 13 + 13 * 16
KEWEI_LEADS = {
    r["task_id"]
    for r in ROWS
    if r["policy_id"] == POLICY and r["unit"] == "市科委" and r["role"] == "lead"
}


def test_every_page_of_the_frame_is_found() -> None:
    assert {"pages/overview.py", "pages/tasks.py", "pages/update.py"} <= set(PAGES)


def test_expected_facts_of_the_documents() -> None:
    """The seeded documents' known counts (2 policies, 26 measures, 49 tasks, 170
    assignments, 33 units), recomputed from the CSV."""
    assert len({r["policy_id"] for r in ROWS}) == 2
    assert len({(r["policy_id"], r["measure_no"]) for r in ROWS}) == 26
    assert len(TASKS) == 49
    assert len(ROWS) == 170
    assert len({r["unit"] for r in ROWS}) == 33
    assert {r["doc_no"] for r in ROWS if r["policy_id"] == POLICY} == {DOC_NO}
    assert (len(KEWEI_LEADS), len(POLICY_TASKS)) == (21, 39)


# --- harness ------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppTest]]:
    """Factory for an AppTest of dashboard.py on a fresh SQLite database seeded from the CSV,
    signed in as an admin (who may see every page, 账号管理 included)."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    st.cache_data.clear()
    st.cache_resource.clear()

    def make(query: dict[str, str | list[str]] | None = None) -> AppTest:
        at = AppTest.from_file(str(DASHBOARD), default_timeout=60)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        return sign_in_app(at, "管理甲", ADMIN)

    yield make
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def empty_app(app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    header_only = tmp_path / "empty.csv"
    header_only.write_text(",".join(MEASURE_COLUMNS) + "\n", encoding="utf-8-sig")
    monkeypatch.setenv("TRACKER_MEASURES_CSV", str(header_only))
    return app


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- every page renders -------------------------------------------------------------


def test_every_page_renders_on_the_seeds(app) -> None:
    at = app()
    assert not at.exception, [e.value for e in at.exception]
    for page in PAGES:
        goto(at, page)
        assert at.title, f"{page} shows no title"


def test_every_page_renders_on_an_empty_store(empty_app) -> None:
    at = empty_app()
    assert not at.exception, [e.value for e in at.exception]
    assert metrics(at)["任务"] == "0"
    for page in PAGES:
        goto(at, page)


def test_no_grid_without_rows_and_no_select_all_in_the_filters(empty_app) -> None:
    """An empty st.dataframe says "empty" and a multiselect offers "Select all": English in a
    Chinese UI.  Empty tables become a Chinese note; the filters offer no "Select all"
    (choosing nothing already means 全部)."""
    at = empty_app()
    assert all(not m.proto.select_all for m in at.multiselect)
    for page in ["pages/overview.py", "pages/by_unit.py", "pages/by_policy.py", "pages/tasks.py"]:
        goto(at, page)
        assert all(len(d.value) for d in at.dataframe), page
    goto(at, "pages/overview.py")
    assert "没有红灯任务。" in [i.value for i in at.info]
    goto(at, "pages/tasks.py")
    assert "没有符合条件的数据。" in [i.value for i in at.info]


def test_dashboard_pages_caption_each_chart_and_offer_its_data(app) -> None:
    at = app()
    for page, charts in {
        "pages/overview.py": 2,
        "pages/by_unit.py": 1,
        "pages/by_policy.py": 1,
        "pages/coverage.py": 1,
    }.items():
        goto(at, page)
        assert at.caption, page
        downloads = [b for b in at.download_button if b.label.startswith("下载")]
        assert len(downloads) >= charts, page


# --- numbers equal the CSV ------------------------------------------------------------


def test_overview_headline_equals_the_csv(app) -> None:
    shown = metrics(app())
    assert shown["政策"] == str(len({r["policy_id"] for r in ROWS}))
    assert shown["措施"] == str(len({(r["policy_id"], r["measure_no"]) for r in ROWS}))
    assert shown["任务"] == str(len(TASKS)) == "49"
    # Each of the 13 各区政府 rows (grep -o 各区政府 data/sources/*: 7 + 6) reports through
    # its 16 districts (data/unit_members.csv) and is not counted itself: 170 - 13 + 13 x 16
    # rows, and 33 units less 各区政府 plus the 16 districts.
    collective = [r for r in ROWS if r["unit"] == "各区政府"]
    assert len(collective) == 13
    assert shown["责任单位数"] == str(len({r["unit"] for r in ROWS}) - 1 + 16) == "48"
    assert shown["分工条数"] == str(len(ROWS) - 13 + 13 * 16) == "365"
    assert shown["任务完成率"] == "0%"  # fresh store: nothing reported yet
    assert shown["已完成任务"] == "0"
    assert shown["未落实到具体单位的分工"] == "1"  # the one 各相关单位 row
    lights = sum(int(shown[k]) for k in ("红灯", "黄灯", "绿灯"))
    assert lights == 365


def test_by_policy_table_counts_every_task(app) -> None:
    at = goto(app(), "pages/by_policy.py")
    table = at.dataframe[0].value
    assert int(table["任务"].sum()) == len(TASKS)
    per_measure = {}
    for r in ROWS:
        per_measure.setdefault((r["doc_no"], int(r["measure_no"])), set()).add(r["task_id"])
    shown = {(d, int(m)): int(n) for d, m, n in table[["文号", "措施", "任务"]].to_numpy()}
    assert shown == {k: len(v) for k, v in per_measure.items()}


def test_task_list_shows_unit_status_and_note_first_and_in_its_csv(app) -> None:
    at = goto(app(), "pages/tasks.py")
    table = at.dataframe[0].value
    assert list(table.columns[:9]) == [
        "责任单位",
        "角色",
        "状态",
        "完成比例(%)",
        "完成时限",
        "预警",
        "措施",
        "任务内容",
        "进展情况",
    ]
    assert len(table) == COUNTED_ROWS
    assert any(b.key == "download_tasks.csv" for b in at.download_button)  # the same frame


def test_coverage_tables(app) -> None:
    at = goto(app(), "pages/coverage.py")
    spread = at.dataframe[-1].value
    units_per_measure: dict[tuple[str, str], set[str]] = {}
    for r in ROWS:
        units_per_measure.setdefault((r["policy_id"], r["measure_no"]), set()).add(r["unit"])
    # Every measure of the seeds has two or more units: the single-unit table is a note.
    assert sum(1 for u in units_per_measure.values() if len(u) == 1) == 0
    assert len(at.dataframe) == 1
    assert "每项措施都有两个及以上责任单位。" in [i.value for i in at.info]
    measures_of_kewei = {k for k, u in units_per_measure.items() if "市科委" in u}
    assert int(spread.set_index("单位").loc["市科委", "涉及措施数"]) == len(measures_of_kewei)


# --- filters: query string in, query string out -----------------------------------------


def test_policy_link_filters_every_page(app) -> None:
    at = app({"policy": POLICY})
    assert metrics(at)["任务"] == str(len(POLICY_TASKS)) == "39"
    at = goto(at, "pages/by_unit.py")
    assert not at.get("selectbox")  # the 单位详情 tab is drawn only once opened
    at.session_state["by_unit_tab"] = "单位详情"
    at.run()
    assert not at.get("plotly_chart")  # and the closed chart tab is not
    at.selectbox(key="by_unit_unit").set_value("市科委").run()
    shown = metrics(at)
    assert shown["牵头任务"] == str(len(KEWEI_LEADS)) == "21"
    assert at.query_params.get("policy") == POLICY  # the link still reproduces the view


def test_link_with_unit_and_role(app) -> None:
    at = app({"policy": POLICY, "unit": "市科委", "role": "lead"})
    shown = metrics(at)
    assert shown["任务"] == "21"
    assert shown["分工条数"] == "21"
    assert at.multiselect(key="filter_unit").value == ["市科委"]


def test_sidebar_choice_changes_numbers_and_the_url(app) -> None:
    at = app()
    at.multiselect(key="filter_unit").set_value(["市科委"]).run()
    kewei_rows = [r for r in ROWS if r["unit"] == "市科委"]
    shown = metrics(at)
    assert shown["分工条数"] == str(len(kewei_rows))
    assert shown["任务"] == str(len({r["task_id"] for r in kewei_rows}))
    assert at.query_params.get("unit") == "市科委"
    # switching pages keeps the filter (and writes it back to the URL)
    at = goto(at, "pages/tasks.py")
    assert metrics(at)["分工条数"] == str(len(kewei_rows))
    assert at.query_params.get("unit") == "市科委"
    # clearing it restores everything and removes it from the URL
    at.multiselect(key="filter_unit").set_value([]).run()
    assert metrics(at)["分工条数"] == str(COUNTED_ROWS)
    assert "unit" not in at.query_params


def test_unknown_values_in_a_link_are_ignored(app) -> None:
    at = app({"unit": "不存在的单位", "status": "bogus"})
    assert not at.exception
    assert metrics(at)["分工条数"] == str(COUNTED_ROWS)


# --- cache follows the store revision ---------------------------------------------------


def test_a_saved_update_shows_on_the_next_run(app) -> None:
    at = app()
    assert metrics(at)["滞后任务"] == "0"
    store = Store.open()  # same DATABASE_URL as the app
    lead = store.assignments().query("role == 'lead'").iloc[0]
    result = store.apply(
        [
            Update(
                int(lead["assignment_id"]), int(lead["version"]), {"status": "滞后", "note": "测试"}
            )
        ],
        user=signed_in(store, "tester"),
        source="web",
    )
    assert result.changed_assignments == 1
    store.engine.dispose()
    at.run()
    shown = metrics(at)
    assert shown["滞后任务"] == "1"
    assert int(shown["红灯"]) >= 1
    assert len(at.dataframe[0].value) == 1  # the red task list


# --- a unit filter on lead-unit figures -----------------------------------------------


def _array(values) -> list:
    """A plotly JSON array, plain or typed (``{"dtype": …, "bdata": base64}``)."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def _lights_chart(at: AppTest) -> dict[str, dict[str, float]]:
    """Unit -> light label -> tasks, read from the 牵头单位预警灯 chart the page sent."""
    chart = next(c for c in at.get("plotly_chart") if "lights_by_unit" in c.proto.id)
    traces = json.loads(chart.proto.spec)["data"]
    shown: dict[str, dict[str, float]] = {}
    for trace in traces:
        for unit, tasks in zip(_array(trace["y"]), _array(trace["x"]), strict=True):
            shown.setdefault(unit, {})[trace["name"]] = tasks
    return shown


def test_support_unit_filter_shows_tasks_with_the_leads_status_and_light(app) -> None:
    """?unit=市财政局 showed 市财政局's own (red) status under 市科委's name."""
    at = app({"unit": "市财政局"})
    store = Store.open()  # same DATABASE_URL as the app
    rows = derive(store.assignments())
    task = rows[(rows.unit == "市财政局") & (rows.role == "support") & (rows.lead_unit == "市科委")]
    task_id = task.iloc[0]["task_id"]
    mine = rows[(rows.task_id == task_id) & (rows.unit == "市财政局")].iloc[0]
    lead = rows[(rows.task_id == task_id) & (rows.unit == "市科委")].iloc[0]
    store.apply(
        [
            Update(
                int(mine["assignment_id"]), int(mine["version"]), {"status": "滞后", "note": "测试"}
            ),
            Update(int(lead["assignment_id"]), int(lead["version"]), {"status": "已完成"}),
        ],
        user=signed_in(store, "tester"),
        source="web",
    )
    store.engine.dispose()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = metrics(at)
    caizheng_tasks = {r["task_id"] for r in ROWS if r["unit"] == "市财政局"}
    assert shown["任务"] == str(len(caizheng_tasks))
    assert shown["已完成任务"] == "1"  # by 市科委's status
    assert shown["滞后任务"] == "0"  # 市财政局's own delayed row does not make the task delayed
    assert shown["红灯"] == "1"  # lights count 市财政局's own rows
    assert "没有红灯任务。" in [i.value for i in at.info]  # the red list: the lead is not red
    assert not at.dataframe
    lights = _lights_chart(at)
    # a trace carries only its non-zero bars: no red bar for 市科委
    assert "红灯" not in lights["市科委"] and lights["市科委"]["绿灯"] >= 1
    captions = [c.value for c in at.caption]
    assert any("仍按各任务的牵头单位及牵头单位的预警灯计" in c for c in captions)


# --- labels, not codes; user text shown literally -------------------------------------


def test_filter_caption_names_labels_and_policy_titles(app) -> None:
    at = app(
        {"policy": POLICY, "role": "lead", "status": ["in_progress", "delayed"], "light": "red"}
    )
    source = next(c.value for c in at.sidebar.caption if c.value.startswith("当前筛选"))
    caption = re.sub(r"\\(.)", r"\1", source)  # as shown: Markdown escapes removed
    assert "角色=牵头" in caption and "状态=推进中、滞后" in caption and "预警灯=红灯" in caption
    assert f"政策={DOC_NO} 关于进一步深化改革创新" in caption  # document number and title
    for code in ("lead", "in_progress", "delayed", "red", POLICY):
        assert code not in caption


HOSTILE_UNIT = "$x$ [a](http://evil) ![i](http://evil/i.png)"


@pytest.fixture
def hostile_app(app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """The app on a store whose only task is led by a unit with Markdown in its name."""
    measures = measures_frame(
        [
            {
                "measure_no": 1,
                "task_id": "demo-m01-t1",
                "unit": HOSTILE_UNIT,
                "role": "lead",
                "unit_rank": 1,
            },
            {
                "measure_no": 1,
                "task_id": "demo-m01-t1",
                "unit": "市科委",
                "role": "support",
                "unit_rank": 2,
            },
        ]
    )
    path = tmp_path / "hostile.csv"
    measures.to_csv(path, index=False, encoding="utf-8-sig")
    monkeypatch.setenv("TRACKER_MEASURES_CSV", str(path))
    return app


@pytest.mark.parametrize(
    "page",
    [
        "pages/overview.py",
        "pages/by_unit.py",
        "pages/by_policy.py",
        "pages/coverage.py",
        "pages/tasks.py",
    ],
)
def test_unit_names_with_markdown_are_shown_literally(hostile_app, page: str) -> None:
    at = goto(hostile_app({"unit": HOSTILE_UNIT}), page)
    markdown = [
        e.value
        for kind in ("caption", "markdown", "info", "warning", "error", "success")
        for e in at.get(kind)
        if isinstance(e.value, str)
    ]
    mentions = [m for m in markdown if "evil" in m]
    assert mentions, "the unit filter is named somewhere"
    for text in markdown:
        assert "](http" not in text and "$x$" not in text  # no live link, image or KaTeX
    assert any(safe.plain(HOSTILE_UNIT) in m for m in mentions)
