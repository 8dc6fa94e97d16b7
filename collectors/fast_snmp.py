"""The gufo-snmp 0.13 (Rust core) engine under :class:`collectors.reader.Reader`: the accelerated path.

It costs about a tenth of pysnmp's CPU per poll (SNMP-NOTES, "gufo-snmp"), and is used the way the notes
say it must be:

* One socket per target, connected to it, made at :meth:`GufoClient.register`; 10,000 targets are
  10,000 file descriptors, so register() raises the soft ``RLIMIT_NOFILE`` to fit (see
  :func:`ensure_fd_limit`) or refuses with the limit to raise.
* One request at a time per socket (a second one in flight makes the first time out): a lock per target
  serialises probe, poll and controller walks of one agent. A semaphore bounds requests in flight overall;
  a GETBULK step holds both across its columns' requests.
* No retries parameter: each request gets ``target.retries + 1`` attempts of ``target.timeout`` seconds,
  pysnmp's semantics, timed here (the deadline is ours, not gufo's, so a stray datagram does not extend it).
* ``getbulk`` walks one column: a GETBULK step of the shared :class:`~collectors.table_walk.TableWalk`
  becomes one single-column GETBULK per column, each continuing its column's own iterator.
* v3 keys are master keys, hashed from the pass phrases once per credential set (the hash is a
  million-byte digest, 1 ms or more), localised by gufo for each agent's engine ID.

It drives the sockets of ``gufo.snmp._fast`` (typed in its ``_fast.pyi``) rather than ``SnmpSession``:
a session's iterators cost a Python await per varbind, its receive loop restarts the whole timeout on
every datagram that is not the answer, and it raises on the first undecodable datagram, where pysnmp
ignores it and goes on waiting.

What it cannot do, and :func:`collectors.engines.choose_engine` knows: gufo-snmp hands values over as
bare Python ints, bytes and str, without their SNMP type, so sysUpTime is checked for range only (a
Counter64 or INTEGER uptime below 2**32 passes) and the counter width of interface octets comes from
the profile (an agent serving ifHCInOctets as Counter32 is read as 64-bit); and it reads no error-status
but authorizationError (an object answered genErr or noSuchName reads as missing, not snmp_error).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import resource
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gufo.snmp import _fast
from gufo.snmp.user import (
    Aes128Key,
    Aes192Key,
    Aes256Key,
    BaseAuthKey,
    BasePrivKey,
    DesKey,
    KeyType,
    Md5Key,
    Sha1Key,
    Sha224Key,
    Sha256Key,
    Sha384Key,
    Sha512Key,
    User,
)

from collectors.errors import WifimonError
from collectors.profile import Profile
from collectors.reader import (UDP_TABLES, ClientStats, Failure, Limits, Reader, Reply, register_all,
                               socket_drops, unresolved)
from collectors.table_walk import BulkRequest, ColumnPart, Oid, format_oid, parse_oid
from collectors.types import (
    AuthProtocol,
    ErrorKind,
    PollResult,
    PrivProtocol,
    ProbeResult,
    Target,
    V2cCredentials,
    V3Credentials,
)

log = logging.getLogger("collectors.snmp")

T = TypeVar("T")

_AUTH_KEYS: dict[AuthProtocol, type[BaseAuthKey]] = {
    "md5": Md5Key, "sha": Sha1Key, "sha224": Sha224Key, "sha256": Sha256Key, "sha384": Sha384Key,
    "sha512": Sha512Key,
}
# AES-192/256: gufo's default key expansion is Blumenthal's, as net-snmp's and collectors.usm's.
_PRIV_KEYS: dict[PrivProtocol, type[BasePrivKey]] = {
    "des": DesKey, "aes": Aes128Key, "aes192": Aes192Key, "aes256": Aes256Key,
}

FD_RESERVE = 1024
"""Descriptors the service needs besides one per gufo target: pysnmp's and the trap receiver's sockets,
the database pool, HTTP connections, log and journal files."""

V3_REFRESH_S = 120.0
"""gufo keeps the agent's engine time from its last report; SnmpSession's docs ask for a refresh when
150 s have passed, so a v3 session re-synchronises before that."""

FRESH_REPETITIONS = 10
"""The least max-repetitions a column's iterator starts with (TableWalk's default for a table of unknown length)."""

_Sock = Any  # _fast.SnmpV2cClientSocket | _fast.SnmpV3ClientSocket


class FdLimitError(WifimonError):
    """The hard limit on open files is below what the gufo engine needs; the message says what to raise."""


def fd_needed(targets: int) -> int:
    """File descriptors the service needs with ``targets`` targets on the gufo engine."""
    return targets + FD_RESERVE


def ensure_fd_limit(targets: int) -> int:
    """Raise the soft RLIMIT_NOFILE to fit one socket per target (up to the hard limit); the soft limit now.

    FdLimitError when the hard limit itself is too low: only the operator (ulimit -Hn, systemd
    ``LimitNOFILE=``, Docker ``--ulimit nofile=``) can raise it.
    """
    needed = fd_needed(targets)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise FdLimitError(
                f"the gufo SNMP engine needs {needed} open files ({targets} targets, one UDP socket each,"
                f" + {FD_RESERVE}), but the hard limit (ulimit -Hn) is {hard}: raise it (systemd LimitNOFILE=,"
                f" docker --ulimit nofile={needed}:{needed}) or set service.snmp_engine: pysnmp (one socket)"
            )
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
        log.info("snmp_fd_limit_raised soft=%d needed=%d hard=%s", needed, targets, hard)
        soft = needed
    return int(soft)


def _user(creds: V3Credentials) -> User:
    """The gufo user with master keys for ``creds`` (GufoClient keeps one per credential set)."""
    auth_key: BaseAuthKey | None = None
    priv_key: BasePrivKey | None = None
    if creds.auth_protocol and creds.auth_key:
        auth_cls = _AUTH_KEYS[creds.auth_protocol]
        auth_key = auth_cls(auth_cls.get_master_key(creds.auth_key.encode()), KeyType.Master)
        if creds.priv_protocol and creds.priv_key:
            # The privacy key is hashed with the authentication protocol's digest (RFC 3414 §2.6).
            priv_key = _PRIV_KEYS[creds.priv_protocol](auth_cls.get_master_key(creds.priv_key.encode()),
                                                      KeyType.Master)
    return User(creds.user, auth_key=auth_key, priv_key=priv_key)


@dataclass
class _Session:
    """One target's socket, and what one walk of it keeps between GETBULK steps."""

    target: Target
    address: tuple[str, int]
    addr: str  # as gufo wants it: host:port, [v6]:port
    sock: _Sock
    fd: int
    inode: int
    # Sockets of retransmissions: gufo gives every request a new request-id and accepts only the latest, so a
    # retry on the same socket would drop a late answer to the first attempt, which pysnmp (resending the
    # same request) takes. A retry goes out on a socket of its own, and every attempt's socket is read.
    spares: list[tuple[_Sock, int, int]] = field(default_factory=list)  # (socket, fd, inode)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    user: User | None = None  # v3
    synced_at: float = -1e9  # monotonic, last v3 engine discovery / time refresh; never for v2c
    keyed: bool = False  # v3: keys set, after the agent's engine ID was discovered
    iters: dict[tuple[Oid, Oid], Any] = field(default_factory=dict)  # (column, position) → its GetIter
    rtt_min: float = float("inf")  # seconds, the fastest answer so far (first attempts only)
    answers: int = 0

    @property
    def where(self) -> str:
        return f"{self.target.key} {self.target.host}:{self.target.port}"


