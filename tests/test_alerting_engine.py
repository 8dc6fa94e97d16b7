"""The alert engine, pure, time as a parameter: grouping, dedup, repeat, resolve, maintenance, ack,
escalation, parent suppression and the one-shot burst cap."""

from __future__ import annotations

from dataclasses import replace

from monitor.alerting.engine import step
from monitor.alerting.model import Ack, Alert, Rule
from monitor.alerting.rules import RuleInputs, desired_alerts
from monitor.domain.vocabulary import Reason, SiteStatus
from monitor.store import MaintenanceWindow
from tests.alerting_helpers import T0, make_site, settings, site_view, snapshot

S = settings()


def down(site: str = "market", gravity: int = 2) -> Alert:
    return Alert(key=f"site_down:{site}", rule=Rule.SITE_DOWN, severity="critical", since=T0 - 30, site=site,
                 aps=(f"{site}-ap1", f"{site}-ap2"), total_aps=2, reason="timeout", gravity=gravity)


def child(ap: str = "market-ap1", site: str = "market", one_shot: bool = False) -> Alert:
    return Alert(key=f"ap_silent:{ap}", rule=Rule.AP_SILENT, severity="warning", since=T0 - 9000, site=site, ap=ap,
                 parents=(f"site_down:{site}", f"ferry_backhaul_lost:{site}"), one_shot=one_shot)


class Run:
    """Drives the engine through time, collecting what it would send."""

    def __init__(self, settings=S):
        self.settings = settings
        self.states: dict = {}
        self.oneshots: tuple = ()
        self.sent: list = []
        self.last = None

    def at(self, now: float, *alerts: Alert, acks: dict | None = None):
        res = step(self.states, {a.key: a for a in alerts}, acks or {}, self.settings, now, self.oneshots)
        self.states, self.oneshots, self.last = res.states, res.oneshots, res
        self.sent += res.notifications
        return [(n.kind, n.alert.key, n.channels) for n in res.notifications]


def test_fires_once_and_deduplicates():
    r = Run()
    assert r.at(T0, down()) == [("firing", "site_down:market", ("hook",))]
    for t in range(1, 60):
        assert r.at(T0 + t, down()) == []
    assert r.states["site_down:market"].status == "firing" and r.states["site_down:market"].sends == 1


def test_repeats_after_the_interval_and_resolves_to_every_channel_told():
    r = Run(settings(routes=[{"severity": "critical", "channels": ["hook"]}]))
    r.at(T0, down())
    assert r.at(T0 + 3599, down()) == []
    assert r.at(T0 + 3600, down()) == [("repeat", "site_down:market", ("hook",))]
    assert r.at(T0 + 3601, down()) == []
    assert r.at(T0 + 3700) == [("resolved", "site_down:market", ("hook",))]
    assert r.states == {} and r.last.resolved[0].at == T0 + 3700 and not r.last.resolved[0].silent
    assert [n.sequence for n in r.sent] == [1, 2, 3]  # ordered within the alert


def test_route_override_of_the_repeat_interval():
    s = settings(routes=[{"severity": "critical", "channels": ["hook"], "repeat_interval": 60}])
    r = Run(s)
    r.at(T0, down())
    assert r.at(T0 + 60, down()) == [("repeat", "site_down:market", ("hook",))]


def test_unacknowledged_critical_escalates_one_channel_per_delay():
    r = Run()
    r.at(T0, down())
    assert r.at(T0 + 299, down()) == []
    assert r.at(T0 + 300, down()) == [("escalation", "site_down:market", ("phone",))]
    assert r.at(T0 + 599, down()) == []
    assert r.at(T0 + 600, down()) == [("escalation", "site_down:market", ("mail",))]
    assert r.at(T0 + 5000, down()) == [("repeat", "site_down:market", ("hook", "phone", "mail"))]
    assert r.at(T0 + 5001) == [("resolved", "site_down:market", ("hook", "phone", "mail"))]


def test_warnings_do_not_escalate_without_a_chain():
    r = Run()
    r.at(T0, child())
    assert r.at(T0 + 10_000, child())[0][0] == "repeat"
    assert r.states["ap_silent:market-ap1"].notified == ("chat",)


