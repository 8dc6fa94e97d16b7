"""From a wifimon inventory file to agent specs.

The simulator and the monitor meet at this file and never import each other, so the simulator reads the
YAML itself and takes only what it serves: sites with their APs and uplinks, the v2c communities, extra
profile folders and the time zone. Validation is the monitor's job (``wifimon check-config``); here a
device the simulator cannot serve is an :class:`InventoryError` that names it.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from collectors.profile import Profile, load_profiles
from simulator.spec import AgentSpec

DEFAULT_SSIDS = ("Public WiFi Free",)


class InventoryError(ValueError):
    """An inventory the simulator cannot serve; the message names the file, the device and why."""


@dataclass(frozen=True)
class Inventory:
    """What the simulator serves from one inventory file."""

    specs: list[AgentSpec]
    warnings: list[str]
    timezone: str


def read_inventory(path: Path) -> Inventory:
    """Every v2c AP and uplink of the inventory at ``path`` as an AgentSpec, and a warning per device skipped.

    Profiles: the device's own; ``auto`` means ``unifi`` for an AP (what the demo city runs) and
    ``generic`` for an uplink. A ferry's uplink is an LTE router: with ``mikrotik`` a RouterOS one with
    its modem table, with any other profile a net-snmp based router that only answers ``generic``.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InventoryError(f"{path}: cannot read the inventory: {exc}") from None
    if not isinstance(data, dict):
        raise InventoryError(f"{path}: not a wifimon config (a mapping at the top)")
    base = path.parent
    dirs = [Path(d) for d in data.get("profile_dirs") or ()]
    profiles = load_profiles(*(d if d.is_absolute() else base / d for d in dirs))
    communities, warnings = _communities(data.get("credentials") or {}, base)
    specs: list[AgentSpec] = []
    problems: list[str] = []
    for site in data.get("sites") or ():
        devices: list[tuple[dict[str, Any], str]] = [(ap, "ap") for ap in site.get("aps") or ()]
        if site.get("uplink") is not None:
            devices.insert(0, (site["uplink"], "uplink"))
        for device, role in devices:
            where = f"device {device.get('id')} of site {site.get('id')}"
            community = communities.get(str(device.get("credentials")))
            if community is None:
                warnings.append(f"{where}: credentials {device.get('credentials')!r} are not SNMP v2c with a"
                                " readable community (v3 is not simulated), skipped")
                continue
            try:
                specs.append(_spec(site, device, role, community, profiles, where))
            except InventoryError as exc:
                problems.append(str(exc))
    if problems:
        raise InventoryError("\n".join(f"{path}: {p}" for p in problems))
    timezone = str((data.get("service") or {}).get("timezone") or "Asia/Seoul")
    return Inventory(specs, warnings, timezone)


def _communities(credentials: dict[str, Any], base: Path) -> tuple[dict[str, str], list[str]]:
    """name → community of each v2c entry whose secret can be read (v3 users are not simulated)."""
    out: dict[str, str] = {}
    warnings: list[str] = []
    for name, spec in credentials.items():
        if str(spec.get("version")) != "2c":
            continue
        secret = spec.get("community") or {}
        if "env" in secret:
            value = os.environ.get(str(secret["env"]))
        else:
            file = Path(str(secret.get("file", "")))
            try:
                value = (file if file.is_absolute() else base / file).read_text(encoding="utf-8").strip()
            except OSError:
                value = None
        if value is None:
            warnings.append(f"credentials {name}: community not readable, its devices are skipped")
            continue
        out[str(name)] = value
    return out, warnings


def _spec(site: dict[str, Any], device: dict[str, Any], role: str, community: str,
          profiles: dict[str, Profile], where: str) -> AgentSpec:
    ferry = site.get("kind") == "ferry"
    name = str(device.get("profile") or "auto")
    if role == "uplink" and ferry and name != "mikrotik":
        name = "generic"
    elif name == "auto":
        name = "unifi" if role == "ap" and "unifi" in profiles else "generic"
    if name not in profiles:
        raise InventoryError(f"{where}: unknown profile {name!r} (known: {', '.join(sorted(profiles))})")
    address = str(device.get("address", ""))
    host, sep, port = address.rpartition(":")
    if not sep:
        host, port = address, "161"
    host = "127.0.0.1" if host == "localhost" else host
    try:
        loopback = ipaddress.ip_address(host).is_loopback and port.isdigit()
    except ValueError:
        loopback = False
    if not loopback:
        # The simulator only ever listens on this machine's loopback (127.0.0.0/8).
        raise InventoryError(f"{where}: address {address!r} is not a loopback IP with a port")
    ssids = device.get("ssids") or DEFAULT_SSIDS
    return AgentSpec(
        id=str(device["id"]),
        site=str(site["id"]),
        host=host,
        port=int(port),
        community=community,
        profile=profiles[name],
        role="uplink" if role == "uplink" else "ap",
        category=str(site.get("category", "other")),
        ferry=ferry,
        ssids=tuple(ssids) if role == "ap" else (),
        model=str(device.get("model", "")),
        site_name=str(site.get("name", "")),
        serves=tuple(str(ap["id"]) for ap in site.get("aps") or ()) if role == "uplink" else (),
    )
