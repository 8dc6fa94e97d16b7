"""The national free Wi-Fi dataset import: real files from shared/wifi_std, crafted files for each
hard case, and the merge into an operator's config that must not clobber what the operator wrote."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest
import yaml

from monitor.config.load import ConfigError, load_config
from monitor.config.model import Category, Config, Site
from monitor.cli.main import main as cli_main
from monitor.inventory_import import (
    ImportFailure,
    classify,
    format_report,
    import_sites,
    merge_sites,
    parse_sites,
)

ROOT = Path(__file__).resolve().parents[1]
WIFI_STD = ROOT.parent / "shared" / "wifi_std"
GUNSAN_CP949 = WIFI_STD / "gunsan_2016_original_cp949.csv"
GUNSAN_UTF8 = WIFI_STD / "gunsan_2016_utf8.csv"
JEONBUK = WIFI_STD / "jeonbuk_2016_sample_utf8.csv"
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def real(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real dataset sample {path} is absent (shared/wifi_std is not beside the project)")
    return path


# ---------------------------------------------------------------------------------------------------
# Crafted files.

H2016 = [
    "설치장소명", "설치장소상세", "설치시도명", "설치시군구명", "설치시설구분", "서비스제공사명", "와이파이SSID",
    "설치년월", "소재지도로명주소", "소재지지번주소", "관리기관명", "관리기관전화번호", "위도", "경도", "데이터기준일자", "",
]
H2019 = ["번호"] + [
    {"설치년월": "설치연월", "위도": "WGS84위도", "경도": "WGS84경도"}.get(h, h) for h in H2016[:-1]
]
# The 2024 generation, in a column order of its own: matching must go by name.
H2024 = [
    "관리번호", "개방자치단체코드", "WGS84경도", "WGS84위도", "설치장소명", "설치장소상세", "설치시도명", "설치시군구명",
    "설치시설구분명", "서비스제공사명", "와이파이SSID", "설치연월", "소재지도로명주소", "소재지지번주소", "관리기관명",
    "관리기관전화번호", "데이터기준일자",
]


def row(
    name: str, *, detail: str = "1층", sido: str = "전라북도", sigungu: str = "군산시", facility: str = "관공서",
    provider: str = "SK,KT,LG", ssid: str = "Public WiFi Free", road: str = "전라북도 군산시 중앙로 1",
    jibun: str = "전라북도 군산시 금동 1-1", lat: str = "35.9896", lon: str = "126.7070", mgmt_no: str = "",
) -> dict[str, str]:
    return {
        "관리번호": mgmt_no, "개방자치단체코드": "4713000", "번호": "1", "설치장소명": name, "설치장소상세": detail,
        "설치시도명": sido, "설치시군구명": sigungu, "설치시설구분": facility, "설치시설구분명": facility,
        "서비스제공사명": provider, "와이파이SSID": ssid, "설치년월": "2015-12", "설치연월": "2015-12",
        "소재지도로명주소": road, "소재지지번주소": jibun, "관리기관명": "군산시청", "관리기관전화번호": "063-454-2170",
        "위도": lat, "경도": lon, "WGS84위도": lat, "WGS84경도": lon, "데이터기준일자": "2024-01-01", "": "",
    }


def render(header: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([r[h] for h in header])
    return out.getvalue()


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "wifi.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def parse(text: str, sigungu: str | None = None, encoding: str = "utf-8"):
    return parse_sites(text.encode(encoding), sigungu)


def lines_of(result, level: str) -> dict[int | None, str]:
    return {m.line: m.text for m in result.messages if m.level == level}


# ---------------------------------------------------------------------------------------------------
# The real files.


def test_real_cp949_gunsan_file():
    result = parse_sites(real(GUNSAN_CP949).read_bytes(), "군산시")
    assert (result.encoding, result.header) == ("cp949", "2016")
    assert (result.rows_read, result.rows_selected, result.rows_rejected) == (25, 25, 0)
    # 군산공설시장 appears twice (lines 2 and 26, address written two ways): one site, two APs.
    assert len(result.sites) == 24
    market = next(s for s in result.sites if s.name == "군산공설시장")
    assert (market.ap_count, market.lines, market.category) == (2, (2, 26), "market")
    assert market.address.startswith("전북특별자치도 군산시 ")
    assert sum(s.ap_count for s in result.sites) == 25
    by_name = {s.name: s for s in result.sites}
    assert by_name["옥도면사무소"].district == "옥도면"  # the office is on the mainland; it serves 옥도면
    assert by_name["대야공공도서관"].category == "library"
    assert by_name["금강노인복지관"].category == "welfare"
    assert by_name["나포면사무소"].lat == pytest.approx(36.0303233)
    for site in result.sites:
        assert ID_RE.match(site.id) and ID_RE.match(f"{site.id}-ap{site.ap_count}")
    report = format_report(import_sites(GUNSAN_CP949, "군산시"))
    assert report.splitlines()[0].startswith("read 25 rows; 24 sites added, 0 updated; 0 rejected, 0 flagged")


def test_real_utf8_crlf_copy_gives_the_same_sites():
    cp949 = parse_sites(real(GUNSAN_CP949).read_bytes(), "군산시")
    utf8 = parse_sites(real(GUNSAN_UTF8).read_bytes(), "군산시")
    assert utf8.encoding in ("utf-8", "utf-8-sig")
    assert utf8.sites == cp949.sites


def test_real_jeonbuk_sample():
    raw = real(JEONBUK).read_bytes()
    gunsan = parse_sites(raw, "군산시")
    assert (gunsan.rows_read, gunsan.rows_selected) == (311, 25)
    assert {s.id for s in gunsan.sites} == {s.id for s in parse_sites(real(GUNSAN_CP949).read_bytes(), "군산시").sites}

    everything = parse_sites(raw)
    assert everything.rows_read == 311
    # Line 56 of the sample has no place name at all.
    assert everything.rows_rejected == 1 and "설치장소명" in lines_of(everything, "rejected")[56]
    assert sum(s.ap_count for s in everything.sites) == 310
    deokjin = next(s for s in everything.sites if s.name == "덕진구청")
    assert deokjin.ap_count == 7  # once per floor and AP
    # 부안누에타운's two rows share an address but lie 18 km apart: merged, and the far row flagged.
    assert "km from line" in lines_of(everything, "flagged")[127]
    assert {s.category for s in everything.sites} <= set(get_args(Category))
    assert len({s.id for s in everything.sites}) == len(everything.sites)


def test_real_file_through_the_command_line(capsys):
    assert cli_main(["import-sites", str(real(GUNSAN_CP949)), "--sigungu", "군산시"]) == 0
    out = capsys.readouterr().out
    assert "read 25 rows" in out


def test_wifimon_import_sites_runs_as_a_command():
    proc = subprocess.run(
        [sys.executable, "-m", "monitor.cli.main", "import-sites", str(real(GUNSAN_CP949)), "--sigungu", "군산시"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "25" in proc.stdout


# ---------------------------------------------------------------------------------------------------
# Encodings and headers.


@pytest.mark.parametrize("encoding, detected", [
    ("cp949", "cp949"), ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"),
])
def test_encodings_are_detected(tmp_path, encoding, detected):
    text = render(H2016, [row("해신동주민센터"), row("월명동주민센터", road="전라북도 군산시 구영6길 51")])
    result = import_sites(write(tmp_path, text, encoding))
    assert result.encoding == detected
    assert [s.name for s in parse_sites(write(tmp_path, text, encoding).read_bytes()).sites] == ["해신동주민센터", "월명동주민센터"]
    assert result.rows_read == 2 and result.sites_added == 2


def test_undecodable_bytes_fail_with_the_line(tmp_path):
    raw = render(H2016, [row("해신동주민센터")]).encode("cp949") + b"\xff\xff\xff,\r\n"
    with pytest.raises(ImportFailure, match=r"line 3: neither UTF-8 nor CP949"):
        parse_sites(raw)


@pytest.mark.parametrize("header, generation", [(H2016, "2016"), (H2019, "2019"), (H2024, "2024")])
def test_every_header_generation_is_read_by_column_name(header, generation):
    result = parse(render(header, [row("은파호수공원", facility="공원", lat="35.955", lon="126.698", mgmt_no="GS-2024-0007")]))
    assert result.header == generation
    (site,) = result.sites
    assert (site.name, site.category, site.lat, site.lon) == ("은파호수공원", "park", 35.955, 126.698)
    if generation == "2024":
        assert site.id == "wf-GS-2024-0007"  # from 관리번호
    else:
        assert site.id.startswith("wf-") and len(site.id) == 13  # a hash of name and address


def test_a_header_without_a_needed_column_fails():
    header = [h for h in H2016 if h != "경도"]
    with pytest.raises(ImportFailure, match="경도"):
        parse(render(header, [row("해신동주민센터")]))


def test_a_title_line_above_the_header_is_skipped():
    result = parse("군산시 공공와이파이 현황,,,\r\n" + render(H2016, [row("해신동주민센터")]))
    assert result.rows_read == 1 and result.sites[0].name == "해신동주민센터"


# ---------------------------------------------------------------------------------------------------
# Row-level hard cases.


def test_quoted_comma_and_quoted_newline_keep_columns_and_line_numbers():
    text = render(H2016, [
        row("해신동주민센터", provider="SK,KT,LG"),
        row("월명동주민센터", detail="민원실\r\n(1층)", road="전라북도 군산시 구영6길 51"),
        row("삼학동주민센터", road="전라북도 군산시 미원로 17", lat="0", lon="0"),
    ])
    result = parse(text)
    assert [s.name for s in result.sites] == ["해신동주민센터", "월명동주민센터", "삼학동주민센터"]
    assert result.sites[0].lon == 126.707
    # The second row spans lines 3-4, so the third starts on line 5.
    assert result.sites[2].lines == (5,)
    assert 5 in lines_of(result, "flagged")


def test_blank_ssid_is_accepted_and_gives_no_expected_ssids():
    result = parse(render(H2016, [row("해신동주민센터", ssid=""), row("월명동주민센터", ssid="  ", road="전라북도 군산시 구영6길 51")]))
    assert [s.ssids for s in result.sites] == [(), ()]
    assert result.rows_flagged == 0
    merged = merge_sites({}, result.sites, "city").config
    assert "ssids" not in merged["sites"][0]["aps"][0]


def test_ssid_spelling_variants_are_one_ssid():
    result = parse(render(H2016, [row("군산공설시장", ssid="Public WiFi Free"), row("군산공설시장", ssid="Public Wifi FREE")]))
    assert result.sites[0].ssids == ("Public WiFi Free",)


def test_one_place_repeated_per_ap_or_floor_becomes_one_site():
    text = render(H2016, [
        row("군산공설시장", detail="1층", facility="기타", road="전라북도 군산시 신금길18(신영동)",
            jibun="전라북도 군산시 신영동18-1", lat="35.98347", lon="126.72038"),
        row("해신동주민센터"),
        # Only the road address ties this row in (written apart, without the '(신영동)'); 300 m off.
        row("군산공설시장", detail="2층", facility="기타", road="전라북도 군산시 신금길 18", jibun="", lat="35.98620", lon="126.72038"),
        # No address at all: tied in by being 8 m away.
        row("군산공설시장", detail="3층", facility="기타", road="", jibun="", lat="35.98340", lon="126.72045"),
        # Same name, another place 2 km away: a separate site.
        row("시내버스정류장", facility="버스정류장", road="전라북도 군산시 대학로 1", jibun="", lat="35.9700", lon="126.7000"),
        row("시내버스정류장", facility="버스정류장", road="전라북도 군산시 조촌로 9", jibun="", lat="35.9730", lon="126.7380"),
    ])
    result = parse(text)
    market = next(s for s in result.sites if s.name == "군산공설시장")
    assert (market.ap_count, market.lines, market.category, market.district) == (3, (2, 4, 5), "market", "신영동")
    assert [s.ap_count for s in result.sites if s.name == "시내버스정류장"] == [1, 1]
    assert len(result.sites) == 4
    assert result.rows_flagged == 0 and (market.lat, market.lon) == (35.98347, 126.72038)
    notes = lines_of(result, "note")
    assert "same place as line 2" in notes[4] and "AP 3" in notes[5]
    merged = merge_sites({}, result.sites, "city").config
    market_entry = next(s for s in merged["sites"] if s["name"] == "군산공설시장")
    assert [ap["id"] for ap in market_entry["aps"]] == [f"{market.id}-ap{n}" for n in (1, 2, 3)]


def test_site_ids_do_not_depend_on_row_order():
    rows = [row(f"경로당 {n}호", facility="복지시설", road=f"전라북도 군산시 대학로 {n}", jibun="") for n in range(1, 8)]
    rows += [row("경로당 1호", detail="2층", facility="복지시설", road="전라북도 군산시 대학로  1", jibun="")]
    forward = parse(render(H2016, rows))
    backward = parse(render(H2016, rows[::-1]))
    assert {(s.id, s.ap_count) for s in forward.sites} == {(s.id, s.ap_count) for s in backward.sites}
    assert len(forward.sites) == 7


@pytest.mark.parametrize("lat, lon, kept, why", [
    ("0", "0", None, "zero"),
    ("0.0", "126.70", None, "zero"),
    ("135.98", "126.70", None, "outside Korea"),
    ("35.98", "26.70", None, "outside Korea"),
    ("", "", None, "no coordinates"),
    ("북위35도", "126.7", None, "not numbers"),
    ("126.7070", "35.9896", (35.9896, 126.707), "swapped"),
])
def test_bad_coordinates_are_emptied_or_mended_and_flagged(lat, lon, kept, why):
    result = parse(render(H2016, [row("해신동주민센터"), row("월명동주민센터", road="전라북도 군산시 구영6길 51", lat=lat, lon=lon)]))
    site = result.sites[1]
    assert (site.lat, site.lon) == (kept if kept else (None, None))
    assert result.rows_flagged == 1
    assert why in lines_of(result, "flagged")[3]
    assert "lat" not in site.owned() if kept is None else site.owned()["lat"] == kept[0]
    Site.model_validate({"id": site.id, **site.owned(), "aps": [{"id": "a", "address": "x.invalid", "credentials": "c"}]})


def test_old_and_new_province_names_are_one_province():
    text = render(H2016, [
        row("해신동주민센터", sido="전라북도", road="전라북도 군산시 중앙로 224"),
        row("월명동주민센터", sido="전북특별자치도", road="전북특별자치도 군산시 구영6길 51"),
        row("서천군청", sido="충청남도", sigungu="서천군", road="충청남도 서천군 서천읍 군청로 57", jibun="", lat="36.08", lon="126.69"),
        row("중구청", sido="서울특별시", sigungu="중구", road="서울특별시 중구 창경궁로 17", jibun="", lat="37.56", lon="126.99"),
    ])
    for wanted in ("군산시", "전라북도 군산시", "전북특별자치도 군산시", "전북 군산시"):
        result = parse(text, wanted)
        assert [s.name for s in result.sites] == ["해신동주민센터", "월명동주민센터"], wanted
        assert all(s.address.startswith("전북특별자치도 군산시") for s in result.sites)
    assert parse(text, "충청남도 군산시").sites == []
    assert [s.name for s in parse(text, "서울특별시 중구").sites] == ["중구청"]
    # The same place written with the old and the new name gets the same id: re-imports stay stable.
    old = parse(render(H2016, [row("해신동주민센터", sido="전라북도", road="전라북도 군산시 중앙로 224", jibun="")]))
    new = parse(render(H2016, [row("해신동주민센터", sido="전북특별자치도", road="전북특별자치도 군산시 중앙로 224", jibun="")]))
    assert old.sites[0].id == new.sites[0].id


def test_unknown_province_spelling_is_flagged():
    result = parse(render(H2016, [row("해신동주민센터", sido="전라븍도")]), "군산시")
    assert "전라븍도" in lines_of(result, "flagged")[2]


def test_malformed_rows_are_rejected_with_their_line_numbers(tmp_path):
    good = render(H2016, [row("해신동주민센터"), row("월명동주민센터", road="전라북도 군산시 구영6길 51")]).splitlines()
    bad_comma = ",".join(row("삼학동주민센터", road="전라북도 군산시 미원로 17")[h] for h in H2016)  # SK,KT,LG unquoted
    short = "수송동주민센터,민원실,전라북도,군산시,관공서"
    nameless = ",".join(row("")[h] if h != "서비스제공사명" else "KT" for h in H2016)
    text = "\r\n".join([good[0], good[1], bad_comma, short, good[2], nameless]) + "\r\n"
    result = parse(text, "군산시")
    rejected = lines_of(result, "rejected")
    assert set(rejected) == {3, 4, 6}
    assert "unquoted comma" in rejected[3]
    assert "only 5 fields" in rejected[4]
    assert "설치장소명" in rejected[6]
    assert (result.rows_read, result.rows_rejected) == (5, 3)
    assert [s.name for s in result.sites] == ["해신동주민센터", "월명동주민센터"]
    report = format_report(import_sites(write(tmp_path, text, "cp949"), "군산시"))
    assert "line 3: rejected: " in report and "line 6: rejected: " in report


def test_an_unclosed_quote_is_reported_not_swallowed_silently():
    rows = [row("해신동주민센터", provider="KT"), row("월명동주민센터", provider="KT", road="전라북도 군산시 구영6길 51")]
    lines = render(H2016, rows).splitlines()
    broken = lines[1].replace(",1층,", ',"1층,', 1)
    result = parse("\r\n".join([lines[0], broken, lines[2]]) + "\r\n")
    assert result.rows_rejected == 1
    assert "unclosed quote" in lines_of(result, "rejected")[2]


@pytest.mark.parametrize("facility, name, category, known", [
    ("버스정류장", "군산시청 앞", "bus_stop", True),
    ("공원", "은파호수공원", "park", True),
    ("관광지", "경암동 철길마을", "tourist_site", True),
    ("관광", "선유도 해수욕장", "tourist_site", True),
    ("전통시장", "역전시장", "market", True),
    ("복지시설", "금강노인복지관", "welfare", True),
    ("서민·복지시설", "지역아동센터", "welfare", True),
    ("주민센터", "나운1동주민센터", "public_office", True),
    ("행정기관", "군산시청", "public_office", True),
    ("읍/면/동 주민센터", "수송동주민센터", "public_office", True),
    ("문화시설", "군산예술의전당", "culture", True),
    ("지역문화시설", "대야공공도서관", "library", True),
    ("관공서", "신평보건지소", "health", True),  # the name is plainer than the value
    ("기타", "군산공설시장", "market", True),  # a vague value: the name decides
    ("기타", "군산시장애인종합복지관", "welfare", True),  # 군산시 + 장애인, not a 시장
    ("교통시설", "군산연안여객터미널", "port", True),
    ("교통시설", "시외버스터미널", "bus_stop", True),
    ("농기계임대사업소", "동부분소", "rental_yard", True),
    ("기타", "무슨무슨곳", "other", True),
    ("우주정거장", "무슨무슨곳", "other", False),
    ("우주정거장", "군산 농기계임대사업소", "rental_yard", False),
])
def test_facility_values_map_to_categories(facility, name, category, known):
    assert classify(facility, name) == (category, known)
    assert category in get_args(Category)


def test_unknown_facility_value_is_other_and_flagged():
    result = parse(render(H2016, [row("어떤 곳", facility="우주정거장")]))
    assert result.sites[0].category == "other"
    assert result.rows_flagged == 1 and "우주정거장" in lines_of(result, "flagged")[2]


def test_no_row_for_the_sigungu_says_what_the_file_has(tmp_path, capsys):
    path = write(tmp_path, render(H2016, [row("해신동주민센터")]))
    assert cli_main(["import-sites", str(path), "--sigungu", "익산시"]) == 1
    assert "군산시 1" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------------
# Merging into an operator's config.

OPERATOR_CONFIG = """\
# Gunsan production inventory. Maintained by the network team.
# Secrets live in /etc/wifimon.

