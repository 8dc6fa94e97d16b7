"""The composition root: builds every object from the config and runs them until told to stop."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as pkg_version

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from collectors.engines import RoutedClient
from prometheus_client import CollectorRegistry, Gauge

from monitor.alerting.service import Alerting
from monitor.config.load import ConfigError, LoadedConfig
from monitor.config.types import split_listen
from monitor.domain.vocabulary import Event, Transition
from monitor.exposition.http import HttpServer
from monitor.exposition.metric_names import METRICS
from monitor.exposition.snapshot import EMPTY
from monitor.lease import ShardLease
from monitor.exposition.public_page import render_public
from monitor.exposition.web_config import web_config_of
from monitor.domain.maintenance_windows import MaintenanceBook, config_windows
from monitor.exposition.metrics import ServiceMetrics
from monitor.exposition.rendering import FleetExposition
from monitor.polling.poller import Poller
from monitor.report.build import month_to_date
from monitor.report.job import ReportJob, build_report_job
from monitor.store import LeaseFenced, Store, StoreError
from monitor.store.writer import StoreWriter
from monitor.polling.traps import start_traps
from collectors.errors import WifimonError

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
PUBLISH_SECONDS = 0.5
AVAILABILITY_SECONDS = 300.0  # wifi_site_availability_ratio{window="month_to_date"} refresh
MAINTENANCE_REFRESH_SECONDS = 15.0  # store windows re-read at least this often (more often if probes are)
MAINTENANCE_LOOKAHEAD_SECONDS = 3600.0  # one-off windows starting later are picked up by a later refresh
REPORT_CATCH_UP_SECONDS = 30.0  # after start-up: last month's report, if the service was down when it was due
REPORT_LEASE_SECONDS = 3600.0  # the report job's lease: longer than any report takes; a crash frees it after this


class LeaseLost(WifimonError):
    """Another instance holds this shard's lease now: this one stopped watching so that two never both do."""


def wifimon_version() -> str:
    try:
        return pkg_version("wifimon")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass
class StoreSink:
    """Sends the poller's decisions to the store through the writer thread, in order."""

    writer: StoreWriter
    store: Store
    run_id: int

    def transitions(self, transitions: list[Transition]) -> None:
        self.writer.submit_durable(self.store.record_transitions, transitions, self.run_id)

    def events(self, events: list[Event]) -> None:
        self.writer.submit_durable(self.store.record_events, events, self.run_id)


