"""Figure functions on small hand-made aggregate frames, plus a 10,000-task synthetic scale."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from pagelogic import figures as fg
from tracker import aggregate as ag
from tracker.schema import LIGHT_COLORS, STATUS_COLORS, STATUS_LABELS, STATUSES

TODAY = date(2026, 11, 23)


def synthetic_assignments(
    n_tasks: int = 10_000, n_units: int = 100, tasks_per_measure: int = 10, seed: int = 7
) -> pd.DataFrame:
    """A store-shaped assignment frame at scale: 2 policies, ``n_units`` units, 1-3 per task."""
    rng = np.random.default_rng(seed)
    task_no = np.arange(n_tasks)
    measure = task_no // tasks_per_measure
    n_measures = int(measure.max()) + 1
    policy = (measure >= n_measures // 2).astype(int)
    per_task = rng.integers(1, 4, n_tasks)
    rows = np.repeat(task_no, per_task)
    rank = np.concatenate([np.arange(k) for k in per_task]) + 1
    unit = (rows * 7 + rank * 13 + rng.integers(0, n_units, len(rows))) % n_units
    m, p = measure[rows], policy[rows]
    frame = pd.DataFrame(
        {
            "assignment_id": np.arange(1, len(rows) + 1),
            "policy_id": np.where(p == 0, "syn-a", "syn-b"),
            "policy_title": np.where(p == 0, "合成政策甲", "合成政策乙"),
            "doc_no": np.where(p == 0, "沪府办发〔2030〕1号", "沪府办发〔2030〕2号"),
            "issue_date": pd.Timestamp("2026-01-01"),
            "section_no": m // 50 + 1,
            "section_title": [f"第{s}部分" for s in m // 50 + 1],
            "measure_id": [f"syn-m{x:04d}" for x in m],
            "measure_no": m + 1,
            "measure_title": [f"合成措施{x}" for x in m],
            "task_id": [f"syn-t{x:05d}" for x in rows],
            "task_seq": rows % tasks_per_measure + 1,
            "task_text": "合成任务",
            "unit": [f"合成单位{u:03d}" for u in unit],
            "role": np.where(rank == 1, "lead", "support"),
            "unit_rank": rank,
            "status": rng.choice(STATUSES, len(rows)),
            "percent": 0,
            "due_date": pd.Timestamp("2026-12-31"),
            "note": "",
            "updated_by": "",
            "updated_at": pd.NaT,
        }
    )
    frame = frame.drop_duplicates(["task_id", "unit"])
    return ag.derive(frame, TODAY)


def bars(fig: go.Figure) -> list[go.Bar]:
    return [t for t in fig.data if isinstance(t, go.Bar)]


# --- status donut --------------------------------------------------------------------


def test_status_donut_values_and_colours() -> None:
    counts = pd.DataFrame(
        {
            "status": STATUSES,
            "label": [STATUS_LABELS[s] for s in STATUSES],
            "tasks": [3, 2, 5, 1, 0],
        }
    )
    fig = fg.status_donut(counts)
    pie = fig.data[0]
    assert list(pie.values) == [3, 2, 5, 1, 0]
    # The legend names every status with its count; hover says the status alone.
    assert list(pie.labels) == ["未启动 3", "推进中 2", "已完成 5", "滞后 1", "暂缓 0"]
    assert list(pie.customdata) == ["未启动", "推进中", "已完成", "滞后", "暂缓"]
    assert list(pie.marker.colors) == [STATUS_COLORS[s] for s in STATUSES]
    assert "11" in fig.layout.annotations[0].text


def test_status_donut_legend_sits_below_the_ring() -> None:
    """Slice labels are drawn around the ring's top; a legend above it overlapped them."""
    counts = pd.DataFrame(
        {"status": STATUSES, "label": [STATUS_LABELS[s] for s in STATUSES], "tasks": 1}
    )
    legend = fg.status_donut(counts).layout.legend
    assert legend.yanchor == "top" and legend.y <= 0


