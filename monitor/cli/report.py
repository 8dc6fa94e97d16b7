"""``wifimon report``: write the monthly availability report for the ministry.

    wifimon report [CONFIG] --month 2026-10 [--format xlsx,csv,pdf] [--out DIR] [--lang ko|en]

The month is a calendar month in the city's time zone (``service.timezone``); without ``--month``, the
last complete one. The current month gives a month-to-date report, marked as such in the file names
(``-mtd``) and on the cover. A month with no history is not an error: every scheduled hour is unknown,
and the report says so.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from monitor.cli.common import config_arg, config_failure, default_config, plain
from monitor.config.load import ConfigError, parse_config
from monitor.config.model import Config
from monitor.report.build import make_report, month_period, previous_month
from monitor.report.formats import FORMATS, write_report
from monitor.report.formats.units import hms
from monitor.report.settings import ReportSettings
from monitor.store import Store, StoreError

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``report`` subcommand to the ``wifimon`` parser."""
    p = subparsers.add_parser("report", help="write the monthly availability report (XLSX, CSV, PDF)",
                              description=plain(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--month", help="YYYY-MM in the city's time zone (default: last month)")
    p.add_argument("--format", default=",".join(FORMATS), metavar="LIST",
                   help=f"comma-separated formats out of {','.join(FORMATS)} (default: all)")
    p.add_argument("--out", type=Path, default=Path("reports"), metavar="DIR",
                   help="directory to write into, created if need be (default: ./reports)")
    p.add_argument("--lang", choices=("ko", "en"), default="ko", help="language of the report (default: ko)")
    p.add_argument("--target", type=float, default=None, metavar="PERCENT",
                   help="availability target printed on the cover (default: the config's report.target_percent, "
                        f"{ReportSettings.model_fields['target_percent'].default:g} unless set)")
    config_arg(p)
    p.add_argument("--config", dest="config_option", metavar="CONFIG", type=Path, default=None,
                   help="the config file, as an option")
    p.set_defaults(func=cmd_report)


def open_history(url: str) -> tuple[Store, str | None]:
    """The store to report from, and a note when there is none yet.

    A report only reads: it never creates a database. A SQLite file that does not exist, or a database
    the monitor has never written to, is an empty history, reported as such (every hour unknown).
    """
    store = Store(url)
    note = None
    database = store.url.database
    if store.url.get_backend_name() == "sqlite" and database not in (None, "", ":memory:"):
        if not Path(database).exists():
            note = f"no history yet: the store {store.display_url} does not exist"
    if note is None and store.revision() is None:
        note = f"no history yet: the store {store.display_url} has no wifimon tables"
    if note is None:
        return store, None
    store.close()
    empty = Store("sqlite://")
    empty.migrate()
    return empty, note


def cmd_report(args: argparse.Namespace) -> int:
    from monitor.report.formats.pdf_writer import FontMissing

    named = args.config_option or args.config
    path = named or default_config()
    formats = tuple(f.strip().lower() for f in args.format.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if not formats or unknown:
        print(f"wifimon report: --format {args.format!r}: choose one or more of {','.join(FORMATS)}", file=sys.stderr)
        return 2
    if args.target is not None and not 0 < args.target <= 100:
        print(f"wifimon report: --target {args.target}: must be a percentage in (0, 100]", file=sys.stderr)
        return 2
    found = config_and_month("report", path, named, args.month)
    if isinstance(found, int):
        return found
    config, month, now = found
    try:
        store, note = open_history(config.service.store_url)
        try:
            if note:
                log.warning("report_without_history %s", note)
                print(f"wifimon report: {note}; every scheduled hour of {month} is unknown", file=sys.stderr)
            target = args.target / 100 if args.target is not None else config.report.target
            report = make_report(store, config, month, now, target)
        finally:
            store.close()
        files = write_report(report, formats, args.out, args.lang)
    except (StoreError, FontMissing, OSError) as exc:  # OSError: e.g. an unwritable --out, a full disk
        print(f"wifimon report: {exc}", file=sys.stderr)
        return 1
    avail = report.total.availability
    kind = "month to date" if report.period.month_to_date else "month"
    if avail is None:
        print(f"{report.period.label} ({kind}): no availability can be given: nothing scheduled was observed "
              f"(unknown {hms(report.total.unknown)} over {len(report.sites)} sites)")
    else:
        print(f"{report.period.label} ({kind}): availability {avail * 100:.3f}% over {len(report.sites)} sites, "
              f"{report.total.outages} site outages, downtime {hms(report.total.downtime)}, "
              f"unknown {hms(report.total.unknown)}; the outage log lists {len(report.outages)} site and AP outages")
    for f in files:
        print(f"wrote {f}")
    return 0


def config_and_month(command: str, path: Path, named: Path | None, month: str | None) -> tuple[Config, str, float] | int:
    """The config, the month (last month by default) and now, for a command about one month of history; or the
    exit code after saying on stderr why not (1: the config, 2: the month)."""
    try:
        config = parse_config(path)
    except ConfigError as exc:
        print(config_failure(named, path, exc.problems), file=sys.stderr)
        return 1
    now = time.time()
    month = month or previous_month(now, config.service.timezone)
    try:
        month_period(month, config.service.timezone, now)
    except ValueError as exc:
        print(f"wifimon {command}: --month: {exc}", file=sys.stderr)
        return 2
    return config, month, now
