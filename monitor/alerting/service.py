"""Alerting wired for the running service: channels, delivery, the alerter and the ack endpoint.

The composition root (``monitor.app.Service.run``) builds one :class:`Alerting`, tees the poller's sink
through it, hands its routes to the HTTP server, starts it once the poller runs, and closes it before the
store writer so the last alert states are queued for writing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry

from monitor.alerting.ack import ack_endpoint
from monitor.alerting.alerter import Alerter, AlertingSink
from monitor.alerting.channels import build_channels
from monitor.alerting.delivery import Delivery, Gate
from monitor.config.load import LoadedConfig, read_secret
from monitor.exposition.http import PostHandler
from monitor.exposition.metrics import ServiceMetrics
from monitor.polling.poller import Sink
from monitor.exposition.snapshot import EMPTY, Snapshot
from monitor.store import MaintenanceWindow, Store
from monitor.store.writer import StoreWriter

log = logging.getLogger(__name__)

CLOSE_GRACE_SECONDS = 5.0


class Alerting:
    def __init__(self, loaded: LoadedConfig, store: Store, writer: StoreWriter, metrics: ServiceMetrics,
                 registry: CollectorRegistry,
                 windows: Callable[[], Sequence[MaintenanceWindow]] | None = None,
                 gate: Gate | None = None):
        """``gate``: a shard's active sends only while it holds the lease (see ``monitor.alerting.delivery``)."""
        settings = loaded.config.alerting
        base = loaded.path.parent
        self.tz = ZoneInfo(loaded.config.service.timezone)
        self._store = store
        self._token = read_secret(settings.api_token, base, "alerting.api_token") if settings.api_token else None
        channels = build_channels(settings, base)
        for name in channels:  # present from the start, so rate() and alert rules see zeros
            for result in Delivery.RESULTS:
                metrics.notifications.labels(name, result)
        self.delivery = Delivery(
            store, channels, settings.delivery, writer=writer,
            on_result=lambda c, r: metrics.notifications.labels(c, r).inc(),
            on_depth=metrics.outbox_depth.set, gate=gate,
        )
        self.alerter = Alerter(settings, store, writer, self.delivery, lambda: EMPTY, self.tz, registry,
                               windows=windows)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def restore(self) -> None:
        """Blocking (run in a thread): resume the alert states a previous run left in the store."""
        self.alerter.restore()

    def sink(self, inner: Sink) -> Sink:
        return AlertingSink(inner, self.alerter)

    def http_routes(self) -> dict[str, PostHandler]:
        return {"/api/ack": ack_endpoint(self._store, self._token, self.tz, self.alerter.poke)}

    def start(self, snapshot: Callable[[], Snapshot]) -> None:
        self.alerter.snapshot = snapshot
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self.alerter.run(self._stop), name="alerter"),
            loop.create_task(self.delivery.run(self._stop), name="delivery"),
            loop.create_task(self.delivery.refresh_alertmanager(self._stop, self.alerter.firing_payloads),
                             name="alertmanager-refresh"),
        ]
        log.info("alerting_started channels=%s", ",".join(self.delivery.channels) or "none")

    async def close(self) -> None:
        self._stop.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=CLOSE_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            results = await asyncio.gather(*self._tasks, return_exceptions=True)
            for task, result in zip(self._tasks, results, strict=True):
                if isinstance(result, Exception):
                    log.error("alerting_task_failed task=%s error=%r", task.get_name(), result)
        await self.delivery.aclose()
