"""The monthly report against a golden month built by hand in a real store (SQLite and PostgreSQL).

The month (October 2026, Asia/Seoul) is written into the store the way the monitor writes it: runs with
heartbeats (one crashes: a 3 h 17 min 42 s monitoring gap), transitions (outages open and close from
them), maintenance windows, usage rollups. It has outages across midnight and across both month
boundaries, a degraded site, maintenance overlapping an outage, a recurring window, an AP-only window,
an outage spanning the gap, and a ferry with a timetable (service starts, maintenance before sailing).

The expected figures are computed here by a different, simpler method: every second of the month is a
bit, each fact paints its seconds (service, maintenance, gap, each state), and the figures are bit
counts. They must equal the report's to the second.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from time import time as time_now
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from monitor.config.model import AccessPoint, Config, ServiceSettings, Site, Weekly
from monitor.domain.vocabulary import Reason, Scope, Transition
from monitor.report.build import build, gather, make_report, month_period, month_to_date
from monitor.report.formats import file_stem, write_report
from monitor.report.formats.tables import build_tables
from monitor.store import MaintenanceWindow, Store, UsageRow
from tests.dbs import BACKENDS, pg_schema

SEOUL = ZoneInfo("Asia/Seoul")


def T(month: int, day: int, h: int = 0, m: int = 0, s: int = 0) -> int:
    """A Seoul wall-clock time in 2026 as unix seconds."""
    return int(datetime(2026, month, day, h, m, s, tzinfo=SEOUL).timestamp())


OCT, NOV = T(10, 1), T(11, 1)
N = NOV - OCT  # seconds in October
NOW = T(11, 25, 12)  # the report is run in late November: October is complete

AP = lambda i: AccessPoint(id=i, address="127.0.0.1", credentials="c")  # noqa: E731
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
TIMETABLE = ((WEEKDAYS, time(7), time(12)), (WEEKDAYS, time(13), time(18)), (("sat", "sun"), time(9), time(17)))
CONFIG = Config(
    service=ServiceSettings(organisation="군산시", timezone="Asia/Seoul"),
    sites=(
        Site(id="s1", name="군산시청 버스정류장", category="bus_stop", district="조촌동", address="군산시 시청로 17",
             aps=(AP("s1-a"), AP("s1-b"))),
        Site(id="s2", name="은파호수공원", category="park", district="나운동", aps=(AP("s2-a"),)),
        Site(id="s3", name="공설시장", category="market", district="조촌동", aps=(AP("s3-a"), AP("s3-b"))),
        Site(id="f1", name="옥도훼리호", category="ferry", kind="ferry", district="옥도면", aps=(AP("f1-a"),),
             timetable=tuple(Weekly(days=d, start=s, end=e) for d, s, e in TIMETABLE)),
    ),
)

# -- the month's facts ----------------------------------------------------------------------------------

RUN1_START, RUN1_LAST_HEARTBEAT = T(9, 20, 10), T(10, 20, 10)  # run 1 crashes: no stop
RUN2_START, RUN2_STOP = T(10, 20, 13, 17, 42), T(11, 3)
GAP = (RUN1_LAST_HEARTBEAT, RUN2_START)
INIT = T(9, 20, 10, 0, 7)  # first probes of run 1


def weekly_market_maintenance() -> list[tuple[int, int]]:
    """Tuesdays 03:00-03:30 from 1 September (a Tuesday)."""
    return [(T(9, 1, 3) + k * 7 * 86400, T(9, 1, 3, 30) + k * 7 * 86400) for k in range(10)]


def ferry_windows() -> list[tuple[int, int]]:
    """The ferry's sailings from 20 September to 2 November, from the timetable, written out by hand."""
    out = []
    day = date(2026, 9, 20)
    while day <= date(2026, 11, 2):
        wd = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
        for days, start, end in TIMETABLE:
            if wd in days:
                out.append((int(datetime.combine(day, start, SEOUL).timestamp()),
                            int(datetime.combine(day, end, SEOUL).timestamp())))
        day += timedelta(days=1)
    return out


def ferry_states() -> list[tuple[int, str]]:
    """What the poller records for a ferry: out of service off the timetable; at each sailing a few
    seconds 'unknown' until the first probe answers."""
    ev: dict[int, str] = {INIT: "up"}
    for start, end in ferry_windows():
        if end <= RUN1_START:
            continue
        if start >= RUN1_START:
            ev[start + 3] = "unknown"
            ev[start + 10] = "up"
        ev[end + 2] = "out_of_service"
    # 7 Oct (Wed): down in service.
    ev[T(10, 7, 10, 15)] = "down"
    ev[T(10, 7, 11, 45, 30)] = "up"
    # 8 Oct (Thu): down at 11:30, off the timetable at 12:00:02 (closes the outage), still down at 13:00:10.
    ev[T(10, 8, 11, 30)] = "down"
    ev[T(10, 8, 13, 0, 10)] = "down"
    ev[T(10, 8, 13, 20)] = "up"
    # 10 Oct (Sat): maintenance 08:00-10:00 takes the first hour of the 09:00 sailing.
    del ev[T(10, 10, 9, 0, 3)], ev[T(10, 10, 9, 0, 10)]
    ev[T(10, 10, 8, 0, 5)] = "maintenance"
    ev[T(10, 10, 10, 0, 4)] = "unknown"
    ev[T(10, 10, 10, 0, 10)] = "up"
    # Nobody was watching during the gap: nothing recorded then (the restarted run resumes 'up').
    return sorted((t, s) for t, s in ev.items() if not GAP[0] < t < GAP[1])


