"""The composition root: builds every object from the config and runs them until told to stop."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
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
from collectors.snmp import PysnmpClient
from prometheus_client import CollectorRegistry

from monitor.alerting.service import Alerting
from monitor.config.load import ConfigError, LoadedConfig
from monitor.config.types import split_listen
from monitor.domain.vocabulary import Event, Transition
from monitor.exposition.http import HttpServer
from monitor.exposition.public_page import render_public
from monitor.exposition.web_config import web_config_of
from monitor.domain.maintenance_windows import MaintenanceBook, config_windows
from monitor.exposition.metrics import ServiceMetrics
from monitor.exposition.rendering import FleetExposition
from monitor.polling.poller import Poller
from monitor.report.build import month_to_date
from monitor.report.job import build_report_job
from monitor.store import Store, StoreError
from monitor.store.writer import StoreWriter
from monitor.polling.traps import start_traps

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
PUBLISH_SECONDS = 0.5
AVAILABILITY_SECONDS = 300.0  # wifi_site_availability_ratio{window="month_to_date"} refresh
MAINTENANCE_REFRESH_SECONDS = 15.0  # store windows re-read at least this often (more often if probes are)
MAINTENANCE_LOOKAHEAD_SECONDS = 3600.0  # one-off windows starting later are picked up by a later refresh
REPORT_CATCH_UP_SECONDS = 30.0  # after start-up: last month's report, if the service was down when it was due


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
        self.loaded = loaded
        self.cfg = loaded.config.service
        self.profiles = loaded.profiles
        self.registry = CollectorRegistry()
        self.metrics = ServiceMetrics(self.registry, wifimon_version())
        self.store = Store(self.cfg.store_url)
        self.metrics_url = ""
        self._rcvbuf_seen = 0  # drops on the SNMP client's own sockets, which start at none
        self._writer_seen: dict[str, int] = {}  # the writer's counters as last copied to the metrics
        self.maintenance = MaintenanceBook(config_windows(loaded.config))

    async def run(self, stop: asyncio.Event) -> None:
        db = self.store.url.database
        if self.store.url.get_backend_name() == "sqlite" and db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)  # the embedded default needs no set-up
        await self.store.call(self.store.migrate)
        writer = StoreWriter(self.store, on_latency=self.metrics.store_write.observe,
                             journal=self.store.journal_path())
        await asyncio.to_thread(writer.replay)  # what a killed run could not write: before anything reads the store
        now = time.time()
        run_id = await self.store.call(self.store.start_run, now)
        last = await self.store.call(self.store.last_states)
        client = PysnmpClient(max_in_flight=self.cfg.concurrency)
        await self._refresh_maintenance()  # before the first round: a site in a window is never probed as active
        alerting = Alerting(self.loaded, self.store, writer, self.metrics, self.registry,
                            windows=lambda: self.maintenance.windows)
        await self.store.call(alerting.restore)
        report_job = build_report_job(self.loaded, self.store)  # None unless report.schedule is set
        poller = Poller(self.loaded, client, self.profiles, alerting.sink(StoreSink(writer, self.store, run_id)),
                        self.metrics, maintenance=self.maintenance.site, device_maintenance=self.maintenance.device)
        # An outage left open by the last run ends where its watching ended; the poller starts from there.
        await asyncio.to_thread(self.store.end_outages_at_stop, poller.entities(), run_id)
        poller.restore(last)
        await poller.register()
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
        try:
            bound = await http.start(host, port)
        except OSError as exc:  # another wifimon (or anything) on the port: say so, undo what started
            if traps is not None:
                await traps.close()
            await client.close()
            await asyncio.to_thread(writer.close, 5.0)
            raise ConfigError([f"{self.loaded.path}: service.listen: cannot listen on {host}:{port}: "
                               f"{exc.strerror or exc}"]) from None
        self.metrics_url = f"{http.scheme}://{host}:{bound}/metrics"

        scheduler = AsyncIOScheduler()
        jobs = _Jobs()
        scheduler.add_listener(self._on_missed, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        start = now
        common = dict(max_instances=1, coalesce=True, misfire_grace_time=None)
        scheduler.add_job(jobs(poller.probe_round), "interval", seconds=self.cfg.probe_interval,
                          id="probe", next_run_time=_dt(start + 0.5), **common)
        scheduler.add_job(jobs(poller.metrics_round), "interval", seconds=self.cfg.metrics_interval,
                          id="metrics", next_run_time=_dt(start + 3.0), **common)
        scheduler.add_job(lambda: writer.submit_latest(self.store.heartbeat, run_id, time.time()), "interval",
                          seconds=HEARTBEAT_SECONDS, id="heartbeat", **common)
        async def publish() -> None:  # on the loop, where the state it reads changes (a sync job runs in a thread)
            poller.publish()

        scheduler.add_job(publish, "interval", seconds=PUBLISH_SECONDS, id="publish", **common)
        scheduler.add_job(self._housekeeping, "interval", seconds=15, id="housekeeping",
                          args=[writer, client], **common)
        scheduler.add_job(lambda: self._flush_usage(writer, poller), "interval", seconds=self.cfg.rollup_interval,
                          id="usage", **common)
        scheduler.add_job(jobs(self._refresh_maintenance), "interval", args=[poller], id="maintenance",
                          seconds=min(MAINTENANCE_REFRESH_SECONDS, self.cfg.probe_interval), **common)
        scheduler.add_job(jobs(self._month_to_date), "interval", args=[poller], id="availability",
                          seconds=AVAILABILITY_SECONDS, next_run_time=_dt(start + 20.0), **common)
        if report_job is not None:
            when = report_job.schedule
            cron = CronTrigger(day=when.day, hour=when.at.hour, minute=when.at.minute, timezone=self.cfg.timezone)
            scheduler.add_job(jobs(report_job.tick), cron, id="report", **common)
            # The same job, hourly: the catch-up after downtime over the scheduled time and the retry after a
            # failure. It only acts while last month's report is due and not done (files, mail receipt).
            scheduler.add_job(jobs(report_job.tick), "interval", seconds=report_job.retry_seconds,
                              id="report_retry", next_run_time=_dt(start + REPORT_CATCH_UP_SECONDS), **common)
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
            await http.close()
            log.info("service_stopped run=%s", run_id)

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

    def _housekeeping(self, writer: StoreWriter, client: PysnmpClient) -> None:
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
