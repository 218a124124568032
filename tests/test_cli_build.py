"""``python -m loaders build``: summary, --check, and nothing written on bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli import main
from tracker.schema import MEASURES_CSV, SOURCES_DIR

DATA = Path(__file__).parent / "data"
GOOD = "一、总则\n\n（一）加强领导\n\n做好各项工作。（责任单位：市科委、市教委）\n"


def make_sources(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    folder = tmp_path / "sources"
    folder.mkdir()
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (folder / name).write_bytes(data)
    return folder


def test_build_writes_csv_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "measures.csv"
    assert main(["build", "--sources", str(SOURCES_DIR), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "policies=2 measures=26 tasks=49 rows=170 lead_rows=49 units=33" in captured.out
    assert captured.err == ""
    assert out.read_bytes() == MEASURES_CSV.read_bytes()
    assert [p.name for p in out.parent.iterdir()] == ["measures.csv"]  # no temp file left behind


def test_check_passes_on_committed_csv(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_check_fails_when_csv_differs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "measures.csv"
    stale = MEASURES_CSV.read_bytes().replace("市发展改革委".encode(), "市发改委".encode(), 1)
    out.write_bytes(stale)
    assert main(["build", "--out", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    assert str(out) in err and "differs" in err
    assert "市发改委" in err  # the diff shows which row
    assert out.read_bytes() == stale  # --check never writes


def test_check_fails_when_csv_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "measures.csv"
    assert main(["build", "--out", str(out), "--check"]) == 1
    assert "missing" in capsys.readouterr().err
    assert not out.exists()


def test_warnings_go_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "measures.csv"
    assert main(["build", "--sources", str(DATA), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "policies=2" in captured.out
    assert "市低碳办" in captured.err and "warning" in captured.err
    assert out.exists()


BAD_INPUTS = {
    "no clause": ("noclause.md", "一、总则\n\n（一）加强领导\n\n做好各项工作。\n", "line 3"),
    "unterminated clause": (
        "open.md",
        "一、总则\n\n（一）加强领导\n\n做好工作。（责任单位：市科委、\n\n（二）完善制度\n\n完善。（责任单位：市教委）\n",
        "line 5",
    ),
    "duplicate measure": (
        "dup.txt",
        "一、总则\n（一）甲。做好甲。（责任单位：市科委）\n（一）乙。做好乙。（责任单位：市教委）\n",
        "line 3",
    ),
    "dropped clause": (
        "dropped.md",
        "一、总则\n\n做好统筹。（责任单位：市科委）\n\n（一）甲\n\n做好甲。（责任单位：市教委）\n",
        "line 3",
    ),
    "unit too long": (
        "long.md",
        "一、总则\n\n（一）甲\n\n做好甲。（责任单位：" + "市" * 120 + "）\n",
        "line 5",
    ),
    "binary": ("blob.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "line 1"),
    "bad encoding": ("junk.md", b"\xff\xfe\x80\x80\xff\x81", "line 1"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
@pytest.mark.parametrize("existing", [False, True])
def test_bad_input_writes_nothing(
    case: str, existing: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, content, line = BAD_INPUTS[case]
    folder = make_sources(tmp_path, {"2020-01-01_good.md": GOOD, name: content})
    out = tmp_path / "measures.csv"
    if existing:
        out.write_bytes(b"previous content")
    assert main(["build", "--sources", str(folder), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert f"{name}, {line}" in captured.err
    assert captured.out == ""
    if existing:
        assert out.read_bytes() == b"previous content"
    else:
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["sources"] + (["measures.csv"] if existing else [])
    )


def test_every_bad_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One bad file must not hide the others, and nothing is written while any is bad."""
    files = {"2020-01-01_good.md": GOOD}
    for case in ("no clause", "dropped clause", "binary", "bad encoding"):
        name, content, _ = BAD_INPUTS[case]
        files[name] = content
    folder = make_sources(tmp_path, files)
    out = tmp_path / "measures.csv"
    assert main(["build", "--sources", str(folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 4 个文件共 4 处错误")
    for case in ("no clause", "dropped clause", "binary", "bad encoding"):
        name, _, line = BAD_INPUTS[case]
        assert f"- {name}, {line}: " in err
    assert not out.exists()


def test_missing_sources_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "measures.csv"
    assert main(["build", "--sources", str(tmp_path / "nope"), "--out", str(out)]) == 2
    assert "nope" in capsys.readouterr().err
    assert not out.exists()


def test_good_custom_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_sources(tmp_path, {"2020-01-01_good.md": GOOD})
    shutil.copy(DATA / "2024-06-12_shuju-yaosu-2024-7.txt", folder)
    out = tmp_path / "measures.csv"
    assert main(["build", "--sources", str(folder), "--out", str(out)]) == 0
    assert "policies=2 measures=5 tasks=6" in capsys.readouterr().out
