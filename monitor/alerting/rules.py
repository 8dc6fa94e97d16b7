"""Alert rules: from what the monitor sees now to the set of alerts that should be active. Pure.

Everything comes in as a parameter (the snapshot, recent events, maintenance windows, the service's own
health, ``now``) and nothing is remembered here; :mod:`monitor.alerting.engine` decides what to send.

The rules, with their thresholds in :class:`monitor.alerting.settings.Thresholds`:

- ``site_down`` (critical): the site is down (every AP down, or its uplink down) — ONE alert per site,
  naming the APs; never one per AP.
- ``ferry_backhaul_lost``: a ferry's LTE uplink is lost during service hours. It replaces ``site_down``
  for that ferry; out of service (docked, off the timetable) nothing is raised at all.
- ``site_degraded`` (warning): some APs down for longer than ``site_degraded_after``.
- ``ap_rebooted`` / ``ap_flapping`` (warning, one-shot): a reboot the state machine did not see as an
  outage (the AP came back inside the confirmation window), or too many up/down changes. One alert per
  AP per window; the engine also caps them fleet-wide.
- ``ap_silent`` (warning): up and answering, zero clients for ``silent_after`` while the site's other
  APs have clients, or this AP had clients in the same hour a week ago: a dead radio or DHCP looks so.
- ``controller_table_lost`` (critical): a controller answers but its AP table is empty or far shorter than
  its last good walk: ONE alert for the controller (rows before / now); its APs are unknown, not down.
- ``controller_down`` (critical): a controller does not answer and APs watched through it are down: ONE
  alert for the controller. A site whose down APs are all behind failing controllers names those alerts
  as parents, so its site alerts are recorded but not sent (one page, not one per site).
- ``service_overrun`` / ``service_store`` / ``service_channel``: the monitor's own health;
  ``service_undelivered`` (warning, one-shot, on the other channels): delivery gave messages to a channel up.

Nothing is raised for a site or AP inside a maintenance window. AP alerts name their site's down alert
as a parent, so while the site is down they are recorded but not sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from monitor.alerting.model import Alert, Rule, alert_key
from monitor.alerting.settings import Thresholds
from monitor.domain.vocabulary import ApStatus, Event, EventKind, Reason, SiteStatus
from monitor.domain.maintenance import in_maintenance
from monitor.exposition.snapshot import ApView, SiteView, Snapshot
from monitor.domain.records import MaintenanceWindow


@dataclass(frozen=True)
class ServiceHealth:
    """The monitor's own troubles, as the alerter measured them.

    ``overruns``: round name → (overruns within the window, when the first of them happened).
    ``store_failing_since``: when store writes started failing (None: they work).
    ``channels_failing``: channel → (since when its deliveries fail, the last error).
    ``given_up``: channel → the batches of messages delivery gave up, each (when, how many, why).
    """

    overruns: Mapping[str, tuple[int, float]] = field(default_factory=dict)
    store_failing_since: float | None = None
    store_error: str = ""
    channels_failing: Mapping[str, tuple[float, str]] = field(default_factory=dict)
    given_up: Mapping[str, Sequence[tuple[float, int, str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleInputs:
    snapshot: Snapshot
    events: Sequence[Event] = ()
    maintenance: Sequence[MaintenanceWindow] = ()
    quiet_since: Mapping[str, float] = field(default_factory=dict)  # AP → zero clients since (see fold_quiet)
    last_week_clients: Mapping[str, int] = field(default_factory=dict)  # AP → max clients, same hour last week
    health: ServiceHealth = field(default_factory=ServiceHealth)


def fold_quiet(previous: Mapping[str, float], snapshot: Snapshot) -> dict[str, float]:
    """AP → since when it has reported zero clients without a break (pure fold over successive snapshots).

    Only an AP that is up and whose last full poll returned client counts can be quiet: no counts at all
    (a profile without them, not polled yet) is not zero.
    """
    out: dict[str, float] = {}
    for ap in snapshot.aps:
        if ap.status != ApStatus.UP or ap.last_poll_at is None or not ap.clients or (ap.client_total or 0) > 0:
            continue
        out[ap.ap] = previous.get(ap.ap, ap.last_poll_at)
    return out


def desired_alerts(inputs: RuleInputs, th: Thresholds, now: float) -> dict[str, Alert]:
    """Every alert that should be active at ``now``, by key."""
    alerts: dict[str, Alert] = {}
    events_by_site: dict[str, list[Event]] = {}
    behind = _behind_failing_controllers(inputs.snapshot)
    for e in inputs.events:
        events_by_site.setdefault(e.site, []).append(e)
    for sv in inputs.snapshot.sites:
        if not sv.in_service or sv.status in (SiteStatus.MAINTENANCE, SiteStatus.OUT_OF_SERVICE, SiteStatus.UNKNOWN):
            continue
        if sv.status == SiteStatus.UP and sv.site.id not in events_by_site and not _may_be_silent(sv, inputs):
            continue  # the common case, kept cheap: nothing to look at
        windows = inputs.maintenance
        if windows and in_maintenance(windows, sv.site, now):
            continue
        muted = {a.ap for a in sv.aps if windows and in_maintenance(windows, sv.site, now, a.ap)}
        for alert in _site_alerts(sv, events_by_site.get(sv.site.id, ()), muted, behind, inputs, th, now):
            alerts[alert.key] = alert
    for alert in _controller_alerts(inputs.snapshot):
        alerts[alert.key] = alert
    for alert in _health_alerts(inputs.health, th, now):
        alerts[alert.key] = alert
    return alerts


def held_alerts(active: Mapping[str, Alert], snapshot: Snapshot) -> dict[str, Alert]:
    """The active site-down alerts of sites whose state is unknown, kept as they are: unknown is not up.
    Right after a restart every AP is 'unknown' until its first probes are judged; a slow AP's down may be
    confirmed only after the first round ends, and resolving the restored alert meanwhile would page the
    same outage twice (a resolve, then a new firing)."""
    unknown = {sv.site.id for sv in snapshot.sites if sv.status == SiteStatus.UNKNOWN}
    return {k: a for k, a in active.items() if a.rule == Rule.SITE_DOWN and a.site in unknown}


def _may_be_silent(sv: SiteView, inputs: RuleInputs) -> bool:
    return any(a.ap in inputs.quiet_since for a in sv.aps)


def _base(sv: SiteView, rule: Rule, subject: str, severity: str, since: float, **kw: object) -> Alert:
    s = sv.site
    return Alert(key=alert_key(rule, subject), rule=rule, severity=severity,  # type: ignore[arg-type]
                 since=since, site=s.id, site_name=s.name, address=s.address, district=s.district,
                 total_aps=len(sv.aps), **kw)  # type: ignore[arg-type]


def _behind_failing_controllers(snapshot: Snapshot) -> dict[str, str]:
    """AP → the ``controller_down`` alert key of the failing controller it is watched through."""
    return {ap: alert_key(Rule.CONTROLLER_DOWN, c.controller)
            for c in snapshot.controllers if c.failing_since is not None for ap in c.aps}


def _site_alerts(sv: SiteView, events: Iterable[Event], muted: set[str], behind: Mapping[str, str],
                 inputs: RuleInputs, th: Thresholds, now: float) -> Iterable[Alert]:
    sid = sv.site.id
    since = sv.since if sv.since is not None else now
    down = tuple(a.ap for a in sv.aps if a.status == ApStatus.DOWN and a.ap not in muted)
    # Down only because their controller does not answer: that controller's one alert stands for them.
    controllers = tuple(sorted({behind[a] for a in down})) if down and all(a in behind for a in down) else ()
    parents = (alert_key(Rule.SITE_DOWN, sid), alert_key(Rule.FERRY_BACKHAUL_LOST, sid)) + controllers
    if sv.status == SiteStatus.DOWN:
        uplink_down = sv.reason == Reason.UPLINK_DOWN
        if sv.site.kind == "ferry" and uplink_down:
            if now - since >= th.ferry_backhaul_for:
                yield _base(sv, Rule.FERRY_BACKHAUL_LOST, sid, th.ferry_backhaul_severity, since, aps=down,
                            reason=str(sv.reason), gravity=len(down) + 1,
                            detail=sv.uplink.device if sv.uplink else "")
        elif (down or uplink_down) and now - since >= th.site_down_for:
            yield _base(sv, Rule.SITE_DOWN, sid, "critical", since, aps=down,
                        reason=str(sv.reason) if sv.reason else None, gravity=len(down) + uplink_down,
                        detail=sv.uplink.device if uplink_down and sv.uplink else "",
                        parents=() if uplink_down else controllers)
    elif sv.status == SiteStatus.DEGRADED and down and now - since >= th.site_degraded_after:
        reasons = sorted({str(a.reason) for a in sv.aps if a.ap in down and a.reason})
        yield _base(sv, Rule.SITE_DEGRADED, sid, "warning", since, aps=down, reason=",".join(reasons) or None,
                    gravity=len(down), parents=parents[:1] + controllers)
    by_ap = {a.ap: a for a in sv.aps}
    yield from _event_alerts(sv, events, by_ap, muted, parents, th, now)
    yield from _silent_alerts(sv, muted, parents, inputs, th, now)


def _event_alerts(sv: SiteView, events: Iterable[Event], by_ap: Mapping[str, ApView], muted: set[str],
                  parents: tuple[str, ...], th: Thresholds, now: float) -> Iterable[Alert]:
    reboots: dict[str, list[Event]] = {}
    flaps: dict[str, list[Event]] = {}
    for e in events:
        if e.entity in muted:
            continue
        if e.kind == EventKind.REBOOT and now - th.reboot_window <= e.at <= now:
            ap = by_ap.get(e.entity)
            # A reboot behind an outage we already reported is no news: only one the AP came back from
            # inside the confirmation window (up without a break since before it booted) is.
            if ap is not None and ap.status == ApStatus.UP and ap.since is not None and ap.since <= e.at:
                reboots.setdefault(e.entity, []).append(e)
        elif e.kind == EventKind.FLAPPING and now - th.flapping_window <= e.at <= now:
            flaps.setdefault(e.entity, []).append(e)
    for entity, evs in sorted(reboots.items()):
        first = min(evs, key=lambda e: e.at)
        yield _base(sv, Rule.AP_REBOOTED, entity, "warning", first.at, ap=entity, aps=(entity,),
                    detail=f"{len(evs)}|{first.detail}", parents=parents, one_shot=True)
    for entity, evs in sorted(flaps.items()):
        first = min(evs, key=lambda e: e.at)
        yield _base(sv, Rule.AP_FLAPPING, entity, "warning", first.at, ap=entity, aps=(entity,),
                    detail=first.detail, parents=parents, one_shot=True)


def _silent_alerts(sv: SiteView, muted: set[str], parents: tuple[str, ...], inputs: RuleInputs, th: Thresholds,
                   now: float) -> Iterable[Alert]:
    for ap in sv.aps:
        quiet = inputs.quiet_since.get(ap.ap)
        if quiet is None or ap.ap in muted or ap.status != ApStatus.UP or now - quiet < th.silent_after:
            continue
        neighbours = sum(o.client_total or 0 for o in sv.aps if o.ap != ap.ap and o.status == ApStatus.UP)
        last_week = inputs.last_week_clients.get(ap.ap, 0)
        if neighbours < th.silent_min_clients and last_week < th.silent_min_clients:
            continue
        why = f"neighbours={neighbours}" if neighbours >= th.silent_min_clients else f"last_week={last_week}"
        yield _base(sv, Rule.AP_SILENT, ap.ap, "warning", quiet, ap=ap.ap, aps=(ap.ap,), detail=why,
                    parents=parents)


def _controller_alerts(snapshot: Snapshot) -> Iterable[Alert]:
    down = {a.ap for a in snapshot.aps if a.status == ApStatus.DOWN}
    for c in snapshot.controllers:
        behind = tuple(a for a in c.aps if a in down)
        if c.failing_since is not None and behind:  # confirmed: the state machine put its APs down
            yield Alert(key=alert_key(Rule.CONTROLLER_DOWN, c.controller), rule=Rule.CONTROLLER_DOWN,
                        severity="critical", since=c.failing_since, aps=behind, total_aps=len(c.aps),
                        gravity=len(behind), detail=f"{c.controller}|{c.error}")
        if c.table_lost_since is not None:
            before = "none" if c.rows_before is None else str(c.rows_before)
            yield Alert(key=alert_key(Rule.CONTROLLER_TABLE_LOST, c.controller), rule=Rule.CONTROLLER_TABLE_LOST,
                        severity="critical", since=c.table_lost_since, total_aps=len(c.aps),
                        detail=f"{c.controller}|{before}|{c.rows_now}")


def _health_alerts(h: ServiceHealth, th: Thresholds, now: float) -> Iterable[Alert]:
    for round_name, (count, first) in sorted(h.overruns.items()):
        if count >= th.overruns:
            yield Alert(key=alert_key(Rule.SERVICE_OVERRUN, round_name), rule=Rule.SERVICE_OVERRUN,
                        severity="warning", since=first, detail=f"{round_name}|{count}|{th.overrun_window:.0f}")
    if h.store_failing_since is not None and now - h.store_failing_since >= th.store_failing_after:
        yield Alert(key=alert_key(Rule.SERVICE_STORE, "store"), rule=Rule.SERVICE_STORE, severity="critical",
                    since=h.store_failing_since, detail=h.store_error)
    for channel, (since, error) in sorted(h.channels_failing.items()):
        if now - since >= th.channel_failing_after:
            yield Alert(key=alert_key(Rule.SERVICE_CHANNEL, channel), rule=Rule.SERVICE_CHANNEL,
                        severity="warning", since=since, detail=f"{channel}|{error}", avoid=(channel,))
    for channel, batches in sorted(h.given_up.items()):
        recent = [b for b in batches if now - b[0] < th.undelivered_window]
        if recent:
            count, why = sum(n for _, n, _ in recent), recent[-1][2]
            yield Alert(key=alert_key(Rule.SERVICE_UNDELIVERED, channel), rule=Rule.SERVICE_UNDELIVERED,
                        severity="warning", since=recent[0][0], detail=f"{channel}|{count}|{why}", avoid=(channel,),
                        one_shot=True)
