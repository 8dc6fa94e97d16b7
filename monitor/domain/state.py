"""The pure state machine: probe outcomes in, new state and transitions out. No I/O; time is a parameter.

An AP is declared down only after ``confirm_failures`` consecutive failed probes (the first failure
schedules fast re-checks), so one lost UDP packet on a lossy LTE link is not an outage. The outage
starts at the first failed probe of the run that confirmed it and ends at the first successful one
(the time ``at`` of an outcome is the caller's: a success is dated when the answer came).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from monitor.domain.vocabulary import ApStatus, Event, EventKind, Reason, Scope, SiteStatus, Transition

Mode = Literal["active", "maintenance", "out_of_service"]


@dataclass(frozen=True)
class Policy:
    confirm_failures: int = 3
    flapping_transitions: int = 6
    flapping_window: float = 600.0


@dataclass(frozen=True)
class DeviceTrack:
    """What the monitor believes about one SNMP device (an AP or an uplink)."""

    entity: str
    site: str
    scope: Scope = Scope.AP
    status: ApStatus = ApStatus.UNKNOWN
    since: float | None = None
    reason: Reason | None = None
    detail: str = ""
    failures: int = 0  # consecutive failed probes
    first_failure_at: float | None = None
    last_success_at: float | None = None
    mode: Mode = "active"
    recent_changes: tuple[float, ...] = ()  # times of up/down changes inside the flapping window
    flapping: bool = False

    @property
    def confirming(self) -> bool:
        """Failing but not yet confirmed down: the scheduler re-checks it fast."""
        return self.failures > 0 and self.status != ApStatus.DOWN and self.mode == "active"


def _moved(track: DeviceTrack, new: ApStatus, at: float, reason: Reason | None, detail: str,
           policy: Policy) -> tuple[DeviceTrack, list[Transition], list[Event]]:
    transition = Transition(track.scope, track.entity, track.site, track.status.value, new.value, at, reason, detail)
    events: list[Event] = []
    changes = track.recent_changes
    flapping = track.flapping
    if {track.status, new} <= {ApStatus.UP, ApStatus.DOWN}:
        changes = tuple(t for t in changes if t > at - policy.flapping_window) + (at,)
        if len(changes) >= policy.flapping_transitions and not flapping:
            flapping = True
            events.append(Event(EventKind.FLAPPING, track.entity, track.site, at,
                                f"{len(changes)} up/down changes in {policy.flapping_window:.0f} s"))
        elif len(changes) < policy.flapping_transitions // 2:
            flapping = False
    new_track = replace(track, status=new, since=at, reason=reason, detail=detail,
                        recent_changes=changes, flapping=flapping)
    return new_track, [transition], events


def observe(track: DeviceTrack, ok: bool, at: float, policy: Policy, error: str | None = None,
            detail: str = "") -> tuple[DeviceTrack, list[Transition], list[Event]]:
    """Fold one probe outcome (``ok`` or a collectors ErrorKind value) into the track."""
    if ok:
        track = replace(track, failures=0, first_failure_at=None, last_success_at=at)
        if track.mode == "active" and track.status != ApStatus.UP:
            return _moved(track, ApStatus.UP, at, None, "", policy)
        return track, [], []
    failures = track.failures + 1
    first = track.first_failure_at if track.first_failure_at is not None else at
    track = replace(track, failures=failures, first_failure_at=first, detail=detail)
    if (track.mode == "active" and track.status != ApStatus.DOWN and failures >= policy.confirm_failures):
        reason = Reason(error) if error is not None and error in Reason._value2member_map_ else Reason.SNMP_ERROR
        assert first is not None
        return _moved(track, ApStatus.DOWN, first, reason, detail, policy)
    return track, [], []


def lose_sight(track: DeviceTrack, at: float, policy: Policy,
               detail: str) -> tuple[DeviceTrack, list[Transition], list[Event]]:
    """The only source of news about the device failed (its controller's table is lost): unknown, not down."""
    track = replace(track, failures=0, first_failure_at=None, detail=detail)
    if track.mode != "active" or track.status == ApStatus.UNKNOWN:
        return track, [], []
    return _moved(track, ApStatus.UNKNOWN, at, None, detail, policy)


def set_mode(track: DeviceTrack, mode: Mode, at: float,
             policy: Policy) -> tuple[DeviceTrack, list[Transition], list[Event]]:
    """Enter or leave maintenance / out-of-service. Leaving it makes the device unknown until probed."""
    if mode == track.mode:
        return track, [], []
    target = {"active": ApStatus.UNKNOWN, "maintenance": ApStatus.MAINTENANCE,
              "out_of_service": ApStatus.OUT_OF_SERVICE}[mode]
    track = replace(track, mode=mode, failures=0, first_failure_at=None)
    if target == track.status:
        return track, [], []
    return _moved(track, target, at, None, "", policy)


@dataclass(frozen=True)
class SiteTrack:
    site: str
    status: SiteStatus = SiteStatus.UNKNOWN
    since: float | None = None
    reason: Reason | None = None


def roll_up(aps: Iterable[DeviceTrack], uplink: DeviceTrack | None, mode: Mode,
            ) -> tuple[SiteStatus, Reason | None, float | None]:
    """A site's status from its devices, with the reason and when that status began.

    Down when every AP is down (it began when the last one went down) or when the uplink is down.
    """
    if mode == "maintenance":
        return SiteStatus.MAINTENANCE, None, None
    if mode == "out_of_service":
        return SiteStatus.OUT_OF_SERVICE, None, None
    if uplink is not None and uplink.status == ApStatus.DOWN:
        return SiteStatus.DOWN, Reason.UPLINK_DOWN, uplink.since
    active = [a for a in aps if a.status not in (ApStatus.MAINTENANCE, ApStatus.OUT_OF_SERVICE)]
    if not active:
        return SiteStatus.MAINTENANCE, None, None
    down = [a for a in active if a.status == ApStatus.DOWN]
    if down and len(down) == len(active):
        reasons = Counter(a.reason for a in down if a.reason)
        reason = reasons.most_common(1)[0][0] if reasons else Reason.TIMEOUT
        return SiteStatus.DOWN, reason, max(a.since or 0.0 for a in down)
    if down:  # began with the latest change of any AP: an AP going down, or one of a down site coming back
        return SiteStatus.DEGRADED, None, max(a.since or 0.0 for a in active)
    up = [a for a in active if a.status == ApStatus.UP]
    if up:
        return SiteStatus.UP, None, max(a.since or 0.0 for a in up)
    return SiteStatus.UNKNOWN, None, None


def update_site(track: SiteTrack, status: SiteStatus, reason: Reason | None, since: float | None,
                now: float) -> tuple[SiteTrack, list[Transition]]:
    if status == track.status and reason == track.reason:
        return track, []
    at = since if since is not None and since <= now else now
    new = SiteTrack(track.site, status, at, reason)
    if status == track.status:  # only the reason changed (e.g. uplink down while all APs down)
        return replace(new, since=track.since), []
    return new, [Transition(Scope.SITE, track.site, track.site, track.status.value, status.value, at, reason)]
