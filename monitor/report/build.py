"""The monthly availability report: gather the month's history from the store, build the report model.

Three steps, I/O only in the first:

1. :func:`gather` reads one period's history (runs → monitoring gaps, transitions and each entity's state
   at the start, outages, maintenance windows, usage totals) from the store;
2. :func:`build` turns it and the config into a :class:`Report` (pure: same history, same figures);
3. ``monitor.report.formats`` renders the model as XLSX, CSV and PDF.

The figures follow DESIGN.md "Availability" (see ``monitor.domain.availability``). Every figure traces to rows:
downtime to outage rows (their ids are in the outage log), unknown time to monitor runs and transitions,
maintenance to maintenance windows (ids in the maintenance log).

Site availability counts the site's own outages (all APs down, or the uplink down). A ``degraded`` site
(some APs down) is not down; its APs' outages show in the AP-level figures (per AP, and each site's
AP-weighted availability).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from monitor.domain.availability import (
    Figures,
    Interval,
    Timeline,
    figures,
    no_evidence,
    normalise,
    split,
    timeline,
    total,
)
from monitor.config.load import LoadedConfig
from monitor.config.model import AccessPoint, Config, Site
from monitor.domain.vocabulary import Scope
from monitor.domain.maintenance import applies, covered, occurrences
from monitor.domain.service_calendar import service_intervals
from monitor.domain.maintenance_windows import config_windows
from monitor.domain.shards import site_gaps, unwatched
from monitor.store import (
    MaintenanceWindow,
    OutageRecord,
    Store,
    UsageTotals,
    states_at,
    usage_totals,
)

log = logging.getLogger(__name__)

#: The availability target printed on the cover, as a ratio, unless the caller gives another.
DEFAULT_TARGET = 0.99

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


# -- the period ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A calendar month in the city's time zone, evaluated up to ``until`` (its end, or now)."""

    year: int
    month: int
    timezone: str
    start: float  # the month's first local midnight
    end: float  # the next month's first local midnight
    until: float  # evaluated up to here: ``end`` for a past month, ``now`` for the current one

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def month_to_date(self) -> bool:
        """The month is not over: the report covers it up to ``until`` only."""
        return self.until < self.end

    @property
    def not_begun(self) -> bool:
        return self.until <= self.start

    def day_bounds(self) -> list[float]:
        """Local midnights from the month's start, the last bound being ``until`` (days are cut there)."""
        tz = self.tz
        bounds, day = [self.start], date(self.year, self.month, 1)
        while True:
            day += timedelta(days=1)
            at = datetime.combine(day, datetime.min.time(), tz).timestamp()
            if at >= self.until:
                break
            bounds.append(at)
        if self.until > self.start:
            bounds.append(self.until)
        return bounds


def month_period(month: str, timezone: str, now: float) -> Period:
    """The period of ``month`` ('YYYY-MM') in ``timezone``, evaluated up to ``now`` if it is not over."""
    m = _MONTH_RE.match(month)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"month {month!r} is not of the form YYYY-MM (e.g. 2026-10)")
    year, mon = int(m.group(1)), int(m.group(2))
    tz = ZoneInfo(timezone)
    start = datetime(year, mon, 1, tzinfo=tz).timestamp()
    end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=tz).timestamp()
    return Period(year, mon, timezone, start, end, min(end, max(start, now)))


def current_month(now: float, timezone: str) -> str:
    """'YYYY-MM' of the month containing ``now`` in ``timezone``."""
    local = datetime.fromtimestamp(now, ZoneInfo(timezone))
    return f"{local.year:04d}-{local.month:02d}"


def previous_month(now: float, timezone: str) -> str:
    """'YYYY-MM' of the last complete month: what the job on the 1st reports."""
    local = datetime.fromtimestamp(now, ZoneInfo(timezone))
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return f"{year:04d}-{month:02d}"


# -- history: what the store holds about the period --------------------------------------------------


