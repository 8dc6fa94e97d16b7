"""Prometheus, Alertmanager, Grafana provisioning and compose files: checked by the real tools
(promtool, amtool from Debian's packages) and for the cross-references between them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from monitor.exposition.metric_names import METRICS
from tests.prom import ROOT, alerting_rules, metric_names, recording_rules

PROM_DIR = ROOT / "config" / "prometheus"
PROMETHEUS_YML = PROM_DIR / "prometheus.yml"
RULES_YML = PROM_DIR / "rules.yml"
RULES_TEST_YML = PROM_DIR / "rules_test.yml"
ALERTMANAGER_YML = ROOT / "config" / "alertmanager" / "alertmanager.yml"
GRAFANA_DIR = ROOT / "config" / "grafana" / "provisioning"
COMPOSE = ROOT / "docker-compose.yml"

REQUIRED_ALERTS = {
    "WifimonDown", "WifimonRoundOverruns", "WifimonNotificationFailures", "WifimonStoreErrors",
    "WifimonUdpDrops", "Watchdog",
}


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian: prometheus / prometheus-alertmanager)")
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=ROOT)


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- promtool ---------------------------------------------------------------------------------------


def test_promtool_check_config():
    r = run(tool("promtool"), "check", "config", str(PROMETHEUS_YML))
    assert r.returncode == 0, r.stdout + r.stderr


def test_promtool_check_rules():
    r = run(tool("promtool"), "check", "rules", str(RULES_YML))
    assert r.returncode == 0, r.stdout + r.stderr


def test_promtool_test_rules():
    r = run(tool("promtool"), "test", "rules", str(RULES_TEST_YML))
    assert r.returncode == 0, r.stdout + r.stderr


def test_promtool_test_rules_can_fail(tmp_path):
    """A rule file whose alert never fires must fail the same unit tests."""
    rules = load(RULES_YML)
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == "WifimonDown":
                rule["expr"] = "vector(1) == 0"
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules, allow_unicode=True))
    shutil.copy(RULES_TEST_YML, tmp_path / "rules_test.yml")
    r = run(tool("promtool"), "test", "rules", str(tmp_path / "rules_test.yml"))
    assert r.returncode != 0 and "WifimonDown" in r.stdout + r.stderr


# --- What the rules say ----------------------------------------------------------------------------


def test_required_alerts_exist_with_severity_and_korean_summary():
    alerts = alerting_rules(RULES_YML)
    assert REQUIRED_ALERTS <= set(alerts), f"missing: {REQUIRED_ALERTS - set(alerts)}"
    for name, rule in alerts.items():
        assert rule.get("labels", {}).get("severity") in {"critical", "warning", "none"}, name
        assert re.search(r"[\uac00-\ud7a3]", rule["annotations"]["summary"]), f"{name}: summary not Korean"
        assert rule["annotations"].get("description"), f"{name}: no description"


def test_watchdogs():
    alerts = alerting_rules(RULES_YML)
    down = alerts["WifimonDown"]
    assert re.sub(r"\s", "", down["expr"]) == 'absent(up{job="wifimon"}==1)'
    assert down["for"] == "2m" and down["labels"]["severity"] == "critical"
    assert alerts["Watchdog"]["expr"].strip() == "vector(1)"


def test_site_down_is_not_alerted_from_prometheus():
    """wifimon alerts on sites itself (with maintenance, acks, parent suppression); no duplicate here."""
    for name, rule in alerting_rules(RULES_YML).items():
        names = metric_names(rule["expr"])
        assert not any(n.startswith(("wifi_", "wifi:")) for n in names), f"{name} alerts on Wi-Fi state: {names}"
    assert "pushes" in RULES_YML.read_text() and "Alertmanager" in RULES_YML.read_text()


def test_rules_use_only_known_metrics_and_level_metric_operation_names():
    exposed = {"up"}
    for spec in METRICS.values():
        exposed |= {spec.name + "_total"} if spec.type == "counter" else (
            {spec.name + s for s in ("_bucket", "_sum", "_count")} if spec.type == "histogram" else {spec.name})
    recorded = recording_rules(RULES_YML)
    for record, expr in recorded.items():
        assert re.fullmatch(r"[a-z_]+:[a-z_]+:[a-z0-9_]+", record), f"{record} is not level:metric:operations"
        unknown = metric_names(expr) - exposed - set(recorded)
        assert not unknown, f"{record} uses unknown series {unknown}"
    for name, rule in alerting_rules(RULES_YML).items():
        unknown = metric_names(rule["expr"]) - exposed - set(recorded)
        assert not unknown, f"{name} uses unknown series {unknown}"


def test_every_alert_has_a_firing_and_a_quiet_unit_test():
    tests = load(RULES_TEST_YML)["tests"]
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in tests:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = set(alerting_rules(RULES_YML))
    assert alerts <= firing, f"alerts never shown firing in rules_test.yml: {alerts - firing}"
    assert alerts - {"Watchdog"} <= quiet, f"alerts never shown quiet in rules_test.yml: {alerts - quiet - {'Watchdog'}}"


def test_prometheus_yml_scrapes_wifimon_and_loads_the_rules():
    config = load(PROMETHEUS_YML)
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert "wifimon" in jobs
    targets = [t for sc in jobs["wifimon"]["static_configs"] for t in sc["targets"]]
    assert targets and all(t.endswith(":9810") for t in targets), targets
    assert config["rule_files"] == ["rules.yml"]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]


def test_scale_out_config_scrapes_every_instance_with_its_shard_and_alerts_both_peers():
    path = PROM_DIR / "scale-out.yml"
    r = run(tool("promtool"), "check", "config", str(path))
    assert r.returncode == 0, r.stdout + r.stderr
    config = load(path)
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "wifimon"]
    shards = {g["labels"]["shard"]: g["targets"] for g in job["static_configs"]}
    assert set(shards) == {"0/2", "1/2"} and all(len(t) == 2 for t in shards.values())  # active + standby each
    [peers] = [c["targets"] for a in config["alerting"]["alertmanagers"] for c in a["static_configs"]]
    assert len(peers) == 2
    assert "shard" in alerting_rules(RULES_YML)["WifimonShardUnwatched"]["expr"]


# --- Alertmanager ----------------------------------------------------------------------------------


def test_amtool_check_config():
    r = run(tool("amtool"), "check-config", str(ALERTMANAGER_YML))
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=WifiSiteDown", "severity=critical", "site=gs-0001"], "critical"),
        (["alertname=WifiSiteDegraded", "severity=warning", "site=gs-0001"], "warnings"),
        (["alertname=WifimonDown", "severity=critical", "job=wifimon"], "critical"),
        (["alertname=WifimonUdpDrops", "severity=warning"], "warnings"),
        (["alertname=Watchdog", "severity=none"], "deadmans-switch"),
    ],
)
def test_alertmanager_routes(labels, receiver):
    r = run(tool("amtool"), "config", "routes", "test", f"--config.file={ALERTMANAGER_YML}",
            f"--verify.receivers={receiver}", *labels)
    assert r.returncode == 0, f"{labels} → {r.stdout.strip()} (wanted {receiver}) {r.stderr.strip()}"


def test_alertmanager_receivers_stay_on_loopback():
    config = load(ALERTMANAGER_YML)
    urls = [w["url"] for rcv in config["receivers"] for w in rcv.get("webhook_configs", [])]
    assert urls and all(u.startswith("http://127.0.0.1:") for u in urls), urls


# --- Grafana provisioning and compose --------------------------------------------------------------


def test_grafana_datasource_and_dashboard_provider():
    ds_files = sorted((GRAFANA_DIR / "datasources").glob("*.yml"))
    assert ds_files
    datasources = [d for f in ds_files for d in load(f)["datasources"]]
    prom = [d for d in datasources if d["type"] == "prometheus"]
    assert len(prom) == 1 and prom[0]["url"] == "http://prometheus:9090" and prom[0].get("isDefault")
    # $__rate_interval is four times this; it must match the scrape interval.
    assert prom[0]["jsonData"]["timeInterval"] == load(PROMETHEUS_YML)["global"]["scrape_interval"]
    providers = [p for f in sorted((GRAFANA_DIR / "dashboards").glob("*.yml")) for p in load(f)["providers"]]
    assert len(providers) == 1 and providers[0]["type"] == "file"


def _bind_mounts(service: dict) -> dict[str, str]:
    """Container path → host path of a compose service's bind mounts."""
    out = {}
    for v in service.get("volumes", []):
        source, target = (v["source"], v["target"]) if isinstance(v, dict) else v.split(":")[:2]
        if source.startswith((".", "/")):
            out[target] = source
    return out


