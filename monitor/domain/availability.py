"""Availability arithmetic: what the report prints and ``wifi_site_availability_ratio`` exports. Pure.

For one site (or AP) over a period [since, until) — a calendar month in the city's time zone, a day of
it, or the month so far (DESIGN.md, "Availability"):

- scheduled   = service calendar − planned maintenance windows
- unknown     = scheduled time without evidence either way: nobody was watching (a monitoring gap), or
                the entity was in a state that says nothing about service (``unknown`` before its first
                probe, the seconds after a maintenance window or a ferry's sailing begins before the
                first probe, ...)
- downtime    = scheduled time inside an outage, less unknown time (a gap inside an outage is unknown:
                nobody saw it down then)
- up          = scheduled − unknown − downtime
- availability = up / (scheduled − unknown); ``None`` when nothing scheduled was observed, never 0 or 1

Every quantity is a set of intervals before it is a number, so a period can be cut anywhere (at a month
boundary, at midnight) and the parts add up to the whole. An outage that crosses a cut counts as one
outage on each side it touches: an outage from 30 September 22:00 to 1 October 03:00 is one outage of
September and one of October, each with its own part of the downtime.

Outages come from the store's outage rows, one list per entity; the store allows one open outage per
entity at a time, so the outages of one entity do not overlap.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Interval = tuple[float, float]

#: States that are evidence of service or its absence. Anything else (``unknown``, ``maintenance``,
#: ``out_of_service``) says nothing about whether users had Wi-Fi.
EVIDENCE_STATES = frozenset({"up", "down", "degraded"})


# -- interval sets: sorted, disjoint, non-empty (start, end) pairs --------------------------------------


def normalise(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, merged (overlapping or touching) intervals; empty ones dropped."""
    out: list[Interval] = []
    for start, end in sorted(iv for iv in intervals if iv[1] > iv[0]):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The intersection of two normalised interval sets."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """``a`` less ``b``, both normalised."""
    out: list[Interval] = []
    j = 0
    for start, end in a:
        while j < len(b) and b[j][1] <= start:
            j += 1
        k, cursor = j, start
        while k < len(b) and b[k][0] < end:
            if b[k][0] > cursor:
                out.append((cursor, b[k][0]))
            cursor = max(cursor, b[k][1])
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def clip(a: Sequence[Interval], since: float, until: float) -> list[Interval]:
    """A normalised set cut to [since, until)."""
    return intersect(a, [(since, until)]) if until > since else []


def length(a: Iterable[Interval]) -> float:
    """Total seconds of a normalised set."""
    return sum(end - start for start, end in a)


def no_evidence(initial: str | None, changes: Iterable[tuple[float, str]], since: float,
                until: float) -> list[Interval]:
    """When, within [since, until), an entity's recorded state said nothing about service.

    ``initial`` is its state at ``since`` (None: never recorded, which is no evidence), ``changes`` its
    transitions (time, new state) within the period, in any order.
    """
    out: list[Interval] = []
    state, cursor = initial, since
    for at, new in sorted(changes, key=lambda c: c[0]):
        at = min(max(at, since), until)
        if state not in EVIDENCE_STATES and at > cursor:
            out.append((cursor, at))
        state, cursor = new, max(cursor, at)
    if state not in EVIDENCE_STATES and until > cursor:
        out.append((cursor, until))
    return normalise(out)


# -- one entity over one period ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeline:
    """How one entity spent [since, until), as interval sets; the source of every figure about it.

    ``scheduled`` = ``up`` ∪ ``down`` ∪ ``unknown`` (disjoint). ``maintenance`` is the service time the
    planned windows took out. ``spells`` holds, for each outage passed in and in that order, the part of
    it that counted as downtime (empty if none did: wholly in maintenance, off the timetable, in a gap).
    """

    since: float
    until: float
    service: tuple[Interval, ...]
    maintenance: tuple[Interval, ...]
    scheduled: tuple[Interval, ...]
    unknown: tuple[Interval, ...]
    down: tuple[Interval, ...]
    up: tuple[Interval, ...]
    spells: tuple[tuple[Interval, ...], ...]


def timeline(since: float, until: float, service: Iterable[Interval], maintenance: Iterable[Interval] = (),
             unknown: Iterable[Interval] = (), outages: Sequence[Interval] = ()) -> Timeline:
    """Classify [since, until) for one entity.

    ``service``: its calendar; ``maintenance``: planned windows; ``unknown``: monitoring gaps and
    no-evidence states; ``outages``: one (start, end) per outage (end = ``until`` for one still open).
    Inputs need not be sorted, merged or clipped.
    """
    if until <= since:
        return Timeline(since, max(since, until), (), (), (), (), (), (), tuple(() for _ in outages))
    service_set = clip(normalise(service), since, until)
    planned = clip(normalise(maintenance), since, until)
    scheduled = subtract(service_set, planned)
    unknown_set = intersect(scheduled, normalise(unknown))
    down = subtract(intersect(scheduled, normalise(outages)), unknown_set)
    up = subtract(subtract(scheduled, unknown_set), down)
    spells = tuple(tuple(intersect(down, normalise([o]))) for o in outages)
    return Timeline(since, until, tuple(service_set), tuple(intersect(service_set, planned)), tuple(scheduled),
                    tuple(unknown_set), tuple(down), tuple(up), spells)


@dataclass(frozen=True)
class Figures:
    """The report's numbers for one entity, or summed over several (``+``). Seconds throughout."""

    service: float = 0.0  # calendar time (a ferry's timetable hours)
    maintenance: float = 0.0  # calendar time taken out by planned maintenance
    scheduled: float = 0.0
    unknown: float = 0.0
    downtime: float = 0.0
    outages: int = 0  # outages with some downtime in the period
    longest: float = 0.0  # the longest of those, counting only its downtime in the period

    @property
    def observed(self) -> float:
        """Scheduled time with evidence: the availability's denominator."""
        return self.scheduled - self.unknown

    @property
    def up(self) -> float:
        return self.scheduled - self.unknown - self.downtime

    @property
    def availability(self) -> float | None:
        """(scheduled − unknown − downtime) / (scheduled − unknown); None if nothing was observed."""
        observed = self.observed
        if observed <= 0:
            return None
        return min(1.0, max(0.0, self.up / observed))

    @property
    def mttr(self) -> float | None:
        """Mean time to repair: downtime per outage (None without outages)."""
        return self.downtime / self.outages if self.outages else None

    @property
    def mtbf(self) -> float | None:
        """Mean time between failures: observed up time per outage (None without outages)."""
        return self.up / self.outages if self.outages else None

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            service=self.service + other.service,
            maintenance=self.maintenance + other.maintenance,
            scheduled=self.scheduled + other.scheduled,
            unknown=self.unknown + other.unknown,
            downtime=self.downtime + other.downtime,
            outages=self.outages + other.outages,
            longest=max(self.longest, other.longest),
        )


