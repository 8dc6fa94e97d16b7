"""Alert rules, pure: snapshot + events + maintenance + health at a given time → the alerts that should be active."""

from __future__ import annotations

from dataclasses import replace

from monitor.alerting.engine import step
from monitor.alerting.model import Rule
from monitor.alerting.rules import RuleInputs, ServiceHealth, desired_alerts, fold_quiet
from monitor.alerting.settings import Thresholds
from monitor.domain.vocabulary import ApStatus, Event, EventKind, Reason, SiteStatus
from monitor.store import MaintenanceWindow
from monitor.exposition.snapshot import ControllerView
from tests.alerting_helpers import T0, make_site, settings, site_view, snapshot

TH = Thresholds()


def alerts(*views, at: float = T0, **kw):
    return desired_alerts(RuleInputs(snapshot=snapshot(*views, at=at), **kw), TH, at)


def test_a_site_with_every_ap_down_is_one_critical_alert_naming_the_aps():
    site = make_site("market", 3)
    got = alerts(site_view(site, SiteStatus.DOWN, T0 - 40, reason=Reason.TIMEOUT))
    assert list(got) == ["site_down:market"]
    a = got["site_down:market"]
    assert a.severity == "critical" and a.rule == Rule.SITE_DOWN
    assert a.aps == ("market-ap1", "market-ap2", "market-ap3") and a.total_aps == 3
    assert a.reason == "timeout" and a.since == T0 - 40  # the first failed probe, from the state machine
    assert a.site_name == "market 공원" and a.address == "군산시 market로 1"


def test_uplink_down_counts_as_site_down_and_is_still_one_alert():
    site = make_site("stop", 4, uplink=True)
    got = alerts(site_view(site, SiteStatus.DOWN, T0 - 10, reason=Reason.UPLINK_DOWN, uplink=ApStatus.DOWN,
                           ap_status={"stop-ap1": ApStatus.UP}))
    assert list(got) == ["site_down:stop"]
    assert got["site_down:stop"].reason == "uplink_down"
    assert got["site_down:stop"].detail == "stop-up"


def test_fifty_sites_down_are_fifty_alerts_and_no_ap_alerts():
    views = [site_view(make_site(f"s{i:02d}", 1 + i % 3), SiteStatus.DOWN, T0 - 5, reason=Reason.TIMEOUT)
             for i in range(50)]
    got = alerts(*views)
    assert len(got) == 50
    assert all(k.startswith("site_down:") for k in got)


def test_degraded_only_after_the_threshold():
    site = make_site("park", 3)
    view = lambda since: site_view(site, SiteStatus.DEGRADED, since,  # noqa: E731
                                   ap_status={"park-ap2": ApStatus.DOWN})
    assert alerts(view(T0 - TH.site_degraded_after + 1)) == {}
    got = alerts(view(T0 - TH.site_degraded_after))
    assert list(got) == ["site_degraded:park"]
    assert got["site_degraded:park"].aps == ("park-ap2",) and got["site_degraded:park"].severity == "warning"
    assert got["site_degraded:park"].parents == ("site_down:park",)


def test_ferry_out_of_service_raises_nothing_and_lost_backhaul_in_service_is_its_own_alert():
    ferry = make_site("okdo", 1, kind="ferry", uplink=True)
    docked = site_view(ferry, SiteStatus.OUT_OF_SERVICE, T0 - 600, in_service=False)
    assert alerts(docked) == {}
    lost = site_view(ferry, SiteStatus.DOWN, T0 - 30, reason=Reason.UPLINK_DOWN, uplink=ApStatus.DOWN)
    got = alerts(lost)
    assert list(got) == ["ferry_backhaul_lost:okdo"]  # not also site_down
    assert got["ferry_backhaul_lost:okdo"].severity == "critical"
    # APs down with the LTE router up: an ordinary site down.
    aps_down = site_view(ferry, SiteStatus.DOWN, T0 - 30, reason=Reason.TIMEOUT, uplink=ApStatus.UP)
    assert list(alerts(aps_down)) == ["site_down:okdo"]


def _window(kind: str, value: str | None, start: float, end: float, recurrence: str | None = None):
    return MaintenanceWindow(scope_kind=kind, scope_value=value, starts_at=start, ends_at=end,
                             timezone="Asia/Seoul", created_by="test", recurrence=recurrence)