@dataclass
class _Tally:
    """What went wrong with one request's attempts, for the failure detail."""

    undecodable: int = 0
    refused: int = 0


class _Expired:
    """The deadline passed without the answer."""


EXPIRED = _Expired()


class _Refused(Exception):
    """The host answered ICMP port unreachable (gufo raises TimeoutError("connection refused"))."""


def _readable(fut: asyncio.Future[int], which: int) -> None:
    if not fut.done():
        fut.set_result(which)


def _expired(fut: asyncio.Future[int]) -> None:
    if not fut.done():
        fut.set_result(-1)


def _recv_refresh(sock: _Sock) -> None:
    sock.recv_refresh()


def _recv_get_many(sock: _Sock) -> dict[str, Any]:
    return sock.recv_get_many()  # type: ignore[no-any-return]


class GufoClient:
    """SNMP v2c/v3 client on gufo-snmp: the same :class:`~collectors.types.SnmpClient` as PysnmpClient,
    polls read by the same :class:`~collectors.reader.Reader`."""

    typed = False  # gufo gives bare ints: no TimeTicks, no Counter32/Counter64

    def __init__(self, max_in_flight: int = 50, *, max_varbinds: int = 100, max_rows: int = 1000,
                 max_requests: int = 40) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self._sem = asyncio.Semaphore(max_in_flight)
        self._sessions: dict[str, _Session] = {}
        self._users: dict[V3Credentials, User] = {}  # master keys: hashed once per credential set, not per target
        self._closed = False
        self._typical = (-1e9, 0.0)  # (when, median fastest answer)
        self._reader = Reader(self, Limits(max_varbinds, max_rows, max_requests))
        self.stats = ClientStats()

    # -- set-up ---------------------------------------------------------------------------------

    @property
    def sockets(self) -> int:
        return len(self._sessions)

    def round_trip(self, key: str) -> tuple[float, int]:
        """(fastest answer so far in seconds, answers seen) for the target ``key``; (inf, 0) before any."""
        s = self._sessions.get(key)
        return (s.rtt_min, s.answers) if s is not None else (float("inf"), 0)

    def typical_round_trip(self, now: float) -> float:
        """The median over targets of their fastest answer (seconds; recomputed at most every 10 s of the
        monotonic ``now``): what a slow link is told from. A loop too busy to read answers in time slows every
        target alike, and then none is slow compared with the others."""
        if now - self._typical[0] > 10.0:
            fastest = sorted(s.rtt_min for s in self._sessions.values() if s.answers)
            self._typical = (now, fastest[len(fastest) // 2] if fastest else 0.0)
        return self._typical[1]

    def receive_drops(self, tables: Sequence[str] = UDP_TABLES) -> int | None:
        """Datagrams the kernel dropped on this client's sockets (see PysnmpClient.receive_drops)."""
        inodes = {s.inode for s in self._sessions.values()}
        inodes.update(spare[2] for s in self._sessions.values() for spare in s.spares)
        return socket_drops(inodes, tables) if inodes else 0

    async def register(self, targets: Sequence[Target]) -> None:
        """Open a socket per target (raising the open-files limit first: FdLimitError when it cannot).

        ValueError lists every target whose credentials gufo cannot use; a host name that does not
        resolve is logged and retried at the target's first request.
        """
        ensure_fd_limit(len({t.key for t in targets} | set(self._sessions)))
        problems = await register_all(targets, self._open)
        log.info("snmp_registered engine=gufo targets=%d problems=%d", len(self._sessions), len(problems))
        if problems:
            raise ValueError("unusable SNMP credentials:\n" + "\n".join(problems))

    async def _address(self, target: Target) -> tuple[str, int] | Failure:
        try:
            return str(ipaddress.ip_address(target.host)), target.port
        except ValueError:
            pass
        try:
            async with asyncio.timeout(10.0):  # getaddrinfo has no timeout of its own
                infos = await asyncio.get_running_loop().getaddrinfo(target.host, target.port,
                                                                     type=socket.SOCK_DGRAM)
        except (OSError, TimeoutError) as exc:
            return unresolved(target, exc)
        return str(infos[0][4][0]), target.port

    async def _open(self, target: Target) -> _Session | Failure:
        old = self._sessions.get(target.key)
        if old is not None and old.target == target:
            return old
        if self._closed:
            raise RuntimeError("GufoClient is closed")
        creds = target.credentials
        user = None
        if isinstance(creds, V3Credentials):
            user = self._users.get(creds) or self._users.setdefault(creds, _user(creds))
        if isinstance(creds, V3Credentials) and creds.priv_protocol and not creds.auth_protocol:
            raise ValueError(f"v3 user {creds.user!r}: privacy needs authentication (authPriv or authNoPriv)")
        address = await self._address(target)
        if isinstance(address, Failure):
            return address
        host, port = address
        addr = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        sock: _Sock
        try:
            if isinstance(creds, V2cCredentials):
                sock = _fast.SnmpV2cClientSocket(addr, creds.community, 0, 0, 0, 0)
            else:
                # Keys are set after engine discovery (the agent's engine ID localises them).
                sock = _fast.SnmpV3ClientSocket(addr, b"", "", 0, b"", 0, b"", 0, 0, 0, 0)
        except OSError as exc:
            return Failure(ErrorKind.PROTOCOL, f"cannot open a socket to {target.key} {addr}: {exc}")
        fd = sock.get_fd()
        session = _Session(target, address, addr, sock, fd, os.fstat(fd).st_ino, user=user)
        self._sessions[target.key] = session
        return session

    async def close(self) -> None:
        """Forget the sockets (gufo closes each when its object goes); pending requests end as timeouts."""
        self._closed = True
        self._sessions.clear()

    # -- one exchange ---------------------------------------------------------------------------

    async def _wait(self, channels: Sequence[tuple[_Sock, int]], recv: Callable[[_Sock], T], deadline: float,
                    tally: _Tally) -> T | _Expired:
        """Read the answer from whichever of ``channels`` (socket, fd) has it, until the loop time ``deadline``;
        EXPIRED when it passes."""
        loop = asyncio.get_running_loop()
        while True:
            fut: asyncio.Future[int] = loop.create_future()
            for i, (_, fd) in enumerate(channels):
                loop.add_reader(fd, _readable, fut, i)
            timer = loop.call_at(deadline, _expired, fut)
            try:
                which = await fut
            finally:
                for _, fd in channels:
                    loop.remove_reader(fd)
                timer.cancel()
            if which < 0:
                return EXPIRED
            try:
                return recv(channels[which][0])
            except BlockingIOError:  # a datagram that was not the answer (other request-id, community)
                continue
            except _fast.SnmpDecodeError:  # not SNMP at all: ignored, as pysnmp does, but told at the end
                tally.undecodable += 1
                self.stats.undecodable_datagrams += 1
                continue
            except TimeoutError as exc:  # gufo's name for ECONNREFUSED on the connected socket
                raise _Refused from exc
            except BaseException as exc:
                # gufo 0.13's decoder panics (pyo3's PanicException, a BaseException) on some malformed
                # datagrams, e.g. "index out of bounds" on 23 bytes of non-SNMP: undecodable, like the above.
                if type(exc).__name__ != "PanicException":
                    raise
                tally.undecodable += 1
                self.stats.undecodable_datagrams += 1
                continue

    async def _spare(self, s: _Session, k: int, tally: _Tally) -> tuple[_Sock, int] | None:
        """The socket of the ``k``-th retransmission (made at its first need); None when v3 cannot have one yet."""
        if k < len(s.spares):
            return s.spares[k][:2]
        creds = s.target.credentials
        sock: _Sock
        try:
            if isinstance(creds, V2cCredentials):
                sock = _fast.SnmpV2cClientSocket(s.addr, creds.community, 0, 0, 0, 0)
            else:
                user, engine_id = s.user, s.sock.get_engine_id()
                if user is None or not s.keyed or not engine_id:
                    return None
                sock = _fast.SnmpV3ClientSocket(s.addr, engine_id, user.name, user.get_auth_alg(), user.get_auth_key(),
                                                user.get_priv_alg(), user.get_priv_key(), 0, 0, 0, 0)
        except OSError:
            return None
        fd = sock.get_fd()
        if isinstance(creds, V3Credentials):  # its own boots and time, one round trip (keys are localised already)
            try:
                sock.send_refresh()
                deadline = asyncio.get_running_loop().time() + s.target.timeout
                if await self._wait([(sock, fd)], _recv_refresh, deadline, tally) is EXPIRED:
                    return None
            except (_Refused, _fast.SnmpError):
                return None
        s.spares.append((sock, fd, os.fstat(fd).st_ino))
        return sock, fd

    async def _exchange(self, s: _Session, send: Callable[[_Sock], None], recv: Callable[[_Sock], T], verb: str,
                        op: str) -> tuple[T, float, float] | Failure:
        """One request with ``retries + 1`` attempts of ``timeout`` s each: (answer, sent_at, answered_at).

        The caller holds the session's lock and a slot of the semaphore (a GETBULK step holds them across its
        columns' requests: one acquisition instead of one per column)."""
        target = s.target
        tally = _Tally()
        loop = asyncio.get_running_loop()
        stats = self.stats
        started, sent_at = time.monotonic(), time.time()
        stats.requests += 1
        stats.in_flight += 1
        stats.in_flight_peak = max(stats.in_flight_peak, stats.in_flight)
        try:
            if s.user is not None and time.monotonic() - s.synced_at > V3_REFRESH_S:
                synced = await self._sync(s, tally, verb, op)
                if isinstance(synced, Failure):
                    return synced
            channels = [(s.sock, s.fd)]
            attempts, resynced, sent = target.retries + 1, False, 0
            while attempts > 0:
                attempts -= 1
                channel = channels[0]
                if sent:  # a retransmission: on a socket of its own, so that an answer to an earlier one counts
                    spare = await self._spare(s, sent - 1, tally)
                    if spare is not None:
                        channel = spare
                        channels.append(spare)
                sent += 1
                sent_mono = time.monotonic()
                try:
                    send(channel[0])
                    answer = await self._wait(channels, recv, loop.time() + target.timeout, tally)
                except _Refused:
                    tally.refused += 1
                    continue
                except _fast.SnmpAuthError:
                    if s.user is not None and not resynced:  # the agent rebooted: a new engine time
                        resynced, attempts = True, attempts + 1
                        channels, sent = [(s.sock, s.fd)], 0
                        s.spares.clear()  # their engine time is as stale: made again when needed
                        if await self._sync(s, tally, verb, op) is None:
                            continue
                    return self._auth_failure(s, verb, op, time.monotonic() - started)
                except OSError as exc:
                    return Failure(ErrorKind.PROTOCOL, f"socket error {exc} {verb} {s.where}, {op}")
                if not isinstance(answer, _Expired):
                    if sent == 1:
                        s.rtt_min = min(s.rtt_min, time.monotonic() - sent_mono)
                        s.answers += 1
                    return answer, sent_at, time.time()
        finally:
            stats.in_flight -= 1
        stats.timeouts += 1
        return self._timeout_failure(s, verb, op, time.monotonic() - started, tally)

    async def _sync(self, s: _Session, tally: _Tally, verb: str, op: str) -> None | Failure:
        """v3: discover the agent's engine ID (the first time; then set the keys) and its boots and time."""
        sock, loop, target = s.sock, asyncio.get_running_loop(), s.target
        user = s.user
        assert user is not None
        rounds = 1 if s.keyed or not user.require_auth() else 2  # discovery, then an authenticated refresh
        attempts = target.retries + 1
        while rounds and attempts:
            try:
                sock.send_refresh()
                if await self._wait([(sock, s.fd)], _recv_refresh, loop.time() + target.timeout, tally) is EXPIRED:
                    attempts -= 1
                    continue
            except _Refused:
                tally.refused += 1
                attempts -= 1
                continue
            except _fast.SnmpError as exc:
                return Failure(ErrorKind.AUTH, f"v3 engine discovery refused ({exc}) {verb} {s.where}, {op}")
            rounds -= 1
            if not s.keyed:
                sock.set_keys(user.name, user.get_auth_alg(), user.get_auth_key(), user.get_priv_alg(),
                              user.get_priv_key())
                s.keyed = True
        if rounds:
            return Failure(ErrorKind.TIMEOUT, f"timeout in v3 engine discovery after {target.retries + 1}"
                           f" attempts × {target.timeout:g} s {verb} {s.where}, {op}")
        s.synced_at = time.monotonic()
        return None

    def _auth_failure(self, s: _Session, verb: str, op: str, waited: float) -> Failure:
        creds = s.target.credentials
        what = ("authorizationError (community not allowed this object)" if isinstance(creds, V2cCredentials)
                else f"v3 report: user {creds.user!r} refused (unknown user, wrong digest or key, time window)")
        return Failure(ErrorKind.AUTH, f"{what} after {waited:.2f} s {verb} {s.where}, {op}")

    def _timeout_failure(self, s: _Session, verb: str, op: str, waited: float, tally: _Tally) -> Failure:
        target = s.target
        text = (f"timeout after {target.retries + 1} attempts × {target.timeout:g} s (waited {waited:.1f} s)"
                f" {verb} {s.where}, {op}")
        host, port = s.address
        if tally.undecodable:
            return Failure(ErrorKind.PROTOCOL,
                           f"no valid reply: {tally.undecodable} undecodable datagram(s) from {host}:{port} instead;"
                           f" {text}")
        if tally.refused:
            text += f"; {tally.refused} attempt(s) answered ICMP port unreachable: nothing listens on {host}:{port}"
        return Failure(ErrorKind.TIMEOUT, text)

    # -- the Wire the shared reader drives ----------------------------------------------------------

    async def handle(self, target: Target) -> _Session | Failure:
        session = self._sessions.get(target.key)
        if session is not None and session.target == target:
            return session
        log.debug("snmp_late_register ap=%s", target.key)  # register() should have seen it
        try:
            return await self._open(target)
        except ValueError as exc:
            return Failure(ErrorKind.AUTH, f"unusable credentials for {target.key} {target.host}:{target.port}: {exc}")

    def where(self, handle: _Session) -> str:
        return handle.where

    async def get(self, handle: _Session, oids: Sequence[str], verb: str, op: str) -> Reply | Failure:
        asked = list(oids)
        async with handle.lock, self._sem:
            answer = await self._exchange(handle, lambda k: k.send_get_many(asked), _recv_get_many, verb, op)
        if isinstance(answer, Failure):
            return answer
        values, sent_at, answered_at = answer
        self.stats.varbinds += len(values)
        return Reply(values, sent_at, answered_at)

    async def bulk(self, handle: _Session, request: BulkRequest, verb: str, op: str) -> list[ColumnPart] | Failure:
        parts: list[ColumnPart] = []
        # A column's iterator keeps the max-repetitions it was made with for the rest of the walk (gufo cannot
        # change it, nor start an iterator mid-column), so it starts with at least the walk's default: a column
        # absent last time (a non-repeater, one row asked) or longer than last time must not then come one or
        # two rows per request and hit the request cap where pysnmp's walk would not.
        reps = max(request.max_repetitions, FRESH_REPETITIONS)
        async with handle.lock, self._sem:
            for column, start in zip(request.columns, request.start_oids, strict=True):
                part = await self._column_step(handle, column, start, reps, verb, op)
                if isinstance(part, Failure):
                    return part
                parts.append(part)
        return parts

    async def _column_step(self, s: _Session, column: Oid, start: Oid, reps: int, verb: str,
                           op: str) -> ColumnPart | Failure:
        """One single-column GETBULK continuing ``column`` from ``start`` (gufo's iterator remembers where)."""
        if start == column:
            for key in [k for k in s.iters if k[0] == column]:  # a new walk of the column: forget the old
                del s.iters[key]
            it = _fast.GetIter(format_oid(column), reps)
        else:
            it = s.iters.pop((column, start), None)
            if it is None:
                return Failure(ErrorKind.PROTOCOL, f"internal: no iterator for column {format_oid(column)} at"
                               f" {format_oid(start)} {verb} {s.where}, {op}")

        def recv(sock: _Sock) -> list[tuple[str, Any] | None]:
            try:
                return sock.recv_get_bulk(it)  # type: ignore[no-any-return]
            except StopAsyncIteration:  # gufo's word for "nothing left in the column"
                return []

        answer = await self._exchange(s, lambda k: k.send_get_bulk(it), recv, verb, op)
        if isinstance(answer, Failure):
            return answer
        items = answer[0]
        self.stats.varbinds += len(items)
        ended = not items or items[-1] is None
        varbinds = [(parse_oid(item[0]), item[1]) for item in items if item is not None]
        if not ended:
            s.iters[(column, varbinds[-1][0])] = it
        return ColumnPart(varbinds, ended)

    # -- probe and poll: the shared reader ----------------------------------------------------------

    async def probe(self, target: Target) -> ProbeResult:
        """One GET of sysUpTime.0. Device problems come back as a result, never as an exception."""
        return await self._reader.probe(target)

    async def poll(self, target: Target, profile: Profile) -> PollResult:
        """GET of uptime, sysDescr, sysObjectID, then single-column GETBULK walks of the profile's columns."""
        return await self._reader.poll(target, profile)
