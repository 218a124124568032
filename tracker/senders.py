"""Sending one notice: e-mail over SMTP (standard library, STARTTLS or SSL) and the group
robots of 企业微信, 钉钉 and 飞书 (their documented JSON webhook formats).

Secrets never touch the database: a robot is stored as a kind and a reference name
(``kw_wecom``), and its webhook address and signing secret are read here from the
environment (``TRACKER_ROBOT_KW_WECOM_URL``, ``TRACKER_ROBOT_KW_WECOM_SECRET``) or from
``.streamlit/secrets.toml`` (``[robots.kw_wecom] url = "…"  secret = "…"``); the SMTP password
from ``TRACKER_SMTP_PASSWORD`` or ``[smtp] password``.  Errors are scrubbed of every secret
before they are stored or shown (:func:`scrub`).

User text (task text, a send-back reason) never turns into markup: e-mail is plain text,
飞书 gets plain ``text`` elements, and the Markdown robots get :func:`markdown_text`.

>>> markdown_text("**急**<b>x</b> [点我](http://evil)")
'\\\\*\\\\*急\\\\*\\\\*&lt;b&gt;x&lt;/b&gt; \\\\[点我\\\\]\\\\(http://evil\\\\)'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
import os
import re
import smtplib
import ssl
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from tracker import config
from tracker.schema import ROOT

log = logging.getLogger("tracker.notices")

EMAIL = "email"
WECOM, DINGTALK, FEISHU = "wecom", "dingtalk", "feishu"
ROBOT_KINDS: dict[str, str] = {WECOM: "企业微信", DINGTALK: "钉钉", FEISHU: "飞书"}
CHANNEL_LABELS: dict[str, str] = {EMAIL: "邮件", **ROBOT_KINDS, "none": "无接收人"}
REF_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,60}$")
# Inline markup characters; block markup cannot start because user text never begins a line.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#!|~])")


class SendError(Exception):
    """A send that did not go through; ``reason`` is safe to store and show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Message:
    """One notice as the senders see it: plain text, escaped per channel when sent."""

    notice_id: int
    title: str
    lines: tuple[str, ...]
    link: str

    def plain(self) -> str:
        return "\n".join(
            [self.title, "", *self.lines, "", f"链接：{self.link}", f"通知编号：#{self.notice_id}"]
        )


# --- secrets ------------------------------------------------------------------------------


def secrets_file(environ: Mapping[str, str] | None = None) -> dict:
    """``.streamlit/secrets.toml`` of the working directory (else of the project), parsed."""
    for folder in (Path.cwd(), ROOT):
        path = folder / ".streamlit" / "secrets.toml"
        if path.is_file():
            with path.open("rb") as handle:
                return tomllib.load(handle)
    return {}


def secret(env_name: str, section: str, key: str, environ: Mapping[str, str] | None = None) -> str:
    """A secret from the environment, else from ``[section] key`` of secrets.toml."""
    environ = os.environ if environ is None else environ
    if environ.get(env_name):
        return environ[env_name]
    table: object = secrets_file()
    for part in (*section.split("."), key):
        table = table.get(part, {}) if isinstance(table, dict) else {}
    return table if isinstance(table, str) else ""


