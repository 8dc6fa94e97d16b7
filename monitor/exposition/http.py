"""The service's HTTP face: /metrics, /healthz, /readyz and a JSON status for ``wifimon status``.

Served by aiohttp: TLS (with client certificates) and basic auth from an exporter-toolkit web config
(:mod:`monitor.exposition.web_config`), gzip and OpenMetrics negotiation on /metrics as prometheus_client
does, and limits (see ``LIMITS``). The routes are one function of (method, path, headers, body), so the
server underneath is a detail. /metrics is rendered on a thread of its own (not the pool that database
reads share, so a hung database cannot stall a scrape), one rendering per format at a time: scrapes that
arrive while one runs get its result. The fleet's part comes from ``monitor.exposition.rendering``, made
once per snapshot (and compressed once when gzip is asked) and kept; only the registry's own metrics are
rendered (and compressed) per scrape. A client has a deadline to send its request body and another to
take the response, so one that does not read is cut off and slow clients cannot pile up.
/healthz is always open (the container's HEALTHCHECK); ``POST /api/ack`` carries its own bearer token;
everything else needs a user of the web config when it names any.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import gzip
import json
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from monitor.exposition.rendering import FleetExposition, gzip_body
from monitor.exposition.snapshot import Snapshot
from monitor.exposition.web_config import PLAIN, PasswordCheck, WebConfig

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # POST bodies are small JSON documents (an ack)


@dataclass(frozen=True)
class Limits:
    """What one client may take of the HTTP face (figures in the README)."""

    max_body: int = MAX_BODY  # bytes of a request body (413 beyond)
    max_header_line: int = 8190  # bytes of the request line or one header (400 beyond)
    max_headers: int = 100  # header fields per request
    idle_timeout: float = 15.0  # seconds a kept-alive connection may sit idle before it is closed
    io_timeout: float = 10.0  # seconds a client has to send its body, and again to take the answer (then it is cut)
    concurrent_requests: int = 256  # requests in progress at once (503 beyond)


LIMITS = Limits()
OPEN_PATHS = frozenset({"/healthz"})


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    content_encoding: str | None = None  # "gzip" when the body is already compressed


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
                 web_config: WebConfig = PLAIN, limits: Limits = LIMITS, public: Callable[[], str] | None = None,
                 fleet: FleetExposition | None = None):
        self._registry = registry
        self._fleet = fleet  # the fleet's metrics, kept per snapshot; None: the registry has all there is
        self._posts = dict(posts or {})
        self._snapshot = snapshot
        self._ready = ready
        self._web = web_config
        self._passwords = PasswordCheck(web_config.users)
        self._limits = limits
        self._public = public  # the /public page's renderer; None: no such page
        self._open_paths = OPEN_PATHS | ({"/public"} if public else set())
        self._in_flight = 0
        self._runner: web.AppRunner | None = None
        self._render_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics-render")
        self._rendering: dict[str, asyncio.Future[bytes]] = {}  # content type → the rendering under way

    @property
    def scheme(self) -> str:
        return "https" if self._web.ssl else "http"

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (0: any free port) and return the port; OSError when it cannot bind."""
        app = web.Application(client_max_size=self._limits.max_body, handler_args={
            "max_line_size": self._limits.max_header_line, "max_field_size": self._limits.max_header_line,
            "max_headers": self._limits.max_headers, "keepalive_timeout": self._limits.idle_timeout,
        })
        app.router.add_route("*", "/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=self._web.ssl)
        try:
            await site.start()
        except OSError:
            await self.close()
            raise
        return int(self._runner.addresses[0][1])

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._render_thread.shutdown(wait=False, cancel_futures=True)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        if self._in_flight >= self._limits.concurrent_requests:
            return self._plain(Response(503, b"busy: too many requests in progress\n"))
        self._in_flight += 1
        try:
            denied = await self._authorise(request)
            if denied is not None:
                return denied
            async with asyncio.timeout(self._limits.io_timeout):  # the client's part: send its body…
                body = await request.read() if request.method == "POST" else b""
            headers = {k.lower(): v for k, v in request.headers.items()}
            resp = await self._route(request.method, request.path, headers, body)
            async with asyncio.timeout(self._limits.io_timeout):  # …and take the answer
                return await self._send(request, resp)
        except web.HTTPException as exc:  # aiohttp's own refusals (413 body too large, …)
            return self._plain(Response(exc.status, f"{exc.reason.lower()}\n".encode()))
        except (TimeoutError, ConnectionError) as exc:  # a client too slow to take its answer, or gone
            log.debug("http_client_cut path=%s peer=%s why=%s", request.path, request.remote, type(exc).__name__)
            if request.transport is not None:
                request.transport.abort()  # drop what is buffered for it: a close would still flush it all
            raise asyncio.CancelledError from None  # aiohttp ends the request without an error line
        except Exception:
            log.exception("http_handler_failed path=%s", request.path)
            return self._plain(Response(503, b"internal error\n"))
        finally:
            self._in_flight -= 1

    async def _authorise(self, request: web.Request) -> web.Response | None:
        """None when the request may go on; else the 401 to send (nothing in it says why)."""
        if not self._web.auth_required or request.path in self._open_paths or (
                request.method == "POST" and request.path in self._posts):
            return None  # POST routes (the ack) check their own bearer token
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        user = password = ""
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user = ""
        if user and (self._passwords.remembered(user, password)
                     or await asyncio.to_thread(self._passwords.verify, user, password)):
            return None
        resp = self._plain(Response(401, b"unauthorized\n"))
        resp.headers["WWW-Authenticate"] = 'Basic realm="wifimon", charset="UTF-8"'
        return resp

    def _plain(self, resp: Response) -> web.Response:
        out = web.Response(status=resp.status, body=resp.body, headers=self._web.headers)
        out.headers["Content-Type"] = resp.content_type
        return out

    async def _send(self, request: web.Request, resp: Response) -> web.StreamResponse:
        """Write the response here, under the I/O deadline, so a client that stops reading is cut."""
        out = web.StreamResponse(status=resp.status, headers=self._web.headers)
        out.headers["Content-Type"] = resp.content_type
        if resp.content_encoding:
            out.headers["Content-Encoding"] = resp.content_encoding
        out.content_length = len(resp.body)
        await out.prepare(request)
        await out.write(resp.body)
        await out.write_eof()
        return out

    async def _metrics(self, encoder: Callable[[CollectorRegistry], bytes], content_type: str, gzipped: bool) -> bytes:
        """The exposition text (gzipped when asked), made on the metrics thread — compression too, so no other
        pool is involved; concurrent scrapes of one format share one rendering."""
        key = f"{content_type};gzip={gzipped}"
        rendering = self._rendering.get(key)
        if rendering is None:
            def render() -> bytes:
                text = encoder(self._registry)
                if self._fleet is None:
                    return gzip.compress(text, compresslevel=6) if gzipped else text
                # The fleet first: its kept deflate stream starts the gzip member; OpenMetrics' "# EOF" stays last.
                fleet = self._fleet.exposition(content_type.startswith("application/openmetrics-text"), gzipped)
                return gzip_body(fleet, text) if gzipped else fleet.text + text

            loop = asyncio.get_running_loop()
            rendering = asyncio.ensure_future(loop.run_in_executor(self._render_thread, render))
            self._rendering[key] = rendering
            rendering.add_done_callback(lambda _: self._rendering.pop(key, None))
        return await asyncio.shield(rendering)

    async def _route(self, method: str, path: str, headers: dict[str, str] | None = None,
                     body: bytes = b"") -> Response:
        path = path.split("?", 1)[0]
        if method == "POST" and path in self._posts:
            return await self._posts[path](headers or {}, body)
        if method != "GET":
            return Response(405, b"only GET\n")
        if path == "/metrics":
            encoder, content_type = choose_encoder((headers or {}).get("accept", ""))
            gzipped = "gzip" in (headers or {}).get("accept-encoding", "")
            body = await self._metrics(encoder, content_type, gzipped)
            return Response(200, body, content_type, "gzip" if gzipped else None)
        if path == "/healthz":
            return Response(200, b"ok\n")
        if path == "/public" and self._public is not None:
            return Response(200, self._public().encode(), "text/html; charset=utf-8")
        if path == "/readyz":
            ok, why = await self._ready()
            return Response(200 if ok else 503, (why + "\n").encode())
        if path == "/api/status":
            body = json.dumps(status_document(self._snapshot()), ensure_ascii=False).encode()
            return Response(200, body, "application/json")
        return Response(404, b"not found\n")
