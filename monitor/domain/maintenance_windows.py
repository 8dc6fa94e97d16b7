"""Where planned maintenance windows come from, and which are in force: the config's ``maintenance:``
entries plus the windows added at run time (``wifimon maintenance add``) that live in the store.

The service re-reads the store's windows periodically (``monitor.app``), so a window added from the
command line takes effect without a restart. Whether a window covers a site or an AP at a given time is
decided by the pure functions of :mod:`monitor.domain.maintenance`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.config.model import Config, MaintenanceEntry, Site
from monitor.domain.maintenance import in_maintenance, occurrences
from monitor.domain.records import MaintenanceWindow

CONFIG_AUTHOR = "config"  # created_by of windows that come from the config file


def aware(when: datetime, timezone: str) -> datetime:
    """``when`` as an aware datetime: as given if it has a UTC offset, else local time in ``timezone``."""
    return when if when.tzinfo is not None else when.replace(tzinfo=ZoneInfo(timezone))


def to_window(entry: MaintenanceEntry, timezone: str, created_by: str = CONFIG_AUTHOR) -> MaintenanceWindow:
    """A validated entry as a window. A repeating window repeats in ``timezone``'s local time."""
    starts_at = aware(entry.start, timezone).timestamp()
    if entry.end is not None:
        ends_at = aware(entry.end, timezone).timestamp()
    else:
        assert entry.duration is not None  # the model insists on one of the two
        ends_at = starts_at + entry.duration
    kind, value = entry.scope
    return MaintenanceWindow(scope_kind=kind, scope_value=value, starts_at=starts_at, ends_at=ends_at,
                             timezone=timezone, created_by=created_by, recurrence=entry.repeat,
                             comment=entry.comment)


def config_windows(config: Config) -> tuple[MaintenanceWindow, ...]:
    return tuple(to_window(e, config.service.timezone) for e in config.maintenance)


def next_occurrence(window: MaintenanceWindow, now: float, horizon: float = 400 * 86400) -> tuple[float, float] | None:
    """The occurrence in progress at ``now`` or the next one (start, end); None if there is none left
    (or none within ``horizon`` seconds of the later of now and the window's first start)."""
    span = window.ends_at - window.starts_at
    # Looking back one duration finds an occurrence in progress with its real start (not clipped at now):
    # any occurrence still running at now began after now - span.
    for start, end in occurrences(window, now - span, max(now, window.starts_at) + horizon):
        if end > now:
            return start, end
    return None


class MaintenanceBook:
    """The windows in force: the config's, plus the store's as last read. Read and updated on the event
    loop only; ``update`` swaps whole tuples so a reader never sees half a change."""

    def __init__(self, from_config: Iterable[MaintenanceWindow] = ()):
        self._config = tuple(from_config)
        self._stored: tuple[MaintenanceWindow, ...] = ()
        self._split()

    def _split(self) -> None:
        windows = self._config + self._stored
        # AP-scoped windows are kept apart: most rounds have none, and then no AP needs looking at.
        self._site_windows = tuple(w for w in windows if w.scope_kind != "ap")
        self._ap_windows = tuple(w for w in windows if w.scope_kind == "ap")

    @property
    def windows(self) -> tuple[MaintenanceWindow, ...]:
        return self._config + self._stored

    def update(self, stored: Iterable[MaintenanceWindow]) -> bool:
        """Replace the store's windows; True if anything changed."""
        new = tuple(stored)
        if new == self._stored:
            return False
        self._stored = new
        self._split()
        return True

    def site(self, site: Site, now: float) -> bool:
        """The whole site is in a window (site, category, district or everything)."""
        return in_maintenance(self._site_windows, site, now)

    def device(self, site: Site, device: str, now: float) -> bool:
        """One device of the site (an AP or its uplink) is in an AP-scoped window."""
        return bool(self._ap_windows) and in_maintenance(self._ap_windows, site, now, device)
