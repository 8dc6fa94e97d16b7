"""How busy a site is over the day: a piecewise-linear curve of 24 hourly knots, and its exact integral.

The integral is what lets traffic counters be computed lazily: octets since boot are
``rate × (∫load up to now − ∫load up to boot)``, a closed form, so 400 agents need no timers and a
counter never depends on how often it was read.

Local time is UTC plus a fixed offset taken once at start: Asia/Seoul has had no daylight saving since
1988, and a simulator run is short.
"""

from __future__ import annotations

from datetime import datetime, UTC
from collections.abc import Sequence
from zoneinfo import ZoneInfo

DAY = 86400.0
HOUR = 3600.0

# Relative load (1.0 = the site's peak) at each local hour 00:00 … 23:00, by site category.
CURVES: dict[str, tuple[float, ...]] = {
    # Commuters: sharp peaks at 08:00 and 18:00.
    "commute": (0.05, 0.03, 0.02, 0.02, 0.03, 0.10, 0.35, 0.85, 1.00, 0.60, 0.35, 0.35,
                0.45, 0.40, 0.35, 0.40, 0.55, 0.90, 1.00, 0.70, 0.45, 0.30, 0.18, 0.10),
    # Markets: a broad daytime plateau around midday.
    "market": (0.03, 0.02, 0.02, 0.02, 0.03, 0.08, 0.20, 0.35, 0.55, 0.75, 0.90, 1.00,
               1.00, 0.95, 0.90, 0.85, 0.80, 0.70, 0.55, 0.40, 0.25, 0.15, 0.08, 0.05),
    # Parks and sports grounds: afternoon and early evening.
    "leisure": (0.05, 0.03, 0.02, 0.02, 0.02, 0.06, 0.15, 0.25, 0.30, 0.35, 0.45, 0.55,
                0.65, 0.75, 0.85, 0.95, 1.00, 0.95, 0.85, 0.70, 0.50, 0.30, 0.15, 0.08),
    # Tourist sites: late morning to late afternoon.
    "tourist": (0.03, 0.02, 0.02, 0.02, 0.02, 0.04, 0.08, 0.15, 0.30, 0.55, 0.80, 0.95,
                1.00, 1.00, 0.95, 0.90, 0.80, 0.65, 0.45, 0.30, 0.18, 0.10, 0.06, 0.04),
    # Offices, welfare centres, libraries, schools: opening hours.
    "office": (0.02, 0.02, 0.02, 0.02, 0.02, 0.03, 0.05, 0.15, 0.50, 0.85, 1.00, 0.95,
               0.80, 0.95, 1.00, 0.95, 0.85, 0.55, 0.20, 0.08, 0.05, 0.03, 0.02, 0.02),
    # Farm-machinery rental yards: early start, quiet afternoon.
    "farm": (0.02, 0.02, 0.02, 0.02, 0.05, 0.30, 0.80, 1.00, 0.85, 0.60, 0.45, 0.35,
             0.40, 0.35, 0.30, 0.40, 0.55, 0.45, 0.20, 0.08, 0.04, 0.02, 0.02, 0.02),
    # Ferries: passengers on the morning and afternoon sailings.
    "ferry": (0.02, 0.02, 0.02, 0.02, 0.02, 0.05, 0.30, 0.80, 1.00, 0.85, 0.60, 0.55,
              0.60, 0.65, 0.75, 0.90, 1.00, 0.80, 0.40, 0.15, 0.05, 0.02, 0.02, 0.02),
    # Streets, ports and anything else: a plain daytime hump.
    "daytime": (0.04, 0.03, 0.02, 0.02, 0.03, 0.06, 0.15, 0.35, 0.55, 0.65, 0.75, 0.85,
                0.90, 0.90, 0.85, 0.85, 0.90, 1.00, 0.90, 0.70, 0.45, 0.25, 0.12, 0.06),
}

CATEGORY_CURVE: dict[str, str] = {
    "bus_stop": "commute", "port": "commute",
    "market": "market",
    "park": "leisure", "sports": "leisure", "culture": "leisure",
    "tourist_site": "tourist",
    "welfare": "office", "public_office": "office", "library": "office", "school": "office", "health": "office",
    "rental_yard": "farm",
    "ferry": "ferry",
}


def curve_for(category: str) -> tuple[float, ...]:
    return CURVES[CATEGORY_CURVE.get(category, "daytime")]


def utc_offset(tz_name: str, at: float) -> float:
    """Seconds east of UTC of ``tz_name`` at unix time ``at``."""
    offset = datetime.fromtimestamp(at, UTC).astimezone(ZoneInfo(tz_name)).utcoffset()
    return offset.total_seconds() if offset else 0.0


class DailyCurve:
    """Load over the day at local time, shifted by ``shift`` seconds (APs of one kind are not in lockstep)."""

    __slots__ = ("_knots", "_cum", "_day_area", "_offset")

    def __init__(self, knots: Sequence[float], offset: float, shift: float = 0.0):
        if len(knots) != 24 or min(knots) <= 0:
            raise ValueError("a daily curve needs 24 positive hourly knots")
        self._knots = tuple(knots) + (knots[0],)
        # Area (load × seconds) from local midnight to each hour.
        cum = [0.0]
        for h in range(24):
            cum.append(cum[-1] + HOUR * (self._knots[h] + self._knots[h + 1]) / 2)
        self._cum = tuple(cum)
        self._day_area = cum[24]
        self._offset = offset - shift

    def _split(self, t: float) -> tuple[float, int, float]:
        x = t + self._offset
        day, s = divmod(x, DAY)
        h = int(s // HOUR)
        return day, h, (s - h * HOUR) / HOUR

    def value(self, t: float) -> float:
        """Relative load (0 < load ≤ 1) at unix time ``t``."""
        _, h, f = self._split(t)
        v0, v1 = self._knots[h], self._knots[h + 1]
        return v0 + (v1 - v0) * f

    def integral(self, t: float) -> float:
        """∫ load dt from an arbitrary fixed origin to ``t``, in load-seconds; strictly increasing."""
        day, h, f = self._split(t)
        v0, v1 = self._knots[h], self._knots[h + 1]
        return day * self._day_area + self._cum[h] + HOUR * (v0 * f + (v1 - v0) * f * f / 2)
