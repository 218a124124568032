"""Every dashboard chart, as a pure function: an aggregate frame in, a plotly Figure out.

The frames come from :mod:`tracker.aggregate`, which already folds long tails into 其他, so
these functions only lay out and colour.  Colours come from the vocabulary in
:mod:`tracker.schema` so a status looks the same on every page.  No Streamlit here, which
keeps the figures unit-testable and reusable in exports.

Plotly renders a few HTML tags (``<b>``, ``<i>``, ``<a href>``, ``<br>``…) in any text it
draws, so every text that comes from data (unit names, titles, document numbers, ids) goes
through :func:`shown` first: ``<``, ``>`` and ``&`` become entities, which plotly draws as
the characters themselves.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go

from tracker import rankings as rk
from tracker.aggregate import COVER_LEAD, COVER_NONE, COVER_SUPPORT, FIGURES, LIGHTS
from tracker.schema import (
    DONE,
    GREEN,
    LEAD,
    LIGHT_COLORS,
    LIGHT_LABELS,
    RED,
    ROLE_LABELS,
    STATUS_COLORS,
    STATUS_LABELS,
    STATUSES,
    SUPPORT,
    YELLOW,
)

FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
ROW_PX = 26  # height per bar / heatmap row, so 30+ Chinese unit names never overlap
MIN_HEIGHT = 320
SHARE_DONE = FIGURES["share_done"].name
SUNBURST_DEPTH = 2  # rings shown at once: wide enough for labels; a click drills down
# Share done, from nothing to all: grey to the colour of 已完成.  Never red, which means
# 红灯/滞后 everywhere else; 0% done is not late by itself.
SHARE_DONE_SCALE = [[0, "#EEEEEE"], [0.5, "#A6D096"], [1, STATUS_COLORS[DONE]]]
# A donut slice narrower than this share of the ring has no label on it (legend only).
SMALL_SLICE = 0.06
LABEL_MIN_SIZE = 11  # px; a sunburst label that would be smaller is hidden (hover shows it)
# The heatmap is drawn at a fixed size per cell, never squeezed to the screen: at 390 px
# its 28 columns got 4 px each and the rotated labels piled up.  Pages put it in a
# horizontally scrolling container.
CELL_PX = 22
CHAR_PX = 14  # one CJK character of a 13 px axis label, with the gap to the axis
COLORBAR_PX = 110  # the colour bar and its three labels, right of the cells
# 按责任单位's lead/support pair: two bars in one unit row, in category units of the axis.
PAIR_ROW_PX = 38  # height per unit: two ~15 px bars
PAIR_BAR = 0.4
PAIR_GAP = 0.06
ROLE_KEY_COLOR = "#9E9E9E"  # the legend's solid (lead) and hatched (support) keys


def shown(values: Iterable[object]) -> list[str]:
    """Texts as plotly should draw them: literally, tags and entities included.

    >>> shown(["<b>市科委</b>", "A&B"])
    ['&lt;b&gt;市科委&lt;/b&gt;', 'A&amp;B']
    """
    return [html.escape(str(v), quote=False) for v in values]


def bar_height(n_rows: int) -> int:
    """Figure height for ``n_rows`` horizontal bars: proportional, never cramped."""
    return max(MIN_HEIGHT, ROW_PX * n_rows + 140)


def empty_figure(message: str = "暂无数据") -> go.Figure:
    """A blank figure with a centred note, for empty stores or filters that match nothing."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 16}, x=0.5, y=0.5)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _style(fig, height=MIN_HEIGHT)


