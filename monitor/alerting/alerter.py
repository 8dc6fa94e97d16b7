"""The alerter: runs the pure rules and engine every second against the latest snapshot, and writes the
outcome — alert states and their messages — to the store in one transaction before anything is sent.

It also gathers what the rules need besides the snapshot: recent reboot/flapping events (a tee on the
poller's sink), maintenance windows and acknowledgements (read from the store every few seconds in a
worker thread), last week's client counts (once an hour), and the service's own health (round overruns
from the metrics registry, store write failures from the writer, failing channels from delivery).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry

from monitor.alerting import engine, payload, rules
from monitor.alerting.model import StepResult
from monitor.alerting.delivery import Delivery
from monitor.alerting.model import Ack, Alert, AlertState, Notification
from monitor.alerting.settings import AlertingSettings
from monitor.domain.vocabulary import Event, EventKind, Transition
from monitor.polling.poller import Sink
from monitor.exposition.snapshot import Snapshot
from monitor.store import (
    AlertRecord,
    MaintenanceWindow,
    OutboxMessage,
    Store,
    StoreError,
    active_alerts,
    prune_outbox,
    save_alerting,
)
from monitor.store.writer import StoreWriter

log = logging.getLogger(__name__)

OUTBOX_KEEP_SECONDS = 30 * 86400  # delivered messages are kept this long, for inspection


def to_record(st: AlertState, resolved_at: float | None = None) -> AlertRecord:
    a = st.alert
    return AlertRecord(
        key=a.key, rule=str(a.rule), severity=a.severity, site=a.site, ap=a.ap,
        status="resolved" if resolved_at is not None else st.status, opened_at=st.opened_at, since=a.since,
        reason=a.reason, fired_at=st.fired_at, last_sent_at=st.last_sent_at, resolved_at=resolved_at,
        sends=st.sends, escalation=st.escalation, notified=st.notified, gravity=a.gravity,
        ack_gravity=st.ack_gravity, alert=a.to_dict(),
    )


def ack_of(r: AlertRecord) -> Ack | None:
    if r.acked_at is None:
        return None
    return Ack(by=r.acked_by or "", at=r.acked_at, until=r.ack_until, comment=r.ack_comment or "")


def from_record(r: AlertRecord) -> AlertState:
    ack = ack_of(r)
    return AlertState(
        alert=Alert.from_dict(r.alert), opened_at=r.opened_at, status=r.status,  # type: ignore[arg-type]
        fired_at=r.fired_at, last_sent_at=r.last_sent_at, sends=r.sends, escalation=r.escalation,
        notified=r.notified, ack=ack, ack_gravity=(r.ack_gravity if r.ack_gravity is not None else r.gravity)
        if ack else None,
    )


@dataclass
class _Counter:
    """Samples of a monotonic counter, to tell how much it grew within a window and since when."""

    samples: deque[tuple[float, float]]

    def add(self, at: float, value: float, window: float) -> tuple[int, float]:
        self.samples.append((at, value))
        while len(self.samples) > 2 and self.samples[1][0] < at - window:
            self.samples.popleft()
        base = self.samples[0][1]
        first = next((t for t, v in self.samples if v > base), at)
        return int(value - base), first


class AlertingSink:
    """The poller's sink, teed: everything goes on to the store; events also feed the alerter."""

    def __init__(self, inner: Sink, alerter: Alerter):
        self._inner = inner
        self._alerter = alerter

    def transitions(self, transitions: list[Transition]) -> None:
        self._inner.transitions(transitions)

    def events(self, events: list[Event]) -> None:
        self._inner.events(events)
        self._alerter.add_events(events)


