"""Traps in the running service: who sent it (an AP or a site's uplink), an immediate re-probe of that
device, a count by result and a log line.

A trap is a hint, not evidence: it never marks a device down by itself. It makes the poller probe the
device at once instead of at its next turn, so the usual confirmation (consecutive failed probes with
fast re-checks) starts within a second of the trap rather than up to a probe interval later.

A storm or a flood must not flood the log: a received trap is logged at most once per source, and a drop
at most once per reason, every ``LOG_EVERY`` seconds; the next line says how many were held back. The
counters (``wifimon_traps_received_total{result}``) count every one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from collectors.profile import Profile
from collectors.traps import DropReason, DroppedTrap, TrapEvent, TrapReceiver, TrapReceiverError, trap_catalog
from monitor.config.load import ConfigError, LoadedConfig
from monitor.config.model import Device
from monitor.config.types import split_listen
from monitor.exposition.metrics import ServiceMetrics

log = logging.getLogger(__name__)

ACCEPTED = "accepted"  # a recognised trap from a known device: re-probed
UNRECOGNISED = "unrecognised"  # authentic, from a known device, but an OID no profile lists: logged only
RESULTS = (ACCEPTED, UNRECOGNISED, *(r.value for r in DropReason))
RESOLVE_TIMEOUT = 5.0  # seconds per device host name (addresses are usually IPs: no lookup)
RESOLVE_CONCURRENCY = 20
LOG_EVERY = 10.0  # seconds between two log lines of one kind (per source for traps, per reason for drops)
_THROTTLE_KEYS = 1000  # kinds remembered; the least recently logged are forgotten


class _Throttle:
    """At most one log line per key every ``every`` seconds."""

    def __init__(self, every: float, clock: Callable[[], float] = time.monotonic):
        self._every = every
        self._clock = clock
        self._last: OrderedDict[str, tuple[float, int]] = OrderedDict()  # key → (last line at, held back since)

    def allow(self, key: str) -> int | None:
        """None: hold this line back; else how many lines of ``key`` were held back since the last one."""
        now = self._clock()
        at, held = self._last.get(key, (-self._every, 0))
        if now - at < self._every:
            self._last[key] = (at, held + 1)
            return None
        self._last[key] = (now, 0)
        self._last.move_to_end(key)
        if len(self._last) > _THROTTLE_KEYS:
            self._last.popitem(last=False)
        return held


class TrapHandler:
    """Turns receiver callbacks into re-probes, metrics and logs. Runs on the event loop."""

    def __init__(self, devices_by_host: dict[str, tuple[str, ...]], probe_now: Callable[[str], Awaitable[None]],
                 count: Callable[[str], None]):
        self._devices = devices_by_host
        self._probe_now = probe_now
        self._count = count
        self._probes: dict[str, asyncio.Task[None]] = {}
        self._throttle = _Throttle(LOG_EVERY)

    def on_trap(self, event: TrapEvent) -> None:
        devices = self._devices.get(event.source_host, ())
        if not event.recognised:
            self._count(UNRECOGNISED)
            log.debug("trap_unrecognised device=%s trap=%s source=%s:%d", ",".join(devices), event.trap_oid,
                      event.source_host, event.source_port)
            return
        self._count(ACCEPTED)
        held = self._throttle.allow(f"trap {event.source_host}")
        if held is not None:
            log.info("trap_received device=%s trap=%s means=%s oid=%s source=%s:%d by=%s held_back=%d",
                     ",".join(devices), event.name, event.means, event.trap_oid, event.source_host,
                     event.source_port, event.community_or_user, held)
        for device in devices:
            if device in self._probes:  # a trap storm makes one re-probe at a time, not one per trap
                continue
            task = asyncio.get_running_loop().create_task(self._probe(device), name=f"trap-probe-{device}")
            self._probes[device] = task

    async def _probe(self, device: str) -> None:
        try:
            await self._probe_now(device)
        except Exception:  # a failed re-probe must not be lost silently, nor end the receiver
            log.exception("trap_probe_failed device=%s", device)
        finally:
            self._probes.pop(device, None)

    def on_drop(self, drop: DroppedTrap) -> None:
        self._count(drop.reason.value)
        # A drop is worth a warning (a misconfigured device or receiver, or an attack); its repeats are not:
        # the counter is the signal.
        held = self._throttle.allow(f"drop {drop.reason.value}")
        if held is not None:
            log.warning("trap_dropped reason=%s source=%s:%d detail=%s held_back=%d", drop.reason.value,
                        drop.source_host, drop.source_port, drop.detail, held)

    async def close(self) -> None:
        tasks = list(self._probes.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _resolve(host: str) -> list[str]:
    try:
        return [str(ipaddress.IPv4Address(host))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(loop.getaddrinfo(host, None, family=socket.AF_INET, type=socket.SOCK_DGRAM),
                                   RESOLVE_TIMEOUT)
    return sorted({str(info[4][0]) for info in infos})


async def devices_by_host(loaded: LoadedConfig) -> dict[str, tuple[str, ...]]:
    """Source IP → the ids of the devices (APs, uplinks) at that address, from the inventory."""
    devices = [d for site in loaded.config.sites for d in (*site.aps, *((site.uplink,) if site.uplink else ()))]
    gate = asyncio.Semaphore(RESOLVE_CONCURRENCY)

    async def resolve(device: Device) -> list[str]:
        host, _ = device.host_port
        async with gate:
            try:
                return await _resolve(host)
            except (OSError, TimeoutError) as exc:
                log.warning("trap_source_unresolved device=%s host=%s waited=%.0fs error=%s; its traps will count"
                            " as unknown_source", device.id, host, RESOLVE_TIMEOUT, str(exc) or type(exc).__name__)
                return []

    out: dict[str, list[str]] = {}
    for device, addresses in zip(devices, await asyncio.gather(*(resolve(d) for d in devices)), strict=True):
        for address in addresses:
            out.setdefault(address, []).append(device.id)
    return {k: tuple(v) for k, v in out.items()}


class TrapService:
    """The receiver and its handler, started and stopped together."""

    def __init__(self, receiver: TrapReceiver, handler: TrapHandler):
        self.receiver = receiver
        self.handler = handler

    async def close(self) -> None:
        await self.receiver.close()
        await self.handler.close()


async def start_traps(loaded: LoadedConfig, profiles: dict[str, Profile], probe_now: Callable[[str], Awaitable[None]],
                      metrics: ServiceMetrics) -> TrapService | None:
    """Start the trap receiver the config asks for (None when it has no ``traps:`` section).

    Raises ConfigError naming ``traps.listen`` when the address cannot be bound, or the credentials
    that cannot be used.
    """
    settings = loaded.config.traps
    if settings is None:
        return None
    counter: Any = metrics.traps_received
    for result in RESULTS:  # present from the start, so rate() and alert rules see zeros
        counter.labels(result)
    by_host = await devices_by_host(loaded)
    handler = TrapHandler(by_host, probe_now, lambda result: counter.labels(result).inc())
    host, port = split_listen(settings.listen)
    try:
        catalog = trap_catalog(profiles.values())
        receiver = TrapReceiver(
            (host, port), {name: loaded.credentials[name] for name in settings.credentials}, by_host,
            catalog, handler.on_trap, handler.on_drop)
        address = await receiver.start()
    except (TrapReceiverError, ValueError) as exc:
        raise ConfigError([f"{loaded.path}: traps: {line}" for line in str(exc).splitlines()]) from None
    metrics.trap_engine_ids.set_function(lambda: receiver.engine_ids)
    log.info("traps_listening address=%s:%d devices=%d", *address, sum(len(v) for v in by_host.values()))
    return TrapService(receiver, handler)
