"""Checks across keys and sections, run on the raw data so they come out with the per-field errors, all at once."""

from __future__ import annotations

from typing import Any

from collectors.profile import Profile
from monitor.config.model import Config, Device
from monitor.config.types import device_address, dotted
from monitor.report.settings import email_channel_problems

Problem = tuple[tuple[Any, ...], str]  # (key path, message)


def _list(value: object) -> list[Any]:
    """The raw value if YAML gave a list there (the schema check reports it otherwise), else empty."""
    return value if isinstance(value, list) else []


def _dict(value: object) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def timing_problems(config: Config) -> list[Problem]:
    """A device whose probe may wait longer than the probe interval would make every round overrun."""
    problems: list[Problem] = []
    interval = config.service.probe_interval
    for si, site in enumerate(config.sites):
        devices: list[tuple[tuple[str | int, ...], Device]] = [
            (("sites", si, "aps", ai), ap) for ai, ap in enumerate(site.aps)]
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


def scale_problems(config: Config) -> list[Problem]:
    """Shards and standbys share one PostgreSQL; on SQLite one instance is the rule (a file, one writer, no
    lease). A lease longer than the probe interval would leave a shard unwatched longer than one round."""
    service, problems = config.service, []
    sqlite = service.store_url.split(":", 1)[0].split("+", 1)[0] == "sqlite"
    if sqlite and service.shard is not None and service.shard.count > 1:
        problems.append((("service", "shard"), f"{service.shard.count} shards need a shared PostgreSQL store;"
                                               " service.store_url is SQLite, where one instance is the rule"))
    if sqlite and service.standby:
        problems.append((("service", "standby"), "a standby needs a shared PostgreSQL store (its lease lives"
                                                 " there); service.store_url is SQLite, where one instance is the rule"))
    if service.lease_ttl is not None and service.lease_ttl > service.probe_interval:
        problems.append((("service", "lease_ttl"), f"{service.lease_ttl:g} s is longer than service.probe_interval"
                                                   f" ({service.probe_interval:g} s): a standby would take over"
                                                   " later than one probe interval"))
    return problems


def _site_devices(si: int, site: dict[str, Any]) -> list[tuple[tuple[Any, ...], Any]]:
    """(key path, raw entry) of a raw site's APs and uplink."""
    devices: list[tuple[tuple[Any, ...], Any]] = []
    if isinstance(site.get("aps"), list):
        devices = [(("sites", si, "aps", ai), ap) for ai, ap in enumerate(site["aps"])]
    if isinstance(site.get("uplink"), dict):
        devices.append((("sites", si, "uplink"), site["uplink"]))
    return devices


def cross_check(data: dict[str, Any]) -> list[Problem]:
    """Checks across keys (unique ids, credentials that exist), run on the raw data so they are
    reported together with the per-field errors rather than only once those are fixed."""
    problems: list[Problem] = []
    creds = _dict(data.get("credentials"))
    seen: dict[str, str] = {}
    addresses: dict[tuple[str, int], str] = {}
    sites = _list(data.get("sites"))
    for si, site in enumerate(sites):
        if not isinstance(site, dict):
            continue
        devices = _site_devices(si, site)
        for loc, obj in [(("sites", si), site)] + devices:
            if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
                continue
            if obj["id"] in seen:
                problems.append((loc + ("id",), f"duplicate id {obj['id']!r} (also {seen[obj['id']]})"))
            else:
                seen[obj["id"]] = dotted(loc)
        for loc, dev in devices:
            name = dev.get("credentials") if isinstance(dev, dict) else None
            if isinstance(name, str) and name not in creds:
                problems.append((loc + ("credentials",), f"no credentials named {name!r}"))
        problems.extend(_check_addresses(devices, addresses))
    problems.extend(_check_trap_and_maintenance_references(data, creds, sites))
    problems.extend(_check_controller_references(data, creds, sites, seen))
    problems.extend(email_channel_problems(data))
    return problems


def _check_controller_references(data: dict[str, Any], creds: Any, sites: list[Any], seen: dict[str, str],
                                 ) -> list[Problem]:
    """Controllers have unique ids and existing credentials; an AP's 'controller' names one of them."""
    problems: list[Problem] = []
    controllers = _list(data.get("controllers"))
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
                                           ) -> list[Problem]:
    """traps.credentials and maintenance scopes must name credentials, sites, devices, districts that exist."""
    problems: list[Problem] = []
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
                for d in (_list(s.get("aps"))) + [s.get("uplink")]
                if isinstance(d, dict)}, "no AP or uplink device {!r}"),
        "district": ({s.get("district") for s in site_dicts}, "no site has district {!r}"),
    }
    for i, entry in enumerate(entries):
        for key, (ids, message) in known.items():
            value = entry.get(key) if isinstance(entry, dict) else None
            if isinstance(value, str) and value not in ids:
                problems.append((("maintenance", i, key), message.format(value)))
    return problems


def _check_addresses(devices: list[tuple[tuple[Any, ...], Any]], seen: dict[tuple[str, int], str]) -> list[Problem]:
    """No placeholder address (``import-sites`` writes ``<ap>.invalid`` where it knows none), and no two
    devices on one address:port (the same agent would answer for both)."""
    problems: list[Problem] = []
    for loc, dev in devices:
        address = dev.get("address") if isinstance(dev, dict) else None
        if not isinstance(address, str):
            continue
        try:
            host, port = device_address(address)
        except ValueError:
            continue  # the model's own error says why
        where = loc + ("address",)
        if host.lower().rstrip(".").endswith(".invalid"):
            problems.append((where, f"{address!r} is a placeholder (import-sites writes *.invalid where the"
                                    " dataset has no address): set the device's real address"))
        elif (host.lower(), port) in seen:
            problems.append((where, f"{host}:{port} is also the address of {seen[host.lower(), port]}:"
                                    " two devices cannot share one SNMP agent"))
        else:
            seen[host.lower(), port] = f"{dotted(loc)} ({dev.get('id')})"
    return problems


def profile_problems(data: dict[str, Any], profiles: dict[str, Profile]) -> list[Problem]:
    """Every device names a known profile (or 'auto'); a controller's profile has a controller AP table."""
    problems: list[Problem] = []
    known = f"known: {', '.join(sorted(profiles))}, auto"
    sites = _list(data.get("sites"))
    devices = [d for si, site in enumerate(sites) if isinstance(site, dict) for d in _site_devices(si, site)]
    for loc, dev in devices:
        name = dev.get("profile") if isinstance(dev, dict) else None
        if isinstance(name, str) and name != "auto" and name not in profiles:
            problems.append((loc + ("profile",), f"unknown profile {name!r} ({known})"))
    controllers = _list(data.get("controllers"))
    with_table = sorted(n for n, p in profiles.items() if p.controller is not None)
    for ci, ctl in enumerate(controllers):
        name = ctl.get("profile") if isinstance(ctl, dict) else None
        if not isinstance(name, str) or name == "auto":
            continue
        if name not in profiles:
            problems.append((("controllers", ci, "profile"), f"unknown profile {name!r} ({known})"))
        elif profiles[name].controller is None:
            problems.append((("controllers", ci, "profile"), f"profile {name!r} has no controller AP table"
                                                             f" (profiles with one: {', '.join(with_table)}, auto)"))
    return problems