def status_donut(counts: pd.DataFrame) -> go.Figure:
    """Tasks per status as a donut (from :func:`aggregate.status_counts`).

    Every status and its count is in the legend under the ring.  A slice carries its label
    only when it is at least ``SMALL_SLICE`` of the ring: two thin neighbours (1 滞后 beside
    2 暂缓 of 170) drew their labels over each other, inside or outside the ring alike.
    """
    if counts.empty or counts["tasks"].sum() == 0:
        return empty_figure()
    names = shown(counts["label"])
    values = [int(v) for v in counts["tasks"]]
    total = sum(values)
    fig = go.Figure(
        go.Pie(
            labels=[f"{name} {value}" for name, value in zip(names, values, strict=True)],
            values=values,
            customdata=names,
            text=[
                f"{name}<br>{value}" if value / total >= SMALL_SLICE else ""
                for name, value in zip(names, values, strict=True)
            ],
            textinfo="text",
            textposition="inside",
            insidetextorientation="horizontal",
            hole=0.55,
            marker={"colors": [STATUS_COLORS[s] for s in counts["status"]]},
            sort=False,
            direction="clockwise",
            hovertemplate="%{customdata}：%{value} 项任务（%{percent}）<extra></extra>",
        )
    )
    fig.add_annotation(text=f"{total}<br>项任务", showarrow=False, font={"size": 18})
    fig = _style(fig, height=400)
    # The legend goes under the ring, where no slice label can reach it.
    fig.update_layout(
        legend={
            "orientation": "h",
            "xref": "paper",
            "yref": "paper",
            "yanchor": "top",
            "y": -0.02,
            "x": 0.5,
            "xanchor": "center",
        },
        margin={"t": 10, "b": AXIS_ROOM},  # a row of legend under the ring (see _reserve)
        # A label plotly would shrink below this to fit its slice is hidden instead.
        uniformtext={"minsize": LABEL_MIN_SIZE, "mode": "hide"},
    )
    return fig


def lights_by_unit_bar(lights: pd.DataFrame) -> go.Figure:
    """Horizontal stacked bars of tasks per lead unit by light (from ``lights_by_lead_unit``).

    Units keep the frame's order top to bottom (most red first); 其他 comes last.
    """
    if lights.empty:
        return empty_figure()
    units = list(dict.fromkeys(lights["unit"]))
    labels = shown(units)
    fig = go.Figure()
    for light in LIGHTS:
        y, x = _nonzero(lights[lights["light"] == light], units)
        fig.add_bar(
            y=y,
            x=x,
            name=LIGHT_LABELS[light],
            orientation="h",
            marker_color=LIGHT_COLORS[light],
            hovertemplate="%{y}：%{x} 项<extra>" + LIGHT_LABELS[light] + "</extra>",
        )
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    fig.update_yaxes(
        autorange="reversed", automargin=True, categoryorder="array", categoryarray=labels
    )
    fig.update_xaxes(title_text="牵头任务数")
    return _reserve(_style(fig, height=bar_height(len(units))), labels)


def unit_load_bar(load: pd.DataFrame) -> go.Figure:
    """Per unit, a lead bar above a support bar (hatched) on one shared scale, each stacked
    by status.

    ``load`` is :func:`aggregate.unit_load`; units keep its order (heaviest on top).  One
    panel, not two side by side: beside the unit names each of two panels got about 100 px
    of a phone's width, and one axis is the shared scale by construction (30 lead tasks
    look twice as long as 15 support tasks).  Plotly can't group stacked horizontal bars,
    so each bar is placed by hand: its ``offset`` within the unit's row and its ``base``,
    the tasks of the statuses before it.
    """
    if load.empty:
        return empty_figure()
    units = list(dict.fromkeys(load["unit"]))
    labels = shown(units)
    fig = go.Figure()
    for role, offset in ((LEAD, -PAIR_BAR - PAIR_GAP / 2), (SUPPORT, PAIR_GAP / 2)):
        counts = (
            load[load["role"] == role]
            .pivot_table(index="unit", columns="status", values="tasks", aggfunc="sum")
            .reindex(index=units, columns=list(STATUSES))
            .fillna(0)
            .astype(int)
        )
        bases = counts.cumsum(axis=1) - counts
        for status in STATUSES:
            nonzero = counts[status] > 0
            fig.add_bar(
                y=shown(counts.index[nonzero]),
                x=counts.loc[nonzero, status].tolist(),
                base=bases.loc[nonzero, status].tolist(),
                offset=offset,
                width=PAIR_BAR,
                name=STATUS_LABELS[status],
                legendgroup=status,
                showlegend=role == LEAD,
                orientation="h",
                marker={"color": STATUS_COLORS[status], "pattern": _role_pattern(role)},
                hovertemplate="%{y}："
                + ROLE_LABELS[role]
                + " %{x} 项<extra>"
                + STATUS_LABELS[status]
                + "</extra>",
            )
    for role in (LEAD, SUPPORT):  # legend keys for the two bars: solid and hatched
        fig.add_bar(
            y=[None],
            x=[None],
            name=f"{ROLE_LABELS[role]}（{'上' if role == LEAD else '下'}）",
            legendgroup="role",
            orientation="h",
            marker={"color": ROLE_KEY_COLOR, "pattern": _role_pattern(role)},
            hoverinfo="skip",
        )
    fig.update_layout(barmode="overlay", legend_traceorder="normal")
    fig.update_yaxes(
        autorange="reversed", automargin=True, categoryorder="array", categoryarray=labels
    )
    fig.update_xaxes(title_text="任务数（上为牵头，下为配合）", rangemode="tozero")
    return _reserve(_style(fig, height=max(MIN_HEIGHT, PAIR_ROW_PX * len(units) + 160)), labels)