def test_compose_wires_the_services_to_these_files():
    compose = load(COMPOSE)
    services = compose["services"]
    assert {"wifimon", "simulator", "prometheus", "alertmanager", "grafana"} <= set(services)
    for name, svc in services.items():
        for target, source in _bind_mounts(svc).items():
            assert (ROOT / source).exists(), f"{name}: mounts {source} at {target}, which does not exist"

    wifimon, sim = services["wifimon"], services["simulator"]
    assert wifimon["build"]["context"] == "." and "9810" in " ".join(map(str, wifimon.get("expose", [])))
    assert _bind_mounts(wifimon)["/config"] == "./config/demo"
    # The simulator serves each AP on its own 127.x address: it must share wifimon's network namespace.
    assert sim["network_mode"] == "service:wifimon" and sim["profiles"] == ["demo"]
    assert sim["entrypoint"] + sim["command"] == ["python", "-m", "simulator", "--config", "/config/wifimon.yaml"]
    assert sim["image"] == wifimon["image"]

    prom_mounts = _bind_mounts(services["prometheus"])
    assert prom_mounts["/etc/prometheus"] == "./config/prometheus"
    assert _bind_mounts(services["alertmanager"])["/etc/alertmanager"] == "./config/alertmanager"
    grafana = _bind_mounts(services["grafana"])
    assert grafana["/etc/grafana/provisioning"] == "./config/grafana/provisioning"
    provider = load(GRAFANA_DIR / "dashboards" / "wifimon.yml")["providers"][0]
    assert grafana[provider["options"]["path"]] == "./dashboards"


def test_compose_file_validates_with_docker_compose():
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (Debian package docker-compose); structure checked above")
    r = run(binary, "-f", str(COMPOSE), "--profile", "demo", "config", "-q")
    assert r.returncode == 0, r.stdout + r.stderr


def test_wifimon_side_of_the_alertmanager_config_validates(tmp_path):
    """config/alertmanager/wifimon-alerting.yaml merged into the demo config is a valid wifimon config."""
    import shutil

    import yaml

    from monitor.config.load import parse_config

    root = Path(__file__).resolve().parents[1]
    demo = yaml.safe_load((root / "config/demo/wifimon.yaml").read_text(encoding="utf-8"))
    demo.update(yaml.safe_load((root / "config/alertmanager/wifimon-alerting.yaml").read_text(encoding="utf-8")))
    shutil.copy(root / "config/demo/demo-community.secret", tmp_path)
    path = tmp_path / "wifimon.yaml"
    path.write_text(yaml.safe_dump(demo, allow_unicode=True), encoding="utf-8")
    config = parse_config(path)
    assert config.alerting.channels["am"].type == "alertmanager"
