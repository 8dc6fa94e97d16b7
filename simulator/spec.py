"""What one simulated agent is: the plain description the fleet is started from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from collectors.profile import Profile


@dataclass(frozen=True)
class AgentSpec:
    """One device to simulate: an AP, or a site's uplink (PoE switch, LTE router)."""

    id: str
    site: str
    host: str  # a loopback address
    port: int  # 0 lets the OS choose (tests); the fleet reports the bound port
    community: str = field(repr=False)
    profile: Profile
    role: Literal["ap", "uplink"] = "ap"
    category: str = "other"  # the site's category: picks the daily curve and the crowd size
    ferry: bool = False  # LTE backhaul: latency and packet loss on every reply
    ssids: tuple[str, ...] = ("Public WiFi Free",)
    model: str = ""  # hardware model named in the inventory, shown in sysDescr
    site_name: str = ""  # sysLocation
    serves: tuple[str, ...] = ()  # for an uplink: the site's AP ids, whose traffic it carries