def test_status_donut_small_slices_keep_their_label_in_the_legend_only() -> None:
    """170 tasks: 1 滞后 and 2 暂缓 are thin neighbours whose labels collided.  By hand:
    1/170 and 2/170 are under the 6 % threshold, 10/170 (5.9 %) too; 57 and 100 are over."""
    counts = pd.DataFrame(
        {
            "status": STATUSES,
            "label": [STATUS_LABELS[s] for s in STATUSES],
            "tasks": [57, 10, 100, 1, 2],
        }
    )
    fig = fg.status_donut(counts)
    pie = fig.data[0]
    assert list(pie.text) == ["未启动<br>57", "", "已完成<br>100", "", ""]
    assert pie.textinfo == "text" and pie.textposition == "inside"
    assert pie.insidetextorientation == "horizontal"
    assert list(pie.labels) == ["未启动 57", "推进中 10", "已完成 100", "滞后 1", "暂缓 2"]
    assert fig.layout.uniformtext.minsize == fg.LABEL_MIN_SIZE
    assert fig.layout.uniformtext.mode == "hide"


def test_empty_frames_draw_a_note_not_an_error() -> None:
    empty_counts = pd.DataFrame(
        {"status": STATUSES, "label": list(STATUS_LABELS.values()), "tasks": 0}
    )
    for fig in (
        fg.status_donut(empty_counts),
        fg.lights_by_unit_bar(pd.DataFrame()),
        fg.unit_load_bar(pd.DataFrame()),
        fg.policy_sunburst(pd.DataFrame()),
        fg.coverage_heatmap(pd.DataFrame()),
    ):
        assert len(fig.data) == 0
        assert fig.layout.annotations[0].text == "暂无数据"


# --- lights by lead unit -----------------------------------------------------------


def test_lights_bar_heights_order_and_colours() -> None:
    lights = pd.DataFrame(
        {
            "unit": ["乙", "乙", "乙", "甲", "甲", "甲"],
            "light": ["red", "yellow", "green"] * 2,
            "label": ["红灯", "黄灯", "绿灯"] * 2,
            "tasks": [2, 0, 1, 0, 4, 5],
        }
    )
    fig = fg.lights_by_unit_bar(lights)
    traces = bars(fig)
    assert [t.name for t in traces] == ["红灯", "黄灯", "绿灯"]
    assert [t.marker.color for t in traces] == [LIGHT_COLORS[x] for x in ("red", "yellow", "green")]
    assert list(fig.layout.yaxis.categoryarray) == ["乙", "甲"]  # frame order, first on top
    # each trace carries only its non-zero bars (a zero bar draws nothing but costs a path)
    assert [dict(zip(t.y, t.x, strict=True)) for t in traces] == [
        {"乙": 2},
        {"甲": 4},
        {"乙": 1, "甲": 5},
    ]
    assert fig.layout.barmode == "stack"
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.yaxis.automargin is True


# --- unit load ------------------------------------------------------------------------


def _load() -> pd.DataFrame:
    rows = []
    for unit, lead, support in (
        ("市科委", [4, 3, 2, 1, 0], [0, 1, 0, 0, 0]),
        ("市教委", [0, 1, 0, 0, 0], [2, 0, 0, 0, 0]),
    ):
        for role, counts in (("lead", lead), ("support", support)):
            for status, n in zip(STATUSES, counts, strict=True):
                rows.append({"unit": unit, "role": role, "status": status, "tasks": n})
    frame = pd.DataFrame(rows)
    frame["total"] = frame.groupby("unit")["tasks"].transform("sum")
    return frame


def _role_bars(fig: go.Figure) -> tuple[list[go.Bar], list[go.Bar]]:
    """The lead and the support status traces (the legend's two role keys left out)."""
    traces = [t for t in bars(fig) if t.legendgroup != "role"]
    return [t for t in traces if t.showlegend], [t for t in traces if not t.showlegend]


