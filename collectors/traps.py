"""SNMP trap receiver on pysnmp 7.1 (asyncio): v1/v2c communities and v3 USM users in, plain
:class:`TrapEvent` values out, through a callback.

Why it is built this way:

* The sender's address is checked first. A datagram from an address that is not a device of the
  inventory is dropped before pysnmp decodes it (no decryption work for strangers) and reported as
  ``unknown_source``.
* pysnmp drops a notification with a wrong community or bad v3 credentials without telling the
  application: the only trace is the engine's own counters (SNMPv2-MIB ``snmpInBadCommunityNames``;
  SNMP-USER-BASED-SM-MIB ``usmStatsUnknownUserNames``, ``usmStatsWrongDigests``,
  ``usmStatsDecryptionErrors``, ``usmStatsNotInTimeWindows``, ``usmStatsUnknownEngineIDs``,
  ``usmStatsUnsupportedSecLevels``; ``snmpInASNParseErrs``, ``snmpInBadVersions``). The receiver reads
  them around each datagram it hands to pysnmp, so every drop is classified (``bad_auth``,
  ``malformed``, ``not_notification``) without patching the library.
* A v3 trap is sent by the *sender's* engine (the sender is authoritative), so the receiver needs the
  user's keys localised to each sender's engine ID. net-snmp's snmptrapd wants one ``createUser -e ID``
  line per sender. We hold the pass phrases, so the first time a configured user name arrives from a
  device of the inventory with an engine ID not seen yet, we localise the user's keys for it (from master
  keys hashed once at start: microseconds) and check the message's digest ourselves, *before* telling
  pysnmp anything: an engine ID is learned only from a message that proves the sender holds the key (for a
  user without authentication, at most the per-source quota). Learned IDs are bounded per source
  (``max_engine_ids_per_source``) and in total (``max_engine_ids``), least recently used forgotten first;
  :attr:`TrapReceiver.engine_ids` says how many are held.
* Nothing a datagram can do may stall the event loop: every datagram takes a token from a budget
  (``budget`` per second); when it is spent the receiver stops reading the socket until the budget refills
  (the kernel drops the excess, which costs us nothing), and each device address has a smaller budget of
  its own (``rate_per_source``), so one noisy or spoofed source cannot use it all. Over budget is
  ``rate_limited``; a datagram larger than any trap (``MAX_DATAGRAM``) is ``malformed`` without decoding.
* Informs are acknowledged by pysnmp (v2c always; v3 because each user is also registered under our own
  engine ID, which an inform sender discovers).
* ``community_or_user`` never carries a community string: for v1/v2c it is the *name* of the
  credentials that matched, for v3 the user name.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import socket
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pyasn1.codec.ber import decoder
from pyasn1.error import PyAsn1Error
from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config as engine_config
from pysnmp.entity.engine import SnmpEngine
from pysnmp.entity.rfc3413 import ntfrcv
from pysnmp.error import PySnmpError
from pysnmp.proto.api import verdec
from pysnmp.proto.mpmod.rfc3412 import SNMPv3Message
from pysnmp.proto.secmod.rfc3414.service import UsmSecurityParameters

from collectors.profile import Profile, TrapSpec
from collectors.types import Credentials, V2cCredentials, V3Credentials
from collectors.errors import WifimonError
from collectors.usm import AUTH_PROTOCOLS, PRIV_PROTOCOLS

log = logging.getLogger(__name__)

SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"  # SNMPv2-MIB::snmpTrapOID.0: which notification this is

# The digest each authentication protocol puts in msgAuthenticationParameters: (hashlib name, octets).
_DIGESTS = {
    engine_config.USM_AUTH_HMAC96_MD5: ("md5", 12),
    engine_config.USM_AUTH_HMAC96_SHA: ("sha1", 12),
    engine_config.USM_AUTH_HMAC128_SHA224: ("sha224", 16),
    engine_config.USM_AUTH_HMAC192_SHA256: ("sha256", 24),
    engine_config.USM_AUTH_HMAC256_SHA384: ("sha384", 32),
    engine_config.USM_AUTH_HMAC384_SHA512: ("sha512", 48),
}
MAX_DATAGRAM = 16 * 1024  # bytes; a trap with its varbinds fits in far less

_BAD_AUTH_COUNTERS = (
    ("__SNMPv2-MIB", "snmpInBadCommunityNames"),
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsUnknownUserNames"),
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsWrongDigests"),
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsDecryptionErrors"),
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsNotInTimeWindows"),
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsUnsupportedSecLevels"),
)
# Grows for a v3 message without a usable engine ID: an inform sender's discovery step, not an attack.
_DISCOVERY_COUNTERS = (("__SNMP-USER-BASED-SM-MIB", "usmStatsUnknownEngineIDs"),)
_MALFORMED_COUNTERS = (
    ("__SNMPv2-MIB", "snmpInASNParseErrs"),
    ("__SNMPv2-MIB", "snmpInBadVersions"),
    ("__SNMPv2-MIB", "snmpInGenErrs"),
)


class DropReason(StrEnum):
    """Why a datagram on the trap port did not become a TrapEvent (a metric label value each)."""

    UNKNOWN_SOURCE = "unknown_source"  # not from the address of an inventory device
    RATE_LIMITED = "rate_limited"  # over the receiver's budget, or its source's
    BAD_AUTH = "bad_auth"  # wrong community; unknown v3 user, wrong key, outside the time window
    MALFORMED = "malformed"  # not SNMP, an unknown version, or a notification without snmpTrapOID.0
    NOT_NOTIFICATION = "not_notification"  # decoded and authentic, but a request rather than a notification


@dataclass(frozen=True)
class TrapEvent:
    """One authenticated notification from a device of the inventory."""

    source_host: str
    source_port: int
    trap_oid: str
    varbinds: dict[str, str]  # numeric OID → value as text; every varbind except snmpTrapOID.0
    community_or_user: str  # v1/v2c: the name of the credentials that matched (never the community); v3: user
    received_at: float  # unix seconds
    name: str = ""  # MIB name from the profiles' trap catalogue, "" when the OID is not in it
    means: str = ""  # down / up / restart / link_down / link_up, "" when not recognised

    @property
    def recognised(self) -> bool:
        return bool(self.means)


@dataclass(frozen=True)
class DroppedTrap:
    reason: DropReason
    source_host: str
    source_port: int
    received_at: float
    detail: str


class TrapReceiverError(WifimonError):
    """The receiver cannot start: the address cannot be bound, or credentials are unusable."""


def trap_catalog(profiles: Iterable[Profile]) -> dict[str, TrapSpec]:
    """Every profile's ``traps:`` merged by OID (trap OIDs are global); a conflict names both profiles."""
    catalog: dict[str, TrapSpec] = {}
    owner: dict[str, str] = {}
    for profile in profiles:
        for spec in profile.traps:
            known = catalog.get(spec.oid)
            if known is not None and known != spec:
                raise ValueError(f"trap {spec.oid} is {known.name}/{known.means} in profile {owner[spec.oid]!r}"
                                 f" but {spec.name}/{spec.means} in profile {profile.name!r}")
            catalog[spec.oid] = spec
            owner.setdefault(spec.oid, profile.name)
    return catalog


