"""The pure state machine: confirmation, re-checks, flapping, modes and the site roll-up."""

from monitor.domain.vocabulary import ApStatus, EventKind, Reason, Scope, SiteStatus
from monitor.domain.state import DeviceTrack, Policy, SiteTrack, observe, roll_up, set_mode, update_site

P = Policy(confirm_failures=3, flapping_transitions=4, flapping_window=600)


def fold(track, outcomes, start=1000.0, step=5.0):
    out = []
    for i, ok in enumerate(outcomes):
        track, transitions, events = observe(track, ok, start + i * step, P, None if ok else "timeout", "x")
        out.append((transitions, events))
    return track, out


def test_unknown_ap_goes_up_at_first_success():
    track, steps = fold(DeviceTrack("ap1", "s1"), [True])
    assert track.status == ApStatus.UP and track.since == 1000.0
    assert [(t.old, t.new) for t in steps[0][0]] == [("unknown", "up")]


def test_down_only_after_consecutive_failures_and_starts_at_first_failure():
    track, _ = fold(DeviceTrack("ap1", "s1"), [True, False, False])
    assert track.status == ApStatus.UP and track.confirming
    track, t, _ = observe(track, False, 1015.0, P, "timeout", "no reply")
    assert track.status == ApStatus.DOWN and not track.confirming
    assert t[0].at == 1005.0 and t[0].reason == Reason.TIMEOUT and t[0].new == "down"


def test_a_success_between_failures_resets_the_count():
    track, steps = fold(DeviceTrack("ap1", "s1"), [True, False, False, True, False, False])
    assert track.status == ApStatus.UP
    assert all(not t for t, _ in steps[1:])


def test_up_again_at_first_success_after_down():
    track, _ = fold(DeviceTrack("ap1", "s1"), [True, False, False, False])
    track, t, _ = observe(track, True, 2000.0, P)
    assert track.status == ApStatus.UP and t[0].at == 2000.0 and t[0].old == "down"


def test_auth_error_is_the_reason():
    track, _ = fold(DeviceTrack("ap1", "s1"), [True])
    for i in range(3):
        track, t, _ = observe(track, False, 1100.0 + i, P, "auth_error", "wrong key")
    assert t[0].reason == Reason.AUTH_ERROR


def test_flapping_event_once_per_episode():
    track = DeviceTrack("ap1", "s1")
    events = []
    at = 0.0
    for _ in range(4):
        track, _, e1 = observe(track, True, at, P)
        at += 5
        for _ in range(3):
            track, _, e2 = observe(track, False, at, P, "timeout")
            at += 5
            events += e2
        events += e1
    kinds = [e.kind for e in events]
    assert kinds.count(EventKind.FLAPPING) == 1


def test_out_of_service_suppresses_down_and_returns_unknown():
    track, _ = fold(DeviceTrack("ferry-ap", "f1"), [True])
    track, t, _ = set_mode(track, "out_of_service", 1100.0, P)
    assert track.status == ApStatus.OUT_OF_SERVICE and t[0].new == "out_of_service"
    for i in range(5):
        track, t, _ = observe(track, False, 1200.0 + i, P, "timeout")
        assert not t
    track, t, _ = set_mode(track, "active", 1300.0, P)
    assert track.status == ApStatus.UNKNOWN
    track, t, _ = observe(track, True, 1301.0, P)
    assert track.status == ApStatus.UP


def _dev(entity, status, since=0.0, reason=None):
    return DeviceTrack(entity, "s1", Scope.AP, status=status, since=since, reason=reason)


def test_site_down_only_when_every_ap_is_down_since_the_last_one():
    a = _dev("a", ApStatus.DOWN, 100.0, Reason.TIMEOUT)
    b = _dev("b", ApStatus.DOWN, 150.0, Reason.TIMEOUT)
    assert roll_up([a, b], None, "active") == (SiteStatus.DOWN, Reason.TIMEOUT, 150.0)
    c = _dev("c", ApStatus.UP, 10.0)
    assert roll_up([a, c], None, "active") == (SiteStatus.DEGRADED, None, 100.0)
    back = _dev("b", ApStatus.UP, 400.0)  # one AP of a down site came back: degraded from then, not before
    assert roll_up([a, back], None, "active") == (SiteStatus.DEGRADED, None, 400.0)
    assert roll_up([c], None, "active")[0] == SiteStatus.UP
    assert roll_up([_dev("d", ApStatus.UNKNOWN)], None, "active")[0] == SiteStatus.UNKNOWN


def test_uplink_down_takes_the_site_down():
    up = _dev("a", ApStatus.UP, 10.0)
    uplink = DeviceTrack("lte", "s1", Scope.UPLINK, status=ApStatus.DOWN, since=300.0, reason=Reason.TIMEOUT)
    assert roll_up([up], uplink, "active") == (SiteStatus.DOWN, Reason.UPLINK_DOWN, 300.0)


def test_site_modes_win():
    down = _dev("a", ApStatus.DOWN, 1.0, Reason.TIMEOUT)
    assert roll_up([down], None, "maintenance")[0] == SiteStatus.MAINTENANCE
    assert roll_up([down], None, "out_of_service")[0] == SiteStatus.OUT_OF_SERVICE


def test_update_site_emits_only_on_change():
    track = SiteTrack("s1")
    track, t = update_site(track, SiteStatus.UP, None, 10.0, 20.0)
    assert t[0].new == "up" and t[0].at == 10.0
    track, t = update_site(track, SiteStatus.UP, None, 15.0, 25.0)
    assert t == []
    track, t = update_site(track, SiteStatus.DOWN, Reason.TIMEOUT, 30.0, 40.0)
    assert t[0].old == "up" and t[0].at == 30.0 and t[0].scope == Scope.SITE
