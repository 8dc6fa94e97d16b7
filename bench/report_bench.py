"""Benchmark: the monthly report over a month of synthetic history, on SQLite and PostgreSQL.

Fleets: the demo fleet (config/demo/wifimon.yaml, 388 APs) and a synthetic 10,000-AP city. For each, a
month (October 2026, Asia/Seoul) of history is written through the store's own API, as the monitor writes
it: two runs with a 40-minute crash gap, state transitions (site outages with all their APs, degraded
sites, ferries off their timetable every evening), maintenance windows (one weekly, a few one-off) and
hourly usage rollups for every AP and every hour (10,000 APs: 7.4 million rows). Then it times:

- gather: the report's queries (transitions, states at the start, outages, gaps, maintenance, usage sums)
- previous: the month before's figures (전월 대비: the same queries without usage, and the timelines)
- build: the pure model (timelines, figures, days, logs)
- xlsx, csv, pdf: each format
- mtd: ``month_to_date`` (what the service runs every few minutes)

and prints a Markdown table. Seeding is slow (it goes through the store, row by row for transitions);
``--keep`` leaves the databases (SQLite files under --dir, PostgreSQL schemas ``wifimon_bench_<n>``) and
a later run with ``--reuse`` times the report again without seeding.

    .venv/bin/python bench/report_bench.py [--fleets 388,10000] [--backends sqlite,postgresql] [--keep|--reuse]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.domain.availability import figures  # noqa: E402
from monitor.config.load import parse_config  # noqa: E402
from monitor.config.model import AccessPoint, Config, ServiceSettings, Site, Weekly  # noqa: E402
from monitor.domain.vocabulary import Reason, Scope, Transition  # noqa: E402
from monitor.report.build import (  # noqa: E402
    DEFAULT_TARGET, build, gather, month_period, month_to_date, previous_figures, site_timelines,
)
from monitor.report.formats import write_report  # noqa: E402
from monitor.report.formats.tables import build_tables  # noqa: E402
from monitor.domain.service_calendar import service_intervals  # noqa: E402
from monitor.store import MaintenanceWindow, Store, UsageRow  # noqa: E402

TZ = "Asia/Seoul"
SEOUL = ZoneInfo(TZ)
MONTH = "2026-10"
OCT = datetime(2026, 10, 1, tzinfo=SEOUL).timestamp()
NOV = datetime(2026, 11, 1, tzinfo=SEOUL).timestamp()
NOW = datetime(2026, 11, 25, 12, tzinfo=SEOUL).timestamp()
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CATEGORIES = ("bus_stop", "park", "tourist_site", "market", "welfare", "rental_yard", "public_office", "street")


def synthetic_config(n_aps: int) -> Config:
    """A city of ``n_aps`` APs: land sites of 1-3 APs in 40 districts, and one ferry per 500 APs."""
    rng = random.Random(n_aps)
    sites, made, i = [], 0, 0
    ferries = max(1, n_aps // 500)
    while made < n_aps:
        i += 1
        ferry = i <= ferries
        k = min(n_aps - made, 2 if ferry else rng.choice((1, 1, 1, 2, 2, 3)))
        aps = tuple(AccessPoint(id=f"b{i:05d}-ap{j}", address="127.0.0.1", credentials="c") for j in range(k))
        timetable = (Weekly(days=("mon", "tue", "wed", "thu", "fri", "sat"), start=dtime(7), end=dtime(18, 30)),
                     Weekly(days=("sun",), start=dtime(8), end=dtime(16, 30))) if ferry else None
        sites.append(Site(id=f"b{i:05d}", name=f"벤치 사이트 {i}", category="ferry" if ferry else CATEGORIES[i % 8],
                          kind="ferry" if ferry else "land", district=f"동{i % 40:02d}", address=f"군산시 벤치로 {i}",
                          timetable=timetable, aps=aps))
        made += k
    return Config(service=ServiceSettings(organisation="벤치시", timezone=TZ), sites=tuple(sites))


def history(config: Config, seed: int) -> tuple[list[Transition], list[MaintenanceWindow], float, float]:
    """Transitions and maintenance windows of a plausible month; returns them and the gap (start, end)."""
    rng = random.Random(seed)
    start = OCT - 2 * 86400
    gap = (OCT + 14.3 * 86400, OCT + 14.3 * 86400 + 2400)
    out: list[Transition] = []

    def emit(scope: Scope, entity: str, site: str, states: list[tuple[float, str]]) -> None:
        old = "unknown"
        for at, new in sorted(states):
            if gap[0] < at < gap[1] or new == old:
                continue
            out.append(Transition(scope, entity, site, old, new, at, Reason.TIMEOUT if new == "down" else None))
            old = new

    for site in config.sites:
        init = start + rng.uniform(1, 14)
        site_states: list[tuple[float, str]] = [(init, "up")]
        ap_states = {ap.id: [(init, "up")] for ap in site.aps}
        busy: list[tuple[float, float]] = []
        # whole-site outages (all APs), mostly minutes, sometimes hours
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            t0 = rng.uniform(OCT - 86400, NOV + 3600)
            t1 = t0 + min(rng.lognormvariate(6.5, 1.2), 12 * 3600)
            if any(a < t1 and t0 < b for a, b in busy):
                continue
            busy.append((t0, t1))
            for ap in site.aps:
                ap_states[ap.id] += [(t0 - rng.uniform(0, 10), "down"), (t1 + rng.uniform(0, 10), "up")]
            site_states += [(t0, "down"), (t1, "up")]
        # one AP of a multi-AP site down alone: degraded
        if len(site.aps) > 1:
            for _ in range(rng.choice((0, 1, 2))):
                t0 = rng.uniform(OCT, NOV)
                t1 = t0 + min(rng.lognormvariate(7, 1), 24 * 3600)
                if any(a - 60 < t1 and t0 < b + 60 for a, b in busy):
                    continue
                busy.append((t0, t1))
                ap_states[rng.choice(site.aps).id] += [(t0, "down"), (t1, "up")]
                site_states += [(t0, "degraded"), (t1, "up")]
        if site.timetable:
            for s, e in service_intervals(site, start, NOV + 86400, SEOUL):
                for states in [site_states, *ap_states.values()]:
                    states += [(s + 3, "unknown"), (s + 10, "up"), (e + 2, "out_of_service")]
        emit(Scope.SITE, site.id, site.id, site_states)
        for ap in site.aps:
            emit(Scope.AP, ap.id, site.id, ap_states[ap.id])
    out.sort(key=lambda t: t.at)
    windows = [
        MaintenanceWindow("category", "market", OCT + 3 * 3600 + 5 * 86400, OCT + 3.5 * 3600 + 5 * 86400, TZ, "bench",
                          recurrence="weekly", comment="주간 점검"),
    ]
    for site in rng.sample(list(config.sites), min(5, len(config.sites))):
        t0 = rng.uniform(OCT, NOV - 86400)
        windows.append(MaintenanceWindow("site", site.id, t0, t0 + 7200, TZ, "bench", comment="장비 교체"))
    return out, windows, gap[0], gap[1]


def seed_store(store: Store, config: Config, seed: int) -> dict[str, float]:
    timings: dict[str, float] = {}
    began = time.perf_counter()
    transitions, windows, gap0, gap1 = history(config, seed)
    run1 = store.start_run(OCT - 2 * 86400, host="bench", version="bench")
    store.heartbeat(run1, gap0)
    run2 = store.start_run(gap1, host="bench", version="bench")
    store.stop_run(run2, NOV + 86400 * 2)
    for i in range(0, len(transitions), 5000):
        batch = transitions[i:i + 5000]
        first = [t for t in batch if t.at <= gap0]
        if first:
            store.record_transitions(first, run1)
        later = [t for t in batch if t.at > gap0]
        if later:
            store.record_transitions(later, run2)
    for w in windows:
        store.add_maintenance(w, OCT - 86400)
    timings["seed_transitions_s"] = time.perf_counter() - began
    began = time.perf_counter()
    rng = random.Random(seed + 1)
    aps = [(ap.id, s.id) for s in config.sites for ap in s.aps]
    hour = OCT
    n = 0
    while hour < NOV:
        local = datetime.fromtimestamp(hour, SEOUL).hour
        busy = 0.2 + 0.8 * max(0.0, 1 - abs(local - 14) / 10)
        rows = []
        for ap, site in aps:
            peak = int(rng.random() * 40 * busy)
            rows.append(UsageRow(ap, site, hour, peak, peak * 30, 60, int(rng.random() * 2e8 * busy),
                                 int(rng.random() * 2e7 * busy)))
        store.add_usage(rows)
        n += len(rows)
        hour += 3600
    timings["seed_usage_s"] = time.perf_counter() - began
    timings["transitions"] = len(transitions)
    timings["usage_rows"] = n
    return timings


def pg_url(schema: str) -> str:
    url = make_url(PG).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def pg_admin(sql: str) -> None:
    engine = create_engine(PG, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def timed(fn, *args):
    began = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - began


def bench(config: Config, backend: str, workdir: Path, keep: bool, reuse: bool, formats: tuple[str, ...]) -> dict:
    n_aps = sum(len(s.aps) for s in config.sites)
    if backend == "sqlite":
        url = f"sqlite:///{workdir / f'bench-{n_aps}.db'}"
        exists = (workdir / f"bench-{n_aps}.db").exists()
    else:
        schema = f"wifimon_bench_{n_aps}"
        url = pg_url(schema)
        exists = False
        if reuse:
            engine = create_engine(PG, connect_args={"connect_timeout": 5})
            with engine.connect() as conn:
                exists = conn.execute(text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"),
                                      {"s": schema}).first() is not None
            engine.dispose()
        if not exists:
            pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            pg_admin(f'CREATE SCHEMA "{schema}"')
    store = Store(url, timeout=30)
    result: dict = {"fleet": n_aps, "sites": len(config.sites), "backend": backend}
    try:
        if not (reuse and exists):
            if backend == "sqlite" and exists:
                (workdir / f"bench-{n_aps}.db").unlink()
            store.migrate()
            result.update(seed_store(store, config, n_aps))
        period = month_period(MONTH, TZ, NOW)
        hist, result["gather_s"] = timed(gather, store, period)
        previous, result["previous_s"] = timed(previous_figures, store, config, period)
        report, result["build_s"] = timed(build, config, hist, period, NOW, DEFAULT_TARGET, previous)
        result["outages_logged"] = len(report.outages)
        result["availability"] = report.total.availability
        out = workdir / f"out-{n_aps}-{backend}"
        tables, result["tables_s"] = timed(build_tables, report, "ko")
        for fmt in formats:
            _, result[f"{fmt}_s"] = timed(write_report, report, (fmt,), out, "ko")
        result["report_s"] = result["gather_s"] + result["previous_s"] + result["build_s"] + sum(result[f"{f}_s"] for f in formats)
        mtd_now = OCT + 20.5 * 86400
        _, result["mtd_s"] = timed(month_to_date, store, config, mtd_now)
        # the same figures twice (idempotence on real data)
        again = build(config, gather(store, period), period, NOW)
        result["same_twice"] = again.total == report.total
        sites, _ = site_timelines(config, hist, period, with_aps=False)
        result["check_sum"] = sum(figures(t).downtime for t in sites.values())
    finally:
        store.close()
        if backend == "postgresql" and not keep:
            pg_admin(f'DROP SCHEMA IF EXISTS "wifimon_bench_{n_aps}" CASCADE')
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fleets", default="388,10000", help="388 = the demo config; any other number is synthetic")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--formats", default="xlsx,csv,pdf")
    ap.add_argument("--dir", type=Path, default=None, help="where SQLite files and reports go (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the seeded databases")
    ap.add_argument("--reuse", action="store_true", help="reuse databases kept by --keep (implies --keep)")
    args = ap.parse_args()
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="wifimon-report-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    formats = tuple(args.formats.split(","))
    rows = []
    for fleet in (int(x) for x in args.fleets.split(",")):
        config = parse_config(ROOT / "config/demo/wifimon.yaml") if fleet == 388 else synthetic_config(fleet)
        for backend in args.backends.split(","):
            r = bench(config, backend, workdir, args.keep or args.reuse, args.reuse, formats)
            rows.append(r)
            print(f"# {r}", flush=True)
    cols = ["fleet", "sites", "backend", "transitions", "usage_rows", "seed_transitions_s", "seed_usage_s", "gather_s",
            "previous_s", "build_s", *(f"{f}_s" for f in formats), "report_s", "mtd_s", "outages_logged", "same_twice"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            cells.append(f"{v:.2f}" if isinstance(v, float) else str(v))
        print("| " + " | ".join(cells) + " |")
    print(f"(reports and SQLite files in {workdir}; {datetime.now().isoformat(timespec='seconds')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