def _role_pattern(role: str) -> dict[str, object]:
    """Support bars are hatched, so the pair reads without colour (and in print)."""
    if role == LEAD:
        return {"shape": ""}
    return {"shape": "/", "fillmode": "overlay", "fgcolor": "white", "size": 6, "solidity": 0.35}


def policy_sunburst(tree: pd.DataFrame) -> go.Figure:
    """Policy -> section -> measure rings sized by tasks, coloured by share done (0-100%,
    grey to green: see :data:`SHARE_DONE_SCALE`).

    ``tree`` is :func:`aggregate.policy_tree`.  Two rings show at a time (policy and
    section; click one to see its measures), and a label too small to read is hidden (the
    hover still names it), never shrunk.
    """
    if tree.empty:
        return empty_figure()
    fig = go.Figure(
        go.Sunburst(
            ids=shown(tree["id"]),
            parents=shown(tree["parent"]),
            labels=shown(tree["label"]),
            values=tree["tasks"],
            branchvalues="total",
            maxdepth=SUNBURST_DEPTH,
            marker={
                "colors": tree["share_done"] * 100,
                "colorscale": SHARE_DONE_SCALE,
                "cmin": 0,
                "cmax": 100,
                # Under the chart, not beside it: on a phone a side bar took half the width.
                "colorbar": {
                    "title": {"text": f"{SHARE_DONE}%", "side": "top"},
                    "ticksuffix": "%",
                    "orientation": "h",
                    "x": 0.5,
                    "xanchor": "center",
                    "y": -0.02,
                    "yanchor": "top",
                    "len": 0.6,
                    "thickness": 12,
                },
            },
            customdata=tree[["done", "share_done"]].assign(share_done=tree["share_done"] * 100),
            hovertemplate="%{label}<br>任务 %{value} 项，已完成 %{customdata[0]} 项"
            f"（{SHARE_DONE} %{{customdata[1]:.0f}}%）<extra></extra>",
            insidetextorientation="auto",
        )
    )
    fig.update_layout(uniformtext={"minsize": LABEL_MIN_SIZE, "mode": "hide"})
    fig = _style(fig, height=620)
    fig.update_layout(margin={"b": 100})  # the colour bar under the rings (see _reserve)
    return fig


