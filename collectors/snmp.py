"""The pysnmp 7.1 (asyncio) engine of :class:`collectors.types.SnmpClient`: a :class:`collectors.reader.Wire`.

What a probe and a poll ask and how answers become results is :class:`collectors.reader.Reader`'s, shared
with the gufo-snmp engine (:mod:`collectors.fast_snmp`); this module sends a GET or one GETBULK step and
classifies what comes back. How it uses pysnmp, and why (numbers in /work/shared/SNMP-NOTES.md):

* One ``SnmpEngine``, one UDP socket, every target registered up front (§1, §7): the v1/v2c
  community model rebuilds a map over all targets each time one is added to a running engine,
  which makes a first round over 2,000 new targets quadratic.
* Requests go through pysnmp's command generators (``entity.rfc3413.cmdgen``) with numeric OIDs
  and no MIB lookups (§4); results are converted to plain Python at once.
* A full poll is one GET of the scalars plus multi-column GETBULKs (one per step of the reader's
  :class:`collectors.table_walk.TableWalk`, §2–3), sized from the row counts seen last time so a
  table usually comes back in one request; the interleaved reply is split per column here.
* A semaphore bounds the requests in flight (50) and the socket's receive buffer is enlarged to
  4 MiB (§6): with the kernel default, replies overflow the buffer and answered polls become
  false timeouts.
* Failures are values, never exceptions (§5): each maps to one :class:`ErrorKind` and a detail
  naming the target (key and host:port), the request and how long we waited.

The USM user table holds one key set per user name, so targets that use the same v3 user name with
different keys cannot share an engine; each such key set gets an extra engine (and socket). With
one key set per user name (the usual case) there is exactly one engine.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from collections.abc import Sequence

from pyasn1.type import univ
from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config as engine_config
from pysnmp.entity.engine import SnmpEngine
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import auth as hl_auth
from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD
from pysnmp.hlapi.v3arch.asyncio.transport import UdpTransportTarget
from pysnmp.proto import errind, rfc1902, rfc1905
from pysnmp.proto.error import StatusInformation

from collectors.profile import Profile
from collectors.poll_mapping import Counter32, Counter64, TimeTicks
from collectors.reader import (UDP_TABLES, ClientStats, Failure, Limits, Reader, Reply, oid_name, register_all,
                               socket_drops, unresolved)
from collectors.table_walk import END, BulkRequest, ColumnPart, Oid, format_oid, split_bulk
from collectors.usm import AUTH_PROTOCOLS, PRIV_PROTOCOLS
from collectors.types import (
    Credentials,
    ErrorKind,
    PollResult,
    ProbeResult,
    Target,
    V2cCredentials,
    V3Credentials,
)

log = logging.getLogger(__name__)

# USM and VACM refusals: the agent is there, our credentials are not accepted.
_AUTH_INDICATIONS: tuple[type, ...] = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.DecryptionError,
    errind.UnknownSecurityName,
    errind.UnsupportedSecurityLevel,
    errind.NotInTimeWindow,
    errind.AuthenticationError,
    errind.AuthenticationFailure,
    errind.UnknownCommunityName,
    errind.UnsupportedAuthProtocol,
    errind.UnsupportedPrivProtocol,
    errind.NoSuchView,
    errind.NoAccessEntry,
    errind.NoGroupName,
    errind.NoSuchContext,
    errind.NotInView,
)

_ERROR_STATUS = (
    "noError tooBig noSuchName badValue readOnly genErr noAccess wrongType wrongLength wrongEncoding"
    " wrongValue noCreation inconsistentValue resourceUnavailable commitFailed undoFailed"
    " authorizationError notWritable inconsistentName"
).split()
_AUTHORIZATION_ERROR = 16

_NULL = univ.Null("")
_END_TYPES = (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView)


def _plain(value: Any) -> Any:
    """A pysnmp value as plain Python (see :mod:`collectors.poll_mapping`); END for no-such/end."""
    if isinstance(value, univ.Integer):
        if isinstance(value, rfc1902.Counter64):
            return Counter64(value)
        if isinstance(value, rfc1902.Counter32):
            return Counter32(value)
        if isinstance(value, rfc1902.TimeTicks):
            return TimeTicks(value)
        return int(value)
    # pyasn1's Null (and so noSuchObject & co.) derives from OctetString: test it first.
    if isinstance(value, univ.Null):
        return END if isinstance(value, _END_TYPES) else None
    if isinstance(value, rfc1902.IpAddress):  # an OctetString underneath: four raw bytes are no label
        return ".".join(str(b) for b in value.asOctets())
    if isinstance(value, univ.OctetString):
        return value.asOctets()
    if isinstance(value, univ.ObjectIdentifier):
        return str(value)
    return None


def _status_name(status: int) -> str:
    return _ERROR_STATUS[status] if 0 <= status < len(_ERROR_STATUS) else f"error-status {status}"


@dataclass(frozen=True)
class _Answer:
    varbinds: Any  # pysnmp's (ObjectName, value) pairs
    sent_at: float
    answered_at: float


@dataclass
class _PeerStats:
    """Datagrams from one agent address that pysnmp dropped (they answer no pending request)."""

    undecodable: int = 0
    unmatched: int = 0


@dataclass
class _EngineSlot:
    """One SnmpEngine with its socket and the v3 key set it holds per user name."""

    engine: SnmpEngine
    get: cmdgen.GetCommandGenerator = field(default_factory=cmdgen.GetCommandGenerator)
    bulk: cmdgen.BulkCommandGeneratorSingleRun = field(default_factory=cmdgen.BulkCommandGeneratorSingleRun)
    v3_users: dict[str, V3Credentials] = field(default_factory=dict)
    parse_errors: Any = None  # the engine's snmpInASNParseErrs instance
    rcvbuf: int = 0
    sock: Any = None  # its UDP socket, bound by the kernel at the first send
    inode: int = 0  # of that socket: how /proc/net/udp names it
    open: bool = False


@dataclass(frozen=True)
class _Registration:
    target: Target
    slot: _EngineSlot
    addr_name: str
    address: tuple[str, int]  # resolved

    @property
    def where(self) -> str:
        return f"{self.target.key} {self.target.host}:{self.target.port}"


def _auth_data(creds: Credentials) -> hl_auth.CommunityData | hl_auth.UsmUserData:
    """pysnmp auth data for our credentials; ValueError (without secrets) when incomplete."""
    if isinstance(creds, V2cCredentials):
        return hl_auth.CommunityData(creds.community, mpModel=1)
    if creds.priv_protocol and not creds.auth_protocol:
        raise ValueError(f"v3 user {creds.user!r}: privacy needs authentication (authPriv or authNoPriv)")
    if creds.auth_protocol and not creds.auth_key:
        raise ValueError(f"v3 user {creds.user!r}: auth_protocol {creds.auth_protocol} without auth_key")
    if creds.priv_protocol and not creds.priv_key:
        raise ValueError(f"v3 user {creds.user!r}: priv_protocol {creds.priv_protocol} without priv_key")
    for name, key, used in (
        ("auth_key", creds.auth_key, creds.auth_protocol),
        ("priv_key", creds.priv_key, creds.priv_protocol),
    ):
        if used and key is not None and len(key) < 8:
            # RFC 3414 §11.2: agents (net-snmp among them) refuse shorter pass phrases.
            raise ValueError(f"v3 user {creds.user!r}: {name} shorter than 8 characters")
    try:
        return hl_auth.UsmUserData(
            creds.user,
            authKey=creds.auth_key if creds.auth_protocol else None,
            privKey=creds.priv_key if creds.priv_protocol else None,
            authProtocol=AUTH_PROTOCOLS[creds.auth_protocol] if creds.auth_protocol else None,
            privProtocol=PRIV_PROTOCOLS[creds.priv_protocol] if creds.priv_protocol else None,
        )
    except (KeyError, PySnmpError) as exc:
        # pysnmp's message names the problem (e.g. short key) but never the key itself.
        raise ValueError(f"v3 user {creds.user!r}: {type(exc).__name__}: {exc}") from None


def check_credentials(creds: Credentials) -> None:
    """ValueError (without secrets) when this client would refuse the credentials: what a config check calls
    so that a config it passes never fails at :meth:`PysnmpClient.register`."""
    _auth_data(creds)


async def _until(predicate: Any, deadline_s: float, what: str) -> None:
    """Yield to the loop until ``predicate()`` holds; TimeoutError naming ``what`` after the deadline."""
    end = time.monotonic() + deadline_s
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError(f"{what} not ready after {deadline_s:.1f} s")
        await asyncio.sleep(0.001)


class PysnmpClient:
    """SNMP v2c/v3 client on pysnmp 7.1: liveness probes and full profile polls.

    ``max_in_flight`` bounds requests awaiting a reply across all targets; ``rcvbuf`` is the socket
    receive buffer asked of the kernel. ``max_varbinds`` bounds one GETBULK reply (columns ×
    max-repetitions); ``max_rows`` per column and ``max_requests`` per poll stop a huge table from
    running away with a poll (the cut is reported in ``detail``).
    """

    def __init__(
        self,
        max_in_flight: int = 50,
        rcvbuf: int = 4 * 1024 * 1024,
        *,
        max_varbinds: int = 100,  # net-snmp cuts GETBULK replies at 100 varbinds (maxGetbulkResponses)
        max_rows: int = 1000,
        max_requests: int = 40,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self._sem = asyncio.Semaphore(max_in_flight)
        self._rcvbuf_wanted = rcvbuf
        self._reader = Reader(self, Limits(max_varbinds, max_rows, max_requests))
        self._slots: list[_EngineSlot] = [_EngineSlot(SnmpEngine())]
        self._regs: dict[str, _Registration] = {}
        self._peers: dict[tuple[str, int], _PeerStats] = {}
        self._delivered = 0  # responses handed to us; tells a matched datagram from a dropped one
        self._closed = False
        self.stats = ClientStats()

    # -- set-up ---------------------------------------------------------------------------------

    @property
    def rcvbuf(self) -> int:
        """Receive buffer the kernel granted the (first) socket, in bytes; 0 before register()."""
        return self._slots[0].rcvbuf

    @property
    def engine_count(self) -> int:
        return len(self._slots)

    @property
    def local_addresses(self) -> list[tuple[str, int]]:
        """The (host, port) each of the client's UDP sockets is bound to (what ``ss -u`` shows); port 0
        until its first request."""
        return [slot.sock.getsockname()[:2] for slot in self._slots if slot.open]

    def receive_drops(self, tables: Sequence[str] = UDP_TABLES) -> int | None:
        """Datagrams the kernel dropped on this client's own sockets (receive buffer full), from the
        ``drops`` column of ``/proc/net/udp``: answers lost before we read them, i.e. false timeouts.
        None where the tables cannot be read (not Linux)."""
        return socket_drops({slot.inode for slot in self._slots if slot.open}, tables)

    async def register(self, targets: Sequence[Target]) -> None:
        """Create transport targets and auth entries for all targets before the first round.

        Raises ValueError listing every target whose credentials are unusable (a config error);
        targets whose host name does not resolve are logged and retried at their first request.
        """
        problems = await register_all(targets, self._register)
        log.info(
            "snmp_registered targets=%d engines=%d rcvbuf=%d problems=%d",
            len(self._regs),
            len(self._slots),
            self.rcvbuf,
            len(problems),
        )
        if problems:
            raise ValueError("unusable SNMP credentials:\n" + "\n".join(problems))

    async def _register(self, target: Target) -> _Registration | Failure:
        reg = self._regs.get(target.key)
        if reg is not None and reg.target == target:
            return reg
        if self._closed:
            raise RuntimeError("PysnmpClient is closed")
        auth_data = _auth_data(target.credentials)
        if reg is not None:  # the target changed (address, timing or credentials)
            self._release(reg)
        slot = self._slot_for(target.credentials)
        await self._open(slot)
        try:
            async with asyncio.timeout(10.0):  # getaddrinfo has no timeout of its own
                transport_target = await UdpTransportTarget.create(
                    (target.host, target.port), timeout=target.timeout, retries=target.retries
                )
        except (PySnmpError, TimeoutError, OSError) as exc:
            return unresolved(target, exc)
        addr_name, _ = LCD.configure(slot.engine, auth_data, transport_target, b"")
        address = (str(transport_target.transport_address[0]), int(transport_target.transport_address[1]))
        reg = _Registration(target, slot, addr_name, address)
        self._regs[target.key] = reg
        self._peers.setdefault(address, _PeerStats())
        return reg

    def _release(self, old: _Registration) -> None:
        """Free the old key set's claim on its user name unless another target still uses it.

        pysnmp then replaces the user's keys (and the copies localized per agent) when the new
        key set is configured under the same name.
        """
        del self._regs[old.target.key]
        creds = old.target.credentials
        if isinstance(creds, V3Credentials) and not any(
            r.slot is old.slot and r.target.credentials == creds for r in self._regs.values()
        ):
            if old.slot.v3_users.get(creds.user) == creds:
                del old.slot.v3_users[creds.user]

    def _slot_for(self, creds: Credentials) -> _EngineSlot:
        if isinstance(creds, V2cCredentials):
            return self._slots[0]
        for slot in self._slots:
            held = slot.v3_users.get(creds.user)
            if held is None or held == creds:
                slot.v3_users[creds.user] = creds
                return slot
        slot = _EngineSlot(SnmpEngine())
        slot.v3_users[creds.user] = creds
        self._slots.append(slot)
        log.info("snmp_extra_engine user=%s engines=%d", creds.user, len(self._slots))
        return slot

    async def _open(self, slot: _EngineSlot) -> None:
        """Give the engine its UDP socket (enlarged receive buffer) and our receive hook."""
        if slot.open:
            return
        slot.open = True
        engine = slot.engine
        transport = udp.UdpAsyncioTransport().open_client_mode()
        engine_config.add_transport(engine, udp.DOMAIN_NAME, transport)
        await _until(lambda: transport.transport is not None, 5.0, "pysnmp UDP socket")
        sock = transport.transport.get_extra_info("socket")
        slot.rcvbuf = self._enlarge_rcvbuf(sock)
        slot.sock, slot.inode = sock, os.fstat(sock.fileno()).st_ino
        (slot.parse_errors,) = engine.get_mib_builder().import_symbols("__SNMPv2-MIB", "snmpInASNParseErrs")
        # Route datagrams through our hook (public dispatcher API) so replies pysnmp drops as
        # undecodable or unmatched can be told apart from silence when a request times out.
        dispatcher = engine.transport_dispatcher
        dispatcher.unregister_recv_callback()
        dispatcher.register_recv_callback(partial(self._on_datagram, slot))

    def _enlarge_rcvbuf(self, sock: Any) -> int:
        want = self._rcvbuf_wanted
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, want)
            # Linux reports twice the usable size (bookkeeping overhead) and caps at rmem_max.
            got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 2
            if got < want and hasattr(socket, "SO_RCVBUFFORCE"):
                try:  # beyond net.core.rmem_max: allowed with CAP_NET_ADMIN only
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUFFORCE, want)
                    got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 2
                except OSError:
                    pass
        except OSError as exc:
            log.warning("snmp_rcvbuf_failed wanted=%d error=%s", want, exc)
            return 0
        if got < want:
            log.warning(
                "snmp_rcvbuf_small wanted=%d got=%d hint=raise net.core.rmem_max; replies may be dropped",
                want,
                got,
            )
        else:
            log.debug("snmp_rcvbuf wanted=%d got=%d", want, got)
        return int(got)

    def _on_datagram(
        self, slot: _EngineSlot, dispatcher: Any, domain: Any, address: Any, message: bytes
    ) -> None:
        delivered = self._delivered
        parse_errors = int(slot.parse_errors.syntax)
        try:
            slot.engine.message_dispatcher.receive_message(slot.engine, domain, address, message)
        finally:
            if self._delivered == delivered:
                peer = self._peers.get((str(address[0]), int(address[1])))
                if int(slot.parse_errors.syntax) != parse_errors:
                    self.stats.undecodable_datagrams += 1
                    if peer is not None:
                        peer.undecodable += 1
                else:
                    # v3 discovery reports land here too; they are only counted, never blamed.
                    self.stats.unmatched_datagrams += 1
                    if peer is not None:
                        peer.unmatched += 1

    async def close(self) -> None:
        """Release the sockets; pending requests end as timeouts."""
        if self._closed:
            return
        self._closed = True
        slots = [slot for slot in self._slots if slot.open]
        for slot in slots:  # stop reading first: a datagram read but not yet handed on needs its transport
            transport = slot.engine.transport_dispatcher.get_transport(udp.DOMAIN_NAME).transport
            if transport is not None:
                transport.close()
        await asyncio.sleep(0)  # those hand-overs run now, while pysnmp still knows the transport
        for slot in slots:
            slot.engine.close_dispatcher()

    # -- one exchange ---------------------------------------------------------------------------

    def _on_response(
        self,
        engine: SnmpEngine,
        handle: int,
        error_indication: Any,
        error_status: Any,
        error_index: Any,
        var_binds: Any,
        fut: asyncio.Future[Any],
    ) -> None:
        self._delivered += 1
        if not fut.done():
            fut.set_result((error_indication, error_status, error_index, var_binds))

    async def _exchange(
        self,
        reg: _Registration,
        verb: str,
        oids: Sequence[str] | Sequence[Oid],
        op: str,
        bulk: BulkRequest | None = None,
    ) -> _Answer | Failure:
        """Send one GET (``bulk`` None) or GETBULK and wait for its reply, bounded by the semaphore."""
        target = reg.target
        slot = reg.slot
        varbinds = [(rfc1902.ObjectName(oid), _NULL) for oid in oids]
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        attempts = target.retries + 1
        # pysnmp times the request out itself; this only guards against a reply callback that never
        # comes. v3 engine discovery may add rounds, hence the generous margin.
        deadline = target.timeout * (attempts + 5) + 1.0
        async with self._sem:
            peer = self._peers[reg.address]
            undecodable, unmatched = peer.undecodable, peer.unmatched
            started, sent_at = time.monotonic(), time.time()
            stats = self.stats
            stats.requests += 1
            stats.in_flight += 1
            stats.in_flight_peak = max(stats.in_flight_peak, stats.in_flight)
            try:
                if bulk is None:
                    slot.get.send_varbinds(
                        slot.engine, reg.addr_name, None, b"", varbinds, self._on_response, fut
                    )
                else:
                    slot.bulk.send_varbinds(
                        slot.engine,
                        reg.addr_name,
                        None,
                        b"",
                        bulk.non_repeaters,
                        bulk.max_repetitions,
                        varbinds,
                        self._on_response,
                        fut,
                    )
                async with asyncio.timeout(deadline):
                    error_indication, error_status, error_index, reply = await fut
            except StatusInformation as exc:
                indication = exc.get("errorIndication") if hasattr(exc, "get") else None
                return self._indication_failure(reg, verb, op, indication, time.monotonic() - started)
            except TimeoutError:
                self.stats.timeouts += 1
                return Failure(
                    ErrorKind.TIMEOUT,
                    f"timeout after {time.monotonic() - started:.1f} s (no callback from pysnmp)"
                    f" {verb} {reg.where}, {op}",
                )
            except PySnmpError as exc:
                return Failure(
                    ErrorKind.PROTOCOL, f"pysnmp refused the request {verb} {reg.where}, {op}: {exc}"
                )
            finally:
                stats.in_flight -= 1
            waited = time.monotonic() - started
            answered_at = time.time()

        if error_indication:
            if isinstance(error_indication, errind.RequestTimedOut):
                self.stats.timeouts += 1
                return self._timeout_failure(
                    reg, verb, op, waited, peer.undecodable - undecodable, peer.unmatched - unmatched
                )
            return self._indication_failure(reg, verb, op, error_indication, waited)
        status = int(error_status or 0)
        if status:
            index = int(error_index or 0)
            culprit = ""
            if 0 < index <= len(oids):
                bad = oids[index - 1]
                culprit = " at " + oid_name(bad if isinstance(bad, str) else format_oid(bad))
            kind = ErrorKind.AUTH if status == _AUTHORIZATION_ERROR else ErrorKind.SNMP_ERROR
            return Failure(
                kind,
                f"agent answered {_status_name(status)}{culprit} after {waited:.2f} s {verb} {reg.where}, {op}",
                status=status,
            )
        self.stats.varbinds += len(reply)
        return _Answer(reply, sent_at, answered_at)

    def _timeout_failure(
        self, reg: _Registration, verb: str, op: str, waited: float, undecodable: int, unmatched: int
    ) -> Failure:
        target = reg.target
        text = (
            f"timeout after {target.retries + 1} attempts × {target.timeout:g} s (waited {waited:.1f} s)"
            f" {verb} {reg.where}, {op}"
        )
        if undecodable:
            return Failure(
                ErrorKind.PROTOCOL,
                f"no valid reply: {undecodable} undecodable datagram(s) from"
                f" {reg.address[0]}:{reg.address[1]} instead; {text}",
            )
        if unmatched and isinstance(target.credentials, V2cCredentials):
            text += (
                f"; {unmatched} reply(ies) from {reg.address[0]}:{reg.address[1]} matched no pending"
                " request (late, or wrong request-id)"
            )
        elif unmatched:
            # An agent that cannot decrypt our scoped PDU (wrong privacy key) drops it silently after
            # answering engine discovery: a live agent, yet a timeout.
            text += (
                f"; {unmatched} datagram(s) from {reg.address[0]}:{reg.address[1]} answered no pending"
                " request (v3 discovery reports or late replies): the agent is alive; if this persists,"
                " suspect the privacy key"
            )
        return Failure(ErrorKind.TIMEOUT, text)

    def _indication_failure(
        self, reg: _Registration, verb: str, op: str, indication: Any, waited: float
    ) -> Failure:
        if isinstance(indication, _AUTH_INDICATIONS):
            kind = ErrorKind.AUTH
        elif isinstance(indication, errind.RequestTimedOut):
            kind = ErrorKind.TIMEOUT
        else:
            kind = ErrorKind.PROTOCOL  # badResponse, parse errors, unexpected reports, …
        name = type(indication).__name__ if isinstance(indication, errind.ErrorIndication) else "error"
        return Failure(kind, f"{name}: {indication} after {waited:.2f} s {verb} {reg.where}, {op}")

    async def _registration(self, target: Target) -> _Registration | Failure:
        reg = self._regs.get(target.key)
        if reg is not None and reg.target == target:
            return reg
        log.debug("snmp_late_register ap=%s", target.key)  # register() should have seen it
        try:
            return await self._register(target)
        except ValueError as exc:
            return Failure(
                ErrorKind.AUTH, f"unusable credentials for {target.key} {target.host}:{target.port}: {exc}"
            )

    # -- the Wire the shared reader drives ----------------------------------------------------------

    typed = True  # pyasn1 keeps each value's SNMP type

    async def handle(self, target: Target) -> _Registration | Failure:
        return await self._registration(target)

    def where(self, handle: _Registration) -> str:
        return handle.where

    async def get(self, handle: _Registration, oids: Sequence[str], verb: str, op: str) -> Reply | Failure:
        answer = await self._exchange(handle, verb, oids, op)
        if isinstance(answer, Failure):
            return answer
        return Reply({str(oid): _plain(value) for oid, value in answer.varbinds}, answer.sent_at, answer.answered_at)

    async def bulk(self, handle: _Registration, request: BulkRequest, verb: str, op: str) -> list[ColumnPart] | Failure:
        answer = await self._exchange(handle, verb, request.start_oids, op, bulk=request)
        if isinstance(answer, Failure):
            return answer
        varbinds = [(oid.asTuple(), _plain(value)) for oid, value in answer.varbinds]
        return [ColumnPart(rows) for rows in split_bulk(request, varbinds)]

    # -- probe and poll: the shared reader ----------------------------------------------------------

    async def probe(self, target: Target) -> ProbeResult:
        """One GET of sysUpTime.0. Device problems come back as a result, never as an exception."""
        return await self._reader.probe(target)

    async def poll(self, target: Target, profile: Profile) -> PollResult:
        """GET of uptime, sysDescr, sysObjectID, then GETBULK walks of every column of the profile."""
        return await self._reader.poll(target, profile)
