"""``wifimon ack`` and ``wifimon alerts``: acknowledge active alerts, and list them, through the store.

The running service reads new acknowledgements from the store every few seconds
(``alerting.ack_poll_interval``), so an ack given here stops repeats and escalation without a restart.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.cli.common import CONFIG_HELP, config_failure, default_config, duration_arg, pad
from monitor.config.load import ConfigError, parse_config
from monitor.config.model import Config
from monitor.domain.local_time import local_text

EXAMPLES = """\
examples:
  wifimon ack site_down:gs-0001 --comment "현장 출동 중"
  wifimon ack gs-0001 --until 2h            every active alert of the site (or AP) gs-0001
  wifimon ack gs-0001 --until 18:00 --by kim
  wifimon alerts                            active alerts, with their keys
  wifimon alerts --since 1d                 and those resolved in the last day
  wifimon alerts --undelivered              notifications not delivered: pending, or given up and why

An ack stops repeats and escalation until it expires (--until), the alert clears, or it gets worse."""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``ack`` and ``alerts`` to the wifimon parser."""
    p = subparsers.add_parser("ack", help="acknowledge active alerts (by alert key, site or AP)",
                              epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", metavar="ALERT-KEY-OR-SITE",
                   help="an alert key (site_down:gs-0001), or a site or AP id: every active alert of it")
    p.add_argument("--until", metavar="WHEN",
                   help="the ack expires then: 30m, 2h, 1d, 18:00 or 2026-11-26T18:00 (default: until it clears)")
    p.add_argument("--comment", default="", help="why, or what is being done")
    p.add_argument("--by", default=None, help="who acknowledges (default: the login name)")
    _config_option(p)
    p.set_defaults(func=cmd_ack)

    p = subparsers.add_parser("alerts", help="list active alerts (and recently resolved ones)",
                              epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--since", metavar="SPAN", type=duration_arg, default=None,
                   help="also those resolved within: 1h, 1.5h, 1d, …")
    p.add_argument("--undelivered", action="store_true",
                   help="list the notifications not delivered instead: still pending, or given up (and why)")
    _config_option(p)
    p.set_defaults(func=cmd_alerts)


def _config_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=None, help=CONFIG_HELP)


def _load(args: argparse.Namespace) -> Config | None:
    path = args.config or default_config()
    try:
        return parse_config(path)
    except ConfigError as exc:
        print(config_failure(args.config, path, exc.problems), file=sys.stderr)
        return None


def _store(config: Config):  # type: ignore[no-untyped-def]
    from monitor.store import Store

    store = Store(config.service.store_url)
    store.migrate()  # a store the service never opened yet gets its tables here
    return store


def _when(ts: float | None, tz: ZoneInfo) -> str:
    return local_text(ts, tz, seconds=True)


def cmd_ack(args: argparse.Namespace) -> int:
    from monitor.alerting.ack import parse_until
    from monitor.store import StoreError, acknowledge_alerts

    config = _load(args)
    if config is None:
        return 1
    tz = ZoneInfo(config.service.timezone)
    now = time.time()
    try:
        until = parse_until(args.until, now, tz) if args.until else None
    except ValueError as exc:
        print(f"wifimon ack: {exc}", file=sys.stderr)
        return 2
    by = args.by or getpass.getuser()
    try:
        store = _store(config)
        try:
            acked = acknowledge_alerts(store, args.target, by, args.comment, now, until)
        finally:
            store.close()
    except (StoreError, ValueError) as exc:
        print(f"wifimon ack: {exc}", file=sys.stderr)
        return 1
    if not acked:
        print(f"wifimon ack: no active alert has key, site or AP {args.target!r} (see `wifimon alerts`)",
              file=sys.stderr)
        return 1
    expiry = f" until {_when(until, tz)}" if until else " until it clears"
    for a in acked:
        print(f"acknowledged {a.key} ({a.severity}, since {_when(a.since, tz)}) by {by}{expiry}")
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from monitor.store import StoreError, list_alerts

    config = _load(args)
    if config is None:
        return 1
    tz = ZoneInfo(config.service.timezone)
    if args.undelivered:
        return _undelivered(config, tz)
    since = time.time() - args.since if args.since else None
    try:
        store = _store(config)
        try:
            rows = list_alerts(store, since)
        finally:
            store.close()
    except StoreError as exc:
        print(f"wifimon alerts: {exc}", file=sys.stderr)
        return 1
    print(f"{'KEY':<36} {'SEVERITY':<9} {'STATUS':<10} {'SINCE':<23} {'RESOLVED':<23} ACK")
    for a in rows:
        ack = f"{a.acked_by} {_when(a.acked_at, tz)}" if a.acked_at else "-"
        if a.acked_at and a.ack_comment:
            ack += f": {a.ack_comment}"
        print(f"{pad(a.key, 36)} {pad(a.severity, 9)} {pad(a.status, 10)} {pad(_when(a.since, tz), 23)} "
              f"{pad(_when(a.resolved_at, tz), 23)} {ack}")
    print(f"({len(rows)} alert(s))")
    return 0


def _undelivered(config: Config, tz: ZoneInfo) -> int:
    from monitor.store import StoreError, undelivered_messages

    try:
        store = _store(config)
        try:
            rows = undelivered_messages(store)
        finally:
            store.close()
    except StoreError as exc:
        print(f"wifimon alerts: {exc}", file=sys.stderr)
        return 1
    print(f"{'ALERT':<36} {'KIND':<12} {'CHANNEL':<12} {'DECIDED':<15} {'STATE':<22} {'TRIES':>5} LAST ERROR")
    for m in rows:
        state = f"given up {_when(m.given_up_at, tz)}" if m.given_up_at is not None else "pending"
        print(f"{pad(m.alert_key, 36)} {pad(m.kind, 12)} {pad(m.channel, 12)} {pad(_when(m.created_at, tz), 15)} "
              f"{pad(state, 22)} {pad(m.attempts, 5, right=True)} {m.last_error or '-'}")
    given_up = sum(1 for m in rows if m.given_up_at is not None)
    print(f"({len(rows)} undelivered notification(s): {len(rows) - given_up} pending, {given_up} given up)")
    return 0
