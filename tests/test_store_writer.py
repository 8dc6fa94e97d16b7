"""The store writer under trouble: a job the database refuses for good, a database that is away, a process
killed while it is away (the journal), a queue that fills up. Real SQLite files (and PostgreSQL where the
test takes ``store``); the database is made unreachable for real, by a directory that is not there yet."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from monitor.alerting.alerter import to_record
from monitor.alerting.model import Alert, AlertState, Rule
from monitor.domain.vocabulary import Reason, Scope, Transition
from monitor.store import Store, active_alerts, outbox_messages, save_alerting
from monitor.store.writer import StoreJobSetAside, StoreWriter, StoreWriterFull
from tests import dbs

store = dbs.store
store_url = dbs.store_url

T0 = 1_790_000_000.0


def ap(entity: str, old: str, new: str, at: float) -> Transition:
    return Transition(Scope.AP, entity, "s1", old, new, at, Reason.TIMEOUT if new == "down" else None)


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not true after {timeout}s")
        time.sleep(0.01)


def hold(writer: StoreWriter) -> threading.Event:
    """A job that holds the writer until the returned event is set, taken alone (it is running when this
    returns): what is submitted from now on waits behind it, and the writer then takes it in batches."""
    holding, gate = threading.Event(), threading.Event()

    def holder() -> None:
        holding.set()
        gate.wait(30)

    writer.submit(holder)
    assert holding.wait(10)
    return gate


def _alert(opened: float) -> AlertState:
    alert = Alert(key="site_down:market", rule=Rule.SITE_DOWN, severity="critical", since=opened - 30, site="market")
    return AlertState(alert=alert, opened_at=opened, status="firing", fired_at=opened, notified=("hook",))


class Late:
    """A migrated SQLite database in a directory that only appears when :meth:`arrive` is called."""

    def __init__(self, tmp_path: Path):
        self.ready, self.late = tmp_path / "ready", tmp_path / "late"
        self.ready.mkdir()
        prepared = Store(f"sqlite:///{self.ready / 'w.db'}")
        prepared.migrate()
        self.run = prepared.start_run(T0)
        prepared.close()
        self.url = f"sqlite:///{self.late / 'w.db'}"

    def arrive(self) -> None:
        self.ready.rename(self.late)


def test_a_job_the_database_refuses_for_good_is_set_aside_and_the_rest_goes_on(store: Store) -> None:
    """A second active instance of one alert key breaks the database's unique index (an IntegrityError,
    every time): after 3 such failures, with the next write succeeding, it is set aside instead of halting
    every write behind it."""
    run = store.start_run(T0)
    save_alerting(store, [to_record(_alert(T0))])
    writer = StoreWriter(store, backoff=0.01, max_backoff=0.02, set_aside_after=3)
    try:
        poison = writer.submit_durable(save_alerting, store, [to_record(_alert(T0 + 1))])
        after = [writer.submit_durable(store.record_transitions, [ap("a1", "up", "down", T0 + 2)], run),
                 writer.submit_durable(store.record_transitions, [ap("a1", "down", "up", T0 + 3)], run)]
        with pytest.raises(StoreJobSetAside, match="failed 3 times"):
            poison.result(timeout=20)
        assert [f.result(timeout=20) for f in after] == [1, 1]
    finally:
        assert writer.close(timeout=10)
    assert writer.set_aside == 1 and writer.failures == 3
    assert [t.transition.at for t in store.transitions(T0, T0 + 10)] == [T0 + 2, T0 + 3]
    assert [a.opened_at for a in active_alerts(store)] == [T0]


def test_a_database_that_is_away_sets_nothing_aside(tmp_path: Path) -> None:
    """Every write fails the same way while the database is away: that is not a job's fault, so the jobs wait
    in order, however many failures, and are all written when it comes back."""
    late = Late(tmp_path)
    st = Store(late.url, timeout=0.5)
    writer = StoreWriter(st, backoff=0.01, max_backoff=0.02, set_aside_after=2)
    try:
        futures = [writer.submit_durable(st.record_transitions, [ap("a1", old, new, T0 + i)], late.run)
                   for i, (old, new) in enumerate([("up", "down"), ("down", "up"), ("up", "down")])]
        wait_for(lambda: writer.failures >= 12, 30, "a dozen failed attempts")
        assert writer.set_aside == 0 and writer.depth == 3 and not any(f.done() for f in futures)
        assert writer.failing_since is not None and "unable to open database file" in writer.last_error
        late.arrive()
        assert [f.result(timeout=20) for f in futures] == [1, 1, 1]
        assert writer.failing_since is None
    finally:
        assert writer.close(timeout=10)
    assert [t.transition.at for t in st.transitions(T0, T0 + 10)] == [T0, T0 + 1, T0 + 2]
    st.close()


_KILLED = """
import sys, time
from monitor.alerting.alerter import to_record
from monitor.alerting.model import Alert, AlertState, Rule
from monitor.domain.vocabulary import Reason, Scope, Transition
from monitor.store import OutboxMessage, Store, outbox_delivered, save_alerting
from monitor.store.writer import StoreWriter
url, journal, run, t0 = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
st = Store(url, timeout=0.5)
w = StoreWriter(st, journal=__import__("pathlib").Path(journal), backoff=0.05, max_backoff=0.1)
w.submit_durable(st.record_transitions, [Transition(Scope.AP, "a1", "s1", "up", "down", t0 + 1, Reason.TIMEOUT)], run)
alert = Alert(key="site_down:s1", rule=Rule.SITE_DOWN, severity="critical", since=t0 + 1, site="s1")
state = AlertState(alert=alert, opened_at=t0 + 2, status="firing", fired_at=t0 + 2, notified=("hook",))
msg = OutboxMessage(message_id="m1", alert_key="site_down:s1", channel="hook", kind="firing",
                    payload={"id": "m1"}, created_at=t0 + 2)