def test_no_alert_inside_a_maintenance_window_of_the_site_district_or_everything():
    site = make_site("market", 2)
    down = site_view(site, SiteStatus.DOWN, T0 - 60, reason=Reason.TIMEOUT)
    for w in (_window("site", "market", T0 - 100, T0 + 100), _window("district", "월명동", T0 - 100, T0 + 100),
              _window("all", None, T0 - 100, T0 + 100),
              _window("site", "market", T0 - 7 * 86400 - 100, T0 - 7 * 86400 + 100, "weekly")):
        assert alerts(down, maintenance=[w]) == {}, w
    # A window elsewhere, or one that is over, changes nothing.
    assert list(alerts(down, maintenance=[_window("site", "park", T0 - 100, T0 + 100)])) == ["site_down:market"]
    assert list(alerts(down, maintenance=[_window("site", "market", T0 - 100, T0 - 1)])) == ["site_down:market"]


def test_an_ap_in_maintenance_is_left_out_of_the_site_alerts():
    site = make_site("park", 3)
    degraded = site_view(site, SiteStatus.DEGRADED, T0 - 3600, ap_status={"park-ap2": ApStatus.DOWN})
    assert alerts(degraded, maintenance=[_window("ap", "park-ap2", T0 - 100, T0 + 100)]) == {}
    assert list(alerts(degraded, maintenance=[_window("ap", "park-ap1", T0 - 100, T0 + 100)])) == [
        "site_degraded:park"]


def test_a_reboot_is_an_alert_only_when_no_outage_covered_it():
    site = make_site("park", 2)
    boot = Event(EventKind.REBOOT, "park-ap1", "park", T0 - 120, "uptime back to 5 s")
    # Up without a break since before the boot: the reboot was quicker than the confirmation window.
    quick = site_view(site, SiteStatus.UP, T0 - 86400)
    got = alerts(quick, events=[boot])
    assert list(got) == ["ap_rebooted:park-ap1"]
    assert got["ap_rebooted:park-ap1"].one_shot and got["ap_rebooted:park-ap1"].parents[0] == "site_down:park"
    # Up only since after the boot: it was down and we said so already.
    after_outage = site_view(site, SiteStatus.UP, T0 - 60)
    assert alerts(after_outage, events=[boot]) == {}
    # Old news: outside the window.
    old = Event(EventKind.REBOOT, "park-ap1", "park", T0 - TH.reboot_window - 1, "")
    assert alerts(quick, events=[old]) == {}


def test_flapping_is_an_alert_per_ap():
    site = make_site("park", 2)
    flap = Event(EventKind.FLAPPING, "park-ap2", "park", T0 - 30, "6 up/down changes in 600 s")
    got = alerts(site_view(site, SiteStatus.UP, T0 - 10), events=[flap])
    assert list(got) == ["ap_flapping:park-ap2"]


def test_silent_ap_needs_a_long_quiet_stretch_and_busy_neighbours_or_last_week():
    site = make_site("market", 2)
    busy = site_view(site, SiteStatus.UP, T0 - 86400, clients={"market-ap1": 0, "market-ap2": 14}, polled=T0 - 5)
    quiet = fold_quiet({}, snapshot(busy))
    assert quiet == {"market-ap1": T0 - 5}
    assert alerts(busy, quiet_since=quiet) == {}  # not quiet for long yet
    long_quiet = {"market-ap1": T0 - TH.silent_after - 1}
    got = alerts(busy, quiet_since=long_quiet)
    assert list(got) == ["ap_silent:market-ap1"] and got["ap_silent:market-ap1"].detail == "neighbours=14"
    # The whole site empty (night): nothing, unless this AP had clients in the same hour last week.
    empty = site_view(site, SiteStatus.UP, T0 - 86400, clients={"market-ap1": 0, "market-ap2": 0}, polled=T0 - 5)
    assert alerts(empty, quiet_since=long_quiet) == {}
    assert list(alerts(empty, quiet_since=long_quiet, last_week_clients={"market-ap1": 9})) == [
        "ap_silent:market-ap1"]
    # The quiet stretch keeps its start while zero, and ends with the first client.
    assert fold_quiet(long_quiet, snapshot(busy)) == long_quiet
    assert fold_quiet(long_quiet, snapshot(site_view(site, SiteStatus.UP, T0, clients={"market-ap1": 1},
                                                     polled=T0))) == {}
    # An AP whose profile gives no client counts is not 'zero'.
    assert fold_quiet({}, snapshot(site_view(site, SiteStatus.UP, T0, polled=T0))) == {}


