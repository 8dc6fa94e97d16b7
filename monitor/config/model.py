"""The config model: every section of ``wifimon.yaml``, each validating itself with a message that names the field."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from collectors.engines import EngineSetting

from monitor.alerting.settings import AlertingSettings
from monitor.config.types import DeviceAddress, Duration, Ident, ListenAddress, Secret, Strict, device_address
from monitor.domain.local_time import unquoted_time
from monitor.report.settings import ReportSettings

class CredentialSpec(Strict):
    version: Literal["2c", "3"]
    community: Secret | None = None
    user: str | None = None
    auth_protocol: Literal["md5", "sha", "sha224", "sha256", "sha384", "sha512"] | None = None
    auth_key: Secret | None = None
    priv_protocol: Literal["des", "aes", "aes192", "aes256"] | None = None
    priv_key: Secret | None = None

    @model_validator(mode="after")
    def _complete(self) -> CredentialSpec:
        if self.version == "2c" and self.community is None:
            raise ValueError("SNMP v2c credentials need 'community'")
        if self.version == "3":
            if not self.user:
                raise ValueError("SNMP v3 credentials need 'user'")
            if (self.auth_protocol is None) != (self.auth_key is None):
                raise ValueError("give both 'auth_protocol' and 'auth_key', or neither")
            if (self.priv_protocol is None) != (self.priv_key is None):
                raise ValueError("give both 'priv_protocol' and 'priv_key', or neither")
            if self.priv_protocol and not self.auth_protocol:
                raise ValueError("privacy ('priv_protocol') needs authentication ('auth_protocol')")
        return self


class SnmpSettings(Strict):
    timeout: Duration = Field(2.0, gt=0, le=60, description="per attempt: seconds, or e.g. 2.5s")
    retries: int = Field(1, ge=0, le=10)


class Weekly(Strict):
    """A weekly service window, e.g. a ferry's sailings: days and local start/end times."""

    days: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...]
    start: time
    end: time

    _quoted = field_validator("start", "end", mode="before")(unquoted_time)

    @model_validator(mode="after")
    def _ordered(self) -> Weekly:
        if self.end <= self.start:
            raise ValueError("'end' must be after 'start' (split a window that crosses midnight)")
        return self


class FlappingPolicy(Strict):
    transitions: int = Field(6, ge=2, description="state changes within 'window' that make an AP flapping")
    window: Duration = Field(600, gt=0, description="seconds, or e.g. 10m")


class ShardSettings(Strict):
    """This instance's part of the inventory: the sites whose stable hash mod ``count`` is ``index``."""

    index: int = Field(ge=0, description="0 ≤ index < count")
    count: int = Field(ge=1, le=4096, description="how many shards the inventory is split into")

    @model_validator(mode="after")
    def _in_range(self) -> ShardSettings:
        if self.index >= self.count:
            raise ValueError(f"index {self.index} is not below count {self.count} (0 ≤ index < count)")
        return self


class ServiceSettings(Strict):
    organisation: str = "wifimon"
    timezone: str = "Asia/Seoul"
    listen: ListenAddress = Field("127.0.0.1:9810", description="host:port of /metrics, /healthz, /readyz")
    public_page: bool = Field(False, description="serve /public: sites by district, state and since when, for"
                              " residents (no device addresses or ids); open even when the web config asks for auth")
    web_config: Path | None = Field(None, description="exporter-toolkit web config (TLS, basic auth) for the HTTP"
                                    " face; relative to this file (wifimon run --web.config.file overrides)")
    store_url: str = Field("sqlite:///wifimon.db", description="SQLAlchemy URL; relative SQLite paths are relative to the working directory")
    state_dir: Path | None = Field(None, description="where the store writer keeps its crash journal when the store is"
                                   " a database server (a SQLite store keeps it beside its file); default: the working"
                                   " directory; relative paths are relative to the working directory")
    probe_interval: Duration = Field(15, gt=0, le=3600, description="between liveness probes of an AP (15, 15s, 1m)")
    metrics_interval: Duration = Field(60, gt=0, le=3600, description="between full polls of an AP")
    spread: float = Field(0.8, ge=0, le=1, description="fraction of an interval a round is spread over")
    confirm_failures: int = Field(3, ge=1, le=20, description="consecutive failed probes that confirm down")
    recheck_interval: Duration = Field(5, gt=0, le=600, description="between fast re-checks of a failing AP")
    concurrency: int = Field(50, ge=1, le=1000, description="SNMP requests in flight")
    snmp_engine: EngineSetting = Field(
        "auto", description="SNMP engine of the poller: auto (gufo-snmp where it can serve the target, pysnmp"
        " otherwise; check-config says which and why), gufo, or pysnmp. The trap receiver is always pysnmp")
    snmp: SnmpSettings = SnmpSettings()
    flapping: FlappingPolicy = FlappingPolicy()
    rollup_interval: Duration = Field(300, gt=0, description="between usage rollup writes")
    shard: ShardSettings | None = Field(None, description="run one shard of the inventory (PostgreSQL only;"
                                        " wifimon run --shard i/N overrides); absent: the whole inventory")
    standby: bool = Field(False, description="start as the standby of the shard: poll nothing until the active's"
                          " lease lapses (PostgreSQL only; wifimon run --standby)")
    lease_ttl: Duration | None = Field(None, gt=0, le=3600, description="how long the active's lease lasts"
                                       " unrenewed (PostgreSQL); absent: one probe interval")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v


