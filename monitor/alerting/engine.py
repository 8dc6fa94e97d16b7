"""The alert engine: desired alerts against remembered alert state → notifications. Pure; time is a parameter.

One call, :func:`step`, per evaluation. For each alert key:

- new and not suppressed → ``firing`` to the route's channels;
- still active → a ``repeat`` after the repeat interval, unless acknowledged (an ack stops repeats until
  it expires, the alert clears, or the alert gets worse — its gravity grows — which voids the ack and
  sends ``worse``); an unacknowledged alert escalates, one channel of the route's ``escalate`` chain per
  ``escalate_after`` seconds since it first fired;
- gone → ``resolved`` to every channel that heard of it; silently if it was never sent, if it was a
  one-shot (a reboot), or if a parent alert that is active now speaks for it (degraded → down);
- with an active parent (its site is down) → recorded as ``suppressed``, not sent; if it is still
  active when the parent clears, it fires then.

One-shot alerts (reboots, flapping) are capped fleet-wide: past ``event_burst`` sends within
``event_burst_window`` further ones are recorded as ``held`` and not sent (a power cut must not page
two hundred times). Maintenance needs nothing here: the rules raise no alert inside a window.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from monitor.alerting.model import Ack, Alert, AlertState, Kind, Notification, Resolved, StepResult
from monitor.alerting.settings import AlertingSettings


def step(states: Mapping[str, AlertState], desired: Mapping[str, Alert], acks: Mapping[str, Ack],
         settings: AlertingSettings, now: float, oneshots: tuple[float, ...] = ()) -> StepResult:
    """Advance every alert to ``now``. ``acks`` are the acknowledgements in the store, by key; ``oneshots``
    the send times of one-shot alerts carried over from the previous step (``StepResult.oneshots``)."""
    th = settings.thresholds
    out: dict[str, AlertState] = dict(states)
    res = StepResult(states=out)
    recent = [t for t in oneshots if t > now - th.event_burst_window]
    # Only top-level alerts (no parents of their own) are parents; they are never suppressed themselves.
    parents_active = {k for k, a in desired.items() if not a.parents}

    def notify(kind: Kind, st: AlertState, channels: tuple[str, ...], **kw: object) -> AlertState:
        st = replace(st, sends=st.sends + 1)
        if channels:
            res.notifications.append(Notification(kind, st.alert, channels, now, st.opened_at, st.sends,
                                                  ack=st.ack, escalation=st.escalation, **kw))  # type: ignore[arg-type]
        return st

    def fire(st: AlertState) -> AlertState:
        route = settings.route_for(st.alert.severity, st.alert.rule)
        channels = tuple(c for c in (route.channels if route else ()) if c not in st.alert.avoid)
        kind: Kind = "firing" if st.fired_at is None else "repeat"
        st = replace(st, status="firing", fired_at=st.fired_at if st.fired_at is not None else now,
                     last_sent_at=now, notified=tuple(dict.fromkeys(st.notified + channels)))
        if st.alert.one_shot:
            recent.append(now)
        return notify(kind, st, st.notified)

    for key, st in states.items():
        if key in desired:
            continue
        del out[key]
        silent = (st.status != "firing" or not st.notified or st.alert.one_shot
                  or any(p in parents_active for p in st.alert.parents))
        if not silent:
            st = notify("resolved", st, st.notified, resolved_at=now)
        res.resolved.append(Resolved(st, now, silent))

    # Parents first, so a child fired in the same step as its parent sees it.
    for key, alert in sorted(desired.items(), key=lambda kv: (bool(kv[1].parents), kv[0])):
        suppressed = any(p in parents_active for p in alert.parents)
        old = states.get(key)
        if old is None:
            st = AlertState(alert, opened_at=now, status="suppressed")
            if suppressed:
                out[key] = st
            elif alert.one_shot and len(recent) >= th.event_burst:
                out[key] = replace(st, status="held")
            else:
                out[key] = fire(st)
            continue
        st = replace(old, alert=alert)
        st = _take_ack(st, acks.get(key), notify)
        if st.ack is not None and st.ack_gravity is not None and alert.gravity > st.ack_gravity:
            res.voided_acks.append((key, st.ack.at))
            st = replace(st, ack=None, ack_gravity=None, voided_ack_at=st.ack.at)
        if suppressed:
            out[key] = replace(st, status="suppressed") if st.status != "held" else st
            continue
        if st.status == "held":
            out[key] = st  # a one-shot over the burst limit stays unsent until it clears
            continue
        if st.status == "suppressed":  # the parent cleared and this is still wrong: say so now
            out[key] = replace(st, status="held") if alert.one_shot and len(recent) >= th.event_burst else fire(st)
            continue
        out[key] = _advance_firing(st, old, settings, now, notify)

    res.changed = {k for k, st in out.items() if states.get(k) != st}
    res.oneshots = tuple(recent)
    return res


def _take_ack(st: AlertState, ack: Ack | None, notify) -> AlertState:  # type: ignore[no-untyped-def]
    """A new acknowledgement from the store: remember it (and the gravity it was taken at) and say so."""
    if ack is None or ack == st.ack or ack.at == st.voided_ack_at or ack.at < st.opened_at:
        return st
    st = replace(st, ack=ack, ack_gravity=st.alert.gravity)
    if st.status == "firing" and st.notified:
        st = notify("acknowledged", st, st.notified)
    return st


def _advance_firing(st: AlertState, old: AlertState, settings: AlertingSettings, now: float,
                    notify: Callable[..., AlertState]) -> AlertState:
    alert = st.alert
    route = settings.route_for(alert.severity, alert.rule)
    acked = st.ack is not None and st.ack.active(now)
    if alert.one_shot:
        return st  # sent once; never repeated, never escalated
    repeat = (route.repeat_interval if route and route.repeat_interval else None) or settings.repeat_interval
    if alert.gravity > old.alert.gravity and st.notified:
        st = replace(notify("worse", st, st.notified), last_sent_at=now)
    elif not acked and st.notified and st.last_sent_at is not None and now - st.last_sent_at >= repeat:
        st = replace(notify("repeat", st, st.notified), last_sent_at=now)
    if route and route.escalate and not acked and st.fired_at is not None:
        due = min(int((now - st.fired_at) // route.escalate_after), len(route.escalate))
        while st.escalation < due:
            channel = route.escalate[st.escalation]
            st = replace(st, escalation=st.escalation + 1)
            if channel not in st.notified and channel not in alert.avoid:
                st = replace(st, notified=st.notified + (channel,))
                st = notify("escalation", st, (channel,))
    return st
