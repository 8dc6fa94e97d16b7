"""A fleet of simulated SNMP v2c agents with controllable faults, for the demo, tests and benchmarks.

Run ``python -m simulator --config config/demo/wifimon.yaml``; in a test, ``async with Fleet.start(specs)``.
"""

from simulator.faults import Fault, FaultError, UnknownTarget, parse_fault
from simulator.fleet import Fleet, FleetError
from simulator.spec import AgentSpec

__all__ = ["AgentSpec", "Fault", "FaultError", "Fleet", "FleetError", "UnknownTarget", "parse_fault"]
