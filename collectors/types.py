"""The plain values that cross the boundary between collectors and the monitor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from collectors.profile import Profile


class ErrorKind(StrEnum):
    """Every failed SNMP exchange maps to exactly one of these short labels."""

    TIMEOUT = "timeout"  # no (valid) reply within timeout × (retries + 1)
    AUTH = "auth_error"  # v3 unknown user / wrong digest / decryption error, or v2c authorizationError
    SNMP_ERROR = "snmp_error"  # the agent answered with a non-zero error-status
    PROTOCOL = "protocol_error"  # a reply we could not decode, or one that does not match the request
    NO_SUCH_OBJECT = "no_such_object"  # the agent answered but does not have the object asked for


@dataclass(frozen=True)
class V2cCredentials:
    community: str = field(repr=False)

    def __repr__(self) -> str:
        return "V2cCredentials(community=<secret>)"


AuthProtocol = Literal["md5", "sha", "sha224", "sha256", "sha384", "sha512"]
PrivProtocol = Literal["des", "aes", "aes192", "aes256"]


@dataclass(frozen=True)
class V3Credentials:
    user: str
    auth_protocol: AuthProtocol | None = None
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: PrivProtocol | None = None
    priv_key: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"V3Credentials(user={self.user!r}, auth_protocol={self.auth_protocol!r}, auth_key=<secret>,"
            f" priv_protocol={self.priv_protocol!r}, priv_key=<secret>)"
        )


Credentials = V2cCredentials | V3Credentials


@dataclass(frozen=True)
class Target:
    """One SNMP agent to talk to. ``key`` is the caller's id for it (the AP id)."""

    key: str
    host: str
    port: int
    credentials: Credentials
    timeout: float = 2.0
    retries: int = 1


@dataclass(frozen=True)
class ProbeResult:
    """Outcome of a liveness probe: one GET of sysUpTime."""

    key: str
    started_at: float  # unix seconds
    duration: float  # seconds
    error: ErrorKind | None = None
    detail: str = ""  # human text for logs: what was asked, of whom, how long we waited
    uptime_ticks: int | None = None  # sysUpTime, hundredths of a second, wraps at 2**32
    # (sent, answered), unix seconds: the agent read ``uptime_ticks`` somewhere in between. None: the
    # whole probe (started_at … started_at + duration).
    uptime_window: tuple[float, float] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ClientCount:
    """Associated stations at the level the device offers (``level``: vap, ssid, radio or ap)."""

    level: str
    count: int
    radio: str = ""
    ssid: str = ""
    oid: str = ""  # the object instance the count was read from: tracing a figure back, never a label


@dataclass(frozen=True)
class InterfaceCounters:
    index: str
    name: str
    in_octets: int | None
    out_octets: int | None
    counter_bits: int  # 32 or 64: how the raw value wraps
    speed_bps: int | None = None  # what the interface can carry (ifHighSpeed / ifSpeed); None: not said


@dataclass(frozen=True)
class RadioStats:
    radio: str
    channel: int | None = None
    utilisation_ratio: float | None = None  # 0..1
    noise_dbm: float | None = None


@dataclass(frozen=True)
class ControllerAp:
    """One row of a controller's AP table: an AP the controller knows, and what it says about it.

    ``status`` is the profile's reading of the vendor value: ``up``, ``down``, or ``unknown`` when the
    value is not in the profile's map (``raw_status`` keeps it for the log). A table without a status
    column lists joined APs only, so presence alone reads as ``up``.
    """

    index: str
    name: str = ""
    mac: str = ""  # aa:bb:cc:dd:ee:ff, lower case; "" when neither a column nor the index gives one
    ip: str = ""
    status: Literal["up", "down", "unknown"] = "up"
    raw_status: str = ""
    clients: int | None = None  # the controller's per-AP count, or the sum of the AP's radio rows
    uptime_ticks: int | None = None
    radios: tuple[ClientCount, ...] = ()  # per-radio counts of this AP (level "radio")


@dataclass(frozen=True)
class LteSignal:
    """Signal of a cellular modem (a ferry's LTE router); None where the device does not say."""

    rsrp_dbm: float | None = None
    rsrq_db: float | None = None
    sinr_db: float | None = None
    rssi_dbm: float | None = None


@dataclass(frozen=True)
class PollResult:
    """Outcome of a full poll: scalars plus the tables the profile names."""

    key: str
    profile: str
    started_at: float
    duration: float
    error: ErrorKind | None = None
    detail: str = ""
    uptime_ticks: int | None = None
    # (sent, answered), unix seconds, of the request that read ``uptime_ticks`` (the first of the poll,
    # which may last many seconds more). None: somewhere within the whole poll.
    uptime_window: tuple[float, float] | None = None
    sys_descr: str | None = None
    sys_object_id: str | None = None
    clients: tuple[ClientCount, ...] = ()
    interfaces: tuple[InterfaceCounters, ...] = ()
    radios: tuple[RadioStats, ...] = ()
    cpu_ratio: float | None = None  # 0..1, mean over processors
    memory_ratio: float | None = None  # 0..1 used
    missing: tuple[str, ...] = ()  # profile objects the agent did not have (not an error)
    # Objects answered with the wrong SNMP type (sysUpTime as Counter64): each a protocol error, never used.
    protocol_errors: tuple[str, ...] = ()
    # None: the profile has no controller section; (): it has one and the AP table was empty.
    controller_aps: tuple[ControllerAp, ...] | None = None
    lte: LteSignal | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class SnmpClient(Protocol):
    """What the monitor needs from an SNMP implementation; pysnmp today, a faster one tomorrow."""

    async def register(self, targets: Sequence[Target]) -> None:
        """Make targets known before the first round (pysnmp's v2c set-up is quadratic otherwise)."""

    async def probe(self, target: Target) -> ProbeResult: ...

    async def poll(self, target: Target, profile: Profile) -> PollResult: ...

    async def close(self) -> None: ...
