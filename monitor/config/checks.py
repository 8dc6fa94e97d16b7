"""Checks across keys and sections, run on the raw data so they come out with the per-field errors, all at once."""

from __future__ import annotations

from typing import Any

from monitor.config.model import Config
from monitor.config.types import dotted
from monitor.report.settings import email_channel_problems

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
                seen[obj["id"]] = dotted(loc)
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
