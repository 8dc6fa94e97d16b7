"""``wifimon maintenance add|list|remove``: planned maintenance windows kept in the store.

The running service re-reads the store's windows every few seconds (at most 15), so a window added here
takes effect without a restart. Windows written in the config file (``maintenance:``) are listed too, but
are changed in the config file, not here.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, get_args
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from monitor.cli.common import CONFIG_HELP, UsageError, config_failure, default_config, duration_arg, pad
from monitor.config.load import ConfigError, parse_config
from monitor.config.model import Category, Config, MaintenanceEntry
from monitor.domain.local_time import local_text

if TYPE_CHECKING:
    from monitor.store import Store

EXAMPLES = """\
examples:
  wifimon maintenance add --site gs-0001 --start "2026-11-26 02:00" --duration 2h --comment "AP 교체"
  wifimon maintenance add --category market --start "2026-11-29 06:00" --duration 3h --repeat weekly
  wifimon maintenance add --district 월명동 --start 2026-12-01T00:00+09:00 --end 2026-12-01T06:00+09:00
  wifimon maintenance add --ap gs-0001-ap1 --start now --duration 45m --by kim
  wifimon maintenance list
  wifimon maintenance remove 7

Times without a UTC offset are local time in the config's service.timezone."""


def _when(text: str) -> datetime | str:
    """--start/--end: 'now', 'YYYY-MM-DD HH:MM[:SS]' (service time zone) or ISO 8601 with an offset."""
    if text.strip().lower() == "now":
        return "now"
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: write 'now', '2026-11-26 02:00' (service time zone) or"
            " '2026-11-26T02:00+09:00'") from None


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``maintenance`` with its ``add``, ``list`` and ``remove`` commands to the wifimon parser."""
    p = subparsers.add_parser(
        "maintenance", help="planned maintenance windows: add, list, remove",
        description="Planned maintenance windows: no alerts, and the time does not count against availability.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="maintenance_command", required=True, metavar="{add,list,remove}")

    add = sub.add_parser("add", help="add a window (one-off or repeating)", epilog=EXAMPLES,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    scope = add.add_mutually_exclusive_group(required=True)
    scope.add_argument("--site", metavar="ID", help="one site")
    scope.add_argument("--ap", metavar="ID", help="one AP (or a site's uplink device)")
    scope.add_argument("--category", choices=get_args(Category), metavar="CATEGORY",
                       help=f"every site of a category ({', '.join(get_args(Category))})")
    scope.add_argument("--district", metavar="NAME", help="every site of a district (as the config spells it)")
    scope.add_argument("--all", action="store_true", help="every site")
    add.add_argument("--start", required=True, type=_when, metavar="WHEN",
                     help="'now', 'YYYY-MM-DD HH:MM' in the service time zone, or ISO 8601 with an offset")
    length = add.add_mutually_exclusive_group(required=True)
    length.add_argument("--duration", type=duration_arg, metavar="D", help="e.g. 45m, 1.5h, 1h30m, 1d")
    length.add_argument("--end", type=_when, metavar="WHEN", help="end of a one-off window (instead of --duration)")
    add.add_argument("--repeat", choices=("daily", "weekly", "monthly"),
                     help="repeat at the same local time (first occurrence at --start)")
    add.add_argument("--comment", default="", help="what is being done (shown in the report's maintenance log)")
    add.add_argument("--by", default=None, metavar="NAME", help="who planned it (default: your login name)")
    _config_option(add)
    add.set_defaults(func=cmd_add)

    ls = sub.add_parser("list", help="windows in force or to come, from the store and the config")
    ls.add_argument("--all", action="store_true", help="include windows that have ended or were removed")
    _config_option(ls)
    ls.set_defaults(func=cmd_list)

    rm = sub.add_parser("remove", help="remove a window added with 'add': one that has begun ends now, its past"
                                       " is kept (config windows: edit the config)")
    rm.add_argument("id", type=int, metavar="ID", help="the window's id, as 'list' prints it")
    _config_option(rm)
    rm.set_defaults(func=cmd_remove)


def _config_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=None, help=CONFIG_HELP)


def _load(args: argparse.Namespace) -> tuple[Path, Config]:
    path = args.config or default_config()
    try:
        return path, parse_config(path)
    except ConfigError as exc:
        raise UsageError(config_failure(args.config, path, exc.problems)) from None


def _store(config: Config) -> Store:
    from monitor.store import Store

    store = Store(config.service.store_url)
    store.migrate()  # a store the service never opened yet gets its tables here
    return store


def _run(name: str, body: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; a user error or a store failure is one line on stderr and exit code 1."""
    from monitor.store import StoreError

    try:
        return body(args)
    except (UsageError, StoreError) as exc:
        print(f"wifimon maintenance {name}: {exc}", file=sys.stderr)
    return 1


# -- add ------------------------------------------------------------------------------------------


def _check_scope(config: Config, path: Path, args: argparse.Namespace) -> None:
    if args.site is not None and args.site not in {s.id for s in config.sites}:
        raise UsageError(f"--site {args.site!r}: no such site in {path}")
    if args.ap is not None:
        devices = {d.id for s in config.sites for d in (*s.aps, *((s.uplink,) if s.uplink else ()))}
        if args.ap not in devices:
            raise UsageError(f"--ap {args.ap!r}: no such AP or uplink device in {path}")
    if args.district is not None:
        districts = sorted({s.district for s in config.sites if s.district})
        if args.district not in districts:
            shown = ", ".join(districts[:15]) + (", …" if len(districts) > 15 else "")
            raise UsageError(f"--district {args.district!r}: no site of {path} is in it"
                             f" (districts: {shown or 'none set'})")


