"""The ground-truth soak, short: bench/soak.py for 5 minutes with 30 seeded faults against the demo fleet
(simulator and `wifimon run` as processes, a webhook receiver). Correctness, not timing: every outage
paged once and resolved once with its stored downtime within a probe interval of the truth, no page for
blips, slow replies and single-AP faults, reboots reported = injected, unknown time = monitor downtime; a
controller outage (snmpsim serving a real controller recording, stopped) is one controller_down fired and
resolved once, with no site alert sent for the sites it watches while their outages stay stored."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.soak import RECORDING
from tests.agents import shared_dir

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]


def test_a_five_minute_soak_says_exactly_what_happened(tmp_path):
    shared = shared_dir()
    if shared is None or not (shared / "snmprec" / f"{RECORDING}.snmprec").exists():
        pytest.skip(f"the controller recording {RECORDING}.snmprec not found: need ../shared/snmprec next to the "
                    "repo or $WIFIMON_SHARED/snmprec")
    out = tmp_path / "soak.json"
    schedule = tmp_path / "schedule.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench/soak.py"), "--minutes", "5", "--faults", "30",
                           "--seed", "10", "--schedule", str(schedule), "--json", str(out)],
                          capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    planned = json.loads(schedule.read_text())
    kinds = {f["kind"] for f in planned}
    assert len(planned) == 30 and kinds >= {"site_outage", "blip", "reboot", "restart", "kill", "controller_outage"}
    assert result["problems"] == [], proc.stdout[-4000:]
    assert result["reboots_reported"] == result["reboots_injected"] > 0
    outages = [r for r in result["rows"] if r["kind"] == "site_outage"]
    assert outages and all(r["alerts"] == 1 and r["resolves"] == 1 for r in outages)
    assert all(r["alerts"] == 0 for r in result["rows"] if r["kind"] in ("blip", "slow", "ap_outage", "garbage"))
    controller = [r for r in result["rows"] if r["kind"] == "controller_outage"]
    assert controller and all(r["alerts"] == 1 and r["resolves"] == 1 and r["child_pages"] == 0 for r in controller)
    assert all(r["detected"] for r in controller)  # the watched sites' outages are stored, not lost
    assert result["controller_alerts"] == result["controller_resolves"] == result["controller_outages"]
    assert abs(result["unknown_s"] - result["monitor_down_s"]) <= 10
    assert proc.returncode == 0
