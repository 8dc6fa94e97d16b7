"""The command line as a user meets it: exit codes and messages that name the place."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.e2e import ROOT, free_port, small_city


def wifimon(*args: str, cwd: Path = ROOT, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def test_check_config_accepts_the_demo():
    out = wifimon("check-config", "config/demo/wifimon.yaml")
    assert out.returncode == 0, out.stderr
    assert "388 APs" in out.stdout
    # 388 APs and 4 LTE uplinks, all on gufo-snmp in auto (collectors/engines.py)
    assert "snmp engine gufo: 392 target(s)" in out.stdout


def test_check_config_says_which_engine_polls_what(tmp_path):
    config = small_city(tmp_path)
    text = config.read_text()
    forced = tmp_path / "pysnmp.yaml"
    forced.write_text(text.replace("service:\n", "service:\n  snmp_engine: pysnmp\n", 1))
    out = wifimon("check-config", str(forced))
    assert out.returncode == 0, out.stderr
    assert re.search(r"snmp engine pysnmp: \d+ target\(s\) \(service.snmp_engine: pysnmp\)", out.stdout), out.stdout


def test_check_config_names_file_line_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sites:\n  - id: x\n    bogus_key: 1\n")
    out = wifimon("check-config", str(bad))
    assert out.returncode == 1
    assert f"{bad}:3: sites[0].bogus_key: unknown key 'bogus_key'" in out.stderr


def test_check_config_reports_an_unknown_profile(tmp_path):
    config = small_city(tmp_path)
    config.write_text(config.read_text().replace("profile: generic}", "profile: nosuchvendor}"))
    out = wifimon("check-config", str(config))
    assert out.returncode == 1 and "sites[1].aps[0].profile: unknown profile 'nosuchvendor'" in out.stderr


def test_run_with_an_unreachable_database_says_which(tmp_path):
    config = small_city(tmp_path)
    dead = free_port()
    config.write_text(config.read_text().replace(
        f"store_url: sqlite:///{tmp_path}/wifimon.db",
        f"store_url: postgresql+psycopg://wifimon:hunter2@127.0.0.1:{dead}/wifimon"))
    out = wifimon("run", str(config))
    assert out.returncode == 1
    assert f"127.0.0.1:{dead}/wifimon" in out.stderr and "hunter2" not in out.stderr
    assert "Traceback" not in out.stderr


def test_status_when_nothing_runs_says_where_it_looked(tmp_path):
    config = small_city(tmp_path)
    out = wifimon("status", str(config))
    assert out.returncode == 1 and "cannot reach the running service at http://127.0.0.1:" in out.stderr


def test_simulate_without_a_simulator_names_the_control_address():
    port = free_port()
    out = wifimon("simulate", "--fault", "x=down", "--control", f"127.0.0.1:{port}")
    assert out.returncode == 1 and f"127.0.0.1:{port}" in out.stderr


def test_run_on_a_port_in_use_names_the_key_not_a_traceback(tmp_path):
    import socket

    config = small_city(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        text = config.read_text()
        config.write_text(text.replace(text.split("listen: ")[1].split("\n")[0], f"127.0.0.1:{port}", 1))
        out = wifimon("run", str(config))
    assert out.returncode == 1
    assert f"service.listen: cannot listen on 127.0.0.1:{port}" in out.stderr
    assert "Traceback" not in out.stderr


def test_run_with_a_state_dir_it_cannot_create_names_the_key_not_a_traceback(tmp_path):
    config = small_city(tmp_path)
    (tmp_path / "a-file").write_text("not a directory\n")
    text = config.read_text()
    config.write_text(text.replace("service:\n", f'service:\n  state_dir: "{tmp_path}/a-file/state"\n', 1))
    out = wifimon("run", str(config))
    assert out.returncode == 1
    assert f"service.state_dir: cannot create {tmp_path}/a-file/state" in out.stderr
    assert "Traceback" not in out.stderr


def test_status_without_the_service_shows_the_last_known_states_from_the_store(tmp_path):
    import time

    from monitor.domain.vocabulary import Reason, Scope, Transition
    from monitor.store import Store

    config = small_city(tmp_path)
    store = Store(f"sqlite:///{tmp_path}/wifimon.db")
    store.migrate()
    run = store.start_run(time.time() - 60)
    store.record_transitions([
        Transition(Scope.SITE, "park", "park", "unknown", "up", time.time() - 50),
        Transition(Scope.SITE, "market", "market", "unknown", "down", time.time() - 40, Reason.TIMEOUT),
    ], run)
    out = wifimon("status", str(config))
    assert out.returncode == 1 and "cannot reach the running service" in out.stderr
    lines = [line.split() for line in out.stdout.splitlines()]
    assert ["market", "down"] == lines[2][:2] and len(lines) == 3, out.stdout  # park is up: not listed
    assert "the other 3 sites were last seen up, or never" in out.stdout


def test_every_time_printed_is_in_the_city_time_zone_and_says_so(tmp_path):
    """The host runs on New York time; the city is Seoul: status (live and last known), alerts and
    maintenance list all print Seoul time with its zone, e.g. '2026-11-26 17:05:09 KST'."""
    import json
    import os
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from monitor.alerting.alerter import to_record
    from monitor.alerting.model import Alert, AlertState, Rule
    from monitor.domain.vocabulary import Reason, Scope, Transition
    from monitor.store import MaintenanceWindow, Store, save_alerting

    at = 1795000009.0  # 2026-11-18 11:06:49 UTC = 20:06:49 KST = 06:06:49 in New York
    kst, new_york = "2026-11-18 20:06:49 KST", "06:06:49"
    config = small_city(tmp_path)
    store = Store(f"sqlite:///{tmp_path}/wifimon.db")
    store.migrate()
    run = store.start_run(at - 60)
    store.record_transitions([Transition(Scope.SITE, "market", "market", "unknown", "down", at, Reason.TIMEOUT)], run)
    alert = Alert(key="site_down:market", rule=Rule.SITE_DOWN, severity="critical", since=at, site="market", gravity=1)
    save_alerting(store, [to_record(AlertState(alert, opened_at=at, status="firing", fired_at=at, notified=()))])
    store.add_maintenance(MaintenanceWindow("site", "park", at, at + 3600, "Asia/Seoul", "kim", recurrence="daily"),
                          at)
    env = dict(os.environ, TZ="America/New_York")

    def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "monitor.cli.main", *args, str(config)], capture_output=True,
                              text=True, cwd=ROOT, env=env, timeout=60)

    last_known = run_cli("status")
    alerts = subprocess.run([sys.executable, "-m", "monitor.cli.main", "alerts", "--config", str(config)],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    planned = subprocess.run([sys.executable, "-m", "monitor.cli.main", "maintenance", "list", "--config",
                              str(config)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert kst in last_known.stdout, last_known.stdout
    assert alerts.stdout.count(kst) == 1, alerts.stdout  # since; not resolved: '-'
    assert re.search(r"(\d{4}-\d\d-\d\d 20:06–21:06|now, until \d{4}-\d\d-\d\d 21:06) KST +daily", planned.stdout), \
        planned.stdout

    doc = {"taken_at": at, "sites": [{"id": "market", "name": "공설시장", "category": "market", "state": "down",
                                      "since": at, "reason": "timeout", "in_service": True,
                                      "aps": [{"id": "market-ap1", "state": "down", "since": at, "reason": "timeout",
                                               "clients": None, "last_poll": at, "last_success": None,
                                               "profile": "unifi"}]}]}

    class StatusApi(BaseHTTPRequestHandler):  # the service's /api/status, as `wifimon run` serves it
        def do_GET(self) -> None:
            body = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    text = config.read_text()
    server = ThreadingHTTPServer(("127.0.0.1", 0), StatusApi)
    config.write_text(text.replace(text.split("listen: ")[1].split("\n")[0], f"127.0.0.1:{server.server_port}", 1))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        live = run_cli("status")
    finally:
        server.shutdown()
        server.server_close()
    assert live.returncode == 0, live.stderr
    assert live.stdout.count(kst) == 2, live.stdout  # the site's since and the AP's last poll
    header, row = [line for line in live.stdout.splitlines() if "market" in line or "REASON" in line]
    assert "REASON" in header and "AP REASON" in header and row.count("timeout") == 2, live.stdout
    assert header.index("REASON") == row.index("timeout") and row.rstrip().endswith("공설시장"), live.stdout
    for out in (last_known.stdout, alerts.stdout, planned.stdout, live.stdout):
        assert new_york not in out


def test_run_with_too_few_open_files_for_its_sockets_says_what_to_raise(tmp_path):
    """The gufo engine keeps a socket per target: a hard limit below targets + 1,024 stops `run` in one line,
    before any run is recorded in the store."""
    import resource

    config = small_city(tmp_path)

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1025, 1025))

    out = subprocess.run([sys.executable, "-m", "monitor.cli.main", "run", str(config)], capture_output=True,
                         text=True, cwd=tmp_path, timeout=60, preexec_fn=low_limit)
    assert out.returncode == 1
    assert re.search(r"needs \d+ open files .* hard limit \(ulimit -Hn\) is 1025: raise it", out.stderr), out.stderr
    assert "Traceback" not in out.stderr
    assert not list(tmp_path.glob("*.db"))
