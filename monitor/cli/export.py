"""``wifimon export open-data``: the month's figures per site as the city publishes them.

    wifimon export open-data --month 2026-10 [--format csv,json] [--encoding utf-8|cp949] [--out DIR] [CONFIG]

Per site: availability, downtime, unknown time, clients (peak, mean) and traffic, by the report's own
arithmetic, with the national free Wi-Fi dataset's identifying columns (관리번호, 설치장소명, 도로명주소, 위도,
경도). CSV in UTF-8 with a byte-order mark (CP949 with --encoding cp949) and JSON. Nothing internal is
published: no device addresses, AP ids or credentials. The columns: docs/open-data.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monitor.cli.common import config_arg, default_config, plain
from monitor.cli.report import config_and_month
from monitor.report.build import make_report
from monitor.report.open_data import ENCODINGS, OPEN_FORMATS, EncodingProblem, write_open_data
from monitor.store import StoreError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``export open-data`` to the ``wifimon`` parser."""
    export = subparsers.add_parser("export", help="export data for publication (open data)")
    kinds = export.add_subparsers(dest="export_kind", required=True)
    p = kinds.add_parser("open-data", help="per-site monthly figures as open data (CSV, JSON)",
                         description=plain(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--month", help="YYYY-MM in the city's time zone (default: last month)")
    p.add_argument("--format", default=",".join(OPEN_FORMATS), metavar="LIST",
                   help=f"comma-separated formats out of {','.join(OPEN_FORMATS)} (default: both)")
    p.add_argument("--encoding", choices=ENCODINGS, default="utf-8",
                   help="the CSV's encoding: utf-8 (with a BOM, the default) or cp949; JSON is always UTF-8")
    p.add_argument("--out", type=Path, default=Path("open-data"), metavar="DIR",
                   help="directory to write into, created if need be (default: ./open-data)")
    config_arg(p)
    p.add_argument("--config", dest="config_option", metavar="CONFIG", type=Path, default=None,
                   help="the config file, as an option")
    p.set_defaults(func=cmd_open_data)


def cmd_open_data(args: argparse.Namespace) -> int:
    from monitor.cli.report import open_history

    named = args.config_option or args.config
    path = named or default_config()
    formats = tuple(f.strip().lower() for f in args.format.split(",") if f.strip())
    if not formats or any(f not in OPEN_FORMATS for f in formats):
        print(f"wifimon export open-data: --format {args.format!r}: choose one or more of {','.join(OPEN_FORMATS)}",
              file=sys.stderr)
        return 2
    found = config_and_month("export open-data", path, named, args.month)
    if isinstance(found, int):
        return found
    config, month, now = found
    try:
        store, note = open_history(config.service.store_url)
        try:
            if note:
                print(f"wifimon export open-data: {note}; every figure of {month} is empty (no data)", file=sys.stderr)
            report = make_report(store, config, month, now, config.report.target)
        finally:
            store.close()
        files = write_open_data(report, formats, args.out, args.encoding)
    except (StoreError, EncodingProblem, OSError) as exc:
        print(f"wifimon export open-data: {exc}", file=sys.stderr)
        return 1
    print(f"{report.period.label}: {len(report.sites)} sites")
    for f in files:
        print(f"wrote {f}")
    return 0