def market_states(outage: bool) -> list[tuple[int, str]]:
    ev = [(INIT, "up")]
    for start, end in weekly_market_maintenance():
        if start > RUN1_START:
            ev += [(start + 5, "maintenance"), (end + 4, "unknown"), (end + 9, "up")]
    if outage:  # 15 Oct: down at 01:30, maintenance 02:00-04:00 begins while it is down
        ev += [(T(10, 15, 1, 30), "down"), (T(10, 15, 2, 0, 5), "maintenance"), (T(10, 15, 4, 0, 4), "unknown"),
               (T(10, 15, 4, 0, 9), "up")]
    return sorted(ev)


STATES: dict[tuple[Scope, str], list[tuple[int, str]]] = {
    (Scope.AP, "s1-a"): [(INIT, "up"), (T(10, 5, 23, 40, 13), "down"), (T(10, 6, 0, 31, 7), "up"),
                         (T(10, 20, 9, 30), "down"), (T(10, 20, 14), "up")],
    (Scope.AP, "s1-b"): [(INIT, "up"), (T(10, 5, 23, 40, 20), "down"), (T(10, 6, 0, 25, 50), "up"),
                         (T(10, 12, 14), "down"), (T(10, 12, 16), "up")],
    (Scope.SITE, "s1"): [(INIT, "up"), (T(10, 5, 23, 40, 20), "down"), (T(10, 6, 0, 25, 50), "degraded"),
                         (T(10, 6, 0, 31, 7), "up"), (T(10, 12, 14), "degraded"), (T(10, 12, 16), "up"),
                         (T(10, 20, 9, 30), "degraded"), (T(10, 20, 14), "up")],
    (Scope.AP, "s2-a"): [(INIT, "up"), (T(9, 30, 22), "down"), (T(10, 1, 3, 0, 30), "up"),
                         (T(10, 31, 23), "down"), (T(11, 1, 1), "up")],
    (Scope.AP, "s3-a"): market_states(outage=True),
    (Scope.AP, "s3-b"): market_states(outage=True),
    (Scope.SITE, "s3"): market_states(outage=True),
    (Scope.AP, "f1-a"): ferry_states(),
    (Scope.SITE, "f1"): ferry_states(),
}
STATES[(Scope.SITE, "s2")] = list(STATES[(Scope.AP, "s2-a")])
SITE_OF = {"s1-a": "s1", "s1-b": "s1", "s2-a": "s2", "s3-a": "s3", "s3-b": "s3", "f1-a": "f1"}

MAINTENANCE = [
    MaintenanceWindow("site", "s3", T(10, 15, 2), T(10, 15, 4), "Asia/Seoul", "park", comment="스위치 교체"),
    MaintenanceWindow("category", "market", T(9, 1, 3), T(9, 1, 3, 30), "Asia/Seoul", "park", recurrence="weekly"),
    MaintenanceWindow("ap", "s3-b", T(10, 22, 10), T(10, 22, 11), "Asia/Seoul", "lee"),
    MaintenanceWindow("site", "f1", T(10, 10, 8), T(10, 10, 10), "Asia/Seoul", "lee", comment="선박 정기점검"),
]

USAGE = [  # (ap, hour, max clients, bytes): s1's peak is 10 + 7 in the same hour, not 12 alone
    ("s1-a", T(10, 3, 12), 10, 1_000_000_000), ("s1-b", T(10, 3, 12), 7, 500_000_000),
    ("s1-a", T(10, 3, 13), 12, 2_000_000_000), ("s1-b", T(10, 3, 13), 2, 250_000_000),
    ("s1-a", T(9, 30, 23), 99, 9_000_000_000),  # September: not in October's figures
]


