"""One polling round: every due device handled once, start times spread over the interval, timed and counted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from monitor.polling.entry import Entry
from monitor.exposition.metrics import ServiceMetrics

log = logging.getLogger(__name__)


async def run_round(name: str, interval: float, spread: float, entries: Sequence[Entry],
                    fn: Callable[[Entry], Awaitable[None]], metrics: ServiceMetrics,
                    clock: Callable[[], float], stragglers: dict[str, asyncio.Task[None]]) -> None:
    """Run ``fn`` once on each entry, their starts spread evenly over ``interval × spread``.

    The round returns by the end of its interval even if some devices are not done (timeouts under a
    loaded CPU): those finish in the background, kept in ``stragglers`` (by entry id) for the caller to
    cancel at close, and the next round skips them while they last. Waiting for them instead made the
    scheduler skip the whole next round: every device probed at half the rate, and an outage shorter
    than two intervals could pass unseen (found by bench/soak.py: a 38 s site outage never reported).
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    for key in [k for k, t in stragglers.items() if t.done()]:
        del stragglers[key]
    busy = [e.id for e in entries if e.id in stragglers]
    if busy:  # the last round did not finish within its interval: that is an overrun
        metrics.round_overruns.labels(name).inc()
        log.warning("round_overrun round=%s interval=%.0fs devices_still_busy=%d first=%s",
                    name, interval, len(busy), busy[0])
        entries = [e for e in entries if e.id not in stragglers]
    width = interval * spread / max(len(entries), 1)

    async def one(i: int, entry: Entry) -> None:
        # A device that may take timeout × attempts to fail starts early enough to finish well before the
        # round's deadline (0.9 of the interval), leaving room for a loaded CPU.
        wait = entry.target.timeout * (entry.target.retries + 1)
        offset = min(i * width, max(0.0, interval * 0.75 - wait))
        await asyncio.sleep(max(0.0, start + offset - loop.time()))
        try:
            await fn(entry)
        except Exception:  # one broken device or bug must not end the round for the others
            log.exception("device_round_failed round=%s device=%s", name, entry.id)

    tasks = {e.id: loop.create_task(one(i, e), name=f"{name}-{e.id}") for i, e in enumerate(entries)}
    pending: set[asyncio.Task[None]] = set()
    try:
        if tasks:
            # Back well before the scheduler's next start (it fires every ``interval``; this one may have
            # started late on a busy loop).
            _, pending = await asyncio.wait(tasks.values(), timeout=max(0.0, start + interval * 0.9 - loop.time()))
    except BaseException:  # cancelled (shutdown): nothing of this round outlives it
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        raise
    stragglers.update((key, task) for key, task in tasks.items() if task in pending)
    took = loop.time() - start
    m = metrics
    m.round_duration.labels(name).observe(took)
    m.rounds.labels(name).inc()
    m.last_round.labels(name).set(clock())
    log.debug("round_done round=%s took=%.2fs devices=%d unfinished=%d", name, took, len(entries), len(pending))
