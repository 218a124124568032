"""Across policies: a unit's obligations under every policy, and for a task the
similar tasks of other policies.  Pure functions on a hand-made table, then the page."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from pagelogic import views
from tests.conftest import measures_frame
from tests.factories import signed_in_app
from tracker import crosspolicy
from tracker.aggregate import derive

TODAY = date(2026, 11, 23)
COMPUTE = "建设面向中小企业的公共算力服务平台，降低企业用算成本。"
COMPUTE_AGAIN = "建设公共算力服务平台，降低中小企业用算成本，提升服务能力。"
DATA = "建立科学数据分级分类开放目录，推动公共数据开放。"
TALENT = "将科技服务领军人才纳入本市人才计划，优化落户服务。"


def _rows() -> pd.DataFrame:
    spec = [
        ("p1", "甲政策", 1, "p1-m01-t1", COMPUTE, ["市科委", "市经济信息化委"], "done"),
        ("p1", "甲政策", 2, "p1-m02-t1", DATA, ["市数据局", "市科委"], "in_progress"),
        (
            "p2",
            "乙政策",
            1,
            "p2-m01-t1",
            COMPUTE_AGAIN,
            ["市经济信息化委", "市科委"],
            "not_started",
        ),
        ("p2", "乙政策", 2, "p2-m02-t1", TALENT, ["市人才局"], "delayed"),
        ("p1", "甲政策", 3, "p1-m03-t1", COMPUTE + "（同一政策）", ["市科委"], "not_started"),
    ]
    rows = [
        {
            "policy_id": policy,
            "policy_title": title,
            "measure_no": no,
            "measure_title": f"措施{no}",
            "task_id": task,
            "task_text": text,
            "unit": unit,
            "role": "lead" if rank == 1 else "support",
            "unit_rank": rank,
        }
        for policy, title, no, task, text, units, _ in spec
        for rank, unit in enumerate(units, 1)
    ]
    frame = measures_frame(rows).assign(
        measure_id=lambda f: f["policy_id"] + "-m" + f["measure_no"].astype(str),
        status=[s for *_, units, s in spec for _ in units],
        percent=0,
        due_date=pd.NaT,
        light=["green", "green", "green", "green", "green", "green", "red", "green"],
    )
    return derive(frame)


def test_a_units_obligations_span_every_policy():
    view = crosspolicy.unit_obligations(_rows(), TODAY, "市科委")
    assert (view.policies, view.lead, view.support) == (2, 2, 2)
    assert view.by_policy.values.tolist() == [["甲政策", 2, 1, 1, 0], ["乙政策", 0, 1, 0, 0]]
    assert list(view.tasks["任务编号"]) == ["p1-m01-t1", "p1-m02-t1", "p1-m03-t1", "p2-m01-t1"]
    assert list(view.tasks["角色"]) == ["牵头", "配合", "牵头", "配合"]
    assert view.tasks.set_index("任务编号").loc["p2-m01-t1", "牵头单位"] == "市经济信息化委"


def test_red_lights_are_counted_per_policy():
    view = crosspolicy.unit_obligations(_rows(), TODAY, "市人才局")
    assert view.by_policy.values.tolist() == [["乙政策", 1, 0, 0, 1]]
    assert list(view.tasks["预警灯"]) == ["红灯"]


def test_similar_tasks_come_from_other_policies_only():
    similar = crosspolicy.similar_tasks(_rows(), TODAY, "p1-m01-t1")
    assert list(similar["任务编号"]) == ["p2-m01-t1"]  # not p1-m03-t1, the same policy
    assert similar.iloc[0]["共同责任单位"] == "市科委、市经济信息化委"
    assert 0.3 <= similar.iloc[0]["相似度"] < 1
    assert crosspolicy.similar_tasks(_rows(), TODAY, "p2-m02-t1").empty  # nothing alike
    assert crosspolicy.similar_tasks(_rows(), TODAY, "nope").empty


def test_policy_list_and_unit_choices():
    listed = crosspolicy.policy_list(_rows(), TODAY)
    assert listed[["政策编号", "措施", "任务", "责任单位"]].values.tolist() == [
        ["p1", 3, 3, 3],
        ["p2", 2, 2, 3],
    ]
    assert crosspolicy.unit_choices(_rows(), TODAY)[:2] == ["市科委", "市经济信息化委"]


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.delenv("TRACKER_MEASURES_CSV", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def test_page_lists_a_units_obligations_and_similar_tasks(app_env):
    at = signed_in_app("pages/obligations.py", "kw01", "staff", ["市科委"])
    assert not at.exception, at.exception
    assert at.selectbox(key="obligations_unit").value == "市科委"  # the account's own unit
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["涉及政策"] == "2"
    (tasks,) = [d.value for d in at.dataframe if "角色" in d.value.columns]
    assert set(tasks["政策"]) == {
        "上海市加快科技服务业高质量发展的若干措施",
        "关于进一步深化改革创新 加快科技服务业高质量发展的若干意见",
    }
    assert int(metrics["牵头任务"]) + int(metrics["配合任务"]) == len(tasks)
    assert not [d for d in at.dataframe if "相似度" in d.value.columns]  # none chosen yet
    assert any(c.value == "尚未选择任务。" for c in at.caption)
    _pick_row(at, 0)  # a task is chosen by picking its row in the table
    chosen = tasks["任务内容"].iloc[0]
    assert any(c.value == f"与「{chosen[:40]}」相近的任务：" for c in at.caption)
    similar = [d.value for d in at.dataframe if "相似度" in d.value.columns]
    nothing = [i.value for i in at.info if "相近的任务" in i.value]
    assert len(similar) + len(nothing) == 1
    at.selectbox(key="obligations_unit").set_value("市财政局").run()  # another unit's table:
    assert any(c.value == "尚未选择任务。" for c in at.caption)  # nothing picked there yet


def _pick_row(at: AppTest, row: int) -> None:
    """What the browser sends when a row of the task table is ticked."""
    [key] = [d.key for d in at.dataframe if (d.key or "").startswith("obligations_tasks_")]
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception


def test_page_sends_at_most_a_table_limit_of_tasks_and_choices(app_env, monkeypatch):
    """A unit with thousands of tasks: only the first TABLE_LIMIT rows and choices are sent."""
    monkeypatch.setattr(views, "TABLE_LIMIT", 5)
    at = signed_in_app("pages/obligations.py", "kw01", "staff", ["市科委"])
    assert not at.exception, at.exception
    (tasks,) = [d.value for d in at.dataframe if "角色" in d.value.columns]
    assert len(tasks) == 5
    total = int(at.metric[1].value) + int(at.metric[2].value)  # 牵头任务 + 配合任务
    assert any(f"共 {total:,} 行" in c.value for c in at.caption)
    _pick_row(at, 4)  # the last row sent can be chosen
    chosen = tasks["任务内容"].iloc[4]
    assert any(c.value == f"与「{chosen[:40]}」相近的任务：" for c in at.caption)
