"""How client counts add up without double counting (the rule dashboards and reports rely on).

A device may report its stations at several levels at once: per VAP (one SSID on one radio), per SSID,
per radio, and a device total (level ``ap``). Each level on its own covers every station once, so
summing across levels counts stations twice or more. The total of a device is therefore the sum at
exactly one level, the first it reports in this order: ``ap`` (the device's own figure), ``vap``,
``ssid``, ``radio``. A site's total is the sum of its APs' totals; ``wifi_ap_clients`` keeps every
row with its ``level`` label, and ``wifi_ap_stations{level}`` says which level an AP's total came from.
"""

from __future__ import annotations

from collections.abc import Iterable

from collectors.types import ClientCount

LEVEL_ORDER = ("ap", "vap", "ssid", "radio")


def device_total(clients: Iterable[ClientCount]) -> tuple[int, str] | None:
    """(total stations, the level it was summed at), or None when the device reported no counts."""
    by_level: dict[str, int] = {}
    for c in clients:
        by_level[c.level] = by_level.get(c.level, 0) + c.count
    for level in LEVEL_ORDER:
        if level in by_level:
            return by_level[level], level
    if by_level:  # a level this module does not know yet: take one, never the sum of several
        level = sorted(by_level)[0]
        return by_level[level], level
    return None
