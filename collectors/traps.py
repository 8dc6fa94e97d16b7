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
  device of the inventory we read the engine ID from the message header and localise the keys for it
  (from master keys hashed once at start: well under a millisecond instead of ~15 ms). Learning an
  engine ID grants nothing by itself: the message must still pass the digest check. Learned IDs are
  bounded (least recently used are forgotten).
* Informs are acknowledged by pysnmp (v2c always; v3 because each user is also registered under our own
  engine ID, which an inform sender discovers).
* ``community_or_user`` never carries a community string: for v1/v2c it is the *name* of the
  credentials that matched, for v3 the user name.
"""

from __future__ import annotations

import asyncio
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

    def register(self, engine: SnmpEngine, engine_id: bytes | None = None) -> None:
        engine_config.add_v3_user(
            engine, self.user,
            self.auth, self.auth_master, self.priv, self.priv_master,
            securityEngineId=engine_id,
            authKeyType=engine_config.USM_KEY_TYPE_MASTER, privKeyType=engine_config.USM_KEY_TYPE_MASTER,
        )


def _v3_sender(message: bytes) -> tuple[bytes, str] | None:
    """(authoritative engine ID, user name) from a v3 message header; None for anything else."""
    try:
        if verdec.decode_message_version(message) != 3:
            return None
        msg, _ = decoder.decode(message, asn1Spec=SNMPv3Message())
        params, _ = decoder.decode(msg.getComponentByPosition(2).asOctets(), asn1Spec=UsmSecurityParameters())
        return params.getComponentByPosition(0).asOctets(), params.getComponentByPosition(3).asOctets().decode(
            "utf-8", "replace")
    except Exception:  # hostile input makes pyasn1 raise more than PyAsn1Error (e.g. TypeError)
        return None  # then pysnmp finds it malformed too, and it is counted as such


def _host_port(address: Any) -> tuple[str, int]:
    return str(address[0]), int(address[1])


class TrapReceiver:
    """Receives notifications on one UDP address; calls ``on_trap`` for each authentic one from a known
    device, ``on_drop`` for every other datagram. Both callbacks run on the event loop and must not block.

    ``sources``: the IP addresses of the inventory's devices. ``credentials``: name → credentials that may
    send. ``catalog``: trap OID → what it means (:func:`trap_catalog`). ``max_engine_ids`` bounds the
    v3 engine IDs learned from senders.
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
        max_engine_ids: int = 4096,
    ) -> None:
        self._listen = listen
        self._credentials = dict(credentials)
        self._sources = frozenset(sources)
        self._catalog = dict(catalog)
        self._on_trap = on_trap
        self._on_drop = on_drop
        self._clock = clock
        self._max_engine_ids = max_engine_ids
        self._engine = SnmpEngine()
        self._v2c_names: dict[str, str] = {}  # pysnmp securityName → credentials name
        self._v3_users: dict[str, _V3User] = {}
        self._learned: OrderedDict[tuple[bytes, str], None] = OrderedDict()
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
        if host not in self._sources:
            self._drop(DropReason.UNKNOWN_SOURCE, host, port, now, "not the address of a device in the inventory")
            return
        if self._v3_users:
            try:
                self._learn_engine_id(message, host)
            except (PySnmpError, PyAsn1Error) as exc:  # then pysnmp drops it as an unknown user: counted
                log.warning("trap_engine_learn_failed source=%s error=%s: %s", host, type(exc).__name__, exc)
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

    def _learn_engine_id(self, message: bytes, host: str) -> None:
        sender = _v3_sender(message)
        if sender is None:
            return
        engine_id, user_name = sender
        user = self._v3_users.get(user_name)
        # RFC 3411 engine IDs are 5..32 octets; anything else is a discovery probe or garbage.
        if user is None or not 5 <= len(engine_id) <= 32:
            return
        key = (engine_id, user_name)
        if key in self._learned:
            self._learned.move_to_end(key)
            return
        user.register(self._engine, engine_id)
        self._learned[key] = None
        log.info("trap_engine_learned source=%s user=%s engine_id=%s", host, user_name, engine_id.hex())
        if len(self._learned) > self._max_engine_ids:
            (old_id, old_user), _ = self._learned.popitem(last=False)
            engine_config.delete_v3_user(self._engine, old_user, securityEngineId=old_id)

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