def build_store(url: str) -> Store:
    store = Store(url)
    store.migrate()
    run1 = store.start_run(RUN1_START, host="golden", version="test")
    store.heartbeat(run1, RUN1_LAST_HEARTBEAT)
    run2 = store.start_run(RUN2_START, host="golden", version="test")
    store.stop_run(run2, RUN2_STOP)
    transitions = []
    for (scope, entity), states in STATES.items():
        site = entity if scope == Scope.SITE else SITE_OF[entity]
        old = "unknown"
        for at, new in states:
            if new != old:
                reason = Reason.TIMEOUT if new == "down" else None
                transitions.append(Transition(scope, entity, site, old, new, float(at), reason))
            old = new
    transitions.sort(key=lambda t: t.at)
    store.record_transitions([t for t in transitions if t.at <= RUN1_LAST_HEARTBEAT], run1)
    store.record_transitions([t for t in transitions if t.at > RUN1_LAST_HEARTBEAT], run2)
    for w in MAINTENANCE:
        store.add_maintenance(w, RUN1_START)
    store.add_usage([UsageRow(ap, SITE_OF[ap], float(hour), c, c * 10, 10, b, b // 2) for ap, hour, c, b in USAGE])
    s2 = next(o for o in store.outages(OCT, NOV) if o.entity == "s2" and o.started_at < OCT)
    store.acknowledge_outage(s2.id, "kim", "한전 정전", T(9, 30, 22, 30))
    return store


@pytest.fixture(scope="module", params=BACKENDS)
def golden(request, tmp_path_factory):
    if request.param == "sqlite":
        store = build_store(f"sqlite:///{tmp_path_factory.mktemp('golden') / 'wifimon.db'}")
        yield store
        store.close()
    else:
        with pg_schema() as url:
            store = build_store(url)
            yield store
            store.close()


@pytest.fixture(scope="module")
def report(golden):
    return make_report(golden, CONFIG, "2026-10", NOW)


# -- the simple method: one bit per second of October -----------------------------------------------------


def bits(intervals) -> int:
    mask = 0
    for start, end in intervals:
        a, b = max(start, OCT) - OCT, min(end, NOV) - OCT
        if b > a:
            mask |= ((1 << (b - a)) - 1) << a
    return mask


def segments(states, wanted) -> list[tuple[int, int]]:
    """The spans in which an entity was in one of the ``wanted`` states (the last one runs on)."""
    out = []
    for (at, state), nxt in zip(states, states[1:] + [(RUN2_STOP + 10**6, None)], strict=True):
        if state in wanted:
            out.append((at, nxt[0]))
    return out


def service_bits(site_id: str) -> int:
    if site_id != "f1":
        return bits([(OCT, NOV)])
    return bits(ferry_windows())


def maintenance_bits(site_id: str, ap: str | None) -> int:
    spans = []
    if site_id == "s3":
        spans += [(T(10, 15, 2), T(10, 15, 4))] + weekly_market_maintenance()
    if ap == "s3-b":
        spans.append((T(10, 22, 10), T(10, 22, 11)))
    if site_id == "f1":
        spans.append((T(10, 10, 8), T(10, 10, 10)))
    return bits(spans)


def expected(scope: Scope, entity: str, lo: int = OCT, hi: int = NOV) -> dict:
    site_id = entity if scope == Scope.SITE else SITE_OF[entity]
    states = STATES[(scope, entity)]
    # before the first recorded state the entity was unknown; the gap hides whatever it was
    evidence = bits(segments(states, {"up", "down", "degraded"}))
    window = bits([(lo, hi)])
    scheduled = service_bits(site_id) & ~maintenance_bits(site_id, entity if scope == Scope.AP else None) & window
    unknown = scheduled & (bits([GAP]) | ~evidence)
    down = scheduled & bits(segments(states, {"down"})) & ~unknown
    per_outage = []
    # an outage is a run of 'down' states (a second 'down' in a row does not start a new one)
    runs, cur = [], None
    for (at, state), nxt in zip(states, states[1:] + [(RUN2_STOP + 10**6, None)], strict=True):
        if state == "down":
            cur = (cur[0] if cur else at, nxt[0])
        elif cur:
            runs.append(cur)
            cur = None
    if cur:
        runs.append(cur)
    for run in runs:
        n = (bits([run]) & down).bit_count()
        if n:
            per_outage.append(n)
    sched, unk, dn = scheduled.bit_count(), unknown.bit_count(), down.bit_count()
    return {
        "scheduled": sched, "unknown": unk, "downtime": dn, "outages": len(per_outage),
        "longest": max(per_outage, default=0),
        "availability": (sched - unk - dn) / (sched - unk) if sched > unk else None,
    }


def as_dict(f) -> dict:
    return {"scheduled": round(f.scheduled), "unknown": round(f.unknown), "downtime": round(f.downtime),
            "outages": f.outages, "longest": round(f.longest), "availability": f.availability}


def same(got: dict, want: dict) -> None:
    a, b = got.pop("availability"), want.pop("availability")
    assert got == want
    assert (a is None and b is None) or a == pytest.approx(b, abs=1e-12)


# -- figures ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("site_id", ["s1", "s2", "s3", "f1"])
def test_site_figures_match_second_by_second(report, site_id):
    got = next(s for s in report.sites if s.site.id == site_id)
    same(as_dict(got.figures), expected(Scope.SITE, site_id))


@pytest.mark.parametrize("ap", ["s1-a", "s1-b", "s2-a", "s3-a", "s3-b", "f1-a"])
def test_ap_figures_match_second_by_second(report, ap):
    got = next(a for a in report.aps if a.ap.id == ap)
    same(as_dict(got.figures), expected(Scope.AP, ap))


def test_the_story_in_plain_numbers(report):
    """A few figures worked out by hand, so the bit-painting above is itself checked."""
    s = {r.site.id: r for r in report.sites}
    # s1: 23:40:20 → 00:25:50 down across midnight; degraded twice (not down); a 3:17:42 gap
    assert round(s["s1"].figures.downtime) == 45 * 60 + 30 and s["s1"].figures.outages == 1
    assert round(s["s1"].figures.unknown) == 3 * 3600 + 17 * 60 + 42
    # s2: 00:00 → 03:00:30 on 1 Oct (began in September) and 23:00 → 24:00 on 31 Oct (ends in November)
    assert round(s["s2"].figures.downtime) == 3 * 3600 + 30 + 3600 and s["s2"].figures.outages == 2
    # s3: down 01:30 → the 02:00 maintenance; 4 weekly windows + the 2 h one out of the schedule
    assert round(s["s3"].figures.downtime) == 1800
    assert round(s["s3"].figures.maintenance) == 4 * 1800 + 7200
    # degraded s1 still shows at AP level: s1-b's two hours on 12 Oct
    assert s["s1"].ap_figures.downtime > s["s1"].figures.downtime
    assert s["s1"].figures.availability > s["s1"].ap_figures.availability
    # the ferry's timetable: 22 weekdays × 10 h + 9 weekend days × 8 h, less 1 h of maintenance
    assert round(s["f1"].figures.service) == (22 * 10 + 9 * 8) * 3600
    assert round(s["f1"].figures.scheduled) == (22 * 10 + 9 * 8 - 1) * 3600
    assert round(s["f1"].figures.downtime) == 5430 + 1800 + 1190 and s["f1"].figures.outages == 3


def test_summary_is_the_time_weighted_sum(report):
    want = [expected(Scope.SITE, s.id) for s in CONFIG.sites]
    sched = sum(w["scheduled"] for w in want)
    unk = sum(w["unknown"] for w in want)
    down = sum(w["downtime"] for w in want)
    assert (round(report.total.scheduled), round(report.total.unknown), round(report.total.downtime)) == (sched, unk, down)
    assert report.total.availability == pytest.approx((sched - unk - down) / (sched - unk), abs=1e-12)
    assert report.total.outages == sum(w["outages"] for w in want)
    assert report.total.mttr == pytest.approx(down / report.total.outages)
    assert round(report.gap_seconds) == GAP[1] - GAP[0] and report.watched


@pytest.mark.parametrize("day", [1, 5, 6, 12, 20, 31])
def test_daily_figures_match_second_by_second(report, day):
    lo, hi = T(10, day), (T(10, day + 1) if day < 31 else NOV)
    got = report.days[day - 1]
    assert got.day == date(2026, 10, day)
    want = [expected(Scope.SITE, s.id, lo, hi) for s in CONFIG.sites]
    sched, unk, down = (sum(w[k] for w in want) for k in ("scheduled", "unknown", "downtime"))
    assert (round(got.sites.scheduled), round(got.sites.unknown), round(got.sites.downtime)) == (sched, unk, down)
    assert got.sites.outages == sum(w["outages"] for w in want)


def test_outage_log_traces_to_rows(report, golden):
    rows = {o.id: o for o in golden.outages(OCT, NOV)}
    log = report.outages
    assert all(e.id in rows for e in log)
    site_rows = [e for e in log if e.scope == "site"]
    s1 = next(e for e in site_rows if e.site.id == "s1")
    assert s1.aps == ("s1-a", "s1-b") and round(s1.counted) == 2730 and s1.reason == "timeout"
    s2_first = next(e for e in site_rows if e.site.id == "s2")
    assert s2_first.started_at == T(9, 30, 22) and round(s2_first.counted) == 10830
    assert (s2_first.acknowledged_by, s2_first.comment) == ("kim", "한전 정전")
    # AP outages while the site was only degraded are listed on their own; those inside a site outage are not
    ap_rows = sorted((e.aps[0], e.started_at) for e in log if e.scope == "ap")
    assert ap_rows == [("s1-a", T(10, 20, 9, 30)), ("s1-b", T(10, 12, 14))]
    s1a = next(e for e in log if e.scope == "ap" and e.aps == ("s1-a",))
    assert round(s1a.counted) == 1800 + (T(10, 20, 14) - RUN2_START)  # the gap in the middle is not down
    ferry = [round(e.counted) for e in site_rows if e.site.id == "f1"]
    assert ferry == [5430, 1800, 1190]
    assert [e.started_at for e in log] == sorted(e.started_at for e in log)


def test_maintenance_log_lists_each_occurrence(report):
    m = report.maintenance
    weekly = [e for e in m if e.recurrence == "weekly"]
    assert [datetime.fromtimestamp(e.start, SEOUL).day for e in weekly] == [6, 13, 20, 27]
    assert all(e.sites == 1 for e in weekly)  # one market in the config
    assert {(e.scope_kind, e.scope_value) for e in m} == {("site", "s3"), ("category", "market"), ("ap", "s3-b"),
                                                           ("site", "f1")}


def test_usage_peak_and_traffic(report):
    s1 = next(s for s in report.sites if s.site.id == "s1")
    assert s1.peak_clients == 17  # 10 + 7 in the same hour; September's 99 is not October's
    assert s1.traffic_bytes == (1_000_000_000 + 500_000_000 + 2_000_000_000 + 250_000_000) * 3 // 2
    s1a = next(a for a in report.aps if a.ap.id == "s1-a")
    assert s1a.peak_clients == 12
    s2 = next(s for s in report.sites if s.site.id == "s2")
    assert s2.peak_clients is None and s2.traffic_bytes is None  # no usage recorded: not zero


def test_month_boundaries_split_the_outage(golden):
    sep = make_report(golden, CONFIG, "2026-09", NOW)
    nov = make_report(golden, CONFIG, "2026-11", NOW)
    oct_ = make_report(golden, CONFIG, "2026-10", NOW)
    down = {r.period.label: next(s for s in r.sites if s.site.id == "s2").figures for r in (sep, oct_, nov)}
    assert round(down["2026-09"].downtime) == 2 * 3600 and down["2026-09"].outages == 1
    assert round(down["2026-11"].downtime) == 3600 and down["2026-11"].outages == 1
    # the two outages' whole lengths, recombined from three months
    assert round(sum(f.downtime for f in down.values())) == (T(10, 1, 3, 0, 30) - T(9, 30, 22)) + 2 * 3600


def test_running_twice_gives_the_same_figures(golden, report):
    again = make_report(golden, CONFIG, "2026-10", NOW + 3600)
    assert build_tables(replace(again, generated_at=report.generated_at), "ko") == build_tables(report, "ko")


@pytest.mark.parametrize("backend", BACKENDS)
def test_removing_windows_today_leaves_last_months_report_as_it_was(backend, tmp_path, capsys):
    """`wifimon maintenance remove` of every window (the weekly one still in force, the one-off ones over)
    changes nothing in October's report: a window that had begun ends at its removal, its past stays."""
    from monitor.cli.main import main

    with pg_schema() if backend == "postgresql" else _sqlite(tmp_path) as url:
        store = build_store(url)
        try:
            before = make_report(store, CONFIG, "2026-10", NOW)
            config = tmp_path / "wifimon.yaml"
            config.write_text(f"service: {{store_url: '{url}', timezone: Asia/Seoul}}\n"
                              "credentials: {c: {version: '2c', community: {env: UNUSED}}}\n"
                              "sites: [{id: s1, name: x, category: park, aps: [{id: a, address: 127.0.0.1,"
                              " credentials: c}]}]\n", encoding="utf-8")
            ids = [w.id for w in store.list_maintenance()]
            assert len(ids) == len(MAINTENANCE)
            for window_id in ids:
                assert main(["maintenance", "remove", str(window_id), "--config", str(config)]) == 0
                assert "stays in the reports" in capsys.readouterr().out
            assert store.list_maintenance(since=time_now() + 1) == []  # none applies any more
            after = make_report(store, CONFIG, "2026-10", NOW)
        finally:
            store.close()
    assert after.maintenance == before.maintenance and len(after.maintenance) == 7
    assert build_tables(after, "ko") == build_tables(replace(before, generated_at=after.generated_at), "ko")


@contextmanager
def _sqlite(tmp_path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'wifimon.db'}"


def test_month_to_date_matches_the_report_of_the_month_so_far(golden):
    now = T(10, 16, 12)
    mtd = month_to_date(golden, CONFIG, now)
    partial = make_report(golden, CONFIG, "2026-10", now)
    assert partial.period.month_to_date and partial.period.until == now
    assert file_stem(partial).endswith("-mtd")
    assert mtd == {s.site.id: s.figures.availability for s in partial.sites}
    for site in CONFIG.sites:
        same({"availability": mtd[site.id]}, {"availability": expected(Scope.SITE, site.id, OCT, now)["availability"]})


def test_a_month_without_history_is_all_unknown(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    store.migrate()
    try:
        r = make_report(store, CONFIG, "2026-10", NOW)
    finally:
        store.close()
    assert not r.watched and r.total.availability is None
    assert r.total.unknown == r.total.scheduled > 0
    assert all(s.figures.availability is None for s in r.sites)
    cover = dict(build_tables(r, "en")[0].rows)
    assert "no monitoring record" in cover["Data"].value


# -- formats -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def written(report, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    files = write_report(report, ("xlsx", "csv", "pdf"), out, "ko")
    return out, files


def _xlsx_as_text(cell) -> str:
    """The cell as the CSV writes it, read by the cell's number format (not by our own table model)."""
    v, fmt = cell.value, cell.number_format
    if v is None:
        return ""
    if fmt == "[h]:mm:ss":  # openpyxl reads these back as timedelta
        total = round(v.total_seconds() if isinstance(v, timedelta) else v * 86400)
        return f"{total // 3600}:{total // 60 % 60:02d}:{total % 60:02d}"
    if fmt.endswith("%") and isinstance(v, float | int):
        return f"{v * 100:.3f}%"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S") if fmt.startswith("yyyy-mm-dd h") else v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if fmt == "0.000":
        return f"{v:.3f}"
    return str(v)


def test_xlsx_holds_the_same_numbers_as_the_csv(written):
    out, files = written
    wb = load_workbook(next(f for f in files if f.suffix == ".xlsx"))
    csvs = [f for f in files if f.suffix == ".csv"]
    assert len(csvs) == 12
    for ws, path in zip(wb.worksheets, csvs, strict=False):
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name} lacks the UTF-8 BOM"
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        sheet = [[_xlsx_as_text(c) for c in row] for row in ws.iter_rows()]
        assert sheet == rows, f"sheet {ws.title} differs from {path.name}"
        assert ws.freeze_panes == "A2"
    sites = wb["설치장소별"]
    assert [c.value for c in sites[1]][:3] == ["사이트ID", "설치장소명", "설치시설구분"]
    assert sites["G2"].number_format == "[h]:mm:ss" and sites["J2"].number_format == "0.000%"
    charts = wb.worksheets[-1]
    assert charts.title == "차트"


def test_csv_numbers_are_the_report_figures(written, report):
    out, files = written
    path = next(f for f in files if f.name.endswith("-sites.csv"))
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["사이트ID"]: r for r in csv.DictReader(fh)}
    for s in report.sites:
        want = expected(Scope.SITE, s.site.id)
        h, m, sec = (int(x) for x in rows[s.site.id]["장애시간"].split(":"))
        assert h * 3600 + m * 60 + sec == want["downtime"]
        assert rows[s.site.id]["가용률(%)"] == f"{want['availability'] * 100:.3f}%"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed (Debian package poppler-utils)")
    return path


def test_pdf_renders_with_korean_text(written, tmp_path):
    out, files = written
    pdf = next(f for f in files if f.suffix == ".pdf")
    subprocess.run([_tool("pdftoppm"), "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 4 and all(p.stat().st_size > 1000 for p in pages)
    text = subprocess.run([_tool("pdftotext"), str(pdf), "-"], check=True, timeout=60, capture_output=True,
                          text=True).stdout
    for word in ("공공와이파이 가용률 월간 보고서", "군산시청 버스정류장", "옥도훼리호", "장애 이력", "모니터링 공백"):
        assert word in text, f"{word!r} not found in the PDF's text"
    fonts = subprocess.run([_tool("pdffonts"), str(pdf)], check=True, timeout=60, capture_output=True,
                           text=True).stdout
    assert re.search(r"\+NanumGothic\s+TrueType\s+\S+\s+yes", fonts), fonts  # embedded


def test_english_on_request(report, tmp_path):
    files = write_report(report, ("csv",), tmp_path, "en")
    with next(f for f in files if f.name.endswith("-sites.csv")).open(encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh))
    assert header[:3] == ["Site ID", "Site", "Category"]


def test_gather_then_build_is_pure(golden):
    period = month_period("2026-10", "Asia/Seoul", NOW)
    history = gather(golden, period)
    assert build(CONFIG, history, period, NOW) == build(CONFIG, history, period, NOW)


# -- a shortened real run: the simulator, `wifimon run`, faults on a known schedule ------------------------


@pytest.mark.e2e
def test_report_downtime_matches_the_injected_fault_schedule(tmp_path):
    import time as clock

    from monitor.config.load import parse_config
    from monitor.report.build import current_month
    from monitor.cli.simulate import send_fault
    from tests.e2e import Monitor, sample, simulator, small_city, wait_until

    probe = 2.0
    config_path = small_city(tmp_path, probe=probe)
    config = parse_config(config_path)
    schedule = {"park": 12.0, "stop": 8.0, "market": 10.0}  # site → seconds held down, all at once
    aps = ("market-ap1", "market-ap2", "park-ap1", "stop-ap1", "ferry-ap1")
    injected: dict[str, tuple[float, float]] = {}
    with simulator(config_path, tmp_path) as control:
        mon = Monitor(config_path, tmp_path).start()
        try:
            wait_until("all APs up", lambda: all(sample(mon.metrics(), "wifi_ap_up", ap=a) == 1.0 for a in aps), 30)
            for site in schedule:
                send_fault(f"{site}=down", control=control)
                injected[site] = (clock.time(), 0.0)
            for site, hold in sorted(schedule.items(), key=lambda kv: injected[kv[0]][0] + kv[1]):
                # The schedule is wall-clock time itself: wait out the fault's planned duration.
                clock.sleep(max(0.0, injected[site][0] + hold - clock.time()))
                send_fault(f"{site}=up", control=control)
                injected[site] = (injected[site][0], clock.time())
            wait_until("every site up again", lambda: all(
                sample(mon.metrics(), "wifi_site_up", site=s) == 1.0 for s in schedule), 30)
        finally:
            mon.stop()
    now = clock.time()
    store = Store(config.service.store_url)
    try:
        report = make_report(store, config, current_month(now, config.service.timezone), now)
    finally:
        store.close()
    assert report.period.month_to_date and report.watched
    by_site = {s.site.id: s for s in report.sites}
    for site, (down_at, up_at) in injected.items():
        f = by_site[site].figures
        assert f.outages == 1, f"{site}: {f}"
        assert abs(f.downtime - (up_at - down_at)) <= probe, (
            f"{site}: report says {f.downtime:.1f} s down, the schedule {up_at - down_at:.1f} s")
    assert by_site["ferry"].figures.downtime == 0 and by_site["ferry"].figures.outages == 0
    for ap in ("market-ap1", "market-ap2"):
        f = next(a for a in report.aps if a.ap.id == ap).figures
        assert abs(f.downtime - (injected["market"][1] - injected["market"][0])) <= probe


def test_cli_report_without_history_writes_files_and_creates_no_database(tmp_path, monkeypatch, capsys):
    import argparse

    from monitor.cli.report import register

    (tmp_path / "wifimon.yaml").write_text(
        "service: {store_url: 'sqlite:///var/none.db'}\n"
        "sites:\n  - {id: s1, name: 공원, category: park, aps: [{id: a1, address: 127.0.0.1, credentials: c}]}\n"
        "credentials: {c: {version: '2c', community: {env: UNSET_FOR_THE_REPORT}}}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    parser = argparse.ArgumentParser(prog="wifimon")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", "--month", "2026-10", "--format", "xlsx,csv", "--out", "r",
                              "--config", "wifimon.yaml"])
    assert args.func(args) == 0
    out = capsys.readouterr()
    assert "no history yet" in out.err and "no availability can be given" in out.out
    assert (tmp_path / "r" / "wifimon-availability-2026-10.xlsx").is_file()
    assert len(list((tmp_path / "r").glob("*.csv"))) == 12
    assert not (tmp_path / "var").exists()
    bad = parser.parse_args(["report", "--month", "10/2026", "--config", "wifimon.yaml"])
    assert bad.func(bad) == 2 and "YYYY-MM" in capsys.readouterr().err


# -- what the department head reads: previous month, causes, users, the paragraph, the PDF's pages ---------


def test_previous_month_is_september_by_the_same_arithmetic(golden, report):
    assert report.previous is not None and report.previous.label == "2026-09"
    september = make_report(golden, CONFIG, "2026-09", NOW)
    assert report.previous.sites == {s.site.id: s.figures for s in september.sites}
    assert report.previous.total == september.total
    # s2 went down on 30 September at 22:00 and stayed down past midnight: two hours of September's downtime.
    assert report.previous.sites["s2"].downtime == 2 * 3600
    summary = dict(build_tables(report, "ko")[1].rows)
    change = summary["전월 대비 증감(%p)"].value
    assert change == pytest.approx(report.total.availability - september.total.availability)
    sites = build_tables(report, "ko")[2]
    keys = [c.key for c in sites.columns]
    for row in sites.rows:
        before = report.previous.sites[row[0]].availability
        assert row[keys.index("prev_availability")] == before
        now = next(s for s in report.sites if s.site.id == row[0]).figures.availability
        want = None if before is None or now is None else pytest.approx(now - before)
        assert row[keys.index("prev_change")] == want


def test_causes_add_up_to_the_site_downtime_and_trace_to_outage_rows(golden, report):
    assert sum(c.downtime for c in report.causes) == pytest.approx(report.total.downtime)
    assert sum(c.outages for c in report.causes) == report.total.outages
    rows = {o.id: o for o in golden.outages(OCT, NOV)}
    for c in report.causes:
        for i in c.outage_ids:
            assert rows[i].scope == Scope.SITE
    assert [c.cause for c in report.causes] == ["timeout"]  # every down in the golden month is a timeout


def test_site_outage_of_silent_aps_takes_their_reason():
    from monitor.report.build import _cause

    assert _cause("all_aps_down", ["uplink_down", "uplink_down", "timeout"]) == "uplink"
    assert _cause("all_aps_down", []) == "other"
    assert _cause("absent_from_controller") == "controller"


def test_worst_sites_leave_out_those_at_100_percent(report):
    worst = report.worst(10)
    assert worst and all(s.figures.availability < 1.0 for s in worst)
    perfect = {s.site.id for s in report.sites if s.figures.availability == 1.0}
    assert not perfect & {s.site.id for s in worst}


def test_users_and_traffic_on_the_summary(report):
    summary = dict(build_tables(report, "ko")[1].rows)
    assert summary["최대 동시접속자(사이트 합계)"].value == 17  # s1: 10 + 7 in the same hour
    assert summary["총 트래픽(GB)"].value == sum(b + b // 2 for _, hour, _, b in USAGE if OCT <= hour < NOV)
    # client_samples_sum = c * 10 over 10 samples: each AP's mean is its counts' mean over the hours.
    assert summary["평균 동시접속자(AP 합계)"].value == f"{(10 + 12) / 2 + (7 + 2) / 2:.1f}"


def test_the_paragraph_says_what_the_tables_say(report):
    from monitor.report.formats.narrative import summary_text

    ko = summary_text(report, "ko")
    assert f"{report.total.availability * 100:.3f}%" in ko and "전월(2026-09)" in ko
    assert f"사이트 장애는 {report.total.outages}건" in ko and "응답 시간 초과" in ko
    en = summary_text(report, "en")
    assert f"{report.total.availability * 100:.3f}%" in en and "previous month (2026-09" in en


def _pages(pdf, tmp_path) -> list[tuple[str, float, int]]:
    """Each page's text (pdftotext), its share of non-white pixels and its count of coloured pixels (the
    charts' bars, lines and dots; the text is black) as pdftoppm renders it at 40 dpi."""
    from PIL import Image

    n = int(re.search(r"Pages:\s+(\d+)", subprocess.run([_tool("pdfinfo"), str(pdf)], check=True, timeout=60,
                                                       capture_output=True, text=True).stdout).group(1))
    out = []
    for i in range(1, n + 1):
        stem = tmp_path / f"p{i}"
        subprocess.run([_tool("pdftoppm"), "-r", "40", "-png", "-f", str(i), "-l", str(i), "-singlefile",
                        str(pdf), str(stem)], check=True, timeout=120)
        with Image.open(f"{stem}.png") as img:
            ink = sum(img.convert("L").histogram()[:200]) / (img.width * img.height)
            saturation = img.convert("HSV").getchannel("S").histogram()
        coloured = sum(saturation[80:])
        text = subprocess.run([_tool("pdftotext"), "-f", str(i), "-l", str(i), str(pdf), "-"], check=True,
                              timeout=60, capture_output=True, text=True).stdout
        out.append((text, ink, coloured))
    return out


def _with_coordinates(config: Config) -> Config:
    spots = {"s1": (35.9676, 126.7366), "s2": (35.9540, 126.7010), "s3": (35.9840, 126.7120),
             "f1": (35.9900, 126.5000)}
    return config.model_copy(update={"sites": tuple(
        s.model_copy(update={"lat": spots[s.id][0], "lon": spots[s.id][1]}) for s in config.sites)})


def test_pdf_pages_show_the_new_parts(golden, tmp_path):
    r = make_report(golden, _with_coordinates(CONFIG), "2026-10", NOW)
    pdf = next(f for f in write_report(r, ("pdf",), tmp_path, "ko") if f.suffix == ".pdf")
    pages = _pages(pdf, tmp_path)
    cover, summary = pages[0][0], pages[0][0] + pages[1][0]
    for word in ("결재", "담당", "팀장", "과장", "월간 요약", "전월(2026-09)"):
        assert word in cover, f"{word!r} not on the cover"
    for word in ("전월 대비", "장애 원인", "최대 동시접속자(사이트 합계)", "총 트래픽(GB)"):
        assert word in summary, f"{word!r} not in the summary"
    charts = next(p for p in pages if "일별 가용률" in p[0] and "시설구분별 가용률" in p[0])
    assert "목표 99.0%" in charts[0]
    assert "자료 없음" not in charts[0]  # October has data for every chart
    assert charts[2] > 2000, charts[2]  # bars and lines drawn, not only titled
    assert any("장애 원인별 장애시간" in p[0] and p[2] > 200 for p in pages)
    site_map = next(p for p in pages if "사이트 지도" in p[0])
    assert "목표 미달" in site_map[0] and "좌표가 있는 사이트가 없습니다" not in site_map[0]
    assert site_map[2] > 150, site_map[2]  # the four sites' dots and the legend's
    for i, (text, ink, _) in enumerate(pages):
        assert text.strip() and ink > 0.002, f"page {i + 1} looks blank (ink {ink:.4f})"


def test_pdf_of_a_one_day_month_and_of_a_month_without_data(golden, tmp_path):
    one_day = make_report(golden, CONFIG, "2026-10", T(10, 1, 12))
    assert len(one_day.days) == 1
    pdf = next(f for f in write_report(one_day, ("pdf",), tmp_path / "one", "en") if f.suffix == ".pdf")
    charts = next(p for p in _pages(pdf, tmp_path) if "Daily availability" in p[0])
    assert "no data" not in charts[0].split("Daily availability")[1].split("10 worst")[0]
    assert charts[2] > 1000, charts[2]  # the single day's point, the category bars, the worst sites

    empty_store = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    empty_store.migrate()
    try:
        empty = make_report(empty_store, CONFIG, "2026-10", NOW)
    finally:
        empty_store.close()
    pdf = next(f for f in write_report(empty, ("pdf",), tmp_path / "none", "ko") if f.suffix == ".pdf")
    pages = _pages(pdf, tmp_path)
    charts = next(p for p in pages if "시설구분별 가용률" in p[0])
    assert charts[0].count("자료 없음") >= 4, charts[0]  # category, daily, worst, causes
    assert "측정 불가" in pages[0][0] and "전월 자료 없음" not in pages[0][0]


def test_outage_log_names_each_outage_cause(written, report):
    out, files = written
    with next(f for f in files if f.name.endswith("-outages.csv")).open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["장애 원인"] == "응답 시간 초과·정전" for r in rows)
    site_rows = [r for r in rows if r["범위"] == "사이트 전체"]
    assert {int(r["장애 번호"]) for r in site_rows if r["이번 기간 장애시간"] != "0:00:00"} == {
        i for c in report.causes for i in c.outage_ids}


def test_the_log_names_what_each_outage_count_counts(golden, report, caplog):
    # The availability figures count site outages; the outage log also lists AP outages within no site outage.
    assert report.total.outages != len(report.outages)  # else this test could not tell the two apart
    with caplog.at_level("INFO", logger="monitor.report.build"):
        make_report(golden, CONFIG, "2026-10", NOW)
    assert f"site_outages={report.total.outages} outage_log_entries={len(report.outages)} " in caplog.text
