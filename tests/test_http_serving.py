"""How the HTTP face serves (not what /metrics says): scrapes do not wait for a busy database or a busy shared
pool, and clients that never read their response are cut off instead of piling up. Real sockets on loopback."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, Gauge

from monitor.exposition.http import HttpServer, Limits
from monitor.exposition.snapshot import EMPTY
from monitor.store import Store


async def _ready() -> tuple[bool, str]:
    return True, "ready"


def _big_registry(series: int = 40_000) -> CollectorRegistry:
    """About 3 MB of exposition text: more than the kernel buffers of a client that does not read."""
    registry = CollectorRegistry()
    gauge = Gauge("wifi_test_value", "a test series", ("site", "ap"), registry=registry)
    for i in range(series):
        gauge.labels(f"site-{i:05d}-with-a-long-name", f"ap-{i:05d}-with-a-long-name").set(i)
    return registry


async def _scrape(url: str) -> tuple[float, int]:
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(url)
    return time.monotonic() - started, len(response.content)


async def test_scrapes_answer_while_the_store_threads_and_the_shared_pool_are_stuck(tmp_path: Path) -> None:
    """Every store thread and every thread of the loop's default pool blocked (a hung database would do
    that to the store's): /metrics is rendered on a thread of its own and answers all the same."""
    store = Store(f"sqlite:///{tmp_path}/w.db")
    gate = threading.Event()
    server = HttpServer(_big_registry(2_000), lambda: EMPTY, _ready)
    port = await server.start("127.0.0.1", 0)
    loop = asyncio.get_running_loop()
    blocked = [store.call(gate.wait, 30) for _ in range(8)]
    blocked += [loop.run_in_executor(None, gate.wait, 30) for _ in range(64)]
    try:
        took, size = await asyncio.wait_for(_scrape(f"http://127.0.0.1:{port}/metrics"), 10)
        assert size > 100_000 and took < 5
    finally:
        gate.set()
        await asyncio.gather(*blocked)
        await server.close()
        store.close()


async def test_clients_that_never_read_are_cut_off_and_do_not_slow_other_scrapes() -> None:
    """200 connections ask for /metrics (~3 MB) and never read a byte. A normal scrape beside them takes about
    as long as alone; each stuck connection is closed by the server after the write timeout."""
    server = HttpServer(_big_registry(), lambda: EMPTY, _ready, limits=Limits(io_timeout=2.0))
    port = await server.start("127.0.0.1", 0)
    url = f"http://127.0.0.1:{port}/metrics"
    stuck: list[socket.socket] = []
    try:
        alone, size = await _scrape(url)
        assert size > 2_000_000
        for _ in range(200):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.setblocking(False)
            await loop_connect(s, port)
            s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            stuck.append(s)
        opened = time.monotonic()
        beside = [await _scrape(url) for _ in range(3)]
        assert all(n == size for _, n in beside)
        assert max(t for t, _ in beside) < max(2.0, 5 * alone), (alone, beside)

        # The write timeout is what is tested: let it pass (twice over) for the last stuck client, then read
        # what each got. Cut off, it ends short of the response; not cut off, it would read all of it.
        await asyncio.sleep(max(0.0, opened + 4.0 - time.monotonic()))

        def received(s: socket.socket) -> int:
            s.setblocking(True)
            s.settimeout(10)
            total = 0
            try:
                while chunk := s.recv(1 << 20):
                    total += len(chunk)
            except ConnectionResetError:
                pass
            return total

        got = await asyncio.to_thread(lambda: [received(s) for s in stuck])
        assert max(got) < size, f"a client that did not read got the whole response ({max(got)} bytes)"
    finally:
        for s in stuck:
            s.close()
        await server.close()


async def loop_connect(s: socket.socket, port: int) -> None:
    await asyncio.get_running_loop().sock_connect(s, ("127.0.0.1", port))
