"""What a device says it is (sysObjectID, sysDescr, sysUpTime), and which profile that picks.

Used by ``wifimon identify`` and by automatic profile selection. It needs nothing beyond the
:class:`~collectors.types.SnmpClient` protocol: a poll with a profile that names no tables is
exactly one GET of sysUpTime.0, sysDescr.0 and sysObjectID.0.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.profile import Fit, Match, Profile, identify, object_labels, ranked
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
    probes_answered: frozenset[str] = frozenset()  # vendor-MIB probe OIDs (profiles' match.probe) present

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_tuple(self) -> tuple[str | None, str | None, int | None]:
        """``(sys_object_id, sys_descr, uptime_ticks)``."""
        return self.sys_object_id, self.sys_descr, self.uptime_ticks


def probe_profile(profiles: dict[str, Profile]) -> Profile:
    """A profile asking the identity scalars plus every profile's probes: one GET, and one GETBULK for
    the probe columns when a profile names any."""
    probes = tuple(dict.fromkeys(p for prof in profiles.values() for p in prof.match.probe))
    columns = tuple(dict.fromkeys(p for prof in profiles.values() for p in prof.match.probe_column))
    return Profile(name="identity", description="identity scalars and vendor probes",
                   match=Match(probe=probes, probe_column=columns))


async def fetch_identity(
    client: SnmpClient, target: Target, profiles: dict[str, Profile] | None = None
) -> Identity:
    """One GET of the three identifying scalars (and the profiles' vendor probes); never raises for
    device problems."""
    asked = probe_profile(profiles) if profiles else IDENTITY_PROFILE
    result = await client.poll(target, asked)
    lacking = [m for m in result.missing if not m.startswith("match.probe")]
    detail = result.detail
    if result.ok and lacking:
        detail = f"agent lacks {', '.join(lacking)}"
    labels = object_labels(asked)
    missing_probes = {labels[m] for m in result.missing if m.startswith("match.probe")}
    probes = (*asked.match.probe, *asked.match.probe_column)
    answered = frozenset(p for p in probes if p not in missing_probes) if result.ok else frozenset()
    return Identity(
        key=target.key,
        sys_object_id=result.sys_object_id,
        sys_descr=result.sys_descr,
        uptime_ticks=result.uptime_ticks,
        error=result.error,
        detail=detail,
        probes_answered=answered,
    )


def select_profile(profiles: dict[str, Profile], identity: Identity) -> Profile:
    """The most specific profile for the device (``generic`` when nothing matches or it did not answer)."""
    return identify(profiles, identity.sys_object_id or "", identity.sys_descr or "", identity.probes_answered)


def explain(profiles: dict[str, Profile], identity: Identity) -> tuple[Fit | None, Fit | None]:
    """(the fit that picked the profile, the runner-up): None where no specific profile matches."""
    fits = ranked(profiles, identity.sys_object_id or "", identity.sys_descr or "", identity.probes_answered)
    return (fits[0] if fits else None), (fits[1] if len(fits) > 1 else None)


async def identify_device(client: SnmpClient, target: Target,
                          profiles: dict[str, Profile]) -> tuple[Profile, Identity]:
    """Ask the device who it is (one GET, vendor probes included) and pick its profile."""
    identity = await fetch_identity(client, target, profiles)
    return select_profile(profiles, identity), identity
