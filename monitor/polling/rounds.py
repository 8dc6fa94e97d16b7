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
                    clock: Callable[[], float]) -> None:
    """Run ``fn`` once on each entry, their starts spread evenly over ``interval × spread``."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    width = interval * spread / max(len(entries), 1)

    async def one(i: int, entry: Entry) -> None:
        # A device that may take timeout × attempts to fail starts early enough to finish in the interval.
        wait = entry.target.timeout * (entry.target.retries + 1)
        offset = min(i * width, max(0.0, interval * 0.9 - wait))
        await asyncio.sleep(max(0.0, start + offset - loop.time()))
        try:
            await fn(entry)
        except Exception:  # one broken device or bug must not end the round for the others
            log.exception("device_round_failed round=%s device=%s", name, entry.id)

    async with asyncio.TaskGroup() as tg:
        for i, entry in enumerate(entries):
            tg.create_task(one(i, entry))
    took = loop.time() - start
    m = metrics
    m.round_duration.labels(name).observe(took)  # type: ignore[union-attr]
    m.rounds.labels(name).inc()  # type: ignore[union-attr]
    m.last_round.labels(name).set(clock())  # type: ignore[union-attr]
    if took > interval:
        m.round_overruns.labels(name).inc()  # type: ignore[union-attr]
        log.warning("round_overrun round=%s took=%.1fs interval=%.0fs devices=%d", name, took, interval, len(entries))
    log.debug("round_done round=%s took=%.2fs devices=%d", name, took, len(entries))
