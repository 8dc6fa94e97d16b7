"""What a probe and a full poll ask and how the answers become results: the part both SNMP engines share.

An engine (:class:`Wire`: pysnmp in :mod:`collectors.snmp`, gufo-snmp in :mod:`collectors.fast_snmp`)
only moves varbinds: a GET of some OIDs, a GETBULK step of a :class:`~collectors.table_walk.TableWalk`,
with plain values (see :mod:`collectors.poll_mapping`) and every failed exchange already classified as
a :class:`Failure`. :class:`Reader` does the rest for both, so the two cannot drift apart: which
scalars a poll asks, the table walk and its caps, last poll's row counts, the type checks (sysUpTime
must be TimeTicks), the mapping of tables to fields, and the crash guard that turns a bug into a
result with a logged trace.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from collectors.poll_mapping import TimeTicks, as_text, map_tables
from collectors.profile import Profile
from collectors.table_walk import END, BulkRequest, ColumnPart, Oid, TableWalk, format_oid, parse_oid
from collectors.types import ErrorKind, PollResult, ProbeResult, Target

log = logging.getLogger("collectors.snmp")

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
_SCALAR_NAMES = {SYS_DESCR: "sysDescr.0", SYS_OBJECT_ID: "sysObjectID.0", SYS_UPTIME: "sysUpTime.0"}
TOO_BIG = 1  # SNMP error-status tooBig: ask for fewer rows
_TICKS_LIMIT = 2**32  # TimeTicks is an unsigned 32-bit count of hundredths


def oid_name(oid: str) -> str:
    return _SCALAR_NAMES.get(oid, oid)


@dataclass(frozen=True)
class Failure:
    """A failed exchange: its kind, and a detail naming the target, the request and how long we waited."""

    kind: ErrorKind
    detail: str
    status: int = 0  # SNMP error-status when the agent sent one


@dataclass(frozen=True)
class Reply:
    """A GET's answer, and when: the agent read the values between ``sent_at`` and ``answered_at``.

    ``values``: requested OID (dotted) → plain value; END (or no entry) for noSuchObject/noSuchInstance.
    """

    values: Mapping[str, Any]
    sent_at: float  # unix seconds, the request's first attempt
    answered_at: float  # unix seconds, its answer received

    @property
    def window(self) -> tuple[float, float]:
        return self.sent_at, self.answered_at


H = TypeVar("H")


class Wire(Protocol[H]):
    """The engine seam: raw exchanges with one registered target (``H``: the engine's handle for it)."""

    typed: bool
    """Whether values keep their SNMP type (TimeTicks, Counter32, Counter64) or arrive as bare ints."""

    async def handle(self, target: Target) -> H | Failure:
        """The target's registration, made now if register() did not see it."""

    def where(self, handle: H) -> str:
        """``key host:port`` for details."""

    async def get(self, handle: H, oids: Sequence[str], verb: str, op: str) -> Reply | Failure: ...

    async def bulk(self, handle: H, request: BulkRequest, verb: str, op: str) -> list[ColumnPart] | Failure:
        """One GETBULK step: a part per column of ``request``, in its order."""


UDP_TABLES = ("/proc/net/udp", "/proc/net/udp6")


def socket_drops(inodes: set[int], tables: Sequence[str] = UDP_TABLES) -> int | None:
    """The sum of the ``drops`` column of the kernel's UDP socket tables over the sockets ``inodes`` name."""
    # Row cells (net/ipv4/udp.c udp4_format_sock; udp6 alike): sl, local, remote, st, tx:rx queue,
    # tr:tm->when, retrnsmt, uid, timeout, inode, ref, pointer, drops. The header names 15 columns for
    # these 13 cells ("tx_queue rx_queue" is one), so positions are fixed, not read from it.
    inode_cell, drops_cell = 9, 12
    total, readable = 0, False
    for table in tables:
        try:
            with open(table, encoding="ascii") as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for row in rows:
            cells = row.split()
            if len(cells) > drops_cell and cells[inode_cell].isdigit() and int(cells[inode_cell]) in inodes:
                total += int(cells[drops_cell])
    return total if readable else None


@dataclass
class ClientStats:
    """Counters for the service's own metrics."""

    requests: int = 0
    timeouts: int = 0
    in_flight: int = 0
    in_flight_peak: int = 0
    varbinds: int = 0  # received in answers (decoding them is most of the CPU a poll costs)
    undecodable_datagrams: int = 0  # replies that were not SNMP at all
    unmatched_datagrams: int = 0  # decodable replies that matched no pending request (late, wrong id)


def timeticks(value: Any, typed: bool) -> int | None:
    """A value as TimeTicks; None for any other type (a Counter64 "uptime" would be 1.8e17 s).

    An engine that does not keep types (``typed`` False) can only have values checked for range.
    """
    if isinstance(value, TimeTicks):
        return int(value)
    if not typed and type(value) is int and 0 <= value < _TICKS_LIMIT:
        return value
    return None


def described(value: Any) -> str:
    """A plain value's kind and text, short, for an error detail: the same words from either engine (gufo
    does not say which integer type it read, so neither does pysnmp's detail)."""
    if isinstance(value, bytes):
        return f"OCTET STRING {value.decode('utf-8', 'replace')!r:.40}"
    if isinstance(value, int):
        return f"integer {value}"
    return f"{type(value).__name__} {value!s:.40}"


@dataclass(frozen=True)
class Limits:
    """Bounds of a poll's table walk (see :class:`TableWalk`)."""

    max_varbinds: int = 100  # net-snmp cuts GETBULK replies at 100 varbinds (maxGetbulkResponses)
    max_rows: int = 1000
    max_requests: int = 40


class Reader(Generic[H]):
    """Probes and full polls over one engine; remembers each (target, profile)'s row counts."""

    def __init__(self, wire: Wire[H], limits: Limits) -> None:
        self._wire = wire
        self._limits = limits
        self._row_hints: dict[tuple[str, str], dict[Oid, int]] = {}
        self._columns: dict[str, tuple[list[Oid], dict[Oid, tuple[Oid, bool]]]] = {}  # per profile, parsed once

    # -- probe ----------------------------------------------------------------------------------

    async def probe(self, target: Target) -> ProbeResult:
        """One GET of sysUpTime.0. Device problems come back as a result, never as an exception."""
        started_at, t0 = time.time(), time.monotonic()
        window: tuple[float, float] | None = None
        try:
            error, detail, ticks, window = await self._probe(target)
        except Exception as exc:  # a bug, or a reply that broke us: still a result, with a trace in the log
            log.exception("probe_crashed ap=%s", target.key)
            error, detail, ticks = (
                ErrorKind.PROTOCOL,
                f"internal error probing {target.key} {target.host}:{target.port}: {type(exc).__name__}: {exc}",
                None,
            )
        duration = time.monotonic() - t0
        if error is not None:
            log.debug("probe_failed ap=%s kind=%s waited=%.2fs detail=%s", target.key, error, duration, detail)
        return ProbeResult(target.key, started_at, duration, error=error, detail=detail, uptime_ticks=ticks,
                           uptime_window=window if ticks is not None else None)

    async def _probe(self, target: Target) -> tuple[ErrorKind | None, str, int | None, tuple[float, float] | None]:
        wire = self._wire
        reg = await wire.handle(target)
        if isinstance(reg, Failure):
            return reg.kind, reg.detail, None, None
        reply = await wire.get(reg, [SYS_UPTIME], "probing", "GET sysUpTime.0")
        if isinstance(reply, Failure):
            return reply.kind, reply.detail, None, None
        values = reply.values
        if any(oid != SYS_UPTIME for oid in values):
            got = ", ".join(values) or "nothing"
            return ErrorKind.PROTOCOL, f"asked sysUpTime.0 of {wire.where(reg)}, got {got}", None, None
        raw = values.get(SYS_UPTIME, END)
        if raw is END:
            return ErrorKind.NO_SUCH_OBJECT, f"no such object sysUpTime.0 probing {wire.where(reg)}", None, None
        ticks = timeticks(raw, wire.typed)
        if ticks is None:
            return (ErrorKind.PROTOCOL, f"sysUpTime.0 of {wire.where(reg)} is {described(raw)}, not TimeTicks",
                    None, None)
        return None, "", ticks, reply.window

    # -- poll -----------------------------------------------------------------------------------

    async def poll(self, target: Target, profile: Profile) -> PollResult:
        """GET of uptime, sysDescr, sysObjectID, then GETBULK walks of every column of the profile."""
        started_at, t0 = time.time(), time.monotonic()
        try:
            fields = await self._poll(target, profile)
        except Exception as exc:
            log.exception("poll_crashed ap=%s profile=%s", target.key, profile.name)
            fields = {
                "error": ErrorKind.PROTOCOL,
                "detail": f"internal error polling {target.key} {target.host}:{target.port}:"
                f" {type(exc).__name__}: {exc}",
            }
        duration = time.monotonic() - t0
        if fields.get("error") is not None:
            log.debug("poll_failed ap=%s kind=%s waited=%.2fs detail=%s", target.key, fields["error"], duration,
                      fields.get("detail"))
        return PollResult(key=target.key, profile=profile.name, started_at=started_at, duration=duration, **fields)

    def _walk(self, target: Target, profile: Profile) -> TableWalk:
        parsed = self._columns.get(profile.name)
        if parsed is None or len(parsed[0]) != len(profile.columns):
            parsed = ([parse_oid(c) for c in profile.columns],
                      {parse_oid(c): (parse_oid(other), rows) for c, (other, rows) in profile.waits.items()})
            self._columns[profile.name] = parsed
        limits = self._limits
        return TableWalk(parsed[0], max_varbinds=limits.max_varbinds, max_rows=limits.max_rows,
                         max_requests=limits.max_requests, expected_rows=self._row_hints.get((target.key, profile.name)),
                         waits=parsed[1])

    async def _poll(self, target: Target, profile: Profile) -> dict[str, Any]:
        wire = self._wire
        reg = await wire.handle(target)
        if isinstance(reg, Failure):
            return {"error": reg.kind, "detail": reg.detail}

        scalar_oids = list(dict.fromkeys((profile.uptime, SYS_DESCR, SYS_OBJECT_ID, *profile.scalars)))
        op = "GET " + " + ".join(oid_name(o) for o in scalar_oids[:3])
        if len(scalar_oids) > 3:
            op += f" + {len(scalar_oids) - 3} profile scalar(s)"
        reply = await wire.get(reg, scalar_oids, "polling", op)
        if isinstance(reply, Failure):
            return {"error": reply.kind, "detail": reply.detail}
        scalars = reply.values
        missing: list[str] = []
        wrong_type: list[str] = []

        def scalar(oid: str, label: str) -> Any:
            value = scalars.get(oid, END)
            if value is END or value is None:
                missing.append(label)
                return None
            return value

        uptime = None
        raw_uptime = scalar(profile.uptime, "uptime")
        if raw_uptime is not None:
            uptime = timeticks(raw_uptime, wire.typed)
            if uptime is None:  # never used: a Counter64 read as ticks would be an uptime of 1.8e17 s
                wrong_type.append(f"uptime {oid_name(profile.uptime)} is {described(raw_uptime)}, not TimeTicks")
        descr = scalar(SYS_DESCR, "sys_descr")
        object_id = scalar(SYS_OBJECT_ID, "sys_object_id")
        result: dict[str, Any] = {
            "uptime_ticks": uptime,
            "uptime_window": reply.window if uptime is not None else None,
            "protocol_errors": tuple(wrong_type),
            "sys_descr": None if descr is None else as_text(descr),
            "sys_object_id": None if object_id is None else str(object_id),
        }

        walk = self._walk(target, profile)
        while (request := walk.next_request()) is not None:
            op = (f"GETBULK #{request.number} ×{request.max_repetitions} of {len(request.columns)} column(s)"
                  f" from {format_oid(request.start_oids[0])}")
            parts = await wire.bulk(reg, request, "polling", op)
            if isinstance(parts, Failure):
                if parts.status == TOO_BIG and walk.shrink():
                    continue
                return {**result, "error": parts.kind, "detail": parts.detail, "missing": tuple(missing)}
            walk.absorb_parts(request, parts)
        self._row_hints[(target.key, profile.name)] = walk.row_counts()

        tables = {format_oid(col): {format_oid(idx): value for idx, value in rows.items()}
                  for col, rows in walk.rows.items()}
        absent = {format_oid(c) for c in walk.missing}
        for oid in profile.scalars:  # scalars travel as one-row tables (row "0")
            value = scalars.get(oid, END)
            if value is END or value is None:
                absent.add(oid)
            else:
                tables[oid] = {"0": value}
        mapped = map_tables(profile, tables, absent)
        notes = "; ".join(walk.notes + wrong_type)
        return {
            **result,
            "detail": f"{wire.where(reg)}: {notes}" if notes else "",
            "clients": mapped.clients,
            "interfaces": mapped.interfaces,
            "radios": mapped.radios,
            "cpu_ratio": mapped.cpu_ratio,
            "memory_ratio": mapped.memory_ratio,
            "controller_aps": mapped.controller_aps,
            "lte": mapped.lte,
            "missing": tuple(missing) + mapped.missing,
        }


async def register_all(targets: Sequence[Target], open_one: Callable[[Target], Awaitable[object]]) -> list[str]:
    """Open every target with ``open_one`` (either engine's); returns "key: reason" for each whose credentials
    it cannot use (ValueError). A target that comes back a Failure (its host name does not resolve) is logged
    and retried at its first request."""
    problems: list[str] = []
    for target in targets:
        try:
            result = await open_one(target)
        except ValueError as exc:
            problems.append(f"{target.key}: {exc}")
            continue
        if isinstance(result, Failure):
            log.warning("snmp_register_failed ap=%s detail=%s", target.key, result.detail)
    return problems


def unresolved(target: Target, exc: BaseException) -> Failure:
    """The failure of a target whose address cannot be had (DNS, a timeout of getaddrinfo)."""
    return Failure(ErrorKind.TIMEOUT, f"address of {target.key} {target.host}:{target.port} does not resolve: {exc}")
