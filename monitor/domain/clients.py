"""How client counts add up without double counting (the rule dashboards and reports rely on).

A device may report its stations at several levels at once: per VAP (one SSID on one radio), per SSID,
per radio, and a device total (level ``ap``). Each level on its own covers every station once, so
summing across levels counts stations twice or more. The total of a device is therefore the sum at
exactly one level, the first it reports in this order: ``ap`` (the device's own figure), ``vap``,
``ssid``, ``radio``. ``wifi_ap_stations{level}`` says which level an AP's total came from.

``wifi_ap_clients`` has one sample per (radio, ssid, level): a device may list one SSID on one radio in
several rows (two WLANs with the same name, hidden SSIDs all reported as ``<private>``), and those rows
are summed (:func:`series`); ``wifi_ap_client_rows`` says how many rows a sample sums where it is more
than one. A site's total is the sum over the APs whose count is known (up, and the device offers one);
``wifi_site_clients_uncounted_aps`` says how many of its APs that total leaves out, so a partial total
never passes for a complete one, and an unknown count never passes for zero.
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


def series(clients: Iterable[ClientCount]) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(radio, ssid, level) → (stations, rows summed): one entry per label set, in first-seen order."""
    out: dict[tuple[str, str, str], tuple[int, int]] = {}
    for c in clients:
        count, rows = out.get((c.radio, c.ssid, c.level), (0, 0))
        out[(c.radio, c.ssid, c.level)] = (count + c.count, rows + 1)
    return out