def test_ack_stops_repeats_and_escalation_until_it_expires():
    r = Run()
    r.at(T0, down())
    ack = Ack(by="kim", at=T0 + 60, comment="on my way")
    assert r.at(T0 + 61, down(), acks={"site_down:market": ack}) == [
        ("acknowledged", "site_down:market", ("hook",))]
    for t in (300, 600, 3600, 20_000):
        assert r.at(T0 + t, down(), acks={"site_down:market": ack}) == [], t  # no escalation, no repeat
    assert r.at(T0 + 20_001) == [("resolved", "site_down:market", ("hook",))]

    r = Run()
    r.at(T0, down())
    until = Ack(by="kim", at=T0 + 60, until=T0 + 4000)
    r.at(T0 + 61, down(), acks={"site_down:market": until})
    assert r.at(T0 + 3999, down(), acks={"site_down:market": until}) == []
    # Expired: what it held back comes now (escalations due, then repeats on the interval).
    assert [k for k, *_ in r.at(T0 + 4000, down(), acks={"site_down:market": until})] == [
        "repeat", "escalation", "escalation"]


def test_ack_is_voided_when_the_alert_gets_worse():
    r = Run()
    r.at(T0, down(gravity=1))
    ack = Ack(by="kim", at=T0 + 10)
    r.at(T0 + 11, down(gravity=1), acks={"site_down:market": ack})
    assert r.at(T0 + 20, down(gravity=2), acks={"site_down:market": ack}) == [
        ("worse", "site_down:market", ("hook",))]
    assert r.last.voided_acks == [("site_down:market", T0 + 10)]
    st = r.states["site_down:market"]
    assert st.ack is None and st.voided_ack_at == T0 + 10
    # The voided ack, read again from the store before it is cleared there, is not taken again ...
    assert r.at(T0 + 21, down(gravity=2), acks={"site_down:market": ack}) == []
    assert r.states["site_down:market"].ack is None
    # ... so escalation goes on; a fresh ack stops it again.
    assert r.at(T0 + 300, down(gravity=2))[0][0] == "escalation"
    fresh = Ack(by="lee", at=T0 + 301)
    assert r.at(T0 + 302, down(gravity=2), acks={"site_down:market": fresh})[0][0] == "acknowledged"
    assert r.at(T0 + 600, down(gravity=2), acks={"site_down:market": fresh}) == []


def test_an_ap_alert_under_a_down_site_is_recorded_and_sent_if_still_true_when_the_site_recovers():
    r = Run()
    assert r.at(T0, down(), child()) == [("firing", "site_down:market", ("hook",))]
    assert r.states["ap_silent:market-ap1"].status == "suppressed"  # recorded, not sent
    assert "ap_silent:market-ap1" in r.last.changed
    assert r.at(T0 + 100, down(), child()) == []
    # The site recovers; the AP is still silent: now it is said.
    assert r.at(T0 + 200, child()) == [("resolved", "site_down:market", ("hook",)),
                                       ("firing", "ap_silent:market-ap1", ("chat",))]


def test_a_suppressed_child_that_clears_under_its_parent_is_resolved_silently():
    r = Run()
    r.at(T0, down(), child())
    assert r.at(T0 + 10, down()) == []
    assert r.last.resolved[0].state.key == "ap_silent:market-ap1" and r.last.resolved[0].silent


def test_degraded_then_down_resolves_the_degraded_alert_silently():
    degraded = Alert(key="site_degraded:market", rule=Rule.SITE_DEGRADED, severity="warning", since=T0 - 900,
                     site="market", aps=("market-ap1",), parents=("site_down:market",), gravity=1)
    r = Run()
    assert r.at(T0, degraded) == [("firing", "site_degraded:market", ("chat",))]
    assert r.at(T0 + 10, down()) == [("firing", "site_down:market", ("hook",))]  # no 'degraded resolved'
    assert r.last.resolved[0].silent
    # Back to degraded (one AP still down): that is news again, at once (it has been down long).
    assert r.at(T0 + 20, degraded) == [("resolved", "site_down:market", ("hook",)),
                                       ("firing", "site_degraded:market", ("chat",))]


