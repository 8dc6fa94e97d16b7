"""Acknowledgement from outside the service: ``wifimon ack`` (CLI) and ``POST /api/ack`` (bearer token),
both writing through the store; and the ``--until`` syntax."""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client import CollectorRegistry

from monitor.alerting.ack import ack_endpoint, parse_until
from monitor.alerting.alerter import to_record
from monitor.alerting.model import Alert, AlertState, Rule
from monitor.cli.alerting import register
from monitor.exposition.http import HttpServer
from monitor.exposition.snapshot import EMPTY
from monitor.store import (
    OutboxMessage,
    Store,
    active_alerts,
    outbox_delivered,
    outbox_failed,
    outbox_give_up,
    save_alerting,
)

TZ = ZoneInfo("Asia/Seoul")


def _active(store: Store, key: str, site: str) -> None:
    now = time.time()
    alert = Alert(key=key, rule=Rule.SITE_DOWN, severity="critical", since=now - 60, site=site, gravity=1)
    save_alerting(store, [to_record(AlertState(alert, opened_at=now - 50, status="firing", fired_at=now - 50,
                                               notified=("hook",)))])


@pytest.fixture
def configured(tmp_path: Path):
    cfg = tmp_path / "wifimon.yaml"
    cfg.write_text(f"service:\n  store_url: sqlite:///{tmp_path}/w.db\n  timezone: Asia/Seoul\n", encoding="utf-8")
    store = Store(f"sqlite:///{tmp_path}/w.db")
    store.migrate()
    _active(store, "site_down:market", "market")
    _active(store, "site_down:park", "park")
    yield cfg, store
    store.close()


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="wifimon")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_parse_until():
    now = datetime(2026, 11, 26, 17, 0, tzinfo=TZ).timestamp()
    assert parse_until("30m", now, TZ) == now + 1800
    assert parse_until("2h", now, TZ) == now + 7200
    assert parse_until("1d", now, TZ) == now + 86400
    assert parse_until("18:00", now, TZ) == now + 3600
    assert parse_until("16:00", now, TZ) == now + 23 * 3600  # already past today: tomorrow
    assert parse_until("2026-11-26T19:30", now, TZ) == now + 2.5 * 3600
    assert parse_until("2026-11-26T10:30+00:00", now, TZ) == now + 2.5 * 3600
    with pytest.raises(ValueError, match="past"):
        parse_until("2026-11-26T09:00", now, TZ)
    with pytest.raises(ValueError, match="expected a span"):
        parse_until("soon", now, TZ)


def test_cli_ack_by_site_writes_the_store(configured, capsys):
    cfg, store = configured
    assert cli("ack", "market", "--until", "2h", "--comment", "현장 출동", "--by", "kim", "--config", str(cfg)) == 0
    out = capsys.readouterr().out
    assert "acknowledged site_down:market (critical" in out and "by kim until" in out
    acked = {a.key: a for a in active_alerts(store)}
    assert acked["site_down:market"].acked_by == "kim" and acked["site_down:market"].ack_comment == "현장 출동"
    assert acked["site_down:market"].ack_until == pytest.approx(time.time() + 7200, abs=30)
    assert acked["site_down:park"].acked_by is None
    assert cli("alerts", "--config", str(cfg)) == 0
    listed = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:-1]}
    assert listed["site_down:market"].endswith(": 현장 출동") and " kim " in listed["site_down:market"], listed
    assert listed["site_down:park"].rstrip().endswith("-"), listed


def test_cli_ack_by_key_and_errors(configured, capsys):
    cfg, store = configured
    assert cli("ack", "site_down:park", "--config", str(cfg), "--by", "lee") == 0
    assert {a.key: a.acked_by for a in active_alerts(store)}["site_down:park"] == "lee"
    assert cli("ack", "nowhere", "--config", str(cfg)) == 1
    assert "no active alert has key, site or AP 'nowhere'" in capsys.readouterr().err
    assert cli("ack", "market", "--until", "whenever", "--config", str(cfg)) == 2
    assert cli("alerts", "--config", str(cfg)) == 0
    out = capsys.readouterr().out
    assert "site_down:market" in out and "site_down:park" in out and "lee" in out


