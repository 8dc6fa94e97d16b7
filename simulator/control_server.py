"""The fleet's control API: a tiny HTTP/1.1 server on asyncio streams (one request per connection).

``POST /faults``  body ``{"target": "<site-or-device-id>", "fault": "down|up|slow[:S]|reboot|garbage|loss[:P]"}``
                  → 200 ``{"target", "fault", "affected": [device ids]}``; 404 unknown id; 400 bad fault or body
``GET /faults``   → 200 ``{"faults": {device id: ["down", "slow:1.5", ...]}}``
``GET /healthz``  → 200 ``{"status": "ok", "agents": N, "requests": datagrams in, "replies": datagrams out}``
"""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus
from typing import Any, Protocol

from simulator.faults import Fault, FaultError, UnknownTarget, parse_fault


class Fleet(Protocol):
    """What the control API needs of the fleet it controls."""

    def __len__(self) -> int: ...
    def traffic(self) -> tuple[int, int]: ...
    def active_faults(self) -> dict[str, list[str]]: ...
    def apply_fault(self, target: str, fault: str | Fault) -> list[str]: ...


log = logging.getLogger(__name__)

READ_TIMEOUT = 5.0  # seconds for a client to send its whole request
WRITE_TIMEOUT = 5.0
MAX_BODY = 64 * 1024


async def start_control(fleet: Fleet, host: str, port: int) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _serve_one(fleet, reader, writer)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError) as exc:
            log.debug("control_connection_failed peer=%s error=%r", writer.get_extra_info("peername"), exc)
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)


async def _serve_one(fleet: Fleet, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    async with asyncio.timeout(READ_TIMEOUT):
        request_line = (await reader.readline()).decode("latin-1").strip()
        headers: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        parts = request_line.split(" ")
        length_text = headers.get("content-length", "0")
        if len(parts) != 3 or not length_text.isdigit():
            status, payload = 400, {"error": f"malformed HTTP request {request_line[:80]!r}"}
        elif int(length_text) > MAX_BODY:
            status, payload = 413, {"error": f"body larger than {MAX_BODY} bytes"}
        else:
            body = await reader.readexactly(int(length_text))
            status, payload = route(fleet, parts[0], parts[1].split("?", 1)[0], body)
    data = json.dumps(payload).encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode("latin-1") + data)
    async with asyncio.timeout(WRITE_TIMEOUT):
        await writer.drain()


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