def test_one_shot_alerts_are_sent_once_never_repeated_resolved_silently_and_capped_fleet_wide():
    s = settings(thresholds={"event_burst": 3, "event_burst_window": 600})
    r = Run(s)
    reboots = [Alert(key=f"ap_rebooted:ap{i}", rule=Rule.AP_REBOOTED, severity="warning", since=T0, ap=f"ap{i}",
                     one_shot=True) for i in range(5)]
    sent = r.at(T0, *reboots)
    assert len(sent) == 3  # the burst cap
    assert sorted(st.status for st in r.states.values()) == ["firing"] * 3 + ["held"] * 2
    assert r.at(T0 + 10_000, *reboots) == []  # never repeated; held ones stay unsent
    assert r.at(T0 + 10_001) == [] and all(x.silent for x in r.last.resolved)
    # The window has passed: new ones are sent again.
    assert len(r.at(T0 + 20_000, *reboots[:2])) == 2


def _pipeline(views, windows, now, run):
    desired = desired_alerts(RuleInputs(snapshot=snapshot(*views, at=now), maintenance=windows),
                             run.settings.thresholds, now)
    return run.at(now, *desired.values())


def test_grouping_fifty_sites_down_is_fifty_notifications_not_one_per_ap():
    sites = [make_site(f"s{i:02d}", 2) for i in range(50)]
    r = Run()
    sent = _pipeline([site_view(s, SiteStatus.DOWN, T0 - 20, reason=Reason.TIMEOUT) for s in sites], [], T0, r)
    assert len(sent) == 50 and {k for _, k, _ in sent} == {f"site_down:s{i:02d}" for i in range(50)}


def test_maintenance_no_alert_during_the_window_and_one_after_if_still_down():
    site = make_site("market", 2)
    w = MaintenanceWindow(scope_kind="site", scope_value="market", starts_at=T0 - 60, ends_at=T0 + 600,
                          timezone="Asia/Seoul", created_by="test")
    view = site_view(site, SiteStatus.DOWN, T0 - 30, reason=Reason.TIMEOUT)
    r = Run()
    for t in range(0, 600, 30):
        assert _pipeline([view], [w], T0 + t, r) == []
    assert _pipeline([view], [w], T0 + 600, r) == [("firing", "site_down:market", ("hook",))]


def test_an_alert_already_firing_when_maintenance_starts_resolves():
    site = make_site("market", 2)
    w = MaintenanceWindow(scope_kind="site", scope_value="market", starts_at=T0 + 100, ends_at=T0 + 600,
                          timezone="Asia/Seoul", created_by="test")
    view = site_view(site, SiteStatus.DOWN, T0 - 30, reason=Reason.TIMEOUT)
    r = Run()
    assert _pipeline([view], [w], T0, r)[0][0] == "firing"
    assert _pipeline([view], [w], T0 + 100, r) == [("resolved", "site_down:market", ("hook",))]


def test_no_route_no_channels_still_records():
    s = settings(routes=[{"severity": "warning", "channels": ["chat"]}])
    r = Run(s)
    assert r.at(T0, down()) == []
    assert r.states["site_down:market"].status == "firing" and r.states["site_down:market"].notified == ()
    assert r.at(T0 + 1) == []  # nothing was said, so no resolve either


def test_the_failing_channel_is_avoided():
    s = settings(routes=[{"channels": ["hook", "chat"]}])
    failing = Alert(key="service_channel:hook", rule=Rule.SERVICE_CHANNEL, severity="warning", since=T0,
                    detail="hook|HTTP 500", avoid=("hook",))
    assert Run(s).at(T0, failing) == [("firing", "service_channel:hook", ("chat",))]


def test_a_state_carries_over_unchanged_when_nothing_happens():
    r = Run()
    r.at(T0, down())
    before = r.states["site_down:market"]
    r.at(T0 + 1, down())
    assert r.last.changed == set() and r.states["site_down:market"] == before
    r.at(T0 + 2, replace(down(), aps=("market-ap2",)))
    assert r.last.changed == {"site_down:market"}  # text inputs changed: written, not sent
