"""Delivery: the outbox → channels, at least once, in order per alert and channel; no channel waits for
another, and no page waits for the store.

Each channel has a lane of its own (one task). A lane's queue is the channel's pending rows in the outbox
plus the messages the alerter handed over (:meth:`Delivery.enqueue`) that the store has not taken yet: the
alerter hands every message over at the moment it queues the message's write, so a page goes out while the
database is down and is recorded when it is back. Of each alert's messages only the oldest undelivered one
is sent, so an alert's messages reach a channel in the order they were decided.

A working lane sends everything due, ``concurrency`` at a time; a message that failed waits its own
backoff. When a whole pass fails the lane is *failing*: it tries one message at a time (the one tried
longest ago) after a backoff doubling from ``backoff`` to ``max_backoff`` (30 s; longer if the peer sent
Retry-After), and the first success ends that: the whole queue is due at once. A dead channel holds back
only its own lane.

A message still undelivered ``give_up_after`` seconds after it was decided is given up: marked in the store
with the reason, counted (``wifimon_notifications_total{result="given_up"}``), listed by
``wifimon alerts --undelivered`` and announced on the other channels (the ``service_undelivered`` rule).
At start, the pending rows of channels no longer in the config are given up the same way.

A shard's active sends only while it holds the shard's lease (``gate``): before each pass that sends, and
before each Alertmanager re-push, the database is asked who holds it (``confirm``: a wait of at most
READ_WAIT_SECONDS; while the database does not answer, the local clock decides), and just before each send
the lease's own clock is (``held``). An instance woken past its lease, even from a pause that stopped its
clock, sends nothing the new holder also sends; its marks, if any got that far, are refused by the store's
fence.

Store writes (delivered marks, failed attempts, give-ups) go through the store writer, behind the write of
the message itself, so a mark never precedes its row. Outbox reads run on the store's threads; while the store
cannot be read a lane goes on with what it read last and what it was handed. A process killed at any point
leaves the undelivered messages in the store (or in the writer's journal) and the next run sends them; a
message sent but not yet marked is sent again with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from monitor.alerting.channels import Channel, ChannelError
from monitor.alerting.channels.alertmanager import AlertmanagerChannel
from monitor.alerting.settings import DeliverySettings
from monitor.store import (
    OutboxMessage,
    Store,
    StoreError,
    outbox_delivered,
    outbox_depth,
    outbox_failed,
    outbox_give_up,
    outbox_give_up_channels,
    pending_outbox,
)
from monitor.store.writer import StoreWriter

log = logging.getLogger(__name__)

IDLE_SECONDS = 5.0  # re-read the outbox at least this often, even without a wake-up
READ_WAIT_SECONDS = 1.0  # a lane waits this long for an outbox read before it goes on with what it has
SEND_LIMIT_SECONDS = 120.0  # channels time out on their own; this only catches one that forgot to
RETRY_AFTER_LIMIT_SECONDS = 3600.0  # a peer's Retry-After is honoured up to this, even past max_backoff
GIVEN_UP_KEPT = 100  # batches of given-up messages remembered per channel (for the service_undelivered rule)


class Gate(Protocol):
    """Whether this instance may send: ``monitor.lease.ShardLease`` for a shard's active."""

    def held(self) -> bool:
        """By the local clock, no I/O."""

    async def confirm(self, timeout: float) -> bool:
        """By the database, waiting at most ``timeout``; the local clock if it does not answer."""


class _Pending:
    """Message ids whose store write is queued: they must not be taken from a read of the store until a
    read that started after the write was confirmed (that read shows the write)."""

    def __init__(self) -> None:
        self._ids: dict[str, int | None] = {}  # message id → confirmation number, None while the write waits
        self._confirmed = 0

    def __contains__(self, mid: object) -> bool:
        return mid in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def ids(self) -> set[str]:
        return set(self._ids)

    def add(self, mid: str) -> None:
        self._ids[mid] = None

    def confirm(self, mids: Iterable[str]) -> None:
        self._confirmed += 1
        for mid in mids:
            if mid in self._ids:
                self._ids[mid] = self._confirmed

    def mark(self) -> int:
        """Before a read: what has been confirmed so far."""
        return self._confirmed

    def settle(self, mark: int) -> list[str]:
        """After a read that started at ``mark``: forget (and return) what that read already shows."""
        done = [mid for mid, n in self._ids.items() if n is not None and n <= mark]
        for mid in done:
            del self._ids[mid]
        return done


