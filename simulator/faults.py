"""Faults an agent can be told to show: parsing their names, the state they leave, malformed replies.

``down``      no reply at all
``up``        clear every fault
``slow[:S]``  reply after S seconds (default 1.5: late, yet inside the monitor's 2 s timeout)
``reboot``    uptime and counters restart from zero, then normal (an action, not a lasting state)
``garbage``   every reply is malformed BER (truncated, or with lengths that lie)
``loss[:P]``  drop each request with probability P (default 0.3)

``down``, ``slow``, ``garbage`` and ``loss`` combine; ``down`` wins while it lasts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

DEFAULT_SLOW = 1.5
MAX_SLOW = 60.0
DEFAULT_LOSS = 0.3

FaultKind = Literal["down", "up", "slow", "reboot", "garbage", "loss"]
KINDS: tuple[FaultKind, ...] = ("down", "up", "slow", "reboot", "garbage", "loss")


class FaultError(ValueError):
    """A fault name or argument that does not parse; the message lists what is accepted."""


class UnknownTarget(KeyError):
    """A fault aimed at an id that is neither a site nor a device of this fleet."""

    def __str__(self) -> str:
        return f"unknown site or device id {self.args[0]!r}"


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    value: float | None = None  # seconds for slow, probability for loss

    def __str__(self) -> str:
        return f"{self.kind}:{self.value:g}" if self.value is not None else self.kind


def parse_fault(text: str) -> Fault:
    """``down``, ``up``, ``slow``, ``slow:2.5``, ``reboot``, ``garbage``, ``loss``, ``loss:0.1``."""
    name, sep, arg = text.strip().partition(":")
    name = name.lower()
    if name not in KINDS:
        raise FaultError(f"unknown fault {text!r}; expected one of {', '.join(KINDS)} (slow:SECONDS, loss:P)")
    if name == "slow":
        delay = _number(text, arg, DEFAULT_SLOW) if sep else DEFAULT_SLOW
        if not 0 < delay <= MAX_SLOW:
            raise FaultError(f"fault {text!r}: the delay must be more than 0 and at most {MAX_SLOW:g} seconds")
        return Fault("slow", delay)
    if name == "loss":
        p = _number(text, arg, DEFAULT_LOSS) if sep else DEFAULT_LOSS
        if not 0 <= p <= 1:
            raise FaultError(f"fault {text!r}: the loss must be a probability between 0 and 1")
        return Fault("loss", p)
    if sep:
        raise FaultError(f"fault {text!r}: {name!r} takes no argument")
    return Fault(name)  # type: ignore[arg-type]


def _number(text: str, arg: str, default: float) -> float:
    try:
        value = float(arg)
    except ValueError:
        raise FaultError(f"fault {text!r}: {arg!r} is not a number") from None
    if value != value:  # NaN
        raise FaultError(f"fault {text!r}: {arg!r} is not a number")
    return value


@dataclass
class FaultState:
    """The lasting faults of one agent."""

    down: bool = False
    delay: float = 0.0
    garbage: bool = False
    loss: float = 0.0

    def apply(self, fault: Fault) -> None:
        """Record a lasting fault (``reboot`` changes the device, not this state)."""
        if fault.kind == "up":
            self.down, self.delay, self.garbage, self.loss = False, 0.0, False, 0.0
        elif fault.kind == "down":
            self.down = True
        elif fault.kind == "slow":
            self.delay = fault.value or DEFAULT_SLOW
        elif fault.kind == "garbage":
            self.garbage = True
        elif fault.kind == "loss":
            self.loss = fault.value or 0.0

    def active(self) -> list[str]:
        out = []
        if self.down:
            out.append("down")
        if self.delay:
            out.append(str(Fault("slow", self.delay)))
        if self.garbage:
            out.append("garbage")
        if self.loss:
            out.append(str(Fault("loss", self.loss)))
        return out


def garble(reply: bytes, rng: random.Random) -> bytes:
    """A malformed copy of a well-formed reply, in one of the ways broken firmware and links do it."""
    how = rng.randrange(3)
    if how == 0:  # cut short: lengths promise more than arrives
        return reply[: max(2, len(reply) * 2 // 3)]
    if how == 1:  # the outer length claims far more than the datagram holds
        header = 2 + (reply[1] & 0x7F if reply[1] & 0x80 else 0)
        return b"\x30\x84\x7f\xff\xff\xff" + reply[header:]
    # bytes flipped inside the PDU: tags and lengths no longer line up
    buf = bytearray(reply)
    for _ in range(max(3, len(buf) // 8)):
        i = rng.randrange(len(buf) // 3, len(buf))
        buf[i] ^= 0xFF
    buf[0] = 0x31  # a SET where a SEQUENCE must be, so no decoder can mistake it for a reply
    return bytes(buf)
