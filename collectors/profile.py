"""Vendor profiles: which OIDs give what. Data (YAML in ``collectors/profiles``), validated on load."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator
from collectors.errors import WifimonError

PROFILE_DIR = Path(__file__).parent / "profiles"

_OID_RE = re.compile(r"^1(\.(0|[1-9][0-9]*))+$")


def _check_oid(value: str) -> str:
    value = value.lstrip(".")
    if not _OID_RE.match(value):
        raise ValueError(f"not a numeric OID: {value!r}")
    return value


Oid = Annotated[str, AfterValidator(_check_oid)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def is_scalar(oid: str) -> bool:
    """A scalar instance is written with its ``.0``; a column without (SMI columns never end in 0)."""
    return oid.endswith(".0")


def _str_keys(value: object) -> object:
    """YAML reads ``{1: 2.4GHz}`` with an int key; the raw values it is matched against are text."""
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value


ValueMap = Annotated[dict[str, str], BeforeValidator(_str_keys)]
StateMap = Annotated[dict[str, Literal["up", "down"]], BeforeValidator(_str_keys)]

_INDEX_RE = re.compile(r"^index(\[(0|[1-9][0-9]*)\])?$")


def _check_label(value: str) -> str:
    if _INDEX_RE.match(value):
        return value
    try:
        return _check_oid(value)
    except ValueError:
        raise ValueError(f"not a numeric OID, 'index' or 'index[N]': {value!r}") from None


Label = Annotated[str, AfterValidator(_check_label)]
"""Where a row's label comes from: a column of the same table, ``index`` (the whole row index, an
OID-encoded string decoded to text) or ``index[N]`` (its N-th sub-identifier, from 0)."""


class Match(_Strict):
    """How to recognise the device.

    The longest ``sys_object_id`` prefix wins; a ``sys_descr`` regex confirms (or, listed and not
    matching, weakens) an OID match and alone is enough when no OID matches. ``probe`` names scalar
    instances of the vendor's MIB whose presence identifies it when neither says anything (many
    devices report net-snmp's generic sysObjectID); ``probe_column`` names table columns of it, present
    when they have a row (for vendors whose MIB has no scalar, like the older UniFi firmware). Pick short
    tables the profile reads anyway: a probe column is walked whenever the profile is polled.
    """

    sys_object_id: tuple[Oid, ...] = ()
    sys_descr: tuple[str, ...] = ()
    probe: tuple[Oid, ...] = ()
    probe_column: tuple[Oid, ...] = ()

    @field_validator("sys_descr")
    @classmethod
    def _regexes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for rx in v:
            try:
                re.compile(rx)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression {rx!r}: {exc}") from None
        return v

    @field_validator("probe")
    @classmethod
    def _probe_scalars(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for oid in v:
            if not is_scalar(oid):
                raise ValueError(f"a probe is a scalar instance ending in .0, not {oid!r}")
        return v

    @field_validator("probe_column")
    @classmethod
    def _probe_columns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for oid in v:
            if is_scalar(oid):
                raise ValueError(f"a probe_column is a table column, not the scalar instance {oid!r}")
        return v


class ClientTable(_Strict):
    """Associated stations: a table column (one count per row) or a scalar instance (``….0``).

    ``ssid``/``radio`` label each row, from a column sharing its index or from the index itself;
    ``radio_map`` renames raw values (Cisco's bsnAPIfType 1/2 → 2.4GHz/5GHz). Counts are read as
    gauges whatever their wire type: vendors type some as Counter32 (bsnApIfNoOfUsers,
    mtxrWlApClientCount), yet they go down as stations leave.

    Some vendors keep no count, only a station table (one row per associated client). Then
    ``stations`` names its column holding the station's SSID, and the count of an SSID is the number
    of rows naming it; ``served`` names a column listing the SSIDs the device serves, so one with no
    station counts 0. Without ``served`` an empty station table gives no count at all (absent, not
    zero): an agent without the table looks the same.
    """

    level: Literal["vap", "ssid", "radio", "ap"]
    count: Oid | None = None
    stations: Oid | None = None
    served: Oid | None = None
    ssid: Label | None = None
    radio: Label | None = None
    radio_name: str | None = Field(None, description="one radio label for every row: tables kept per band"
                                   " (Huawei's hwWlanSsid2gStaCnt and hwWlanSsid5gStaCnt)")
    radio_map: ValueMap = {}

    @model_validator(mode="after")
    def _one_source(self) -> ClientTable:
        if self.radio_name is not None and self.radio is not None:
            raise ValueError("give 'radio' (where each row's radio comes from) or 'radio_name' (one for all), not both")
        if (self.count is None) == (self.stations is None):
            raise ValueError("give exactly one of 'count' (a count per row) or 'stations' (a station table)")
        if self.stations is not None:
            if self.level != "ssid" or self.ssid or self.radio or self.radio_map or self.radio_name:
                raise ValueError("'stations' counts stations per SSID: level ssid, and no ssid/radio labels")
            if is_scalar(self.stations) or (self.served and is_scalar(self.served)):
                raise ValueError("'stations' and 'served' are table columns, not scalar instances")
        elif self.served is not None:
            raise ValueError("'served' goes with 'stations'")
        return self


class InterfaceColumns(_Strict):
    """Where an agent lacking the interface table's columns keeps them instead (IF-MIB ifTable: ifDescr and
    the 32-bit ifInOctets/ifOutOctets for agents without ifXTable). Walked only for a column the
    device does not have, so it costs nothing where the main one answers."""

    name: Oid
    in_octets: Oid
    out_octets: Oid
    counter_bits: Literal[32, 64] = 32


class InterfaceTable(_Strict):
    name: Oid
    in_octets: Oid
    out_octets: Oid
    counter_bits: Literal[32, 64] = 64
    fallback: InterfaceColumns | None = None
    # What the interface can carry, which bounds a plausible counter wrap: ifHighSpeed (Mbit/s) where the
    # agent has it, else ifSpeed (bit/s). 0 is "unknown" for both (virtual interfaces).
    speed_mbps: Oid | None = None
    speed_bps: Oid | None = None
    uplink: tuple[str, ...] = Field(
        ("^(wan|lte|wwan|pppoe)", "^(eth|en|ge|gi|lan)"),
        description="regexes on the interface name in priority order: the interfaces matching the first one"
        " that matches any are the device's uplink, whose octets are its throughput (traffic crossing a"
        " router shows on its LAN side too: counting both would double it)",
    )

    @field_validator("uplink", mode="before")
    @classmethod
    def _patterns(cls, v: object) -> object:
        patterns = (v,) if isinstance(v, str) else v
        for p in patterns if isinstance(patterns, (list, tuple)) else ():
            try:
                re.compile(p)
            except (re.error, TypeError) as exc:
                raise ValueError(f"not a regular expression: {p!r} ({exc})") from None
        return patterns


class RadioTable(_Strict):
    """Per-radio readings; ``name`` labels the row (``name_map`` renames raw values).

    ``frequency_mhz`` is turned into a channel number where the vendor gives MHz (MikroTik, ePMP).
    """

    name: Label | None = None
    name_map: ValueMap = {}
    channel: Oid | None = None
    frequency_mhz: Oid | None = None
    utilisation_percent: Oid | None = None
    noise_dbm: Oid | None = None


class MemorySpec(_Strict):
    """Memory in use as a ratio: ``used_percent``, or ``total`` with ``used`` or ``free`` (same units)."""

    used_percent: Oid | None = None
    total: Oid | None = None
    used: Oid | None = None
    free: Oid | None = None

    @model_validator(mode="after")
    def _complete(self) -> MemorySpec:
        if self.used_percent is None and (self.total is None or (self.used is None) == (self.free is None)):
            raise ValueError("give 'used_percent', or 'total' with exactly one of 'used' or 'free'")
        return self


class LteSpec(_Strict):
    """Cellular signal (a ferry's LTE router): scalars, or columns read from their first row (one modem)."""

    rsrp_dbm: Oid | None = None
    rsrq_db: Oid | None = None
    sinr_db: Oid | None = None
    rssi_dbm: Oid | None = None
    divisor: float = Field(1.0, gt=0, description="raw values are divided by this (some report tenths)")


class ControllerApTable(_Strict):
    """A controller's AP table, one row per AP it knows (index: usually the AP's MAC as 6 sub-ids)."""

    name: Oid
    mac: Label = "index"
    ip: Oid | None = None
    status: Oid | None = None
    status_map: StateMap = Field(
        {}, description="raw status (number or text) → up/down; values not listed read as unknown"
    )
    clients: Oid | None = None
    uptime: Oid | None = Field(None, description="TimeTicks since the AP (re)joined or booted")

    @model_validator(mode="after")
    def _status_pair(self) -> ControllerApTable:
        if (self.status is None) != (not self.status_map):
            raise ValueError("give 'status' and 'status_map' together")
        return self


class ControllerRadioTable(_Strict):
    """Per-radio rows of the controller's APs: the row index is the AP's index plus a radio suffix."""

    clients: Oid
    radio: Label = "index"
    radio_map: ValueMap = {}


class ControllerSpec(_Strict):
    aps: ControllerApTable
    radios: ControllerRadioTable | None = None


class TrapSpec(_Strict):
    """A notification the device (or its controller) sends, by snmpTrapOID, and what it says."""

    oid: Oid
    name: str = Field(description="MIB name, e.g. linkDown; what the logs print")
    means: Literal["down", "up", "restart", "link_down", "link_up"]


class Profile(_Strict):
    name: str
    description: str = ""
    match: Match = Match()
    uptime: Oid = "1.3.6.1.2.1.1.3.0"
    cpu_load_percent: Oid | None = Field(
        default=None, description="table column (averaged over rows) or scalar instance"
    )
    cpu_divisor: float = Field(1.0, gt=0, description="raw CPU values are divided by this (ePMP: tenths)")
    memory: MemorySpec | None = None
    clients: tuple[ClientTable, ...] = ()
    interfaces: InterfaceTable | None = None
    radios: RadioTable | None = None
    controller: ControllerSpec | None = None
    lte: LteSpec | None = None
    traps: tuple[TrapSpec, ...] = Field(default=(), description="notifications the trap receiver recognises")

    @model_validator(mode="after")
    def _tables_are_columns(self) -> Profile:
        """Interface, radio, controller and LTE objects are table columns: a ``.0`` there is a typo."""
        for label, oid in object_labels(self).items():
            if label.startswith(("interfaces.", "radios.", "controller.")) and is_scalar(oid):
                raise ValueError(f"{label}: {oid} ends in .0 (a scalar instance); give the table column")
        if not is_scalar(self.uptime):
            raise ValueError(f"uptime: {self.uptime} must be a scalar instance ending in .0")
        return self

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """Every table column the full poll walks (standby ones only when needed), in a stable order."""
        return tuple(dict.fromkeys(o for o in object_labels(self).values() if not is_scalar(o)))

    @cached_property
    def waits(self) -> dict[str, tuple[str, bool]]:
        """Columns walked only when needed: column → (the column it waits for, whether that one must have rows).

        An interface fallback column is walked only when the column it stands in for has no row; a
        controller's radio columns only when its AP table has rows (radio rows attach to AP rows, so
        without them they would be walked for nothing: 2,760 values on the ArubaOS recording).
        """
        labels = object_labels(self)
        waits: dict[str, tuple[str, bool]] = {}
        if self.interfaces and self.interfaces.fallback:
            main, fb = self.interfaces, self.interfaces.fallback
            for alt, primary in ((fb.name, main.name), (fb.in_octets, main.in_octets), (fb.out_octets, main.out_octets)):
                waits[alt] = (primary, False)
        if self.controller and self.controller.radios:
            for label, oid in labels.items():
                if label.startswith("controller.radios."):
                    waits[oid] = (self.controller.aps.name, True)
        # A column some other field reads too is walked regardless.
        read_anyway = {o for label, o in labels.items() if not label.startswith(("interfaces.fallback.", "controller.radios."))}
        return {c: w for c, w in waits.items() if c not in read_anyway}

    @cached_property
    def scalars(self) -> tuple[str, ...]:
        """Scalar instances the full poll GETs along with uptime, sysDescr and sysObjectID."""
        return tuple(dict.fromkeys(o for o in object_labels(self).values() if is_scalar(o)))


def object_labels(profile: Profile) -> dict[str, str]:
    """Profile field path (``clients[0].count``, ``controller.aps.status``) → OID, for every object named.

    ``index`` labels are not objects and are left out; ``uptime`` is handled by the poll itself.
    """
    out: dict[str, str] = {}

    def walk(prefix: str, model: BaseModel | None) -> None:
        if model is None:
            return
        for field_name in type(model).model_fields:
            value = getattr(model, field_name)
            path = f"{prefix}{field_name}"
            if isinstance(value, str) and field_name not in _NOT_OIDS and not _INDEX_RE.match(value):
                out[path] = value
            elif isinstance(value, tuple) and field_name in _OID_LISTS:
                out.update({f"{path}[{i}]": v for i, v in enumerate(value)})

    if profile.cpu_load_percent:
        out["cpu_load_percent"] = profile.cpu_load_percent
    walk("memory.", profile.memory)
    for i, table in enumerate(profile.clients):
        walk(f"clients[{i}].", table)
    walk("interfaces.", profile.interfaces)
    walk("interfaces.fallback.", profile.interfaces.fallback if profile.interfaces else None)
    walk("radios.", profile.radios)
    if profile.controller:
        walk("controller.aps.", profile.controller.aps)
        walk("controller.radios.", profile.controller.radios)
    walk("lte.", profile.lte)
    walk("match.", profile.match)
    return out


_NOT_OIDS = {"level", "uplink", "name_map", "radio_map", "status_map", "radio_name"}
_OID_LISTS = {"probe", "probe_column"}


class ProfileError(WifimonError, ValueError):
    """A profile file that does not validate; the message names file and key."""


def load_profile(path: Path) -> Profile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{path}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise ProfileError("\n".join(lines)) from None


def load_profiles(*dirs: Path) -> dict[str, Profile]:
    """Built-in profiles, then each extra directory; a later file of the same name replaces one."""
    profiles: dict[str, Profile] = {}
    for d in (PROFILE_DIR, *dirs):
        for path in sorted(d.glob("*.yaml")):
            profile = load_profile(path)
            profiles[profile.name] = profile
    return profiles


@dataclass(frozen=True)
class Fit:
    """How a device matches one profile: the score ``identify`` ranks by, and the rules behind it."""

    profile: Profile
    score: tuple[int, int, int]  # (sysObjectID prefix length, sysDescr verdict, vendor probes answered)
    reasons: tuple[str, ...]  # one per rule that spoke: "sysObjectID under 1.3.6.1.4.1.14988.1", …

    @property
    def matches(self) -> bool:
        return self.score != (0, 0, 0)


def match_score(profile: Profile, sys_object_id: str, sys_descr: str,
                answered: frozenset[str] = frozenset()) -> Fit:
    """How well a device matches a profile: (OID prefix length, sysDescr verdict, probes answered).

    The sysDescr verdict is 1 when a listed regex matches, 0 when the profile lists none, -1 when it
    lists some and none matches: two profiles claiming the same vendor OID (Zyxel NWA and NXC) are
    told apart by sysDescr. A profile matches at all only through an OID prefix, a sysDescr regex or
    an answered probe (scalar or column).
    """
    oid = sys_object_id.lstrip(".")
    m = profile.match
    prefix = max((p for p in m.sys_object_id if oid == p or oid.startswith(p + ".")), key=len, default="")
    matched_rx = next((rx for rx in m.sys_descr if re.search(rx, sys_descr)), None)
    descr = (1 if matched_rx is not None else -1) if m.sys_descr else 0
    probes = [p for p in (*m.probe, *m.probe_column) if p in answered]
    if not prefix and descr < 1 and not probes:
        return Fit(profile, (0, 0, 0), ())
    reasons = [f"sysObjectID under {prefix}"] if prefix else []
    if descr:
        reasons.append(f"sysDescr matches /{matched_rx}/" if matched_rx is not None
                       else "sysDescr matches none of " + ", ".join(f"/{rx}/" for rx in m.sys_descr))
    reasons += [f"vendor object {p} answered" for p in probes]
    return Fit(profile, (len(prefix), descr, len(probes)), tuple(reasons))


def ranked(profiles: dict[str, Profile], sys_object_id: str, sys_descr: str,
           answered: frozenset[str] | set[str] = frozenset()) -> list[Fit]:
    """Every specific profile the device matches, best first (``generic`` is never among them).

    The longest matching sysObjectID prefix wins, then a sysDescr match, then vendor-MIB probes that
    answered (``answered``: probe OIDs the device has; see :mod:`collectors.identify`). Ties go to the
    profile name first in alphabetical order, so the choice never depends on file order.
    """
    fits = [match_score(p, sys_object_id, sys_descr, frozenset(answered))
            for p in profiles.values() if p.name != "generic"]
    return sorted((f for f in fits if f.matches), key=lambda f: (tuple(-x for x in f.score), f.profile.name))


def identify(profiles: dict[str, Profile], sys_object_id: str, sys_descr: str,
             answered: frozenset[str] | set[str] = frozenset()) -> Profile:
    """The most specific profile matching the device (see :func:`ranked`); ``generic`` when none does."""
    fits = ranked(profiles, sys_object_id, sys_descr, answered)
    return fits[0].profile if fits else profiles["generic"]
