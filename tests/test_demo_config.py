"""The demo inventory (config/demo/wifimon.yaml): valid, the size of Gunsan, every device on its own
loopback address, inside the city, and exactly what config/demo/generate.py writes."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from collectors.types import V2cCredentials
from monitor.config.load import LoadedConfig, load_config
from monitor.inventory_import import parse_sites

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "config" / "demo"
SOURCE = ROOT.parent / "shared" / "wifi_std" / "gunsan_2016_original_cp949.csv"
CONFIG = DEMO / "wifimon.yaml"

# Gunsan: the mainland between the Geum river and Saemangeum, and the 고군산군도 islands to the south-west.
LAT = (35.78, 36.06)
LON = (126.38, 126.90)


@pytest.fixture(scope="module")
def demo() -> LoadedConfig:
    return load_config(CONFIG)


def test_demo_config_validates_with_the_real_loader(demo):
    config = demo.config
    assert config.service.organisation == "군산시"
    assert config.service.timezone == "Asia/Seoul"
    assert config.service.listen == "127.0.0.1:9810"
    assert config.service.store_url == "sqlite:///var/wifimon-demo.db"
    assert demo.credentials["demo"] == V2cCredentials("wifimon-demo")  # through the file: secret


def test_demo_is_the_size_of_gunsan(demo):
    sites = demo.config.sites
    land = [s for s in sites if s.kind == "land"]
    assert sum(len(s.aps) for s in sites) == 388
    assert len(sites) >= 360
    assert sum(len(s.aps) for s in land) == 380
    assert 360 <= len(land) <= 380
    two_ap = Counter(s.category for s in land if len(s.aps) == 2)
    assert two_ap["market"] >= 3 and two_ap["park"] >= 2 and two_ap["bus_stop"] >= 2
    categories = Counter(s.category for s in land)
    for category in ("bus_stop", "park", "tourist_site", "market", "welfare", "rental_yard", "public_office"):
        assert categories[category] >= 4, category
    assert len({s.name for s in sites}) == len(sites)
    assert len({s.district for s in land}) >= 25  # every 동/읍/면 of the city


def test_the_real_gunsan_rows_come_first(demo):
    if not SOURCE.exists():
        pytest.skip(f"{SOURCE} is absent (the shared data beside the project)")
    real = parse_sites(SOURCE.read_bytes(), "군산시").sites
    assert len(real) == 24
    first = demo.config.sites[: len(real)]
    assert [(s.id, s.name, s.lat, s.lon, len(s.aps)) for s in first] == [
        (r.id, r.name, r.lat, r.lon, r.ap_count) for r in real
    ]


def test_ferries_have_timetables_uplinks_and_patient_snmp(demo):
    ferries = [s for s in demo.config.sites if s.kind == "ferry"]
    assert len(ferries) == 4
    for ferry in ferries:
        assert ferry.category == "ferry"
        assert len(ferry.aps) == 2
        assert ferry.uplink is not None and ferry.uplink.profile == "mikrotik"  # RouterOS LTE routers: the modem table
        assert ferry.snmp is not None and (ferry.snmp.timeout, ferry.snmp.retries) == (3, 3)
        days = [d for window in ferry.timetable for d in window.days]
        assert sorted(days) == sorted(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])  # each day once
        sunday = next(w for w in ferry.timetable if "sun" in w.days)
        weekday = next(w for w in ferry.timetable if "mon" in w.days)
        assert (sunday.end.hour * 60 + sunday.end.minute) - (sunday.start.hour * 60 + sunday.start.minute) < (
            (weekday.end.hour * 60 + weekday.end.minute) - (weekday.start.hour * 60 + weekday.start.minute)
        )


def test_every_device_has_its_own_loopback_address(demo):
    seen: dict[str, str] = {}
    for site in demo.config.sites:
        devices = list(site.aps) + ([site.uplink] if site.uplink else [])
        for device in devices:
            host, port = device.host_port
            assert port == 1161, device.id
            ip = ipaddress.ip_address(host)
            assert ip.is_loopback, device.id
            net = "127.30" if site.kind == "ferry" else "127.20"
            assert host.startswith(net + "."), device.id
            assert host.rsplit(".", 1)[1] not in ("0", "255"), device.id
            assert device.credentials == "demo"
            assert device.address not in seen, f"{device.id} and {seen.get(device.address)} share {device.address}"
            seen[device.address] = device.id
    assert len(seen) == 388 + 4


def test_profiles_are_mostly_unifi(demo):
    profiles = Counter(ap.profile for site in demo.config.sites for ap in site.aps)
    assert set(profiles) == {"unifi", "generic"}
    assert 0.2 <= profiles["generic"] / sum(profiles.values()) <= 0.3


def test_every_site_is_inside_gunsan(demo):
    for site in demo.config.sites:
        assert site.lat is not None and site.lon is not None, site.id
        assert LAT[0] <= site.lat <= LAT[1] and LON[0] <= site.lon <= LON[1], (site.id, site.name, site.lat, site.lon)
        assert site.address.startswith("전북특별자치도 군산시 "), site.id
    islands = [s for s in demo.config.sites if s.district == "옥도면" and s.lon < 126.5]
    assert len(islands) >= 10 and all(s.lat < 35.86 for s in islands)


def test_regenerating_reproduces_the_committed_file(tmp_path):
    if not SOURCE.exists():
        pytest.skip(f"{SOURCE} is absent (the shared data beside the project)")
    out = tmp_path / "wifimon.yaml"
    proc = subprocess.run(
        [sys.executable, str(DEMO / "generate.py"), "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,  # not the project root: the script finds it
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == CONFIG.read_bytes(), "config/demo/wifimon.yaml is stale: run python config/demo/generate.py"
    assert CONFIG.read_text(encoding="utf-8").startswith("# wifimon demo inventory")
    assert "GENERATED" in CONFIG.read_text(encoding="utf-8").splitlines()[0]