class Service:
    """wifimon running: poller, scheduler, store writer and HTTP server."""

    def __init__(self, loaded: LoadedConfig):
        self.inventory = loaded  # every site: what the monthly report covers
        self.loaded = loaded.shard_view()  # the sites this instance watches
        self.cfg = loaded.config.service
        self.profiles = loaded.profiles
        self.registry = CollectorRegistry()
        self.metrics = ServiceMetrics(self.registry, wifimon_version())
        self.store = Store(self.cfg.store_url, shard=loaded.shard)
        spec = METRICS["wifimon_instance_active"]
        self.active = Gauge(spec.name, spec.help, spec.labels, registry=self.registry).labels(
            self.store.partition or "whole")
        self.lease: ShardLease | None = None
        if self.store.url.get_backend_name() == "postgresql" and (loaded.shard is not None or self.cfg.standby):
            self.lease = ShardLease(self.store, f"shard {self.store.partition or 'whole'}",
                                    self.cfg.lease_ttl or self.cfg.probe_interval)
        self.lost = False
        self.metrics_url = ""
        self._rcvbuf_seen = 0  # drops on the SNMP client's own sockets, which start at none
        self._writer_seen: dict[str, int] = {}  # the writer's counters as last copied to the metrics
        self.maintenance = MaintenanceBook(config_windows(loaded.config))

    async def run(self, stop: asyncio.Event) -> None:
        client = await self._warm_up()
        standby_http: HttpServer | None = None
        if self.lease is not None:
            try:
                standby_http = await self._standby(stop)
            except BaseException:
                await client.close()
                raise
            if standby_http is None:  # told to stop while waiting
                await client.close()
                return
        # Holding the lease (or needing none) from here on: what writes the store, polls or notifies.
        takeover = self.lease is not None and self.lease.takeover(self.cfg.probe_interval + self.lease.ttl)
        # Renewed from now on, start-up included (a long crash journal to replay may outlast a lease).
        renewing = asyncio.create_task(self._renewing(stop), name="lease") if self.lease is not None else None
        self.active.set(1)
        loop = asyncio.get_running_loop()
        writer = StoreWriter(self.store, on_latency=self.metrics.store_write.observe,
                             journal=self.store.journal_path(self.cfg.state_dir),
                             journal_if=self.lease.held if self.lease else None,
                             on_fenced=lambda exc: loop.call_soon_threadsafe(self._fenced, exc, stop))
        await asyncio.to_thread(writer.replay)  # what a killed run could not write: before anything reads the store
        now = time.time()
        run_id = await self.store.call(self.store.start_run, now)
        last = await self.store.call(self.store.last_states)
        await self._refresh_maintenance()  # before the first round: a site in a window is never probed as active
        alerting = Alerting(self.loaded, self.store, writer, self.metrics, self.registry,
                            windows=lambda: self.maintenance.windows, gate=self.lease)
        await self.store.call(alerting.restore)
        # The report covers every site; of several shards, shard 0's active writes it (under a lease as well).
        shard = self.inventory.shard
        report_job = build_report_job(self.inventory, self.store) if shard is None or shard.index == 0 else None
        poller = Poller(self.loaded, client, self.profiles, alerting.sink(StoreSink(writer, self.store, run_id)),
                        self.metrics, maintenance=self.maintenance.site, device_maintenance=self.maintenance.device)
        if takeover:  # a standby taking over (or a quick restart): the open outages go on, not ended and re-opened
            log.info("shard_taken_over lease=%s previous=%s", self.lease and self.lease.name,
                     self.lease and self.lease.previous and self.lease.previous.holder)
        else:  # an outage left open by the last run ends where its watching ended; the poller starts from there
            await asyncio.to_thread(self.store.end_outages_at_stop, poller.entities(), run_id)
        poller.restore(last, keep_down=takeover)
        traps = await start_traps(self.loaded, self.profiles, poller.probe_now, self.metrics)

        async def ready() -> tuple[bool, str]:
            if not poller.first_probe_round_done:
                return False, "first probe round not done"
            if writer.failing_since is not None:
                return False, (f"store writes failing for {time.time() - writer.failing_since:.0f} s: "
                               f"{writer.last_error}")
            try:
                await asyncio.wait_for(self.store.call(self.store.check), 5.0)
            except Exception as exc:  # whatever the driver raises, /readyz says it
                return False, f"store unreachable: {exc}"
            return True, "ready"

        http = HttpServer(self.registry, poller.snapshot, ready, posts=alerting.http_routes(),
                          web_config=web_config_of(self.loaded), public=self._public_page(poller),
                          fleet=FleetExposition(poller.snapshot))
        host, port = split_listen(self.cfg.listen)
        if standby_http is not None:  # the standby's face answered until now: Prometheus saw no gap
            await standby_http.close()
        try:
            bound = await http.start(host, port)
        except OSError as exc:  # another wifimon (or anything) on the port: say so, undo what started
            if renewing is not None:
                renewing.cancel()  # the lease lapses by itself: nothing watched here
            if traps is not None:
                await traps.close()
            await client.close()
            await asyncio.to_thread(writer.close, 5.0)
            raise ConfigError([f"{self.loaded.path}: service.listen: cannot listen on {host}:{port}: "
                               f"{exc.strerror or exc}"]) from None
        self.metrics_url = f"{http.scheme}://{host}:{bound}/metrics"

        scheduler, jobs = self._schedule(now, poller, writer, client, run_id, report_job)
        scheduler.start()
        alerting.start(poller.snapshot)
        log.info("service_started run=%s devices=%d metrics=%s store=%s", run_id, len(poller.tracks),
                 self.metrics_url, self.store.display_url)
        print(f"wifimon: polling {len(poller.tracks)} devices; metrics at {self.metrics_url}", flush=True)
        try:
            await stop.wait()
        finally:
            log.info("service_stopping run=%s", run_id)
            scheduler.shutdown(wait=False)
            await jobs.stop()  # rounds end before the client, the traps and the poller close under them
            if traps is not None:
                await traps.close()
            await poller.close()
            await client.close()
            await alerting.close()  # before the writer closes: the last alert states are queued to it
            self._flush_usage(writer, poller)
            writer.submit_durable(self.store.stop_run, run_id, time.time())
            await asyncio.to_thread(writer.close, 10.0)
            if renewing is not None:
                renewing.cancel()
                await asyncio.gather(renewing, return_exceptions=True)
            if self.lease is not None and not self.lost:
                await self.lease.release()  # the standby takes over now, not once the lease lapses
            self.active.set(0)
            await http.close()
            log.info("service_stopped run=%s", run_id)
        if self.lost:
            raise LeaseLost(f"{self.lease and self.lease.name}: lease lost to another instance; stopped watching")

    def _schedule(self, start: float, poller: Poller, writer: StoreWriter, client: RoutedClient, run_id: int,
                  report_job: ReportJob | None) -> tuple[AsyncIOScheduler, _Jobs]:
        """The scheduler with the service's recurring jobs (not started), and the tracker of those in flight."""
        scheduler = AsyncIOScheduler()
        jobs = _Jobs()
        scheduler.add_listener(self._on_missed, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        common = dict(max_instances=1, coalesce=True, misfire_grace_time=None)
        scheduler.add_job(jobs(poller.probe_round), "interval", seconds=self.cfg.probe_interval,
                          id="probe", next_run_time=_dt(start + 0.5), **common)
        scheduler.add_job(jobs(poller.metrics_round), "interval", seconds=self.cfg.metrics_interval,
                          id="metrics", next_run_time=_dt(start + 3.0), **common)
        scheduler.add_job(jobs.threaded(lambda: writer.submit_latest(self.store.heartbeat, run_id, time.time())),
                          "interval", seconds=HEARTBEAT_SECONDS, id="heartbeat", **common)

        async def publish() -> None:  # on the loop, where the state it reads changes (a sync job runs in a thread)
            poller.publish()

        scheduler.add_job(jobs(publish), "interval", seconds=PUBLISH_SECONDS, id="publish", **common)
        scheduler.add_job(jobs.threaded(self._housekeeping), "interval", seconds=15, id="housekeeping",
                          args=[writer, client], **common)
        scheduler.add_job(jobs.threaded(lambda: self._flush_usage(writer, poller)), "interval",
                          seconds=self.cfg.rollup_interval, id="usage", **common)
        scheduler.add_job(jobs(self._refresh_maintenance), "interval", args=[poller], id="maintenance",
                          seconds=min(MAINTENANCE_REFRESH_SECONDS, self.cfg.probe_interval), **common)
        scheduler.add_job(jobs(self._month_to_date), "interval", args=[poller], id="availability",
                          seconds=AVAILABILITY_SECONDS, next_run_time=_dt(start + 20.0), **common)
        if report_job is not None:
            when = report_job.schedule
            cron = CronTrigger(day=when.day, hour=when.at.hour, minute=when.at.minute, timezone=self.cfg.timezone)
            tick = jobs(functools.partial(self._once, "report", report_job.tick))
            scheduler.add_job(tick, cron, id="report", **common)
            # The same job, hourly: the catch-up after downtime over the scheduled time and the retry after a
            # failure. It only acts while last month's report is due and not done (files, mail receipt).
            scheduler.add_job(tick, "interval", seconds=report_job.retry_seconds,
                              id="report_retry", next_run_time=_dt(start + REPORT_CATCH_UP_SECONDS), **common)
        return scheduler, jobs

    async def _warm_up(self) -> RoutedClient:
        """What needs no lease and writes nothing the shard's active owns, done before waiting for the lease, so
        that a standby taking over has only the rest to do: the schema migrated (once for all instances: an
        advisory lock), the SNMP client with every target registered (sockets and credentials: seconds for
        thousands of targets on pysnmp): ``LoadedConfig.targets()`` are the poller's own, so it registers none
        again. Nothing is polled."""
        client = RoutedClient(self.cfg.snmp_engine, max_in_flight=self.cfg.concurrency)
        targets = self.loaded.targets()
        client.reserve(targets)  # a too-low open-files limit stops us before any run is recorded
        db = self.store.url.database
        if self.store.url.get_backend_name() == "sqlite" and db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)  # the embedded default needs no set-up
        if self.cfg.state_dir is not None:
            try:
                self.cfg.state_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError([f"{self.loaded.path}: service.state_dir: cannot create {self.cfg.state_dir}: "
                                   f"{exc.strerror or exc}"]) from None
        try:
            await self.store.call(self.store.migrate)
            started = time.perf_counter()
            await client.register(targets)
        except BaseException:
            await client.close()
            raise
        log.info("snmp_targets_registered targets=%d seconds=%.2f", len(targets), time.perf_counter() - started)
        return client

    async def _standby(self, stop: asyncio.Event) -> HttpServer | None:
        """Until this instance holds the shard's lease: poll nothing, serve /metrics (instance active 0),
        /healthz (200: the process is fine) and /readyz (503: standby, not watching). Returns that server, still
        serving (the caller closes it just before its own takes the port), or None if told to stop."""
        assert self.lease is not None
        self.active.set(0)

        async def standby() -> tuple[bool, str]:
            return False, f"standby for {self.lease.name if self.lease else ''}: the active holds the lease"

        http = HttpServer(self.registry, lambda: EMPTY, standby, web_config=web_config_of(self.loaded))
        host, port = split_listen(self.cfg.listen)
        try:
            await http.start(host, port)
        except OSError as exc:
            raise ConfigError([f"{self.loaded.path}: service.listen: cannot listen on {host}:{port}: "
                               f"{exc.strerror or exc}"]) from None
        try:
            acquired = await self.lease.acquire(stop, self.cfg.standby)
        except BaseException:
            await http.close()
            raise
        if not acquired:
            await http.close()
            return None
        return http

    async def _renewing(self, stop: asyncio.Event) -> None:
        """Renew the lease every third of its TTL; once it is lost, stop at once: another instance may be
        watching the shard now."""
        assert self.lease is not None
        while not stop.is_set():
            await asyncio.sleep(self.lease.every)
            if not await self.lease.renew():
                self._lose(stop)

    def _fenced(self, exc: LeaseFenced, stop: asyncio.Event) -> None:
        """The store refused a write of this instance: another holds the shard's lease. Stop as at a lost
        renewal; what was not written is the new holder's to decide (monitor.store.writer)."""
        if self.lease is not None:
            self.lease.fenced(exc)
        self._lose(stop)

    def _lose(self, stop: asyncio.Event) -> None:
        self.lost = True
        self.active.set(0)
        stop.set()

    async def _once(self, name: str, work: Callable[[], Awaitable[object]]) -> None:
        """Run ``work`` only while holding the lease ``name`` (any backend), so that two instances never both
        do it; skip it if another holds it."""
        holder = self.lease.holder if self.lease else f"{socket.gethostname()}:{os.getpid()}"
        try:
            action, found, _ = await self.store.call(self.store.lease, name, holder, REPORT_LEASE_SECONDS)
        except StoreError as exc:
            log.warning("job_lease_failed job=%s error=%s", name, exc)
            return
        if action == "wait":
            log.info("job_skipped job=%s reason=held_by holder=%s", name, found.holder if found else "-")
            return
        try:
            await work()
        finally:
            try:
                await self.store.call(self.store.release, name, holder)
            except StoreError as exc:  # it lapses by itself
                log.warning("job_lease_release_failed job=%s error=%s", name, exc)

    async def _refresh_maintenance(self, poller: Poller | None = None) -> None:
        """Re-read the store's maintenance windows (in a thread, never on the loop) and apply them now."""
        now = time.time()
        try:
            stored = await self.store.call(self.store.list_maintenance, now, now + MAINTENANCE_LOOKAHEAD_SECONDS)
        except StoreError as exc:  # keep the windows read last time; the next refresh tries again
            log.warning("maintenance_refresh_failed windows_kept=%d error=%s", len(self.maintenance.windows), exc)
        else:
            if self.maintenance.update(stored):
                log.info("maintenance_windows_loaded in_config=%d in_store=%d",
                         len(self.loaded.config.maintenance), len(stored))
        if poller is not None:
            poller.apply_modes()

    async def _month_to_date(self, poller: Poller) -> None:
        """The report's month-to-date figure per site, for /metrics; read in a thread, never on the loop."""
        try:
            by_site = await self.store.call(month_to_date, self.store, self.loaded, time.time())
        except StoreError as exc:
            log.warning("availability_refresh_failed error=%s", exc)
            return
        poller.set_availability(by_site)

    def _public_page(self, poller: Poller) -> Callable[[], str] | None:
        """The /public page's renderer when ``service.public_page`` is on (in the report's language)."""
        if not self.cfg.public_page:
            return None
        organisation, zone, lang = self.cfg.organisation, self.cfg.timezone, self.loaded.config.report.language
        return lambda: render_public(poller.snapshot(), organisation, zone, lang)

    def _on_missed(self, event: JobExecutionEvent) -> None:
        if event.job_id in ("probe", "metrics"):
            self.metrics.round_overruns.labels(event.job_id).inc()
            log.warning("round_skipped round=%s reason=previous_still_running", event.job_id)

    def _flush_usage(self, writer: StoreWriter, poller: Poller) -> None:
        rows = poller.usage.drain()
        if rows:  # a flush id makes a retried write of the same rows a no-op
            writer.submit_durable(self.store.add_usage, rows, f"{os.getpid()}-{time.time_ns()}")

    def _housekeeping(self, writer: StoreWriter, client: RoutedClient) -> None:
        self.metrics.store_queue.set(writer.depth)
        m = self.metrics
        for name, counter in (("failures", m.store_errors), ("set_aside", m.store_set_aside),
                              ("dropped", m.store_dropped)):
            now, seen = getattr(writer, name), self._writer_seen.get(name, 0)
            if now > seen:
                counter.inc(now - seen)
                self._writer_seen[name] = now
        drops = client.receive_drops()
        if drops is not None and drops > self._rcvbuf_seen:
            self.metrics.udp_rcvbuf_errors.inc(drops - self._rcvbuf_seen)
            self._rcvbuf_seen = drops


