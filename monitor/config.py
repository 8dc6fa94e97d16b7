"""Configuration: parse → validate → build. Unknown keys fail; every error names file, key path and line.

Secrets (SNMP communities, v3 keys) never sit in the YAML: they come from an environment variable or a
file, and the models keep them as ``SecretStr`` so they print as ``**********``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from collectors.types import Credentials, Target, V2cCredentials, V3Credentials
from monitor.local_time import unquoted_time
from monitor.report_settings import ReportSettings, email_channel_problems

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _check_id(value: str) -> str:
    if not _ID_RE.match(value):
        raise ValueError("must be 1-64 characters of letters, digits, '.', '_' or '-'")
    return value


Ident = Annotated[str, AfterValidator(_check_id)]


def split_listen(address: str) -> tuple[str, int]:
    """'host:port' → (host, port); ValueError says what is expected."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError("must be host:port (port 0: any free port)")
    return host, int(port)


ListenAddress = Annotated[str, AfterValidator(lambda v: split_listen(v) and v)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret(_Strict):
    """Where a secret lives: ``env: NAME`` or ``file: path`` (relative to the config file)."""

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Secret:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of 'env' or 'file'")
        return self


class CredentialSpec(_Strict):
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


class SnmpSettings(_Strict):
    timeout: float = Field(2.0, gt=0, le=60, description="seconds per attempt")
    retries: int = Field(1, ge=0, le=10)


class Weekly(_Strict):
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


class FlappingPolicy(_Strict):
    transitions: int = Field(6, ge=2, description="state changes within 'window' that make an AP flapping")
    window: float = Field(600, gt=0, description="seconds")


class ServiceSettings(_Strict):
    organisation: str = "wifimon"
    timezone: str = "Asia/Seoul"
    listen: ListenAddress = Field("127.0.0.1:9810", description="host:port of /metrics, /healthz, /readyz")
    store_url: str = Field("sqlite:///wifimon.db", description="SQLAlchemy URL; relative SQLite paths are relative to the working directory")
    probe_interval: float = Field(15, gt=0, le=3600, description="seconds between liveness probes of an AP")
    metrics_interval: float = Field(60, gt=0, le=3600, description="seconds between full polls of an AP")
    spread: float = Field(0.8, ge=0, le=1, description="fraction of an interval a round is spread over")
    confirm_failures: int = Field(3, ge=1, le=20, description="consecutive failed probes that confirm down")
    recheck_interval: float = Field(5, gt=0, le=600, description="seconds between fast re-checks of a failing AP")
    concurrency: int = Field(50, ge=1, le=1000, description="SNMP requests in flight")
    snmp: SnmpSettings = SnmpSettings()
    flapping: FlappingPolicy = FlappingPolicy()
    rollup_interval: float = Field(300, gt=0, description="seconds between usage rollup writes")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v


class Device(_Strict):
    """An SNMP-managed device: an AP, or a site's uplink (PoE switch, LTE router)."""

    id: Ident
    address: str = Field(description="host or host:port (default port 161)")
    profile: str = Field("auto", description="profile name, or 'auto' to pick from sysObjectID/sysDescr")
    credentials: str
    snmp: SnmpSettings | None = None
    model: str = ""

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        host, sep, port = v.rpartition(":")
        if sep and (not port.isdigit() or not 0 < int(port) < 65536):
            raise ValueError("port must be 1-65535")
        return v

    @property
    def host_port(self) -> tuple[str, int]:
        host, sep, port = self.address.rpartition(":")
        return (host, int(port)) if sep else (self.address, 161)


class AccessPoint(Device):
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


class Site(_Strict):
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


class TrapSettings(_Strict):
    """The SNMP trap receiver: where it listens and which credentials a trap may authenticate with."""

    listen: ListenAddress = Field("127.0.0.1:1162", description="IPv4 host:port; 0.0.0.0:162 hears the whole network"
                        " (a port below 1024 needs root or CAP_NET_BIND_SERVICE)")
    credentials: tuple[Ident, ...] = Field(min_length=1, description="names under 'credentials:' (v2c or v3)")


_DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(value: object) -> float:
    """Seconds from '45m', '2h', '1h30m', '1d' or a number of seconds; ValueError says what is accepted."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION_RE.match(value.strip().lower())) and any(m.groups()):
        d, h, mi, s = (int(g or 0) for g in m.groups())
        seconds = float(d * 86400 + h * 3600 + mi * 60 + s)
    else:
        raise ValueError(f"{value!r} is not a duration: write e.g. 45m, 2h, 1h30m or 1d")
    if not seconds > 0:
        raise ValueError("a duration must be longer than 0 seconds")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
Recurrence = Literal["daily", "weekly", "monthly"]
# A repeating window must end before its next occurrence begins (a month is at least 28 days).
REPEAT_PERIOD: dict[str, float] = {"daily": 86400.0, "weekly": 7 * 86400.0, "monthly": 28 * 86400.0}


class MaintenanceEntry(_Strict):
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
    duration: Duration | None = Field(None, description="e.g. 2h, 90m, 1h30m, 1d")
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


# Here, below Secret and Ident which it uses (see monitor/alerting/__init__.py for why that is enough).
from monitor.alerting.settings import AlertingSettings  # noqa: E402


class Config(_Strict):
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


def timing_problems(config: Config) -> list[tuple[tuple[Any, ...], str]]:
    """A device whose probe may wait longer than the probe interval would make every round overrun."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    interval = config.service.probe_interval
    for si, site in enumerate(config.sites):
        devices = [(("sites", si, "aps", ai), ap) for ai, ap in enumerate(site.aps)]
        if site.uplink:
            devices.append((("sites", si, "uplink"), site.uplink))
        for loc, dev in devices:
            snmp = dev.snmp or site.snmp or config.service.snmp
            wait = snmp.timeout * (snmp.retries + 1)
            if wait >= interval * 0.9:
                where = loc + ("snmp",) if dev.snmp else ("sites", si, "snmp") if site.snmp else ("service", "snmp")
                problems.append((where, f"timeout {snmp.timeout:g} s × {snmp.retries + 1} attempts = {wait:g} s "
                                        f"leaves no room in service.probe_interval ({interval:g} s) for device {dev.id!r}"))
                break  # one message per site is enough
    return problems


def cross_check(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """Checks across keys (unique ids, credentials that exist), run on the raw data so they are
    reported together with the per-field errors rather than only once those are fixed."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    creds = data.get("credentials") if isinstance(data.get("credentials"), dict) else {}
    seen: dict[str, str] = {}
    sites = data.get("sites") if isinstance(data.get("sites"), list) else []
    for si, site in enumerate(sites):
        if not isinstance(site, dict):
            continue
        devices: list[tuple[tuple[Any, ...], Any]] = []
        if isinstance(site.get("aps"), list):
            devices = [(("sites", si, "aps", ai), ap) for ai, ap in enumerate(site["aps"])]
        if isinstance(site.get("uplink"), dict):
            devices.append((("sites", si, "uplink"), site["uplink"]))
        for loc, obj in [(("sites", si), site)] + devices:
            if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
                continue
            if obj["id"] in seen:
                problems.append((loc + ("id",), f"duplicate id {obj['id']!r} (also {seen[obj['id']]})"))
            else:
                seen[obj["id"]] = _dotted(loc)
        for loc, dev in devices:
            name = dev.get("credentials") if isinstance(dev, dict) else None
            if isinstance(name, str) and name not in creds:
                problems.append((loc + ("credentials",), f"no credentials named {name!r}"))
    problems.extend(_check_trap_and_maintenance_references(data, creds, sites))
    problems.extend(_check_controller_references(data, creds, sites, seen))
    problems.extend(email_channel_problems(data))
    return problems


def _check_controller_references(data: dict[str, Any], creds: Any, sites: list[Any], seen: dict[str, str],
                                 ) -> list[tuple[tuple[Any, ...], str]]:
    """Controllers have unique ids and existing credentials; an AP's 'controller' names one of them."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    controllers = data.get("controllers") if isinstance(data.get("controllers"), list) else []
    ids: set[str] = set()
    for ci, ctl in enumerate(controllers):
        if not isinstance(ctl, dict):
            continue
        cid, loc = ctl.get("id"), ("controllers", ci)
        if isinstance(cid, str):
            if cid in seen or cid in ids:
                problems.append((loc + ("id",), f"duplicate id {cid!r} (also {seen.get(cid, 'controllers')})"))
            ids.add(cid)
        name = ctl.get("credentials")
        if isinstance(name, str) and name not in creds:
            problems.append((loc + ("credentials",), f"no credentials named {name!r}"))
    for si, site in enumerate(sites):
        aps = site.get("aps") if isinstance(site, dict) else None
        for ai, ap in enumerate(aps if isinstance(aps, list) else []):
            ref = ap.get("controller") if isinstance(ap, dict) else None
            if isinstance(ref, str) and ref not in ids:
                problems.append((("sites", si, "aps", ai, "controller"), f"no controller {ref!r} under 'controllers:'"))
    return problems


def _check_trap_and_maintenance_references(data: dict[str, Any], creds: Any, sites: list[Any],
                                           ) -> list[tuple[tuple[Any, ...], str]]:
    """traps.credentials and maintenance scopes must name credentials, sites, devices, districts that exist."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    traps = data.get("traps")
    if isinstance(traps, dict) and isinstance(traps.get("credentials"), list):
        for i, name in enumerate(traps["credentials"]):
            if isinstance(name, str) and name not in creds:
                problems.append((("traps", "credentials", i), f"no credentials named {name!r}"))
    entries = data.get("maintenance")
    if not isinstance(entries, list):
        return problems
    site_dicts = [s for s in sites if isinstance(s, dict)]
    known = {
        "site": ({s.get("id") for s in site_dicts}, "no site {!r}"),
        "ap": ({d.get("id") for s in site_dicts
                for d in (s.get("aps") if isinstance(s.get("aps"), list) else []) + [s.get("uplink")]
                if isinstance(d, dict)}, "no AP or uplink device {!r}"),
        "district": ({s.get("district") for s in site_dicts}, "no site has district {!r}"),
    }
    for i, entry in enumerate(entries):
        for key, (ids, message) in known.items():
            value = entry.get(key) if isinstance(entry, dict) else None
            if isinstance(value, str) and value not in ids:
                problems.append((("maintenance", i, key), message.format(value)))
    return problems


# ---------------------------------------------------------------------------------------------------
# Loading, with every error located.


class ConfigError(Exception):
    """Configuration that cannot be used. ``problems`` lists every error, each with its location."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _line_index(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map every key path in a YAML document to its 1-based line."""
    lines = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            sub = path + (k.value,)
            lines.update(_line_index(v, sub))
            lines[sub] = k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            lines.update(_line_index(v, path + (i,)))
    return lines


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _located(path: Path, loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> str:
    probe = loc
    while probe and probe not in lines:
        probe = probe[:-1]
    line = lines.get(probe)
    return f"{path}:{line}" if line else str(path)


def parse_config(path: Path) -> Config:
    """Read and validate one config file; raise ConfigError with every problem at once."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError([f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}:1: the top level must be a mapping of keys"])
    lines = _line_index(node) if node is not None else {}
    errors: list[tuple[tuple[Any, ...], str]] = []
    config = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            msg = f"unknown key {loc[-1]!r}" if err["type"] == "extra_forbidden" else err["msg"]
            errors.append((loc, msg.removeprefix("Value error, ")))
    errors.extend(cross_check(data))
    if config is not None:
        errors.extend(timing_problems(config))
    if errors or config is None:
        raise ConfigError([f"{_located(path, loc, lines)}: {_dotted(loc)}: {msg}" for loc, msg in errors])
    return config


# ---------------------------------------------------------------------------------------------------
# Building: from validated config to what the collectors need.


def read_secret(secret: Secret, base: Path, where: str) -> str:
    """Resolve a secret; errors say which key wanted it and where we looked, never the value."""
    if secret.env is not None:
        value = os.environ.get(secret.env)
        if value is None:
            raise ConfigError([f"{where}: environment variable {secret.env} is not set"])
        return value
    assert secret.file is not None
    file = secret.file if secret.file.is_absolute() else base / secret.file
    try:
        return file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError([f"{where}: cannot read secret file {file}: {exc.strerror}"]) from None


def build_credentials(config: Config, base: Path) -> dict[str, Credentials]:
    out: dict[str, Credentials] = {}
    problems: list[str] = []
    for name, spec in config.credentials.items():
        where = f"credentials.{name}"
        try:
            if spec.version == "2c":
                assert spec.community is not None
                out[name] = V2cCredentials(read_secret(spec.community, base, f"{where}.community"))
            else:
                out[name] = V3Credentials(
                    user=spec.user or "",
                    auth_protocol=spec.auth_protocol,
                    auth_key=read_secret(spec.auth_key, base, f"{where}.auth_key") if spec.auth_key else None,
                    priv_protocol=spec.priv_protocol,
                    priv_key=read_secret(spec.priv_key, base, f"{where}.priv_key") if spec.priv_key else None,
                )
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return out


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config with its secrets resolved: what the composition root builds from."""

    path: Path
    config: Config
    credentials: dict[str, Credentials]

    def controller_target(self, device: Device) -> Target:
        """A controller's target: it belongs to no site, so only its own and the service's SNMP settings."""
        snmp = device.snmp or self.config.service.snmp
        host, port = device.host_port
        return Target(
            key=device.id, host=host, port=port, credentials=self.credentials[device.credentials],
            timeout=snmp.timeout, retries=snmp.retries,
        )

    def target(self, site: Site, device: Device) -> Target:
        snmp = device.snmp or site.snmp or self.config.service.snmp
        host, port = device.host_port
        return Target(
            key=device.id, host=host, port=port, credentials=self.credentials[device.credentials],
            timeout=snmp.timeout, retries=snmp.retries,
        )


def load_config(path: Path) -> LoadedConfig:
    config = parse_config(path)
    return LoadedConfig(path=path, config=config, credentials=build_credentials(config, path.parent))
