"""Scale-out on loopback, all real: 2 shards of a simulated fleet + a standby for shard 1, one fresh PostgreSQL
database, 2 Alertmanager peers gossiping (Debian's prometheus-alertmanager) in front of one webhook receiver,
and Prometheus scraping the three instances with the project's shard watchdog rule.

1. A site of each shard goes down: each site-down alert reaches both peers and is notified once.
2. SIGKILL of shard 1's active: the standby takes over within a lease and a probe interval, the open outage
   stays one open outage (not ended, not doubled), no second notification; a site downed after takeover
   is alerted once.
3. Shard 0 stopped: its sites become unknown (not down) in month-to-date, the other shard's do not, and the
   watchdog (Prometheus: every instance of a shard down) fires once.

``WIFIMON_SCALE_E2E_APS`` sets the APs per shard (default 2,000, the issue's size; 2 per site). The test prints
the takeover's parts (lease lapse and check, start-up after the lease, first probe round): docs/scale-out.md
"The test" records the runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import yaml

from monitor.cli.simulate import send_fault
from monitor.config.load import load_config
from monitor.domain.shards import shard_of
from monitor.report.build import gather, month_period, current_month, site_timelines
from monitor.domain.availability import figures
from monitor.store import OutageRecord, Store
from tests import dbs
from tests.alerting_helpers import Receiver
from tests.e2e import ROOT, _start, _stop, free_block, free_port, simulator, wait_until
from tests.ports import free_tcp_udp_port

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

AM = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
APS_PER_SHARD = int(os.environ.get("WIFIMON_SCALE_E2E_APS", "2000"))
PROBE = 5.0  # probe interval and lease: the standby must take over within about one of each
RULES = ROOT / "config" / "prometheus" / "rules.yml"


def _fleet(tmp: Path, db_url: str, am: list[str], aps_per_shard: int = APS_PER_SHARD,
           ) -> tuple[Path, dict[int, list[str]]]:
    """A city of 2-AP sites split about evenly by the site hash into 2 shards; sites by shard."""
    octet = free_block()
    (tmp / "community.secret").write_text("scale-community\n")
    sites, by_shard, n = [], {0: [], 1: []}, 0
    while min(len(v) for v in by_shard.values()) * 2 < aps_per_shard:
        sid = f"s{n:05d}"
        k = shard_of(sid, 2)
        if len(by_shard[k]) * 2 < aps_per_shard:
            by_shard[k].append(sid)
            aps = [{"id": f"{sid}-ap{j}", "address": f"127.{octet}.{(2 * n + j) // 250 + 1}.{(2 * n + j) % 250 + 1}:1161",
                    "credentials": "sim", "profile": "generic"} for j in (1, 2)]
            sites.append({"id": sid, "name": f"사이트 {n}", "category": "park", "aps": aps})
        n += 1
    doc = {
        "service": {"store_url": db_url, "probe_interval": PROBE, "metrics_interval": 600, "recheck_interval": 1,
                    "confirm_failures": 2, "snmp": {"timeout": 1.5, "retries": 1}, "concurrency": 100,
                    "lease_ttl": PROBE},
        "credentials": {"sim": {"version": "2c", "community": {"file": "community.secret"}}},
        "alerting": {"channels": {f"am{i}": {"type": "alertmanager", "url": url, "resend_interval": 30}
                                  for i, url in enumerate(am)},
                     "delivery": {"backoff": 0.5, "max_backoff": 2}},
        "sites": sites,
    }
    path = tmp / "wifimon.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, by_shard


class Instance:
    def __init__(self, tmp: Path, config: Path, name: str, shard: str, standby: bool = False):
        self.port = free_port()
        self.name, self.tmp, self.config, self.shard, self.standby = name, tmp, config, shard, standby
        self.proc: subprocess.Popen[str] | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> Instance:
        cmd = [sys.executable, "-m", "monitor.cli.main", "run", str(self.config), "--shard", self.shard,
               "--listen", f"127.0.0.1:{self.port}"] + (["--standby"] if self.standby else [])
        self.proc = _start(cmd, "standby_waiting" if self.standby else "metrics at ", self.tmp / f"{self.name}.log",
                           180)
        return self

    def ready(self) -> bool:
        return httpx.get(f"{self.url}/readyz", timeout=3).status_code == 200

    def metrics(self) -> str:
        return httpx.get(f"{self.url}/metrics", timeout=10).text


@pytest.fixture
def database() -> Iterator[str]:
    dbs.require_postgres()
    name = dbs.unique_name("wifimon_scale")
    dbs.create_pg_database(name)
    try:
        yield dbs.pg_url(database=name)
    finally:
        dbs.drop_pg_database(name)
        for journal in ROOT.glob(f"wifimon-{name}-*.journal"):  # each instance's crash journal (cwd is ROOT)
            journal.unlink()


def _alertmanagers(tmp: Path, hook: Receiver) -> Iterator[list[str]]:
    (tmp / "am.yml").write_text(f"""\
