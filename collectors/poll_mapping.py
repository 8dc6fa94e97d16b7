"""Turning the raw columns of a poll into PollResult fields, as the profile says (pure, no pysnmp).

Values arrive as plain Python: ``int`` for INTEGER/Gauge32/TimeTicks/Unsigned32, :class:`Counter32`
and :class:`Counter64` (``int`` subclasses) for counters so the wrap width survives, ``bytes`` for
OCTET STRING, ``str`` (dotted) for OBJECT IDENTIFIER. Tables are keyed by column OID and row index,
both as dotted strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean
from typing import Any
from collections.abc import Mapping

from collectors.profile import Profile
from collectors.types import ClientCount, InterfaceCounters, RadioStats

Rows = Mapping[str, Any]  # row index ("3", "196608", "1.2") → value


class Counter32(int):
    """A Counter32 value: wraps at 2**32 (SNMPv2-SMI)."""

    bits = 32


class Counter64(int):
    """A Counter64 value: wraps at 2**64."""

    bits = 64


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
    """Column OID → the profile fields it feeds (``interfaces.in_octets``, ``clients[0].ssid``)."""
    labels: dict[str, list[str]] = {}

    def add(oid: str | None, label: str) -> None:
        if oid:
            labels.setdefault(oid, []).append(label)

    add(profile.cpu_load_percent, "cpu_load_percent")
    for i, table in enumerate(profile.clients):
        add(table.count, f"clients[{i}].count")
        add(table.ssid, f"clients[{i}].ssid")
        add(table.radio, f"clients[{i}].radio")
    if profile.interfaces:
        add(profile.interfaces.name, "interfaces.name")
        add(profile.interfaces.in_octets, "interfaces.in_octets")
        add(profile.interfaces.out_octets, "interfaces.out_octets")
    if profile.radios:
        r = profile.radios
        add(r.name, "radios.name")
        add(r.channel, "radios.channel")
        add(r.utilisation_percent, "radios.utilisation_percent")
        add(r.noise_dbm, "radios.noise_dbm")
    return {oid: tuple(v) for oid, v in labels.items()}


@dataclass(frozen=True)
class TableFields:
    """The table-derived part of a PollResult."""

    clients: tuple[ClientCount, ...] = ()
    interfaces: tuple[InterfaceCounters, ...] = ()
    radios: tuple[RadioStats, ...] = ()
    cpu_ratio: float | None = None
    missing: tuple[str, ...] = ()


def _indices(*columns: Rows) -> list[str]:
    """Row indices over several columns of one table, first-seen order (the agent's order)."""
    return list(dict.fromkeys(idx for col in columns for idx in col))


def map_tables(profile: Profile, tables: Mapping[str, Rows], missing_columns: set[str]) -> TableFields:
    """Build clients, interfaces, radios and CPU from walked columns.

    ``missing_columns`` are the column OIDs the agent did not have; they come back as profile field
    names in ``missing`` (a column missing is information, not an error).
    """
    empty: Rows = {}

    def col(oid: str | None) -> Rows:
        return tables.get(oid, empty) if oid else empty

    clients: list[ClientCount] = []
    for table in profile.clients:
        ssids, radios = col(table.ssid), col(table.radio)
        for idx, raw in col(table.count).items():
            count = as_int(raw)
            if count is None:
                continue  # a vendor bug (non-integer count) must not become a fake zero
            clients.append(
                ClientCount(
                    level=table.level,
                    count=count,
                    radio=as_text(radios.get(idx)),
                    ssid=as_text(ssids.get(idx)),
                )
            )

    interfaces: list[InterfaceCounters] = []
    if profile.interfaces:
        spec = profile.interfaces
        names, ins, outs = col(spec.name), col(spec.in_octets), col(spec.out_octets)
        for idx in _indices(names, ins, outs):
            in_raw, out_raw = ins.get(idx), outs.get(idx)
            # The wire type says how the value wraps; the profile's claim is the fallback
            # (some agents serve ifHC* as Counter32).
            bits = next(
                (v.bits for v in (in_raw, out_raw) if isinstance(v, (Counter32, Counter64))),
                spec.counter_bits,
            )
            interfaces.append(
                InterfaceCounters(
                    index=idx,
                    name=as_text(names.get(idx)) or idx,
                    in_octets=as_int(in_raw),
                    out_octets=as_int(out_raw),
                    counter_bits=bits,
                )
            )

    radio_stats: list[RadioStats] = []
    if profile.radios:
        spec_r = profile.radios
        names, channels, utils, noises = (
            col(spec_r.name),
            col(spec_r.channel),
            col(spec_r.utilisation_percent),
            col(spec_r.noise_dbm),
        )
        for idx in _indices(names, channels, utils, noises):
            util = as_int(utils.get(idx))
            noise = as_int(noises.get(idx))
            radio_stats.append(
                RadioStats(
                    radio=as_text(names.get(idx)) or idx,
                    channel=as_int(channels.get(idx)),
                    utilisation_ratio=None if util is None else util / 100,
                    noise_dbm=None if noise is None else float(noise),
                )
            )

    loads = [v for raw in col(profile.cpu_load_percent).values() if (v := as_int(raw)) is not None]
    cpu_ratio = fmean(loads) / 100 if loads else None

    labels = column_labels(profile)
    missing = tuple(label for oid in labels if oid in missing_columns for label in labels[oid])
    return TableFields(
        clients=tuple(clients),
        interfaces=tuple(interfaces),
        radios=tuple(radio_stats),
        cpu_ratio=cpu_ratio,
        missing=missing,
    )
