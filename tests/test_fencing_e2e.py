"""Fencing end to end, all real: shard 0/2's active and its standby (`wifimon run` processes, one working
directory, so one crash journal) on a fresh PostgreSQL database and a simulated fleet on loopback.

The active pages a site down to a webhook that keeps failing, so the page waits in its delivery lane; then it
is frozen (SIGSTOP) for longer than its lease. The standby takes over and delivers the page. The old active,
woken (SIGCONT) with a stale lease, a due retry and a due Alertmanager re-push, must write nothing (its run's
rows and the outbox rows are as they were), send nothing, and exit 1 with the lease-lost message.

The two instances read two copies of one config that differ only in where their channels point (a receiver
each), so that whatever the woken one sends is seen as its own.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select, text

from monitor.cli.simulate import send_fault
from monitor.store import Store
from monitor.store.schema import EventRow, MonitorRun, OutboxRow, TransitionRow, UsageFlushRow
from tests import test_scale_out
from tests.alerting_helpers import Receiver
from tests.e2e import _stop, simulator, wait_until
from tests.test_scale_out import Instance, _fleet

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

database = test_scale_out.database
PROBE = 3.0
TTL = 3.0  # the lease: the freeze below lasts longer, until the standby is ready


def configs(tmp: Path, db_url: str, receivers: dict[str, Receiver]) -> tuple[dict[str, Path], str]:
    """One city's config per instance, channels pointing at its own receiver; the site to take down."""
    base, by_shard = _fleet(tmp, db_url, [], aps_per_shard=20)
    doc = yaml.safe_load(base.read_text(encoding="utf-8"))
    doc["service"].update(probe_interval=PROBE, lease_ttl=TTL, recheck_interval=0.5,
                          snmp={"timeout": 0.5, "retries": 0})
    paths = {}
    for name, hook in receivers.items():
        doc["alerting"] = {
            "channels": {"hook": {"type": "webhook", "url": f"{hook.url}/hook"},
                         "am": {"type": "alertmanager", "url": hook.url, "resend_interval": 1}},
            "delivery": {"backoff": 0.5, "max_backoff": 1},
        }
        paths[name] = tmp / f"{name}.yaml"
        paths[name].write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return paths, by_shard[0][0]


def written_by(store: Store, run_id: int, pid: int) -> dict[str, Any]:
    """What the old active's run has in the store: its run row, transitions, events, usage flushes, and the
    state of every outbox row."""
    with store.engine.connect() as conn:
        def count(table: Any, *where: Any) -> int:
            return int(conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)

        run = conn.execute(select(MonitorRun.last_heartbeat_at, MonitorRun.stopped_at)
                           .where(MonitorRun.id == run_id)).one()
        return {
            "run": tuple(run),
            "transitions": count(TransitionRow, TransitionRow.run_id == run_id),
            "events": count(EventRow, EventRow.run_id == run_id),
            "usage_flushes": count(UsageFlushRow, UsageFlushRow.flush_id.like(f"{pid}-%")),
            "outbox": sorted(conn.execute(select(OutboxRow.message_id, OutboxRow.attempts, OutboxRow.delivered_at,
                                                 OutboxRow.given_up_at, OutboxRow.last_error)).all()),
        }