@dataclass(frozen=True)
class History:
    """The store's rows about one period, as the report reads them."""

    gaps: tuple[Interval, ...]  # some part of the inventory not watched (without shards: nobody watching)
    initial: dict[tuple[Scope, str], str]  # each entity's state at the period's start
    changes: dict[tuple[Scope, str], tuple[tuple[float, str], ...]]  # its transitions in the period
    outages: tuple[OutageRecord, ...]  # overlapping the period, oldest first
    windows: tuple[MaintenanceWindow, ...]
    ap_usage: dict[str, UsageTotals] = field(default_factory=dict)
    site_usage: dict[str, UsageTotals] = field(default_factory=dict)
    # Each site's own gaps: when no run of the shard that owns it was watching. A site not here takes ``gaps``.
    site_gaps: dict[str, tuple[Interval, ...]] = field(default_factory=dict)


def gather(store: Store, period: Period, *, usage: bool = True,
           extra_windows: tuple[MaintenanceWindow, ...] = (), sites: Iterable[str] = ()) -> History:
    """Read the period's history from the store (several queries; each raises StoreError on failure).

    ``sites``: the ids whose own gaps to work out (the runs of the shard that owns each; see
    monitor.domain.shards); ``gaps`` is then when any of them was not watched."""
    since, until = period.start, period.until
    if until <= since:
        return History((), {}, {}, (), ())
    runs = store.runs(since, until)
    by_site = site_gaps(runs, sites, since, until)
    gaps = (normalise(g for site in set(by_site.values()) for g in site) if by_site
            else unwatched(runs, since, until))
    changes: dict[tuple[Scope, str], list[tuple[float, str]]] = defaultdict(list)
    for st in store.transitions(since, until):
        t = st.transition
        changes[(t.scope, t.entity)].append((t.at, t.new))
    ap_usage, site_usage = usage_totals(store, since, until) if usage else ({}, {})
    return History(
        gaps=tuple(gaps),
        site_gaps=by_site,
        initial=states_at(store, since),
        changes={k: tuple(v) for k, v in changes.items()},
        outages=tuple(store.outages(since, until)),
        windows=extra_windows + tuple(store.list_maintenance(since, until)),
        ap_usage=ap_usage,
        site_usage=site_usage,
    )


# -- the model ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApResult:
    site: Site
    ap: AccessPoint
    figures: Figures
    peak_clients: int | None  # None: no usage recorded
    rx_bytes: int
    tx_bytes: int
    mean_clients: float | None = None  # mean over the month's client samples; None: no usage recorded

    @property
    def traffic_bytes(self) -> int | None:
        return self.rx_bytes + self.tx_bytes if self.peak_clients is not None else None


@dataclass(frozen=True)
class SiteResult:
    site: Site
    figures: Figures  # the site's own: down = all APs down or uplink down
    ap_figures: Figures  # its APs' summed: shows a degraded site's partial outages
    peak_clients: int | None  # highest hourly sum of its APs' hourly maxima; None: no usage recorded
    rx_bytes: int
    tx_bytes: int
    mean_clients: float | None = None  # its APs' mean clients summed; None: no usage recorded

    @property
    def traffic_bytes(self) -> int | None:
        return self.rx_bytes + self.tx_bytes if self.peak_clients is not None else None


@dataclass(frozen=True)
class GroupResult:
    """A roll-up of sites: by category or by district."""

    key: str
    sites: int
    aps: int
    figures: Figures
    ap_figures: Figures
    below_target: int


@dataclass(frozen=True)
class OutageEntry:
    """One line of the outage log: a site outage (with the APs down in it) or an AP's own outage."""

    id: int  # the store's outage row
    scope: Literal["site", "ap"]
    site: Site
    aps: tuple[str, ...]
    started_at: float
    ended_at: float | None  # None: still going at the end of the period
    reason: str | None
    counted: float  # its downtime within the period (scheduled, not maintenance, not unknown)
    cause: str  # the reason's cause (CAUSES); a site outage of 'all_aps_down' takes its APs' commonest reason
    acknowledged_by: str | None
    comment: str | None


