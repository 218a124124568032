"""The measures table: columns, dtypes, ids, bytes and the CSV round trip."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from loaders.measures_csv import build_measures, read_measures, task_id, to_csv_bytes
from loaders.policy_text import PolicyParseErrors
from loaders.units import read_units, write_units
from tracker.errors import PolicyParseError, TrackerError
from tracker.schema import (
    LEAD,
    MEASURE_COLUMNS,
    MEASURES_CSV,
    SOURCES_DIR,
    SUPPORT,
    UNIT_KIND_LABELS,
    UNITS_CSV,
)

DATA = Path(__file__).parent / "data"
FORMATS = DATA / "formats"
INTS = ["section_no", "measure_no", "task_seq", "unit_rank"]


def sources(folder: Path) -> list[tuple[str, bytes]]:
    return [
        (p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.suffix in (".md", ".txt")
    ]


@pytest.fixture(scope="module")
def registry():
    return read_units(UNITS_CSV.read_bytes())


@pytest.fixture(scope="module")
def real(registry):
    return build_measures(sources(SOURCES_DIR), registry)


def test_summary_of_real_sources(real) -> None:
    assert real.summary() == {
        "policies": 2,
        "measures": 26,
        "tasks": 49,
        "rows": 170,
        "lead_rows": 49,
        "units": 33,
    }
    assert real.warnings == []


def test_columns_and_dtypes(real) -> None:
    df = real.frame
    assert list(df.columns) == MEASURE_COLUMNS
    for col in INTS:
        assert df[col].dtype == "int64", col
    for col in set(MEASURE_COLUMNS) - set(INTS):
        assert pd.api.types.is_string_dtype(df[col]), col
        assert not df[col].isna().any(), col
    assert df["measure_no"].min() == 1 and df["task_seq"].min() == 1 and df["section_no"].min() == 1
    assert set(df["role"]) == {LEAD, SUPPORT}
    assert set(df["unit_kind"]) <= set(UNIT_KIND_LABELS)
    assert (df["unit_kind"] != "unknown").all()


def test_task_ids_and_ranks(real) -> None:
    df = real.frame
    tasks = df.drop_duplicates("task_id")
    assert len(tasks) == 49
    assert df["task_id"].str.fullmatch(r"[a-z0-9-]+-m\d{2}-t\d+").all()
    assert "hufubanfa-2025-11-m01-t1" in set(tasks["task_id"])
    assert "hufubangui-2024-14-m10-t1" in set(tasks["task_id"])
    assert task_id("hufubanfa-2025-11", 1, 1) == "hufubanfa-2025-11-m01-t1"
    for _, group in df.groupby("task_id"):
        assert group["unit_rank"].tolist() == list(range(1, len(group) + 1))
        assert group["role"].tolist() == [LEAD] + [SUPPORT] * (len(group) - 1)
    # task_seq restarts per measure
    first = tasks[tasks["policy_id"] == "hufubanfa-2025-11"].groupby("measure_no")["task_seq"].min()
    assert (first == 1).all()


def test_spot_rows(real) -> None:
    df = real.frame
    green = df[df["task_text"].str.contains("企业机时申请绿色通道")]
    assert green["unit"].tolist() == ["市科委", "市发展改革委"]
    assert green["unit_full_name"].tolist() == ["上海市科学技术委员会", "上海市发展和改革委员会"]
    row = green.iloc[0]
    assert (row["policy_id"], row["doc_no"], row["issue_date"]) == (
        "hufubanfa-2025-11",
        "沪府办发〔2025〕11号",
        "2025-05-17",
    )
    assert (row["section_no"], row["section_title"], row["measure_no"]) == (
        1,
        "提升科技服务供给质量",
        1,
    )
    assert (row["effective_from"], row["effective_to"]) == ("", "")
    m6 = df[(df["policy_id"] == "hufubangui-2024-14") & (df["measure_no"] == 6)]
    assert "市住房城乡建设管理委" in m6["unit"].tolist()
    assert m6["effective_to"].iloc[0] == "2027-10-09"
    jr = df[df["unit"] == "上海金融监管局"]
    assert set(jr["unit_full_name"]) == {"国家金融监督管理总局上海监管局"}
    assert set(jr["unit_kind"]) == {"central"}


def test_round_trip(real) -> None:
    data = to_csv_bytes(real.frame)
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.split(b"\n", 1)[0].decode("utf-8-sig") == ",".join(MEASURE_COLUMNS)
    back = read_measures(data)
    assert_frame_equal(back, real.frame)
    assert_frame_equal(read_measures(io.BytesIO(data)), real.frame)
    assert to_csv_bytes(back) == data


def test_committed_csv_matches_sources(real) -> None:
    assert MEASURES_CSV.read_bytes() == to_csv_bytes(real.frame)


def test_unknown_unit_is_kept_and_warned(registry) -> None:
    result = build_measures(sources(DATA), registry)
    df = result.frame
    low = df[df["unit"] == "市低碳办"]
    assert len(low) == 1
    assert low.iloc[0][["unit_full_name", "unit_kind", "role", "unit_rank"]].tolist() == [
        "市低碳办",
        "unknown",
        LEAD,
        1,
    ]
    assert set(df.loc[df["unit_kind"] == "unknown", "unit"]) == {"市低碳办"}
    messages = [str(w) for w in result.warnings]
    assert any("市低碳办" in m and "lvse-jiaotong-2025-3.md" in m for m in messages)
    bracketed = df[df["unit"] == "市交通委（市道运局）"]
    assert bracketed["unit_full_name"].tolist() == ["上海市交通委员会（上海市道路运输管理局）"]


def test_read_measures_rejects_bad_csv() -> None:
    with pytest.raises(TrackerError, match="缺少列"):
        read_measures(b"policy_id,unit\nx,y\n")
    row = {c: ("x" if c == "section_no" else "1") for c in MEASURE_COLUMNS}
    bad = (",".join(MEASURE_COLUMNS) + "\n" + ",".join(row.values()) + "\n").encode()
    with pytest.raises(TrackerError, match="整数"):
        read_measures(bad)


def test_units_csv_is_well_formed() -> None:
    raw = UNITS_CSV.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(df.columns) == ["unit", "full_name", "kind", "aliases"]
    assert df["unit"].is_unique
    assert set(df["kind"]) <= set(UNIT_KIND_LABELS)
    assert (df["full_name"] != "").all()
    # The committed register is what write_units writes: a page can add an alias and
    # change nothing else.
    assert write_units(read_units(raw)) == raw


def test_aliases_and_full_names_resolve_to_the_registered_unit() -> None:
    registry = read_units(
        "unit,full_name,kind,aliases\n"
        "市经济信息化委,上海市经济和信息化委员会,municipal,市经信委|上海市经信委\n"
        "市科委,上海市科学技术委员会,municipal,\n".encode()
    )
    assert registry.resolve("市经信委").unit == "市经济信息化委"
    assert registry.resolve("上海市科学技术委员会").unit == "市科委"
    assert registry.resolve("市低碳办").kind == "unknown"
    assert registry.suggest("上海市经济信息化委员会")[0] == "市经济信息化委"
    added = registry.with_alias("科委", "市科委")
    assert read_units(write_units(added)) == added and added.resolve("科委").unit == "市科委"
    with pytest.raises(TrackerError, match="未登记"):
        registry.with_alias("某办", "市某办")
    with pytest.raises(TrackerError, match="已是登记的单位简称"):
        registry.with_alias("市科委", "市经济信息化委")


def test_a_unit_named_by_alias_is_one_row_under_its_registered_name() -> None:
    registry = read_units(
        "unit,full_name,kind,aliases\n"
        "市经济信息化委,上海市经济和信息化委员会,municipal,市经信委\n"
        "市科委,上海市科学技术委员会,municipal,\n".encode()
    )
    text = "一、示范\n\n（一）示范措施\n\n推动示范任务。（责任单位：市经信委、市科委、市经济信息化委）\n\n上海市人民政府\n2026年1月10日\n"
    result = build_measures([("2026-01-10_alias-demo.txt", text.encode())], registry)
    rows = result.frame[["unit", "role", "unit_rank"]].values.tolist()
    assert rows == [["市经济信息化委", "lead", 1], ["市科委", "support", 2]]
    assert any("「市经信委」按单位表记为「市经济信息化委」" in str(w) for w in result.warnings)


def test_read_units_refuses_an_alias_that_is_a_unit_or_named_twice() -> None:
    with pytest.raises(TrackerError, match="已是登记的单位简称"):
        read_units(
            "unit,full_name,kind,aliases\n市科委,a,municipal,市教委\n市教委,b,municipal,\n".encode()
        )
    with pytest.raises(TrackerError, match="别名「科委」重复"):
        read_units(
            "unit,full_name,kind,aliases\n市科委,a,municipal,科委\n市教委,b,municipal,科委\n".encode()
        )


def test_read_units_reports_bad_rows() -> None:
    with pytest.raises(TrackerError, match="line 3"):
        read_units(
            "unit,full_name,kind\n市科委,上海市科学技术委员会,municipal\n市教委,上海市教育委员会,bogus\n".encode()
        )
    with pytest.raises(TrackerError, match="重复"):
        read_units("unit,full_name,kind\n市科委,a,municipal\n市科委,b,municipal\n".encode())


# --- due_hint: the deadline the text states ------------------------------------------------------


def test_due_hint_is_the_last_column_and_blank_for_the_seeds(real) -> None:
    assert MEASURE_COLUMNS[-1] == "due_hint"
    assert set(real.frame["due_hint"]) == {""}  # neither seed text states a deadline


def test_due_hint_from_clause_fields_and_task_texts(registry) -> None:
    frame = build_measures(sources(FORMATS), registry).frame
    per_task = frame.groupby("task_id")["due_hint"].agg(set)
    assert (per_task.map(len) == 1).all()  # one value for every unit of a task
    due = {tid: next(iter(v)) for tid, v in per_task.items()}
    assert due["arabic-inline-clauses-m01-t1"] == "2025-12-31"  # 2025年底前 in the text
    assert due["arabic-inline-clauses-m03-t1"] == "2025-12-31"  # 完成时限：2025年12月
    assert due["top-level-items-m02-t1"] == "2026-06-30"  # 完成时限：2026年6月底
    assert due["top-level-items-m03-t1"] == ""  # 时间：持续推进
    assert due["traditional-script-m01-t1"] == "2026-06-30"  # 到2026年6月
    assert due["bracket-styles-m03-t1"] == "2026-06-30"  # （完成时限：2026年6月）
    assert due["headings-m01-t1"] == ""
    # never a unit
    assert not frame["unit"].str.contains("时限|时间|持续推进|20\\d\\d年").any()


def test_older_csv_without_due_hint_still_reads(real) -> None:
    old = pd.read_csv(io.BytesIO(to_csv_bytes(real.frame)), encoding="utf-8-sig", dtype=str)
    old = old.drop(columns="due_hint")
    data = old.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
    back = read_measures(data)
    assert list(back.columns) == MEASURE_COLUMNS
    assert_frame_equal(back, real.frame)


def test_read_measures_rejects_a_bad_due_hint(real) -> None:
    frame = real.frame.copy()
    frame.loc[3, "due_hint"] = "2025年底"
    data = frame.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
    with pytest.raises(TrackerError) as info:
        read_measures(data, name="m.csv")
    assert (info.value.file, info.value.row, info.value.column) == ("m.csv", 5, "due_hint")
    frame.loc[3, "due_hint"] = "2025-02-30"
    data = frame.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
    with pytest.raises(TrackerError, match="due_hint"):
        read_measures(data)


# --- one bad file does not hide the others ------------------------------------------------------


def test_build_reports_every_bad_file(registry) -> None:
    good = "一、总则\n\n（一）甲\n\n做好甲。（责任单位：市科委）\n"
    dropped = (
        "一、总则\n\n做好统筹。（责任单位：市科委）\n\n（一）甲\n\n做好甲。（责任单位：市科委）\n"
    )
    files = [
        ("2020-01-01_good.md", good.encode()),
        ("2020-01-02_dropped.md", dropped.encode()),
        ("2020-01-03_binary.txt", b"\x00\x01"),
        ("2020-01-04_long.md", good.replace("市科委", "市" * 101).encode()),
    ]
    with pytest.raises(PolicyParseErrors) as info:
        build_measures(files, registry)
    located = [(p.file, p.line) for p in info.value.problems]
    assert located == [
        ("2020-01-02_dropped.md", 3),
        ("2020-01-03_binary.txt", 1),
        ("2020-01-04_long.md", 5),
    ]
    assert str(info.value).startswith("3 个文件共 3 处错误")


def test_build_with_one_bad_file_raises_that_error(registry) -> None:
    with pytest.raises(PolicyParseError) as info:
        build_measures([("x.md", "（一）甲\n\n做好甲。\n".encode())], registry)
    assert not isinstance(info.value, PolicyParseErrors)
    assert str(info.value).startswith("x.md, line 1:")


def test_one_unit_in_both_roles_keeps_each_rows_role_and_rank(registry) -> None:
    # Rows are gathered from one table of tasks and one of distinct (unit, role): a unit that
    # leads one task and supports the next must not take one role for both.
    text = (
        "一、总则\n\n（一）甲\n\n做好甲。（责任单位：市科委、市教委）\n\n"
        "（二）乙\n\n做好乙。（责任单位：市教委、市科委、市科委）\n"
    )
    df = build_measures([("2020-01-01_roles.md", text.encode())], registry).frame
    got = df[["measure_no", "unit", "role", "unit_rank"]].values.tolist()
    assert got == [
        [1, "市科委", LEAD, 1],
        [1, "市教委", SUPPORT, 2],
        [2, "市教委", LEAD, 1],
        [2, "市科委", SUPPORT, 2],
    ]
    assert df["task_id"].tolist() == ["roles-m01-t1"] * 2 + ["roles-m02-t1"] * 2
    assert df["task_text"].tolist() == ["做好甲。"] * 2 + ["做好乙。"] * 2


def test_the_collector_is_paused_while_policies_are_parsed_and_built(registry, monkeypatch) -> None:
    # The parsed policies live to the end of the build: the cyclic collector's walks over
    # them found nothing and cost time (tracker/gc_pause.py); it runs again afterwards,
    # also when a file is refused.
    import gc

    import loaders.measures_csv as measures_csv

    seen: list[bool] = []
    parse = measures_csv.parse_policy

    def watched(text, name):
        seen.append(gc.isenabled())
        return parse(text, name)

    monkeypatch.setattr(measures_csv, "parse_policy", watched)
    build_measures(sources(SOURCES_DIR), registry)
    assert seen and not any(seen)
    assert gc.isenabled()
    with pytest.raises(PolicyParseError):
        build_measures([("x.md", "（一）甲\n\n做好甲。\n".encode())], registry)
    assert gc.isenabled()
