"""``python -m loaders user …`` and the named account every data command acts as, by exit
code and output; a database that cannot be written is a message and exit 3."""

from __future__ import annotations

import io
import sqlite3

import openpyxl
import pytest

from cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_UNAVAILABLE, main
from tests.conftest import measures_frame
from tracker.store import Store

PASSWORD = "cli-password-12"


@pytest.fixture
def db(tmp_path, monkeypatch, small_measures) -> str:
    csv = tmp_path / "measures.csv"
    small_measures.to_csv(csv, index=False, encoding="utf-8-sig")
    monkeypatch.setenv("TRACKER_MEASURES_CSV", str(csv))
    return f"sqlite:///{tmp_path / 'cli.db'}"


def _run(monkeypatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def _add(monkeypatch, db: str, name: str, role: str, *units: str) -> int:
    unit_args = [arg for unit in units for arg in ("--unit", unit)]
    argv = ["user", "add", name, "--role", role, *unit_args, "--password-stdin", "--db", db]
    return _run(monkeypatch, argv, PASSWORD + "\n")


def test_add_list_disable_enable_reset(db, monkeypatch, capsys):
    assert _add(monkeypatch, db, "admin", "admin") == EXIT_OK
    assert _add(monkeypatch, db, "kw01", "staff", "市科委", "市教委") == EXIT_OK
    capsys.readouterr()
    assert _run(monkeypatch, ["user", "list", "--db", db]) == EXIT_OK
    listing = capsys.readouterr().out.splitlines()
    assert listing == [
        "admin\tadmin(管理员)\t-\tactive",
        "kw01\tstaff(填报员)\t市教委、市科委\tactive",
    ]
    assert _run(monkeypatch, ["user", "disable", "kw01", "--db", db]) == EXIT_OK
    accounts = Store.open(db).accounts
    with pytest.raises(Exception, match="停用"):
        accounts.sign_in("kw01", PASSWORD)
    assert _run(monkeypatch, ["user", "enable", "kw01", "--db", db]) == EXIT_OK
    argv = ["user", "reset", "kw01", "--password-stdin", "--db", db]
    assert _run(monkeypatch, argv, "another-pass-99\n") == EXIT_OK
    assert accounts.sign_in("kw01", "another-pass-99").units == {"市科委", "市教委"}
    out = capsys.readouterr()
    for secret in (PASSWORD, "another-pass-99", "$argon2"):
        assert secret not in out.out + out.err


@pytest.mark.parametrize(
    "argv,message",
    [
        (["user", "add", "x", "--role", "staff", "--password-stdin"], "至少需要一个责任单位"),
        (["user", "add", "x", "--role", "admin", "--password-stdin"], "密码至少"),
        (["user", "disable", "ghost"], "未知用户"),
        (["user", "add", "--role", "admin"], "需要用户名"),
    ],
)
def test_bad_user_commands_exit_2(db, monkeypatch, capsys, argv, message):
    assert _run(monkeypatch, [*argv, "--db", db], "short\n") == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err


def test_data_commands_act_as_a_known_account(db, monkeypatch, capsys, tmp_path):
    _add(monkeypatch, db, "kw01", "staff", "市科委")
    _add(monkeypatch, db, "boss", "leader")
    report = str(tmp_path / "r.xlsx")
    assert main(["export", "--out", report, "--user", "ghost", "--db", db]) == EXIT_BAD_INPUT
    assert "未知用户" in capsys.readouterr().err
    assert main(["export", "--out", report, "--user", "kw01", "--db", db]) == EXIT_BAD_INPUT
    assert "无导出报表的权限" in capsys.readouterr().err
    assert main(["export", "--out", report, "--user", "boss", "--db", db]) == EXIT_OK
    assert openpyxl.load_workbook(report, read_only=True).sheetnames == [
        "汇总",
        "按政策",
        "明细",
        "通报",
    ]
    template = str(tmp_path / "t.xlsx")
    argv = ["template", "--unit", "市教委", "--out", template, "--user", "kw01", "--db", db]
    assert main(argv) == EXIT_BAD_INPUT
    assert "不负责「市教委」" in capsys.readouterr().err


def test_read_only_database_is_a_message_and_exit_3(db, monkeypatch, capsys, tmp_path):
    Store.open(db).engine.dispose()
    path = db.removeprefix("sqlite:///")
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    assert _add(monkeypatch, read_only, "admin", "admin") == EXIT_UNAVAILABLE
    err = capsys.readouterr().err
    assert err.startswith("error: 数据库暂不可用") and "Traceback" not in err
    with sqlite3.connect(path) as conn:
        assert conn.execute("select count(*) from users").fetchone() == (0,)


def test_list_shows_a_locked_account_among_unlocked_ones(db, monkeypatch, capsys):
    """An admin lists accounts exactly when one is locked: the unlocked rows hold NaT."""
    assert _add(monkeypatch, db, "admin", "admin") == EXIT_OK
    assert _add(monkeypatch, db, "kw01", "staff", "市科委") == EXIT_OK
    accounts = Store.open(db).accounts
    for _ in range(5):
        with pytest.raises(Exception, match="用户名或密码错误|锁定"):
            accounts.sign_in("kw01", "wrong-password-1")
    capsys.readouterr()
    assert _run(monkeypatch, ["user", "list", "--db", db]) == EXIT_OK
    admin, kw01 = capsys.readouterr().out.splitlines()
    assert admin == "admin\tadmin(管理员)\t-\tactive"
    assert kw01.startswith("kw01\tstaff(填报员)\t市科委\tactive, locked until ")


def test_add_takes_a_registered_alias_for_its_unit(tmp_path, monkeypatch):
    """data/units.csv lists 市发改委 as an alias of 市发展改革委."""
    csv = tmp_path / "measures.csv"
    row = {"measure_no": 1, "task_id": "demo-m01-t1", "unit": "市发展改革委", "role": "lead"}
    measures_frame([{**row, "unit_rank": 1}]).to_csv(csv, index=False, encoding="utf-8-sig")
    monkeypatch.setenv("TRACKER_MEASURES_CSV", str(csv))
    db = f"sqlite:///{tmp_path / 'alias.db'}"
    assert _add(monkeypatch, db, "fg01", "staff", "市发改委") == EXIT_OK
    assert Store.open(db).accounts.sign_in("fg01", PASSWORD).units == {"市发展改革委"}


def test_unlock_and_a_one_time_code_from_the_command_line(db, monkeypatch, capsys):
    assert _add(monkeypatch, db, "kw01", "staff", "市科委") == EXIT_OK
    accounts = Store.open(db).accounts
    for _ in range(5):
        with pytest.raises(Exception, match="错误"):
            accounts.sign_in("kw01", "wrong-password-x")
    with pytest.raises(Exception, match="锁定"):
        accounts.sign_in("kw01", PASSWORD)
    assert _run(monkeypatch, ["user", "unlock", "kw01", "--db", db]) == EXIT_OK
    assert accounts.sign_in("kw01", PASSWORD).username == "kw01"
    capsys.readouterr()
    assert _run(monkeypatch, ["user", "code", "kw01", "--db", db]) == EXIT_OK
    code = capsys.readouterr().out.rsplit(": ", 1)[1].strip()
    accounts.set_password_with_code("kw01", code, "chosen-by-kw01")
    assert accounts.sign_in("kw01", "chosen-by-kw01").username == "kw01"
    changes = accounts.history()[["field", "changed_by"]].values.tolist()
    assert changes == [
        ["password", "kw01"],
        ["code", "命令行"],
        ["unlocked", "命令行"],
        ["created", "命令行"],
    ]
