"""Which SNMP engine talks to which target: gufo-snmp where it can serve it, pysnmp otherwise.

``service.snmp_engine`` says ``auto`` (the default), ``gufo`` or ``pysnmp``. In ``auto`` each target gets
gufo-snmp (:mod:`collectors.fast_snmp`, a tenth of the CPU) unless :func:`choose_engine` finds a reason it
cannot serve it, and then pysnmp (:mod:`collectors.snmp`) with that reason, which ``check-config`` prints.
Both engines sit under the same :class:`~collectors.reader.Reader`, so results do not depend on the choice
beyond what gufo-snmp cannot see at all (see :mod:`collectors.fast_snmp`: SNMP value types, error-status
other than authorizationError). The trap receiver is pysnmp's whatever the setting.

gufo-snmp 0.13 serves every credential wifimon accepts: v2c, and v3 with MD5, SHA-1, SHA-224, SHA-256,
SHA-384, SHA-512 authentication and DES, AES-128, AES-192, AES-256 (Blumenthal key extension) privacy, and
noAuthNoPriv (tests/test_engines.py checks every protocol, in ten auth/priv pairs and noAuthNoPriv, against
net-snmp on both engines). What it cannot do falls back:

* the package is not importable (not installed, or no wheel for the platform);
* an IPv6 address with a zone (``fe80::1%eth0``): gufo parses addresses without one;
* a slow link, found while running: gufo-snmp walks one column per request, one request at a time per
  target, so a poll costs a round trip per column and step (a UniFi AP behind LTE, 150–600 ms: 3 s and
  more, and its probes wait behind it), where pysnmp asks all columns in one GETBULK. A target whose
  fastest answer of its first :data:`SLOW_ANSWERS` took more than :data:`SLOW_RTT_S`, and more than four
  times the fleet's typical one, moves to pysnmp (logged, ``snmp_engine_switched``). The second condition
  keeps a busy event loop, which delays every answer alike, from moving the whole fleet to the dearer
  engine. Results do not change with the engine; only CPU does.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from collectors.profile import Profile
from collectors.reader import ClientStats
from collectors.snmp import PysnmpClient
from collectors.types import PollResult, ProbeResult, SnmpClient, Target

if TYPE_CHECKING:
    from collectors.fast_snmp import GufoClient

log = logging.getLogger("collectors.snmp")

EngineSetting = Literal["auto", "gufo", "pysnmp"]
SLOW_RTT_S = 0.1
SLOW_ANSWERS = 2
EngineName = Literal["gufo", "pysnmp"]


@dataclass(frozen=True)
class Choice:
    engine: EngineName
    reason: str  # why, for check-config: "" when gufo serves the target in auto


def gufo_missing() -> str:
    """Why gufo-snmp cannot be used on this machine; "" when it can."""
    try:
        found = importlib.util.find_spec("gufo.snmp") is not None
    except ModuleNotFoundError:
        found = False
    return "" if found else "gufo-snmp is not installed (pip install gufo-snmp)"


def choose_engine(target: Target, setting: EngineSetting, missing: str) -> Choice:
    """The engine for ``target`` (pure: ``missing`` is :func:`gufo_missing`'s answer)."""
    if setting == "pysnmp":
        return Choice("pysnmp", "service.snmp_engine: pysnmp")
    if setting == "gufo":
        return Choice("gufo", "service.snmp_engine: gufo")
    if missing:
        return Choice("pysnmp", missing)
    if "%" in target.host:
        return Choice("pysnmp", "an IPv6 address with a zone index, which gufo-snmp cannot parse")
    return Choice("gufo", "")


def summary(targets: Iterable[Target], setting: EngineSetting, missing: str) -> list[str]:
    """One line per engine and reason: ``gufo: 388 targets``, ``pysnmp: 2 targets (why)``."""
    counts = Counter(choose_engine(t, setting, missing) for t in targets)
    return [f"{c.engine}: {n} target(s)" + (f" ({c.reason})" if c.reason else "")
            for c, n in sorted(counts.items(), key=lambda kv: (kv[0].engine, kv[0].reason))]


class _Engine(SnmpClient, Protocol):
    stats: ClientStats

    def receive_drops(self) -> int | None: ...


class RoutedClient:
    """The :class:`~collectors.types.SnmpClient` the service uses: each target through its chosen engine."""

    def __init__(self, setting: EngineSetting = "auto", max_in_flight: int = 50) -> None:
        self._setting = setting
        self._missing = gufo_missing()
        if setting == "gufo" and self._missing:
            raise ValueError(f"service.snmp_engine: gufo: {self._missing}")
        self._engines: dict[EngineName, _Engine] = {"pysnmp": PysnmpClient(max_in_flight=max_in_flight)}
        self._gufo: GufoClient | None = None
        if not self._missing:
            from collectors.fast_snmp import GufoClient  # only where the package is there

            self._gufo = GufoClient(max_in_flight=max_in_flight)
            self._engines["gufo"] = self._gufo
        self._route: dict[str, EngineName] = {}

    def engine_of(self, target: Target) -> EngineName:
        name = self._route.get(target.key)
        if name is None:
            name = self._route[target.key] = choose_engine(target, self._setting, self._missing).engine
        elif name == "gufo" and self._setting == "auto" and self._gufo is not None:
            rtt, answers = self._gufo.round_trip(target.key)
            if (answers >= SLOW_ANSWERS and rtt > SLOW_RTT_S
                    and rtt > 4 * self._gufo.typical_round_trip(time.monotonic())):
                name = self._route[target.key] = "pysnmp"
                log.info("snmp_engine_switched ap=%s to=pysnmp rtt=%.3fs reason=slow link: gufo-snmp asks one"
                         " column per round trip", target.key, rtt)
        return name

    @property
    def stats(self) -> ClientStats:
        """The engines' counters, summed."""
        total = ClientStats()
        for engine in self._engines.values():
            for name, value in vars(engine.stats).items():
                setattr(total, name, getattr(total, name) + value)
        return total

    @property
    def counts(self) -> dict[str, int]:
        """Targets per engine, as routed so far."""
        return dict(Counter(self._route.values()))

    def reserve(self, targets: Sequence[Target]) -> None:
        """Raise the open-files limit for the sockets ``targets`` will need, before anything else starts
        (:func:`collectors.fast_snmp.ensure_fd_limit`: FdLimitError, one line, when the hard limit is too low)."""
        if self._gufo is not None:
            from collectors.fast_snmp import ensure_fd_limit

            ensure_fd_limit(sum(1 for t in targets if self.engine_of(t) == "gufo"))

    async def register(self, targets: Sequence[Target]) -> None:
        """Register each engine's targets with it; ValueError listing every unusable credential of both."""
        problems: list[str] = []
        for name, engine in self._engines.items():
            mine = [t for t in targets if self.engine_of(t) == name]
            if not mine:
                continue
            try:
                await engine.register(mine)
            except ValueError as exc:
                problems.append(str(exc))
        log.info("snmp_engines %s", " ".join(f"{k}={v}" for k, v in sorted(self.counts.items())))
        if problems:
            raise ValueError("\n".join(problems))

    async def probe(self, target: Target) -> ProbeResult:
        return await self._engines[self.engine_of(target)].probe(target)

    async def poll(self, target: Target, profile: Profile) -> PollResult:
        return await self._engines[self.engine_of(target)].poll(target, profile)

    def receive_drops(self) -> int | None:
        """Datagrams the kernel dropped on the engines' own sockets; None where it cannot say."""
        drops = [d for e in self._engines.values() if (d := e.receive_drops()) is not None]
        return sum(drops) if drops else None

    async def close(self) -> None:
        for engine in self._engines.values():
            await engine.close()
