"""The domain's vocabulary: states, reasons, and the records the state machine emits."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


MAINTENANCE_SCOPES = ("ap", "site", "category", "district", "all")
RECURRENCES = ("daily", "weekly", "monthly")


class ApStatus(StrEnum):
    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"  # not yet polled, or the monitor itself was not running
    MAINTENANCE = "maintenance"
    OUT_OF_SERVICE = "out_of_service"  # a ferry off its timetable


class SiteStatus(StrEnum):
    UP = "up"  # every AP up
    DEGRADED = "degraded"  # some APs down
    DOWN = "down"  # every AP down, or the uplink down
    UNKNOWN = "unknown"
    MAINTENANCE = "maintenance"
    OUT_OF_SERVICE = "out_of_service"


class Reason(StrEnum):
    """Why something is down. The first four come straight from the collectors' error kinds."""

    TIMEOUT = "timeout"
    SNMP_ERROR = "snmp_error"
    AUTH_ERROR = "auth_error"
    PROTOCOL_ERROR = "protocol_error"
    UPLINK_DOWN = "uplink_down"
    CONTROLLER_REPORTS_DOWN = "controller_reports_down"
    ABSENT_FROM_CONTROLLER = "absent_from_controller"
    ALL_APS_DOWN = "all_aps_down"


class Scope(StrEnum):
    AP = "ap"
    SITE = "site"
    UPLINK = "uplink"


class EventKind(StrEnum):
    REBOOT = "reboot"
    FLAPPING = "flapping"
    COUNTER_RESET = "counter_reset"


@dataclass(frozen=True)
class Transition:
    """An entity changed state. ``at`` is when the new state began (for a down: the first failed probe)."""

    scope: Scope
    entity: str  # AP id, site id or uplink device id
    site: str
    old: str
    new: str
    at: float  # unix seconds
    reason: Reason | None = None
    detail: str = ""


@dataclass(frozen=True)
class Event:
    """Something that happened without changing state: a reboot, flapping, a counter reset."""

    kind: EventKind
    entity: str
    site: str
    at: float
    detail: str = ""