class Alerter:
    def __init__(self, settings: AlertingSettings, store: Store, writer: StoreWriter, delivery: Delivery,
                 snapshot: Callable[[], Snapshot], tz: ZoneInfo, registry: CollectorRegistry | None = None,
                 clock: Callable[[], float] = time.time,
                 windows: Callable[[], Sequence[MaintenanceWindow]] | None = None):
        """``windows``: the maintenance windows in force (the service's book of config and store windows);
        without it the alerter reads the store's windows itself."""
        self.settings = settings
        self._store = store
        self._writer = writer
        self._delivery = delivery
        self.snapshot = snapshot  # assignable: the poller that publishes snapshots is built after the alerter
        self._tz = tz
        self._registry = registry
        self._clock = clock
        self._windows_source = windows
        self.states: dict[str, AlertState] = {}
        self._oneshots: tuple[float, ...] = ()
        self._events: deque[Event] = deque()
        self._acks: dict[str, Ack] = {}
        self._windows: list[MaintenanceWindow] = []
        self._quiet: dict[str, float] = {}
        self._quiet_at = -1.0
        self._last_week: dict[str, int] = {}
        self._last_week_hour = -1.0
        self._pruned_at = 0.0
        self._overruns = {r: _Counter(deque()) for r in ("probe", "metrics")}
        self._poke: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.evaluations = 0

    # -- inputs ------------------------------------------------------------------------------------

    def add_events(self, events: list[Event]) -> None:
        self._events.extend(e for e in events if e.kind in (EventKind.REBOOT, EventKind.FLAPPING))

    def poke(self) -> None:
        """Read acks from the store now (after an ack came in over HTTP); safe from any thread."""
        if self._loop is not None and self._poke is not None:
            self._loop.call_soon_threadsafe(self._poke.set)

    def restore(self) -> None:
        """Blocking (call in a thread): the alert states and recent events a previous run left."""
        records = active_alerts(self._store)
        self.states = {r.key: from_record(r) for r in records}
        self._acks = {r.key: a for r in records if (a := ack_of(r)) is not None}
        now = self._clock()
        th = self.settings.thresholds
        self.add_events([s.event for s in self._store.events(now - max(th.reboot_window, th.flapping_window), now + 1)])
        self._read_store(now)
        log.info("alerts_restored active=%d events=%d", len(self.states), len(self._events))

    def _read_store(self, now: float) -> None:
        """Blocking: acks and maintenance windows; last week's clients once an hour; old outbox rows daily."""
        self._acks = {r.key: a for r in active_alerts(self._store) if (a := ack_of(r)) is not None}
        if self._windows_source is None:
            self._windows = self._store.list_maintenance(since=now)
        hour = now - now % 3600
        if hour != self._last_week_hour:
            week_ago = hour - 7 * 86400
            rows = self._store.usage(week_ago, week_ago + 3600)
            self._last_week = {r.ap: r.max_clients for r in rows}
            self._last_week_hour = hour
        if now - self._pruned_at > 86400:
            pruned = prune_outbox(self._store, now - OUTBOX_KEEP_SECONDS)
            self._pruned_at = now
            if pruned:
                log.info("outbox_pruned messages=%d", pruned)

    def _health(self, now: float) -> rules.ServiceHealth:
        th = self.settings.thresholds
        overruns: dict[str, tuple[int, float]] = {}
        if self._registry is not None:
            for name, counter in self._overruns.items():
                value = self._registry.get_sample_value("wifimon_round_overruns_total", {"round": name})
                if value is not None:
                    overruns[name] = counter.add(now, value, th.overrun_window)
        # Failing from the first failed attempt of a write until that write succeeds: one alert per outage.
        failing = [t for t in (self._writer.failing_since, self._delivery.store_failing_since) if t is not None]
        return rules.ServiceHealth(
            overruns=overruns, store_failing_since=min(failing, default=None),
            store_error=f"{self._store.display_url}: {self._writer.last_error or 'outbox reads fail'}" if failing else "",
            channels_failing=self._delivery.channel_health(), given_up=self._delivery.given_up(),
        )

    # -- one evaluation ----------------------------------------------------------------------------

    def evaluate(self, now: float | None = None) -> StepResult | None:
        """Rules → engine → one store write (alert states + outbox). None before the first probe round."""
        now = self._clock() if now is None else now
        snap = self.snapshot()
        if not snap.first_probe_round_done:
            return None  # right after a start every AP is 'unknown': judging now would resolve real alerts
        th = self.settings.thresholds
        horizon = now - max(th.reboot_window, th.flapping_window)
        while self._events and self._events[0].at < horizon:
            self._events.popleft()
        if snap.taken_at != self._quiet_at:
            self._quiet = rules.fold_quiet(self._quiet, snap)
            self._quiet_at = snap.taken_at
        windows = self._windows_source() if self._windows_source is not None else self._windows
        inputs = rules.RuleInputs(snapshot=snap, events=tuple(self._events), maintenance=windows,
                                  quiet_since=self._quiet, last_week_clients=self._last_week,
                                  health=self._health(now))
        desired = rules.held_alerts({k: st.alert for k, st in self.states.items()}, snap)
        desired.update(rules.desired_alerts(inputs, th, now))
        result = engine.step(self.states, desired, self._acks, self.settings, now, self._oneshots)
        self.states, self._oneshots = result.states, result.oneshots
        self.evaluations += 1
        self._persist(result, now)
        return result

    def _persist(self, result: StepResult, now: float) -> None:
        records = [to_record(result.states[k]) for k in sorted(result.changed)]
        records += [to_record(r.state, r.at) for r in result.resolved]
        messages = [m for n in result.notifications for m in self.messages(n)]
        if not (records or messages or result.voided_acks):
            return
        for n in result.notifications:
            log.info("alert_notification kind=%s alert=%s severity=%s channels=%s", n.kind, n.alert.key,
                     n.alert.severity, ",".join(n.channels))
        for r in result.resolved:
            log.info("alert_resolved alert=%s silent=%s", r.state.key, r.silent)
        # Queued for the store and handed to delivery at once: a page never waits for the database.
        future: Future[Any] = self._writer.submit_durable(save_alerting, self._store, records, messages,
                                                            result.voided_acks)
        if messages:
            self._delivery.enqueue(messages, future)

    def messages(self, n: Notification) -> list[OutboxMessage]:
        """The outbox rows of one notification: one per configured channel, each with its own idempotency
        key (an alert restored from an earlier run may name a channel removed from the config since)."""
        out = []
        for channel in n.channels:
            if channel not in self._delivery.channels:
                log.info("notification_channel_removed alert=%s kind=%s channel=%s", n.alert.key, n.kind, channel)
                continue
            mid = payload.new_message_id()
            out.append(OutboxMessage(message_id=mid, alert_key=n.alert.key, channel=channel, kind=n.kind,
                                     payload=payload.build(n, mid, self.settings.language, self._tz),
                                     created_at=n.at))
        return out

    def firing_payloads(self, channel: str) -> list[dict[str, Any]]:
        """Payloads of the alerts firing on ``channel`` now (for Alertmanager's re-push)."""
        now = self._clock()
        out = []
        for st in self.states.values():
            if st.status == "firing" and channel in st.notified:
                n = Notification("repeat", st.alert, (channel,), now, st.opened_at, st.sends, ack=st.ack,
                                 escalation=st.escalation)
                out.append(payload.build(n, f"refresh-{st.key}", self.settings.language, self._tz))
        return out

    # -- the tasks ---------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Evaluate every ``evaluate_interval`` seconds until ``stop``; read the store beside it."""
        self._loop = asyncio.get_running_loop()
        self._poke = asyncio.Event()
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._read_loop(stop))
            while not stop.is_set():
                try:
                    self.evaluate()
                except Exception:  # a bug in one evaluation must not end alerting
                    log.exception("alert_evaluation_failed")
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.settings.evaluate_interval)
                except TimeoutError:
                    pass

    async def _read_loop(self, stop: asyncio.Event) -> None:
        assert self._poke is not None
        while not stop.is_set():
            try:
                await self._store.call(self._read_store, self._clock())
            except StoreError as exc:
                log.warning("alert_store_read_failed error=%s", exc)
            except Exception:
                log.exception("alert_store_read_failed")
            self._poke.clear()
            stopping = asyncio.ensure_future(stop.wait())
            poked = asyncio.ensure_future(self._poke.wait())
            try:
                await asyncio.wait({stopping, poked}, timeout=self.settings.ack_poll_interval,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (stopping, poked):
                    task.cancel()
                await asyncio.gather(stopping, poked, return_exceptions=True)
