"""One simulated agent on its own UDP socket: decode, check the community, apply faults, answer."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

import simulator.ber as ber
from simulator.device import DeviceModel
from simulator.faults import Fault, FaultState, garble
from simulator.mib import Mib, build_mib
from simulator.responder import respond
from simulator.spec import AgentSpec

log = logging.getLogger(__name__)

# LTE backhaul of a ferry: every reply is late by this much, and some never arrive.
LTE_LATENCY = (0.150, 0.600)
LTE_LOSS = 0.03


class Agent(asyncio.DatagramProtocol):
    """The SNMP v2c agent of one device. Wrong community, v1/v3 or undecodable requests get no reply."""

    def __init__(self, spec: AgentSpec, model: DeviceModel, clock: Callable[[], float]):
        self.spec = spec
        self.model = model
        self.mib: Mib = build_mib(model)
        self.faults = FaultState()
        self._clock = clock
        self._community = spec.community.encode("utf-8")
        self._rng = random.Random(model.seed)  # loss, latency, garbling: the same run after run
        self._transport: asyncio.DatagramTransport | None = None
        self.requests = 0
        self.replies = 0

    # -- asyncio protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.requests += 1
        reply = self.answer(data)
        if reply is None:
            return
        delay = self.faults.delay
        if self.spec.ferry:
            delay += self._rng.uniform(*LTE_LATENCY)
        if delay:
            # A timer per late reply, not a task: cheap, and nothing to clean up if the socket closes first.
            asyncio.get_running_loop().call_later(delay, self._send, reply, addr)
        else:
            self._send(reply, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("agent_socket_error agent=%s error=%s", self.spec.id, exc)

    # -- the decision -----------------------------------------------------------------------------

    def answer(self, data: bytes) -> bytes | None:
        """The bytes to send back for one datagram, or None for silence."""
        faults = self.faults
        if faults.down:
            return None
        loss = 1 - (1 - faults.loss) * (1 - (LTE_LOSS if self.spec.ferry else 0.0))
        if loss and self._rng.random() < loss:
            return None
        try:
            request = ber.decode_message(data)
        except ber.BerError as exc:
            log.debug("agent_bad_request agent=%s error=%s", self.spec.id, exc)
            return None
        if request.version != ber.VERSION_V2C or request.community != self._community:
            # Real agents stay silent on a wrong community (and count it in snmpInBadCommunityNames).
            log.debug("agent_ignored agent=%s version=%d", self.spec.id, request.version)
            return None
        reply = respond(self.mib, request, self._clock())
        if reply is not None and faults.garbage:
            reply = garble(reply, self._rng)
        return reply

    def apply(self, fault: Fault) -> None:
        if fault.kind == "reboot":
            self.model.reboot(self._clock())
        else:
            self.faults.apply(fault)

    def _send(self, reply: bytes, addr: tuple[str, int]) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        self._transport.sendto(reply, addr)
        self.replies += 1

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
