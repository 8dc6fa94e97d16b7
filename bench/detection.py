"""Benchmark: detection latency, fault → alert at a webhook, on the 388-AP demo fleet, default intervals.

Runs the simulator and `wifimon run` (the demo config with its own store, listen port and a webhook
channel added) as child processes, injects ``--outages`` site outages at staggered times (each long
enough to be confirmed, then cleared) and ``--blips`` faults shorter than the confirmation window,
and records when each `site_down` alert arrives at a local webhook receiver. Prints a Markdown table.

    .venv/bin/python bench/detection.py [--outages 100] [--blips 20] [--every 3] [--hold 75]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.cli.simulate import send_fault  # noqa: E402
from tests.e2e import Monitor, free_port, sample, simulator, wait_until  # noqa: E402


class Receiver:
    """A webhook receiver on loopback that notes when each alert first fired."""

    def __init__(self) -> None:
        self.fired: dict[str, float] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if body["kind"] == "firing":
                    outer.fired.setdefault(body["alert"]["key"], time.time())
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--outages", type=int, default=100)
    ap.add_argument("--blips", type=int, default=20, help="faults shorter than the confirmation window")
    ap.add_argument("--blip-seconds", type=float, default=4.0)
    ap.add_argument("--every", type=float, default=3.0, help="seconds between injected faults")
    ap.add_argument("--hold", type=float, default=75.0, help="seconds each outage lasts")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="wifimon-detect-"))
    demo = ROOT / "config/demo/wifimon.yaml"
    data = yaml.safe_load(demo.read_text(encoding="utf-8"))
    data["service"].update(listen=f"127.0.0.1:{free_port()}", store_url=f"sqlite:///{tmp}/bench.db")
    data["traps"] = None
    rx = Receiver()
    data["alerting"] = {"channels": {"hook": {"type": "webhook", "url": rx.url, "timeout": 5}}}
    (tmp / "demo-community.secret").write_text((demo.parent / "demo-community.secret").read_text())
    config = tmp / "wifimon.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    land = [s["id"] for s in data["sites"] if s.get("kind", "land") == "land"]
    rng = random.Random(7)
    chosen = rng.sample(land, args.outages + args.blips)
    outages, blips = chosen[: args.outages], chosen[args.outages:]

    with simulator(config, tmp) as control:
        mon = Monitor(config, tmp).start()
        try:
            wait_until("the fleet up", lambda: sum(
                1 for line in mon.metrics().splitlines()
                if line.startswith("wifi_ap_up{") and line.endswith(" 1.0")) >= 380, 120)
            t_fault: dict[str, float] = {}
            plan = sorted([(i * args.every, s, "outage") for i, s in enumerate(outages)]
                          + [(rng.uniform(0, args.outages * args.every), s, "blip") for s in blips])
            t0 = time.time()
            clears: list[tuple[float, str]] = []
            for at, site, kind in plan:
                while clears and clears[0][0] <= time.time():
                    send_fault(f"{clears.pop(0)[1]}=up", control=control)
                time.sleep(max(0.0, t0 + at - time.time()))
                send_fault(f"{site}=down", control=control)
                t_fault[site] = time.time()
                clears.append((time.time() + (args.hold if kind == "outage" else args.blip_seconds), site))
                clears.sort()
            for when, site in clears:
                time.sleep(max(0.0, when - time.time()))
                send_fault(f"{site}=up", control=control)
            time.sleep(20)
            overruns = sample(mon.metrics(), "wifimon_round_overruns_total", round="probe")
        finally:
            mon.stop()

    lat = sorted(rx.fired[f"site_down:{s}"] - t_fault[s] for s in outages if f"site_down:{s}" in rx.fired)
    missed = args.outages - len(lat)
    false = sum(1 for s in blips if f"site_down:{s}" in rx.fired)
    print("| measure | value |\n| --- | --- |")
    print(f"| site outages injected / alerted | {args.outages} / {len(lat)} (missed {missed}) |")
    if lat:
        q = statistics.quantiles(lat, n=20)
        print(f"| fault → alert at webhook: median / p95 / max | {statistics.median(lat):.1f} s / {q[18]:.1f} s / {lat[-1]:.1f} s |")
        print(f"| min | {lat[0]:.1f} s |")
    print(f"| faults of {args.blip_seconds:g} s (shorter than the confirmation window) that alerted | {false} of {args.blips} |")
    print(f"| probe-round overruns during the run | {overruns} |")


if __name__ == "__main__":
    main()