def robot_secrets(ref: str, environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(webhook address, signing secret) of robot ``ref``; "" where not configured."""
    env = f"TRACKER_ROBOT_{ref.upper()}"
    return (
        secret(f"{env}_URL", f"robots.{ref}", "url", environ),
        secret(f"{env}_SECRET", f"robots.{ref}", "secret", environ),
    )


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret (and any key-like URL parameter) replaced by ***."""
    for value in secrets:
        if value:
            text = text.replace(value, "***")
    return re.sub(r"((?:key|access_token|sign|hook)[=/])[^\s&'\"]+", r"\1***", text)


# --- formats -------------------------------------------------------------------------------


def markdown_text(text: str) -> str:
    """User text safe inside a Markdown robot message: one line, every Markdown character
    backslash-escaped and HTML characters as entities, so nothing becomes a heading, link,
    emphasis or tag."""
    one_line = " ".join(str(text).split())
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", one_line)
    escaped = re.sub(r"^([-+])", r"\\\1", escaped)  # no list at the start of a line
    escaped = re.sub(r"^(\d+)\.", r"\1\\.", escaped)
    return html.escape(escaped, quote=False)


def markdown_link(url: str) -> str:
    """An address safe inside ``[…](…)``: no space, bracket or quote left unencoded."""
    return urllib.parse.quote(url, safe=":/?&=%#~+,;@$-._")


def markdown_body(message: Message) -> str:
    lines = [f"**{markdown_text(message.title)}**", ""]
    lines += [f"> {markdown_text(line)}" for line in message.lines]
    lines += ["", f"[打开督办台]({markdown_link(message.link)})", ""]
    lines.append(markdown_text(f"通知编号：#{message.notice_id}"))
    return "\n".join(lines)


def robot_payload(kind: str, message: Message, *, timestamp: int, secret: str = "") -> dict:
    """The JSON body each robot documents: 企业微信 ``markdown.content``, 钉钉
    ``markdown.title/text``, 飞书 ``post`` rich text of plain ``text`` and ``a`` elements
    (with ``timestamp`` and ``sign`` when the robot has a signing secret)."""
    if kind == WECOM:
        return {"msgtype": "markdown", "markdown": {"content": markdown_body(message)}}
    if kind == DINGTALK:
        return {
            "msgtype": "markdown",
            "markdown": {"title": message.title[:60], "text": markdown_body(message)},
        }
    if kind == FEISHU:
        content = [[{"tag": "text", "text": line}] for line in message.lines]
        content.append([{"tag": "a", "text": "打开督办台", "href": message.link}])
        content.append([{"tag": "text", "text": f"通知编号：#{message.notice_id}"}])
        payload: dict = {
            "msg_type": "post",
            "content": {"post": {"zh_cn": {"title": message.title, "content": content}}},
        }
        if secret:
            payload["timestamp"] = str(timestamp // 1000)
            payload["sign"] = feishu_sign(secret, timestamp // 1000)
        return payload
    raise SendError(f"未知的机器人类型 {kind}")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉加签: base64(HmacSHA256(key=secret, "timestamp\\nsecret")), URL-encoded."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """飞书签名校验: base64(HmacSHA256(key="timestamp\\nsecret", empty message))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


# --- sending -------------------------------------------------------------------------------


def send_robot(kind: str, ref: str, message: Message, *, timestamp: int) -> None:
    """Post ``message`` to robot ``ref``; raises :class:`SendError` with a scrubbed reason.
    ``timestamp`` is in milliseconds."""
    url, signing = robot_secrets(ref)
    if not url:
        raise SendError(f"未配置机器人 {ref} 的地址（TRACKER_ROBOT_{ref.upper()}_URL）")
    if kind == DINGTALK and signing:
        joiner = "&" if "?" in url else "?"
        url = f"{url}{joiner}timestamp={timestamp}&sign={dingtalk_sign(signing, timestamp)}"
    body = json.dumps(robot_payload(kind, message, timestamp=timestamp, secret=signing))
    request = urllib.request.Request(
        url,
        data=body.encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    timeout = int(config.value("TRACKER_NOTICE_TIMEOUT_SECONDS"))  # type: ignore[call-overload]
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise SendError(f"{ROBOT_KINDS[kind]}机器人返回 HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SendError(
            scrub(f"{ROBOT_KINDS[kind]}机器人不可达：{reason}", (url, signing))
        ) from None
    _check_answer(kind, answer, (url, signing))


def _check_answer(kind: str, answer: bytes, secrets: tuple[str, ...]) -> None:
    """企业微信 and 钉钉 answer ``errcode`` 0, 飞书 ``code`` 0 (or the older ``StatusCode``)."""
    try:
        reply = json.loads(answer.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SendError(f"{ROBOT_KINDS[kind]}机器人的回复不是 JSON") from None
    if not isinstance(reply, dict):
        raise SendError(f"{ROBOT_KINDS[kind]}机器人的回复不是 JSON 对象")
    code = reply.get("code", reply.get("StatusCode")) if kind == FEISHU else reply.get("errcode")
    if code not in (0, None):
        detail = reply.get("msg") or reply.get("errmsg") or ""
        raise SendError(scrub(f"{ROBOT_KINDS[kind]}机器人拒收：{code} {detail}", secrets))


def send_email(address: str, message: Message) -> None:
    """Send ``message`` as a plain-text UTF-8 e-mail to ``address``; its Message-ID is fixed
    per notice, so a copy sent again after a crash is recognisably the same notice."""
    host = str(config.value("TRACKER_SMTP_HOST"))
    if not host:
        raise SendError("未配置邮件服务器（TRACKER_SMTP_HOST）")
    port = int(config.value("TRACKER_SMTP_PORT"))  # type: ignore[call-overload]
    security = str(config.value("TRACKER_SMTP_SECURITY"))
    user = str(config.value("TRACKER_SMTP_USER"))
    password = secret("TRACKER_SMTP_PASSWORD", "smtp", "password")
    sender = str(config.value("TRACKER_SMTP_FROM"))
    timeout = int(config.value("TRACKER_NOTICE_TIMEOUT_SECONDS"))  # type: ignore[call-overload]
    email = EmailMessage()
    email["Subject"] = message.title
    email["From"] = sender
    email["To"] = address
    email["Message-ID"] = f"<notice-{message.notice_id}@{sender.rpartition('@')[2] or 'tracker'}>"
    email["Date"] = format_datetime(_utcnow())
    email.set_content(message.plain(), charset="utf-8")
    try:
        if security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if user:
                client.login(user, password)
            client.send_message(email)
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(
            scrub(f"邮件发送失败：{exc.__class__.__name__}: {exc}", (password,))
        ) from None
    log.info("notice #%s sent by e-mail", message.notice_id)


def _utcnow():
    from datetime import UTC, datetime

    return datetime.now(UTC)