def coverage_heatmap(matrix: pd.DataFrame) -> go.Figure:
    """Unit x measure heatmap: dark = leads, light = supports, blank = not involved.

    ``matrix`` is :func:`aggregate.coverage` (★ marks single-unit measures in its labels).
    """
    if matrix.empty:
        return empty_figure()
    names = {
        COVER_NONE: "未涉及",
        COVER_SUPPORT: ROLE_LABELS[SUPPORT],
        COVER_LEAD: ROLE_LABELS[LEAD],
    }
    text = matrix.apply(lambda col: col.map(names))
    fig = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(),
            x=shown(matrix.columns),
            y=shown(matrix.index),
            customdata=text.to_numpy(),
            zmin=COVER_NONE,
            zmax=COVER_LEAD,
            colorscale=[
                [0.0, "#F4F4F4"],
                [0.33, "#F4F4F4"],
                [0.33, "#9ECAE9"],
                [0.66, "#9ECAE9"],
                [0.66, "#1F4E9A"],
                [1.0, "#1F4E9A"],
            ],
            colorbar={
                "tickvals": [COVER_NONE, COVER_SUPPORT, COVER_LEAD],
                "ticktext": [names[COVER_NONE], names[COVER_SUPPORT], names[COVER_LEAD]],
                "len": min(1.0, 300 / bar_height(len(matrix))),
                "y": 1,
                "yanchor": "top",
            },
            xgap=1,
            ygap=1,
            hovertemplate="%{y} · %{x}：%{customdata}<extra></extra>",
        )
    )
    # Margins from the labels' lengths (see _reserve): automargin then finds them wide
    # enough and plotly draws the chart once, not twice.
    fig.update_yaxes(autorange="reversed", automargin=True, type="category")
    fig.update_xaxes(tickangle=-60, automargin=True, type="category", side="top")
    fig = _style(fig, height=bar_height(len(matrix)) + 100)
    fig.update_layout(width=heatmap_width(matrix), margin=heatmap_margins(matrix))
    return fig


def heatmap_margins(matrix: pd.DataFrame) -> dict[str, int]:
    """Room for :func:`coverage_heatmap`'s labels, at ``CHAR_PX`` per character whatever the
    character (ample for digits): unit names left of the rows, measure labels above the
    columns at 60°, the height of their slanted run plus half a line.

    >>> heatmap_margins(pd.DataFrame([[2]], index=["市科委"], columns=["〔2025〕11号·1"]))
    {'l': 52, 't': 160, 'r': 120, 'b': 10}
    """
    slanted = math.sin(math.radians(60)) * CHAR_PX * _longest(matrix.columns) + 13 / 2
    return {
        "l": CHAR_PX * _longest(matrix.index) + 10,
        "t": math.ceil(slanted) + 20,
        "r": COLORBAR_PX + 10,  # the colour bar sits in the margin
        "b": 10,
    }


def heatmap_width(matrix: pd.DataFrame) -> int:
    """Pixel width for :func:`coverage_heatmap`: the unit labels, ``CELL_PX`` per column
    and the colour bar, whatever the screen.

    >>> heatmap_width(pd.DataFrame([[2, 1]], index=["市科委"], columns=["a", "b"]))
    196
    """
    return CHAR_PX * _longest(matrix.index) + CELL_PX * matrix.shape[1] + COLORBAR_PX


def _nonzero(part: pd.DataFrame, units: list[str]) -> tuple[list[str], list[int]]:
    """One stacked-bar trace's units (shown) and counts, in ``units`` order, zeros left out.

    The axis keeps every unit through its ``categoryarray``; a zero-length bar draws nothing
    but still costs the browser a path: at 40 units x 10 traces, most of them were zeros.
    """
    counts = part.groupby("unit", sort=False)["tasks"].sum()
    counts = counts[counts > 0]
    counts = counts.reindex([u for u in units if u in counts.index])
    return shown(counts.index), [int(n) for n in counts]


MODEBAR_ROOM = 36  # px at the top of a chart kept for plotly's toolbar (the modebar)


def legend_on_top(height: int) -> dict[str, object]:
    """A horizontal legend across the whole chart, just below the toolbar's strip.

    Anchored to the plot area (``y=1.02``), a legend beside long unit names got the
    narrow width right of them on a 390 px phone, wrapped into three rows and grew up
    under the toolbar.  Placed in the figure's own coordinates it takes the full width,
    starts ``MODEBAR_ROOM`` px from the top, and plotly moves the plot area down to fit it.

    >>> legend_on_top(360)["y"]
    0.9
    """
    return {
        "orientation": "h",
        "xref": "container",
        "x": 0,
        "yref": "container",
        "yanchor": "top",
        "y": round(1 - MODEBAR_ROOM / height, 4),
    }


