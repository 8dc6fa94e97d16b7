"""``wifimon export open-data``: the golden month of tests/test_report.py, published per site."""

from __future__ import annotations

import csv
import io
import json

import pytest

from monitor.config.model import Config
from monitor.domain.vocabulary import Scope
from monitor.report.build import make_report
from monitor.report.open_data import COLUMNS, EncodingProblem, management_number, write_open_data
from monitor.store import Store
from tests.test_report import CONFIG, NOW, USAGE, build_store, expected


@pytest.fixture(scope="module")
def golden_report(tmp_path_factory):
    store = build_store(f"sqlite:///{tmp_path_factory.mktemp('open') / 'wifimon.db'}")
    try:
        yield make_report(store, CONFIG, "2026-10", NOW)
    finally:
        store.close()


def _csv(path, encoding: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


def test_csv_and_json_carry_the_report_figures(golden_report, tmp_path):
    files = write_open_data(golden_report, ("csv", "json"), tmp_path)
    assert [f.name for f in files] == ["wifimon-opendata-2026-10.csv", "wifimon-opendata-2026-10.json"]
    raw = files[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = {r["사이트ID"]: r for r in _csv(files[0], "utf-8-sig")}
    doc = json.loads(files[1].read_text(encoding="utf-8"))
    records = {r["site_id"]: r for r in doc["records"]}
    assert list(rows) == list(records) == [s.id for s in CONFIG.sites]
    assert [c["header"] for c in doc["columns"]] == list(next(iter(rows.values())))
    for site in CONFIG.sites:
        want = expected(Scope.SITE, site.id)  # the second-by-second count, not the report's own code
        row, rec = rows[site.id], records[site.id]
        assert int(row["장애시간(초)"]) == rec["downtime_seconds"] == want["downtime"]
        assert int(row["미확인시간(초)"]) == rec["unknown_seconds"] == want["unknown"]
        assert int(row["운영시간(초)"]) == rec["scheduled_seconds"] == want["scheduled"]
        assert rec["availability_percent"] == round(want["availability"] * 100, 3)
        assert float(row["가용률(%)"]) == rec["availability_percent"]
        assert row["설치장소명"] == rec["place_name"] == site.name and row["도로명주소"] == site.address
    october = [(ap, c, b) for ap, hour, c, b in USAGE if golden_report.period.start <= hour < golden_report.period.end]
    assert records["s1"]["peak_clients"] == 17 and records["s1"]["traffic_bytes"] == sum(b + b // 2 for *_, b in october)
    assert records["s1"]["mean_clients"] == (10 + 12) / 2 + (7 + 2) / 2
    assert records["s2"]["peak_clients"] is None and rows["s2"]["최대동시접속자수"] == ""  # no usage: not 0


def test_nothing_internal_is_published(golden_report, tmp_path):
    files = write_open_data(golden_report, ("csv", "json"), tmp_path)
    text = "".join(f.read_text(encoding="utf-8-sig") for f in files)
    for site in CONFIG.sites:
        for ap in site.aps:
            assert ap.id not in text and ap.address not in text
    assert "kim" not in text and "한전 정전" not in text  # who acknowledged, and their comment


def test_cp949_on_request_and_a_clear_refusal(golden_report, tmp_path):
    (path,) = write_open_data(golden_report, ("csv",), tmp_path, "cp949")
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert _csv(path, "cp949")[0]["설치장소명"] == "군산시청 버스정류장"
    odd = CONFIG.model_copy(update={"sites": (CONFIG.sites[0].model_copy(update={"name": "정류장 🚌"}),
                                              *CONFIG.sites[1:])})
    assert isinstance(odd, Config)
    store = Store("sqlite://")
    store.migrate()
    try:
        report = make_report(store, odd, "2026-10", NOW)
    finally:
        store.close()
    with pytest.raises(EncodingProblem, match=r"site s1 column 설치장소명: '🚌' cannot be written in CP949"):
        write_open_data(report, ("csv",), tmp_path / "odd", "cp949")
    assert not (tmp_path / "odd").exists()


def test_management_number_from_the_imported_id():
    assert management_number("wf-WF_3_4513000_000123") == "WF_3_4513000_000123"
    assert management_number("wf-3a5f09c2b1") == ""  # a place without a number: a hash
    assert management_number("gs-0001") == ""


def test_every_column_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs/open-data.md").read_text(encoding="utf-8")
    for c in COLUMNS:
        assert f"| {c.header} | `{c.key}` |" in doc, c.header


def test_cli_writes_both_formats(tmp_path, monkeypatch, capsys):
    from monitor.cli.main import main

    (tmp_path / "wifimon.yaml").write_text(
        "service: {store_url: 'sqlite:///var/none.db'}\n"
        "sites:\n  - {id: wf-1234, name: 공원, category: park, lat: 35.9, lon: 126.7, "
        "aps: [{id: a1, address: 127.0.0.9, credentials: c}]}\n"
        "credentials: {c: {version: '2c', community: {env: UNSET_FOR_THE_EXPORT}}}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["export", "open-data", "--month", "2026-10", "--out", "od", "--encoding", "cp949", "wifimon.yaml"]) == 0
    out = capsys.readouterr()
    assert "no history yet" in out.err and "wrote od/wifimon-opendata-2026-10.json" in out.out
    (row,) = _csv(tmp_path / "od/wifimon-opendata-2026-10.csv", "cp949")
    assert row["관리번호"] == "1234" and row["위도"] == "35.9" and row["가용률(%)"] == ""
    record = json.loads((tmp_path / "od/wifimon-opendata-2026-10.json").read_text(encoding="utf-8"))["records"][0]
    assert record["availability_percent"] is None and record["unknown_seconds"] == record["scheduled_seconds"] > 0
    assert not (tmp_path / "var").exists()
    assert main(["export", "open-data", "--month", "2026-10", "--format", "xml", "wifimon.yaml"]) == 2
