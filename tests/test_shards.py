"""Shards and leases, pure: the stable site hash, per-shard monitoring gaps, the lease decisions (time as a
parameter), and the config's refusals (located)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.domain.records import RunRecord
from monitor.domain.shards import (
    Lease,
    Shard,
    lease_action,
    lease_lost,
    parse_shard,
    shard_of,
    site_gaps,
    taking_over,
    unwatched,
)

from tests import dbs

store_url = dbs.store_url
T0 = 1_790_000_000.0


def run(rid: int, start: float, end: float, shard: tuple[int, int] | None = None, *, stopped: bool = True) -> RunRecord:
    return RunRecord(rid, T0 + start, T0 + end, T0 + end if stopped else None, "h", "v", shard)


def test_shard_of_is_sha256_of_the_id_and_spreads_sites():
    digest = int.from_bytes(hashlib.sha256(b"gs-0001").digest()[:8], "big")
    assert shard_of("gs-0001", 7) == digest % 7
    counts = [0, 0, 0]
    for i in range(3000):
        counts[shard_of(f"gs-{i:04d}", 3)] += 1
    assert all(900 < c < 1100 for c in counts), counts
    assert Shard(1, 3).owns("gs-0001") == (shard_of("gs-0001", 3) == 1)


@pytest.mark.parametrize(("text", "why"), [("2/2", "0 ≤ index < count"), ("0/0", "0 ≤ index < count"),
                                           ("1", "INDEX/COUNT"), ("a/2", "INDEX/COUNT"), ("-1/2", "INDEX/COUNT")])
def test_parse_shard_refuses(text: str, why: str):
    with pytest.raises(ValueError, match=why):
        parse_shard(text)


def test_parse_shard():
    assert parse_shard("1/4") == Shard(1, 4) and Shard(1, 4).label == "1/4"


def test_unwatched_merges_overlapping_runs():
    runs = [run(1, 0, 100), run(2, 50, 150), run(3, 200, 250)]
    assert unwatched(runs, T0 - 10, T0 + 300) == [(T0 - 10, T0), (T0 + 150, T0 + 200), (T0 + 250, T0 + 300)]
    assert unwatched(runs, T0 + 10, T0 + 90) == []


def test_a_site_is_unknown_only_while_its_own_shard_was_not_watched():
    a = next(f"s{i}" for i in range(100) if shard_of(f"s{i}", 2) == 0)
    b = next(f"s{i}" for i in range(100) if shard_of(f"s{i}", 2) == 1)
    # Before sharding one run watched everything; then shard 0 ran throughout, shard 1 stopped at 300.
    runs = [run(1, 0, 100), run(2, 100, 1000, (0, 2)), run(3, 100, 300, (1, 2), stopped=False)]
    gaps = site_gaps(runs, [a, b], T0, T0 + 1000)
    assert gaps[a] == ()
    assert gaps[b] == ((T0 + 300, T0 + 1000),)


def test_site_gaps_without_shards_are_the_merged_runs():
    runs = [run(1, 0, 100), run(2, 200, 300)]
    assert site_gaps(runs, ["x", "y"], T0, T0 + 300) == {"x": ((T0 + 100, T0 + 200),), "y": ((T0 + 100, T0 + 200),)}


def test_lease_decisions():
    assert lease_action(None, "me", T0) == "acquire"
    assert lease_action(Lease("other", T0 + 5), "me", T0) == "wait"
    assert lease_action(Lease("other", T0), "me", T0) == "acquire"  # expired exactly now
    assert lease_action(Lease("me", T0 + 5), "me", T0) == "renew"
    assert lease_action(Lease("me", T0 - 1), "me", T0) == "acquire"  # mine, but lapsed: someone may have acted


def test_the_active_gives_up_once_its_last_renewal_is_as_old_as_the_lease():
    assert not lease_lost(T0, T0 + 9.9, ttl=10)
    assert lease_lost(T0, T0 + 10, ttl=10)
    assert lease_lost(None, T0, ttl=10)


def test_taking_over_keeps_outages_open_only_after_a_recent_holder():
    assert taking_over(Lease("old", T0 - 3), T0, grace=15)
    assert not taking_over(Lease("old", T0 - 60), T0, grace=15)
    assert not taking_over(None, T0, grace=15)


def _config(tmp_path: Path, store: str, service: str) -> Path:
    path = tmp_path / "w.yaml"
    path.write_text(f"""\
service:
  store_url: {store}
{service}
credentials:
  c: {{version: "2c", community: {{env: HOME}}}}