route:
  receiver: hook
  group_by: [alertname, site, shard]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {hook.url}/am
        send_resolved: false
""")
    web, mesh = [free_port(), free_port()], [free_tcp_udp_port()]
    while len(mesh) < 2:  # two distinct gossip ports, each free for TCP and UDP (memberlist binds both)
        mesh += [p for p in [free_tcp_udp_port()] if p not in mesh]
    procs = []
    for i in range(2):
        log = (tmp / f"am{i}.log").open("w")
        procs.append(subprocess.Popen([
            AM, f"--config.file={tmp / 'am.yml'}", f"--storage.path={tmp / f'am{i}'}",
            f"--web.listen-address=127.0.0.1:{web[i]}", f"--cluster.listen-address=127.0.0.1:{mesh[i]}",
            f"--cluster.advertise-address=127.0.0.1:{mesh[i]}", f"--cluster.peer=127.0.0.1:{mesh[1 - i]}",
            "--cluster.peer-timeout=3s"], stdout=log, stderr=subprocess.STDOUT))
    urls = [f"http://127.0.0.1:{p}" for p in web]
    try:
        for url in urls:
            wait_until(f"{url} ready", lambda u=url: httpx.get(f"{u}/-/ready", timeout=1).status_code == 200, 30)

        def settled() -> bool:
            return all(len(httpx.get(f"{u}/api/v2/status", timeout=2).json()["cluster"]["peers"]) == 2 for u in urls)

        wait_until("the two Alertmanager peers to see each other", settled, 30)
        yield urls
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


def _prometheus(tmp: Path, instances: list[Instance], am: list[str]) -> subprocess.Popen[bytes]:
    """Prometheus scraping every instance with its shard label, evaluating the project's shard watchdog rule
    (its expression as committed; only its ``for`` shortened for the test) and alerting both peers."""
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    [rule] = [r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "WifimonShardUnwatched"]
    rule["for"] = "2s"
    (tmp / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "shards", "rules": [rule]}]}))
    targets = [{"targets": [f"127.0.0.1:{i.port}"], "labels": {"shard": i.shard}} for i in instances]
    (tmp / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(tmp / "rules.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [u.removeprefix("http://") for u in am]}]}]},
        "scrape_configs": [{"job_name": "wifimon", "static_configs": targets}],
    }))
    port = free_port()
    log = (tmp / "prometheus.log").open("w")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={tmp / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    wait_until("prometheus ready", lambda: httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=1).status_code == 200,
               30)
    return proc


def _logged_at(log: str, event: str) -> float:
    """The unix time of the first log line of ``event``."""
    line = next(line for line in log.splitlines() if f"event={event} " in line)
    return datetime.fromisoformat(line.split()[0].removeprefix("ts=")).timestamp()


def _notified(hook: Receiver) -> Counter[tuple[str, str]]:
    """Firing notifications the receiver got, per (alertname, site or shard)."""
    seen: Counter[tuple[str, str]] = Counter()
    for r in hook.received():
        for a in json.loads(r.body)["alerts"]:
            if a["status"] == "firing":
                seen[(a["labels"]["alertname"], a["labels"].get("site") or a["labels"].get("shard", ""))] += 1
    return seen


def _in_peers(am: list[str], alertname: str, site: str) -> bool:
    return all(any(a["labels"].get("alertname") == alertname and a["labels"].get("site") == site
                   for a in httpx.get(f"{u}/api/v2/alerts", timeout=3).json()) for u in am)


def test_two_shards_a_standby_and_an_alertmanager_cluster(tmp_path: Path, database: str):
    for binary in (AM, PROMETHEUS):
        if not Path(binary).exists():
            pytest.skip(f"{binary} is not installed")
    hook = Receiver()
    am_gen = _alertmanagers(tmp_path, hook)
    am = next(am_gen)
    config, by_shard = _fleet(tmp_path, database, am)
    full = load_config(config).config
    down0, down1, later1 = by_shard[0][0], by_shard[1][0], by_shard[1][1]
    up0 = by_shard[0][1]
    prom = None
    with simulator(config, tmp_path) as control:
        s0 = Instance(tmp_path, config, "shard0", "0/2").start()
        s1 = Instance(tmp_path, config, "shard1", "1/2").start()
        standby = Instance(tmp_path, config, "standby1", "1/2", standby=True).start()
        instances = [s0, s1, standby]
        try:
            prom = _prometheus(tmp_path, instances, am)
            wait_until("both actives ready", lambda: s0.ready() and s1.ready(), 180)
            assert not standby.ready()  # /readyz 503: a standby watches nothing
            assert 'wifimon_instance_active{shard="1/2"} 0.0' in standby.metrics()
            assert 'wifimon_instance_active{shard="1/2"} 1.0' in s1.metrics()
            assert f'site="{down1}"' not in s0.metrics() and f'site="{down0}"' in s0.metrics()

            send_fault(f"{down0}=down", control)
            send_fault(f"{down1}=down", control)
            for site in (down0, down1):
                wait_until(f"WifiSiteDown {site} in both peers", lambda s=site: _in_peers(am, "WifiSiteDown", s), 90)
                wait_until(f"WifiSiteDown {site} notified", lambda s=site: _notified(hook)[("WifiSiteDown", s)], 60)

            store = Store(database)

            def open_site_outages() -> list[OutageRecord]:
                return [o for o in store.open_outages() if o.entity == down1 and str(o.scope) == "site"]

            try:
                wait_until(f"the open outage of {down1} in the store", open_site_outages, 90)
            except AssertionError as exc:
                mine = [o for o in store.outages(time.time() - 3600, time.time() + 1) if o.site == down1]
                raise AssertionError(f"{exc}; outages of the site's entities: {mine}; "
                                     f"{len(store.open_outages())} open in all") from None
            [outage] = open_site_outages()

            assert s1.proc is not None
            killed, killed_at = time.monotonic(), time.time()
            s1.proc.kill()  # SIGKILL: no clean stop, no lease release
            wait_until("the standby to take over", standby.ready, 60)
            took = time.monotonic() - killed
            standby_log = (tmp_path / "standby1.log").read_text()
            leased, started = (_logged_at(standby_log, event) for event in ("lease_acquired", "service_started"))
            print(f"standby took over (ready) {took:.1f} s after SIGKILL of the active (lease {PROBE:g} s, "
                  f"probe {PROBE:g} s): lease acquired after {leased - killed_at:.1f} s, started "
                  f"{started - leased:.2f} s later, first probe round done {killed_at + took - started:.1f} s later")
            assert took <= 3 * PROBE, took  # lease lapse + a renewal period + start-up + the first probe round
            assert 'wifimon_instance_active{shard="1/2"} 1.0' in standby.metrics()

            send_fault(f"{later1}=down", control)
            wait_until(f"WifiSiteDown {later1} notified after takeover",
                       lambda: _notified(hook)[("WifiSiteDown", later1)], 90)
            site_outages = [o for o in store.outages(time.time() - 3600, time.time() + 1)
                            if o.entity == down1 and str(o.scope) == "site"]
            assert [(o.id, o.ended_at) for o in site_outages] == [(outage.id, None)]  # still the one, still open

            assert s0.proc is not None
            s0.proc.terminate()  # the whole of shard 0 stops (it has no standby)
            s0.proc.wait(30)
            stopped = time.time()
            wait_until("the shard watchdog notified", lambda: _notified(hook)[("WifimonShardUnwatched", "0/2")], 90)
            wait_until("12 s past the stop", lambda: time.time() > stopped + 12, 30)
            period = month_period(current_month(time.time(), full.service.timezone), full.service.timezone,
                                  time.time())
            history = gather(store, period, usage=False, sites=[s.id for s in full.sites])
            sites, _ = site_timelines(full, history, period, with_aps=False)
            unknown = {sid: sum(e - s for s, e in tl.unknown if e > stopped) for sid, tl in sites.items()}
            fig = {sid: figures(tl) for sid, tl in sites.items()}
            # Shard 0's sites: unknown from its stop on. Shard 1's: watched (a live run counts up to its last
            # heartbeat, every 5 s, so at most that much is unknown at the edge).
            print(f"unknown since the stop: shard 0 site {unknown[up0]:.1f} s, shard 1 site "
                  f"{unknown[by_shard[1][5]]:.1f} s, {time.time() - stopped:.1f} s after the stop")
            assert unknown[up0] >= time.time() - stopped - 1 and unknown[by_shard[1][5]] <= 5 + 1
            assert fig[up0].downtime == 0 and fig[up0].availability == 1.0  # unknown, not down
            assert fig[down0].downtime <= stopped - outage.started_at + 2 * PROBE  # not growing after the stop

            notes = _notified(hook)
            print("notifications:", dict(notes))
            assert notes[("WifiSiteDown", down0)] == 1 and notes[("WifiSiteDown", down1)] == 1
            assert notes[("WifiSiteDown", later1)] == 1 and notes[("WifimonShardUnwatched", "0/2")] == 1
            assert notes[("WifimonShardUnwatched", "1/2")] == 0  # the standby kept shard 1 watched
            store.close()
        finally:
            if prom is not None:
                prom.terminate()
                prom.wait(10)
            for i in instances:
                if i.proc is not None:
                    _stop(i.proc)
            try:
                next(am_gen)
            except StopIteration:
                pass
            hook.close()


def test_an_active_whose_lease_is_taken_stops_at_once_and_says_why(tmp_path: Path, database: str):
    """Two actives must never both poll and notify: an active that finds its lease held by another (here
    taken behind its back, as a standby would after a network partition) stops within a renewal period and
    exits 1 with a one-line reason, no traceback."""
    from sqlalchemy import text

    config, _ = _fleet(tmp_path, database, [], aps_per_shard=20)
    with simulator(config, tmp_path):
        active = Instance(tmp_path, config, "shard0", "0/2").start()
        wait_until("the active ready", active.ready, 60)
        store = Store(database)
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE leases SET holder = 'thief', expires_at = now() + interval '1 hour' "
                              "WHERE name = 'shard 0/2'"))
        store.close()
        assert active.proc is not None
        taken = time.monotonic()
        code = active.proc.wait(30)
        stopped_after = time.monotonic() - taken
        log = (tmp_path / "shard0.log").read_text()
        assert code == 1, log[-2000:]
        assert stopped_after < PROBE / 3 + 15, stopped_after  # the next renewal, then a clean stop
        assert "event=lease_lost" in log and "lease lost to another instance; stopped watching" in log
        assert "Traceback" not in log
        assert "event=lease_released" not in log  # not its lease any more: it leaves the thief's row alone


def test_a_warm_standby_registers_its_targets_but_polls_and_writes_nothing_until_it_holds_the_lease(
        tmp_path: Path, database: str):
    """A standby prepares what needs no lease while it waits (its SNMP targets registered), and sends not one
    datagram to an agent, records no run, until the lease is free: then it only has the rest to do."""
    config, by_shard = _fleet(tmp_path, database, [], aps_per_shard=40)
    store = Store(database)
    store.migrate()
    action, _, _ = store.lease("shard 0/2", "elsewhere", 3600)  # another instance holds shard 0
    assert action == "acquire"
    with simulator(config, tmp_path) as control:
        def agents_asked() -> int:
            return int(httpx.get(f"http://{control}/healthz", timeout=3).json()["requests"])

        standby = Instance(tmp_path, config, "standby0", "0/2", standby=True).start()
        try:
            log = tmp_path / "standby0.log"
            wait_until("the standby's targets registered", lambda: "event=snmp_targets_registered" in log.read_text(),
                       30)
            assert f"targets={2 * len(by_shard[0])}" in log.read_text()
            registered = time.time()

            def watched_two_probe_intervals() -> bool:  # what a standby must never have done, checked throughout
                assert agents_asked() == 0 and store.runs(0, time.time() + 1) == [] and not standby.ready()
                return time.time() > registered + 2 * PROBE

            wait_until("two probe intervals of waiting", watched_two_probe_intervals, 4 * PROBE)
            assert 'wifimon_instance_active{shard="0/2"} 0.0' in standby.metrics()

            assert store.release("shard 0/2", "elsewhere")
            wait_until("the standby to take over", standby.ready, 30)
            assert agents_asked() > 0 and [r.shard for r in store.runs(0, time.time() + 1)] == [(0, 2)]
        finally:
            if standby.proc is not None:
                _stop(standby.proc)
            store.close()
