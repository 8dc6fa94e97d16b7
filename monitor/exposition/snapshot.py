"""An immutable picture of the fleet, swapped atomically; scrapes only read it.

The poller rebuilds only the views of the sites that changed since the last snapshot: a site whose view is
the same object in two snapshots has not changed between them (the exposition keeps its rendered lines on
that). ``version`` counts the snapshots one poller published.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.types import ClientCount, LteSignal, RadioStats
from monitor.domain.clients import device_total
from monitor.config.model import Site
from monitor.domain.vocabulary import ApStatus, Reason, SiteStatus


@dataclass(frozen=True)
class ApView:
    ap: str
    site: str
    address: str
    profile: str
    model: str
    status: ApStatus
    since: float | None
    reason: Reason | None
    probe_duration: float | None
    last_success_at: float | None
    probes: int
    probe_failures: int
    uptime_seconds: float | None = None  # as read at ``uptime_at``; ``uptime(now)`` carries it forward
    uptime_at: float | None = None  # when the reading was taken; None: ``uptime_seconds`` is already current
    clients: tuple[ClientCount, ...] = ()
    rx_bytes: int | None = None  # monotonic totals since the monitor started
    tx_bytes: int | None = None
    reboots: int = 0
    cpu_ratio: float | None = None
    memory_ratio: float | None = None
    radios: tuple[RadioStats, ...] = ()
    last_poll_at: float | None = None

    def uptime(self, now: float) -> float | None:
        """The device's uptime at ``now``: the last reading carried forward by the clock (it is not re-read)."""
        if self.uptime_seconds is None or self.uptime_at is None:
            return self.uptime_seconds
        return self.uptime_seconds + (now - self.uptime_at)

    @property
    def client_total(self) -> int | None:
        """Stations on this AP, counted once: the sum at one level (``monitor.domain.clients.device_total``);
        None when the AP reported no counts (unknown, not zero)."""
        total = device_total(self.clients)
        return total[0] if total else None

    @property
    def client_level(self) -> str | None:
        """The level ``client_total`` was summed at; None when the AP reported no counts."""
        total = device_total(self.clients)
        return total[1] if total else None


@dataclass(frozen=True)
class UplinkView:
    device: str
    status: ApStatus
    probe_duration: float | None
    lte: LteSignal | None = None  # where the router's profile reads its modem


@dataclass(frozen=True)
class SiteView:
    site: Site
    status: SiteStatus
    since: float | None
    reason: Reason | None
    in_service: bool
    uplink: UplinkView | None
    aps: tuple[ApView, ...]
    availability_month_to_date: float | None = None


@dataclass(frozen=True)
class ControllerView:
    """A wireless controller as its last poll saw it. ``table_lost_since``: its AP table is lost (see
    ``monitor.polling.controller.table_lost``), with the last good and the current row counts;
    ``failing_since``: it does not answer."""

    controller: str
    table_lost_since: float | None = None
    rows_before: int | None = None
    rows_now: int | None = None
    aps: tuple[str, ...] = ()  # the APs watched through it
    failing_since: float | None = None  # its polls fail (no answer) since then
    error: str = ""
    answered: bool | None = None  # its last poll was answered (None: not polled yet)
    clients: int | None = None  # its own client total from that poll
    joined: int | None = None  # APs its table listed as not down


@dataclass(frozen=True)
class Snapshot:
    taken_at: float
    sites: tuple[SiteView, ...]
    first_probe_round_done: bool = False
    controllers: tuple[ControllerView, ...] = ()
    version: int = 0

    @property
    def aps(self) -> tuple[ApView, ...]:
        return tuple(ap for s in self.sites for ap in s.aps)


EMPTY = Snapshot(taken_at=0.0, sites=())
