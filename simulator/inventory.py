"""From a wifimon config to agent specs: the one place the simulator reads monitor's config model."""

from __future__ import annotations

import ipaddress

from collectors.profile import Profile, load_profiles
from collectors.types import V2cCredentials
from monitor.config import Device, LoadedConfig, Site
from simulator.spec import AgentSpec

DEFAULT_SSIDS = ("Public WiFi Free",)


class InventoryError(ValueError):
    """A device the simulator cannot serve; the message names the device and why."""


def agent_specs(loaded: LoadedConfig) -> tuple[list[AgentSpec], list[str]]:
    """Every v2c AP and uplink of the config as an AgentSpec, and a warning per device skipped.

    Profiles: the device's own; ``auto`` means ``unifi`` for an AP (what the demo city runs) and
    ``generic`` for an uplink. A ferry's uplink is an LTE router: with ``mikrotik`` a RouterOS one with
    its modem table, with any other profile a net-snmp based router that only answers ``generic``.
    """
    config = loaded.config
    base = loaded.path.parent
    profiles = load_profiles(*(d if d.is_absolute() else base / d for d in config.profile_dirs))
    specs: list[AgentSpec] = []
    warnings: list[str] = []
    problems: list[str] = []
    for site in config.sites:
        devices: list[tuple[Device, str]] = [(ap, "ap") for ap in site.aps]
        if site.uplink is not None:
            devices.insert(0, (site.uplink, "uplink"))
        for device, role in devices:
            credentials = loaded.credentials[device.credentials]
            if not isinstance(credentials, V2cCredentials):
                warnings.append(f"device {device.id} of site {site.id}: SNMP v3 credentials, skipped (v2c only)")
                continue
            try:
                specs.append(_spec(site, device, role, credentials.community, profiles))
            except InventoryError as exc:
                problems.append(str(exc))
    if problems:
        raise InventoryError("\n".join(problems))
    return specs, warnings


def _spec(site: Site, device: Device, role: str, community: str, profiles: dict[str, Profile]) -> AgentSpec:
    ferry = site.kind == "ferry"
    name = device.profile
    if role == "uplink" and ferry and name != "mikrotik":
        name = "generic"
    elif name == "auto":
        name = "unifi" if role == "ap" and "unifi" in profiles else "generic"
    if name not in profiles:
        raise InventoryError(
            f"device {device.id} of site {site.id}: unknown profile {name!r} (known: {', '.join(sorted(profiles))})"
        )
    host, port = device.host_port
    host = "127.0.0.1" if host == "localhost" else host
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        # The simulator only ever listens on this machine's loopback (127.0.0.0/8).
        raise InventoryError(f"device {device.id} of site {site.id}: address {device.address!r} is not a loopback IP")
    ssids = getattr(device, "ssids", ()) or DEFAULT_SSIDS
    return AgentSpec(
        id=device.id,
        site=site.id,
        host=host,
        port=port,
        community=community,
        profile=profiles[name],
        role="uplink" if role == "uplink" else "ap",
        category=site.category,
        ferry=ferry,
        ssids=tuple(ssids) if role == "ap" else (),
        model=device.model,
        site_name=site.name,
        serves=tuple(ap.id for ap in site.aps) if role == "uplink" else (),
    )

