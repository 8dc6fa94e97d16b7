"""What alerting talks about: an alert that should be active, its remembered state, a notification.

Plain frozen dataclasses, no I/O. ``Alert.key`` is stable (rule + site or AP): the same problem keeps the
same key from one evaluation to the next and across restarts, which is what de-duplication rests on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any, Literal


class Rule(StrEnum):
    SITE_DOWN = "site_down"
    SITE_DEGRADED = "site_degraded"
    AP_REBOOTED = "ap_rebooted"
    AP_FLAPPING = "ap_flapping"
    AP_SILENT = "ap_silent"
    FERRY_BACKHAUL_LOST = "ferry_backhaul_lost"
    SERVICE_OVERRUN = "service_overrun"
    SERVICE_STORE = "service_store"
    SERVICE_CHANNEL = "service_channel"
    SERVICE_UNDELIVERED = "service_undelivered"
    CONTROLLER_TABLE_LOST = "controller_table_lost"
    CONTROLLER_DOWN = "controller_down"


SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


def alert_key(rule: Rule | str, subject: str) -> str:
    """The stable key: ``site_down:market``, ``ap_silent:market-ap2``, ``service_channel:slack``."""
    return f"{rule}:{subject}"


@dataclass(frozen=True)
class Alert:
    """An alert that should be active now, with everything a message needs.

    ``since`` is when the problem began (for a down: the first failed probe of the run that confirmed it).
    ``parents`` are keys of alerts that, while active, suppress this one (a site down hides its APs' alerts).
    ``one_shot`` alerts (a reboot, flapping) are sent once, never repeated, and clear without a message.
    ``gravity`` grows when the same alert gets worse (more APs down): that voids an acknowledgement.
    ``avoid`` lists channels that must not carry it (a failing channel is not told it is failing).
    """

    key: str
    rule: Rule
    severity: Literal["critical", "warning", "info"]
    since: float
    site: str | None = None
    ap: str | None = None
    site_name: str = ""
    address: str = ""
    district: str = ""
    aps: tuple[str, ...] = ()  # the APs concerned (down, silent, rebooted…)
    total_aps: int = 0
    reason: str | None = None
    detail: str = ""
    parents: tuple[str, ...] = ()
    one_shot: bool = False
    gravity: int = 0
    avoid: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rule"] = str(self.rule)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Alert:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}  # a field a newer version added is ignored
        for k in ("aps", "parents", "avoid"):
            kw[k] = tuple(kw.get(k, ()))
        kw["rule"] = Rule(kw["rule"])
        return cls(**kw)


@dataclass(frozen=True)
class Ack:
    """An acknowledgement: by whom, when, until when (None: until the alert clears), why."""

    by: str
    at: float
    until: float | None = None
    comment: str = ""

    def active(self, now: float) -> bool:
        return self.until is None or now < self.until


Status = Literal["firing", "suppressed", "held"]


@dataclass(frozen=True)
class AlertState:
    """What the engine remembers about one alert instance (from first seen to resolved).

    ``status``: ``firing`` (sent, or being sent), ``suppressed`` (a parent is active: recorded, not sent),
    ``held`` (a one-shot alert over the fleet-wide burst limit: recorded, not sent).
    ``notified`` lists the channels told so far (the first route's, then escalations); repeats and the
    resolve go to all of them. ``ack_gravity`` is the alert's gravity when the ack was taken.
    """

    alert: Alert
    opened_at: float
    status: Status
    fired_at: float | None = None
    last_sent_at: float | None = None
    sends: int = 0
    escalation: int = 0
    notified: tuple[str, ...] = ()
    ack: Ack | None = None
    ack_gravity: int | None = None
    voided_ack_at: float | None = None  # an ack voided because the alert got worse; ignore it if read again

    @property
    def key(self) -> str:
        return self.alert.key


Kind = Literal["firing", "repeat", "escalation", "worse", "acknowledged", "resolved"]


@dataclass(frozen=True)
class Notification:
    """One message to send to ``channels`` about one alert; ``sequence`` orders them within the alert."""

    kind: Kind
    alert: Alert
    channels: tuple[str, ...]
    at: float
    opened_at: float
    sequence: int
    resolved_at: float | None = None
    ack: Ack | None = None
    escalation: int = 0


@dataclass(frozen=True)
class Resolved:
    """An alert instance that ended at ``at``; ``state`` is its last state."""

    state: AlertState
    at: float
    silent: bool  # no message: it was never sent, or a parent now speaks for it


@dataclass
class StepResult:
    states: dict[str, AlertState]
    notifications: list[Notification] = field(default_factory=list)
    resolved: list[Resolved] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)  # keys whose state must be written
    voided_acks: list[tuple[str, float]] = field(default_factory=list)  # (key, ack time) to clear in the store
    oneshots: tuple[float, ...] = ()  # send times of one-shot alerts within the burst window
