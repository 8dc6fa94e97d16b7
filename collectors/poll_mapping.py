"""Turning the raw columns of a poll into PollResult fields, as the profile says (pure, no pysnmp).

Values arrive as plain Python: ``int`` for INTEGER/Gauge32/Unsigned32, :class:`Counter32`
and :class:`Counter64` (``int`` subclasses) for counters so the wrap width survives, :class:`TimeTicks`
for TimeTicks (an engine that does not keep SNMP types, gufo-snmp, gives a bare ``int`` for all of them), ``bytes`` for
OCTET STRING, ``str`` (dotted) for OBJECT IDENTIFIER. Tables are keyed by column OID and row index,
both as dotted strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from collectors.profile import Profile, is_scalar, object_labels
from collectors.types import ClientCount, ControllerAp, InterfaceCounters, LteSignal, RadioStats

Rows = Mapping[str, Any]  # row index ("3", "196608", "1.2") → value


class Counter32(int):
    """A Counter32 value: wraps at 2**32 (SNMPv2-SMI)."""

    bits = 32


class Counter64(int):
    """A Counter64 value: wraps at 2**64."""

    bits = 64


class TimeTicks(int):
    """A TimeTicks value (hundredths of a second), from an engine that keeps SNMP types."""


def as_text(value: Any) -> str:
    """An OCTET STRING as text: UTF-8 where it is, replacement marks where it is not.

    Agents pad DisplayStrings with NULs and spaces now and then; neither belongs in a label.
    """
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").strip("\x00 \t\r\n")
    return str(value)


def as_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def column_labels(profile: Profile) -> dict[str, tuple[str, ...]]:
    """OID → the profile fields it feeds (``interfaces.in_octets``, ``clients[0].ssid``)."""
    labels: dict[str, list[str]] = {}
    for label, oid in object_labels(profile).items():
        labels.setdefault(oid, []).append(label)
    return {oid: tuple(v) for oid, v in labels.items()}


@dataclass(frozen=True)
class TableFields:
    """The table-derived part of a PollResult."""

    clients: tuple[ClientCount, ...] = ()
    interfaces: tuple[InterfaceCounters, ...] = ()
    radios: tuple[RadioStats, ...] = ()
    cpu_ratio: float | None = None
    memory_ratio: float | None = None
    controller_aps: tuple[ControllerAp, ...] | None = None
    lte: LteSignal | None = None
    missing: tuple[str, ...] = ()


def _indices(*columns: Rows) -> list[str]:
    """Row indices over several columns of one table, first-seen order (the agent's order)."""
    return list(dict.fromkeys(idx for col in columns for idx in col))


def index_text(index: str) -> str:
    """A row index as a label: an OID-encoded string (length, then one sub-id per character, as
    ESSID-indexed tables have) decoded to text; anything else as it is."""
    parts = index.split(".")
    if len(parts) > 1 and parts[0].isdigit() and int(parts[0]) == len(parts) - 1:
        try:
            raw = bytes(int(p) for p in parts[1:])
        except ValueError:  # a sub-id above 255: not a string
            return index
        if all(32 <= b < 127 or b >= 128 for b in raw):
            return raw.decode("utf-8", errors="replace")
    return index


def mac_text(value: Any) -> str:
    """A MAC address (6 octets, a 6-sub-id index, or text with or without separators) as aa:bb:…; else ""."""
    if isinstance(value, bytes) and len(value) == 6:
        return ":".join(f"{b:02x}" for b in value)
    if isinstance(value, bytes):
        value = as_text(value)
    if isinstance(value, str):
        parts = value.split(".")
        if len(parts) == 6 and all(p.isdigit() and int(p) < 256 for p in parts):
            return ":".join(f"{int(p):02x}" for p in parts)
        hexits = re.sub(r"[^0-9a-fA-F]", "", value)
        if len(hexits) == 12 and len(value) in (12, 14, 17):
            return ":".join(hexits[i : i + 2].lower() for i in range(0, 12, 2))
    return ""


def _number(value: Any) -> int | None:
    """An integer, or the leading digits of a text value (Aruba reports channels as "53S", "116E")."""
    n = as_int(value)
    if n is not None:
        return n
    m = re.match(r"\s*(-?\d+)", as_text(value)) if isinstance(value, bytes) else None
    return int(m.group(1)) if m else None


def channel_of(mhz: int) -> int | None:
    """The IEEE 802.11 channel of a centre frequency in MHz; None for 0 (a virtual interface) or off-band."""
    if mhz == 2484:
        return 14
    if 2412 <= mhz <= 2472:
        return (mhz - 2407) // 5
    if 5000 <= mhz <= 5900:
        return (mhz - 5000) // 5
    if 5955 <= mhz <= 7115:
        return (mhz - 5950) // 5
    return None


def _label(source: str | None, rows: Rows, index: str, names: Mapping[str, str]) -> str:
    """A row's label from a column (``rows``) or the index, renamed by ``names`` where listed."""
    if source is None:
        return ""
    if source.startswith("index"):
        raw = index_text(index) if source == "index" else _index_part(index, int(source[6:-1]))
    else:
        value = rows.get(index)
        raw = str(value) if isinstance(value, int) else as_text(value)
    return names.get(raw, raw)


def _index_part(index: str, n: int) -> str:
    parts = index.split(".")
    return parts[n] if n < len(parts) else ""


def map_tables(profile: Profile, tables: Mapping[str, Rows], missing_columns: set[str]) -> TableFields:
    """Build clients, interfaces, radios, CPU, memory, controller rows and LTE signal from the poll.

    Scalars come in as one-row tables (row "0") keyed by their full OID. ``missing_columns`` are the
    OIDs the agent did not have; they come back as profile field names in ``missing`` (an object
    missing is information, not an error, and produces no value rather than a zero).
    """
    empty: Rows = {}

    def col(oid: str | None) -> Rows:
        return tables.get(oid, empty) if oid and not oid.startswith("index") else empty

    def instance(oid: str, idx: str) -> str:
        return oid if is_scalar(oid) else f"{oid}.{idx}"

    clients: list[ClientCount] = []
    for table in profile.clients:
        if table.stations is not None:
            clients += _station_counts(table.stations, col(table.stations), col(table.served))
            continue
        if table.count is None:
            continue
        ssids, radios = col(table.ssid), col(table.radio)
        for idx, raw in col(table.count).items():
            count = as_int(raw)
            if count is None:
                continue  # a vendor bug (non-integer count) must not become a fake zero
            clients.append(
                ClientCount(
                    level=table.level,
                    count=count,
                    radio=table.radio_name or _label(table.radio, radios, idx, table.radio_map),
                    ssid=_label(table.ssid, ssids, idx, {}),
                    oid=instance(table.count, idx),
                )
            )

    interfaces: list[InterfaceCounters] = []
    if profile.interfaces:
        spec, fb = profile.interfaces, profile.interfaces.fallback

        def column_or_fallback(main: str, alt: str | None) -> tuple[Rows, bool]:
            """A column the agent lacks is read from the fallback's (ifTable where there is no ifXTable)."""
            rows = col(main)
            return (rows, False) if rows or alt is None else (col(alt), True)

        names, _ = column_or_fallback(spec.name, fb.name if fb else None)
        ins, in_fb = column_or_fallback(spec.in_octets, fb.in_octets if fb else None)
        outs, out_fb = column_or_fallback(spec.out_octets, fb.out_octets if fb else None)
        high_speeds, speeds = col(spec.speed_mbps), col(spec.speed_bps)
        claimed = fb.counter_bits if fb and (in_fb or out_fb) else spec.counter_bits
        for idx in _indices(ins, outs):  # rows with a counter; names only label them
            in_raw, out_raw = ins.get(idx), outs.get(idx)
            # The wire type says how the value wraps; the profile's claim is the fallback
            # (some agents serve ifHC* as Counter32).
            bits = next(
                (v.bits for v in (in_raw, out_raw) if isinstance(v, (Counter32, Counter64))),
                claimed,
            )
            interfaces.append(
                InterfaceCounters(
                    index=idx,
                    name=as_text(names.get(idx)) or idx,
                    in_octets=as_int(in_raw),
                    out_octets=as_int(out_raw),
                    counter_bits=bits,
                    speed_bps=_speed(high_speeds.get(idx), speeds.get(idx)),
                )
            )

    radio_stats: list[RadioStats] = []
    if profile.radios:
        r = profile.radios
        names, channels, freqs, utils, noises = (
            col(r.name), col(r.channel), col(r.frequency_mhz), col(r.utilisation_percent), col(r.noise_dbm)
        )
        # Rows are those of the data columns; the name column only labels them (MikroTik's radios are
        # named by ifName, which also lists every Ethernet port).
        rows = _indices(channels, freqs, utils, noises) or _indices(names)
        for idx in sorted(rows, key=lambda i: tuple(int(x) if x.isdigit() else -1 for x in i.split("."))):
            util = as_int(utils.get(idx))
            # Vendors write 0 for "no reading" (a virtual AP's noise floor, an idle radio's channel):
            # 0 dBm of noise and channel 0 do not exist, so they become no value rather than a lie.
            noise = as_int(noises.get(idx)) or None
            channel = _number(channels.get(idx)) or None
            mhz = as_int(freqs.get(idx))
            if channel is None and mhz:
                channel = channel_of(mhz)
            radio_stats.append(
                RadioStats(
                    radio=_label(r.name, names, idx, r.name_map) or idx,
                    channel=channel,
                    utilisation_ratio=None if util is None else util / 100,
                    noise_dbm=None if noise is None else float(noise),
                )
            )

    loads = [v for raw in col(profile.cpu_load_percent).values() if (v := as_int(raw)) is not None]
    cpu_ratio = fmean(loads) / profile.cpu_divisor / 100 if loads else None

    labels = column_labels(profile)
    missing = tuple(dict.fromkeys(label for oid in labels if oid in missing_columns for label in labels[oid]))
    return TableFields(
        clients=tuple(clients),
        interfaces=tuple(interfaces),
        radios=tuple(radio_stats),
        cpu_ratio=cpu_ratio,
        memory_ratio=_memory(profile, col),
        controller_aps=_controller(profile, col),
        lte=_lte(profile, col),
        missing=missing,
    )


def _station_counts(column: str, stations: Rows, served: Rows) -> list[ClientCount]:
    """Stations per SSID from a station table (one row per station, the value its SSID); every SSID the
    device serves gets a row, 0 when no station names it. No row in either: no count (absent)."""
    per_ssid: dict[str, int] = {as_text(v): 0 for v in served.values()}
    for value in stations.values():
        ssid = as_text(value)
        per_ssid[ssid] = per_ssid.get(ssid, 0) + 1
    return [ClientCount(level="ssid", count=n, ssid=ssid, oid=column) for ssid, n in per_ssid.items()]


def _speed(mbps: Any, bps: Any) -> int | None:
    """Bits per second from ifHighSpeed (Mbit/s) or else ifSpeed; 0 is "unknown", and ifSpeed's
    2**32 - 1 only says "more than this" (IF-MIB)."""
    high = as_int(mbps)
    if high:
        return high * 1_000_000
    low = as_int(bps)
    return low if low and low < 2**32 - 1 else None


def _sum(rows: Rows) -> int | None:
    values = [v for raw in rows.values() if (v := as_int(raw)) is not None]
    return sum(values) if values else None


def _memory(profile: Profile, col: Callable[[str | None], Rows]) -> float | None:
    spec = profile.memory
    if spec is None:
        return None
    if spec.used_percent:
        pct = _sum(col(spec.used_percent))
        n = len(col(spec.used_percent))
        return None if pct is None else pct / n / 100
    total = _sum(col(spec.total))
    if not total:
        return None
    used = _sum(col(spec.used)) if spec.used else None
    free = _sum(col(spec.free)) if spec.free else None
    if used is None and free is not None:
        used = total - free
    return None if used is None else min(max(used / total, 0.0), 1.0)


def _lte(profile: Profile, col: Callable[[str | None], Rows]) -> LteSignal | None:
    spec = profile.lte
    if spec is None:
        return None

    def first(oid: str | None) -> float | None:
        rows = col(oid)
        for raw in rows.values():
            v = as_int(raw)
            if v is not None:
                return v / spec.divisor
        return None

    signal = LteSignal(first(spec.rsrp_dbm), first(spec.rsrq_db), first(spec.sinr_db), first(spec.rssi_dbm))
    return None if signal == LteSignal() else signal


def _controller(profile: Profile, col: Callable[[str | None], Rows]) -> tuple[ControllerAp, ...] | None:
    """The controller's AP rows joined with its per-radio rows (index = AP index + radio suffix)."""
    spec = profile.controller
    if spec is None:
        return None
    t = spec.aps
    names, macs, ips, states = col(t.name), col(t.mac), col(t.ip), col(t.status)
    counts, uptimes = col(t.clients), col(t.uptime)
    ap_rows = _indices(names, macs, ips, states, counts, uptimes)

    radios_of: dict[str, list[ClientCount]] = {idx: [] for idx in ap_rows}
    if spec.radios:
        rt = spec.radios
        labels = col(rt.radio)
        for idx, raw in col(rt.clients).items():
            count = as_int(raw)
            head, _, suffix = idx.rpartition(".")
            if count is None or head not in radios_of:
                continue  # a radio of an AP not in the AP table: nothing to attribute it to
            # "index" here means the radio's own suffix, not the whole (AP, radio) index.
            name = (
                rt.radio_map.get(suffix, f"radio{suffix}")
                if rt.radio == "index"
                else _label(rt.radio, labels, idx, rt.radio_map)
            )
            radios_of[head].append(
                ClientCount(level="radio", count=count, radio=name, oid=f"{rt.clients}.{idx}")
            )

    aps: list[ControllerAp] = []
    for idx in ap_rows:
        raw_status = ""
        status = "up"  # no status column: the table lists joined APs only
        if t.status and states:  # an agent without the status column at all: presence is the status
            value = states.get(idx)
            raw_status = as_text(value) if isinstance(value, bytes) else "" if value is None else str(value)
            status = t.status_map.get(raw_status, "unknown")
        radios = tuple(radios_of[idx])
        per_ap = as_int(counts.get(idx))
        aps.append(
            ControllerAp(
                index=idx,
                name=as_text(names.get(idx)),
                mac=mac_text(idx) if t.mac.startswith("index") else mac_text(macs.get(idx)),
                ip=as_text(ips.get(idx)) if isinstance(ips.get(idx), (bytes, str)) else "",
                status=status,  # type: ignore[arg-type]
                raw_status=raw_status,
                clients=per_ap if per_ap is not None else (sum(c.count for c in radios) if radios else None),
                uptime_ticks=as_int(uptimes.get(idx)),
                radios=radios,
            )
        )
    return tuple(aps)