sites:
""" + "".join(f"  - {{id: s{i}, name: S, category: park, aps: [{{id: a{i}, address: '127.0.0.1:{1000 + i}', "
              f"credentials: c}}]}}\n" for i in range(20)), encoding="utf-8")
    return path


def test_check_config_prints_each_shards_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = _config(tmp_path, "postgresql://postgres@127.0.0.1/x", "  shard: {index: 1, count: 3}")
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    sizes = [sum(shard_of(f"s{i}", 3) == k for i in range(20)) for k in range(3)]
    for k in range(3):
        assert f"shard {k}/3: {sizes[k]} sites, {sizes[k]} APs" in out
    assert "shard 1/3" in [line for line in out.splitlines() if "this instance" in line][0]


@pytest.mark.parametrize(("service", "expected"), [
    ("  shard: {index: 0, count: 2}", ":3: service.shard: 2 shards need a shared PostgreSQL store"),
    ("  standby: true", ":3: service.standby: a standby needs a shared PostgreSQL store"),
    ("  shard: {index: 2, count: 2}", ":3: service.shard: index 2 is not below count 2"),
])
def test_check_config_refuses_shards_on_sqlite_and_bad_indexes(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              service: str, expected: str):
    path = _config(tmp_path, "sqlite:///w.db", service)
    assert main(["check-config", str(path)]) == 1
    assert f"{path}{expected}" in capsys.readouterr().err


def test_run_refuses_a_bad_shard_option_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = _config(tmp_path, "sqlite:///w.db", "")
    assert main(["run", str(path), "--shard", "2/2"]) == 1
    assert "--shard '2/2': shard 2/2: want 0 ≤ index < count" in capsys.readouterr().err
    assert main(["run", str(path), "--shard", "0/2"]) == 1
    assert "--shard: 2 shards need a shared PostgreSQL store" in capsys.readouterr().err


# -- against the store (SQLite and PostgreSQL) ------------------------------------------------------------


def test_the_report_counts_a_site_unknown_only_while_its_own_shard_was_not_running(store_url: str):
    from monitor.report.build import gather, month_period, site_timelines
    from monitor.domain.vocabulary import Scope, Transition
    from monitor.store import Store
    from tests.alerting_helpers import make_site

    a = next(f"s{i}" for i in range(100) if shard_of(f"s{i}", 2) == 0)
    b = next(f"s{i}" for i in range(100) if shard_of(f"s{i}", 2) == 1)
    period = month_period("2026-10", "Asia/Seoul", T0 + 10**7)
    start = period.start
    whole = Store(store_url)
    whole.migrate()
    old = whole.start_run(start)  # before sharding: one instance watched everything for an hour
    whole.record_transitions([Transition(Scope.SITE, sid, sid, "unknown", "up", start) for sid in (a, b)], old)
    whole.stop_run(old, start + 3600)
    shard0, shard1 = Store(store_url, shard=Shard(0, 2)), Store(store_url, shard=Shard(1, 2))
    r0 = shard0.start_run(start + 3600)
    shard0.heartbeat(r0, period.end - 1)  # shard 0 watched to the month's end (crashed just before)
    r1 = shard1.start_run(start + 3600)
    shard1.stop_run(r1, start + 7200)  # shard 1 stopped after an hour
    assert [r.shard for r in whole.runs(start, period.end)] == [None, (0, 2), (1, 2)]
    assert whole.gaps(start, period.end, site=a) == [(period.end - 1, period.end)]
    assert whole.gaps(start, period.end, site=b) == [(start + 7200, period.end)]
    assert whole.gaps(start, period.end) == [(period.end - 1, period.end)]  # any run: the old merged view

    from monitor.config.model import Config

    config = Config(sites=(make_site(a, 1), make_site(b, 1)))
    history = gather(whole, period, usage=False, sites=[a, b])
    sites, _ = site_timelines(config, history, period, with_aps=False)
    unknown = {sid: sum(e - s for s, e in tl.unknown) for sid, tl in sites.items()}
    assert unknown == {a: 1.0, b: period.end - start - 7200}  # each only its own shard's gap
    assert history.gaps[0] == (start + 7200, period.end)  # the report's gap list: part of the inventory unwatched
    for s in (whole, shard0, shard1):
        s.close()


def test_one_lease_holder_at_a_time(store_url: str):
    from monitor.store import Store

    store = Store(store_url)
    store.migrate()
    action, found, now = store.lease("shard 0/2", "a", 5.0)
    assert (action, found) == ("acquire", None)
    assert store.lease("shard 0/2", "b", 5.0)[0] == "wait"
    assert store.lease("shard 0/2", "a", 5.0)[0] == "renew"
    assert not store.release("shard 0/2", "b")  # not b's: nothing happens
    assert store.lease("shard 0/2", "b", 5.0)[0] == "wait"
    assert store.release("shard 0/2", "a")
    action, found, _ = store.lease("shard 0/2", "b", 5.0)
    assert action == "acquire" and found is not None and found.holder == "a"
    store.close()


async def test_a_standby_takes_the_lease_once_the_active_stops_renewing_and_the_active_then_gives_up(
        store_url: str):
    import asyncio
    import time

    from monitor.lease import ShardLease
    from monitor.store import Store

    store = Store(store_url)
    store.migrate()
    active, standby = ShardLease(store, "shard 1/2", 1.0), ShardLease(store, "shard 1/2", 1.0)
    stop = asyncio.Event()
    assert await active.acquire(stop, standby=False) and active.previous is None
    waiting = asyncio.create_task(standby.acquire(stop, standby=True))
    for _ in range(6):  # the active renews every ttl/3: the standby keeps waiting
        await asyncio.sleep(active.every)
        assert await active.renew()
    assert not waiting.done()
    stopped = time.monotonic()  # the active dies: no more renewals
    assert await asyncio.wait_for(waiting, 5)
    took = time.monotonic() - stopped
    assert 1.0 - 0.1 <= took <= 1.0 + standby.every + 0.5, took  # the lease lapsed, then the next check
    assert standby.previous is not None and standby.previous.holder == active.holder
    assert standby.takeover(grace=2.0)
    assert not await active.renew()  # it comes back: another holds the lease, it must stop
    stop.set()
    assert not await ShardLease(store, "shard 1/2", 1.0).acquire(stop, standby=False)  # told to stop: gives up
    store.close()