_FLAGS = {"start": "--start", "end": "--end", "duration": "--duration", "repeat": "--repeat"}


def _entry(args: argparse.Namespace, tz: str) -> MaintenanceEntry:
    from monitor.domain.maintenance_windows import aware

    now = datetime.now(ZoneInfo(tz)).replace(microsecond=0)
    # Both ends made aware here, so '--start now --end 2026-11-26 06:00' mixes without complaint.
    start = now if args.start == "now" else aware(args.start, tz)
    end = None if args.end is None else now if args.end == "now" else aware(args.end, tz)
    try:
        return MaintenanceEntry(
            site=args.site, ap=args.ap, category=args.category, district=args.district, all=args.all,
            start=start, end=end, duration=args.duration, repeat=args.repeat, comment=args.comment)
    except ValidationError as exc:
        messages = []
        for err in exc.errors():
            msg = str(err["msg"]).removeprefix("Value error, ")
            for field, flag in _FLAGS.items():
                msg = msg.replace(f"'{field}'", flag)
            messages.append(msg)
        raise UsageError("; ".join(messages)) from None


def cmd_add(args: argparse.Namespace) -> int:
    return _run("add", _add, args)


def _add(args: argparse.Namespace) -> int:
    from monitor.domain.maintenance_windows import to_window

    path, config = _load(args)
    _check_scope(config, path, args)
    tz = config.service.timezone
    window = to_window(_entry(args, tz), tz, created_by=(args.by or _login())[:128])
    if window.recurrence is None and window.ends_at <= time.time():
        raise UsageError(f"--start/--end: the window ended in the past ({_fmt(window.ends_at, tz)})")
    store = _store(config)
    try:
        saved = store.add_maintenance(window, time.time())
    finally:
        store.close()
    print(f"maintenance window {saved.id} added: {_describe_scope(saved.scope_kind, saved.scope_value, config)},"
          f" {_span(saved.starts_at, saved.ends_at, tz)}"
          + (f", repeats {saved.recurrence}" if saved.recurrence else "")
          + (f"; {saved.comment}" if saved.comment else ""))
    print("the running service applies it within 15 s")
    return 0


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (e.g. a container without a passwd entry)
        return "cli"


# -- list -----------------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    return _run("list", _list, args)


def _list(args: argparse.Namespace) -> int:
    from monitor.domain.maintenance_windows import config_windows, next_occurrence

    _, config = _load(args)
    tz = config.service.timezone
    now = time.time()
    store = _store(config)
    try:
        stored = store.list_maintenance() if args.all else store.list_maintenance(since=now)
    finally:
        store.close()
    rows = [(str(w.id), w) for w in stored] + [(f"config[{i}]", w) for i, w in enumerate(config_windows(config))]
    print(f"{'ID':<10} {'SCOPE':<30} {'NEXT':<40} {'REPEAT':<8} {'BY':<12} COMMENT")
    shown = 0
    for ident, w in rows:
        occurrence = next_occurrence(w, now)
        if occurrence is None and not args.all:
            continue
        if occurrence is None and w.retired_at is not None:
            when = "removed " + _fmt(w.retired_at, tz)
        elif occurrence is None:
            when = "ended " + _fmt(w.ends_at, tz)
        elif occurrence[0] <= now:
            when = "now, until " + _fmt(occurrence[1], tz)
        else:
            when = _span(*occurrence, tz)
        scope = _describe_scope(w.scope_kind, w.scope_value, config)
        print(f"{pad(ident, 10)} {pad(scope, 30)} {pad(when, 40)} {pad(w.recurrence or '-', 8)} {pad(w.created_by, 12)} "
              f"{w.comment}")
        shown += 1
    if not shown:
        print("(no maintenance windows" + ("" if args.all else " in force or to come; --all lists ended ones") + ")")
    return 0


# -- remove ---------------------------------------------------------------------------------------


def cmd_remove(args: argparse.Namespace) -> int:
    return _run("remove", _remove, args)


def _remove(args: argparse.Namespace) -> int:
    _, config = _load(args)
    tz = config.service.timezone
    now = time.time()
    store = _store(config)
    try:
        removed = store.remove_maintenance(args.id, now)
    finally:
        store.close()
    if removed is None:
        raise UsageError(f"no maintenance window with id {args.id} in {store.display_url}"
                         " ('wifimon maintenance list' shows the ids)")
    done, window = removed
    if done == "deleted":
        print(f"maintenance window {args.id} removed (it had not begun); the running service drops it within 15 s")
    elif done == "already_retired":
        assert window.retired_at is not None
        raise UsageError(f"no maintenance window with id {args.id} in force or to come:"
                         f" it was removed at {_fmt(window.retired_at, tz)}")
    else:
        print(f"maintenance window {args.id} ended at {_fmt(now, tz)}: it applies no more, and what it"
              " covered before stays in the reports; the running service drops it within 15 s")
    return 0


# -- formatting -----------------------------------------------------------------------------------


def _fmt(ts: float, tz: str) -> str:
    return local_text(ts, tz)


def _span(start: float, end: float, tz: str) -> str:
    """``2026-11-26 02:00–04:00 KST`` within a day (and one zone), else both ends in full."""
    a, b = _fmt(start, tz), _fmt(end, tz)
    same_day, same_zone = a[:10] == b[:10], a[16:] == b[16:]
    return f"{a[:16]}–{b[11:]}" if same_day and same_zone else f"{a} – {b}"


def _describe_scope(kind: str, value: str | None, config: Config) -> str:
    if kind == "all":
        return "all sites"
    if kind == "site":
        name = next((s.name for s in config.sites if s.id == value), "")
        return f"site {value}" + (f" ({name})" if name else "")
    return f"{kind} {value}"