@dataclass(frozen=True)
class MaintenanceEntry:
    """One occurrence, within the period, of a maintenance window."""

    window_id: int | None
    scope_kind: str
    scope_value: str | None
    start: float
    end: float
    recurrence: str | None
    comment: str
    created_by: str
    sites: int  # how many configured sites it applies to (or holds an AP of)


@dataclass(frozen=True)
class Previous:
    """The month before the report's, for 전월 대비: the same figures by the same arithmetic."""

    label: str  # 'YYYY-MM'
    total: Figures
    sites: dict[str, Figures]


#: Outage reasons grouped into the causes the report prints (장애 원인). A power cut cannot be told from
#: an AP that stopped answering (both are a timeout to SNMP); planned maintenance is not downtime and is
#: shown beside the causes, from the maintenance windows.
CAUSES: dict[str, str] = {
    "timeout": "timeout",
    "snmp_error": "snmp", "auth_error": "snmp", "protocol_error": "snmp",
    "uplink_down": "uplink",
    "controller_reports_down": "controller", "absent_from_controller": "controller",
}
CAUSE_ORDER = ("timeout", "uplink", "controller", "snmp", "other")


@dataclass(frozen=True)
class CauseResult:
    """Site downtime of one cause: the sum of the counted downtime of the site outages it caused."""

    cause: str  # one of CAUSE_ORDER
    outages: int
    downtime: float
    outage_ids: tuple[int, ...]


@dataclass(frozen=True)
class DayResult:
    day: date
    start: float
    end: float
    sites: Figures
    aps: Figures


@dataclass(frozen=True)
class Report:
    """Everything the report prints, in the order it prints it."""

    organisation: str
    period: Period
    generated_at: float
    target: float  # ratio, e.g. 0.99
    watched: bool  # some monitor run watched during the period
    gaps: tuple[Interval, ...]
    sites: tuple[SiteResult, ...]
    aps: tuple[ApResult, ...]
    categories: tuple[GroupResult, ...]
    districts: tuple[GroupResult, ...]
    outages: tuple[OutageEntry, ...]
    maintenance: tuple[MaintenanceEntry, ...]
    days: tuple[DayResult, ...]
    total: Figures  # over sites (time-weighted)
    ap_total: Figures  # over APs
    causes: tuple[CauseResult, ...] = ()  # site downtime by cause, in CAUSE_ORDER, causes with downtime only
    previous: Previous | None = None  # the month before, for the comparison (None: not asked for)

    @property
    def ferries(self) -> tuple[SiteResult, ...]:
        return tuple(s for s in self.sites if s.site.kind == "ferry" or s.site.timetable)

    @property
    def gap_seconds(self) -> float:
        return sum(e - s for s, e in self.gaps)

    def below_target(self) -> tuple[SiteResult, ...]:
        return tuple(s for s in self.sites if _below(s.figures, self.target))

    @property
    def peak_clients(self) -> int | None:
        """The sites' peaks summed (an upper bound of the city's concurrent users); None: no usage recorded."""
        peaks = [s.peak_clients for s in self.sites if s.peak_clients is not None]
        return sum(peaks) if peaks else None

    @property
    def mean_clients(self) -> float | None:
        """Mean concurrent clients over the month, summed over APs; None: no usage recorded."""
        means = [a.mean_clients for a in self.aps if a.mean_clients is not None]
        return sum(means) if means else None

    @property
    def traffic_bytes(self) -> int | None:
        traffic = [s.traffic_bytes for s in self.sites if s.traffic_bytes is not None]
        return sum(traffic) if traffic else None

    def worst(self, n: int = 10) -> tuple[SiteResult, ...]:
        """The ``n`` sites with the lowest availability below 100 % (ties: more downtime first, then id)."""
        rated = [s for s in self.sites if s.figures.availability is not None and s.figures.availability < 1.0]
        rated.sort(key=lambda s: (s.figures.availability, -s.figures.downtime, s.site.id))
        return tuple(rated[:n])


def _below(f: Figures, target: float) -> bool:
    a = f.availability
    return a is not None and a < target


# -- building -----------------------------------------------------------------------------------------


