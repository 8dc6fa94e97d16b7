"""Config validation: every error with file, key path and line, all at once; secrets never shown."""

import logging
import textwrap
from pathlib import Path

import pytest

from monitor.config.load import ConfigError, load_config, parse_config

GOOD = """\
service:
  probe_interval: 15
credentials:
  city:
    version: "2c"
    community: {file: community.secret}
  v3:
    version: "3"
    user: monitor
    auth_protocol: sha256
    auth_key: {env: WIFIMON_TEST_AUTH}
    priv_protocol: aes
    priv_key: {env: WIFIMON_TEST_PRIV}
sites:
  - id: s1
    name: 군산시청
    category: public_office
    aps:
      - {id: s1-ap1, address: "127.0.0.1:1161", credentials: city, profile: generic}
      - {id: s1-ap2, address: "127.0.0.2", credentials: v3}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "wifimon.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    (tmp_path / "community.secret").write_text("s3cret-community\n")
    return p


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config(write(tmp_path, text))
    return exc.value.problems


def test_good_config_loads_with_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("WIFIMON_TEST_AUTH", "auth-key-123")
    monkeypatch.setenv("WIFIMON_TEST_PRIV", "priv-key-456")
    loaded = load_config(write(tmp_path, GOOD))
    assert loaded.credentials["city"].community == "s3cret-community"
    site = loaded.config.sites[0]
    assert loaded.target(site, site.aps[1]).port == 161


def test_unknown_key_named_with_line(tmp_path):
    p = problems(tmp_path, "sites:\n  - id: x\n    bogus_key: 1\n")
    assert any("bogus_key" in m and ":3:" in m and "sites[0].bogus_key" in m for m in p)


def test_every_error_at_once(tmp_path):
    text = GOOD.replace("probe_interval: 15", "probe_interval: -1\n  listen: nonsense").replace(
        "category: public_office", "category: spaceport")
    p = problems(tmp_path, text)
    assert any(m.startswith(f"{tmp_path}/wifimon.yaml:2: service.probe_interval") for m in p), p
    assert any("service.listen" in m and ":3:" in m for m in p), p
    assert any("sites[0].category" in m for m in p), p


def test_wrong_type_is_located(tmp_path):
    p = problems(tmp_path, GOOD.replace("probe_interval: 15", "probe_interval: often"))
    assert any(":2: service.probe_interval" in m for m in p), p


def test_missing_credentials_reference_is_located(tmp_path):
    p = problems(tmp_path, GOOD.replace("credentials: v3}", "credentials: nope}"))
    assert any("sites[0].aps[1].credentials" in m and "nope" in m and ":20:" in m for m in p), p


def test_duplicate_ids(tmp_path):
    p = problems(tmp_path, GOOD.replace("id: s1-ap2", "id: s1-ap1"))
    assert any("duplicate id 's1-ap1'" in m and "sites[0].aps[1].id" in m for m in p), p


def test_incomplete_v3_credentials(tmp_path):
    p = problems(tmp_path, GOOD.replace("    priv_key: {env: WIFIMON_TEST_PRIV}\n", ""))
    assert any("credentials.v3" in m and "priv_key" in m for m in p), p


def test_ferry_without_timetable(tmp_path):
    p = problems(tmp_path, GOOD.replace("category: public_office", "category: ferry\n    kind: ferry"))
    assert any("timetable" in m and "sites[0]" in m for m in p), p


def test_bad_yaml_names_the_line(tmp_path):
    p = problems(tmp_path, "sites:\n  - id: [unclosed\n")
    assert len(p) == 1 and "not valid YAML" in p[0] and "wifimon.yaml:" in p[0]


def test_missing_secret_names_the_key_not_the_value(tmp_path, monkeypatch):
    monkeypatch.delenv("WIFIMON_TEST_AUTH", raising=False)
    monkeypatch.setenv("WIFIMON_TEST_PRIV", "priv-key-456")
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, GOOD))
    assert "credentials.v3.auth_key" in str(exc.value) and "WIFIMON_TEST_AUTH" in str(exc.value)


def test_secrets_never_in_repr_dump_or_logs(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("WIFIMON_TEST_AUTH", "auth-key-123")
    monkeypatch.setenv("WIFIMON_TEST_PRIV", "priv-key-456")
    caplog.set_level(logging.DEBUG)
    loaded = load_config(write(tmp_path, GOOD))
    site = loaded.config.sites[0]
    shown = " ".join([
        repr(loaded), str(loaded), repr(loaded.credentials), loaded.config.model_dump_json(),
        repr(loaded.target(site, site.aps[0])), repr(loaded.target(site, site.aps[1])),
    ])
    logging.getLogger("test").info("loaded %r", loaded)
    for secret in ("s3cret-community", "auth-key-123", "priv-key-456"):
        assert secret not in shown
        assert secret not in caplog.text


def test_demo_config_is_valid():
    demo = Path(__file__).resolve().parents[1] / "config" / "demo" / "wifimon.yaml"
    if not demo.exists():
        pytest.skip("no demo config yet")
    cfg = load_config(demo).config
    assert sum(len(s.aps) for s in cfg.sites) >= 388


def test_a_config_with_a_hundred_errors_reports_all_hundred(tmp_path):
    sites = "".join(
        f"  - id: s{i}\n    name: n\n    category: park\n    lat: 123\n"
        f"    aps: [{{id: a{i}, address: 127.0.0.{i + 1}, credentials: c}}]\n"
        for i in range(50)
    )  # each site: latitude out of range, and credentials 'c' undefined → 2 errors × 50
    p = problems(tmp_path, "sites:\n" + sites)
    assert len(p) == 100, p[:5]
    assert any("sites[49].lat" in m for m in p) and any("sites[49].aps[0].credentials" in m for m in p)


def test_a_probe_that_cannot_finish_within_the_interval_is_refused(tmp_path, monkeypatch):
    text = GOOD.replace("probe_interval: 15", "probe_interval: 15\n  snmp: {timeout: 5, retries: 3}")
    p = problems(tmp_path, text)
    assert any(":3: service.snmp:" in m and "20 s leaves no room" in m for m in p), p


def test_an_unquoted_timetable_time_is_refused_not_misread(tmp_path):
    text = GOOD.replace("category: public_office", 'category: ferry\n    kind: ferry\n'
                        '    timetable: [{days: [mon], start: 13:30, end: "18:00"}]')
    p = problems(tmp_path, text)
    assert any("sites[0].timetable[0].start" in m and "write the time in quotes" in m for m in p), p


def test_anchors_shared_by_many_sites_are_fine(tmp_path):
    sites = "".join(f"  - {{id: s{i}, name: n, category: park, snmp: *lte,"
                    f" aps: [{{<<: *ap, id: a{i}, address: 127.0.1.{i + 1}}}]}}\n" for i in range(200))
    text = ("x-lte: &lte {timeout: 3, retries: 2}\nx-ap: &ap {credentials: c, profile: generic}\n"
            "credentials: {c: {version: '2c', community: {env: X}}}\nsites:\n" + sites)
    p = problems(tmp_path, text)  # the x- keys are unknown keys (anchors must live somewhere): nothing else
    assert [m.split(": ", 1)[1] for m in p] == ["x-lte: unknown key 'x-lte'", "x-ap: unknown key 'x-ap'"], p


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    import time

    text = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
    started = time.monotonic()
    p = problems(tmp_path, text)
    assert time.monotonic() - started < 2
    assert len(p) == 1 and "wifimon.yaml:5: YAML aliases here expand to more than" in p[0], p