service:
  organisation: 군산시
  listen: 127.0.0.1:9810
credentials:
  city:
    version: "2c"
    community: {{file: city.secret}}
profile_dirs: [profiles]
sites:
- id: {market_id}
  name: 공설시장 (old name)
  category: other
  address: 예전 주소
  lat: 35.9
  lon: 126.7
  snmp: {{timeout: 3, retries: 2}}
  uplink: {{id: market-switch, address: 127.0.0.9, profile: generic, credentials: city}}
  aps:
  - {{id: market-ap-east, address: 127.0.0.10, profile: unifi, credentials: city, model: U6-Mesh}}
  - {{id: market-ap-west, address: 127.0.0.11, profile: unifi, credentials: city}}
- id: harbour-office
  name: 항만 사무실
  category: port
  aps:
  - {{id: harbour-ap, address: 127.0.0.12, credentials: city}}
"""


@pytest.fixture
def operator_config(tmp_path: Path) -> tuple[Path, str]:
    market_id = parse_sites(real(GUNSAN_CP949).read_bytes(), "군산시").sites[0].id
    path = tmp_path / "wifimon.yaml"
    path.write_text(OPERATOR_CONFIG.format(market_id=market_id), encoding="utf-8")
    (tmp_path / "city.secret").write_text("s3cret\n")
    (tmp_path / "profiles").mkdir()
    path.chmod(0o640)
    return path, market_id


def test_merge_keeps_what_the_operator_wrote(operator_config):
    path, market_id = operator_config
    before = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = import_sites(GUNSAN_CP949, "군산시", into=path)
    assert (result.sites_added, result.sites_updated, result.sites_unchanged) == (23, 1, 0)
    assert result.written == path

    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Gunsan production inventory. Maintained by the network team.\n# Secrets live in /etc/wifimon.\n")
    after = yaml.safe_load(text)
    for key in ("service", "credentials", "profile_dirs"):
        assert after[key] == before[key]
    market = next(s for s in after["sites"] if s["id"] == market_id)
    old_market = before["sites"][0]
    # The import's keys are refreshed...
    assert (market["name"], market["category"], market["district"]) == ("군산공설시장", "market", "신영동")
    assert market["lat"] == pytest.approx(35.9834656)
    # ...and the operator's are untouched: APs, uplink, SNMP settings.
    for key in ("aps", "uplink", "snmp"):
        assert market[key] == old_market[key]
    assert after["sites"][1] == before["sites"][1]
    assert not any("APs left as they are" in m.text for m in result.messages)  # 2 in the file, 2 configured
    # The whole file still validates, with the new sites' placeholder APs on the operator's credentials...
    config = Config.model_validate(after)
    assert len(config.sites) == 25
    new = [s for s in config.sites if s.id not in (market_id, "harbour-office")]
    assert all(ap.credentials == "city" and ap.address.endswith(".invalid") for s in new for ap in s.aps)
    # ...but it is not ready to run until every placeholder is replaced: each is named with its line.
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    lines = text.splitlines()
    placeholders = [ap for s in new for ap in s.aps]
    assert len(exc.value.problems) == len(placeholders)
    for ap, problem in zip(placeholders, exc.value.problems, strict=True):
        where, _, rest = problem.partition(": ")
        line = int(where.removeprefix(f"{path}:"))
        assert ap.address in lines[line - 1] and f"{ap.address!r} is a placeholder" in rest, problem
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(os.listdir(path.parent)) == ["city.secret", "profiles", "wifimon.yaml"]  # no temp file left


def test_importing_twice_changes_nothing_the_second_time(operator_config):
    path, _ = operator_config
    import_sites(GUNSAN_CP949, "군산시", into=path)
    first = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    again = import_sites(GUNSAN_CP949, "군산시", into=path)
    assert path.read_bytes() == first
    assert path.stat().st_mtime_ns == mtime  # not even rewritten
    assert (again.sites_added, again.sites_updated, again.sites_unchanged, again.written) == (0, 0, 24, None)
    assert "already up to date" in format_report(again)
    # The other encoding of the same rows is the same import.
    assert import_sites(real(GUNSAN_UTF8), "전북특별자치도 군산시", into=path).written is None
    assert path.read_bytes() == first


def test_a_position_missing_from_the_file_does_not_erase_the_operators(tmp_path):
    csv_path = write(tmp_path, render(H2016, [row("해신동주민센터", lat="0", lon="0")]))
    config = tmp_path / "c.yaml"
    first = import_sites(csv_path, into=config)
    site_id = yaml.safe_load(config.read_text(encoding="utf-8"))["sites"][0]["id"]
    assert "lat" not in yaml.safe_load(config.read_text(encoding="utf-8"))["sites"][0]
    assert first.rows_flagged == 1
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["sites"][0].update(lat=35.9896, lon=126.707)  # the operator fixes the position by hand
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    second = import_sites(csv_path, into=config)
    site = yaml.safe_load(config.read_text(encoding="utf-8"))["sites"][0]
    assert (site["id"], site["lat"], site["lon"]) == (site_id, 35.9896, 126.707)
    assert second.sites_unchanged == 1


def test_new_config_file_is_created_and_validates_once_credentials_exist(tmp_path):
    config = tmp_path / "new.yaml"
    result = import_sites(real(GUNSAN_CP949), "군산시", into=config, credentials="city")
    assert result.sites_added == 24 and config.exists()
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(config.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    assert any("does not define" in m.text for m in result.messages)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["credentials"] = {"city": {"version": "2c", "community": {"env": "X"}}}
    Config.model_validate(data)


def test_report_format(operator_config):
    path, _ = operator_config
    report = format_report(import_sites(GUNSAN_CP949, "군산시", into=path))
    first, *rest = report.splitlines()
    assert re.fullmatch(r"read 25 rows; 23 sites added, 1 updated; 0 rejected, 0 flagged", first)
    assert "line 26: note: same place as line 2 (군산공설시장): AP 2" in rest
    assert rest[-1] == f"wrote {path}"


def test_sites_that_is_not_a_list_is_refused(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("sites: {a: 1}\n", encoding="utf-8")
    with pytest.raises(ImportFailure, match="not a list"):
        import_sites(write(tmp_path, render(H2016, [row("해신동주민센터")])), into=config)
    assert config.read_text(encoding="utf-8") == "sites: {a: 1}\n"


def test_same_name_across_the_road_stays_two_sites():
    # Two stops of one name, 30 m apart on either side of a road, each with its own address.
    text = render(H2016, [
        row("군산시청", facility="버스정류장", road="전라북도 군산시 시청로 16", jibun="", lat="35.96760", lon="126.73660"),
        row("군산시청", facility="버스정류장", road="전라북도 군산시 시청로 17", jibun="", lat="35.96785", lon="126.73665"),
    ])
    assert [s.ap_count for s in parse(text).sites] == [1, 1]


def test_every_mapping_target_is_a_config_category():
    from monitor import inventory_import as sites_import

    targets = set(sites_import._FACILITY.values()) | set(sites_import._BROAD.values())
    targets |= {category for _, category in sites_import._NAME_RULES}
    assert targets <= set(get_args(Category))


def test_a_site_gone_from_the_file_is_kept_and_named(tmp_path):
    config = tmp_path / "c.yaml"
    import_sites(write(tmp_path, render(H2016, [row("해신동주민센터"), row("월명동주민센터", road="전라북도 군산시 구영6길 51")])), into=config)
    again = import_sites(write(tmp_path, render(H2016, [row("해신동주민센터")]), name="new.csv"), "군산시", into=config)
    assert [s["name"] for s in yaml.safe_load(config.read_text(encoding="utf-8"))["sites"]] == ["해신동주민센터", "월명동주민센터"]
    assert any("월명동주민센터" in m.text and "no longer in the file" in m.text for m in again.messages)


def test_an_unwritable_target_is_an_import_failure(tmp_path):
    with pytest.raises(ImportFailure, match="cannot write"):
        import_sites(write(tmp_path, render(H2016, [row("해신동주민센터")])), into=tmp_path / "no-such-dir" / "c.yaml")


def test_real_file_keeps_each_aps_own_detail_and_position(tmp_path):
    """군산공설시장 is two rows (lines 2 and 26, 33 m apart, one address): one site whose two APs keep their
    own 설치장소상세 and coordinates, the merge reported with both line numbers."""
    result = import_sites(real(GUNSAN_CP949), "군산시", into=tmp_path / "wifimon.yaml", credentials="city")
    market = next(s for s in parse_sites(GUNSAN_CP949.read_bytes(), "군산시").sites if s.name == "군산공설시장")
    assert [(a.line, a.place, a.lat, a.lon) for a in market.aps] == [
        (2, "공설시장 1~3층", 35.9834656, 126.7203766), (26, "공설시장 1~3층", 35.9831711, 126.7203246)]
    (merge,) = [m for m in result.messages if m.text.startswith("lines ")]
    assert (merge.line, merge.level) == (2, "note")
    assert merge.text.startswith("lines 2, 26 merged into one site 군산공설시장 (same address, 33 m apart at most)")
    data = yaml.safe_load((tmp_path / "wifimon.yaml").read_text(encoding="utf-8"))
    entry = next(s for s in data["sites"] if s["name"] == "군산공설시장")
    assert [(a["place"], a["lat"], a["lon"]) for a in entry["aps"]] == [
        ("공설시장 1~3층", 35.9834656, 126.7203766), ("공설시장 1~3층", 35.9831711, 126.7203246)]
    every = [ap for s in data["sites"] for ap in s["aps"]]
    assert len(every) == 25 and all(ap.get("place") and "lat" in ap for ap in every)  # no row's detail lost
    data["credentials"] = {"city": {"version": "2c", "community": {"env": "X"}}}
    site = next(s for s in Config.model_validate(data).sites if s.name == "군산공설시장")
    assert [(a.place, a.lat) for a in site.aps] == [("공설시장 1~3층", 35.9834656), ("공설시장 1~3층", 35.9831711)]


def test_rows_of_one_name_far_apart_are_one_site_only_when_their_address_says_so():
    city_hall = dict(road="전라북도 군산시 시청로 17", jibun="전라북도 군산시 조촌동 1")  # written for many places
    text = render(H2016, [
        # Two parks of one name, 400 m apart, both with the city hall's address (which others use too).
        row("수변공원", detail="입구", facility="공원", lat="35.9700", lon="126.7000", **city_hall),
        row("수변공원", detail="전망대", facility="공원", lat="35.9736", lon="126.7000", **city_hall),
        row("시청 민원실", lat="35.9677", lon="126.7366", **city_hall),
        # Two rows of one name, no address, 120 m apart: two places.
        row("쉼터", facility="기타", road="", jibun="", lat="35.9500", lon="126.7000"),
        row("쉼터", facility="기타", road="", jibun="", lat="35.9511", lon="126.7000"),
        # A hotel's floors, geocoded 1.1 km apart, with the hotel's own address: one facility.
        row("대둔산관광호텔", detail="1층", facility="관광", road="전라북도 군산시 대둔산공원길 45", jibun="",
            lat="36.1162600", lon="127.3304843"),
        row("대둔산관광호텔", detail="3층", facility="관광", road="전라북도 군산시 대둔산공원길45", jibun="",
            lat="36.1064821", lon="127.3288598"),
    ])
    result = parse(text)
    by_name: dict[str, list] = {}
    for s in result.sites:
        by_name.setdefault(s.name, []).append(s)
    assert [s.lines for s in by_name["수변공원"]] == [(2,), (3,)]
    assert [s.lines for s in by_name["쉼터"]] == [(5,), (6,)]
    (hotel,) = by_name["대둔산관광호텔"]
    assert [(a.line, a.place, a.lat) for a in hotel.aps] == [(7, "1층", 36.11626), (8, "3층", 36.1064821)]
    assert "lines 7, 8 merged into one site 대둔산관광호텔 (same address, 1,098 m apart at most)" in lines_of(
        result, "note")[7]
    assert "check this row's coordinates" in lines_of(result, "flagged")[8]
    assert len({s.id for s in result.sites}) == len(result.sites)
    # The two parks' ids do not depend on the order of the rows.
    backward = parse(render(H2016, [r for r in reversed(list(csv.DictReader(io.StringIO(text))))]))
    assert {(s.id, s.aps[0].place) for s in backward.sites if s.name == "수변공원"} == {
        (s.id, s.aps[0].place) for s in by_name["수변공원"]}