def _spells(outages: Iterable[OutageRecord], until: float) -> list[Interval]:
    return [(o.started_at, o.ended_at if o.ended_at is not None else until) for o in outages]


class _Index:
    """The history rearranged per entity, once, so each entity's timeline is a few dict lookups."""

    def __init__(self, history: History, period: Period) -> None:
        self.history = history
        self.period = period
        self.outages: dict[tuple[Scope, str], list[OutageRecord]] = defaultdict(list)
        for o in history.outages:
            self.outages[(o.scope, o.entity)].append(o)
        self.ap_windows = {w.scope_value for w in history.windows if w.scope_kind == "ap"}

    def timeline(self, scope: Scope, entity: str, site: str, service: list[Interval],
                 maintenance: list[Interval]) -> Timeline:
        p, h = self.period, self.history
        key = (scope, entity)
        unknown = list(h.site_gaps.get(site, h.gaps)) + no_evidence(h.initial.get(key), h.changes.get(key, ()), p.start, p.until)
        return timeline(p.start, p.until, service, maintenance, unknown, _spells(self.outages.get(key, ()), p.until))


def site_timelines(config: Config, history: History, period: Period,
                   with_aps: bool = True) -> tuple[dict[str, Timeline], dict[str, Timeline]]:
    """Each configured site's timeline, and (``with_aps``) each AP's, over the period."""
    index = _Index(history, period)
    tz = period.tz
    sites: dict[str, Timeline] = {}
    aps: dict[str, Timeline] = {}
    for site in config.sites:
        service = service_intervals(site, period.start, period.until, tz)
        planned = covered(history.windows, site, period.start, period.until)
        sites[site.id] = index.timeline(Scope.SITE, site.id, site.id, service, planned)
        if not with_aps:
            continue
        for ap in site.aps:
            ap_planned = (covered(history.windows, site, period.start, period.until, ap=ap.id)
                          if ap.id in index.ap_windows else planned)
            aps[ap.id] = index.timeline(Scope.AP, ap.id, site.id, service, ap_planned)
    return sites, aps


def build(config: Config, history: History, period: Period, generated_at: float,
          target: float = DEFAULT_TARGET, previous: Previous | None = None) -> Report:
    """The report model of one period. Pure: the same history gives the same figures.

    ``previous`` (see :func:`previous_figures`) is the month before, printed beside for 전월 대비.
    """
    site_tl, ap_tl = site_timelines(config, history, period)
    site_fig = {k: figures(t) for k, t in site_tl.items()}
    ap_fig = {k: figures(t) for k, t in ap_tl.items()}

    ap_results = []
    site_results = []
    for site in config.sites:
        mine = []
        for ap in site.aps:
            u = history.ap_usage.get(ap.id)
            mine.append(ApResult(site, ap, ap_fig[ap.id], u.peak_clients if u else None,
                                 u.rx_bytes if u else 0, u.tx_bytes if u else 0, u.mean_clients if u else None))
        ap_results.extend(mine)
        su = history.site_usage.get(site.id)
        means = [a.mean_clients for a in mine if a.mean_clients is not None]
        site_results.append(SiteResult(
            site, site_fig[site.id], total(a.figures for a in mine), su.peak_clients if su else None,
            su.rx_bytes if su else 0, su.tx_bytes if su else 0, sum(means) if means else None,
        ))

    bounds = period.day_bounds()
    days: list[DayResult] = []
    if len(bounds) > 1:
        per_site = [split(t, bounds) for t in site_tl.values()]
        per_ap = [split(t, bounds) for t in ap_tl.values()]
        tz = period.tz
        for i in range(len(bounds) - 1):
            days.append(DayResult(
                datetime.fromtimestamp(bounds[i], tz).date(), bounds[i], bounds[i + 1],
                total(s[i] for s in per_site), total(a[i] for a in per_ap),
            ))

    outages = _outage_log(config, history, period, site_tl, ap_tl)
    return Report(
        organisation=config.service.organisation,
        period=period,
        generated_at=generated_at,
        target=target,
        watched=sum(e - s for s, e in history.gaps) < period.until - period.start,
        gaps=history.gaps,
        sites=tuple(site_results),
        aps=tuple(ap_results),
        categories=_groups(site_results, lambda s: s.category, target, _category_order),
        districts=_groups(site_results, lambda s: s.district, target, lambda k: k),
        outages=outages,
        maintenance=_maintenance_log(config, history, period),
        days=tuple(days),
        total=total(site_fig.values()),
        ap_total=total(ap_fig.values()),
        causes=_causes(outages),
        previous=previous,
    )


