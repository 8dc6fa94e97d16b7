"""Planned maintenance: which windows cover a site or AP, and when. Pure; time is a parameter.

A recurring window repeats in local wall-clock time of its own time zone (a 02:00 window stays at
02:00 across a DST change); a monthly window on the 31st skips months that have no 31st.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from monitor.domain.availability import Interval, normalise
from monitor.config.model import Site
from monitor.domain.records import MaintenanceWindow

def applies(window: MaintenanceWindow, site: Site, ap: str | None = None) -> bool:
    """Whether the window covers this site (``ap`` None) or this AP of the site."""
    kind, value = window.scope_kind, window.scope_value
    if kind == "all":
        return True
    if kind == "site":
        return value == site.id
    if kind == "category":
        return value == site.category
    if kind == "district":
        return value == site.district
    if kind == "ap":
        return ap is not None and value == ap
    return False


def _add_months(local: datetime, months: int) -> datetime | None:
    year, month = divmod(local.month - 1 + months, 12)
    try:
        return local.replace(year=local.year + year, month=month + 1)
    except ValueError:  # no such day in that month
        return None


def occurrences(window: MaintenanceWindow, since: float, until: float) -> Iterator[Interval]:
    """Every occurrence of the window that overlaps [since, until), clipped to it, in order. A retired window
    (removed after it began) ends at its ``retired_at``: what it covered before stays covered."""
    if window.retired_at is not None:
        until = min(until, window.retired_at)
    duration = window.ends_at - window.starts_at
    if window.recurrence is None:
        start, end = max(window.starts_at, since), min(window.ends_at, until)
        if start < end:
            yield start, end
        return
    tz = ZoneInfo(window.timezone)
    first = datetime.fromtimestamp(window.starts_at, tz).replace(tzinfo=None)
    step_days = {"daily": 1, "weekly": 7}.get(window.recurrence)
    # Skip ahead close to `since` so a window created years ago does not iterate from its start.
    k = 0
    if step_days and since - duration > window.starts_at:
        k = max(0, int((since - duration - window.starts_at) // (step_days * 86400)) - 1)
    elif window.recurrence == "monthly" and since - duration > window.starts_at:
        k = max(0, int((since - duration - window.starts_at) // (31 * 86400)) - 1)
    while True:
        local = first + timedelta(days=step_days * k) if step_days else _add_months(first, k)
        k += 1
        if local is None:
            continue
        start = local.replace(tzinfo=tz).timestamp()
        if start >= until:
            return
        end = start + duration
        if end > since:
            yield max(start, since), min(end, until)


def covered(windows: Iterable[MaintenanceWindow], site: Site, since: float, until: float,
            ap: str | None = None) -> list[Interval]:
    """The merged maintenance intervals of a site (or one of its APs) within [since, until)."""
    return normalise(iv for w in windows if applies(w, site, ap) for iv in occurrences(w, since, until))


def in_maintenance(windows: Iterable[MaintenanceWindow], site: Site, now: float, ap: str | None = None) -> bool:
    return bool(covered(windows, site, now, now + 1e-6, ap))
