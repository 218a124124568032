"""Accounts and rights, on SQLite and PostgreSQL: signing in, rate limiting, and what each
role may write, enforced by the store itself (not by hidden widgets)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, signed_in, staff
from tracker.accounts import (
    CODE_DAYS,
    MAX_FAILED_PER_ADDRESS,
    SIGN_IN_FAILED,
    Account,
    code_digest,
)
from tracker.errors import PermissionDenied, SignInError, TrackerError, ValidationError
from tracker.models import PasswordCode, User
from tracker.progress import Update
from tracker.schema import ADMIN, LEADER, MAX_FAILED_SIGN_INS, STAFF, SUPERVISOR


def _aid(store, task_id: str, unit: str) -> int:
    rows = store.assignments()
    return int(rows[(rows.task_id == task_id) & (rows.unit == unit)].assignment_id.iloc[0])


def _version(store, aid: int) -> int:
    rows = store.assignments()
    return int(rows.loc[rows.assignment_id == aid, "version"].iloc[0])


def test_password_is_stored_only_as_an_argon2_hash(make_store, small_measures):
    store = make_store(small_measures)
    store.accounts.add("甲", role=STAFF, units=["市科委"], password=PASSWORD)
    with store.engine.connect() as conn:
        stored = conn.scalar(select(User.password_hash).where(User.username == "甲"))
    assert stored.startswith("$argon2") and PASSWORD not in stored
    listing = store.accounts.table()
    assert "password_hash" not in listing.columns
    assert PASSWORD not in listing.to_csv() and stored not in listing.to_csv()


def test_sign_in_returns_role_and_units(make_store, small_measures):
    store = make_store(small_measures)
    store.accounts.add("甲", role=STAFF, units=["市科委", "市教委"], password=PASSWORD)
    account = store.accounts.sign_in("甲", PASSWORD)
    assert account == Account("甲", STAFF, frozenset({"市科委", "市教委"}))


@pytest.mark.parametrize("name,password", [("甲", "wrong-password"), ("无此人", PASSWORD)])
def test_wrong_name_or_password_gets_one_message(make_store, small_measures, name, password):
    store = make_store(small_measures)
    store.accounts.add("甲", role=STAFF, units=["市科委"], password=PASSWORD)
    with pytest.raises(SignInError) as info:
        store.accounts.sign_in(name, password)
    assert str(info.value) == SIGN_IN_FAILED


def test_failed_sign_ins_are_counted_and_lock_the_account(make_store, small_measures):
    store = make_store(small_measures)
    store.accounts.add("甲", role=STAFF, units=["市科委"], password=PASSWORD)
    at = datetime(2026, 11, 30, 9, 0)
    for attempt in range(1, MAX_FAILED_SIGN_INS + 1):
        with pytest.raises(SignInError):
            store.accounts.sign_in("甲", "guess-number-x", at=at)
        assert store.accounts.table().failed_sign_ins.iloc[0] == attempt
    # Locked: even the right password is refused until the lock ends.
    with pytest.raises(SignInError, match="锁定"):
        store.accounts.sign_in("甲", PASSWORD, at=at + timedelta(minutes=1))
    later = at + timedelta(hours=1)
    assert store.accounts.sign_in("甲", PASSWORD, at=later).username == "甲"
    assert store.accounts.table().failed_sign_ins.iloc[0] == 0


def test_reset_password_lifts_the_lock_and_disable_refuses(make_store, small_measures):
    store = make_store(small_measures)
    store.accounts.add("甲", role=STAFF, units=["市科委"], password=PASSWORD)
    for _ in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(SignInError):
            store.accounts.sign_in("甲", "guess-number-x")
    store.accounts.reset_password("甲", "a-new-password-1")
    assert store.accounts.sign_in("甲", "a-new-password-1").username == "甲"
    store.accounts.set_active("甲", False)
    with pytest.raises(SignInError, match="停用"):
        store.accounts.sign_in("甲", "a-new-password-1")


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"role": STAFF, "units": [], "password": PASSWORD}, "至少需要一个责任单位"),
        ({"role": STAFF, "units": ["不存在的局"], "password": PASSWORD}, "未知责任单位"),
        ({"role": "boss", "units": [], "password": PASSWORD}, "未知角色"),
        ({"role": ADMIN, "units": [], "password": "short"}, "密码至少"),
    ],
)
def test_bad_accounts_are_refused(make_store, small_measures, kwargs, message):
    store = make_store(small_measures)
    with pytest.raises(TrackerError, match=message):
        store.accounts.add("甲", **kwargs)
    assert store.accounts.count() == 0


def test_staff_writes_its_own_unit_and_history_names_the_account(make_store, small_measures):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    account = staff(store, "市科委", "kw01")
    store.apply([Update(aid, 0, {"percent": 20})], user=account, source="web")
    history = store.history(assignment_ids=[aid])
    assert list(history.changed_by) == ["kw01"]
    assert store.assignments().set_index("assignment_id").loc[aid, "updated_by"] == "kw01"


@pytest.mark.parametrize("partial", [False, True])
def test_staff_batch_touching_another_unit_writes_nothing(make_store, small_measures, partial):
    store = make_store(small_measures)
    own = _aid(store, "demo-m01-t1", "市科委")
    other = _aid(store, "demo-m02-t1", "市财政局")
    account = staff(store, "市科委")
    updates = [
        Update(own, 0, {"percent": 20}, row=2, sheet="明细"),
        Update(other, 0, {"percent": 90}, row=3, sheet="明细"),
    ]
    with pytest.raises(PermissionDenied) as info:
        store.apply(updates, user=account, source="a.xlsx", partial=partial)
    [problem] = info.value.problems
    assert (problem.row, problem.sheet, problem.task_id) == (3, "明细", "demo-m02-t1")
    assert "市财政局" in problem.message
    assert (_version(store, own), _version(store, other)) == (0, 0)
    assert store.history().empty


def test_store_rereads_the_account_a_forged_role_grants_nothing(make_store, small_measures):
    store = make_store(small_measures)
    other = _aid(store, "demo-m02-t1", "市财政局")
    real = staff(store, "市科委", "kw01")
    forged = Account(real.username, SUPERVISOR, frozenset({"市财政局"}))
    with pytest.raises(PermissionDenied):
        store.apply([Update(other, 0, {"percent": 50})], user=forged, source="web")
    with pytest.raises(PermissionDenied, match="未知用户"):
        store.apply([Update(other, 0, {"percent": 50})], user=Account("ghost", ADMIN), source="web")
    assert _version(store, other) == 0


def test_disabled_after_sign_in_cannot_write(make_store, small_measures):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    account = staff(store, "市科委")
    store.accounts.set_active(account.username, False)
    with pytest.raises(PermissionDenied, match="停用"):
        store.apply([Update(aid, 0, {"percent": 20})], user=account, source="web")


def test_deadlines_belong_to_the_supervisor(make_store, small_measures):
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    with pytest.raises(ValidationError, match="完成时限由督办员设定") as info:
        store.apply(
            [Update(aid, 0, {"due_date": "2026-12-31"})], user=staff(store, "市科委"), source="web"
        )
    assert info.value.problems[0].column == "完成时限"
    supervisor = signed_in(store, "督办甲", SUPERVISOR)
    store.apply([Update(aid, 0, {"due_date": "2026-12-31"})], user=supervisor, source="web")
    assert str(store.assignments().set_index("assignment_id").loc[aid, "due_date"].date()) == (
        "2026-12-31"
    )


def test_supervisor_writes_any_unit_leader_none(make_store, small_measures):
    store = make_store(small_measures)
    other = _aid(store, "demo-m02-t1", "市财政局")
    store.apply(
        [Update(other, 0, {"percent": 40})],
        user=signed_in(store, "督办甲", SUPERVISOR),
        source="web",
    )
    with pytest.raises(PermissionDenied, match="只能查看"):
        store.apply(
            [Update(other, 1, {"percent": 50})],
            user=signed_in(store, "领导甲", LEADER),
            source="web",
        )
    assert _version(store, other) == 1


def test_a_long_file_name_as_source_is_kept_within_the_column(make_store, small_measures):
    """PostgreSQL refused a 300-character file name as the history source (DataError)."""
    store = make_store(small_measures)
    aid = _aid(store, "demo-m01-t1", "市科委")
    source = "填报" * 150 + ".xlsx"
    store.apply([Update(aid, 0, {"percent": 5})], user=signed_in(store), source=source)
    [stored] = store.history(assignment_ids=[aid]).source
    assert len(stored) == 200 and source.startswith(stored[:-1]) and stored.endswith("…")


def test_usernames_longer_than_the_column_are_refused(make_store, small_measures):
    store = make_store(small_measures)
    with pytest.raises(TrackerError, match="不超过100个字符"):
        store.accounts.add("张" * 101, role=ADMIN, password=PASSWORD)


def test_an_unknown_name_is_answered_and_locked_like_a_real_one(make_store, small_measures):
    """Lockout must not reveal which names exist: five wrong guesses lock a name that does
    not exist with the very message a real account gets."""
    store = make_store(small_measures)
    store.accounts.add("甲", role=STAFF, units=["市科委"], password=PASSWORD)
    at = datetime(2026, 11, 30, 9, 0)
    answers: dict[str, list[str]] = {}
    for name in ("甲", "乙不存在"):
        for _ in range(MAX_FAILED_SIGN_INS + 1):
            with pytest.raises(SignInError) as info:
                store.accounts.sign_in(name, "guess-number-x", address="10.0.0.9", at=at)
            answers.setdefault(name, []).append(str(info.value))
    assert answers["甲"] == answers["乙不存在"]
    assert answers["甲"][-1].startswith("连续 5 次登录失败，已暂时锁定")


def test_guessing_from_one_address_does_not_lock_a_colleague_out(make_store, small_measures):
    store = make_store(small_measures)
    store.accounts.add("甲", role=STAFF, units=["市科委"], password=PASSWORD)
    at = datetime(2026, 11, 30, 9, 0)
    for _ in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(SignInError):
            store.accounts.sign_in("甲", "guess-number-x", address="10.0.0.66", at=at)
    with pytest.raises(SignInError, match="锁定"):
        store.accounts.sign_in("甲", PASSWORD, address="10.0.0.66", at=at)
    # 甲 at their own desk signs in at once.
    assert store.accounts.sign_in("甲", PASSWORD, address="10.0.0.7", at=at).username == "甲"


def test_an_address_guessing_many_names_is_locked_as_a_whole(make_store, small_measures):
    store = make_store(small_measures)
    store.accounts.add("甲", role=STAFF, units=["市科委"], password=PASSWORD)
    at = datetime(2026, 11, 30, 9, 0)
    for n in range(MAX_FAILED_PER_ADDRESS):  # one guess per name: no name reaches its limit
        with pytest.raises(SignInError, match="用户名或密码错误"):
            store.accounts.sign_in(f"name{n}", "guess-number-x", address="10.0.0.66", at=at)
    with pytest.raises(SignInError, match="锁定"):
        store.accounts.sign_in("甲", PASSWORD, address="10.0.0.66", at=at)
    assert store.accounts.sign_in("甲", PASSWORD, address="10.0.0.7", at=at).username == "甲"


@pytest.mark.parametrize("name,password", [("", PASSWORD), ("甲", ""), ("  ", "")])
def test_empty_fields_are_asked_for_not_counted(make_store, small_measures, name, password):
    store = make_store(small_measures)
    store.accounts.add("甲", role=STAFF, units=["市科委"], password=PASSWORD)
    with pytest.raises(SignInError, match="请输入用户名和密码"):
        store.accounts.sign_in(name, password)
    assert store.accounts.table().failed_sign_ins.tolist() == [0]


# --- administration from the browser (账号管理): rights in the store, history, codes ------


def test_only_an_admin_manages_accounts_and_a_refusal_writes_nothing(make_store, small_measures):
    store = make_store(small_measures)
    clerk = staff(store, "市科委", "kw01")
    supervisor = signed_in(store, "督办甲", SUPERVISOR)
    before = (store.accounts.table().to_csv(), len(store.accounts.history()))
    for actor in (clerk, supervisor):
        attempts = [
            lambda a: store.accounts.add("新人", role=STAFF, units=["市科委"], password=None, by=a),
            lambda a: store.accounts.set_active("kw01", False, by=a),
            lambda a: store.accounts.set_units("kw01", ["市教委"], by=a),
            lambda a: store.accounts.unlock("kw01", by=a),
            lambda a: store.accounts.issue_code("kw01", by=a),
            lambda a: store.accounts.history(by=a),
        ]
        for attempt in attempts:
            with pytest.raises(PermissionDenied, match="只有管理员可以管理账号"):
                attempt(actor)
    assert (store.accounts.table().to_csv(), len(store.accounts.history())) == before
    # A forged Account naming a real admin's role grants nothing: the stored role counts.
    forged = Account("kw01", ADMIN)
    with pytest.raises(PermissionDenied):
        store.accounts.set_active("督办甲", False, by=forged)


def test_admin_changes_land_in_the_account_history(make_store, small_measures):
    store = make_store(small_measures)
    admin = signed_in(store, "管理员", ADMIN)
    store.accounts.add("kw02", role=STAFF, units=["市科委"], password=None, by=admin)
    store.accounts.set_units("kw02", ["市科委", "市教委"], by=admin)
    store.accounts.set_active("kw02", False, by=admin)
    store.accounts.set_active("kw02", True, by=admin)
    store.accounts.unlock("kw02", by=admin)
    store.accounts.set_units("kw02", ["市教委"])  # the command line
    history = store.accounts.history(by=admin)
    kw02 = history[history.username == "kw02"]
    assert kw02[["field", "old_value", "new_value", "changed_by"]].values.tolist() == [
        ["units", "市教委、市科委", "市教委", "命令行"],
        ["unlocked", "", "已解除锁定", "管理员"],
        ["active", "", "启用", "管理员"],
        ["active", "", "停用", "管理员"],
        ["units", "市科委", "市教委、市科委", "管理员"],
        ["created", "", "填报员；市科委", "管理员"],
    ]
    with pytest.raises(TrackerError, match="不能停用自己的账号"):
        store.accounts.set_active("管理员", False, by=admin)
    with pytest.raises(TrackerError, match="填报员账号至少需要一个责任单位"):
        store.accounts.set_units("kw02", [], by=admin)


def test_unlock_lifts_a_running_lock(make_store, small_measures):
    store = make_store(small_measures)
    admin = signed_in(store, "管理员", ADMIN)
    store.accounts.add("甲", role=STAFF, units=["市科委"], password=PASSWORD)
    for _ in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(SignInError):
            store.accounts.sign_in("甲", "guess-number-x", address="10.0.0.66")
    assert store.accounts.table().set_index("username").locked_until.notna()["甲"]
    store.accounts.unlock("甲", by=admin)
    assert store.accounts.table().set_index("username").locked_until.isna()["甲"]
    assert store.accounts.sign_in("甲", PASSWORD, address="10.0.0.66").username == "甲"


def test_a_one_time_code_sets_the_password_once(make_store, small_measures):
    store = make_store(small_measures)
    admin = signed_in(store, "管理员", ADMIN)
    at = datetime(2026, 11, 30, 9, 0)
    store.accounts.add("kw03", role=STAFF, units=["市科委"], password=None, by=admin)
    with pytest.raises(SignInError):  # no password yet: nothing signs in
        store.accounts.sign_in("kw03", "")
    code = store.accounts.issue_code("kw03", by=admin, at=at)
    assert re.fullmatch(r"([A-Z2-9]{5}-){3}[A-Z2-9]{5}", code)
    listing = store.accounts.table().set_index("username")
    assert not listing.has_password["kw03"]
    assert code not in store.accounts.history().to_csv() + listing.to_csv()
    with store.engine.connect() as conn:  # only its SHA-256 is stored
        stored = conn.scalar(select(PasswordCode.code_hash))
    assert stored == code_digest(code) and code not in stored
    for wrong_name, wrong_code in (("kw04", code), ("kw03", "ABCDE-FGHJK-MNPQR-STUVW")):
        with pytest.raises(TrackerError, match="设置码不正确"):
            store.accounts.set_password_with_code(wrong_name, wrong_code, "new-pass-2026", at=at)
    with pytest.raises(TrackerError, match="密码至少"):
        store.accounts.set_password_with_code("kw03", code, "short", at=at)
    # Typed in lower case with spaces instead of dashes, it still works.
    typed = code.lower().replace("-", " ")
    store.accounts.set_password_with_code("kw03", typed, "new-pass-2026", at=at)
    assert store.accounts.sign_in("kw03", "new-pass-2026").units == {"市科委"}
    with pytest.raises(TrackerError, match="设置码不正确"):  # spent
        store.accounts.set_password_with_code("kw03", code, "other-pass-2026", at=at)
    assert store.accounts.history().iloc[0][["field", "changed_by"]].tolist() == [
        "password",
        "kw03",
    ]


def test_a_one_time_code_expires_and_a_new_one_replaces_it(make_store, small_measures):
    store = make_store(small_measures)
    admin = signed_in(store, "管理员", ADMIN)
    at = datetime(2026, 11, 30, 9, 0)
    store.accounts.add("kw05", role=STAFF, units=["市科委"], password=None, by=admin)
    old = store.accounts.issue_code("kw05", by=admin, at=at)
    new = store.accounts.issue_code("kw05", by=admin, at=at)
    late = at + timedelta(days=CODE_DAYS, seconds=1)
    with pytest.raises(TrackerError, match="设置码不正确"):
        store.accounts.set_password_with_code("kw05", old, "new-pass-2026", at=at)
    with pytest.raises(TrackerError, match="已过期"):
        store.accounts.set_password_with_code("kw05", new, "new-pass-2026", at=late)
    store.accounts.set_password_with_code("kw05", new, "new-pass-2026", at=late - timedelta(1))
