"""Service calendars: when a site is supposed to serve. Land sites always; ferries by timetable."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.config import Site

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def in_service(site: Site, now: float, tz: ZoneInfo) -> bool:
    if not site.timetable:
        return True
    local = datetime.fromtimestamp(now, tz)
    day, t = _DAYS[local.weekday()], local.time()
    return any(day in w.days and w.start <= t < w.end for w in site.timetable)