def _causes(outages: Iterable[OutageEntry]) -> tuple[CauseResult, ...]:
    """Site downtime by cause: each site outage's counted downtime, under its cause."""
    by: dict[str, list[OutageEntry]] = defaultdict(list)
    for o in outages:
        if o.scope == "site" and o.counted > 0:
            by[o.cause].append(o)
    return tuple(CauseResult(c, len(by[c]), sum(o.counted for o in by[c]), tuple(o.id for o in by[c]))
                 for c in CAUSE_ORDER if c in by)


def _cause(reason: str | None, ap_reasons: Iterable[str | None] = ()) -> str:
    """The cause of an outage's reason; a site whose every AP went silent takes its APs' commonest reason."""
    if reason in (None, "all_aps_down"):
        counts: dict[str, int] = defaultdict(int)
        for r in ap_reasons:
            if r is not None:
                counts[CAUSES.get(r, "other")] += 1
        if counts:
            return min(counts, key=lambda c: (-counts[c], CAUSE_ORDER.index(c)))
    return CAUSES.get(reason or "", "other")


def _category_order(category: str) -> tuple[int, str]:
    from typing import get_args

    from monitor.config.model import Category

    order = get_args(Category)
    return (order.index(category) if category in order else len(order), category)


def _groups(sites: list[SiteResult], key: Callable[[Site], str], target: float,
            order: Callable[[str], Any]) -> tuple[GroupResult, ...]:
    groups: dict[str, list[SiteResult]] = defaultdict(list)
    for s in sites:
        groups[key(s.site)].append(s)
    return tuple(
        GroupResult(
            k, len(members), sum(len(m.site.aps) for m in members),
            total(m.figures for m in members), total(m.ap_figures for m in members),
            sum(1 for m in members if _below(m.figures, target)),
        )
        for k, members in sorted(groups.items(), key=lambda kv: order(kv[0]))
    )


def _outage_log(config: Config, history: History, period: Period, site_tl: dict[str, Timeline],
                ap_tl: dict[str, Timeline]) -> tuple[OutageEntry, ...]:
    """Site outages, each with the APs down during it; and AP outages that overlap no site outage."""
    sites = {s.id: s for s in config.sites}
    site_of_ap = {ap.id: s for s in config.sites for ap in s.aps}
    index = _Index(history, period)

    def counted(tl: Timeline | None, i: int) -> float:
        return sum(e - s for s, e in tl.spells[i]) if tl is not None else 0.0

    site_spans: dict[str, list[tuple[float, float, list[str], list[str | None]]]] = defaultdict(list)
    entries: list[OutageEntry] = []
    for (scope, entity), outs in index.outages.items():
        if scope != Scope.SITE or entity not in sites:
            continue
        for o in outs:
            site_spans[entity].append((o.started_at, o.ended_at if o.ended_at is not None else period.until, [], []))
    for (scope, entity), outs in sorted(index.outages.items(), key=lambda kv: kv[0][1]):
        if scope != Scope.AP or entity not in site_of_ap:
            continue
        site = site_of_ap[entity]
        for i, o in enumerate(outs):
            end = o.ended_at if o.ended_at is not None else period.until
            spans = [sp for sp in site_spans.get(site.id, ()) if sp[0] < end and o.started_at < sp[1]]
            for sp in spans:
                sp[2].append(entity)
                sp[3].append(_text(o.reason))
            if not spans:
                entries.append(OutageEntry(o.id, "ap", site, (entity,), o.started_at, o.ended_at,
                                           _text(o.reason), counted(ap_tl.get(entity), i), _cause(_text(o.reason)),
                                           o.acknowledged_by, o.ack_comment))
    for (scope, entity), outs in index.outages.items():
        if scope != Scope.SITE or entity not in sites:
            continue
        for i, (o, sp) in enumerate(zip(outs, site_spans[entity], strict=True)):
            entries.append(OutageEntry(o.id, "site", sites[entity], tuple(sorted(set(sp[2]))), o.started_at,
                                       o.ended_at, _text(o.reason), counted(site_tl.get(entity), i),
                                       _cause(_text(o.reason), sp[3]), o.acknowledged_by, o.ack_comment))
    entries.sort(key=lambda e: (e.started_at, e.scope != "site", e.id))
    return tuple(entries)


