"""The fleet's part of /metrics as text, made once per snapshot and kept for every scrape of it.

At 10,000 APs the fleet is some 300,000 samples; prometheus_client's generic path (metric families of sample
tuples, then the encoder) takes seconds for them. Here the rows of ``monitor.exposition.metrics`` are written
straight to exposition lines, byte for byte what prometheus_client writes for the same families (a test holds
them equal in both formats), and a site's lines are kept while what they show is the same. Every AP is probed
every interval, so by the next scrape nearly every site's view is new: what a probe changes (the probe counts,
durations and last success: ``PROBED``) and the uptimes (carried to the snapshot's time) are written anew for
each snapshot, a few lines per AP; the rest of a site's lines (states, client counts, traffic, radios, the
site's roll-up: most of the text) are kept while the view's other fields are equal (``_shown``) and written
again only for the sites whose state, poll or availability changed. Then one join.

The text (and its deflate stream, made when a scrape first asks for gzip) is kept for the latest snapshot;
the service's own metrics, which change with every request, are rendered per scrape and joined to it
(``monitor.exposition.http``). Not thread-safe: the HTTP face calls it from its one rendering thread.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from itertools import chain
from operator import attrgetter, itemgetter
from typing import cast

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from monitor.exposition.metric_names import METRICS
from monitor.exposition.metrics import (FLEET, PROBED, UPTIME, Row, controller_rows, probe_rows, site_rows,
                                        uptime_rows)
from monitor.exposition.snapshot import ApView, SiteView, Snapshot, UplinkView

# Deflate levels: the fleet's 24 MB (10,000 APs) at 1 takes a quarter of the CPU of 6 for 1.86 MB against 1.57 MB;
# the per-scrape rest is small.
FLEET_LEVEL, REST_LEVEL = 1, 6
_go_float = cast(Callable[[float], str], floatToGoString)  # the encoders' own number format (untyped)

# The view fields only ``probe_rows``, ``uptime_rows`` or nothing read: a site's kept lines do not depend on them.
_AP_PROBED = {"probes", "probe_failures", "probe_duration", "last_success_at", "uptime_seconds", "uptime_at",
              "last_poll_at"}
_UPLINK_PROBED = {"probe_duration"}
_FRESH = {*PROBED, UPTIME}  # families written anew for every snapshot


def _getter(cls: type, leave_out: set[str]) -> Callable[[object], tuple[object, ...]]:
    """The values of every field of ``cls`` but ``leave_out`` (two or more), as one tuple: a field added later
    counts by default."""
    names = [f.name for f in fields(cls) if f.name not in leave_out]
    return cast(Callable[[object], tuple[object, ...]], attrgetter(*names))


_ap_shown, _uplink_shown = _getter(ApView, _AP_PROBED), _getter(UplinkView, _UPLINK_PROBED)
_site_shown = _getter(SiteView, {"aps", "uplink"})


def _shown(sv: SiteView) -> tuple[object, ...]:
    """What ``site_rows`` shows of a view: equal for two views, the same lines."""
    uplink = None if sv.uplink is None else _uplink_shown(sv.uplink)
    return _site_shown(sv), uplink, tuple(_ap_shown(a) for a in sv.aps)


@dataclass(frozen=True)
class _Family:
    """How a row of the family becomes a line: ``template % (label values in sorted order + (value,))``."""

    template: str  # 'wifi_ap_probes_total{ap="%s",site="%s"} %s\n': the sample name, labels sorted by name
    sort: Callable[[tuple[str, ...]], tuple[str, ...]] | None  # the row's values in that order; None: as they are


def _families() -> dict[str, _Family]:
    out = {}
    for name in FLEET:
        spec = METRICS[name]
        order = sorted(range(len(spec.labels)), key=lambda i: spec.labels[i])
        sample = name + "_total" if spec.type == "counter" else name
        labels = ",".join(f'{spec.labels[i]}="%s"' for i in order)
        out[name] = _Family(f"{sample}{{{labels}}} %s\n", itemgetter(*order) if order != sorted(order) else None)
    return out


class _Empty(Collector):
    """One family with no samples: what the encoders write as its header."""

    def __init__(self, name: str):
        self._name = name

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        spec = METRICS[self._name]
        cls = CounterMetricFamily if spec.type == "counter" else GaugeMetricFamily
        yield cls(self._name, spec.help, labels=list(spec.labels))


def _headers(openmetrics: bool) -> dict[str, str]:
    """``# HELP``/``# TYPE`` of each fleet family as the library's encoder of that format writes them."""
    out = {}
    for name in FLEET:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Empty(name))
        text = (generate_openmetrics if openmetrics else generate_latest)(registry).decode()
        out[name] = text.removesuffix("# EOF\n")
    return out


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _number(value: float) -> str:
    """``floatToGoString``'s spelling; its own repr where that is the same (finite, not a positive number of
    seven digits or more before the point, which Go writes with an exponent): most values, and much faster."""
    text = repr(value)
    return _go_float(value) if "n" in text or (value > 0 and text.find(".") > 6) else text  # inf, nan, 1e+12