w.submit_durable(save_alerting, st, [to_record(state)], [msg])
w.submit_durable(outbox_delivered, st, ["m1"], t0 + 3)  # the page went out; the mark waits for the store
w.submit_latest(st.heartbeat, run, t0 + 4)
w.submit_latest(st.heartbeat, run, t0 + 5)  # supersedes the one before in the queue
while w.failures < 3:
    time.sleep(0.01)
print("queued", flush=True)
time.sleep(60)
"""


def test_durable_writes_survive_a_sigkill_while_the_database_is_away(tmp_path: Path) -> None:
    """A process queues a transition, an alert with its message, the message's delivered mark and two
    heartbeats while the database is away, and is killed with SIGKILL. The next writer on the same journal,
    the database back, writes them all, once; the journal is empty after. The run's last heartbeat is the
    newest one: until then the killed run watched (its open outages end there at the next start)."""
    late = Late(tmp_path)
    journal = tmp_path / "journal"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED, late.url, str(journal), str(late.run), str(T0)],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "queued"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL and journal.stat().st_size > 0
    late.arrive()
    st = Store(late.url)
    for attempt in range(2):  # a second start replays nothing: the first emptied the journal
        writer = StoreWriter(st, journal=journal)
        assert writer.replay() == (5 if attempt == 0 else 0)
        assert writer.close(timeout=10)
    assert journal.stat().st_size == 0
    assert [t.transition for t in st.transitions(T0, T0 + 10)] == [ap("a1", "up", "down", T0 + 1)]
    [outage] = st.open_outages()
    assert outage.started_at == T0 + 1
    [alert] = active_alerts(st)
    assert alert.key == "site_down:s1" and alert.opened_at == T0 + 2
    [msg] = outbox_messages(st)
    assert msg.message_id == "m1" and msg.delivered_at == T0 + 3
    assert st.runs(T0 - 1, T0 + 10)[0].last_heartbeat_at == T0 + 5
    st.close()


def test_a_full_queue_spills_durable_writes_to_the_journal_and_keeps_them_in_order(tmp_path: Path) -> None:
    """With room for 4 jobs and the database away: 30 transitions are all kept (4 in memory, the rest in the
    journal), heartbeats never pile up, a plain write is dropped and counted; all 30 land in order later."""
    late = Late(tmp_path)
    st = Store(late.url, timeout=0.5)
    writer = StoreWriter(st, journal=tmp_path / "journal", backoff=0.01, max_backoff=0.05, max_jobs=4)
    try:
        beats = [writer.submit_latest(st.heartbeat, late.run, T0 + 0.5)]
        futures: list[Future[int]] = []
        for i in range(30):
            old, new = ("up", "down") if i % 2 == 0 else ("down", "up")
            futures.append(writer.submit_durable(st.record_transitions, [ap("a1", old, new, T0 + 1 + i)], late.run))
            beats.append(writer.submit_latest(st.heartbeat, late.run, T0 + 1 + i))
        dropped = writer.submit(st.heartbeat, late.run, T0 + 99)
        assert writer.depth <= 4
        with pytest.raises(StoreWriterFull):
            dropped.result(timeout=1)
        assert writer.dropped >= 1
        late.arrive()
        assert [f.result(timeout=30) for f in futures] == [1] * 30
    finally:
        assert writer.close(timeout=10)
    assert [t.transition.at for t in st.transitions(T0, T0 + 100)] == [T0 + 1 + i for i in range(30)]
    assert len(st.outages(T0, T0 + 100)) == 15
    assert beats[0].done()  # the first heartbeat was written (it was the head) or superseded, never left hanging
    st.close()