def test_service_health_alerts():
    h = ServiceHealth(overruns={"probe": (TH.overruns, T0 - 300), "metrics": (1, T0 - 10)},
                      store_failing_since=T0 - TH.store_failing_after, store_error="db down",
                      channels_failing={"slack": (T0 - TH.channel_failing_after - 1, "HTTP 500"),
                                        "mail": (T0 - 5, "refused")})
    got = desired_alerts(RuleInputs(snapshot=snapshot(), health=h), TH, T0)
    assert sorted(got) == ["service_channel:slack", "service_overrun:probe", "service_store:store"]
    assert got["service_channel:slack"].avoid == ("slack",)  # a failing channel is not told it fails
    assert got["service_store:store"].severity == "critical"


def _controller_snapshot(views, **controller):
    return replace(snapshot(*views), controllers=(ControllerView("wlc1", **controller),))


def test_a_controller_not_answering_is_one_alert_and_its_sites_pages_are_suppressed():
    sites = [make_site(f"s{i}", 2) for i in range(3)]
    views = [site_view(s, SiteStatus.DOWN, T0 - 30, reason=Reason.TIMEOUT) for s in sites]
    watched = tuple(a.id for s in sites for a in s.aps)
    snap = _controller_snapshot(views, aps=watched, failing_since=T0 - 60, error="timeout: no answer")
    got = desired_alerts(RuleInputs(snapshot=snap), TH, T0)
    ctl = got["controller_down:wlc1"]
    assert (ctl.severity, ctl.since, ctl.aps, ctl.total_aps) == ("critical", T0 - 60, watched, 6)
    assert ctl.detail == "wlc1|timeout: no answer" and not ctl.parents
    # The sites' alerts are still there (recorded), each naming the controller's alert as its parent ...
    assert sorted(got) == ["controller_down:wlc1", "site_down:s0", "site_down:s1", "site_down:s2"]
    assert all(got[f"site_down:s{i}"].parents == ("controller_down:wlc1",) for i in range(3))
    # ... so the engine sends one notification, for the controller.
    res = step({}, got, {}, settings(), T0)
    assert [n.alert.key for n in res.notifications] == ["controller_down:wlc1"]
    assert {k: st.status for k, st in res.states.items() if k.startswith("site_down")} == {
        f"site_down:s{i}": "suppressed" for i in range(3)}


def test_a_site_with_an_ap_down_on_its_own_still_pages_while_the_controller_fails():
    site, other = make_site("mixed", 2), make_site("direct", 1)
    views = [site_view(site, SiteStatus.DOWN, T0 - 30, reason=Reason.TIMEOUT),
             site_view(other, SiteStatus.DOWN, T0 - 30, reason=Reason.TIMEOUT)]
    snap = _controller_snapshot(views, aps=("mixed-ap1",), failing_since=T0 - 60)  # mixed-ap2 polled directly
    got = desired_alerts(RuleInputs(snapshot=snap), TH, T0)
    assert got["site_down:mixed"].parents == () and got["site_down:direct"].parents == ()
    assert got["controller_down:wlc1"].aps == ("mixed-ap1",)


def test_a_failing_controller_whose_aps_are_not_confirmed_down_raises_nothing_yet():
    site = make_site("s", 2)
    snap = _controller_snapshot([site_view(site, SiteStatus.UP, T0 - 300)], aps=("s-ap1", "s-ap2"),
                                failing_since=T0 - 5)
    assert desired_alerts(RuleInputs(snapshot=snap), TH, T0) == {}


def test_a_lost_controller_table_is_one_alert_with_the_row_counts():
    site = make_site("s", 2)
    snap = _controller_snapshot([site_view(site, SiteStatus.UNKNOWN, T0 - 300)], aps=("s-ap1", "s-ap2"),
                                table_lost_since=T0 - 20, rows_before=40, rows_now=0)
    got = desired_alerts(RuleInputs(snapshot=snap), TH, T0)
    assert list(got) == ["controller_table_lost:wlc1"]
    a = got["controller_table_lost:wlc1"]
    assert (a.severity, a.since, a.total_aps, a.detail) == ("critical", T0 - 20, 2, "wlc1|40|0")