@dataclass(frozen=True)
class _V3User:
    """A v3 user as the engine wants it: protocols and master keys (pass phrases hashed once)."""

    user: str
    auth: tuple[int, ...]
    auth_master: bytes | None = field(repr=False)
    priv: tuple[int, ...]
    priv_master: bytes | None = field(repr=False)

    @classmethod
    def of(cls, name: str, creds: V3Credentials) -> _V3User:
        if creds.priv_protocol and not creds.auth_protocol:
            raise TrapReceiverError(f"credentials {name!r}: v3 privacy needs authentication")
        if bool(creds.auth_protocol) != bool(creds.auth_key) or bool(creds.priv_protocol) != bool(creds.priv_key):
            raise TrapReceiverError(f"credentials {name!r}: a v3 protocol without its key (or a key without protocol)")
        auth = AUTH_PROTOCOLS[creds.auth_protocol] if creds.auth_protocol else engine_config.USM_AUTH_NONE
        priv = PRIV_PROTOCOLS[creds.priv_protocol] if creds.priv_protocol else engine_config.USM_PRIV_NONE
        try:
            auth_master = (engine_config.AUTH_SERVICES[auth].hash_passphrase(creds.auth_key.encode())
                           if creds.auth_key else None)
            priv_master = (engine_config.PRIV_SERVICES[priv].hash_passphrase(auth, creds.priv_key.encode())
                           if creds.priv_key else None)
        except PySnmpError as exc:  # pysnmp's message names the problem, never the key
            raise TrapReceiverError(f"credentials {name!r}: v3 user {creds.user!r}: {exc}") from None
        return cls(creds.user, auth, bytes(auth_master) if auth_master else None,
                   priv, bytes(priv_master) if priv_master else None)

    def proves_key(self, message: bytes, engine_id: bytes, digest: bytes) -> bool:
        """Does ``message`` carry this user's digest, keyed for ``engine_id`` (RFC 3414 6.3.2, RFC 7860)?"""
        if self.auth_master is None:
            return False
        name, size = _DIGESTS[self.auth]
        at = message.find(digest) if len(digest) == size else -1
        if at < 0:
            return False
        key = hashlib.new(name, self.auth_master + engine_id + self.auth_master).digest()  # RFC 3414 A.2
        zeroed = message[:at] + bytes(size) + message[at + size:]
        return hmac.compare_digest(hmac.new(key, zeroed, name).digest()[:size], digest)

    def register(self, engine: SnmpEngine, engine_id: bytes | None = None) -> None:
        engine_config.add_v3_user(
            engine, self.user,
            self.auth, self.auth_master, self.priv, self.priv_master,
            securityEngineId=engine_id,
            authKeyType=engine_config.USM_KEY_TYPE_MASTER, privKeyType=engine_config.USM_KEY_TYPE_MASTER,
        )