def _text(reason: object) -> str | None:
    return None if reason is None else str(reason)


def _maintenance_log(config: Config, history: History, period: Period) -> tuple[MaintenanceEntry, ...]:
    out = []
    for w in history.windows:
        affected = sum(
            1 for s in config.sites
            if (any(applies(w, s, ap.id) for ap in s.aps) if w.scope_kind == "ap" else applies(w, s))
        )
        for start, end in occurrences(w, period.start, period.until):
            out.append(MaintenanceEntry(w.id, w.scope_kind, w.scope_value, start, end, w.recurrence, w.comment,
                                        w.created_by, affected))
    out.sort(key=lambda e: (e.start, e.window_id or 0))
    return tuple(out)


# -- entry points -------------------------------------------------------------------------------------


def _site_ids(cfg: Config) -> list[str]:
    return [s.id for s in cfg.sites]


def _config(config: Config | LoadedConfig) -> Config:
    return config.config if isinstance(config, LoadedConfig) else config


def previous_figures(store: Store, config: Config | LoadedConfig, period: Period) -> Previous:
    """The figures of the month before ``period`` (complete: it is over), per site and overall."""
    cfg = _config(config)
    first = datetime.fromtimestamp(period.start, period.tz).date() - timedelta(days=1)
    before = month_period(f"{first.year:04d}-{first.month:02d}", period.timezone, period.start)
    history = gather(store, before, usage=False, extra_windows=config_windows(cfg), sites=_site_ids(cfg))
    sites, _ = site_timelines(cfg, history, before, with_aps=False)
    per_site = {sid: figures(tl) for sid, tl in sites.items()}
    return Previous(before.label, total(per_site.values()), per_site)


def make_report(store: Store, config: Config | LoadedConfig, month: str, now: float,
                target: float = DEFAULT_TARGET) -> Report:
    """Gather and build the report of ``month`` ('YYYY-MM'); the current month is evaluated up to ``now``."""
    cfg = _config(config)
    period = month_period(month, cfg.service.timezone, now)
    history = gather(store, period, extra_windows=config_windows(cfg), sites=_site_ids(cfg))
    report = build(cfg, history, period, now, target, previous_figures(store, cfg, period))
    # Two counts that differ, so each named for what it counts: the site outages in the availability figures
    # (with counted downtime), and the outage log's lines (site outages, and AP outages within no site outage).
    log.info("report_built month=%s month_to_date=%s sites=%d aps=%d site_outages=%d outage_log_entries=%d "
             "availability=%s", period.label, period.month_to_date, len(report.sites), len(report.aps),
             report.total.outages, len(report.outages), report.total.availability)
    return report


def month_to_date(store: Store, config: Config | LoadedConfig, now: float) -> dict[str, float | None]:
    """Each site's availability from the start of the current month (city time) to ``now``.

    What ``wifi_site_availability_ratio{window="month_to_date"}`` exports, by the same arithmetic as the
    report. None for a site with nothing observed yet. Reads the store: call it from a thread.
    """
    cfg = _config(config)
    period = month_period(current_month(now, cfg.service.timezone), cfg.service.timezone, now)
    history = gather(store, period, usage=False, extra_windows=config_windows(cfg), sites=_site_ids(cfg))
    sites, _ = site_timelines(cfg, history, period, with_aps=False)
    return {sid: figures(tl).availability for sid, tl in sites.items()}
