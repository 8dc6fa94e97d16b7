"""Helpers to run the real thing: the simulator and `wifimon run` as child processes on loopback."""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Callable, Iterator

import httpx
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[1]




class Exited(AssertionError):
    """A child process died while we waited for it."""


def wait_until(what: str, check: Callable[[], object], timeout: float, every: float = 0.2) -> object:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exited:
            raise
        except Exception as exc:  # the thing may not be up yet
            last_exc = exc
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_exc!r})")


def free_block(port: int = 1161, octets: range | None = None) -> int:
    """A second octet X whose 127.X.1.1:port no other test run holds now (parallel runs pick at random; the
    workers of one `pytest -n N` run each pick from their own share of 100-199)."""
    if octets is None:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
        count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        octets = range(100 + (int(worker) if worker.isdigit() else 0) % count, 200, count)
    for _ in range(50):
        octet = random.choice(octets)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind((f"127.{octet}.1.1", port))
            except OSError:
                continue
        return octet
    raise RuntimeError("no free 127.X block for a simulated fleet")


def small_city(tmp: Path, *, probe: float = 2, metrics: float = 4, recheck: float = 1, octet: int | None = None,
               listen_port: int | None = None) -> Path:
    """A four-site city with a ferry, on its own random 127.x block so parallel runs do not collide."""
    octet = octet or free_block()
    listen_port = listen_port or free_port()
    (tmp / "community.secret").write_text("e2e-community\n")
    ip = lambda s, a: f"127.{octet}.{s}.{a}:1161"  # noqa: E731
    text = f"""\
service:
  listen: 127.0.0.1:{listen_port}
  store_url: sqlite:///{tmp}/wifimon.db
  probe_interval: {probe}
  metrics_interval: {metrics}
  recheck_interval: {recheck}
  confirm_failures: 3
  snmp: {{timeout: 0.5, retries: 0}}
credentials:
  sim: {{version: "2c", community: {{file: community.secret}}}}
sites:
  - id: market
    name: 공설시장
    category: market
    district: 월명동
    lat: 35.98
    lon: 126.71
    aps:
      - {{id: market-ap1, address: "{ip(1, 1)}", credentials: sim, profile: unifi}}
      - {{id: market-ap2, address: "{ip(1, 2)}", credentials: sim, profile: unifi}}
  - id: park
    name: 은파호수공원
    category: park
    aps:
      - {{id: park-ap1, address: "{ip(2, 1)}", credentials: sim, profile: generic}}
  - id: stop
    name: 군산역 버스정류장
    category: bus_stop
    aps:
      - {{id: stop-ap1, address: "{ip(3, 1)}", credentials: sim, profile: auto}}
  - id: ferry
    name: 옥도훼리
    category: ferry
    kind: ferry
    timetable:
      - {{days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "23:59:59"}}
    snmp: {{timeout: 0.8, retries: 1}}
    uplink: {{id: ferry-lte, address: "{ip(4, 9)}", credentials: sim, profile: mikrotik}}
    aps:
      - {{id: ferry-ap1, address: "{ip(4, 1)}", credentials: sim, profile: unifi}}
"""
    path = tmp / "wifimon.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _start(cmd: list[str], ready: str, log: Path, timeout: float) -> subprocess.Popen[str]:
    fh = log.open("w")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
    def started() -> bool:
        if proc.poll() is not None:
            raise Exited(f"{cmd} exited with {proc.returncode}: {log.read_text()[-3000:]}")
        return ready in log.read_text()

    try:
        wait_until(f"{cmd[1:4]} to print {ready!r} (log {log})", started, timeout)
    except BaseException:
        proc.kill()
        raise
    return proc


def _stop(proc: subprocess.Popen[str], kill: bool = False) -> None:
    if proc.poll() is None:
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextmanager
def simulator(config: Path, tmp: Path) -> Iterator[str]:
    control = f"127.0.0.1:{free_port()}"
    proc = _start([sys.executable, "-m", "simulator", "--config", str(config), "--control", control],
                  "simulator: serving", tmp / "simulator.log", 60)
    try:
        yield control
    finally:
        _stop(proc)


class Monitor:
    """`wifimon run` in a child process; restartable, killable."""

    def __init__(self, config: Path, tmp: Path):
        self.config, self.tmp = config, tmp
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.runs = 0

    def start(self) -> Monitor:
        self.runs += 1
        log = self.tmp / f"wifimon-{self.runs}.log"
        self.proc = _start([sys.executable, "-m", "monitor.cli.main", "run", str(self.config)], "metrics at ", log, 60)
        self.url = re.search(r"http://127\.0\.0\.1:\d+/metrics", log.read_text()).group(0)  # type: ignore[union-attr]
        return self

    def stop(self, kill: bool = False) -> None:
        if self.proc:
            _stop(self.proc, kill)

    def metrics(self) -> str:
        return httpx.get(self.url, timeout=5).text


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """The value of one series in an exposition text, or None."""
    for line in metrics.splitlines():
        if not line.startswith(name + "{"):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            return float(value)
    return None


def duplicate_series(metrics: str) -> list[str]:
    """Samples of an exposition text whose name and label set occur more than once (Prometheus keeps one)."""
    from prometheus_client.parser import text_string_to_metric_families

    seen: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
    for family in text_string_to_metric_families(metrics):
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            seen[key] = seen.get(key, 0) + 1
    return [f"{name}{dict(labels)} ×{n}" for (name, labels), n in seen.items() if n > 1]