def test_unit_load_bar_lead_above_support_in_one_panel() -> None:
    fig = fg.unit_load_bar(_load())
    lead, support = _role_bars(fig)
    assert len(lead) == len(support) == len(STATUSES)
    assert [t.name for t in lead] == [STATUS_LABELS[s] for s in STATUSES]
    assert [t.marker.color for t in lead] == [STATUS_COLORS[s] for s in STATUSES]
    assert list(fig.layout.yaxis.categoryarray) == ["市科委", "市教委"]  # heaviest on top
    by_status = [dict(zip(t.y, t.x, strict=True)) for t in lead]
    assert by_status == [
        {"市科委": 4},
        {"市科委": 3, "市教委": 1},
        {"市科委": 2},
        {"市科委": 1},
        {},
    ]
    assert dict(zip(support[0].y, support[0].x, strict=True)) == {"市教委": 2}
    # Stacked by hand: each status starts where the unit's statuses before it end.
    starts = [dict(zip(t.y, t.base, strict=True)) for t in lead[:4]]
    assert starts == [{"市科委": 0}, {"市科委": 4, "市教委": 0}, {"市科委": 7}, {"市科委": 9}]
    # The lead bar lies above the unit's centre line (the axis is reversed), support below.
    assert {t.offset for t in lead} == {-fg.PAIR_BAR - fg.PAIR_GAP / 2}
    assert {t.offset for t in support} == {fg.PAIR_GAP / 2}
    assert {t.width for t in lead + support} == {fg.PAIR_BAR}
    assert all(t.marker.pattern.shape == "/" for t in support)
    assert not any(t.marker.pattern.shape for t in lead)
    assert fig.layout.barmode == "overlay"  # the bases stack; plotly must not stack again
    assert fig.layout.yaxis.automargin is True


def test_unit_load_bar_lead_and_support_share_one_scale() -> None:
    """30 lead tasks beside 15 support tasks must not look equal: one x axis for both."""
    fig = fg.unit_load_bar(_load())
    assert {t.xaxis or "x" for t in bars(fig)} == {"x"}
    assert "xaxis2" not in fig.to_dict()["layout"]


def test_bar_height_grows_with_units() -> None:
    assert fg.bar_height(2) == fg.MIN_HEIGHT
    assert fg.bar_height(40) >= 40 * fg.ROW_PX
    assert fg.bar_height(40) > fg.bar_height(30)


# --- sunburst and heatmap --------------------------------------------------------------


def test_sunburst_sizes_by_tasks_colours_by_share_done() -> None:
    tree = pd.DataFrame(
        {
            "id": ["p", "p/s1", "p-m1", "p-m2"],
            "parent": ["", "p", "p/s1", "p/s1"],
            "label": ["文号", "一、", "（1）甲", "（2）乙"],
            "level": ["policy", "section", "measure", "measure"],
            "tasks": [4, 4, 3, 1],
            "done": [2, 2, 1, 1],
            "share_done": [0.5, 0.5, 1 / 3, 1.0],
        }
    )
    sun = fg.policy_sunburst(tree).data[0]
    assert list(sun.values) == [4, 4, 3, 1]
    assert list(sun.parents) == ["", "p", "p/s1", "p/s1"]
    assert sun.branchvalues == "total"
    assert list(sun.marker.colors) == pytest.approx([50, 50, 100 / 3, 100])
    assert (sun.marker.cmin, sun.marker.cmax) == (0, 100)


def test_sunburst_zero_done_is_not_the_red_of_a_red_light() -> None:
    """0% done is not late by itself: the scale runs grey to the colour of 已完成, with no
    red (红灯, 滞后) anywhere on it, and labels too small to read are hidden."""
    colours = [colour for _, colour in fg.SHARE_DONE_SCALE]
    reds = {LIGHT_COLORS["red"], STATUS_COLORS["delayed"]}
    assert not reds & set(colours)
    assert all(_is_not_reddish(c) for c in colours)
    assert colours[-1] == STATUS_COLORS["done"]
    tree = pd.DataFrame(
        {
            "id": ["p"],
            "parent": [""],
            "label": ["文号"],
            "level": ["policy"],
            "tasks": [1],
            "done": [0],
            "share_done": [0.0],
        }
    )
    fig = fg.policy_sunburst(tree)
    assert fig.data[0].marker.colorscale[0][1] == colours[0]
    assert fig.data[0].maxdepth == fg.SUNBURST_DEPTH == 2  # two rings: room for labels
    assert fig.layout.uniformtext.mode == "hide"
    assert fig.layout.uniformtext.minsize >= 11


