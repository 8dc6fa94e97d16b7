"""What a device says it is (sysObjectID, sysDescr, sysUpTime), and which profile that picks.

Used by ``wifimon identify`` and by automatic profile selection. It needs nothing beyond the
:class:`~collectors.types.SnmpClient` protocol: a poll with a profile that names no tables is
exactly one GET of sysUpTime.0, sysDescr.0 and sysObjectID.0.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.profile import Profile, identify
from collectors.types import ErrorKind, SnmpClient, Target

IDENTITY_PROFILE = Profile(name="identity", description="sysUpTime.0, sysDescr.0, sysObjectID.0 only")


@dataclass(frozen=True)
class Identity:
    """The device's own description of itself; ``error``/``detail`` say why a field is missing."""

    key: str
    sys_object_id: str | None = None
    sys_descr: str | None = None
    uptime_ticks: int | None = None
    error: ErrorKind | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_tuple(self) -> tuple[str | None, str | None, int | None]:
        """``(sys_object_id, sys_descr, uptime_ticks)``."""
        return self.sys_object_id, self.sys_descr, self.uptime_ticks


async def fetch_identity(client: SnmpClient, target: Target) -> Identity:
    """One GET of the three identifying scalars; never raises for device problems."""
    result = await client.poll(target, IDENTITY_PROFILE)
    detail = result.detail
    if result.ok and result.missing:
        detail = f"agent lacks {', '.join(result.missing)}"
    return Identity(
        key=target.key,
        sys_object_id=result.sys_object_id,
        sys_descr=result.sys_descr,
        uptime_ticks=result.uptime_ticks,
        error=result.error,
        detail=detail,
    )


def select_profile(profiles: dict[str, Profile], identity: Identity) -> Profile:
    """The most specific profile for the device (``generic`` when nothing matches or it did not answer)."""
    return identify(profiles, identity.sys_object_id or "", identity.sys_descr or "")
