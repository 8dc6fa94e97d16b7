"""``wifimon simulate``: a client of the running simulator's fault-control HTTP API (``--fault gs-0001=down``).

The monitor and the simulator never import each other; they meet at this API and at the inventory file."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import httpx
from collectors.errors import WifimonError

DEFAULT_CONTROL = "127.0.0.1:9169"


class ControlError(WifimonError):
    """The simulator is not reachable, or refused the request; the message names the control address."""


def send_fault(spec: str, control: str = DEFAULT_CONTROL, timeout: float = 5.0) -> list[str]:
    """Apply ``TARGET=FAULT`` (e.g. ``gs-0001=down``, ``site-12=slow:2``) and return the device ids affected."""
    target, sep, fault = spec.partition("=")
    if not sep or not target.strip() or not fault.strip():
        raise ControlError(f"fault {spec!r}: expected TARGET=FAULT, e.g. gs-0001=down or site-7=slow:2")
    reply = _request("POST", control, timeout, {"target": target.strip(), "fault": fault.strip()})
    return list(reply["affected"])


def active_faults(control: str = DEFAULT_CONTROL, timeout: float = 5.0) -> dict[str, list[str]]:
    """Device id → lasting faults, for every device that has one."""
    return dict(_request("GET", control, timeout)["faults"])


def _request(method: str, control: str, timeout: float, body: dict[str, str] | None = None) -> dict[str, Any]:
    url = f"http://{control}/faults"
    try:
        # trust_env=False: a proxy from the environment must never sit between us and loopback.
        with httpx.Client(timeout=timeout, trust_env=False) as client:
            response = client.request(method, url, json=body)
    except httpx.TimeoutException:
        raise ControlError(f"simulator control at {control} did not answer within {timeout:g} s") from None
    except httpx.TransportError as exc:
        raise ControlError(
            f"no simulator control at {control} ({exc}); is `python -m simulator --config ...` running?"
        ) from None
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code != 200:
        detail = payload.get("error") if isinstance(payload, dict) else None
        raise ControlError(
            f"simulator at {control} refused {method} /faults ({response.status_code}): {detail or response.text[:200]}"
        )
    if not isinstance(payload, dict):
        raise ControlError(f"simulator at {control} sent a reply that is not a JSON object")
    return payload


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("simulate", help="change the behaviour of the running simulated fleet")
    p.add_argument("--fault", action="append", required=True, metavar="ID=FAULT",
                   help="site or AP id = down|up|slow|reboot|garbage (repeatable)")
    p.add_argument("--control", default=os.environ.get("WIFIMON_SIM_CONTROL", DEFAULT_CONTROL),
                   help="the simulator's control address")
    p.set_defaults(func=cmd_simulate)


def cmd_simulate(args: argparse.Namespace) -> int:
    try:
        for spec in args.fault:
            affected = send_fault(spec, control=args.control)
            print(f"{spec}: applied to {len(affected)} agent(s): {', '.join(affected)}")
    except ControlError as exc:  # it already says which address and what
        print(f"wifimon simulate: {exc}", file=sys.stderr)
        return 1
    return 0