def total(figures: Iterable[Figures]) -> Figures:
    """The sum of several entities' figures: time-weighted availability, outages added, longest of all."""
    out = Figures()
    for f in figures:
        out = out + f
    return out


def figures(tl: Timeline) -> Figures:
    """The figures of a whole timeline."""
    counted = [length(s) for s in tl.spells]
    return Figures(
        service=length(tl.service),
        maintenance=length(tl.maintenance),
        scheduled=length(tl.scheduled),
        unknown=length(tl.unknown),
        downtime=length(tl.down),
        outages=sum(1 for c in counted if c > 0),
        longest=max(counted, default=0.0),
    )


def split(tl: Timeline, bounds: Sequence[float]) -> list[Figures]:
    """Figures of each part [bounds[i], bounds[i+1]) of the timeline (e.g. its days), in one sweep each.

    The same rules as :func:`figures`: an outage counts in every part where it has downtime, with that
    part's share as its length there.
    """
    n = len(bounds) - 1
    if n < 1:
        return []
    service, maint, sched, unknown, down = (
        _buckets(s, bounds) for s in (tl.service, tl.maintenance, tl.scheduled, tl.unknown, tl.down)
    )
    outages, longest = [0] * n, [0.0] * n
    for spell in tl.spells:
        for i, seconds in enumerate(_buckets(spell, bounds)):
            if seconds > 0:
                outages[i] += 1
                longest[i] = max(longest[i], seconds)
    return [Figures(service[i], maint[i], sched[i], unknown[i], down[i], outages[i], longest[i]) for i in range(n)]


def _buckets(intervals: Sequence[Interval], bounds: Sequence[float]) -> list[float]:
    """Seconds of ``intervals`` falling in each [bounds[i], bounds[i+1])."""
    out = [0.0] * (len(bounds) - 1)
    for start, end in intervals:
        i = max(0, bisect_right(bounds, start) - 1)
        while i < len(out) and bounds[i] < end:
            lo, hi = max(start, bounds[i]), min(end, bounds[i + 1])
            if hi > lo:
                out[i] += hi - lo
            i += 1
    return out
