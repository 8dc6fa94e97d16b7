"""The fleet's control API, served by aiohttp (the same HTTP library as the monitor's own face).

``POST /faults``  body ``{"target": "<site-or-device-id>", "fault": "down|up|slow[:S]|reboot|garbage|loss[:P]"}``
                  → 200 ``{"target", "fault", "affected": [device ids]}``; 404 unknown id; 400 bad fault or body
``GET /faults``   → 200 ``{"faults": {device id: ["down", "slow:1.5", ...]}}``
``GET /healthz``  → 200 ``{"status": "ok", "agents": N, "requests": datagrams in, "replies": datagrams out}``
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from aiohttp import web

from simulator.faults import Fault, FaultError, UnknownTarget, parse_fault


class Fleet(Protocol):
    """What the control API needs of the fleet it controls."""

    def __len__(self) -> int: ...
    def traffic(self) -> tuple[int, int]: ...
    def active_faults(self) -> dict[str, list[str]]: ...
    def apply_fault(self, target: str, fault: str | Fault) -> list[str]: ...


log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


class ControlServer:
    """The running control API: where it listens, and how to stop it."""

    def __init__(self, runner: web.AppRunner, address: tuple[str, int]) -> None:
        self._runner = runner
        self.address = address

    async def close(self) -> None:
        await self._runner.cleanup()


async def start_control(fleet: Fleet, host: str, port: int) -> ControlServer:
    """Serve the control API on host:port (0: any free port); OSError when it cannot bind."""

    async def handle(request: web.Request) -> web.Response:
        body = await request.read() if request.method == "POST" else b""
        status, payload = route(fleet, request.method, request.path, body)
        return web.json_response(payload, status=status)

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    bound = runner.addresses[0]  # the port the kernel chose when asked for 0
    return ControlServer(runner, (bound[0], bound[1]))


def route(fleet: Fleet, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """(status, JSON payload) for one request; no I/O."""
    if path == "/healthz":
        if method != "GET":
            return 405, {"error": f"{method} not allowed on {path}; use GET"}
        requests, replies = fleet.traffic()
        return 200, {"status": "ok", "agents": len(fleet), "requests": requests, "replies": replies}
    if path != "/faults":
        return 404, {"error": f"no such path {path!r}; try POST /faults, GET /faults, GET /healthz"}
    if method == "GET":
        return 200, {"faults": fleet.active_faults()}
    if method != "POST":
        return 405, {"error": f"{method} not allowed on {path}; use GET or POST"}
    try:
        request = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        return 400, {"error": f"body is not JSON: {exc}"}
    if (
        not isinstance(request, dict)
        or not isinstance(request.get("target"), str)
        or not isinstance(request.get("fault"), str)
    ):
        return 400, {"error": 'body must be {"target": "<site-or-device-id>", "fault": "<fault>"}'}
    try:
        affected = fleet.apply_fault(request["target"], request["fault"])
    except UnknownTarget as exc:
        return 404, {"error": str(exc)}
    except FaultError as exc:
        return 400, {"error": str(exc)}
    return 200, {"target": request["target"], "fault": str(parse_fault(request["fault"])), "affected": affected}
