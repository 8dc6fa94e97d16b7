"""The fleet: every agent on its own loopback socket, faults by site or device id, the control server.

In-process use (tests)::

    async with Fleet.start(specs, control="127.0.0.1:0") as fleet:
        fleet.apply_fault("site-1", "down")
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from collections.abc import AsyncIterator, Callable, Sequence

from simulator.agent import Agent
from simulator.control_server import ControlServer, start_control
from simulator.daily import utc_offset
from simulator.device import DeviceModel
from simulator.faults import Fault, UnknownTarget, parse_fault
from simulator.spec import AgentSpec

log = logging.getLogger(__name__)


class FleetError(RuntimeError):
    """The fleet could not start; the message names every agent and address that failed."""


class Fleet:
    """Running agents, addressed by device id; sites group them for faults."""

    def __init__(self, agents: dict[str, Agent], clock: Callable[[], float]):
        self._agents = agents
        self._clock = clock
        self._sites: dict[str, list[str]] = {}
        for agent in agents.values():
            self._sites.setdefault(agent.spec.site, []).append(agent.spec.id)
        self._endpoints: dict[str, tuple[str, int]] = {}
        self._control: ControlServer | None = None
        self.control_address: str | None = None  # host:port, once the control server listens

    # -- life cycle -------------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        specs: Sequence[AgentSpec],
        control: str | None = "127.0.0.1:0",
        clock: Callable[[], float] = time.time,
        timezone: str = "Asia/Seoul",
    ) -> Fleet:
        """Bind every agent (and the control server unless ``control`` is None); close with ``close()``."""
        ids = [s.id for s in specs]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise FleetError(f"duplicate agent ids: {', '.join(dupes)}")
        start = clock()
        offset = utc_offset(timezone, start)
        agents = {s.id: Agent(s, DeviceModel(s, start, offset), clock) for s in specs}
        fleet = cls(agents, clock)
        loop = asyncio.get_running_loop()
        problems: list[str] = []
        for agent in agents.values():
            spec = agent.spec
            try:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda a=agent: a, local_addr=(spec.host, spec.port)  # type: ignore[misc]
                )
            except OSError as exc:
                problems.append(f"agent {spec.id} at {spec.host}:{spec.port}: {exc.strerror or exc}")
                continue
            fleet._endpoints[spec.id] = transport.get_extra_info("sockname")[:2]
        if problems:
            await fleet.close()
            raise FleetError("could not bind: " + "; ".join(problems))
        if control is not None:
            host, _, port = control.rpartition(":")
            try:
                fleet._control = await start_control(fleet, host or "127.0.0.1", int(port))
            except (OSError, ValueError) as exc:
                await fleet.close()
                raise FleetError(f"control server at {control}: {getattr(exc, 'strerror', None) or exc}") from None
            bound = fleet._control.address
            fleet.control_address = f"{bound[0]}:{bound[1]}"
        log.info("fleet_started agents=%d control=%s", len(agents), fleet.control_address)
        return fleet

    @classmethod
    @asynccontextmanager
    async def start(
        cls,
        specs: Sequence[AgentSpec],
        control: str | None = "127.0.0.1:0",
        clock: Callable[[], float] = time.time,
        timezone: str = "Asia/Seoul",
    ) -> AsyncIterator[Fleet]:
        fleet = await cls.open(specs, control=control, clock=clock, timezone=timezone)
        try:
            yield fleet
        finally:
            await fleet.close()

    async def close(self) -> None:
        if self._control is not None:
            await self._control.close()
            self._control = None
        for agent in self._agents.values():
            agent.close()
        await asyncio.sleep(0)  # let the transports run their close callbacks before the loop moves on
        log.info("fleet_stopped agents=%d", len(self._agents))

    # -- queries ----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._agents)

    @property
    def control_url(self) -> str | None:
        return f"http://{self.control_address}" if self.control_address else None

    def endpoint(self, device_id: str) -> tuple[str, int]:
        """(host, port) the device's agent listens on."""
        return self._endpoints[device_id]

    def agent(self, device_id: str) -> Agent:
        return self._agents[device_id]

    def resolve(self, target: str) -> list[str]:
        """Device ids a target names: a device itself, or every device (APs and uplink) of a site."""
        if target in self._agents:
            return [target]
        if target in self._sites:
            return list(self._sites[target])
        raise UnknownTarget(target)

    def traffic(self) -> tuple[int, int]:
        """(datagrams received, replies sent) over all agents since start."""
        return sum(a.requests for a in self._agents.values()), sum(a.replies for a in self._agents.values())

    def active_faults(self) -> dict[str, list[str]]:
        """Device id → its lasting faults, for devices that have any."""
        out = {}
        for device_id, agent in self._agents.items():
            active = agent.faults.active()
            if active:
                out[device_id] = active
        return out

    # -- control ----------------------------------------------------------------------------------

    def apply_fault(self, target: str, fault: str | Fault) -> list[str]:
        """Apply a fault to a site or device; return the device ids affected. Call it from the fleet's loop.

        Raises UnknownTarget for an unknown id and FaultError for a fault that does not parse.
        """
        parsed = parse_fault(fault) if isinstance(fault, str) else fault
        devices = self.resolve(target)
        for device_id in devices:
            self._agents[device_id].apply(parsed)
        log.info("fault_applied target=%s fault=%s devices=%d", target, parsed, len(devices))
        return devices
