"""The edges of an outage: one left open when the monitor stopped ends at the stop (the time after is
unknown, not downtime), and a recovery is dated when the successful answer came, not when the probe whose
retry succeeded began."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry

from collectors.profile import Profile, load_profiles
from collectors.types import ErrorKind, PollResult, ProbeResult, Target, V2cCredentials
from monitor.config.load import LoadedConfig
from monitor.config.model import Config
from monitor.domain.vocabulary import Event, Reason, Scope, Transition
from monitor.exposition.metrics import ServiceMetrics
from monitor.polling.poller import Poller
from monitor.report.build import make_report
from monitor.store import Store

T0 = 1_793_000_000.0  # 2026-10-26 16:33:20 in Seoul
OCTOBER = 1_790_780_400.0  # 2026-10-01 00:00 in Seoul


class ScriptedClient:
    """The project's own SnmpClient seam, answering each probe from a script (a real agent cannot be told
    to time out once and answer the retry 2.4 s after the first attempt)."""

    def __init__(self, script: dict[str, list[ProbeResult]]):
        self.script = script

    async def register(self, targets: Sequence[Target]) -> None:
        pass

    async def probe(self, target: Target) -> ProbeResult:
        return self.script[target.key].pop(0)

    async def poll(self, target: Target, profile: Profile) -> PollResult:
        raise AssertionError("no full poll in this test")

    async def close(self) -> None:
        pass


class Recorded:
    def __init__(self, store: Store, run_id: int):
        self.store, self.run_id, self.seen = store, run_id, []

    def transitions(self, transitions: list[Transition]) -> None:
        self.seen += transitions
        self.store.record_transitions(transitions, self.run_id)

    def events(self, events: list[Event]) -> None:
        pass


def _loaded(tmp_path: Path) -> LoadedConfig:
    config = Config.model_validate({
        "service": {"confirm_failures": 3, "spread": 0},
        "credentials": {"c": {"version": "2c", "community": {"env": "UNUSED"}}},
        "sites": [{"id": "s1", "name": "공원", "category": "park",
                   "aps": [{"id": "s1-ap1", "address": "127.0.0.1:9", "credentials": "c"}]}],
    })
    return LoadedConfig(tmp_path / "wifimon.yaml", config, {"c": V2cCredentials("x")}, load_profiles())


def _crashed_with_s1_down(tmp_path: Path, *more: Transition) -> Store:
    """A store whose run 1 saw s1 (and its AP) up at T0 + 10, down at T0 + 100 (and ``more``), last heartbeat
    at T0 + 500, then nothing: a crash."""
    store = Store(f"sqlite:///{tmp_path}/wifimon.db")
    store.migrate()
    run1 = store.start_run(T0)
    store.record_transitions([
        Transition(Scope.AP, "s1-ap1", "s1", "unknown", "up", T0 + 10),
        Transition(Scope.SITE, "s1", "s1", "unknown", "up", T0 + 10),
        Transition(Scope.AP, "s1-ap1", "s1", "up", "down", T0 + 100, Reason.TIMEOUT),
        Transition(Scope.SITE, "s1", "s1", "up", "down", T0 + 100, Reason.TIMEOUT),
        *more,
    ], run1)
    store.heartbeat(run1, T0 + 500)
    return store


def _timeout(at: float) -> ProbeResult:
    return ProbeResult("s1-ap1", at, 4.0, error=ErrorKind.TIMEOUT, detail="no answer in 2 s × 2 attempts")


async def test_an_outage_open_at_a_stop_ends_there_and_a_recovery_is_dated_by_its_answer(tmp_path: Path) -> None:
    # Run 1 saw the site go down at T0 + 100 and crashed; its last heartbeat was at T0 + 500.
    store = _crashed_with_s1_down(tmp_path, Transition(Scope.AP, "other-ap", "s9", "up", "down", T0 + 200,
                                                       Reason.TIMEOUT))  # another instance's

    # Run 2 starts an hour later, as Service.run does.
    start = T0 + 3600
    run2 = store.start_run(start)
    last = store.last_states()
    loaded = _loaded(tmp_path)
    script = {"s1-ap1": [_timeout(start + 1),
                         # the first attempt timed out after 2 s, the retry answered 0.4 s later
                         ProbeResult("s1-ap1", start + 20, 2.4, uptime_ticks=12_345)]}
    store.heartbeat(run2, start + 60)
    sink = Recorded(store, run2)
    clock = iter(float(start + i) for i in range(1, 1000))
    poller = Poller(loaded, ScriptedClient(script), loaded.profiles, sink, ServiceMetrics(CollectorRegistry(), "t"),
                    clock=lambda: next(clock))
    ended = store.end_outages_at_stop(poller.entities(), run2)
    assert {(t.entity, t.old, t.new, t.at) for t in ended} == {("s1-ap1", "down", "unknown", T0 + 500),
                                                                ("s1", "down", "unknown", T0 + 500)}
    poller.restore(last)

    await poller.probe_now("s1-ap1")  # still down: one failed probe confirms it again, from that probe
    await poller.probe_now("s1-ap1")  # back: at the answer, not at the start of the probe
    assert [(t.scope, t.old, t.new, t.at) for t in sink.seen] == [
        (Scope.AP, "unknown", "down", start + 1), (Scope.SITE, "unknown", "down", start + 1),
        (Scope.AP, "down", "up", start + 22.4), (Scope.SITE, "down", "up", start + 22.4)]

    site = [(o.started_at, o.ended_at, o.end_state) for o in store.outages(T0, start + 100) if o.entity == "s1"]
    assert site == [(T0 + 100, T0 + 500, "unknown"), (start + 1, start + 22.4, "up")]
    (other,) = store.open_outages()  # another instance's entity: left as it was
    assert other.entity == "other-ap"

    # The report charges the site 400 s + 21.4 s of downtime, and the hour nobody watched as unknown.
    report = make_report(store, loaded.config, "2026-10", start + 60)
    figures = report.sites[0].figures
    assert (round(figures.downtime, 1), figures.outages) == (400 + 21.4, 2)
    # Unknown: October before run 1 and its first answer (10 s), the gap, and run 2 before its first probe (1 s).
    assert round(figures.unknown, 1) == (T0 + 10 - OCTOBER) + (start - (T0 + 500)) + 1
    store.close()


async def test_a_standby_taking_over_keeps_the_open_outage_open_and_ends_it_once(tmp_path: Path) -> None:
    """The takeover path of Service.run (``keep_down``): no end at the stop, no second outage on the next
    failed probe; the first good probe ends the one outage the killed active opened."""
    store = _crashed_with_s1_down(tmp_path)  # killed just after its heartbeat at T0 + 500
    start = T0 + 508  # the standby's lease check saw the lease lapse
    run2 = store.start_run(start)
    loaded = _loaded(tmp_path)
    script = {"s1-ap1": [_timeout(start + 1), ProbeResult("s1-ap1", start + 20, 0.1, uptime_ticks=12_345)]}
    sink = Recorded(store, run2)
    clock = iter(float(start + i) for i in range(1, 1000))
    poller = Poller(loaded, ScriptedClient(script), loaded.profiles, sink, ServiceMetrics(CollectorRegistry(), "t"),
                    clock=lambda: next(clock))
    poller.restore(store.last_states(), keep_down=True)
    await poller.probe_now("s1-ap1")  # still down: nothing new
    assert sink.seen == []
    await poller.probe_now("s1-ap1")  # back
    assert [(t.scope, t.old, t.new) for t in sink.seen] == [(Scope.AP, "down", "up"), (Scope.SITE, "down", "up")]
    site = [(o.started_at, o.ended_at, o.end_state) for o in store.outages(T0, start + 100) if o.entity == "s1"]
    assert site == [(T0 + 100, start + 20.1, "up")]  # one outage, from the first failure to the recovery
    store.close()