# Room plotly's automargin makes on a desktop for a bar chart's legend (the toolbar's strip
# and one row above the plot) and its value axis (tick labels and title below it).
LEGEND_ROOM = 80
AXIS_ROOM = 70


def _reserve(fig: go.Figure, labels: Iterable[object]) -> go.Figure:
    """Margins wide enough for a horizontal bar chart's unit ``labels`` (``CHAR_PX`` per
    character and the tick gap), its legend and its value axis, set before plotly draws.

    Automargin stays on, but when the margins already fit, plotly draws the chart once; when
    it has to widen them, it draws the whole chart a second time (about a third of a chart
    page's switch).  A narrow screen that wraps the legend still gets its extra room.

    >>> _reserve(go.Figure(), ["市人力资源社会保障局", "市科委"]).layout.margin.l
    170
    """
    fig.update_layout(
        margin={"l": CHAR_PX * _longest(labels) + 30, "t": LEGEND_ROOM, "b": AXIS_ROOM}
    )
    return fig


def _longest(labels: Iterable[object]) -> int:
    """Characters in the longest of ``labels`` (0 for none)."""
    return max((len(str(label)) for label in labels), default=0)


def _style(fig: go.Figure, *, height: int) -> go.Figure:
    fig.update_layout(
        height=height,
        font={"family": FONT, "size": 13},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend=legend_on_top(height),
        plot_bgcolor="white",
    )
    return fig


def whole_tick(largest: int, ticks: int = 8) -> int:
    """A whole-number tick step giving at most about ``ticks`` ticks up to ``largest``.

    >>> whole_tick(2), whole_tick(8), whole_tick(30)
    (1, 1, 4)
    """
    return max(1, math.ceil(largest / ticks))


# --- 通报 ------------------------------------------------------------------------

RATE_HEADROOM = 1.2  # value axis up to 120% of the longest bar, the rate label's room
LATE_DONE = "逾期后完成"
OVERDUE_OPEN = "逾期未完成"


def ranking_figure(table: pd.DataFrame) -> go.Figure:
    """This period's due assignments per unit, in ranking order: done on time, done late,
    still overdue; 按期完成率 beside each bar; units late two periods running marked ⚠."""
    due = table[table[rk.RANK].notna()]  # ranked units: something due, not a placeholder
    if due.empty:
        return empty_figure("本期尚无到期分工")
    names = shown(
        ("⚠ " if flag else "") + str(unit)
        for unit, flag in zip(due[rk.UNIT], due[rk.FLAG], strict=True)
    )
    parts = [
        (rk.ON_TIME, due[rk.ON_TIME], LIGHT_COLORS[GREEN]),
        (LATE_DONE, due[rk.DUE] - due[rk.ON_TIME] - due[rk.OVERDUE], LIGHT_COLORS[YELLOW]),
        (OVERDUE_OPEN, due[rk.OVERDUE], LIGHT_COLORS[RED]),
    ]
    fig = go.Figure(
        [
            go.Bar(name=name, y=names, x=values, orientation="h", marker_color=color)
            for name, values, color in parts
        ]
    )
    fig.add_trace(
        go.Scatter(
            name=rk.ON_TIME_RATE,
            y=names,
            x=due[rk.DUE],
            mode="text",
            text=[f"  {rk.percent_text(v)}" for v in due[rk.ON_TIME_RATE]],
            textposition="middle right",
            cliponaxis=False,
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        barmode="stack",
        height=bar_height(len(due)),
        font={"size": 13},
        margin={"l": 10, "r": 40, "t": 40, "b": 10},
        legend=legend_on_top(bar_height(len(due))),
        plot_bgcolor="white",
    )
    # Room right of the longest bar for its rate: on a phone the "30%" beside it was cut off.
    fig.update_xaxes(
        title_text="本期到期分工数（右侧为按期完成率）",
        range=[0, float(due[rk.DUE].max()) * RATE_HEADROOM],
        tick0=0,
        dtick=whole_tick(int(due[rk.DUE].max())),  # counts: never a tick at 0.5
    )
    fig.update_yaxes(autorange="reversed")
    return _reserve(fig, names)