def test_a_stalled_active_woken_after_the_takeover_writes_nothing_sends_nothing_and_exits(tmp_path: Path,
                                                                                          database: str):
    old_hook, new_hook = Receiver(), Receiver()
    old_hook.respond = lambda r: (503, b'{"error": "try later"}') if r.path == "/hook" else (200, b"{}")
    paths, site = configs(tmp_path, database, {"a": old_hook, "b": new_hook})
    store = Store(database)
    with simulator(paths["a"], tmp_path) as control:
        active = Instance(tmp_path, paths["a"], "active", "0/2").start()
        standby: Instance | None = None
        assert active.proc is not None
        pid = active.proc.pid
        try:
            wait_until("the active ready", active.ready, 60)
            standby = Instance(tmp_path, paths["b"], "standby", "0/2", standby=True).start()
            send_fault(f"{site}=down", control)
            wait_until("the active's page failing", lambda: any(
                r.path == "/hook" for r in old_hook.received(503)), 60)
            wait_until("the firing alert pushed to Alertmanager", lambda: any(
                r.path == "/api/v2/alerts" for r in old_hook.received()), 30)
            [old_run] = [r.id for r in store.runs(0, time.time() + 60)]

            os.kill(pid, signal.SIGSTOP)
            frozen = time.monotonic()
            wait_until("the standby ready (it took the lease over)", standby.ready, 60)
            assert time.monotonic() - frozen > TTL
            wait_until("the standby delivered the page", lambda: any(r.path == "/hook" for r in new_hook.received()),
                       30)
            before = written_by(store, old_run, pid)
            woken = time.time()
            os.kill(pid, signal.SIGCONT)
            code = active.proc.wait(30)
            log = (tmp_path / "active.log").read_text()

            assert code == 1, log[-3000:]
            assert "lease lost to another instance; stopped watching" in log and "event=lease_lost" in log
            assert "Traceback" not in log
            assert [(r.path, r.at - woken) for r in old_hook.received(None) if r.at >= woken] == []  # sent nothing
            assert written_by(store, old_run, pid) == before  # wrote nothing
            assert before["run"][1] is None  # not even the end of its run: its watch ended at its last heartbeat
            pages = Counter(r.json()["id"] for r in new_hook.received() if r.path == "/hook")
            assert pages and set(pages.values()) == {1}, pages  # the on-call got the page once
            outages = [o for o in store.open_outages() if o.entity == site and str(o.scope) == "site"]
            assert len(outages) == 1 and outages[0].run_id == old_run, outages  # the same outage, still open
            assert standby.ready()
        finally:
            if active.proc.poll() is None:
                os.kill(pid, signal.SIGCONT)
            for instance in (active, standby):
                if instance is not None and instance.proc is not None:
                    _stop(instance.proc)
            store.close()
            old_hook.close()
            new_hook.close()


def test_an_active_whose_write_is_refused_stops_at_once_and_says_it_was_fenced(tmp_path: Path, database: str):
    """The database's fence on its own (the process's clock says its lease is fine): the lease is taken
    behind the active's back just after one of its renewals (a 30 s lease: the next is 10 s away), so its next
    write (the transitions of its first probe round, or a heartbeat: every 5 s) is the first to find out.
    Refused, rolled back, and the instance stops."""
    config, _ = _fleet(tmp_path, database, [], aps_per_shard=20)
    doc = yaml.safe_load(config.read_text(encoding="utf-8"))
    doc["service"].update(probe_interval=30, lease_ttl=30)
    config.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    store = Store(database)

    def expiry() -> Any:
        with store.engine.connect() as conn:
            return conn.scalar(text("SELECT expires_at FROM leases WHERE name = 'shard 0/2'"))

    with simulator(config, tmp_path):
        active = Instance(tmp_path, config, "active", "0/2").start()
        assert active.proc is not None
        try:
            first = expiry()  # it holds the lease and writes (its first probe round is still going: no matter)
            wait_until("a renewal", lambda: expiry() != first, 30, every=0.05)
            with store.engine.begin() as conn:
                taken = conn.scalar(text("UPDATE leases SET holder = 'thief', expires_at = now() + interval '1 hour' "
                                         "WHERE name = 'shard 0/2' RETURNING now()"))
                # After the UPDATE, in its transaction: a write of the active in flight waits for it, then is refused.
                rows = conn.scalar(select(func.count()).select_from(TransitionRow))
            code = active.proc.wait(15)  # its next write, then a clean stop; the next renewal is 10 s away
            log = (tmp_path / "active.log").read_text()
            assert code == 1, log[-3000:]
            assert "event=store_write_fenced" in log and "event=store_writer_fenced" in log
            assert 'event=lease_lost lease="shard 0/2"' in log and "reason=fenced now=thief" in log
            assert "lease lost to another instance; stopped watching" in log and "Traceback" not in log
            [run] = store.runs(0, time.time() + 60)
            assert run.watched_until < taken.timestamp() and run.stopped_at is None  # no write after the theft
            with store.engine.connect() as conn:
                assert conn.scalar(select(func.count()).select_from(TransitionRow)) == rows
        finally:
            _stop(active.proc)
            store.close()