def _is_not_reddish(colour: str) -> bool:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return not (red > 160 and red - max(green, blue) > 60)


def test_heatmap_cells_and_labels() -> None:
    matrix = pd.DataFrame(
        [[2, 1], [0, 2]], index=["市科委", "市教委"], columns=["〔2025〕11号·1", "★〔2025〕11号·2"]
    )
    heat = fg.coverage_heatmap(matrix).data[0]
    assert heat.z.tolist() == [[2, 1], [0, 2]]
    assert list(heat.y) == ["市科委", "市教委"]
    assert list(heat.x) == ["〔2025〕11号·1", "★〔2025〕11号·2"]
    assert heat.customdata.tolist() == [["牵头", "配合"], ["未涉及", "牵头"]]
    assert (heat.zmin, heat.zmax) == (0, 2)


def test_heatmap_keeps_its_cells_wide_however_many_columns() -> None:
    """A fixed width per column, never the screen's: 28 columns squeezed into a phone
    got 4 px each.  Twice the columns, twice the cells' share of the width."""

    def matrix(n_columns: int) -> pd.DataFrame:
        columns = [f"〔2025〕11号·{i}" for i in range(n_columns)]
        return pd.DataFrame([[1] * n_columns], index=["市人力资源社会保障局"], columns=columns)

    narrow, wide = (fg.coverage_heatmap(matrix(n)).layout.width for n in (10, 20))
    assert wide - narrow == 10 * fg.CELL_PX
    assert narrow > 10 * fg.CELL_PX + len("市人力资源社会保障局") * 13  # room for the label
    assert fg.CELL_PX >= 20  # a rotated 13 px label per column needs at least ~15 px


# --- scale: 10,000 tasks, 100 units -----------------------------------------------


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    return synthetic_assignments()


def test_synthetic_frame_has_the_promised_scale(big: pd.DataFrame) -> None:
    assert big["task_id"].nunique() == 10_000
    assert big["unit"].nunique() == 100


def test_scale_unit_bars_are_capped_with_others(big: pd.DataFrame) -> None:
    fig = fg.unit_load_bar(ag.unit_load(big))
    units = list(fig.layout.yaxis.categoryarray)
    assert len(units) == ag.UNIT_TOP_N
    lead, support = _role_bars(fig)
    assert {y for t in lead + support for y in t.y} == set(units)  # every unit has a bar
    assert units[-1] == ag.OTHERS
    assert sum(sum(t.x) for t in lead + support) == len(big)  # nothing lost in the fold
    assert fig.layout.height >= fg.PAIR_ROW_PX * ag.UNIT_TOP_N  # room for two bars a unit


def test_scale_lights_bars_are_capped(big: pd.DataFrame) -> None:
    tasks = ag.task_frame(big, TODAY)
    fig = fg.lights_by_unit_bar(ag.lights_by_lead_unit(tasks))
    units = list(fig.layout.yaxis.categoryarray)
    assert len(units) == ag.UNIT_TOP_N
    assert units[-1] == ag.OTHERS
    assert {y for t in bars(fig) for y in t.y} == set(units)
    assert sum(sum(t.x) for t in bars(fig)) == 10_000


def test_scale_heatmap_is_capped_both_ways(big: pd.DataFrame) -> None:
    heat = fg.coverage_heatmap(ag.coverage(big)).data[0]
    assert len(heat.y) == ag.UNIT_TOP_N and heat.y[-1] == ag.OTHERS
    assert len(heat.x) == ag.MEASURE_TOP_N and heat.x[-1] == ag.OTHERS