class Device(Strict):
    """An SNMP-managed device: an AP, or a site's uplink (PoE switch, LTE router)."""

    id: Ident
    address: DeviceAddress = Field(description="host or host:port (default port 161); host: IPv4 address or DNS name")
    profile: str = Field("auto", description="profile name, or 'auto' to pick from sysObjectID/sysDescr")
    credentials: str
    snmp: SnmpSettings | None = None
    model: str = ""

    @property
    def host_port(self) -> tuple[str, int]:
        return device_address(self.address)


class AccessPoint(Device):
    place: str = Field("", description="where on the site it hangs (the dataset's 설치장소상세), e.g. '공설시장 2층'")
    lat: float | None = Field(None, ge=-90, le=90, description="its own position, when the site spans several")
    lon: float | None = Field(None, ge=-180, le=180)
    ssids: tuple[str, ...] = ()
    controller: Ident | None = Field(
        None, description="id of an entry under 'controllers:' whose AP table says whether this AP is up"
    )
    controller_ap: str | None = Field(
        None, description="the AP as the controller lists it: name, MAC or IP (default: this AP's id)"
    )
    poll_direct: bool = Field(
        False, description="with 'controller': also poll the AP itself for uptime and traffic"
    )


Category = Literal[
    "bus_stop", "park", "tourist_site", "market", "welfare", "rental_yard", "public_office",
    "culture", "sports", "library", "port", "street", "school", "health", "ferry", "other",
]


class Site(Strict):
    id: Ident
    name: str
    category: Category
    kind: Literal["land", "ferry"] = "land"
    address: str = ""
    district: str = ""
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    timetable: tuple[Weekly, ...] | None = Field(
        None, description="service windows; absent means 24×7 (land sites)"
    )
    snmp: SnmpSettings | None = Field(None, description="overrides for every device of the site (LTE: longer)")
    uplink: Device | None = None
    aps: tuple[AccessPoint, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ferry_has_timetable(self) -> Site:
        if self.kind == "ferry" and not self.timetable:
            raise ValueError("a ferry site needs a 'timetable'")
        return self


class TrapSettings(Strict):
    """The SNMP trap receiver: where it listens and which credentials a trap may authenticate with."""

    listen: ListenAddress = Field("127.0.0.1:1162", description="IPv4 host:port; 0.0.0.0:162 hears the whole network"
                        " (a port below 1024 needs root or CAP_NET_BIND_SERVICE)")
    credentials: tuple[Ident, ...] = Field(min_length=1, description="names under 'credentials:' (v2c or v3)")


Recurrence = Literal["daily", "weekly", "monthly"]
# A repeating window must end before its next occurrence begins (a month is at least 28 days).
REPEAT_PERIOD: dict[str, float] = {"daily": 86400.0, "weekly": 7 * 86400.0, "monthly": 28 * 86400.0}


class MaintenanceEntry(Strict):
    """A planned maintenance window: one scope, a start, an end or a duration, maybe a repeat.

    Times without a UTC offset are local time in ``service.timezone``; a repeating window repeats at the
    same local time (its first occurrence is ``start``).
    """

    ap: Ident | None = Field(None, description="an AP (or uplink device) id")
    site: Ident | None = None
    category: Category | None = None
    district: str | None = Field(None, min_length=1)
    all: bool = Field(False, description="every site")
    start: datetime
    end: datetime | None = None
    duration: Duration | None = Field(None, description="e.g. 2h, 90m, 1.5h, 1h30m, 1d")
    repeat: Recurrence | None = None
    comment: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> MaintenanceEntry:
        scopes = [k for k in ("ap", "site", "category", "district") if getattr(self, k) is not None]
        scopes += ["all"] if self.all else []
        if len(scopes) != 1:
            got = f" (got {', '.join(scopes)})" if scopes else ""
            raise ValueError(f"give exactly one scope: ap, site, category, district or all: true{got}")
        if (self.end is None) == (self.duration is None):
            raise ValueError("give exactly one of 'end' or 'duration'")
        if self.end is not None:
            if self.repeat:
                raise ValueError("a repeating window takes 'duration', not 'end'")
            if (self.start.tzinfo is None) != (self.end.tzinfo is None):
                raise ValueError("give 'start' and 'end' both with a UTC offset or both without")
            if self.end <= self.start:
                raise ValueError("'end' must be after 'start'")
        if self.repeat and self.duration is not None and self.duration >= REPEAT_PERIOD[self.repeat]:
            days = REPEAT_PERIOD[self.repeat] / 86400
            raise ValueError(f"a {self.repeat} window must be shorter than {days:.0f} day{'s' if days > 1 else ''}")
        return self

    @property
    def scope(self) -> tuple[str, str | None]:
        """(scope kind, value) as the store keeps them: ('site', 'gs-0001'), ('all', None), …"""
        for kind in ("ap", "site", "category", "district"):
            if getattr(self, kind) is not None:
                return kind, getattr(self, kind)
        return "all", None


class Config(Strict):
    service: ServiceSettings = ServiceSettings()
    credentials: dict[Ident, CredentialSpec] = {}
    profile_dirs: tuple[Path, ...] = ()
    sites: tuple[Site, ...] = ()
    alerting: AlertingSettings = AlertingSettings()
    traps: TrapSettings | None = Field(None, description="the SNMP trap receiver; absent: none runs")
    maintenance: tuple[MaintenanceEntry, ...] = Field((), description="planned maintenance windows")
    controllers: tuple[Device, ...] = Field(
        (), description="wireless controllers whose AP tables watch the APs that name them ('controller:')"
    )
    report: ReportSettings = Field(ReportSettings(), description="availability target; the monthly report job")
