"""Service calendars: when a site is supposed to serve. Pure.

A land site serves around the clock; a ferry serves during its timetable's weekly windows, read in the
city's local wall-clock time. :func:`in_service` answers for one instant (the poller's question),
:func:`service_intervals` for a period (the report's); both take a window as [start, end).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.domain.availability import Interval, normalise
from monitor.config.model import Site

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def in_service(site: Site, now: float, tz: ZoneInfo) -> bool:
    if not site.timetable:
        return True
    local = datetime.fromtimestamp(now, tz)
    day, t = _DAYS[local.weekday()], local.time()
    return any(day in w.days and w.start <= t < w.end for w in site.timetable)


def service_intervals(site: Site, since: float, until: float, tz: ZoneInfo) -> list[Interval]:
    """The site's service time within [since, until): sorted, disjoint, non-empty intervals."""
    if until <= since:
        return []
    if not site.timetable:
        return [(since, until)]
    out: list[Interval] = []
    day: date = datetime.fromtimestamp(since, tz).date() - timedelta(days=1)
    last: date = datetime.fromtimestamp(until, tz).date()
    while day <= last:
        weekday = _DAYS[day.weekday()]
        for window in sorted(site.timetable, key=lambda w: w.start):
            if weekday not in window.days:
                continue
            start = datetime.combine(day, window.start, tz).timestamp()
            end = datetime.combine(day, window.end, tz).timestamp()
            start, end = max(start, since), min(end, until)
            if start < end:
                out.append((start, end))
        day += timedelta(days=1)
    return normalise(out)
