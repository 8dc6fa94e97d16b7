"""What the poller knows about one device besides its state: probe counts, uptime and reboots, the last
poll's figures and the monotonic octet totals.

The ``fold_*`` functions fold one outcome into a :class:`DeviceData` and return the events it revealed
(a reboot, a counter reset) instead of sending them anywhere: the caller hands them to its sink. No I/O;
time comes from the outcome itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from collectors.types import ClientCount, InterfaceCounters, LteSignal, PollResult, ProbeResult, RadioStats
from monitor.domain.counters import Uptime, advance_uptime, counter_delta
from monitor.domain.vocabulary import Event, EventKind

log = logging.getLogger(__name__)

# What an interface that does not say its speed (no ifHighSpeed/ifSpeed, or 0) is assumed to carry at most:
# 10 Gbit/s. Anything faster between two polls is a counter reset.
MAX_BYTES_PER_SECOND = 1.25e9


@dataclass
class DeviceData:
    """Readings of one device, owned and mutated by the poller alone."""

    profile: str
    model: str = ""
    probes: int = 0
    probe_failures: int = 0
    probe_duration: float | None = None
    uptime: Uptime | None = None
    reboots: int = 0
    last_poll_at: float | None = None
    clients: tuple[ClientCount, ...] = ()
    radios: tuple[RadioStats, ...] = ()
    cpu_ratio: float | None = None
    memory_ratio: float | None = None
    lte: LteSignal | None = None
    rx_total: int | None = None
    tx_total: int | None = None
    raw: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    counters_reboots: int = 0  # ``reboots`` when the octet counters were last taken
    counters_at: float | None = None


def fold_uptime(data: DeviceData, device: str, site: str, ticks: int, window: tuple[float, float]) -> list[Event]:
    """Take ``ticks``, read by the agent between ``window``'s (sent, answered) times; a reboot is counted
    and returned as an event (``monitor.domain.counters.advance_uptime`` judges it)."""
    sent, answered = window
    data.uptime, rebooted = advance_uptime(data.uptime, ticks, answered, answered - sent)
    if not rebooted:
        return []
    data.reboots += 1
    log.info("device_rebooted device=%s uptime=%.0fs", device, data.uptime.seconds)
    return [Event(EventKind.REBOOT, device, site, data.uptime.boot_at, f"uptime back to {data.uptime.seconds:.0f} s")]


def _uptime_window(result: ProbeResult | PollResult) -> tuple[float, float]:
    """When the agent read the result's uptime: its request's window, else the whole exchange's."""
    return result.uptime_window or (result.started_at, result.started_at + result.duration)


def fold_probe(data: DeviceData, device: str, site: str, result: ProbeResult) -> list[Event]:
    """Count one probe and take its sysUpTime when it has one."""
    data.probes += 1
    data.probe_duration = result.duration
    if not result.ok:
        data.probe_failures += 1
        return []
    if result.uptime_ticks is None:
        return []
    return fold_uptime(data, device, site, result.uptime_ticks, _uptime_window(result))


def fold_poll(data: DeviceData, device: str, site: str, result: PollResult, uplink: Sequence[str] | None,
              own_clients: bool) -> tuple[int, int, list[Event]]:
    """Take a successful full poll: (bytes received, bytes sent since the last poll, events found).

    ``uplink`` is the profile's pattern for the uplink interfaces (None: the profile reads no
    interfaces); ``own_clients`` is False when another source (the AP's controller) counts its clients.
    """
    at = result.started_at + result.duration
    events: list[Event] = []
    if result.uptime_ticks is not None:
        events += fold_uptime(data, device, site, result.uptime_ticks, _uptime_window(result))
    data.last_poll_at = at
    if own_clients:  # the controller's counts win: one source per AP, never both added
        data.clients = result.clients
    data.radios = result.radios
    data.cpu_ratio = result.cpu_ratio
    data.memory_ratio = result.memory_ratio
    data.lte = result.lte
    if not data.model and result.sys_descr:
        data.model = result.sys_descr.split()[0][:40]
    rx = tx = 0
    if uplink is not None and result.interfaces:
        rx, tx, found = fold_traffic(data, device, site, uplink, result.interfaces, at)
        events += found
    return rx, tx, events


def uplink_interfaces(patterns: Sequence[str], interfaces: Sequence[InterfaceCounters]) -> list[InterfaceCounters]:
    """The interfaces matching the first pattern that matches any; none matching: all but loopback."""
    for pattern in patterns:
        chosen = [i for i in interfaces if re.search(pattern, i.name)]
        if chosen:
            return chosen
    return [i for i in interfaces if i.name != "lo"]


def fold_traffic(data: DeviceData, device: str, site: str, uplink: Sequence[str],
                 interfaces: Sequence[InterfaceCounters], at: float) -> tuple[int, int, list[Event]]:
    """Fold the uplink interfaces' octet counters into the monotonic totals; the bytes since last time."""
    chosen = uplink_interfaces(uplink, interfaces)
    rebooted = data.counters_at is not None and data.reboots != data.counters_reboots
    elapsed = at - data.counters_at if data.counters_at else 0.0
    rx_sum = tx_sum = 0
    reset = False
    for iface in chosen:
        prev_rx, prev_tx = data.raw.get(iface.index, (None, None))
        capacity = iface.speed_bps / 8 if iface.speed_bps else MAX_BYTES_PER_SECOND
        if iface.in_octets is not None:
            d, r = counter_delta(prev_rx, iface.in_octets, iface.counter_bits, elapsed, rebooted, capacity)
            rx_sum, reset = rx_sum + d, reset or r
        if iface.out_octets is not None:
            d, r = counter_delta(prev_tx, iface.out_octets, iface.counter_bits, elapsed, rebooted, capacity)
            tx_sum, reset = tx_sum + d, reset or r
        data.raw[iface.index] = (iface.in_octets, iface.out_octets)
    events = [Event(EventKind.COUNTER_RESET, device, site, at, "octet counter discontinuity")] if reset else []
    # A device that names its interfaces but gives no octets has no total: unknown, not 0 bytes.
    if any(i.in_octets is not None for i in chosen):
        data.rx_total = (data.rx_total or 0) + rx_sum
    if any(i.out_octets is not None for i in chosen):
        data.tx_total = (data.tx_total or 0) + tx_sum
    data.counters_reboots, data.counters_at = data.reboots, at
    return rx_sum, tx_sum, events


def fold_controller_row(data: DeviceData, device: str, site: str, clients: tuple[ClientCount, ...],
                        uptime_ticks: int | None, window: tuple[float, float]) -> list[Event]:
    """Take what a controller's AP table says about a listed AP: its clients and, if given, its uptime
    (read somewhere within ``window``, the controller poll's (start, end))."""
    data.clients, data.last_poll_at = clients, window[1]
    if uptime_ticks is None:
        return []
    return fold_uptime(data, device, site, uptime_ticks, window)
