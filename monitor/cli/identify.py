"""``wifimon identify``: ask one device who it is, which profile fits it, and what that profile reads.

    wifimon identify HOST[:PORT] [--community C | --v3-user U [--auth-protocol P --auth-key K
                     [--priv-protocol P --priv-key K]]] [--timeout D] [--retries N] [--engine E] [--profile-dir DIR]

Prints sysDescr, sysObjectID and uptime, which rule picked the profile (a sysObjectID prefix, a sysDescr
pattern, a vendor object that answered) and which profile came second, the vendor probes that answered,
which of the chosen profile's objects the device has and which it lacks, the client counts found (with
the level they are counted at), the controller's AP table when the profile has one, and last the line
``profile: NAME``. A device no specific profile matches gets the generic one, and the output says so.
Keys may come from the environment instead of the command line, where other users can see them:
WIFIMON_SNMP_COMMUNITY, WIFIMON_SNMP_AUTH_KEY, WIFIMON_SNMP_PRIV_KEY.
Exit status: 0 when the device answered, 1 when it did not (the reason is printed), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections import defaultdict
from pathlib import Path

from collectors.identify import explain, identify_device
from collectors.profile import Fit, ProfileError, load_profiles, object_labels
from collectors.engines import RoutedClient
from collectors.types import Credentials, PollResult, Target, V2cCredentials, V3Credentials
from monitor.cli.common import duration_arg, plain
from monitor.config.types import device_address
from monitor.domain.clients import device_total

AUTH = ("md5", "sha", "sha224", "sha256", "sha384", "sha512")
PRIV = ("des", "aes", "aes192", "aes256")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``identify`` subcommand to the ``wifimon`` parser."""
    p = subparsers.add_parser("identify", help="identify one SNMP device: profile, objects answered, clients",
                              description=plain(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("address", metavar="HOST[:PORT]", help="the device (port 161 when not given)")
    p.add_argument("--community", default=None, help="SNMP v2c community (default: $WIFIMON_SNMP_COMMUNITY or public)")
    p.add_argument("--v3-user", default=None, help="SNMPv3 user name (instead of a community)")
    p.add_argument("--auth-protocol", choices=AUTH, default=None)
    p.add_argument("--auth-key", default=None, help="(default: $WIFIMON_SNMP_AUTH_KEY)")
    p.add_argument("--priv-protocol", choices=PRIV, default=None)
    p.add_argument("--priv-key", default=None, help="(default: $WIFIMON_SNMP_PRIV_KEY)")
    p.add_argument("--timeout", type=duration_arg, default=3.0, metavar="D", help="per attempt: 3, 2.5s, … (default: 3 s)")
    p.add_argument("--retries", type=int, default=1, metavar="N", help="retries per request (default: 1)")
    p.add_argument("--engine", choices=["auto", "gufo", "pysnmp"], default="auto",
                   help="SNMP engine, as service.snmp_engine (default: auto)")
    p.add_argument("--profile-dir", type=Path, action="append", default=[], metavar="DIR",
                   help="extra directory of profile YAML files (repeatable)")
    p.set_defaults(func=cmd_identify)


def _credentials(args: argparse.Namespace) -> Credentials:
    if args.v3_user:
        auth_key = args.auth_key or os.environ.get("WIFIMON_SNMP_AUTH_KEY")
        priv_key = args.priv_key or os.environ.get("WIFIMON_SNMP_PRIV_KEY")
        if bool(args.auth_protocol) != bool(auth_key):
            raise ValueError("give both --auth-protocol and --auth-key (or $WIFIMON_SNMP_AUTH_KEY), or neither")
        if bool(args.priv_protocol) != bool(priv_key):
            raise ValueError("give both --priv-protocol and --priv-key (or $WIFIMON_SNMP_PRIV_KEY), or neither")
        if args.priv_protocol and not args.auth_protocol:
            raise ValueError("privacy (--priv-protocol) needs authentication (--auth-protocol)")
        return V3Credentials(args.v3_user, args.auth_protocol, auth_key, args.priv_protocol, priv_key)
    if args.auth_protocol or args.priv_protocol:
        raise ValueError("--auth-protocol and --priv-protocol need --v3-user")
    return V2cCredentials(args.community or os.environ.get("WIFIMON_SNMP_COMMUNITY") or "public")


def _target(args: argparse.Namespace) -> Target:
    try:
        host, port = device_address(args.address)
    except ValueError as exc:
        raise ValueError(f"{args.address!r} is not HOST or HOST:PORT: {exc}") from None
    if args.retries < 0:
        raise ValueError("--retries must be >= 0")
    return Target("identify", host, port, _credentials(args), timeout=args.timeout, retries=args.retries)


def _uptime_text(ticks: int) -> str:
    seconds = ticks // 100
    days, rest = divmod(seconds, 86400)
    return f"{days}d {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d} ({ticks} ticks)"


def rule_lines(picked: Fit | None, runner_up: Fit | None) -> list[str]:
    """Which rule picked the profile, and the runner-up; a device nothing specific matches says so."""
    if picked is None:
        return ["picked by: no specific profile matches (sysObjectID, sysDescr, vendor objects): generic",
                "runner-up: none"]
    lines = [f"picked by: {'; '.join(picked.reasons)}"]
    lines.append(f"runner-up: {runner_up.profile.name} ({'; '.join(runner_up.reasons)})" if runner_up
                 else "runner-up: none (generic)")
    return lines


def report_lines(result: PollResult, probes: frozenset[str], labels: dict[str, str]) -> list[str]:
    """What ``identify`` prints about a poll with the chosen profile (the ``profile:`` line excluded)."""
    lines = [
        f"sysDescr: {result.sys_descr if result.sys_descr is not None else '(none)'}",
        f"sysObjectID: {result.sys_object_id or '(none)'}",
        f"uptime: {_uptime_text(result.uptime_ticks) if result.uptime_ticks is not None else '(none: no uptime object)'}",
    ]
    if probes:
        lines.append("vendor probes answered: " + ", ".join(sorted(probes)))
    missing = set(result.missing)
    # An interface fallback column is asked only when the one it stands in for is missing.
    unasked = {label for label in labels if label.startswith("interfaces.fallback.")
               and f"interfaces.{label.rpartition('.')[2]}" not in missing}
    answered = [f"  {label} {oid}" for label, oid in labels.items() if label not in missing | unasked]
    absent = [f"  {label} {oid}" for label, oid in labels.items() if label in missing]
    lines.append(f"objects answered: {len(answered)}")
    lines += answered
    lines.append(f"objects missing: {len(absent)}")
    lines += absent
    by_level: dict[str, list[str]] = defaultdict(list)
    for c in result.clients:
        where = " ".join(p for p in (f"ssid={c.ssid}" if c.ssid else "", f"radio={c.radio}" if c.radio else "") if p)
        by_level[c.level].append(f"    {where or 'total'}: {c.count}")
    total = device_total(result.clients)
    lines.append(f"clients: {total[0]} (counted at level {total[1]})" if total else "clients: none reported")
    for level, rows in by_level.items():
        lines.append(f"  level {level}: {sum(c.count for c in result.clients if c.level == level)}")
        lines += rows
    if result.radios:
        lines.append("radios: " + "; ".join(
            f"{r.radio} channel={r.channel if r.channel is not None else '-'}"
            f" util={f'{r.utilisation_ratio:.0%}' if r.utilisation_ratio is not None else '-'}"
            f" noise={r.noise_dbm if r.noise_dbm is not None else '-'}" for r in result.radios))
    if result.interfaces:
        lines.append(f"interfaces: {len(result.interfaces)} ("
                     + ", ".join(f"{i.name} {i.counter_bits}-bit" for i in result.interfaces[:6])
                     + (", …" if len(result.interfaces) > 6 else "") + ")")
    if result.cpu_ratio is not None:
        lines.append(f"cpu: {result.cpu_ratio:.0%}")
    if result.memory_ratio is not None:
        lines.append(f"memory used: {result.memory_ratio:.0%}")
    if result.lte is not None:
        lte = result.lte
        lines.append(f"lte: rsrp={lte.rsrp_dbm} dBm rsrq={lte.rsrq_db} dB sinr={lte.sinr_db} dB rssi={lte.rssi_dbm} dBm")
    if result.controller_aps is not None:
        aps = result.controller_aps
        states = {s: sum(a.status == s for a in aps) for s in ("up", "down", "unknown")}
        lines.append(f"controller APs: {len(aps)} listed (up {states['up']}, down {states['down']},"
                     f" unknown {states['unknown']})")
        for a in aps:
            lines.append(f"  {a.name or '-'} mac={a.mac or '-'} ip={a.ip or '-'} status={a.status}"
                         f"{f' ({a.raw_status})' if a.raw_status else ''}"
                         f" clients={a.clients if a.clients is not None else '-'}")
    if result.detail:
        lines.append(f"note: {result.detail}")
    return lines


async def _identify(args: argparse.Namespace) -> int:
    try:
        profiles = load_profiles(*args.profile_dir)
    except ProfileError as exc:
        print(exc, file=sys.stderr)
        return 1
    target = _target(args)
    client = RoutedClient(args.engine)
    try:
        await client.register([target])
        profile, identity = await identify_device(client, target, profiles)
        if not identity.ok:
            print(f"{target.host}:{target.port} did not identify itself: {identity.error}: {identity.detail}",
                  file=sys.stderr)
            return 1
        result = await client.poll(target, profile)
    finally:
        await client.close()
    if not result.ok:
        print(f"polling {target.host}:{target.port} with profile {profile.name} failed: {result.error}:"
              f" {result.detail}", file=sys.stderr)
    lines = report_lines(result, identity.probes_answered, object_labels(profile))
    for line in lines[:3] + rule_lines(*explain(profiles, identity)) + lines[3:]:
        print(line)
    print(f"profile: {profile.name}")
    return 0


def cmd_identify(args: argparse.Namespace) -> int:
    snmp_log = logging.getLogger("collectors.snmp")
    if snmp_log.getEffectiveLevel() == logging.INFO:  # its start-up line is noise in a one-shot report
        snmp_log.setLevel(logging.WARNING)
    try:
        return asyncio.run(_identify(args))
    except ValueError as exc:
        print(f"wifimon identify: {exc}", file=sys.stderr)
        return 2