class _Jobs:
    """The scheduled coroutines in flight, so that a stop cancels and awaits them before closing what they use
    (a probe round still running when the SNMP client closes would see every AP fail: false downs)."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    def __call__(self, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[None]]:
        """``fn`` as a job that ends quietly when cancelled: APScheduler would log a cancelled job as failed,
        with a traceback, at every stop."""

        @functools.wraps(fn)
        async def job(*args: Any) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await fn(*args)
            except asyncio.CancelledError:
                log.debug("job_cancelled_at_stop job=%s", getattr(fn, "__qualname__", fn))
            finally:
                self._running.discard(task)

        return job

    def threaded(self, fn: Callable[..., Any]) -> Callable[..., Awaitable[None]]:
        """A blocking ``fn`` as a job: in a thread, as APScheduler runs one, and as quiet when a stop cancels
        it (APScheduler logs a cancelled thread job as failed, with a traceback)."""

        @functools.wraps(fn)
        async def in_thread(*args: Any) -> None:
            await asyncio.to_thread(fn, *args)

        return self(in_thread)

    async def stop(self) -> None:
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def serve(loaded: LoadedConfig) -> None:
    """Run until SIGINT or SIGTERM; shut down cleanly."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await Service(loaded).run(stop)

    asyncio.run(main())
