"""The polling runtime: runs probe and metrics rounds through an SnmpClient, folds each outcome into the
pure state machine, hands transitions to a sink (the store) and publishes immutable snapshots.

The parts live beside it: ``monitor.polling.rounds`` spreads a round over its interval, ``monitor.polling.readings``
folds outcomes into each device's readings, ``monitor.polling.controller_watch`` watches APs through their
controller's AP table. The poller orchestrates them and owns the state: device and site tracks, modes,
re-checks and the snapshot.

Single-threaded on the asyncio loop; only ``snapshot()`` is read from other threads, and it returns
an immutable object swapped in one assignment. Publishing rebuilds the views of the sites that changed since
the last snapshot and reuses the others (10,000 APs: a probe touches one site, not the fleet).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Protocol
from zoneinfo import ZoneInfo

from collectors.identify import identify_device
from collectors.profile import Profile, identify
from collectors.types import ErrorKind, PollResult, ProbeResult, SnmpClient
from monitor.domain.service_calendar import in_service
from monitor.domain.clients import device_total
from monitor.config.load import LoadedConfig
from monitor.config.model import Site
from monitor.polling.controller_watch import ControllerWatch, Seen, Sighting
from monitor.domain.vocabulary import ApStatus, Event, Reason, Scope, SiteStatus, Transition
from monitor.polling.entry import Entry
from monitor.exposition.metrics import ServiceMetrics
from monitor.polling.readings import DeviceData, fold_controller_row, fold_poll, fold_probe
from monitor.polling.rounds import run_round
from monitor.exposition.snapshot import ApView, ControllerView, SiteView, Snapshot, UplinkView
from monitor.domain.state import (DeviceTrack, Mode, Policy, SiteTrack, lose_sight, observe, roll_up, set_mode,
                                  update_site)
from monitor.polling.usage import UsageAccumulator

__all__ = ["Entry", "Poller", "Sink"]

log = logging.getLogger(__name__)


class Sink(Protocol):
    """Where decisions go to be kept (the store, through its writer thread)."""

    def transitions(self, transitions: list[Transition]) -> None: ...

    def events(self, events: list[Event]) -> None: ...


def _spread_key(entity: str) -> str:
    return hashlib.blake2b(entity.encode(), digest_size=8).hexdigest()


class Poller:
    def __init__(
        self,
        loaded: LoadedConfig,
        client: SnmpClient,
        profiles: dict[str, Profile],
        sink: Sink,
        metrics: ServiceMetrics,
        clock: Callable[[], float] = time.time,
        maintenance: Callable[[Site, float], bool] = lambda site, now: False,
        device_maintenance: Callable[[Site, str, float], bool] = lambda site, device, now: False,
    ):
        cfg = loaded.config.service
        self._cfg = cfg
        self._client = client
        self._profiles = profiles
        self._sink = sink
        self._metrics = metrics
        self._clock = clock
        self._maintenance = maintenance
        self._device_maintenance = device_maintenance  # AP-scoped windows: (site, device id, now)
        self._tz = ZoneInfo(cfg.timezone)
        self._policy = Policy(cfg.confirm_failures, cfg.flapping.transitions, cfg.flapping.window)
        self._sites = {s.id: s for s in loaded.config.sites}
        self._entries: dict[str, Entry] = {}
        for site in loaded.config.sites:
            for ap in site.aps:
                self._entries[ap.id] = Entry(site, ap, loaded.target(site, ap), Scope.AP)
            if site.uplink:
                self._entries[site.uplink.id] = Entry(site, site.uplink, loaded.target(site, site.uplink), Scope.UPLINK)
        self._order = sorted(self._entries, key=_spread_key)
        self._devices_of: dict[str, tuple[str, ...]] = {
            s.id: tuple(a.id for a in s.aps) + ((s.uplink.id,) if s.uplink else ()) for s in loaded.config.sites}
        self.tracks: dict[str, DeviceTrack] = {
            e.id: DeviceTrack(e.id, e.site.id, e.scope) for e in self._entries.values()
        }
        self.site_tracks: dict[str, SiteTrack] = {sid: SiteTrack(sid) for sid in self._sites}
        self._modes: dict[str, Mode] = {sid: "active" for sid in self._sites}
        self._data: dict[str, DeviceData] = {e.id: DeviceData(profile=e.device.profile, model=e.device.model)
                                             for e in self._entries.values()}
        self._rechecks: dict[str, asyncio.Task[None]] = {}
        # Devices of a round still being handled when it ended (see monitor.polling.rounds), per round.
        self._stragglers: dict[str, dict[str, asyncio.Task[None]]] = {"probe": {}, "metrics": {}}
        # Controller mode: an AP naming a controller is watched through that controller's AP table.
        self._watch = ControllerWatch(loaded, self._entries.values(), client, profiles, self._count,
                                      lambda e: self.tracks[e.id].mode == "active", self._sighted)
        self.usage = UsageAccumulator()
        self._availability: dict[str, float | None] = {}  # month to date, from the store (see app)
        self._snapshot = Snapshot(taken_at=0.0, sites=())
        self.first_probe_round_done = False
        # The view of each site the next snapshot holds, in config order, and the sites whose view is out of date.
        self._views: dict[str, SiteView] = {sid: self._site_view(site) for sid, site in self._sites.items()}
        self._changed: set[str] = set()
        self._dirty = True  # the snapshot's own fields (the first round done) are out of date
        metrics.aps_configured.set(sum(e.scope == Scope.AP for e in self._entries.values()))

    # -- start-up ---------------------------------------------------------------------------------

    def entities(self) -> list[tuple[Scope, str]]:
        """Every device and site this poller watches, as the store names them."""
        return [(t.scope, e) for e, t in self.tracks.items()] + [(Scope.SITE, sid) for sid in self.site_tracks]

    def restore(self, last: Mapping[tuple[Scope, str], tuple[str, float, Reason | None]],
                keep_down: bool = False) -> None:
        """Start from the states the store had before this run.

        Up stays up. Down is not carried over the time nobody watched: the outage ended when the last run
        stopped (``Store.end_outages_at_stop``), the device starts unknown, and one failed probe confirms it
        down again (the previous run's confirmation stands), from that probe on; a success makes it up.
        ``keep_down`` (a standby taking over within moments): down stays down, its outage still open, so the
        next probe either goes on with it or ends it (never a second outage for the same one).
        """
        for entity, track in self.tracks.items():
            saved = last.get((track.scope, entity))
            if not saved:
                continue
            state, since, reason = saved
            if state == ApStatus.DOWN and keep_down:
                self.tracks[entity] = replace(track, status=ApStatus.DOWN, since=since, reason=reason,
                                              failures=self._policy.confirm_failures, first_failure_at=since)
            elif state == ApStatus.DOWN:
                self.tracks[entity] = replace(track, failures=self._policy.confirm_failures - 1)
            elif state == ApStatus.UP:
                self.tracks[entity] = replace(track, status=ApStatus.UP, since=since)
        kept = (SiteStatus.UP, SiteStatus.DEGRADED) + ((SiteStatus.DOWN,) if keep_down else ())
        for sid in self.site_tracks:
            saved = last.get((Scope.SITE, sid))
            if saved and saved[0] in kept:
                self.site_tracks[sid] = SiteTrack(sid, SiteStatus(saved[0]), saved[1],
                                                  Reason(saved[2]) if saved[2] else None)
        self._changed.update(self._sites)

    async def register(self) -> None:
        await self._client.register([e.target for e in self._entries.values()] + self._watch.targets())

    # -- rounds -----------------------------------------------------------------------------------

    async def probe_round(self) -> None:
        """Probe every device once, spread over the probe interval; skip those being re-checked.

        One walk of each controller's AP table stands for the probes of all the APs it watches. The walks
        start with the round and run beside its probes, and the round waits for them only until its own
        deadline (0.9 of the interval, as ``run_round``): a walk still running then goes on and hands its
        APs their results when it ends. Waited for after the spread, a silent controller's timeouts pushed
        the round past its interval and the scheduler skipped the next round for the whole fleet (found by
        bench/soak.py: outages elsewhere seen 15-25 s late while a controller was down).
        """
        self._apply_modes(self._clock())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._cfg.probe_interval * 0.9
        walks = [self._watch.start(cid) for cid, aps in self._watch.watched.items() if aps]
        due = [self._entries[k] for k in self._order
               if k not in self._rechecks and not self._watch.via(self._entries[k])]
        await run_round("probe", self._cfg.probe_interval, self._cfg.spread, due, self._probe_entry,
                        self._metrics, self._clock, self._stragglers["probe"])
        if walks:
            done, _ = await asyncio.wait(walks, timeout=max(0.0, deadline - loop.time()))
            for walk in done:
                walk.result()  # a walk that failed with a bug says so here, as when it was awaited
        self.first_probe_round_done = True
        self._dirty = True

    async def metrics_round(self) -> None:
        """Full poll of every AP and uplink that is up or not yet known; down ones are left to the probes."""
        due = [self._entries[k] for k in self._order
               if self.tracks[k].status in (ApStatus.UP, ApStatus.UNKNOWN)
               and self.tracks[k].mode == "active"
               and (not self._watch.via(self._entries[k]) or getattr(self._entries[k].device, "poll_direct", False))]
        await run_round("metrics", self._cfg.metrics_interval, self._cfg.spread, due, self._poll_entry,
                        self._metrics, self._clock, self._stragglers["metrics"])

    async def probe_now(self, entity: str) -> None:
        """An immediate out-of-round probe (a trap said something happened)."""
        if entity in self._entries and entity not in self._rechecks:
            await self._probe_entry(self._entries[entity])

    # -- one device -------------------------------------------------------------------------------

    async def _probe_entry(self, entry: Entry) -> None:
        if self.tracks[entry.id].mode != "active":
            return
        if self._watch.via(entry):  # a re-check of such an AP is a fresh look at its controller's table
            await self._watch.poll(entry.device.controller)  # type: ignore[attr-defined]
            return
        result = await self._client.probe(entry.target)
        if result.error is ErrorKind.NO_SUCH_OBJECT:
            # The agent answered, it just has no sysUpTime (FortiAP, some Zyxel firmware): alive.
            result = replace(result, error=None, detail="")
        self._count("probe", result.error)
        self._emit_each(fold_probe(self._data[entry.id], entry.id, entry.site.id, result))
        if not result.ok:
            log.debug("probe_failed device=%s kind=%s detail=%s", entry.id, result.error, result.detail)
        self._observe(entry, result)

    async def _poll_entry(self, entry: Entry) -> None:
        data = self._data[entry.id]
        profile = self._profiles.get(data.profile, self._profiles["generic"])  # "auto": generic until identified
        result = await self._client.poll(entry.target, profile)
        self._count("poll", result.error)
        if result.ok and data.profile == "auto":
            found = identify(self._profiles, result.sys_object_id or "", result.sys_descr or "")
            if found.name == "generic":  # sysObjectID/sysDescr say nothing: ask the vendor MIBs (one GET)
                found, _ = await identify_device(self._client, entry.target, self._profiles)
            log.info("profile_identified device=%s profile=%s", entry.id, found.name)
            data.profile = found.name
            if found is not profile:
                profile, result = found, await self._client.poll(entry.target, found)
                self._count("poll", result.error)
        if result.ok:
            self._absorb_poll(entry, data, profile, result)
        else:
            log.debug("poll_failed device=%s kind=%s detail=%s", entry.id, result.error, result.detail)
        self._observe(entry, result)  # a failed poll is evidence too: it starts the re-checks

    def _absorb_poll(self, entry: Entry, data: DeviceData, profile: Profile, result: PollResult) -> None:
        at = result.started_at + result.duration
        via_controller = self._watch.via(entry)
        uplink = profile.interfaces.uplink if profile.interfaces else None
        if result.protocol_errors:  # objects answered with the wrong type: not used, counted as errors
            self._metrics.snmp_errors.labels("poll", ErrorKind.PROTOCOL.value).inc(
                len(result.protocol_errors))
            log.debug("poll_protocol_errors device=%s objects=%s", entry.id, "; ".join(result.protocol_errors))
        rx, tx, events = fold_poll(data, entry.id, entry.site.id, result, uplink, own_clients=not via_controller)
        self._emit_each(events)
        if entry.scope == Scope.AP:  # usage is the APs'; an uplink's traffic is theirs again
            total = None if via_controller else device_total(result.clients)
            self.usage.add(entry.id, entry.site.id, at, total[0] if total else None, rx, tx)

    # -- controller mode --------------------------------------------------------------------------

    def _sighted(self, sighting: Sighting) -> None:
        """One AP's part of a controller poll: its readings when the controller lists it up, then the observation."""
        e, v = sighting.entry, sighting.verdict
        if sighting.lost:  # the controller's table is lost, not its APs: they are unknown until it is back
            track, transitions, events = lose_sight(self.tracks[e.id], sighting.at, self._policy,
                                                    sighting.seen.detail)
            self.tracks[e.id] = track
            self._emit(transitions, events)
            self._recompute_site(e.site, max(sighting.at, self._clock()))
            return
        if v is not None and v.ok:
            ticks = v.row.uptime_ticks if v.row is not None and not getattr(e.device, "poll_direct", False) else None
            window = (sighting.seen.started_at, sighting.at)
            self._emit_each(fold_controller_row(self._data[e.id], e.id, e.site.id, v.clients, ticks, window))
            total = device_total(v.clients)
            self.usage.add(e.id, e.site.id, sighting.at, total[0] if total else None, 0, 0)
        self._observe(e, sighting.seen)

    def _observe(self, entry: Entry, result: ProbeResult | PollResult | Seen) -> None:
        # A failure counts from when the request went out (an outage starts at the first failed probe); a
        # success from when the answer came: after a timed-out first attempt, the retry's answer is seconds
        # later, and the device was not known to be up before it.
        at = result.started_at
        if result.ok and not isinstance(result, Seen):
            at += result.duration
        track, transitions, events = observe(self.tracks[entry.id], result.ok, at, self._policy,
                                             result.error.value if result.error else None, result.detail)
        self.tracks[entry.id] = track
        if transitions:
            t = transitions[0]
            log.info("device_state device=%s site=%s old=%s new=%s reason=%s detail=%s",
                     entry.id, entry.site.id, t.old, t.new, t.reason, t.detail)
        self._emit(transitions, events)
        self._recompute_site(entry.site, max(at, self._clock()))
        if track.confirming:
            self._schedule_recheck(entry, at + self._cfg.recheck_interval)

    def _schedule_recheck(self, entry: Entry, due: float) -> None:
        """Re-probe ``recheck_interval`` after the failed one began: a timeout does not delay the next."""
        if entry.id in self._rechecks:
            return

        async def recheck() -> None:
            try:
                await asyncio.sleep(max(0.0, due - self._clock()))
            finally:
                del self._rechecks[entry.id]  # the probe below re-arms it if the device still fails
            await self._probe_entry(entry)

        self._rechecks[entry.id] = asyncio.get_running_loop().create_task(recheck(), name=f"recheck-{entry.id}")

    # -- sites ------------------------------------------------------------------------------------

    def apply_modes(self) -> None:
        """Re-evaluate maintenance windows and service calendars now (e.g. the windows just changed)."""
        self._apply_modes(self._clock())

    def _apply_modes(self, now: float) -> None:
        for sid, site in self._sites.items():
            mode: Mode = ("maintenance" if self._maintenance(site, now)
                          else "active" if in_service(site, now, self._tz) else "out_of_service")
            site_changed = changed = mode != self._modes[sid]
            if site_changed:
                self._modes[sid] = mode
                log.info("site_mode site=%s mode=%s", sid, mode)
            for device in self._devices_of[sid]:
                # An AP-scoped window puts just that device in maintenance while its site is active.
                want: Mode = "maintenance" if mode == "active" and self._device_maintenance(site, device, now) else mode
                if want == self.tracks[device].mode:
                    continue
                if want != mode or not site_changed:  # the device's own window, not its site's mode
                    log.info("device_mode device=%s site=%s mode=%s", device, sid, want)
                track, transitions, events = set_mode(self.tracks[device], want, now, self._policy)
                self.tracks[device] = track
                self._emit(transitions, events)
                changed = True
            if changed:
                self._recompute_site(site, now)

    def _recompute_site(self, site: Site, now: float) -> None:
        """Roll the site up from its devices (one of them, or its mode, changed): its view is out of date."""
        self._changed.add(site.id)
        aps = [self.tracks[a.id] for a in site.aps]
        uplink = self.tracks[site.uplink.id] if site.uplink else None
        status, reason, since = roll_up(aps, uplink, self._modes[site.id])
        track, transitions = update_site(self.site_tracks[site.id], status, reason, since, now)
        self.site_tracks[site.id] = track
        if transitions:
            t = transitions[0]
            log.info("site_state site=%s old=%s new=%s reason=%s", site.id, t.old, t.new, t.reason)
        self._emit(transitions, [])

    def _emit(self, transitions: list[Transition], events: list[Event]) -> None:
        if transitions:
            self._sink.transitions(transitions)
        if events:
            self._sink.events(events)

    def _emit_each(self, events: list[Event]) -> None:
        """Events a reading revealed, one sink call each, in the order they were found."""
        for event in events:
            self._sink.events([event])

    def _count(self, op: str, error: object) -> None:
        self._metrics.snmp_requests.labels(op).inc()
        if error is not None:
            self._metrics.snmp_errors.labels(op, str(error)).inc()

    # -- snapshot ---------------------------------------------------------------------------------

    def publish(self) -> None:
        """A new snapshot if anything changed since the last one: the changed sites' views rebuilt, the
        others the last snapshot's own objects. Controllers are few: their views are compared, not tracked."""
        controllers = tuple(
            ControllerView(cid, c.loss.at if c.loss else None, c.loss.rows_before if c.loss else None,
                           c.loss.rows_now if c.loss else c.rows_good,
                           tuple(e.id for e in self._watch.watched[cid]), c.failing_since, c.error,
                           c.answered, c.clients, c.joined)
            for cid, c in self._watch.controllers.items())
        if not (self._dirty or self._changed) and controllers == self._snapshot.controllers:
            return
        self._dirty = False
        now = self._clock()
        for sid in self._changed:
            self._views[sid] = self._site_view(self._sites[sid])  # replacing a key keeps its place
        self._changed.clear()
        self._snapshot = Snapshot(now, tuple(self._views.values()), self.first_probe_round_done, controllers,
                                  self._snapshot.version + 1)

    def set_availability(self, by_site: dict[str, float | None]) -> None:
        """Month-to-date availability per site, computed from the store by the report's arithmetic."""
        self._changed.update(sid for sid in self._sites if by_site.get(sid) != self._availability.get(sid))
        self._availability = by_site

    def _site_view(self, site: Site) -> SiteView:
        st = self.site_tracks[site.id]
        aps = tuple(self._ap_view(self._entries[a.id]) for a in site.aps)
        uplink = None
        if site.uplink:
            u = self.tracks[site.uplink.id]
            uplink = UplinkView(u.entity, u.status, self._data[u.entity].probe_duration, self._data[u.entity].lte)
        return SiteView(site, st.status, st.since, st.reason, self._modes[site.id] != "out_of_service",
                        uplink, aps, self._availability.get(site.id))

    def _ap_view(self, entry: Entry) -> ApView:
        t, d = self.tracks[entry.id], self._data[entry.id]
        return ApView(
            ap=entry.id, site=entry.site.id, address=entry.device.address, profile=d.profile, model=d.model,
            status=t.status, since=t.since, reason=t.reason, probe_duration=d.probe_duration,
            last_success_at=t.last_success_at, probes=d.probes, probe_failures=d.probe_failures,
            uptime_seconds=d.uptime.seconds if d.uptime else None, uptime_at=d.uptime.at if d.uptime else None,
            clients=d.clients, rx_bytes=d.rx_total, tx_bytes=d.tx_total, reboots=d.reboots,
            cpu_ratio=d.cpu_ratio, memory_ratio=d.memory_ratio, radios=d.radios, last_poll_at=d.last_poll_at,
        )

    def snapshot(self) -> Snapshot:
        return self._snapshot

    async def close(self) -> None:
        tasks = (list(self._rechecks.values()) + self._watch.in_flight()
                 + [t for round_ in self._stragglers.values() for t in round_.values()])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