@dataclass(frozen=True)
class Exposition:
    """The fleet's text for one snapshot; ``deflated``: the same as a raw deflate stream, sync-flushed (not
    final), so a gzip body is it followed by the rest of the text deflated (see ``gzip_body``)."""

    text: bytes
    deflated: bytes | None = None
    crc: int = 0


class FleetExposition:
    """The fleet part of /metrics for ``current()``, the poller's latest snapshot, in either format."""

    def __init__(self, current: Callable[[], Snapshot]):
        self._current = current
        self._families = _families()
        self._headers = {False: _headers(False), True: _headers(True)}
        self._sites: dict[str, tuple[SiteView, tuple[object, ...], dict[str, str]]] = {}  # site id → (its last
        # view, what that shows, its lines per family)
        self._kept: dict[bool, tuple[Snapshot, Exposition]] = {}  # per format: the latest snapshot's text

    def exposition(self, openmetrics: bool, deflated: bool = False) -> Exposition:
        """The text for the current snapshot (made only when the snapshot is new); with its deflate stream
        when ``deflated``."""
        snap = self._current()
        kept = self._kept.get(openmetrics)
        if kept is None or kept[0] is not snap:
            kept = snap, Exposition(self._render(snap, openmetrics))
            self._kept[openmetrics] = kept
        if deflated and kept[1].deflated is None:
            text = kept[1].text
            squeeze = zlib.compressobj(FLEET_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
            kept = snap, Exposition(text, squeeze.compress(text) + squeeze.flush(zlib.Z_SYNC_FLUSH), zlib.crc32(text))
            self._kept[openmetrics] = kept
        return kept[1]

    def _render(self, snap: Snapshot, openmetrics: bool) -> bytes:
        kept, sites = self._sites, {}
        for sv in snap.sites:
            last = kept.get(sv.site.id)
            if last is not None and last[0] is sv:
                sites[sv.site.id] = last
                continue
            shown = _shown(sv)
            if last is not None and last[1] == shown:
                sites[sv.site.id] = sv, shown, last[2]
            else:
                sites[sv.site.id] = sv, shown, self._lines(site_rows(sv))
        self._sites = sites  # sites of no current snapshot are let go
        site_lines = [lines for _, _, lines in sites.values()]
        fresh = self._lines(row for sv in snap.sites for row in chain(probe_rows(sv), uptime_rows(sv, snap.taken_at)))
        controllers = self._lines(controller_rows(snap.controllers))
        headers = self._headers[openmetrics]
        parts: list[str] = []
        for name in FLEET:
            parts.append(headers[name])
            if name in _FRESH:
                parts.append(fresh.get(name, ""))
            else:
                parts.extend(lines[name] for lines in site_lines if name in lines)
            if name in controllers:
                parts.append(controllers[name])
        return "".join(parts).encode()

    def _lines(self, rows: Iterable[Row]) -> dict[str, str]:
        """Exposition lines of ``rows``, joined per family."""
        out: dict[str, list[str]] = {}
        families = self._families
        for name, values, value in rows:
            f = families[name]
            labels = values if f.sort is None else f.sort(values)
            joined = "".join(labels)
            if '"' in joined or "\\" in joined or "\n" in joined:
                labels = tuple(_escape(v) for v in labels)
            out.setdefault(name, []).append(f.template % (*labels, _number(value)))
        return {name: "".join(lines) for name, lines in out.items()}


def gzip_body(fleet: Exposition, rest: bytes) -> bytes:
    """One gzip member: the fleet's kept deflate stream, then ``rest`` (the service's metrics) deflated and
    finished, with the CRC and length of the whole. Only ``rest`` is compressed per scrape."""
    assert fleet.deflated is not None
    squeeze = zlib.compressobj(REST_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    tail = squeeze.compress(rest) + squeeze.flush(zlib.Z_FINISH)
    size = (len(fleet.text) + len(rest)) & 0xFFFFFFFF
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # gzip, deflate, no flags, no mtime, unknown OS
    trailer = zlib.crc32(rest, fleet.crc).to_bytes(4, "little") + size.to_bytes(4, "little")
    return header + fleet.deflated + tail + trailer
