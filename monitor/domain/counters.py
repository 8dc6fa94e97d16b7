"""Pure arithmetic on device counters: sysUpTime wraps and reboots, interface octet wraps and resets.

A reboot is judged on the implied boot time, never on one uptime reading being smaller than another.
Each reading says: the agent, asked at ``at - rtt`` and answering at ``at``, had been up ``seconds``; so it
booted somewhere in ``[at - rtt - seconds - 1 tick, at - seconds]``. While the device runs that interval
stays put, however late or out of order the answers come back (LTE). A reboot moves it forward by more
than the two readings' uncertainty, to a time after the device last answered with the old boot.

sysUpTime is TimeTicks (1/100 s) in 32 bits: it wraps after 497.1 days. A wrap moves the implied boot
time forward by exactly 2**32 ticks; it is counted as a wrap, not a reboot. Octet counters wrap at 2**32
or 2**64 and restart from zero when the device reboots; neither may show up as a traffic spike.
"""

from __future__ import annotations

from dataclasses import dataclass

TICKS_WRAP = 2**32
_TICK = 0.01
WRAP_SECONDS = TICKS_WRAP * _TICK
# How far an agent's clock may run fast or slow against ours, as a fraction of the time between two
# readings (crystals are within 100 ppm; NTP slews at most 500 ppm).
CLOCK_DRIFT = 1e-3


@dataclass(frozen=True)
class Uptime:
    """One sysUpTime reading: ``ticks`` as answered at ``at`` (unix s) to a request sent ``rtt`` s before."""

    ticks: int
    at: float
    rtt: float = 0.0
    wraps: int = 0

    @property
    def seconds(self) -> float:
        return (self.ticks + self.wraps * TICKS_WRAP) * _TICK

    @property
    def boot_at(self) -> float:
        """The latest boot time this reading allows (the agent read its clock no later than ``at``)."""
        return self.at - self.seconds

    @property
    def earliest_boot_at(self) -> float:
        """The earliest: read as soon as asked, and ticks truncate to whole hundredths."""
        return self.at - self.rtt - self.seconds - _TICK


def advance_uptime(prev: Uptime | None, ticks: int, at: float, rtt: float = 0.0) -> tuple[Uptime, bool]:
    """The reading to keep and whether the device rebooted since ``prev``.

    ``at`` is when the agent answered, ``rtt`` how long before that it was asked. A reading answered
    before ``prev`` (it arrived out of order) is ignored, and so is one implying an earlier boot that
    was asked before ``prev`` was answered: neither can ever make a reboot.
    """
    if prev is None:
        return Uptime(ticks, at, rtt), False
    if at < prev.at:
        return prev, False
    new = Uptime(ticks, at, rtt, prev.wraps)
    slack = CLOCK_DRIFT * (at - prev.at)
    if new.boot_at < prev.earliest_boot_at - slack:
        # An earlier boot than the one held. Asked before that reading was answered, it may have been
        # read before a reboot we already counted and delivered late: stale, ignored. Asked after, it is
        # newer: the agent's clock ran fast, or another device answers there. Never a reboot.
        return (prev if at - rtt < prev.at else new), False
    if new.earliest_boot_at <= prev.boot_at + slack:
        return new, False  # the same boot: no reboot
    wraps = round((new.boot_at - prev.boot_at) / WRAP_SECONDS)
    if wraps >= 1:
        wrapped = Uptime(ticks, at, rtt, prev.wraps + wraps)
        if (wrapped.earliest_boot_at <= prev.boot_at + slack
                and wrapped.boot_at >= prev.earliest_boot_at - slack):
            return wrapped, False
    rebooted = Uptime(ticks, at, rtt)  # a restart counts its uptime from zero, without the old wraps
    if rebooted.boot_at < prev.at - prev.rtt - slack:
        # Booted before the device last answered with its old boot time: no reboot can explain that.
        # The agent's uptime ran slow or stood still (a frozen value, a controller's coarse figure).
        return new, False
    return rebooted, True


def counter_delta(prev: int | None, cur: int, bits: int, elapsed: float, rebooted: bool,
                  capacity_bytes_per_second: float) -> tuple[int, bool]:
    """Octets since ``prev`` and whether the counter was reset (a discontinuity we could not bridge).

    ``capacity_bytes_per_second`` is what the interface can carry (its ifHighSpeed / ifSpeed), so
    ``capacity × elapsed`` bounds the traffic between two readings. After a reboot the counter restarted
    from zero, so ``cur`` itself is the traffic since then. A value that went back without a reboot is a
    wrap only when the wrapped delta fits that bound; otherwise it is a reset, and a reset counts
    nothing: a counter has no defined value after a discontinuity (RFC 2578 §7.1.6), so neither the
    wrapped delta nor ``cur`` is traffic we know of. An impossible jump forward is a reset too.
    """
    if prev is None:
        return 0, False
    budget = capacity_bytes_per_second * max(elapsed, 1.0)
    if rebooted:
        return (cur, False) if cur <= budget else (0, True)
    if cur >= prev:
        delta = cur - prev
        return (delta, False) if delta <= budget else (0, True)
    wrapped = cur + 2**bits - prev
    return (wrapped, False) if wrapped <= budget else (0, True)