def test_scale_sunburst_opens_two_rings_deep(big: pd.DataFrame) -> None:
    sun = fg.policy_sunburst(ag.policy_tree(ag.task_frame(big, TODAY))).data[0]
    assert sun.maxdepth == 2
    assert sum(v for v, p in zip(sun.values, sun.parents, strict=True) if p == "") == 10_000


# --- text from data is drawn literally ---------------------------------------------------

HOSTILE_UNIT = "<b>市科委</b>"
HOSTILE_TITLE = '<i>措施</i><a href="http://evil">x</a> & co'


@pytest.fixture
def hostile() -> pd.DataFrame:
    """Two tasks whose unit names, measure title and document number hold HTML-like tags."""
    frame = synthetic_assignments(n_tasks=2, n_units=1).drop(columns=["lead_unit", "light"])
    frame = frame.assign(
        unit=HOSTILE_UNIT,
        measure_title=HOSTILE_TITLE,
        section_title="<br>一、",
        doc_no="<b>无文号</b>",  # no 〔year〕no. in it: axis labels show it whole
        status="delayed",
    )
    return ag.derive(frame, TODAY)


def _texts(values) -> list[str]:
    return [str(v) for v in values]


def test_figures_escape_tags_in_unit_names_and_titles(hostile: pd.DataFrame) -> None:
    escaped_unit = "&lt;b&gt;市科委&lt;/b&gt;"
    tasks = ag.task_frame(hostile, TODAY)
    lights = fg.lights_by_unit_bar(ag.lights_by_lead_unit(tasks))
    assert {y for t in bars(lights) for y in t.y} == {escaped_unit}
    assert list(lights.layout.yaxis.categoryarray) == [escaped_unit]
    load = fg.unit_load_bar(ag.unit_load(hostile))
    assert {y for t in _role_bars(load)[0] + _role_bars(load)[1] for y in t.y} == {escaped_unit}
    assert list(load.layout.yaxis.categoryarray) == [escaped_unit]
    heat = fg.coverage_heatmap(ag.coverage(hostile)).data[0]
    assert list(heat.y) == [escaped_unit]
    assert _texts(heat.x) == ["★&lt;b&gt;无文号&lt;/b&gt;·1"]  # one unit: ★
    sun = fg.policy_sunburst(ag.policy_tree(tasks)).data[0]
    labels = _texts(sun.labels)
    assert "&lt;b&gt;无文号&lt;/b&gt;" in labels
    assert "&lt;br&gt;一、" in labels
    assert any("&lt;i&gt;措施" in label for label in labels)
    for text in [*labels, *_texts(sun.ids), *_texts(sun.parents)]:
        assert "<" not in text and ">" not in text
    # escaping ids and parents alike keeps the tree intact
    assert set(_texts(sun.parents)) - {""} <= set(_texts(sun.ids))


def test_shown_escapes_markup_and_ampersands_once() -> None:
    assert fg.shown([HOSTILE_TITLE]) == [
        '&lt;i&gt;措施&lt;/i&gt;&lt;a href="http://evil"&gt;x&lt;/a&gt; &amp; co'
    ]
    assert fg.shown(["&lt;"]) == ["&amp;lt;"]  # an entity typed by a user stays literal too


def test_bar_legends_sit_below_the_toolbar_across_the_whole_chart() -> None:
    """On a phone a legend anchored to the plot area wrapped and grew up under plotly's
    toolbar (issue 23): the bar charts and 通报 place theirs in figure coordinates, the
    toolbar's strip left free."""
    figure = fg._style(go.Figure(), height=360)
    legend = figure.layout.legend
    assert (legend.xref, legend.yref, legend.x, legend.yanchor) == (
        "container",
        "container",
        0,
        "top",
    )
    assert legend.y * 360 == pytest.approx(360 - fg.MODEBAR_ROOM)
