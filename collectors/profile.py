"""Vendor profiles: which OIDs give what. Data (YAML in ``collectors/profiles``), validated on load."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

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


class Match(_Strict):
    """How to recognise the device: any sysObjectID prefix or any sysDescr regex."""

    sys_object_id: tuple[Oid, ...] = ()
    sys_descr: tuple[str, ...] = ()


class ClientTable(_Strict):
    """A table column counting stations; ssid/radio columns share its index."""

    level: Literal["vap", "ssid", "radio", "ap"]
    count: Oid
    ssid: Oid | None = None
    radio: Oid | None = None


class InterfaceTable(_Strict):
    name: Oid
    in_octets: Oid
    out_octets: Oid
    counter_bits: Literal[32, 64] = 64
    uplink: str = Field(
        "^(eth|en|ge|gi|wan|lan|lte|wwan)", description="regex on the interface name: the AP's throughput"
    )


class RadioTable(_Strict):
    name: Oid | None = None
    channel: Oid | None = None
    utilisation_percent: Oid | None = None
    noise_dbm: Oid | None = None


class Profile(_Strict):
    name: str
    description: str = ""
    match: Match = Match()
    uptime: Oid = "1.3.6.1.2.1.1.3.0"
    cpu_load_percent: Oid | None = Field(default=None, description="table column, averaged over rows")
    clients: tuple[ClientTable, ...] = ()
    interfaces: InterfaceTable | None = None
    radios: RadioTable | None = None

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """Every table column the full poll walks, in a stable order."""
        cols: list[str] = []
        if self.cpu_load_percent:
            cols.append(self.cpu_load_percent)
        for table in self.clients:
            cols.extend(c for c in (table.count, table.ssid, table.radio) if c)
        if self.interfaces:
            i = self.interfaces
            cols.extend((i.name, i.in_octets, i.out_octets))
        if self.radios:
            r = self.radios
            cols.extend(c for c in (r.name, r.channel, r.utilisation_percent, r.noise_dbm) if c)
        return tuple(dict.fromkeys(cols))


class ProfileError(ValueError):
    """A profile file that does not validate; the message names file and key."""


def load_profile(path: Path) -> Profile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        lines = [f"{path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ProfileError("\n".join(lines)) from None


def load_profiles(*dirs: Path) -> dict[str, Profile]:
    """Built-in profiles, then each extra directory; a later file of the same name replaces one."""
    profiles: dict[str, Profile] = {}
    for d in (PROFILE_DIR, *dirs):
        for path in sorted(d.glob("*.yaml")):
            profile = load_profile(path)
            profiles[profile.name] = profile
    return profiles


def identify(profiles: dict[str, Profile], sys_object_id: str, sys_descr: str) -> Profile:
    """The most specific profile matching the device; ``generic`` when none does.

    The longest matching sysObjectID prefix wins; a sysDescr match counts after any OID match.
    """
    oid = sys_object_id.lstrip(".")
    best: tuple[int, Profile] | None = None
    for profile in profiles.values():
        score = max(
            (len(p) for p in profile.match.sys_object_id if oid == p or oid.startswith(p + ".")), default=0
        )
        if not score and any(re.search(rx, sys_descr) for rx in profile.match.sys_descr):
            score = 1
        if score and (best is None or score > best[0]):
            best = (score, profile)
    return best[1] if best else profiles["generic"]
