"""Channels against real HTTP servers on loopback: generic webhook, Slack-compatible webhook, Telegram Bot
API; errors name the channel and target with credentials masked; config builds channels from secrets."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.alerting.channels import ChannelError, build_channels
from monitor.alerting.channels.slack import SlackChannel
from monitor.alerting.channels.telegram import TelegramChannel
from monitor.alerting.channels.webhook import WebhookChannel
from monitor.alerting.model import Alert, Notification, Rule
from monitor.alerting.payload import SCHEMA, build
from monitor.alerting.settings import AlertingSettings
from monitor.config.load import ConfigError
from tests.alerting_helpers import T0, Receiver

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Seoul")


def payload(kind: str = "firing", language: str = "ko", mid: str = "m-0001") -> dict:
    alert = Alert(key="site_down:market", rule=Rule.SITE_DOWN, severity="critical", since=T0 - 95, site="market",
                  site_name="공설시장", address="군산시 공설시장길 1", aps=("market-ap1", "market-ap2"), total_aps=2,
                  reason="timeout")
    n = Notification(kind, alert, ("x",), T0, T0 - 90, 1, resolved_at=T0 if kind == "resolved" else None)  # type: ignore[arg-type]
    return build(n, mid, language, TZ)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_payload_is_korean_by_default_and_english_on_request():
    ko = payload()
    assert ko["title"] == "[장애] 공설시장 (market) 사이트 장애"
    for words in ("군산시 공설시장길 1", "market-ap1, market-ap2", "응답 시간 초과", "2026-09-21 23:11:45 KST", "1분"):
        assert words in ko["text"], words
    en = payload(language="en")
    assert en["title"] == "[FIRING] 공설시장 (market) site down"
    assert "no answer (timeout)" in en["text"] and "2 of 2 not answering" in en["text"]
    resolved = payload("resolved")
    assert resolved["title"].startswith("[복구]") and resolved["alert"]["status"] == "resolved"
    assert "복구 시각" in resolved["text"]


async def test_webhook_posts_the_documented_schema_with_the_idempotency_key(receiver):
    ch = WebhookChannel("oncall", f"{receiver.url}/hook", url_is_secret=False, timeout=5, bearer="s3cret")
    try:
        await ch.send(payload())
    finally:
        await ch.aclose()
    [req] = receiver.received()
    body = req.json()
    assert req.path == "/hook"
    assert req.headers["idempotency-key"] == "m-0001" == body["id"] == body["idempotency_key"]
    assert req.headers["x-wifimon-alert-key"] == "site_down:market"
    assert req.headers["authorization"] == "Bearer s3cret"
    assert body["schema"] == SCHEMA and body["kind"] == "firing" and body["sequence"] == 1
    a = body["alert"]
    assert (a["key"], a["rule"], a["severity"], a["status"], a["site"]) == (
        "site_down:market", "site_down", "critical", "firing", "market")
    assert a["aps"] == ["market-ap1", "market-ap2"] and a["since_unix"] == T0 - 95
    assert a["since"] == "2026-09-21T14:11:45Z" and a["reason_text"] == "응답 시간 초과"


async def test_webhook_error_names_channel_status_and_masks_a_secret_url(receiver):
    receiver.respond = lambda r: (500, b"boom")
    ch = WebhookChannel("oncall", f"{receiver.url}/hook/T0KEN?key=abc", url_is_secret=True, timeout=5)
    try:
        with pytest.raises(ChannelError) as exc:
            await ch.send(payload())
    finally:
        await ch.aclose()
    text = str(exc.value)
    assert f"channel oncall (http://127.0.0.1:{receiver.port}/***): HTTP 500" in text and "boom" in text
    assert "T0KEN" not in text and "abc" not in text


async def test_a_silent_peer_times_out_and_says_how_long():
    with socket.socket() as s:  # accepts connections (backlog) but never answers
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        ch = WebhookChannel("oncall", f"http://127.0.0.1:{s.getsockname()[1]}/hook?token=zz", url_is_secret=False,
                            timeout=0.5)
        started = time.monotonic()
        try:
            with pytest.raises(ChannelError, match=r"no answer within 0.5 s") as exc:
                await ch.send(payload())
        finally:
            await ch.aclose()
        assert time.monotonic() - started < 3
        assert "zz" not in str(exc.value) and f"127.0.0.1:{s.getsockname()[1]}/hook?***" in str(exc.value)


async def test_nothing_listening_is_an_error_naming_the_target():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ch = WebhookChannel("oncall", f"http://127.0.0.1:{port}/hook", url_is_secret=False, timeout=2)
    try:
        with pytest.raises(ChannelError, match=rf"channel oncall \(http://127.0.0.1:{port}/hook\): ConnectError"):
            await ch.send(payload())
    finally:
        await ch.aclose()


async def test_slack_compatible_webhook(receiver):
    ch = SlackChannel("chat", f"{receiver.url}/services/T000/B000/XXXX", url_is_secret=True, timeout=5)
    try:
        await ch.send(payload())
        await ch.send(payload("resolved", mid="m-0002"))
    finally:
        await ch.aclose()
    first, second = (r.json() for r in receiver.received())
    assert first["text"].startswith(":red_circle: [장애] 공설시장 (market) 사이트 장애")
    assert first["text"].endswith("id: m-0001")
    assert first["blocks"][0]["type"] == "section" and "*[장애] 공설시장" in first["blocks"][0]["text"]["text"]
    assert second["text"].startswith(":white_check_mark: [복구]")
    assert ch.target == f"http://127.0.0.1:{receiver.port}/***"


async def test_telegram_bot_api_with_a_local_base_url(receiver):
    receiver.respond = lambda r: (200, b'{"ok": true, "result": {"message_id": 7}}')
    ch = TelegramChannel("phone", receiver.url, "123456:SECRET-TOKEN", "-100777", timeout=5)
    try:
        await ch.send(payload())
    finally:
        await ch.aclose()
    [req] = receiver.received()
    assert req.path == "/bot123456:SECRET-TOKEN/sendMessage"
    body = req.json()
    assert body["chat_id"] == "-100777" and body["text"].startswith("[장애] 공설시장") and "id: m-0001" in body["text"]


async def test_telegram_refusal_is_an_error_and_the_token_never_shows(receiver):
    receiver.respond = lambda r: (400, b'{"ok": false, "description": "Bad Request: chat not found"}')
    ch = TelegramChannel("phone", receiver.url, "123456:SECRET-TOKEN", "-100777", timeout=5)
    try:
        with pytest.raises(ChannelError) as exc:
            await ch.send(payload())
        receiver.respond = lambda r: (200, b'{"ok": false}')
        with pytest.raises(ChannelError, match="did not say ok"):
            await ch.send(payload())
    finally:
        await ch.aclose()
    assert "chat not found" in str(exc.value) and "HTTP 400" in str(exc.value)
    assert "SECRET-TOKEN" not in str(exc.value) and "/bot***/sendMessage" in str(exc.value)


def test_channels_are_built_from_config_with_secrets(tmp_path: Path, monkeypatch):
    (tmp_path / "telegram.token").write_text("42:ABC\n")
    monkeypatch.setenv("TEST_SLACK_URL", "https://hooks.example.invalid/services/T/B/C")
    settings = AlertingSettings.model_validate({
        "channels": {
            "hook": {"type": "webhook", "url": "http://127.0.0.1:9/h"},
            "chat": {"type": "slack", "url": {"env": "TEST_SLACK_URL"}},
            "phone": {"type": "telegram", "token": {"file": "telegram.token"}, "chat_id": "1",
                      "base_url": "http://127.0.0.1:9/"},
            "mail": {"type": "email", "host": "127.0.0.1", "sender": "w@example.org", "recipients": ["a@example.org"]},
            "am": {"type": "alertmanager", "url": "http://127.0.0.1:9093/"},
        }})
    channels = build_channels(settings, tmp_path)
    assert {n: c.type for n, c in channels.items()} == {
        "hook": "webhook", "chat": "slack", "phone": "telegram", "mail": "email", "am": "alertmanager"}
    assert channels["chat"].target == "https://hooks.example.invalid/***"
    assert channels["phone"].target == "http://127.0.0.1:9/bot***/sendMessage chat 1"
    monkeypatch.delenv("TEST_SLACK_URL")
    (tmp_path / "telegram.token").unlink()
    with pytest.raises(ConfigError) as exc:
        build_channels(settings, tmp_path)
    assert len(exc.value.problems) == 2  # both reported at once
    assert "alerting.channels.chat.url: environment variable TEST_SLACK_URL is not set" in exc.value.problems
    assert any(p.startswith("alerting.channels.phone.token: cannot read secret file") for p in exc.value.problems)
