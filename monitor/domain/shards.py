"""Shards and leases, pure: which instance owns a site, when a site was watched, who may be active.

Scale-out (docs/scale-out.md): N instances each own the sites whose stable hash falls in their shard; a
site's APs and uplink go with it, so its roll-up stays in one process. A shard may have a standby, which
takes over when the active's lease (a row in PostgreSQL) is not renewed in time. Everything here takes
time as a parameter and does no I/O.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from monitor.domain.availability import Interval
from monitor.domain.records import RunRecord


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0 ≤ index < count)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index}/{self.count}: want 0 ≤ index < count")

    @property
    def label(self) -> str:
        """'0/2': the shard as metrics, logs and the store name it."""
        return f"{self.index}/{self.count}"

    def owns(self, site_id: str) -> bool:
        return shard_of(site_id, self.count) == self.index


def shard_of(site_id: str, count: int) -> int:
    """The shard of a site among ``count``: SHA-256 of its id, mod ``count``. Not Python's ``hash()``, which
    differs between processes; the same on every machine and every version."""
    return int.from_bytes(hashlib.sha256(site_id.encode("utf-8")).digest()[:8], "big") % count


def parse_shard(text: str) -> Shard:
    """'i/N' (``--shard``); ValueError saying what is wrong."""
    index, sep, count = text.partition("/")
    if not sep or not index.strip().isdigit() or not count.strip().isdigit():
        raise ValueError(f"{text!r} is not of the form INDEX/COUNT (e.g. 0/2)")
    return Shard(int(index), int(count))


# -- who watched when ------------------------------------------------------------------------------------


def covers(run: RunRecord, site_id: str) -> bool:
    """Whether ``run`` watched ``site_id``: a run without a shard (before sharding, or a single instance)
    watched the whole inventory."""
    return run.shard is None or shard_of(site_id, run.shard[1]) == run.shard[0]


def unwatched(runs: Iterable[RunRecord], since: float, until: float) -> list[Interval]:
    """Periods of [since, until) that none of ``runs`` watched (each from its start to its last sign of life)."""
    if until <= since:
        return []
    cursor, gaps = since, []
    # A run that has just started (no heartbeat yet) watched nothing so far, but its start still ends a gap.
    for run in sorted(runs, key=lambda r: r.started_at):
        if run.started_at >= until or run.watched_until <= since:
            continue  # watched none of the period
        start, end = max(run.started_at, since), min(run.watched_until, until)
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < until:
        gaps.append((cursor, until))
    return gaps


def site_gaps(runs: Sequence[RunRecord], site_ids: Iterable[str], since: float, until: float,
              ) -> dict[str, tuple[Interval, ...]]:
    """Each site's unwatched periods: only the runs that covered the site count. Sites covered by the same
    runs share one computation (with N shards there are N groups, not one per site)."""
    counts = sorted({r.shard[1] for r in runs if r.shard is not None})
    groups: dict[tuple[int, ...], list[str]] = defaultdict(list)
    for sid in site_ids:
        groups[tuple(shard_of(sid, n) for n in counts)].append(sid)
    out: dict[str, tuple[Interval, ...]] = {}
    for members in groups.values():
        gaps = tuple(unwatched([r for r in runs if covers(r, members[0])], since, until))
        out.update(dict.fromkeys(members, gaps))
    return out


# -- the lease -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lease:
    """A shard's lease as stored: who holds it and until when (the database's clock)."""

    holder: str
    expires_at: float


LeaseAction = Literal["acquire", "renew", "wait"]


def lease_action(current: Lease | None, me: str, now: float) -> LeaseAction:
    """What an instance ``me`` does with the shard's lease at ``now``: take it (free, or expired: its holder
    stopped renewing), renew it (its own, still valid), or wait (another live holder: be the standby)."""
    if current is None or current.expires_at <= now:
        return "acquire"
    return "renew" if current.holder == me else "wait"


def lease_lost(last_renewed: float | None, now: float, ttl: float) -> bool:
    """The active must stop acting once it cannot show a renewal younger than the lease: from then on a
    standby may hold the lease, and two actives must never both poll and notify."""
    return last_renewed is None or now - last_renewed >= ttl


def taking_over(previous: Lease | None, now: float, grace: float) -> bool:
    """Whether acquiring the lease at ``now`` continues a recent holder's watch (a standby taking over, or a
    quick restart): its lease lapsed at most ``grace`` ago (one probe interval). Then the
    open outages stay open; otherwise nobody watched for a while and they end where the last run stopped."""
    return previous is not None and now - previous.expires_at <= grace
