"""One SNMP device the poller watches: an AP or a site's uplink, with the target it is reached at."""

from __future__ import annotations

from dataclasses import dataclass

from collectors.types import Target
from monitor.config.model import Device, Site
from monitor.domain.vocabulary import Scope


@dataclass(frozen=True)
class Entry:
    """One SNMP device to watch: an AP or a site's uplink."""

    site: Site
    device: Device
    target: Target
    scope: Scope

    @property
    def id(self) -> str:
        return self.device.id
