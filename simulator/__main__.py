"""``python -m simulator --config wifimon.yaml [--control 127.0.0.1:9169]``: serve every AP and uplink."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from simulator.fleet import Fleet, FleetError
from simulator.inventory import InventoryError, read_inventory
from simulator.spec import AgentSpec

log = logging.getLogger("simulator")
DEFAULT_CONTROL = "127.0.0.1:9169"  # where `wifimon simulate` and `wifimon demo` expect the control API


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulator", description="Serve simulated SNMP agents for every device of a wifimon config."
    )
    parser.add_argument("--config", required=True, type=Path, help="wifimon config file (the inventory)")
    parser.add_argument("--control", default=DEFAULT_CONTROL, help="host:port of the fault control API")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        inventory = read_inventory(args.config)
    except InventoryError as exc:
        print(f"simulator: cannot use {args.config}:\n{exc}", file=sys.stderr)
        return 2
    specs = inventory.specs
    for warning in inventory.warnings:
        log.warning("device_skipped %s", warning)
    if not specs:
        print(f"simulator: {args.config} has no SNMP v2c device to serve", file=sys.stderr)
        return 2
    return asyncio.run(_serve(specs, args.control, inventory.timezone))


async def _serve(specs: list[AgentSpec], control: str, timezone: str) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        fleet = await Fleet.open(specs, control=control, timezone=timezone)
    except FleetError as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"simulator: serving {len(fleet)} agents, control on {fleet.control_url}", flush=True)
        await stop.wait()
        log.info("simulator_stopping reason=signal")
    finally:
        await fleet.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
