"""Prometheus exposition: a custom collector over the latest snapshot, plus the service's own metrics.

``collect()`` does no I/O: it turns the snapshot the poller last published into metric families.
A down AP stays in /metrics with ``wifi_ap_up 0``; it never just disappears.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from itertools import chain

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collectors.types import ErrorKind
from monitor.domain.clients import series as client_series
from monitor.domain.vocabulary import ApStatus, SiteStatus
from monitor.exposition.metric_names import METRICS
from monitor.exposition.snapshot import ApView, ControllerView, SiteView, Snapshot

_SITE_UP = {SiteStatus.UP: 1.0, SiteStatus.DEGRADED: 1.0, SiteStatus.DOWN: 0.0}
FLEET = tuple(name for name in METRICS if name.startswith("wifi_"))  # the families the snapshot gives, in order
UPTIME = "wifi_ap_uptime_seconds"  # carried forward to the snapshot's time, so never kept with a site's lines
# What every probe changes (``probe_rows``): rendered apart from the rest of a site's lines (``site_rows``),
# which change only with a state, a poll or the config.
PROBED = ("wifi_ap_probes", "wifi_ap_probe_failures", "wifi_ap_probe_duration_seconds",
          "wifi_ap_last_success_timestamp_seconds", "wifi_uplink_probe_duration_seconds")

Row = tuple[str, tuple[str, ...], float]  # family, label values in the family's label order, value


def _family(name: str, extra_labels: tuple[str, ...] | None = None) -> GaugeMetricFamily | CounterMetricFamily:
    spec = METRICS[name]
    cls = CounterMetricFamily if spec.type == "counter" else GaugeMetricFamily
    return cls(name, spec.help, labels=list(spec.labels))


def site_rows(sv: SiteView) -> Iterator[Row]:
    """Every sample of one site and its devices but what probes change (``probe_rows``) and the AP uptimes
    (``uptime_rows``): a function of the view alone."""
    s = sv.site
    sid = s.id
    yield "wifi_site_info", (sid, s.name, s.category, s.district, _coord(s.lat), _coord(s.lon), s.kind), 1.0
    yield "wifi_site_up", (sid,), _SITE_UP.get(sv.status, math.nan)
    for st in SiteStatus:
        yield "wifi_site_state", (sid, st.value), 1.0 if sv.status == st else 0.0
    if sv.since is not None:
        yield "wifi_site_state_since_timestamp_seconds", (sid,), sv.since
    yield "wifi_site_in_service", (sid,), 1.0 if sv.in_service else 0.0
    counted = [a.client_total for a in sv.aps if a.status == ApStatus.UP and a.client_total is not None]
    if counted:  # no AP's count known: no total, rather than a 0 nobody measured
        yield "wifi_site_clients", (sid,), float(sum(counted))
    yield "wifi_site_clients_uncounted_aps", (sid,), float(len(sv.aps) - len(counted))
    for ap_state in ApStatus:
        yield "wifi_site_aps", (sid, ap_state.value), float(sum(a.status == ap_state for a in sv.aps))
    if sv.availability_month_to_date is not None:
        yield "wifi_site_availability_ratio", (sid, "month_to_date"), sv.availability_month_to_date
    if sv.uplink is not None:
        u = sv.uplink
        yield "wifi_uplink_up", (sid, u.device), 1.0 if u.status == ApStatus.UP else 0.0
        if u.lte is not None and u.status == ApStatus.UP:
            for name, value in (("wifi_uplink_lte_rsrp_dbm", u.lte.rsrp_dbm), ("wifi_uplink_lte_rsrq_db", u.lte.rsrq_db),
                                ("wifi_uplink_lte_sinr_db", u.lte.sinr_db)):
                if value is not None:
                    yield name, (sid, u.device), value
    for a in sv.aps:
        yield from _ap_rows(sid, a)


def _ap_rows(sid: str, a: ApView) -> Iterator[Row]:
    key = (sid, a.ap)
    yield "wifi_ap_up", key, 1.0 if a.status == ApStatus.UP else 0.0
    for ap_state in ApStatus:
        yield "wifi_ap_state", key + (ap_state.value,), 1.0 if a.status == ap_state else 0.0
    if a.since is not None:
        yield "wifi_ap_state_since_timestamp_seconds", key, a.since
    yield "wifi_ap_info", key + (a.profile, a.model, a.address), 1.0
    yield "wifi_ap_reboots", key, float(a.reboots)
    if a.status != ApStatus.UP:
        return  # stale device readings would lie; up/state/info above still say what is known
    for labels, (count, rows) in client_series(a.clients).items():
        yield "wifi_ap_clients", key + labels, float(count)
        if rows > 1:
            yield "wifi_ap_client_rows", key + labels, float(rows)
    if a.client_level is not None and a.client_total is not None:
        yield "wifi_ap_stations", key + (a.client_level,), float(a.client_total)
    if a.rx_bytes is not None:
        yield "wifi_ap_receive_bytes", key, float(a.rx_bytes)
    if a.tx_bytes is not None:
        yield "wifi_ap_transmit_bytes", key, float(a.tx_bytes)
    if a.cpu_ratio is not None:
        yield "wifi_ap_cpu_ratio", key, a.cpu_ratio
    if a.memory_ratio is not None:
        yield "wifi_ap_memory_ratio", key, a.memory_ratio
    for r in a.radios:
        if r.utilisation_ratio is not None:
            yield "wifi_ap_radio_utilisation_ratio", key + (r.radio,), r.utilisation_ratio
        if r.channel is not None:
            yield "wifi_ap_radio_channel", key + (r.radio,), float(r.channel)
        if r.noise_dbm is not None:
            yield "wifi_ap_radio_noise_dbm", key + (r.radio,), r.noise_dbm


def probe_rows(sv: SiteView) -> Iterator[Row]:
    """The samples of the site's devices that every probe changes (``PROBED``)."""
    sid = sv.site.id
    u = sv.uplink
    if u is not None and u.probe_duration is not None:
        yield "wifi_uplink_probe_duration_seconds", (sid, u.device), u.probe_duration
    for a in sv.aps:
        key = (sid, a.ap)
        yield "wifi_ap_probes", key, float(a.probes)
        yield "wifi_ap_probe_failures", key, float(a.probe_failures)
        if a.probe_duration is not None:
            yield "wifi_ap_probe_duration_seconds", key, a.probe_duration
        if a.last_success_at is not None:
            yield "wifi_ap_last_success_timestamp_seconds", key, a.last_success_at


