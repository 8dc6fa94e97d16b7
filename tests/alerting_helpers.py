"""Helpers for the alerting tests: snapshot builders for the pure tests, and a real HTTP receiver on
loopback that records every request (for webhook, Slack, Telegram and Alertmanager's webhook)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from collectors.types import ClientCount
from monitor.alerting.settings import AlertingSettings
from monitor.config.model import AccessPoint, Device, Site
from monitor.domain.vocabulary import ApStatus, Reason, SiteStatus
from monitor.exposition.snapshot import ApView, SiteView, Snapshot, UplinkView

T0 = 1_790_000_000.0


def make_site(sid: str, n_aps: int = 2, *, kind: str = "land", uplink: bool = False, category: str = "market",
              district: str = "월명동") -> Site:
    aps = [AccessPoint(id=f"{sid}-ap{i + 1}", address=f"127.0.0.1:{10000 + i}", credentials="c")
           for i in range(n_aps)]
    extra: dict[str, Any] = {}
    if kind == "ferry":
        extra["timetable"] = [{"days": ["mon"], "start": "00:00", "end": "23:00"}]
        extra["category"] = "ferry"
    if uplink:
        extra["uplink"] = Device(id=f"{sid}-up", address="127.0.0.1:9999", credentials="c")
    return Site.model_validate({"id": sid, "name": f"{sid} 공원", "category": category, "kind": kind,
                                "address": f"군산시 {sid}로 1", "district": district, "aps": aps, **extra})


def ap_view(site: Site, ap_id: str, status: ApStatus, since: float, *, reason: Reason | None = None,
            clients: int | None = None, polled: float | None = None) -> ApView:
    counts = () if clients is None else (ClientCount("ap", clients),)
    return ApView(ap=ap_id, site=site.id, address="", profile="generic", model="", status=status, since=since,
                  reason=reason, probe_duration=0.01, last_success_at=since, probes=1, probe_failures=0,
                  clients=counts, last_poll_at=polled)


def site_view(site: Site, status: SiteStatus, since: float, *, ap_status: dict[str, ApStatus] | None = None,
              reason: Reason | None = None, in_service: bool = True, uplink: ApStatus | None = None,
              clients: dict[str, int] | None = None, polled: float | None = None,
              ap_since: float | None = None) -> SiteView:
    default = {SiteStatus.DOWN: ApStatus.DOWN, SiteStatus.UP: ApStatus.UP}.get(status, ApStatus.UP)
    ap_status = ap_status or {}
    aps = []
    for a in site.aps:
        st = ap_status.get(a.id, default)
        aps.append(ap_view(site, a.id, st, ap_since if ap_since is not None else since,
                           reason=Reason.TIMEOUT if st == ApStatus.DOWN else None,
                           clients=(clients or {}).get(a.id), polled=polled))
    up = UplinkView(site.uplink.id, uplink, 0.01) if site.uplink and uplink else None
    return SiteView(site, status, since, reason, in_service, up, tuple(aps))


def snapshot(*views: SiteView, at: float = T0) -> Snapshot:
    return Snapshot(taken_at=at, sites=tuple(views), first_probe_round_done=True)


def settings(**overrides: Any) -> AlertingSettings:
    doc: dict[str, Any] = {
        "channels": {
            "hook": {"type": "webhook", "url": "http://127.0.0.1:1/hook"},
            "chat": {"type": "webhook", "url": "http://127.0.0.1:1/chat"},
            "phone": {"type": "webhook", "url": "http://127.0.0.1:1/phone"},
            "mail": {"type": "webhook", "url": "http://127.0.0.1:1/mail"},
        },
        "routes": [
            {"severity": "critical", "channels": ["hook"], "escalate": ["phone", "mail"], "escalate_after": 300},
            {"severity": "warning", "channels": ["chat"]},
        ],
        "repeat_interval": 3600,
    }
    doc.update(overrides)
    return AlertingSettings.model_validate(doc)


# -- a recording HTTP receiver ---------------------------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 (free port) recording requests. ``respond(request) -> (status, body)``
    decides each answer (default 200 with ``{"ok": true}``)."""

    respond: Callable[[Recorded], tuple[int, bytes]] = lambda r: (200, b'{"ok": true}')
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                rec = Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body, 0,
                               time.time())
                status, reply = receiver.respond(rec)
                rec.status = status
                with receiver.lock:
                    receiver.requests.append(rec)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the default 5 drops SYNs of concurrent deliveries: a 1 s stall each

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def received(self, status: int | None = 200) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if status is None or r.status == status]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


async def until(what: str, check: Callable[[], Any], timeout: float, every: float = 0.05) -> Any:
    """``wait_for`` for async tests: polls ``check`` (in a thread: it may read a store) without blocking the loop."""
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(every)
