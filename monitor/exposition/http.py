"""The service's HTTP face: /metrics, /healthz, /readyz and a JSON status for ``wifimon status``.

A deliberately small HTTP/1.1 server on asyncio streams: four read-only routes do not need a
framework. /metrics is rendered on a thread of its own (not the pool that database reads and other work
share, so a hung database cannot stall a scrape), one rendering at a time: scrapes that arrive while one
runs get its result. Every connection has a deadline to read its request and one to take the response;
a client that does not read is cut off, so slow or stuck clients cannot pile up.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from monitor.exposition.snapshot import Snapshot

log = logging.getLogger(__name__)

READ_TIMEOUT = 10.0
WRITE_TIMEOUT = 10.0  # seconds a client has to take a response (17 MB of metrics at 10,000 APs: ~2 MB/s)
MAX_BODY = 64 * 1024  # POST bodies are small JSON documents (an ack)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 413: "Payload Too Large", 503: "Service Unavailable"}

# A POST route: (lower-cased headers, body) → response. Each handler does its own authentication.
PostHandler = Callable[[dict[str, str], bytes], Awaitable[Response]]


def status_document(snap: Snapshot) -> dict[str, object]:
    """The JSON behind ``wifimon status``: every site and AP with state, since, clients, last poll."""
    return {
        "taken_at": snap.taken_at,
        "sites": [
            {
                "id": s.site.id, "name": s.site.name, "category": s.site.category, "state": s.status.value,
                "since": s.since, "reason": s.reason.value if s.reason else None, "in_service": s.in_service,
                "aps": [
                    {"id": a.ap, "state": a.status.value, "since": a.since,
                     "reason": a.reason.value if a.reason else None, "clients": a.client_total if a.status == "up" else None,
                     "last_poll": a.last_poll_at, "last_success": a.last_success_at, "profile": a.profile}
                    for a in s.aps
                ],
            }
            for s in snap.sites
        ],
    }


class HttpServer:
    def __init__(self, registry: CollectorRegistry, snapshot: Callable[[], Snapshot],
                 ready: Callable[[], Awaitable[tuple[bool, str]]], posts: dict[str, PostHandler] | None = None,
                 write_timeout: float = WRITE_TIMEOUT):
        self._registry = registry
        self._posts = dict(posts or {})
        self._snapshot = snapshot
        self._ready = ready
        self._server: asyncio.Server | None = None
        self._write_timeout = write_timeout
        self._render_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics-render")
        self._rendering: asyncio.Future[bytes] | None = None

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._handle, host, port)
        return self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()
        self._render_thread.shutdown(wait=False, cancel_futures=True)

    async def _metrics(self) -> bytes:
        """The exposition text, rendered on the metrics thread; concurrent scrapes share one rendering."""
        if self._rendering is None:
            loop = asyncio.get_running_loop()
            self._rendering = asyncio.ensure_future(
                loop.run_in_executor(self._render_thread, generate_latest, self._registry))
            self._rendering.add_done_callback(lambda f: setattr(self, "_rendering", None))
        return await asyncio.shield(self._rendering)

    async def _route(self, method: str, path: str, headers: dict[str, str] | None = None,
                     body: bytes = b"") -> Response:
        path = path.split("?", 1)[0]
        if method == "POST" and path in self._posts:
            return await self._posts[path](headers or {}, body)
        if method != "GET":
            return Response(405, b"only GET\n")
        if path == "/metrics":
            return Response(200, await self._metrics(), CONTENT_TYPE_LATEST)
        if path == "/healthz":
            return Response(200, b"ok\n")
        if path == "/readyz":
            ok, why = await self._ready()
            return Response(200 if ok else 503, (why + "\n").encode())
        if path == "/api/status":
            body = json.dumps(status_document(self._snapshot()), ensure_ascii=False).encode()
            return Response(200, body, "application/json")
        return Response(404, b"not found\n")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
            first, *lines = head.decode("latin-1").split("\r\n")
            method, path, _ = first.split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines if ln)}
            length = int(headers.get("content-length") or 0)
            if length > MAX_BODY:
                resp = Response(413, b"body too large\n")
            else:
                body = await asyncio.wait_for(reader.readexactly(length), READ_TIMEOUT) if length else b""
                resp = await self._route(method, path, headers, body)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            resp = Response(400, b"bad request\n")
        except Exception:
            log.exception("http_handler_failed")
            resp = Response(503, b"internal error\n")
        try:
            writer.write(
                f"HTTP/1.1 {resp.status} {_REASONS.get(resp.status, '')}\r\nContent-Type: {resp.content_type}\r\n"
                f"Content-Length: {len(resp.body)}\r\nConnection: close\r\n\r\n".encode())
            writer.write(resp.body)
            await asyncio.wait_for(writer.drain(), self._write_timeout)
        except TimeoutError:
            log.debug("http_write_timeout peer=%s waited=%.0fs", writer.get_extra_info("peername"),
                      self._write_timeout)
            writer.transport.abort()  # it does not read: drop what is buffered for it
        except ConnectionError:
            pass
        finally:
            writer.close()