def uptime_rows(sv: SiteView, now: float) -> Iterator[Row]:
    """The uptimes of the site's up APs at ``now`` (the snapshot's time)."""
    for a in sv.aps:
        uptime = a.uptime(now)
        if a.status == ApStatus.UP and uptime is not None:
            yield UPTIME, (sv.site.id, a.ap), uptime


def controller_rows(controllers: Iterable[ControllerView]) -> Iterator[Row]:
    for c in controllers:
        cid = (c.controller,)
        yield "wifi_controller_up", cid, math.nan if c.answered is None else float(c.answered)
        if c.answered and c.clients is not None:
            yield "wifi_controller_clients", cid, float(c.clients)
        if c.answered and c.joined is not None:
            yield "wifi_controller_aps", cid + ("joined",), float(c.joined)
        yield "wifi_controller_aps", cid + ("expected",), float(len(c.aps))


class FleetCollector(Collector):
    """Yields the per-AP, per-site and per-controller metrics of ``current()``, the poller's latest snapshot.
    The HTTP face renders the same rows itself (``FleetExposition``); this is the registry's way to them."""

    def __init__(self, current: Callable[[], Snapshot]):
        self._current = current

    def describe(self) -> list[Metric]:
        return []  # families depend on the snapshot; an empty describe keeps registration cheap

    def collect(self) -> Iterator[Metric]:
        snap = self._current()
        f = {name: _family(name) for name in FLEET}
        for sv in snap.sites:
            for name, labels, value in chain(site_rows(sv), probe_rows(sv), uptime_rows(sv, snap.taken_at)):
                f[name].add_metric(list(labels), value)
        for name, labels, value in controller_rows(snap.controllers):
            f[name].add_metric(list(labels), value)
        yield from f.values()


def _coord(v: float | None) -> str:
    return "" if v is None else f"{v:.6f}"


class ServiceMetrics:
    """The service's own instruments, registered on one registry (a fresh one per test)."""

    def __init__(self, registry: CollectorRegistry, version: str):
        def labelled(kind: type[Any], name: str) -> Any:
            spec = METRICS[name]
            if spec.type != kind.__name__.lower():
                raise TypeError(f"{name} is a {spec.type} in metric_names, not a {kind.__name__}")
            if kind is Histogram:
                buckets = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
                return Histogram(name, spec.help, spec.labels, registry=registry, buckets=buckets)
            return kind(name, spec.help, spec.labels, registry=registry)

        def counter(name: str) -> Counter:
            made: Counter = labelled(Counter, name)
            return made

        def gauge(name: str) -> Gauge:
            made: Gauge = labelled(Gauge, name)
            return made

        def histogram(name: str) -> Histogram:
            made: Histogram = labelled(Histogram, name)
            return made

        self.round_duration = histogram("wifimon_round_duration_seconds")
        self.rounds = counter("wifimon_rounds")
        self.round_overruns = counter("wifimon_round_overruns")
        self.last_round = gauge("wifimon_last_round_timestamp_seconds")
        self.snmp_requests = counter("wifimon_snmp_requests")
        self.snmp_errors = counter("wifimon_snmp_errors")
        self.udp_rcvbuf_errors = counter("wifimon_udp_receive_buffer_errors")
        self.store_write = histogram("wifimon_store_write_seconds")
        self.store_errors = counter("wifimon_store_errors")
        self.store_queue = gauge("wifimon_store_queue_depth")
        self.store_set_aside = counter("wifimon_store_jobs_set_aside")
        self.store_dropped = counter("wifimon_store_jobs_dropped")
        self.aps_configured = gauge("wifimon_aps_configured")
        self.notifications = counter("wifimon_notifications")
        self.outbox_depth = gauge("wifimon_outbox_depth")
        self.traps_received = counter("wifimon_traps_received")
        self.trap_engine_ids = gauge("wifimon_trap_engine_ids")
        build = gauge("wifimon_build_info")
        build.labels(version).set(1)
        for r in ("probe", "metrics"):  # present from the start, so rate() and alerts see zeros
            self.rounds.labels(r)
            self.round_overruns.labels(r)
        for op in ("probe", "poll"):
            self.snmp_requests.labels(op)
            for kind in ErrorKind:
                self.snmp_errors.labels(op, kind.value)
