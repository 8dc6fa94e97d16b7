"""Delivery: the outbox in the store → channels, at least once, in order per alert and channel.

Every message was written to the outbox before anything tries to send it. One loop reads undelivered
messages (in a worker thread, never on the event loop), takes the oldest undelivered message of each
(alert, channel) pair — so the messages of one alert reach a channel in the order they were decided —
and sends those that are due, a few at a time. Success marks the message delivered; failure counts an
attempt and sets the next one after an exponential backoff (doubling up to ``max_backoff``, longer if the
peer sent Retry-After). A process killed at any point leaves the undelivered messages in the store, and
the next run sends them; a message sent but not yet marked is sent again with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from monitor.alerting.channels import Channel, ChannelError
from monitor.alerting.channels.alertmanager import AlertmanagerChannel
from monitor.alerting.settings import DeliverySettings
from monitor.store import OutboxMessage, Store, StoreError, outbox_delivered, outbox_depth, outbox_failed, pending_outbox

log = logging.getLogger(__name__)

IDLE_SECONDS = 5.0  # re-read the outbox at least this often, even without a wake-up


class Delivery:
    """Sends the outbox. ``on_result(channel, result)`` counts outcomes ('delivered' or 'failed');
    ``on_depth(n)`` reports how many messages wait."""

    def __init__(self, store: Store, channels: dict[str, Channel], settings: DeliverySettings, *,
                 on_result: Callable[[str, str], None] = lambda c, r: None,
                 on_depth: Callable[[int], None] = lambda n: None,
                 clock: Callable[[], float] = time.time):
        self._store = store
        self.channels = channels
        self._cfg = settings
        self._on_result = on_result
        self._on_depth = on_depth
        self._clock = clock
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._marks: dict[str, float] = {}  # sent, not yet marked delivered in the store
        self._not_before: dict[str, float] = {}  # failed, but the store did not take the new attempt time
        self._failing: dict[str, tuple[float, str]] = {}  # channel → (failing since, last error)
        self._unknown_logged: set[str] = set()
        self.store_failing_since: float | None = None

    # -- signals -----------------------------------------------------------------------------------

    def wake(self) -> None:
        """Look at the outbox now (safe from any thread)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def channel_health(self) -> dict[str, tuple[float, str]]:
        """Channels whose last attempt failed: since when they fail, and the last error."""
        return dict(self._failing)

    # -- the loop ----------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while not stop.is_set():
            self._wake.clear()
            try:
                wait = await self.deliver_once()
            except StoreError as exc:
                if self.store_failing_since is None:
                    self.store_failing_since = self._clock()
                log.warning("outbox_read_failed error=%s retry_in=%.0fs", exc, IDLE_SECONDS)
                wait = IDLE_SECONDS
            except Exception:  # a bug must not end delivery for good
                log.exception("delivery_pass_failed")
                wait = IDLE_SECONDS
            if wait <= 0:
                continue
            stopping = asyncio.ensure_future(stop.wait())
            woken = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({stopping, woken}, timeout=min(wait, IDLE_SECONDS),
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (stopping, woken):
                    task.cancel()
                await asyncio.gather(stopping, woken, return_exceptions=True)

    async def deliver_once(self) -> float:
        """One pass: send every due head-of-line message; return seconds until something is due again."""
        await self._flush_marks()
        rows = await asyncio.to_thread(pending_outbox, self._store, self._cfg.batch)
        self.store_failing_since = None
        depth = len(rows) if len(rows) < self._cfg.batch else await asyncio.to_thread(outbox_depth, self._store)
        self._on_depth(max(0, depth - len(self._marks)))
        now = self._clock()
        heads: dict[tuple[str, str], OutboxMessage] = {}
        for m in rows:
            if m.message_id not in self._marks:
                heads.setdefault((m.alert_key, m.channel), m)
        due, later = [], []
        for m in heads.values():
            if m.channel not in self.channels:
                if m.channel not in self._unknown_logged:
                    self._unknown_logged.add(m.channel)
                    log.warning("outbox_channel_unknown channel=%s (no longer configured; its messages wait)",
                                m.channel)
                continue
            at = max(m.next_attempt_at or 0.0, self._not_before.get(m.message_id, 0.0))
            (due if at <= now else later).append((at, m))
        if due:
            sem = asyncio.Semaphore(self._cfg.concurrency)

            async def one(m: OutboxMessage) -> None:
                async with sem:
                    await self._send(m)

            await asyncio.gather(*(one(m) for _, m in due))
            await self._flush_marks()
            return 0.0  # the next message of a group may be due right away
        return min((at for at, _ in later), default=now + IDLE_SECONDS) - now

    async def _send(self, m: OutboxMessage) -> None:
        channel = self.channels[m.channel]
        started = self._clock()
        try:
            # Channels time out on their own; this bound only catches a channel that forgot to.
            await asyncio.wait_for(channel.send(m.payload), timeout=120)
        except Exception as exc:  # any failure is one failed attempt; the message stays queued
            error = str(exc) if isinstance(exc, ChannelError) else (
                f"channel {m.channel} ({channel.target}): {type(exc).__name__}: {exc}")
            await self._failed(m, error, exc.retry_after if isinstance(exc, ChannelError) else None)
            return
        now = self._clock()
        self._marks[m.message_id] = now
        self._not_before.pop(m.message_id, None)
        self._failing.pop(m.channel, None)
        self._on_result(m.channel, "delivered")
        log.info("notification_sent channel=%s alert=%s kind=%s message=%s attempts=%d took=%.2fs",
                 m.channel, m.alert_key, m.kind, m.message_id, m.attempts + 1, now - started)

    async def _failed(self, m: OutboxMessage, error: str, retry_after: float | None) -> None:
        now = self._clock()
        attempts = m.attempts + 1
        delay = min(self._cfg.max_backoff, self._cfg.backoff * 2 ** (attempts - 1))
        delay *= random.uniform(0.9, 1.1)  # channels recovering at once should not be hit in lock-step
        if retry_after is not None:
            delay = max(delay, min(retry_after, self._cfg.max_backoff))
        self._failing.setdefault(m.channel, (now, error))
        self._failing[m.channel] = (self._failing[m.channel][0], error)
        self._on_result(m.channel, "failed")
        self._not_before[m.message_id] = now + delay
        log.warning("notification_failed channel=%s alert=%s message=%s attempt=%d retry_in=%.1fs error=%s",
                    m.channel, m.alert_key, m.message_id, attempts, delay, error)
        try:
            await asyncio.to_thread(outbox_failed, self._store, m.message_id, error, now + delay)
        except StoreError as exc:
            log.warning("outbox_mark_failed message=%s error=%s", m.message_id, exc)

    async def _flush_marks(self) -> None:
        if not self._marks:
            return
        marks = dict(self._marks)
        try:
            await asyncio.to_thread(outbox_delivered, self._store, list(marks), max(marks.values()))
        except StoreError as exc:
            log.warning("outbox_mark_failed messages=%d error=%s", len(marks), exc)
            return
        for mid in marks:
            self._marks.pop(mid, None)

    # -- extras ------------------------------------------------------------------------------------

    async def send_direct(self, messages: Sequence[OutboxMessage]) -> None:
        """One best-effort attempt to send messages that could not be written to the outbox (the store
        itself is failing). Their outbox copies are still delivered later, with the same idempotency key."""
        for m in messages:
            channel = self.channels.get(m.channel)
            if channel is None:
                continue
            try:
                await channel.send(m.payload)
                log.info("notification_sent_direct channel=%s alert=%s message=%s", m.channel, m.alert_key,
                         m.message_id)
            except Exception as exc:
                log.warning("notification_direct_failed channel=%s alert=%s error=%s", m.channel, m.alert_key, exc)

    async def refresh_alertmanager(self, stop: asyncio.Event, firing: Callable[[str], list[dict[str, Any]]]) -> None:
        """Re-push firing alerts to every Alertmanager channel each ``resend_interval`` (see its module)."""
        managers = [c for c in self.channels.values() if isinstance(c, AlertmanagerChannel)]
        if not managers:
            return
        interval = min(c.resend_interval for c in managers)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
                return
            except TimeoutError:
                pass
            for channel in managers:
                try:
                    await channel.refresh(firing(channel.name))
                except Exception as exc:  # the outbox still carries fire and resolve; this only keeps them alive
                    log.warning("alertmanager_refresh_failed channel=%s error=%s", channel.name, exc)

    async def aclose(self) -> None:
        for channel in self.channels.values():
            try:
                await channel.aclose()
            except Exception:
                log.exception("channel_close_failed channel=%s", channel.name)
