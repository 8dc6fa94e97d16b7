"""A polling round keeps its cadence: a device still busy when the interval ends (a timeout on a loaded
CPU) finishes in the background and is skipped by the next round, which starts on time. Waiting for it
made the scheduler skip the whole next round, and a 38 s site outage went unseen (bench/soak.py)."""

from __future__ import annotations

import asyncio
import time

from prometheus_client import CollectorRegistry

from collectors.types import Target, V2cCredentials
from monitor.config.model import AccessPoint, Site
from monitor.domain.vocabulary import Scope
from monitor.exposition.metrics import ServiceMetrics
from monitor.polling.entry import Entry
from monitor.polling.rounds import run_round


def _entries(n: int) -> list[Entry]:
    aps = tuple(AccessPoint(id=f"ap{i}", address="127.0.0.1", credentials="c") for i in range(n))
    site = Site(id="s", name="s", category="park", aps=aps)
    return [Entry(site, ap, Target(ap.id, "127.0.0.1", 1161, V2cCredentials("c"), timeout=0.05, retries=0),
                  Scope.AP) for ap in aps]


async def test_a_device_busy_past_the_interval_does_not_hold_up_the_next_round():
    registry = CollectorRegistry()
    metrics = ServiceMetrics(registry, "test")
    entries = _entries(3)
    release = asyncio.Event()
    handled: list[str] = []

    async def fn(entry: Entry) -> None:
        handled.append(entry.id)
        if entry.id == "ap0" and handled.count("ap0") == 1:
            await release.wait()  # stuck until told: longer than any interval

    stragglers: dict[str, asyncio.Task[None]] = {}
    t0 = time.monotonic()
    await run_round("probe", 0.4, 0.5, entries, fn, metrics, time.time, stragglers)
    assert time.monotonic() - t0 < 0.4  # back within its interval, ap0 still busy
    assert set(stragglers) == {"ap0"} and not stragglers["ap0"].done()
    assert registry.get_sample_value("wifimon_round_overruns_total", {"round": "probe"}) == 0  # not yet
    await run_round("probe", 0.4, 0.5, entries, fn, metrics, time.time, stragglers)
    assert sorted(handled) == ["ap0", "ap1", "ap1", "ap2", "ap2"]  # ap0 not probed twice at once
    # Still busy when the next round began: the first round overran its interval.
    assert registry.get_sample_value("wifimon_round_overruns_total", {"round": "probe"}) == 1
    release.set()
    await asyncio.wait_for(stragglers["ap0"], 1.0)
    await run_round("probe", 0.4, 0.5, entries, fn, metrics, time.time, stragglers)
    assert handled.count("ap0") == 2 and stragglers == {}


async def test_a_cancelled_round_leaves_no_task_behind():
    metrics = ServiceMetrics(CollectorRegistry(), "test")
    started = asyncio.Event()

    async def fn(entry: Entry) -> None:
        started.set()
        await asyncio.sleep(60)

    stragglers: dict[str, asyncio.Task[None]] = {}
    task = asyncio.get_running_loop().create_task(
        run_round("metrics", 10.0, 0.0, _entries(2), fn, metrics, time.time, stragglers))
    await asyncio.wait_for(started.wait(), 1.0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert stragglers == {}
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("metrics-")] == []
