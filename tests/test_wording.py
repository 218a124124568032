"""Small wording and layout defects of issue 23, item 10, on pure functions: the revision
plan shows where a reworded task changed, and the import tables show their headers whole."""

from __future__ import annotations

from excel.read import CONFLICT_COLUMNS, ERROR_COLUMNS
from tracker.revisions import plan_revision, text_change
from webui import data


def test_a_reworded_task_shows_the_words_that_changed() -> None:
    old = "到2026年底，在临港新片区建设3个市级创新中心，形成一批可复制推广的经验"
    new = "到2026年底，在临港新片区建设5个市级创新中心，形成一批可复制推广的经验"
    # Both texts share their first 40 characters: cut at one width they looked the same.
    assert old[:15] == new[:15]
    assert text_change(old, new) == "…港新片区建设〔3→5〕个市级创新中…"


def test_insertions_deletions_and_several_changes_are_each_named() -> None:
    assert text_change("推进改革试点", "推进综合改革") == "推进〔+综合〕改革〔−试点〕"
    assert text_change("甲乙丙丁", "甲乙丙丁") == ""


def test_the_plan_table_carries_the_change_of_a_reworded_task() -> None:
    from tests.test_revisions import A2, A, B, C, D, E, F, policy_frame, stored_rows

    plan = plan_revision(
        stored_rows([[A, B], [C], [D, E], [F]]), policy_frame([[A2, B], [C], [D, E], [F]])
    )
    [reworded] = plan.table().query("变化 == '修改'")["改动"]
    # A2 puts 进一步 in and takes 向社会 out (read off the two texts by hand).
    assert reworded == "…享考核制度，〔+进一步〕加大重大科技…大型科学仪器〔−向社会〕开放力度。"


def test_import_tables_give_every_header_its_width() -> None:
    headers = [c.header for c in [*CONFLICT_COLUMNS, *ERROR_COLUMNS]]
    config = data.whole_headers(headers)
    # "您的修改（未保存）": nine full-width characters of 14 px, plus the column menu.
    assert config["您的修改（未保存）"]["width"] >= 9 * 14 + 24
    assert all(config[h]["width"] >= 14 * len(h) for h in headers if h.isascii() is False)
