"""Pure arithmetic on device counters: sysUpTime wraps and reboots, interface octet wraps and resets.

sysUpTime is TimeTicks (1/100 s) in 32 bits: it wraps after 497.1 days. A wrap is not a reboot; a
value that went back without wrapping is. Octet counters wrap at 2**32 or 2**64 and restart from zero
when the device reboots; neither may show up as a traffic spike.
"""

from __future__ import annotations

from dataclasses import dataclass

TICKS_WRAP = 2**32
_TICK = 0.01


@dataclass(frozen=True)
class Uptime:
    ticks: int
    at: float
    wraps: int = 0

    @property
    def seconds(self) -> float:
        return (self.ticks + self.wraps * TICKS_WRAP) * _TICK

    @property
    def boot_at(self) -> float:
        return self.at - self.seconds


def advance_uptime(prev: Uptime | None, ticks: int, at: float, tolerance: float = 30.0) -> tuple[Uptime, bool]:
    """The new uptime and whether the device rebooted since ``prev``.

    ``tolerance`` (seconds) absorbs agent clock drift and request latency when recognising a wrap.
    """
    if prev is None:
        return Uptime(ticks, at), False
    if ticks >= prev.ticks:
        return Uptime(ticks, at, prev.wraps), False
    expected = prev.ticks + (at - prev.at) / _TICK
    if expected >= TICKS_WRAP and abs((expected - TICKS_WRAP) - ticks) * _TICK <= tolerance + 0.05 * (at - prev.at):
        return Uptime(ticks, at, prev.wraps + 1), False
    return Uptime(ticks, at), True


def counter_delta(prev: int | None, cur: int, bits: int, elapsed: float, rebooted: bool,
                  max_bytes_per_second: float) -> tuple[int, bool]:
    """Octets since ``prev`` and whether the counter was reset (a discontinuity we could not bridge).

    After a reboot the counter restarted from zero, so ``cur`` itself is the traffic since then.
    A value that went back without a reboot is a wrap when the wrapped delta is plausible for the
    interface, else a reset; an implausible jump forward is a reset too. A reset counts nothing
    rather than invent a spike.
    """
    if prev is None:
        return 0, False
    budget = max_bytes_per_second * max(elapsed, 1.0)
    if rebooted:
        return (cur, False) if cur <= budget else (0, True)
    if cur >= prev:
        delta = cur - prev
        return (delta, False) if delta <= budget else (0, True)
    wrapped = cur + 2**bits - prev
    if wrapped <= budget:
        return wrapped, False
    return (cur, True) if cur <= budget else (0, True)