async def test_http_ack_needs_the_bearer_token(configured):
    cfg, store = configured
    poked = []
    server = HttpServer(CollectorRegistry(), lambda: EMPTY, _ready,
                        posts={"/api/ack": ack_endpoint(store, "t0ken-abc", TZ, lambda: poked.append(1))})
    port = await server.start("127.0.0.1", 0)
    url = f"http://127.0.0.1:{port}/api/ack"
    try:
        async with httpx.AsyncClient(timeout=5, trust_env=False) as c:
            r = await c.post(url, json={"target": "market"})
            assert r.status_code == 401
            r = await c.post(url, json={"target": "market"}, headers={"Authorization": "Bearer wrong"})
            assert r.status_code == 401
            auth = {"Authorization": "Bearer t0ken-abc"}
            r = await c.post(url, content=b"{not json", headers=auth)
            assert r.status_code == 400
            r = await c.post(url, json={"target": "nowhere"}, headers=auth)
            assert r.status_code == 404
            r = await c.post(url, json={"target": "market", "until": "30m", "comment": "보는 중", "by": "park"},
                             headers=auth)
            assert r.status_code == 200 and r.json() == {"acknowledged": ["site_down:market"]}
            r = await c.get(url)
            assert r.status_code == 404  # only POST is routed there
    finally:
        await server.close()
    assert poked == [1]  # the service is told to read the ack at once
    rec = {a.key: a for a in active_alerts(store)}["site_down:market"]
    assert (rec.acked_by, rec.ack_comment) == ("park", "보는 중")


async def test_http_ack_refuses_malformed_bodies_with_400(configured):
    cfg, store = configured
    server = HttpServer(CollectorRegistry(), lambda: EMPTY, _ready,
                        posts={"/api/ack": ack_endpoint(store, "t0ken-abc", TZ, lambda: None)})
    port = await server.start("127.0.0.1", 0)
    bodies = [b"[" * 30_000 + b"]" * 30_000, b'{"target": ' * 3_000 + b"1" + b"}" * 3_000, b"[]", b'"market"',
              b"null", b"\xff\xfe{", b'{"target": 5}', b'{"target": "market", "until": NaN}',
              b'{"target": "market", "until": 1}', b'{"target": "market", "until": [1]}']
    try:
        async with httpx.AsyncClient(timeout=5, trust_env=False) as c:
            for body in bodies:
                r = await c.post(f"http://127.0.0.1:{port}/api/ack", content=body,
                                 headers={"Authorization": "Bearer t0ken-abc"})
                assert r.status_code == 400 and r.json()["error"].startswith("bad request: "), (body[:40], r.text)
    finally:
        await server.close()
    assert all(a.acked_by is None for a in active_alerts(store))  # nothing was acknowledged


async def test_http_ack_is_off_without_a_configured_token(configured):
    cfg, store = configured
    server = HttpServer(CollectorRegistry(), lambda: EMPTY, _ready,
                        posts={"/api/ack": ack_endpoint(store, None, TZ, lambda: None)})
    port = await server.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(timeout=5, trust_env=False) as c:
            r = await c.post(f"http://127.0.0.1:{port}/api/ack", json={"target": "market"},
                             headers={"Authorization": "Bearer anything"})
        assert r.status_code == 403 and "api_token" in r.json()["error"]
    finally:
        await server.close()


async def _ready() -> tuple[bool, str]:
    return True, "ready"


def test_cli_alerts_undelivered_lists_pending_and_given_up_messages(configured, capsys):
    cfg, store = configured
    now = time.time()
    save_alerting(store, [], [
        OutboxMessage(message_id=mid, alert_key="site_down:market", channel=ch, kind="firing", payload={"id": mid},
                      created_at=now - 60)
        for mid, ch in (("m-pending", "hook"), ("m-gone", "sms"), ("m-done", "hook2"))])
    outbox_failed(store, "m-pending", "channel hook (http://127.0.0.1:1/hook): HTTP 502", now + 30)
    outbox_give_up(store, ["m-gone"], now, "channel removed from the config")
    outbox_delivered(store, ["m-done"], now)
    assert cli("alerts", "--undelivered", "--config", str(cfg)) == 0
    out = capsys.readouterr().out.splitlines()
    [pending] = [ln for ln in out if " hook " in ln]
    [gone] = [ln for ln in out if " sms " in ln]
    assert "pending" in pending and "HTTP 502" in pending and " 1 " in pending
    assert "given up" in gone and "channel removed from the config" in gone
    assert not [ln for ln in out if "hook2" in ln]  # delivered: not listed
    assert out[-1] == "(2 undelivered notification(s): 1 pending, 1 given up)"