def _v3_sender(message: bytes) -> tuple[bytes, str, bytes] | None:
    """(authoritative engine ID, user name, digest) from a v3 message header; None for anything else."""
    try:
        if verdec.decode_message_version(message) != 3:
            return None
        msg, _ = decoder.decode(message, asn1Spec=SNMPv3Message())
        params, _ = decoder.decode(msg.getComponentByPosition(2).asOctets(), asn1Spec=UsmSecurityParameters())
        return (params.getComponentByPosition(0).asOctets(),
                params.getComponentByPosition(3).asOctets().decode("utf-8", "replace"),
                params.getComponentByPosition(4).asOctets())
    except Exception:  # hostile input makes pyasn1 raise more than PyAsn1Error (e.g. TypeError)
        return None  # then pysnmp finds it malformed too, and it is counted as such


class _Bucket:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` saved up."""

    __slots__ = ("rate", "burst", "tokens", "at")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, burst, burst, now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def wait(self) -> float:
        """Seconds until the next token."""
        return max(0.0, (1 - self.tokens) / self.rate)


def _host_port(address: Any) -> tuple[str, int]:
    return str(address[0]), int(address[1])


class TrapReceiver:
    """Receives notifications on one UDP address; calls ``on_trap`` for each authentic one from a known
    device, ``on_drop`` for every other datagram. Both callbacks run on the event loop and must not block.

    ``sources``: the IP addresses of the inventory's devices. ``credentials``: name → credentials that may
    send. ``catalog``: trap OID → what it means (:func:`trap_catalog`). ``max_engine_ids`` (default: 2 per
    source, at least 64) and ``max_engine_ids_per_source`` bound the v3 engine IDs learned from senders;
    ``budget`` and ``rate_per_source`` (datagrams per second, bursts of 2 s worth, at least 20) bound the
    work datagrams can cause.
    """

    def __init__(
        self,
        listen: tuple[str, int],
        credentials: Mapping[str, Credentials],
        sources: Iterable[str],
        catalog: Mapping[str, TrapSpec],
        on_trap: Callable[[TrapEvent], None],
        on_drop: Callable[[DroppedTrap], None] = lambda drop: None,
        *,
        clock: Callable[[], float] = time.time,
        max_engine_ids: int | None = None,
        max_engine_ids_per_source: int = 4,
        budget: float = 500.0,
        rate_per_source: float = 5.0,
    ) -> None:
        self._listen = listen
        self._credentials = dict(credentials)
        self._sources = frozenset(sources)
        self._catalog = dict(catalog)
        self._on_trap = on_trap
        self._on_drop = on_drop
        self._clock = clock
        self._max_engine_ids = max_engine_ids if max_engine_ids is not None else max(64, 2 * len(self._sources))
        self._max_per_source = max_engine_ids_per_source
        self._budget = _Bucket(budget, max(20.0, 2 * budget), time.monotonic())
        self._rate_per_source = rate_per_source
        self._per_source: dict[str, _Bucket] = {}
        self._paused = False
        self._transport: Any = None
        self._engine = SnmpEngine()
        self._v2c_names: dict[str, str] = {}  # pysnmp securityName → credentials name
        self._v3_users: dict[str, _V3User] = {}
        self._learned: OrderedDict[tuple[bytes, str], str] = OrderedDict()  # (engine ID, user) → source
        self._learned_by_source: dict[str, OrderedDict[tuple[bytes, str], None]] = {}
        self._receiver: ntfrcv.NotificationReceiver | None = None
        self._delivered = 0
        self._current: tuple[str, int, float] | None = None
        self._counters: dict[str, Any] = {}  # engine MIB counter name → its node
        self._started = False
        self.address: tuple[str, int] | None = None  # bound address, once started
        self.stats: Counter[str] = Counter()  # "delivered" and each DropReason

    @property
    def sources(self) -> frozenset[str]:
        return self._sources

    @property
    def engine_ids(self) -> int:
        """v3 (engine ID, user) pairs learned from senders and held now."""
        return len(self._learned)

    # -- life cycle -----------------------------------------------------------------------------

    async def start(self) -> tuple[str, int]:
        """Bind the socket and start receiving; returns the bound (host, port)."""
        if self._started:
            raise RuntimeError("TrapReceiver already started")
        self._started = True
        self._configure_credentials()
        host, port = self._listen
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            hint = (" (ports below 1024 need root or CAP_NET_BIND_SERVICE; or listen on 1162 and redirect)"
                    if exc.errno == 13 and port < 1024 else "")
            raise TrapReceiverError(f"cannot listen for SNMP traps on {host}:{port}: {exc.strerror or exc}{hint}") from None
        sock.setblocking(False)
        self.address = _host_port(sock.getsockname())
        transport = udp.UdpAsyncioTransport().open_server_mode(sock=sock)
        self._transport = transport
        engine_config.add_transport(self._engine, udp.DOMAIN_NAME, transport)
        deadline = time.monotonic() + 5.0
        while transport.transport is None:  # pysnmp wraps the socket in a task of its own
            if time.monotonic() > deadline:
                self._engine.close_dispatcher()
                raise TrapReceiverError(f"trap socket on {host}:{port} not ready after 5.0 s")
            await asyncio.sleep(0.001)
        mib = self._engine.get_mib_builder()
        for group in (_BAD_AUTH_COUNTERS, _MALFORMED_COUNTERS, _DISCOVERY_COUNTERS):
            for module, name in group:
                self._counters[name] = mib.import_symbols(module, name)[0]
        self._receiver = ntfrcv.NotificationReceiver(self._engine, self._on_notification)
        # Route datagrams through our hook (the dispatcher's public API) to drop strangers before pysnmp
        # decodes them and to classify what pysnmp drops silently.
        dispatcher = self._engine.transport_dispatcher
        dispatcher.unregister_recv_callback()
        dispatcher.register_recv_callback(self._on_datagram)
        log.info("trap_receiver_started listen=%s:%d sources=%d v2c=%d v3=%d catalog=%d", *self.address,
                 len(self._sources), len(self._v2c_names), len(self._v3_users), len(self._catalog))
        return self.address

    async def close(self) -> None:
        """Stop receiving and release the socket."""
        if self._receiver is not None:
            self._receiver.close(self._engine)
            self._receiver = None
        if self._started and self._engine.transport_dispatcher is not None:
            self._engine.close_dispatcher()
            log.info("trap_receiver_stopped stats=%s", dict(self.stats))

    def _configure_credentials(self) -> None:
        problems = []
        for i, (name, creds) in enumerate(self._credentials.items()):
            if isinstance(creds, V2cCredentials):
                # Our own short index and security name: pysnmp limits both to 32 characters, and the
                # community itself must never end up where a name is printed.
                security_name = f"v2c-{i}"
                engine_config.add_v1_system(self._engine, security_name, creds.community, securityName=security_name)
                self._v2c_names[security_name] = name
                continue
            try:
                user = _V3User.of(name, creds)
            except TrapReceiverError as exc:
                problems.append(str(exc))
                continue
            held = self._v3_users.get(creds.user)
            if held is not None and held != user:
                problems.append(f"credentials {name!r}: v3 user {creds.user!r} is configured twice with different"
                                " keys; a trap receiver can hold one key set per user name")
                continue
            self._v3_users[creds.user] = user
            user.register(self._engine)  # under our own engine ID: what an inform sender discovers
        if problems:
            raise TrapReceiverError("\n".join(problems))

    # -- receiving ------------------------------------------------------------------------------

    def _on_datagram(self, dispatcher: Any, domain: Any, address: Any, message: bytes) -> None:
        host, port = _host_port(address)
        now = self._clock()
        tick = time.monotonic()
        if not self._budget.take(tick):
            self._pause(tick)
            self._drop(DropReason.RATE_LIMITED, host, port, now, "the receiver's budget is spent: reading paused")
            return
        if host not in self._sources:
            self._drop(DropReason.UNKNOWN_SOURCE, host, port, now, "not the address of a device in the inventory")
            return
        bucket = self._per_source.get(host)
        if bucket is None:
            bucket = self._per_source[host] = _Bucket(self._rate_per_source, max(20.0, 2 * self._rate_per_source),
                                                      tick)
        if not bucket.take(tick):
            self._drop(DropReason.RATE_LIMITED, host, port, now, "over this source's budget")
            return
        if len(message) > MAX_DATAGRAM:
            self._drop(DropReason.MALFORMED, host, port, now, f"{len(message)} bytes: larger than any trap")
            return
        if self._v3_users:
            try:
                proven = self._learn_engine_id(message, host)
            except (PySnmpError, PyAsn1Error) as exc:  # then pysnmp drops it as an unknown user: counted
                log.debug("trap_engine_learn_failed source=%s error=%s: %s", host, type(exc).__name__, exc)
            else:
                if not proven:  # a known user, a new engine ID, the wrong key: pysnmp never sees it
                    self._drop(DropReason.BAD_AUTH, host, port, now, "usmStatsWrongDigests")
                    return
        before = self._snapshot()
        delivered = self._delivered
        self._current = (host, port, now)
        try:
            self._engine.message_dispatcher.receive_message(self._engine, domain, address, message)
        except Exception as exc:  # pysnmp counts its own decoding errors; anything escaping is malformed input
            log.debug("trap_decode_failed source=%s:%d error=%s: %s", host, port, type(exc).__name__, exc)
            self._drop(DropReason.MALFORMED, host, port, now, f"{type(exc).__name__}: {exc}")
            return
        finally:
            self._current = None
        if self._delivered != delivered:
            return
        after = self._snapshot()
        grew = {name for name, value in after.items() if value > before[name]}
        bad_auth = sorted(grew & {name for _, name in _BAD_AUTH_COUNTERS})
        malformed = sorted(grew & {name for _, name in _MALFORMED_COUNTERS})
        if bad_auth:
            self._drop(DropReason.BAD_AUTH, host, port, now, ", ".join(bad_auth))
        elif malformed:
            self._drop(DropReason.MALFORMED, host, port, now, ", ".join(malformed))
        elif grew:
            self._drop(DropReason.NOT_NOTIFICATION, host, port, now, "v3 engine ID discovery (usmStatsUnknownEngineIDs)")
        else:
            self._drop(DropReason.NOT_NOTIFICATION, host, port, now, "a request, response or report, not a notification")

    def _snapshot(self) -> dict[str, int]:
        return {name: int(node.syntax) for name, node in self._counters.items()}

    def _pause(self, tick: float) -> None:
        """Stop reading the socket until the budget has a token again."""
        if self._paused or self._transport is None or self._transport.transport is None:
            return
        self._paused = True
        self.stats["paused"] += 1
        self._transport.transport.pause_reading()
        asyncio.get_running_loop().call_later(self._budget.wait() + 0.01, self._resume)

    def _resume(self) -> None:
        self._paused = False
        if self._transport is not None and self._transport.transport is not None:
            self._transport.transport.resume_reading()

    def _learn_engine_id(self, message: bytes, host: str) -> bool:
        """Learn the sender's engine ID for a configured v3 user if the message proves the user's key; False
        only for a message that fails that proof (True for anything else: pysnmp judges it)."""
        sender = _v3_sender(message)
        if sender is None:
            return True
        engine_id, user_name, digest = sender
        user = self._v3_users.get(user_name)
        # RFC 3411 engine IDs are 5..32 octets; anything else is a discovery probe or garbage.
        if user is None or not 5 <= len(engine_id) <= 32:
            return True
        key = (engine_id, user_name)
        if key in self._learned:
            self._learned.move_to_end(key)
            self._learned_by_source[self._learned[key]].move_to_end(key)
            return True
        if user.auth_master is not None and not user.proves_key(message, engine_id, digest):
            return False
        mine = self._learned_by_source.setdefault(host, OrderedDict())
        if len(mine) >= self._max_per_source:
            self._forget(next(iter(mine)))
        while len(self._learned) >= self._max_engine_ids:
            self._forget(next(iter(self._learned)))
        user.register(self._engine, engine_id)
        self._learned[key] = host
        mine[key] = None
        log.info("trap_engine_learned source=%s user=%s engine_id=%s held=%d", host, user_name, engine_id.hex(),
                 len(self._learned))
        return True

    def _forget(self, key: tuple[bytes, str]) -> None:
        source = self._learned.pop(key)
        held = self._learned_by_source.get(source)
        if held is not None:
            held.pop(key, None)
            if not held:
                del self._learned_by_source[source]
        engine_id, user_name = key
        engine_config.delete_v3_user(self._engine, user_name, securityEngineId=engine_id)
        log.info("trap_engine_forgotten source=%s user=%s engine_id=%s", source, user_name, engine_id.hex())

    def _on_notification(self, engine: SnmpEngine, state_reference: Any, context_engine_id: Any,
                         context_name: Any, varbinds: Any, cb_ctx: Any) -> None:
        context = engine.observer.get_execution_context("rfc3412.receiveMessage:request")
        if self._current is not None:
            host, port, at = self._current
        else:  # not through our hook (cannot happen while it is registered); still report it right
            host, port = _host_port(context["transportAddress"])
            at = self._clock()
        self._delivered += 1
        security_name = str(context.get("securityName", ""))
        who = self._v2c_names.get(security_name, security_name)
        trap_oid = ""
        values: dict[str, str] = {}
        for oid, value in varbinds:
            if str(oid) == SNMP_TRAP_OID:
                trap_oid = str(value.prettyPrint())
            else:
                values[str(oid)] = str(value.prettyPrint())
        if not trap_oid:
            self._drop(DropReason.MALFORMED, host, port, at, "notification without snmpTrapOID.0")
            return
        spec = self._catalog.get(trap_oid)
        event = TrapEvent(host, port, trap_oid, values, who, at,
                          spec.name if spec else "", spec.means if spec else "")
        self.stats["delivered"] += 1
        try:
            self._on_trap(event)
        except Exception:  # the handler's bug must not stop the receiver
            log.exception("trap_handler_failed source=%s:%d trap=%s", host, port, trap_oid)

    def _drop(self, reason: DropReason, host: str, port: int, at: float, detail: str) -> None:
        self.stats[reason.value] += 1
        try:
            self._on_drop(DroppedTrap(reason, host, port, at, detail))
        except Exception:
            log.exception("trap_drop_handler_failed source=%s:%d reason=%s", host, port, reason)
