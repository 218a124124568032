"""Notices end to end against real receivers the tests start: an in-process SMTP server
(aiosmtpd) and a local HTTP server that records robot posts and can answer 500, refuse, or
hang; on SQLite and PostgreSQL.  Both servers are shared by the module (suite time)."""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import replace
from datetime import date, datetime, timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from cli import main
from tests.factories import signed_in, staff
from tracker import notices as nt
from tracker import outbox
from tracker.contacts import Contacts
from tracker.errors import PermissionDenied
from tracker.progress import Update, now
from tracker.schema import ADMIN, CLOSED, DONE, SUBMITTED
from tracker.store import Store
from tracker.supervision import Supervision

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://tracker.example.gov.cn"
KW_EMAIL = "kw01@example.gov.cn"
SECRET_KEY = "SECRETKEY-0123456789"


# --- the receivers -------------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


class Robots(ThreadingHTTPServer):
    daemon_threads = True
    posts: list[dict]
    release: threading.Event


class RobotHandler(BaseHTTPRequestHandler):
    """/ok/… answers errcode 0, /fail/… HTTP 500, /refuse/… errcode 310000, /hang/… records
    the post and answers only when the test releases it (or after 30 s)."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        server: Robots = self.server  # type: ignore[assignment]
        length = int(self.headers.get("Content-Length", 0))
        url = urllib.parse.urlsplit(self.path)
        server.posts.append(
            {
                "path": url.path,
                "query": dict(urllib.parse.parse_qsl(url.query)),
                "json": json.loads(self.rfile.read(length).decode("utf-8")),
            }
        )
        mode = url.path.split("/")[1]
        if mode == "hang":
            server.release.wait(30)
        if mode == "fail":
            self.send_response(500)
            self.end_headers()
            return
        answer = {"errcode": 310000, "errmsg": "sign not match"} if mode == "refuse" else {}
        body = json.dumps({"errcode": 0, "code": 0, **answer}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def robots():
    server = Robots(("127.0.0.1", 0), RobotHandler)
    server.posts = []
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()


@pytest.fixture
def receivers(mailbox, robots, monkeypatch):
    """Fresh recordings and the settings that point the senders at the test servers."""
    box, port = mailbox
    box.messages.clear()
    robots.posts.clear()
    robots.release.clear()
    monkeypatch.delenv("TRACKER_PERIOD", raising=False)
    for name, value in {
        "TRACKER_BASE_URL": BASE,
        "TRACKER_SMTP_HOST": "127.0.0.1",
        "TRACKER_SMTP_PORT": str(port),
        "TRACKER_SMTP_SECURITY": "none",
        "TRACKER_SMTP_FROM": "督办台 <tracker@example.gov.cn>",
        "TRACKER_NOTICE_TIMEOUT_SECONDS": "2",
        "TRACKER_ROBOT_KW_URL": robot_url(robots, "ok"),
    }.items():
        monkeypatch.setenv(name, value)
    yield box, robots
    robots.release.set()


def robot_url(robots: Robots, mode: str) -> str:
    return f"http://127.0.0.1:{robots.server_address[1]}/{mode}/send?key={SECRET_KEY}"


# --- the store -----------------------------------------------------------------------------

TODAY = date(2026, 3, 10)  # mid-month: no period-end reminder in the way


@pytest.fixture
def store(make_store, small_measures) -> Store:
    store = make_store(small_measures)
    admin = signed_in(store, "管理员甲", ADMIN)
    staff(store, "市科委", "kw01")
    contacts = Contacts(store)
    contacts.set_email("kw01", KW_EMAIL, "13800001111", user=admin)
    contacts.set_robot("市科委", "wecom", "kw", user=admin)
    return store


def aid(store: Store, task_id: str, unit: str) -> int:
    rows = store.assignments()
    return int(rows[(rows.task_id == task_id) & (rows.unit == unit)].assignment_id.iloc[0])


def set_due(store: Store, assignment_id: int, due: date) -> None:
    boss = signed_in(store)
    version = int(store.assignments().set_index("assignment_id").at[assignment_id, "version"])
    store.apply(
        [Update(assignment_id, version, {"due_date": due.isoformat()})], user=boss, source="web"
    )


def rows_of(store: Store):
    return outbox.notices_table(store.engine).sort_values("notice_id")


# --- done when: a deadline 7 days out, a send-back, nothing twice, failures visible ---------


def test_deadline_seven_days_out_sends_one_email_and_one_robot_post(store, receivers) -> None:
    box, robots = receivers
    kw = aid(store, "demo-m01-t1", "市科委")
    set_due(store, kw, TODAY + timedelta(days=7))
    set_due(store, aid(store, "demo-m01-t1", "市教委"), TODAY + timedelta(days=7))  # no contact

    result = outbox.run(store, TODAY)
    assert (result.created, result.sent, result.retrying, result.failed) == (2, 2, 0, 0)
    assert len(box.messages) == 1 and len(robots.posts) == 1
    rcpt, mail = box.messages[0]
    assert rcpt == [KW_EMAIL]
    assert mail["Subject"] == "【临近提醒（7天）】市科委：7 天后到期"
    text = mail.get_content()
    # The task by 文号 and measure as people know it; the id only inside the link.
    assert "任务：〔2026〕1号·1-1 " in text and "责任单位：市科委" in text
    assert text.count("demo-m01-t1") == 1
    assert "完成时限：2026-03-17" in text
    link = f"{BASE}/reporting?policy=demo-2026-1&unit=%E5%B8%82%E7%A7%91%E5%A7%94&task=demo-m01-t1"
    assert f"链接：{link}" in text
    post = robots.posts[0]
    assert post["path"] == "/ok/send" and post["query"] == {"key": SECRET_KEY}
    content = post["json"]["markdown"]["content"]
    assert post["json"]["msgtype"] == "markdown"
    assert "demo\\-m01\\-t1" not in content and "demo-m01-t1" in content
    assert "完成时限：2026-03-17" in content and f"]({link})" in content

    # The scan runs again the same day and the next: nothing new, nothing sent twice.
    again = outbox.run(store, TODAY)
    later = outbox.run(store, TODAY + timedelta(days=1))
    assert (again.created, again.sent, later.created, later.sent) == (0, 0, 0, 0)
    assert len(box.messages) == 1 and len(robots.posts) == 1
    # Six days out it is the 1-day reminder's turn only when one day is left.
    assert outbox.run(store, TODAY + timedelta(days=6)).sent == 2
    assert box.messages[-1][1]["Subject"] == "【临近提醒（1天）】市科委：1 天后到期"


def test_sent_back_report_reaches_the_unit_in_one_run(store, receivers) -> None:
    box, robots = receivers
    kw = aid(store, "demo-m01-t1", "市科委")
    supervision = Supervision(store)
    supervision.acknowledge(kw, user=staff(store, "市科委", "kw01"))
    supervision.submit(kw, "已完成调研", user=staff(store, "市科委", "kw01"))
    period = now().strftime("%Y-%m")  # the report belongs to the period it was sent in
    reason = "**急** 请补充 [佐证](http://evil.example) <b>材料</b>\n# 标题"
    supervision.send_back(kw, period, reason, user=signed_in(store))

    queued = rows_of(store)  # written with the step, before any run
    assert list(queued["rule"]) == ["returned", "returned"]
    assert set(queued["status"]) == {nt.PENDING}

    result = outbox.send_due(store.engine)
    assert result.sent == 2
    text = box.messages[0][1].get_content()
    assert "退回理由：**急** 请补充 [佐证](http://evil.example) <b>材料</b> # 标题" in text
    content = robots.posts[0]["json"]["markdown"]["content"]
    assert "退回理由：\\*\\*急\\*\\* 请补充 \\[佐证\\]\\(http://evil.example\\)" in content
    assert "&lt;b&gt;材料&lt;/b&gt; \\# 标题" in content
    assert "<b>" not in content and "](http://evil" not in content and "\n#" not in content


def test_extension_decisions_notify_the_unit(store, receivers) -> None:
    box, _ = receivers
    kw = aid(store, "demo-m01-t1", "市科委")
    set_due(store, kw, now().date() + timedelta(days=20))
    supervision = Supervision(store)
    unit = staff(store, "市科委", "kw01")
    wanted = now().date() + timedelta(days=60)
    first = supervision.request_extension(kw, wanted.isoformat(), "需要协调", user=unit)
    supervision.refuse_extension(first, "理由不足", user=signed_in(store))
    second = supervision.request_extension(kw, wanted.isoformat(), "补充了材料", user=unit)
    supervision.approve_extension(second, user=signed_in(store))
    outbox.send_due(store.engine)
    subjects = [m["Subject"] for _, m in box.messages]
    assert subjects == [
        "【延期未批准】市科委：延期申请未获批准，原时限不变",
        f"【延期已批准】市科委：延期申请已批准，新时限 {wanted}",
    ]
    assert "不予延期的理由：理由不足" in box.messages[0][1].get_content()


def test_dead_smtp_server_leaves_the_email_queued_with_its_error(
    store, receivers, monkeypatch
) -> None:
    box, robots = receivers
    monkeypatch.setenv("TRACKER_SMTP_PORT", str(free_port()))  # nobody listens
    set_due(store, aid(store, "demo-m01-t1", "市科委"), TODAY + timedelta(days=7))
    result = outbox.run(store, TODAY)
    assert (result.sent, result.retrying, result.failed) == (1, 1, 0)
    rows = rows_of(store).set_index("channel")
    assert rows.at["email", "status"] == nt.PENDING
    assert rows.at["email", "attempts"] == 1
    assert rows.at["email", "last_error"].startswith("邮件发送失败：ConnectionRefusedError")
    assert rows.at["wecom", "status"] == nt.SENT and len(robots.posts) == 1
    assert list(outbox.failing(outbox.notices_table(store.engine))["channel"]) == ["email"]


def test_failures_retry_with_backoff_then_give_up_and_never_show_a_secret(
    store, receivers, monkeypatch
) -> None:
    _, robots = receivers
    monkeypatch.setenv("TRACKER_ROBOT_KW_URL", robot_url(robots, "fail"))
    monkeypatch.setenv("TRACKER_NOTICE_ATTEMPTS", "2")
    monkeypatch.setenv("TRACKER_NOTICE_BACKOFF_SECONDS", "60")
    monkeypatch.setenv("TRACKER_SMTP_HOST", "")
    set_due(store, aid(store, "demo-m01-t1", "市科委"), TODAY + timedelta(days=7))
    outbox.scan(store, TODAY)
    t0 = now() + timedelta(seconds=1)

    first = outbox.send_due(store.engine, clock=lambda: t0)
    assert (first.sent, first.retrying) == (0, 2)
    rows = rows_of(store).set_index("channel")
    assert rows.at["wecom", "last_error"] == "企业微信机器人返回 HTTP 500"
    assert rows.at["email", "last_error"] == "未配置邮件服务器（TRACKER_SMTP_HOST）"
    assert rows.at["wecom", "next_try_at"] == t0 + timedelta(seconds=60)
    assert outbox.send_due(store.engine, clock=lambda: t0 + timedelta(seconds=59)).retrying == 0
    last = outbox.send_due(store.engine, clock=lambda: t0 + timedelta(seconds=61))
    assert last.failed == 2 and len(robots.posts) == 2
    rows = rows_of(store)
    assert set(rows["status"]) == {nt.FAILED} and set(rows["attempts"]) == {2}

    # A hanging robot times out; a refusing one says why; neither error shows the key.
    for mode, expected in (
        ("hang", "企业微信机器人不可达"),
        ("refuse", "企业微信机器人拒收：310000"),
    ):
        monkeypatch.setenv("TRACKER_ROBOT_KW_URL", robot_url(robots, mode))
        event = nt.remind_event("市科委", 1, f"催办 {mode}", now(), base_url=BASE)
        with store.engine.begin() as conn:
            nt.enqueue(conn, [replace(event, subject=mode)], now(), keep_unreachable=True)
        outbox.send_due(store.engine)
        error = rows_of(store).query("channel == 'wecom'").iloc[-1]["last_error"]
        assert error.startswith(expected), error
    everything = rows_of(store).to_string()
    assert SECRET_KEY not in everything


def test_robot_signatures_follow_the_documented_algorithms(store, receivers, monkeypatch) -> None:
    _, robots = receivers
    admin = signed_in(store, "管理员甲", ADMIN)
    contacts = Contacts(store)
    contacts.set_robot("市科委", "dingtalk", "kw_ding", user=admin)
    contacts.set_robot("市科委", "feishu", "kw_fs", user=admin)
    contacts.remove_robot("市科委", "wecom", user=admin)
    monkeypatch.setenv("TRACKER_ROBOT_KW_DING_URL", robot_url(robots, "ok"))
    monkeypatch.setenv("TRACKER_ROBOT_KW_DING_SECRET", "SECding")
    monkeypatch.setenv("TRACKER_ROBOT_KW_FS_URL", robot_url(robots, "ok"))
    monkeypatch.setenv("TRACKER_ROBOT_KW_FS_SECRET", "fs-secret")
    set_due(store, aid(store, "demo-m01-t1", "市科委"), TODAY + timedelta(days=7))
    assert outbox.run(store, TODAY).sent == 3
    ding = next(p for p in robots.posts if p["json"].get("msgtype") == "markdown")
    stamp = ding["query"]["timestamp"]
    expected = base64.b64encode(
        hmac.new(b"SECding", f"{stamp}\nSECding".encode(), hashlib.sha256).digest()
    ).decode()
    assert ding["query"]["sign"] == expected  # parse_qsl undid the URL encoding
    assert ding["json"]["markdown"]["title"] == "【临近提醒（7天）】市科委：7 天后到期"
    fs = next(p for p in robots.posts if p["json"].get("msg_type") == "post")
    key = f"{fs['json']['timestamp']}\nfs-secret".encode()
    assert (
        fs["json"]["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    )
    post = fs["json"]["content"]["post"]["zh_cn"]
    assert post["title"] == "【临近提醒（7天）】市科委：7 天后到期"
    assert {"tag": "text", "text": "责任单位：市科委"} in [line[0] for line in post["content"]]


# --- concurrency and crashes -----------------------------------------------------------------


def many_notices(store: Store, count: int) -> None:
    events = [
        nt.Event("remind", f"s{i}", TODAY, "市科委", None, f"催办 {i}", ("第 1 行",), BASE)
        for i in range(count)
    ]
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        nt.enqueue(conn, events, now(), keep_unreachable=True)


def test_overlapping_runs_never_send_a_notice_twice(store, receivers) -> None:
    box, robots = receivers
    many_notices(store, 15)  # 30 rows: e-mail and robot each
    results: list[outbox.RunResult] = []

    def run(name: str) -> None:
        results.append(outbox.send_due(store.engine, worker=name))

    threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sum(r.sent for r in results) == 30
    numbers = [p["json"]["markdown"]["content"].rsplit("#", 1)[1] for p in robots.posts]
    numbers += [m["Message-ID"] for _, m in box.messages]
    assert len(numbers) == 30 and len(set(numbers)) == 30
    assert set(rows_of(store)["status"]) == {nt.SENT}


def test_kill_9_mid_send_loses_no_notice(store, receivers, db_url, monkeypatch) -> None:
    box, robots = receivers
    monkeypatch.setenv("TRACKER_ROBOT_KW_URL", robot_url(robots, "hang"))
    monkeypatch.setenv("TRACKER_NOTICE_TIMEOUT_SECONDS", "30")
    monkeypatch.setenv("TRACKER_SMTP_HOST", "")  # only the robot row is in play
    kw = aid(store, "demo-m01-t1", "市科委")
    Supervision(store).acknowledge(kw, user=staff(store, "市科委", "kw01"))
    Supervision(store).submit(kw, "报告", user=staff(store, "市科委", "kw01"))
    Supervision(store).send_back(kw, now().strftime("%Y-%m"), "请补充", user=signed_in(store))
    robot_row = rows_of(store).query("channel == 'wecom'").iloc[0]

    child = subprocess.Popen(
        [sys.executable, "-m", "loaders", "notify", "--no-scan", "--db", db_url],
        cwd=ROOT,
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not robots.posts and time.monotonic() < deadline:
        time.sleep(0.05)
    assert robots.posts, "notify never reached the robot"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    row = rows_of(store).set_index("notice_id").loc[robot_row["notice_id"]]
    assert (row["status"], row["attempts"]) == (nt.SENDING, 1)

    # Within the lease nobody takes it; after the lease the next run sends it.
    monkeypatch.setenv("TRACKER_ROBOT_KW_URL", robot_url(robots, "ok"))
    assert outbox.send_due(store.engine).sent == 0
    monkeypatch.setenv("TRACKER_NOTICE_LEASE_SECONDS", "1")
    time.sleep(1.2)
    result = outbox.send_due(store.engine)
    assert result.sent == 1
    row = rows_of(store).set_index("notice_id").loc[robot_row["notice_id"]]
    assert (row["status"], row["attempts"]) == (nt.SENT, 2)
    # At least once: the robot saw the post before the kill and again after it, both
    # carrying the same notice number.
    numbers = {p["json"]["markdown"]["content"].rsplit("#", 1)[1] for p in robots.posts}
    assert len(robots.posts) == 2 and numbers == {str(robot_row["notice_id"])}


# --- rules, pure ------------------------------------------------------------------------------


def test_time_rules_by_hand() -> None:
    import pandas as pd

    base = {"task_id": "t", "task_text": "x", "unit": "u", "policy_id": "p", "state": ""}
    base |= {"doc_no": "沪府发〔2026〕1号", "measure_no": 1, "task_seq": 1}
    rows = pd.DataFrame(
        [
            {**base, "assignment_id": 1, "due_date": date(2026, 3, 17), "status": "in_progress"},
            {**base, "assignment_id": 2, "due_date": date(2026, 3, 12), "status": "in_progress"},
            {**base, "assignment_id": 3, "due_date": date(2026, 3, 11), "status": "not_started"},
            {**base, "assignment_id": 4, "due_date": date(2026, 3, 8), "status": "in_progress"},
            {**base, "assignment_id": 5, "due_date": date(2026, 3, 8), "status": DONE},
            {
                **base,
                "assignment_id": 6,
                "due_date": date(2026, 3, 8),
                "status": "x",
                "state": CLOSED,
            },
            {**base, "assignment_id": 7, "due_date": date(2026, 3, 18), "status": "in_progress"},
        ]
    )
    events = nt.time_events(rows, date(2026, 3, 10), days=(7, 1), report_days=3)
    assert [(e.rule, e.subject, e.day) for e in events] == [
        ("due_7", "1", date(2026, 3, 17)),
        ("due_7", "2", date(2026, 3, 12)),
        ("due_1", "3", date(2026, 3, 11)),
        ("overdue", "4", date(2026, 3, 10)),
    ]
    # Three days before the month ends, every unsent report is reminded, once per period.
    late = nt.time_events(
        rows.assign(due_date=None, state=[SUBMITTED, "", "", "", "", CLOSED, ""]),
        date(2026, 3, 28),
    )
    assert [(e.rule, e.subject, e.day) for e in late] == [
        ("report_due", str(i), date(2026, 3, 31)) for i in (2, 3, 4, 5, 7)
    ]


# --- contacts and the command line ------------------------------------------------------------


def test_only_an_admin_sets_contacts_and_secrets_are_never_shown(
    store, receivers, db_url, capsys
) -> None:
    with pytest.raises(PermissionDenied):
        Contacts(store).set_email("kw01", "x@example.gov.cn", user=signed_in(store))
    assert (
        main(["contact", "email", "kw01", "--email", "a@b", "--user", "管理员甲", "--db", db_url])
        == 2
    )
    assert (
        main(
            [
                "contact",
                "robot",
                "市科委",
                "--kind",
                "dingtalk",
                "--ref",
                "kw_d",
                "--user",
                "管理员甲",
                "--db",
                db_url,
            ]
        )
        == 0
    )
    assert main(["contact", "list", "--user", "管理员甲", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert f"kw01\t市科委\t{KW_EMAIL}\t13800001111" in out
    assert "市科委\t企业微信\tkw\tconfigured" in out
    assert "市科委\t钉钉\tkw_d\tsecret missing" in out
    assert SECRET_KEY not in out and "127.0.0.1" not in out
    assert main(["contact", "list", "--user", "kw01", "--db", db_url]) == 0  # reading is fine
    assert (
        main(
            [
                "contact",
                "robot",
                "市科委",
                "--kind",
                "wecom",
                "--ref",
                "k",
                "--user",
                "kw01",
                "--db",
                db_url,
            ]
        )
        == 2
    )


def test_notify_command_sends_and_reports(store, receivers, db_url, capsys) -> None:
    box, robots = receivers
    set_due(store, aid(store, "demo-m01-t1", "市科委"), TODAY + timedelta(days=7))
    assert main(["notify", "--today", TODAY.isoformat(), "--db", db_url]) == 0
    assert capsys.readouterr().out.strip() == "新通知 2 条；已发送 2 条，待重试 0 条，已放弃 0 条"
    assert len(box.messages) == 1 and len(robots.posts) == 1


def test_notice_log_exports_text_as_text() -> None:
    import io

    import openpyxl
    import pandas as pd

    from excel.notices import SHEET_NOTICES, build_notices_workbook
    from pagelogic.notices import notice_table

    frame = pd.DataFrame(
        [
            {
                "notice_id": 7,
                "rule": "due_7",
                "unit": "市科委",
                "assignment_id": 1,
                "day": TODAY,
                "channel": "wecom",
                "receiver": "kw",
                "title": '=HYPERLINK("http://evil")',
                "status": nt.FAILED,
                "attempts": 6,
                "last_error": "企业微信机器人返回 HTTP 500",
                "created_at": datetime(2026, 3, 10, 9),
                "sent_at": None,
                "next_try_at": datetime(2026, 3, 10, 9),
            }
        ]
    )
    table = notice_table(frame)
    assert table.iloc[0][["通知类型", "渠道", "状态"]].tolist() == [
        "临近提醒（7天）",
        "企业微信",
        "发送失败",
    ]
    sheet = openpyxl.load_workbook(io.BytesIO(build_notices_workbook(table, "通知记录")))[
        SHEET_NOTICES
    ]
    assert [c.value for c in sheet[2]][:4] == ["编号", "通知类型", "责任单位", "标题"]
    title = sheet.cell(row=3, column=4)
    assert title.value == '=HYPERLINK("http://evil")' and title.data_type == "s"


def test_the_remind_button_also_sends(store, receivers) -> None:
    box, robots = receivers
    sent = Supervision(store).remind(
        [("市科委", 2, "1. 甲任务已逾期\n2. 乙任务未报送")], user=signed_in(store)
    )
    assert sent == 1
    assert outbox.send_due(store.engine).sent == 2
    assert box.messages[0][1]["Subject"] == "【催办】市科委：2 项任务需尽快办理"
    assert "1. 甲任务已逾期" in box.messages[0][1].get_content()
    assert "> 1\\. 甲任务已逾期" in robots.posts[0]["json"]["markdown"]["content"]