@dataclass
class _Lane:
    """One channel's queue and health."""

    channel: Channel
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    stored: list[OutboxMessage] = field(default_factory=list)  # its pending rows as last read, oldest first
    stored_count: int = 0  # how many pending rows the store had at that read
    fresh: dict[str, OutboxMessage] = field(default_factory=dict)  # handed over, maybe not in the store yet
    saving: _Pending = field(default_factory=_Pending)  # fresh messages whose row write is queued
    done: _Pending = field(default_factory=_Pending)  # sent or given up; the store may not show it yet
    not_before: dict[str, float] = field(default_factory=dict)  # message id → its own retry time
    tried: dict[str, float] = field(default_factory=dict)  # message id → last attempt (while failing)
    attempts: dict[str, int] = field(default_factory=dict)  # failed attempts, as this run counted them
    failing_since: float | None = None
    last_error: str = ""
    failures: int = 0  # consecutive failed passes
    retry_at: float = 0.0
    read_failed_at: float | None = None
    reading: asyncio.Future[tuple[list[OutboxMessage], int]] | None = None
    given_up: deque[tuple[float, int, str]] = field(default_factory=lambda: deque(maxlen=GIVEN_UP_KEPT))

    @property
    def name(self) -> str:
        return self.channel.name


class Delivery:
    """Sends the outbox. ``on_result(channel, result)`` counts outcomes ('delivered', 'failed' or
    'given_up'); ``on_depth(n)`` reports how many messages wait."""

    RESULTS = ("delivered", "failed", "given_up")

    def __init__(self, store: Store, channels: dict[str, Channel], settings: DeliverySettings, *,
                 writer: StoreWriter,
                 on_result: Callable[[str, str], None] = lambda c, r: None,
                 on_depth: Callable[[int], None] = lambda n: None,
                 clock: Callable[[], float] = time.time,
                 gate: Gate | None = None):
        self._store = store
        self._writer = writer
        self.channels = channels
        self._cfg = settings
        self._on_result = on_result
        self._on_depth = on_depth
        self._clock = clock
        self._gate = gate
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lanes = {name: _Lane(channel) for name, channel in channels.items()}
        self.store_failing_since: float | None = None  # outbox reads fail since then

    # -- signals -----------------------------------------------------------------------------------

    def wake(self) -> None:
        """Look at the outbox now (safe from any thread)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        for lane in self._lanes.values():
            lane.wake.set()

    def channel_health(self) -> dict[str, tuple[float, str]]:
        """Channels whose deliveries fail: since when, and the last error."""
        return {n: (lane.failing_since, lane.last_error) for n, lane in self._lanes.items()
                if lane.failing_since is not None}

    def given_up(self) -> dict[str, list[tuple[float, int, str]]]:
        """Per channel, the batches of messages given up in this run: (when, how many, why)."""
        return {n: list(lane.given_up) for n, lane in self._lanes.items() if lane.given_up}

    def depth(self) -> int:
        return sum(self._lane_depth(lane) for lane in self._lanes.values())

    # -- handing over ------------------------------------------------------------------------------

    def enqueue(self, messages: Sequence[OutboxMessage], saved: Future[Any]) -> None:
        """Messages whose outbox write was just queued (``saved`` completes when it is written): send them
        now, without waiting for the store. Call on the event loop."""
        taken = []
        for m in messages:
            lane = self._lanes.get(m.channel)
            if lane is None:
                continue
            lane.fresh[m.message_id] = m
            lane.saving.add(m.message_id)
            taken.append((lane, m.message_id))
        try:
            loop = self._loop or asyncio.get_running_loop()
        except RuntimeError:  # not running (a test evaluating by hand): the next read finds them in the store
            return

        def written(f: Future[Any]) -> None:
            if f.cancelled() or f.exception() is not None:
                return  # never written (the writer set it aside or closed): it lives in memory only
            loop.call_soon_threadsafe(self._saved, taken)

        saved.add_done_callback(written)
        for lane, _ in taken:
            lane.wake.set()

    def _saved(self, taken: list[tuple[_Lane, str]]) -> None:
        for lane, mid in taken:
            lane.saving.confirm([mid])
            lane.wake.set()

    # -- the loop ----------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """One task per channel until ``stop``; first, give up what removed channels left."""
        self._loop = asyncio.get_running_loop()
        removed = self._writer.submit(outbox_give_up_channels, self._store, list(self.channels), self._clock(),
                                      "channel removed from the config")
        removed.add_done_callback(self._removed_channels)
        async with asyncio.TaskGroup() as tg:
            for lane in self._lanes.values():
                tg.create_task(self._run_lane(lane, stop), name=f"delivery-{lane.name}")

    def _removed_channels(self, f: Future[dict[str, int]]) -> None:
        if f.cancelled() or f.exception() is not None:
            return
        for channel, count in sorted(f.result().items()):
            log.warning("outbox_channel_removed channel=%s given_up=%d (no longer configured)", channel, count)
            for _ in range(count):
                self._on_result(channel, "given_up")

    async def _run_lane(self, lane: _Lane, stop: asyncio.Event) -> None:
        while not stop.is_set():
            lane.wake.clear()
            try:
                wait = await self._pass(lane)
            except Exception:  # a bug must not end delivery for good
                log.exception("delivery_pass_failed channel=%s", lane.name)
                wait = IDLE_SECONDS
            if wait <= 0:
                continue
            stopping = asyncio.ensure_future(stop.wait())
            woken = asyncio.ensure_future(lane.wake.wait())
            try:
                await asyncio.wait({stopping, woken}, timeout=min(wait, IDLE_SECONDS),
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (stopping, woken):
                    task.cancel()
                await asyncio.gather(stopping, woken, return_exceptions=True)

    async def _pass(self, lane: _Lane) -> float:
        """One pass over a lane: give up what is too old, send what is due; seconds until something is."""
        await self._refresh(lane)
        now = self._clock()
        queue = self._queue(lane)
        old = [m for m in queue if now - m.created_at >= self._cfg.give_up_after]
        if old:
            self._give_up(lane, old, now)
            return 0.0
        self._on_depth(self.depth())
        heads: dict[str, OutboxMessage] = {}
        for m in queue:
            heads.setdefault(m.alert_key, m)
        if not heads:
            return IDLE_SECONDS
        if lane.failing_since is not None:
            if now < lane.retry_at:
                return lane.retry_at - now
            due = [min(heads.values(), key=lambda m: lane.tried.get(m.message_id, 0.0))]
        else:
            due = [m for m in heads.values() if lane.not_before.get(m.message_id, 0.0) <= now]
            if not due:
                return min(lane.not_before.get(m.message_id, 0.0) for m in heads.values()) - now
        if self._gate is not None and not await self._gate.confirm(READ_WAIT_SECONDS):
            log.warning("delivery_held channel=%s queued=%d reason=lease_not_held", lane.name, len(queue))
            return IDLE_SECONDS  # another instance holds the lease (or will): it sends these
        sem = asyncio.Semaphore(self._cfg.concurrency)

        async def one(m: OutboxMessage) -> tuple[bool, float | None] | None:
            async with sem:
                if self._gate is not None and not self._gate.held():  # lapsed while the pass went on
                    return None
                return await self._send(lane, m)

        sent = await asyncio.gather(*(one(m) for m in due))
        results = [r for r in sent if r is not None]
        if len(results) < len(sent):
            log.warning("delivery_held channel=%s queued=%d reason=lease_not_held", lane.name, len(queue))
            return IDLE_SECONDS
        now = self._clock()
        if any(ok for ok, _ in results):
            if lane.failing_since is not None:
                log.info("channel_recovered channel=%s failing_for=%.0fs queued=%d", lane.name,
                         now - lane.failing_since, self._lane_depth(lane))
                lane.not_before.clear()  # it answers again: everything queued goes now
                lane.tried.clear()
            lane.failing_since, lane.failures, lane.retry_at = None, 0, 0.0
            return 0.0
        lane.failures += 1
        delay = float(min(self._cfg.max_backoff, self._cfg.backoff * 2 ** (lane.failures - 1)))
        delay *= random.uniform(0.9, 1.1)  # channels recovering at once should not be hit in lock-step
        retry_after = max((r for _, r in results if r is not None), default=None)
        if retry_after is not None:  # the peer said how long: only its own lane waits
            delay = max(delay, min(retry_after, RETRY_AFTER_LIMIT_SECONDS))
        if lane.failing_since is None:
            lane.failing_since = now
            log.warning("channel_failing channel=%s (%s) queued=%d retry_in=%.1fs error=%s", lane.name,
                        lane.channel.target, self._lane_depth(lane), delay, lane.last_error)
        lane.retry_at = now + delay
        return delay

    # -- the queue ---------------------------------------------------------------------------------

    async def _refresh(self, lane: _Lane) -> None:
        """Read the lane's pending rows, unless a read failed within IDLE_SECONDS; wait for the read at most
        READ_WAIT_SECONDS (a hung database must not hold the messages in memory back)."""
        now = self._clock()
        if lane.reading is None:
            if lane.read_failed_at is not None and now - lane.read_failed_at < IDLE_SECONDS:
                return
            mark = (lane.saving.mark(), lane.done.mark())
            lane.reading = asyncio.ensure_future(self._store.call(self._read, lane.name, lane.done.ids()))
            lane.reading.add_done_callback(lambda f: self._read_done(lane, f, mark))
        reading = lane.reading
        await asyncio.wait({reading}, timeout=READ_WAIT_SECONDS)

    def _read(self, channel: str, skip: set[str]) -> tuple[list[OutboxMessage], int]:
        rows = pending_outbox(self._store, self._cfg.batch, channel=channel, skip=skip)
        count = len(rows) if len(rows) < self._cfg.batch else outbox_depth(self._store, channel)
        return rows, count

    def _read_done(self, lane: _Lane, f: asyncio.Future[tuple[list[OutboxMessage], int]],
                   mark: tuple[int, int]) -> None:
        lane.reading = None
        if f.cancelled():
            return
        exc = f.exception()
        if exc is not None:
            now = self._clock()
            if lane.read_failed_at is None:
                log.warning("outbox_read_failed channel=%s error=%s retry_in=%.0fs", lane.name, exc, IDLE_SECONDS)
            if self.store_failing_since is None and isinstance(exc, StoreError):
                self.store_failing_since = now
            lane.read_failed_at = now
            if not isinstance(exc, StoreError):
                log.error("outbox_read_error channel=%s error=%r", lane.name, exc)
            return
        rows, count = f.result()
        if lane.read_failed_at is not None:
            log.info("outbox_read_recovered channel=%s", lane.name)
        lane.read_failed_at = None
        self.store_failing_since = None
        lane.stored, lane.stored_count = rows, count
        for mid in lane.saving.settle(mark[0]):
            lane.fresh.pop(mid, None)  # in the store now: this read (or a later one) has it
        lane.done.settle(mark[1])
        stored = {m.message_id for m in rows}
        for table in (lane.not_before, lane.tried, lane.attempts):
            for mid in [mid for mid in table if mid not in stored and mid not in lane.fresh]:
                del table[mid]

    def _queue(self, lane: _Lane) -> list[OutboxMessage]:
        """The lane's undelivered messages in delivery order: rows as read, then those handed over since."""
        seen: set[str] = set()
        out = []
        for m in (*lane.stored, *lane.fresh.values()):
            if m.message_id in lane.done or m.message_id in seen:
                continue
            seen.add(m.message_id)
            out.append(m)
        return out

    def _lane_depth(self, lane: _Lane) -> int:
        visible = len(self._queue(lane))
        if lane.stored_count > len(lane.stored):  # more rows than one read takes
            return lane.stored_count + sum(1 for mid in lane.fresh if mid in lane.saving) - len(lane.done)
        return visible

    # -- outcomes ----------------------------------------------------------------------------------

    async def _send(self, lane: _Lane, m: OutboxMessage) -> tuple[bool, float | None]:
        """One attempt: (delivered, the pause the peer asked for)."""
        started = self._clock()
        lane.tried[m.message_id] = started
        try:
            await asyncio.wait_for(lane.channel.send(m.payload), timeout=SEND_LIMIT_SECONDS)
        except Exception as exc:  # any failure is one failed attempt; the message stays queued
            self._failed(lane, m, exc)
            return False, exc.retry_after if isinstance(exc, ChannelError) else None
        now = self._clock()
        self._settle(lane, [m.message_id], outbox_delivered, self._store, [m.message_id], now)
        lane.not_before.pop(m.message_id, None)
        self._on_result(lane.name, "delivered")
        log.info("notification_sent channel=%s alert=%s kind=%s message=%s attempts=%d took=%.2fs",
                 lane.name, m.alert_key, m.kind, m.message_id, self._attempts(lane, m) + 1, now - started)
        return True, None

    def _attempts(self, lane: _Lane, m: OutboxMessage) -> int:
        """Failed attempts so far: the row's count, or this run's if the row does not show them yet."""
        return max(m.attempts, lane.attempts.get(m.message_id, 0))

    def _failed(self, lane: _Lane, m: OutboxMessage, exc: Exception) -> None:
        now = self._clock()
        error = str(exc) if isinstance(exc, ChannelError) else (
            f"channel {lane.name} ({lane.channel.target}): {type(exc).__name__}: {exc}")
        attempts = self._attempts(lane, m) + 1
        lane.attempts[m.message_id] = attempts
        delay = min(self._cfg.max_backoff, self._cfg.backoff * 2 ** (attempts - 1))
        retry_after = exc.retry_after if isinstance(exc, ChannelError) else None
        if retry_after is not None:
            delay = max(delay, min(retry_after, RETRY_AFTER_LIMIT_SECONDS))
        lane.not_before[m.message_id] = now + delay
        lane.last_error = error
        self._on_result(lane.name, "failed")
        log.warning("notification_failed channel=%s alert=%s message=%s attempt=%d error=%s",
                    lane.name, m.alert_key, m.message_id, attempts, error)
        self._write(outbox_failed, self._store, m.message_id, error, now + delay)

    def _give_up(self, lane: _Lane, messages: list[OutboxMessage], now: float) -> None:
        why = f"undelivered for {self._cfg.give_up_after:.0f} s" + (f"; last error: {lane.last_error}"
                                                                     if lane.last_error else "")
        ids = [m.message_id for m in messages]
        self._settle(lane, ids, outbox_give_up, self._store, ids, now, why)
        lane.given_up.append((now, len(messages), f"undelivered for {self._cfg.give_up_after:.0f} s"))
        for _ in messages:
            self._on_result(lane.name, "given_up")
        keys = sorted({m.alert_key for m in messages})
        log.error("notifications_given_up channel=%s messages=%d oldest_age=%.0fs alerts=%s%s error=%s",
                  lane.name, len(messages), max(now - m.created_at for m in messages), ",".join(keys[:5]),
                  f",+{len(keys) - 5}" if len(keys) > 5 else "", lane.last_error or "-")

    def _settle(self, lane: _Lane, ids: list[str], fn: Callable[..., Any], *args: Any) -> None:
        """The messages are done (sent or given up): out of the queue now, in the store when the writer gets
        there (behind their own rows)."""
        for mid in ids:
            lane.done.add(mid)
        future = self._write(fn, *args)
        if future is not None and self._loop is not None:
            loop = self._loop

            def confirmed(f: Future[Any]) -> None:
                if not f.cancelled() and f.exception() is None:
                    loop.call_soon_threadsafe(lane.done.confirm, ids)

            future.add_done_callback(confirmed)

    def _write(self, fn: Callable[..., Any], *args: Any) -> Future[Any] | None:
        try:
            return self._writer.submit_durable(fn, *args)
        except Exception as exc:  # the writer is closed (shutting down): the next run sends it again
            log.warning("outbox_write_refused job=%s error=%s", getattr(fn, "__name__", fn), exc)
            return None

    # -- extras ------------------------------------------------------------------------------------

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
                if self._gate is not None and not await self._gate.confirm(READ_WAIT_SECONDS):
                    break
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
