"""Import the national free Wi-Fi standard dataset (전국무료와이파이표준데이터) into a config's ``sites``.

Cities publish their public Wi-Fi places in this format (data.go.kr dataset 15013116). The files are
messy in known ways, and each is handled here rather than left to the operator:

- CP949 (the official download) or UTF-8 with or without a BOM (files people re-saved); detected.
- Three header generations (2016: 설치년월/위도/경도 and a trailing empty column; 2019–2023: a leading
  번호, 설치연월, WGS84위도/WGS84경도; 2024 on: a leading 관리번호, 설치시설구분명). Columns are matched by
  name, never by position.
- The same place repeated once per AP or per floor: merged into one site, each row one AP with its own
  설치장소상세 and position; rows of one name far apart are one site only when their address says so.
- Zero, swapped or out-of-range coordinates; blank SSIDs; SSIDs spelled five ways; 전라북도 in old
  files and 전북특별자치도 in new ones.

Reading and merging are pure (bytes in, data out); :func:`import_sites` does the file I/O around them
and writes a config only through a temp file and a rename. The import owns a site's ``name``,
``category``, ``address``, ``district``, ``lat`` and ``lon``; everything else in a config (the
operator's APs, uplinks, profiles, credentials, other keys) is left as it was.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import logging
import math
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml


log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------------
# Columns: every spelling seen in the wild, matched after removing spaces and folding case.

_COLUMNS: dict[str, tuple[str, ...]] = {
    "mgmt_no": ("관리번호",),
    "name": ("설치장소명",),
    "detail": ("설치장소상세",),
    "sido": ("설치시도명",),
    "sigungu": ("설치시군구명",),
    "facility": ("설치시설구분", "설치시설구분명"),
    "provider": ("서비스제공사명",),
    "ssid": ("와이파이ssid", "ssid"),
    "installed": ("설치년월", "설치연월"),
    "road": ("소재지도로명주소",),
    "jibun": ("소재지지번주소",),
    "lat": ("위도", "wgs84위도"),
    "lon": ("경도", "wgs84경도"),
}
_REQUIRED = ("name", "lat", "lon")

# Provinces renamed or written short: compare and store by the current official name.
_PROVINCES: dict[str, str] = {
    "전라북도": "전북특별자치도", "전북": "전북특별자치도", "전북도": "전북특별자치도",
    "전북특별자치도": "전북특별자치도",
    "강원도": "강원특별자치도", "강원": "강원특별자치도", "강원특별자치도": "강원특별자치도",
    "제주도": "제주특별자치도", "제주": "제주특별자치도", "제주특별자치도": "제주특별자치도",
    "세종시": "세종특별자치시", "세종": "세종특별자치시", "세종특별자치시": "세종특별자치시",
    "서울시": "서울특별시", "서울": "서울특별시", "서울특별시": "서울특별시",
    "부산시": "부산광역시", "부산": "부산광역시", "부산광역시": "부산광역시",
    "대구시": "대구광역시", "대구": "대구광역시", "대구광역시": "대구광역시",
    "인천시": "인천광역시", "인천": "인천광역시", "인천광역시": "인천광역시",
    "광주시": "광주광역시", "광주광역시": "광주광역시",  # bare 광주 is also a city in 경기도
    "대전시": "대전광역시", "대전": "대전광역시", "대전광역시": "대전광역시",
    "울산시": "울산광역시", "울산": "울산광역시", "울산광역시": "울산광역시",
    "경기": "경기도", "경기도": "경기도",
    "충북": "충청북도", "충청북도": "충청북도", "충남": "충청남도", "충청남도": "충청남도",
    "전남": "전라남도", "전라남도": "전라남도",
    "경북": "경상북도", "경상북도": "경상북도", "경남": "경상남도", "경상남도": "경상남도",
}

# 설치시설구분(명) values → Category, every spelling seen (compared without spaces).
_FACILITY: dict[str, str] = {
    "버스정류장": "bus_stop", "버스정류소": "bus_stop", "정류장": "bus_stop", "터미널": "bus_stop",
    "공원": "park", "도시공원": "park",
    "관광": "tourist_site", "관광지": "tourist_site", "관광시설": "tourist_site", "관광명소": "tourist_site",
    "전통시장": "market", "시장": "market",
    "복지시설": "welfare", "서민·복지시설": "welfare", "서민복지시설": "welfare", "종합복지시설": "welfare",
    "사회복지시설": "welfare", "노인복지시설": "welfare", "경로당": "welfare",
    "관공서": "public_office", "행정기관": "public_office", "공공기관": "public_office",
    "공공행정": "public_office", "주민센터": "public_office", "읍/면/동주민센터": "public_office",
    "행정복지센터": "public_office",
    "문화시설": "culture", "지역문화시설": "culture", "체육시설": "sports", "도서관": "library",
    "교육시설": "school", "학교": "school",
    "보건시설": "health", "보건소": "health", "보건진료소": "health", "의료시설": "health",
    "항만": "port", "항구": "port", "여객터미널": "port",
    "거리": "street", "주요거리": "street", "광장": "street",
    "농기계임대사업소": "rental_yard",
}
# Values that say next to nothing: the place's name decides, else this fallback.
_BROAD: dict[str, str] = {"기타": "other", "편의시설": "other", "교통시설": "bus_stop"}
# Values that are buckets rather than kinds of place: the name may say better (see classify).
_COARSE = {"public_office", "welfare", "culture", "school"}
# Name rules too loose to overrule any value (회관, 마을, 교육, 거리 are everywhere).
_VAGUE = {"culture", "tourist_site", "school", "street"}

# Name keywords → Category, first match wins (port before bus_stop: 연안여객터미널 is a terminal too).
# The lookahead keeps "시장" from matching 군산시장애인복지관 (군산시 + 장애인).
_NAME_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), c)
    for p, c in (
        (r"농기계|임대사업소", "rental_yard"),
        (r"도서관", "library"),
        (r"여객|선착장|부두|항구|[가-힣]항(?![가-힣])", "port"),
        (r"터미널|정류장|정류소", "bus_stop"),
        (r"시장(?![가-힣])|장터", "market"),
        (r"주민센터|행정복지센터|[읍면]사무소|시청|군청|구청|청사", "public_office"),
        (r"보건|의료원|진료소|건강증진", "health"),
        (r"복지|경로당|노인|장애인|아동센터|보육원|요양", "welfare"),
        (r"체육|운동장|경기장|수영장", "sports"),
        (r"공원|유원지|숲", "park"),
        (r"박물관|미술관|문학관|문화|예술|회관|전시관", "culture"),
        (r"관광|해수욕장|전망대|마을|유적|향교|사찰|[가-힣]사(?![가-힣])", "tourist_site"),
        (r"학교|대학|교육", "school"),
        (r"거리|광장", "street"),
    )
)

# Where coordinates of a Korean place can be at all: anything else is a typo or a placeholder.
_LAT_RANGE = (33.0, 39.0)
_LON_RANGE = (124.0, 132.0)
_SAME_PLACE_M = 100  # rows of one name this close are one place, if no address of their own says otherwise
_SPREAD_FLAG_M = 500  # rows merged by their address but further apart than this are worth a look

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MAX_SITE_ID = 56  # leaves room for "-ap12" in AP ids (limit 64)


class ImportFailure(Exception):
    """The file cannot be imported at all (unreadable, unknown encoding, no usable header)."""


@dataclass(frozen=True)
class Message:
    """One line of the report: a rejected or doubtful row, or a note worth reading."""

    line: int | None
    level: Literal["rejected", "flagged", "note"]
    text: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.level}: {self.text}"


@dataclass(frozen=True)
class ImportedAp:
    """One row of the file: one AP, where on its site it hangs (설치장소상세) and its own position."""

    line: int
    place: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class ImportedSite:
    """One place from the file, its rows merged: one AP per row, each keeping its own detail and position."""

    id: str
    name: str
    category: str
    address: str
    district: str
    lat: float | None
    lon: float | None
    ssids: tuple[str, ...]
    aps: tuple[ImportedAp, ...]

    @property
    def ap_count(self) -> int:
        return len(self.aps)

    @property
    def lines(self) -> tuple[int, ...]:
        """The file lines the site came from, one per AP."""
        return tuple(ap.line for ap in self.aps)

    def owned(self) -> dict[str, Any]:
        """The keys the import owns in a config's site entry; empty values are left out."""
        out: dict[str, Any] = {"name": self.name, "category": self.category}
        if self.address:
            out["address"] = self.address
        if self.district:
            out["district"] = self.district
        if self.lat is not None and self.lon is not None:
            out["lat"] = self.lat
            out["lon"] = self.lon
        return out


@dataclass
class ParseResult:
    """What a file held, before any config is touched."""

    sites: list[ImportedSite]
    rows_read: int
    rows_selected: int
    rows_rejected: int
    rows_flagged: int
    messages: list[Message]
    encoding: str
    header: str
    sigungu: str | None = None
    sigungu_seen: dict[str, int] = field(default_factory=dict)


@dataclass
class ImportResult:
    """The outcome of one import, as :func:`format_report` prints it."""

    rows_read: int
    rows_selected: int
    sites_added: int
    sites_updated: int
    sites_unchanged: int
    rows_rejected: int
    rows_flagged: int
    messages: list[Message]
    encoding: str = ""
    header: str = ""
    sigungu: str | None = None
    into: Path | None = None
    written: Path | None = None
    config: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------
# Reading the bytes.


def decode(raw: bytes) -> tuple[str, str]:
    """Return (text, encoding name). Official downloads are CP949; re-saved files UTF-8, maybe BOM'd.

    Korean CP949 text is practically never valid UTF-8, so trying UTF-8 first and falling back is safe.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp949"), "cp949"
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ImportFailure(
            f"line {line}: neither UTF-8 nor CP949 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


def _norm_header(cell: str) -> str:
    return re.sub(r"\s+", "", cell.replace("\ufeff", "")).lower()


def _header_map(cells: Sequence[str]) -> dict[str, int]:
    lookup = {spelling: key for key, spellings in _COLUMNS.items() for spelling in spellings}
    out: dict[str, int] = {}
    for i, cell in enumerate(cells):
        key = lookup.get(_norm_header(cell))
        if key and key not in out:
            out[key] = i
    return out


def _header_generation(cells: Sequence[str]) -> str:
    names = {_norm_header(c) for c in cells}
    if "관리번호" in names or "설치시설구분명" in names:
        return "2024"
    if "wgs84위도" in names or "설치연월" in names:
        return "2019"
    return "2016"


# ---------------------------------------------------------------------------------------------------
# Normalising values.


def normalize_province(name: str) -> str:
    """The current official name of a province (전라북도 → 전북특별자치도); unknown names unchanged."""
    key = re.sub(r"\s+", "", name)
    return _PROVINCES.get(key, key)


def _modernize_address(address: str) -> str:
    """Collapse spaces and write the province by its current name, so old and new files agree."""
    address = re.sub(r"\s+", " ", address).strip()
    head, sep, rest = address.partition(" ")
    if head in _PROVINCES:
        return f"{_PROVINCES[head]}{sep}{rest}"
    return address


def _address_key(address: str) -> str:
    """A comparison key: '…신금길18(신영동)' and '…신금길 18' are the same address."""
    address = re.sub(r"\([^)]*\)", "", _modernize_address(address))
    return re.sub(r"[\s,]+", "", address)


def _name_key(name: str) -> str:
    return re.sub(r"\s+", "", name)


def _site_name(name: str) -> str:
    """'보건의료원 2' is the second AP of 보건의료원: drop a trailing AP number written apart."""
    name = re.sub(r"\s+", " ", name).strip()
    return re.sub(r"\s+(\d{1,2}|\(\d{1,2}\))$", "", name) or name


_DISTRICT_RE = re.compile(r"^([가-힣]+?\d*(?:읍|면|동|가))(?:[\d-]|$)")


def _district(name: str, sigungu: str, *addresses: str) -> str:
    """The 읍/면/동: a 주민센터 or 면사무소 names its own; else the address's token after the 시/군(/구),
    or a road address's '(신영동)'. (옥도면사무소 sits in 금동 on the mainland but serves 옥도면.)"""
    m = re.match(r"^([가-힣]+\d*(?:읍|면|동))(?:주민센터|행정복지센터|사무소)", name.replace(" ", ""))
    if m:
        return m.group(1)
    last = sigungu.split()[-1] if sigungu else ""
    for address in addresses:
        tokens = address.split()
        for i, token in enumerate(tokens):
            if token == last or (not last and re.fullmatch(r"[가-힣]+[시군]", token)):
                for follower in tokens[i + 1 : i + 3]:
                    if follower.endswith("구") and not follower.endswith("동구"):
                        continue  # 전주시 덕진구 신동: skip the 구
                    m = _DISTRICT_RE.match(follower)
                    if m:
                        return m.group(1)
                    break
                break
        m = re.search(r"\(([가-힣]+\d*(?:동|가))[,)]", address)
        if m:
            return m.group(1)
    return ""


def classify(facility: str, name: str) -> tuple[str, bool]:
    """Map a 설치시설구분 value (and the place's name) to a Category. Returns (category, known value).

    Some values are coarse buckets that real files fill loosely (보건지소 filed under 관공서 or
    서민·복지시설, a library under 교육시설): there a name that says plainly what the place is wins. A
    specific value stands, whatever the name: bus stops are named after what stands near them.
    """
    value = re.sub(r"\s+", "", facility)
    by_name = next((c for pattern, c in _NAME_RULES if pattern.search(name)), None)
    if value in _BROAD:
        return by_name or _BROAD[value], True
    if value not in _FACILITY:
        return by_name or "other", False
    category = _FACILITY[value]
    if category in _COARSE and by_name is not None and by_name not in _VAGUE:
        return by_name, True
    return category, True


def _float(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _in_korea(lat: float, lon: float) -> bool:
    return _LAT_RANGE[0] <= lat <= _LAT_RANGE[1] and _LON_RANGE[0] <= lon <= _LON_RANGE[1]


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Equirectangular distance: exact enough within a city."""
    lat = math.radians((a[0] + b[0]) / 2)
    dy = (a[0] - b[0]) * 111_320
    dx = (a[1] - b[1]) * 111_320 * math.cos(lat)
    return math.hypot(dx, dy)


def _site_id(mgmt_numbers: Iterable[str], name: str, address_key: str) -> str:
    """Stable across re-imports: from the smallest 관리번호, else a hash of name and address."""
    for number in sorted(n for n in mgmt_numbers if n):
        ident = "wf-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", number).strip("-")
        if len(ident) <= _MAX_SITE_ID and _ID_RE.match(ident) and ident != "wf-":
            return ident
        break
    digest = hashlib.sha1(f"{_name_key(name)}|{address_key}".encode()).hexdigest()
    return f"wf-{digest[:10]}"


# ---------------------------------------------------------------------------------------------------
# Parsing rows into sites.


@dataclass
class _Row:
    line: int
    mgmt_no: str
    name: str
    detail: str
    sido: str
    sigungu: str
    facility: str
    ssid: str
    road: str
    jibun: str
    pos: tuple[float, float] | None
    flagged: bool = False
    road_key: str = field(init=False)
    jibun_key: str = field(init=False)

    def __post_init__(self) -> None:
        # Computed once: grouping compares every pair of rows that share a name.
        self.road_key = _address_key(self.road)
        self.jibun_key = _address_key(self.jibun)


def _matches(sigungu_filter: str | None, sido: str, sigungu: str, address: str) -> bool:
    """'군산시', '전라북도 군산시' and '전북특별자치도 군산시' all pick 군산시 rows, old file or new."""
    if not sigungu_filter:
        return True
    wanted = [normalize_province(t) for t in sigungu_filter.split()]
    # The address counts too: some rows leave 설치시도명/설치시군구명 blank.
    have = {normalize_province(sido), *sigungu.split(), *(normalize_province(t) for t in address.split()[:3])}
    return all(w in have for w in wanted)


def _position(lat_text: str, lon_text: str) -> tuple[tuple[float, float] | None, str]:
    """Parse a position. Returns (position, why it is doubtful); anything implausible becomes None."""
    lat, lon = _float(lat_text), _float(lon_text)
    if lat is None or lon is None:
        if lat_text.strip() or lon_text.strip():
            return None, f"coordinates {lat_text!r}, {lon_text!r} are not numbers; position left empty"
        return None, "no coordinates; position left empty"
    if lat == 0 or lon == 0:
        return None, f"coordinates {lat_text}, {lon_text} (zero); position left empty"
    if not _in_korea(lat, lon) and _in_korea(lon, lat):
        return (lon, lat), f"latitude and longitude swapped ({lat_text}, {lon_text}); swapped back"
    if not _in_korea(lat, lon):
        return None, f"coordinates {lat_text}, {lon_text} are outside Korea; position left empty"
    return (lat, lon), ""


def parse_sites(raw: bytes, sigungu: str | None = None) -> ParseResult:
    """Parse a standard-dataset file's bytes into sites, keeping only rows of ``sigungu`` if given.

    Pure: no I/O. Raises :class:`ImportFailure` when the file as a whole cannot be read.
    """
    text, encoding = decode(raw)
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    messages: list[Message] = []
    header: list[str] | None = None
    cols: dict[str, int] = {}
    rows: list[_Row] = []
    rows_read = rows_rejected = 0
    sigungu_seen: dict[str, int] = {}
    prev_end = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a NUL byte; the reader stops, so report and give up on the rest
            messages.append(Message(prev_end + 1, "rejected", f"unreadable CSV ({exc}); the rest of the file was skipped"))
            rows_read += 1
            rows_rejected += 1
            break
        line, prev_end = prev_end + 1, reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            found = _header_map(record)
            if "name" in found:
                header, cols = record, found
                missing = [k for k in _REQUIRED if k not in cols]
                if missing:
                    names = ", ".join("/".join(_COLUMNS[k]) for k in missing)
                    raise ImportFailure(f"line {line}: the header has no column {names}")
                continue
            if line <= 5:
                continue  # a title line above the header
            raise ImportFailure("no header row with 설치장소명 in the first lines")
        rows_read += 1

        # Every known column, "" where the file lacks it or the row is short.
        v = {key: record[cols[key]].strip() if cols.get(key, len(record)) < len(record) else "" for key in _COLUMNS}

        address = v["road"] or v["jibun"]
        picked = _matches(sigungu, v["sido"], v["sigungu"], address)
        sigungu_seen[v["sigungu"]] = sigungu_seen.get(v["sigungu"], 0) + 1
        # A row with more cells than the header is a comma gone unquoted ("SK,KT,LG"); fewer, a cut line.
        # Either way its columns are shifted and nothing in it can be trusted.
        extra = [c for c in record[len(header):] if c.strip()]
        needed = max(cols[k] for k in _REQUIRED) + 1
        problem = ""
        if extra:
            problem = f"{len(record)} fields where the header has {len(header)} (an unquoted comma?)"
        elif len(record) < needed:
            problem = f"only {len(record)} fields where the header has {len(header)}"
        elif not v["name"]:
            problem = "no 설치장소명 (place name)"
        elif not address and not (v["lat"] or v["lon"]):
            problem = "neither an address nor coordinates"
        if problem:
            if prev_end > line:
                problem += f"; its quotes run over lines {line}-{prev_end} (an unclosed quote?)"
            # With a filter, only report the rejects that may be ours: a national file has thousands.
            if not sigungu or sigungu.split()[-1] in ",".join(record):
                rows_rejected += 1
                messages.append(Message(line, "rejected", problem))
            continue
        if not picked:
            continue
        pos, doubt = _position(v["lat"], v["lon"])
        flagged = bool(doubt)
        if doubt:
            messages.append(Message(line, "flagged", doubt))
        if v["sido"] and normalize_province(v["sido"]) not in _PROVINCES.values():
            messages.append(Message(line, "flagged", f"unknown province name {v['sido']!r}"))
            flagged = True
        rows.append(
            _Row(
                line=line, mgmt_no=v["mgmt_no"], name=v["name"], detail=re.sub(r"\s+", " ", v["detail"]), sido=v["sido"],
                sigungu=v["sigungu"], facility=v["facility"], ssid=v["ssid"],
                road=_modernize_address(v["road"]), jibun=_modernize_address(v["jibun"]),
                pos=pos, flagged=flagged,
            )
        )
    if header is None:
        raise ImportFailure("the file is empty or has no header row with 설치장소명")

    sites = _group(rows, messages)
    messages.sort(key=lambda m: (m.line if m.line is not None else 1 << 30))
    flagged_rows = sum(1 for r in rows if r.flagged)
    return ParseResult(
        sites=sites, rows_read=rows_read, rows_selected=len(rows), rows_rejected=rows_rejected,
        rows_flagged=flagged_rows, messages=messages, encoding=encoding,
        header=_header_generation(header), sigungu=sigungu, sigungu_seen=sigungu_seen,
    )


def _site_ids(groups: list[list[_Row]], messages: list[Message]) -> list[str]:
    """Each group's site id, independent of row order: from its 관리번호, else a hash of its name and smallest
    address key. Groups that come out the same (one name and address, rows far apart) are told apart by
    what they hold (positions, details), the first by that order keeping the plain id."""
    base = []
    for members in groups:
        key_address = min((r.road_key or r.jibun_key) or f"{r.sigungu}{r.pos}" for r in members)
        base.append(_site_id((r.mgmt_no for r in members), _site_name(members[0].name), key_address))
    ids = list(base)
    used: set[str] = set()
    content = [sorted((r.pos or (999.0, 999.0), r.detail, r.line) for r in members) for members in groups]
    for g in sorted(range(len(groups)), key=lambda g: (base[g], content[g])):
        site_id = base[g]
        if site_id in used:
            first = groups[g][0]
            messages.append(Message(first.line, "flagged", f"site id {site_id} already used; made unique"))
            first.flagged = True
            n = 2
            while f"{site_id}-{n}" in used:
                n += 1
            site_id = f"{site_id}-{n}"
        used.add(site_id)
        ids[g] = site_id
    return ids


def _merge_note(name: str, members: list[_Row]) -> str:
    """One merge, as the report says it: which lines, why, how far apart, and each AP's own detail."""
    first = members[0]
    by_address = all((r.road_key and r.road_key == first.road_key) or (r.jibun_key and r.jibun_key == first.jibun_key)
                     for r in members[1:])
    placed = [r.pos for r in members if r.pos]
    spread = max((_distance_m(a, b) for a in placed for b in placed), default=None)
    apart = f", {spread:,.0f} m apart at most" if spread is not None else ""
    aps = "; ".join(f"AP {n} line {r.line}: {r.detail or 'no 설치장소상세'}" for n, r in enumerate(members, start=1))
    return (f"lines {', '.join(str(r.line) for r in members)} merged into one site {name}"
            f" ({'same address' if by_address else 'same name, within 100 m'}{apart}); each AP keeps its own"
            f" 설치장소상세 and position: {aps}")


def _group(rows: list[_Row], messages: list[Message]) -> list[ImportedSite]:
    """Merge the rows of one place into one site. Rows of one name are one place when

    - they share a road or lot address that is theirs alone: the data says it is one facility, however
      far apart their coordinates (a park, a hotel's floors geocoded a kilometre apart);
    - or they lie within 100 m of each other and no address of their own tells them apart (a row without
      an address, or an address other places of the file use too: a city hall's, written for all).

    Rows of one name further apart than that are separate sites. Each row stays an AP with its own
    설치장소상세 and position.
    """
    parent = list(range(len(rows)))
    names_at: dict[str, set[str]] = {}  # address key → the place names written with it
    for row in rows:
        for key in (row.road_key, row.jibun_key):
            if key:
                names_at.setdefault(key, set()).add(_name_key(_site_name(row.name)))

    def own(key: str) -> bool:
        return bool(key) and len(names_at.get(key, ())) == 1

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    buckets: dict[tuple[str, str], list[int]] = {}
    for i, row in enumerate(rows):
        bucket = (normalize_province(row.sido) + row.sigungu, _name_key(_site_name(row.name)))
        buckets.setdefault(bucket, []).append(i)
    for indexes in buckets.values():
        for a_pos, a in enumerate(indexes):
            for b in indexes[a_pos + 1 :]:
                ra, rb = rows[a], rows[b]
                road, jibun = ra.road_key == rb.road_key, ra.jibun_key == rb.jibun_key
                facility = (road and own(ra.road_key)) or (jibun and own(ra.jibun_key))
                # Position decides only where no address of their own tells them apart: two bus stops of
                # one name face each other across a road, 30 m apart, with addresses of their own.
                unaddressed = not (ra.road_key or ra.jibun_key) or not (rb.road_key or rb.jibun_key)
                shared = (road and bool(ra.road_key)) or (jibun and bool(ra.jibun_key))
                near = bool(ra.pos and rb.pos and _distance_m(ra.pos, rb.pos) <= _SAME_PLACE_M)
                if facility or ((unaddressed or shared) and near):
                    parent[find(b)] = find(a)

    groups: dict[int, list[_Row]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(find(i), []).append(row)

    sites: list[ImportedSite] = []
    ids = _site_ids(list(groups.values()), messages)
    for members, site_id in zip(groups.values(), ids, strict=True):
        first = members[0]
        name = _site_name(first.name)
        address = first.road or first.jibun

        category, known = classify(first.facility, name)
        if not known:
            first.flagged = True
            messages.append(
                Message(first.line, "flagged", f"unknown 설치시설구분 {first.facility!r} for {name}; category {category}")
            )
        placed = next((r for r in members if r.pos), None)
        if len(members) > 1:
            messages.append(Message(first.line, "note", _merge_note(name, members)))
        for n, row in enumerate(members[1:], start=2):
            messages.append(Message(row.line, "note", f"same place as line {first.line} ({name}): AP {n}"))
            if placed and placed.pos and row.pos:
                d = _distance_m(placed.pos, row.pos)
                if d > _SPREAD_FLAG_M:
                    row.flagged = True
                    messages.append(
                        Message(row.line, "flagged", f"{d / 1000:.1f} km from line {placed.line}'s position for the same"
                                                     f" place (its address says so): check this row's coordinates;"
                                                     f" the AP keeps its own, the site line {placed.line}'s")
                    )
            other, _ = classify(row.facility, name)
            if other != category:
                messages.append(Message(row.line, "note", f"설치시설구분 {row.facility!r} differs from line {first.line}'s; kept {category}"))

        ssids: list[str] = []
        for row in members:
            if row.ssid and row.ssid.casefold() not in {s.casefold() for s in ssids}:
                ssids.append(row.ssid)
        sites.append(
            ImportedSite(
                id=site_id, name=name, category=category, address=address,
                district=_district(name, first.sigungu, first.jibun, first.road),
                lat=round(placed.pos[0], 7) if placed and placed.pos else None,
                lon=round(placed.pos[1], 7) if placed and placed.pos else None,
                ssids=tuple(ssids),
                aps=tuple(ImportedAp(r.line, r.detail, round(r.pos[0], 7) if r.pos else None,
                                     round(r.pos[1], 7) if r.pos else None) for r in members),
            )
        )
    return sites


# ---------------------------------------------------------------------------------------------------
# Merging into a config's data.

@dataclass
class MergeOutcome:
    """The merged config data, what happened to the sites, and notes for the report."""

    config: dict[str, Any]
    added: int
    updated: int
    unchanged: int
    messages: list[Message]


def placeholder_aps(site: ImportedSite, credentials: str) -> list[dict[str, Any]]:
    """APs for a newly imported site: the dataset knows how many, not where they answer SNMP.

    The address is in the reserved ``.invalid`` domain (RFC 6761), which never resolves, so a
    forgotten placeholder shows as a clear error, never as a poll of some real host.
    """
    aps = []
    for n, row in enumerate(site.aps, start=1):
        ap_id = f"{site.id}-ap{n}"
        ap: dict[str, Any] = {"id": ap_id, "address": f"{ap_id}.invalid", "credentials": credentials}
        if row.place:
            ap["place"] = row.place
        if row.lat is not None and row.lon is not None:
            ap["lat"], ap["lon"] = row.lat, row.lon
        if site.ssids:
            ap["ssids"] = list(site.ssids)
        aps.append(ap)
    return aps


def merge_sites(
    config: dict[str, Any], sites: Sequence[ImportedSite], credentials: str | None = None,
    sigungu: str | None = None,
) -> MergeOutcome:
    """Merge imported sites into a config's data (a new dict; the argument is not changed).

    An existing site (same id) gets the import's keys (name, category, address, district, position)
    and keeps everything else: its APs, uplink, timetable, SNMP settings. A position the file lacks
    never erases one the operator entered. New sites get placeholder APs, one per row in the file.
    """
    out = dict(config)
    existing = out.get("sites") or []
    if not isinstance(existing, list):
        raise ImportFailure("the config's 'sites' is not a list")
    merged = [dict(s) if isinstance(s, dict) else s for s in existing]
    by_id = {s.get("id"): i for i, s in enumerate(merged) if isinstance(s, dict)}
    messages: list[Message] = []
    raw_credentials = out.get("credentials")
    defined: dict[str, Any] = raw_credentials if isinstance(raw_credentials, dict) else {}
    if credentials is None:
        credentials = next(iter(defined)) if len(defined) == 1 else "default"
    added = updated = unchanged = 0
    new_aps = 0
    for site in sites:
        owned = site.owned()
        if site.id in by_id:
            entry = merged[by_id[site.id]]
            changed = {k: v for k, v in owned.items() if entry.get(k) != v}
            if changed:
                # Keep the entry's key order; the import's keys go where they already were.
                entry.update(changed)
                updated += 1
            else:
                unchanged += 1
            have = len(entry.get("aps") or [])
            if have != site.ap_count:
                messages.append(
                    Message(site.lines[0], "note", f"{site.name} ({site.id}): the file lists {site.ap_count} APs, the config has {have}; APs left as they are")
                )
            continue
        entry = {"id": site.id, **owned, "aps": placeholder_aps(site, credentials)}
        merged.append(entry)
        by_id[site.id] = len(merged) - 1
        new_aps += site.ap_count
        added += 1
    if new_aps:
        messages.append(
            Message(None, "note", f"{new_aps} new APs have placeholder addresses (*.invalid): set each AP's address")
        )
        if credentials not in defined:
            messages.append(
                Message(None, "note", f"new APs use credentials {credentials!r}, which the config does not define yet")
            )
    imported_ids = {s.id for s in sites}
    last = sigungu.split()[-1] if sigungu else ""
    for entry in merged:
        if (
            isinstance(entry, dict) and str(entry.get("id", "")).startswith("wf-")
            and entry["id"] not in imported_ids and last in str(entry.get("address", ""))
        ):
            messages.append(Message(None, "note", f"{entry.get('name')} ({entry['id']}) is no longer in the file; left in place"))
    out["sites"] = merged
    return MergeOutcome(out, added, updated, unchanged, messages)


# ---------------------------------------------------------------------------------------------------
# Writing YAML.


class _FlowList(list):  # type: ignore[type-arg]
    """A list dumped on one line: SSIDs, timetable days."""


class _FlowMap(dict):  # type: ignore[type-arg]
    """A mapping dumped on one line: an AP, SNMP settings. Keeps a 400-AP config readable."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))
_Dumper.add_representer(_FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(), flow_style=True))


# Mappings written on one line: each AP, each timetable window, SNMP settings, a flat uplink.
_ONE_LINE = {"aps", "timetable", "snmp", "uplink"}


def _styled(value: Any, key: str = "") -> Any:
    """Mark what to write in flow style; ``key`` is the mapping key the value (or its list) sits under."""
    if isinstance(value, dict):
        inner = {k: _styled(v, str(k)) for k, v in value.items()}
        flat = not any(isinstance(v, dict) for v in value.values())
        return _FlowMap(inner) if key in _ONE_LINE and flat else inner
    if isinstance(value, list):
        items = [_styled(v, key) for v in value]
        return _FlowList(items) if not any(isinstance(v, (dict, list)) for v in items) else items
    return value


def dump_config(data: dict[str, Any], header: str = "") -> str:
    """YAML for a config: block style, APs and small settings one per line, Korean kept as is."""
    body = yaml.dump(
        _styled(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=200, default_flow_style=False
    )
    return header + body


def _leading_comments(text: str) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith("#") or not line.strip():
            lines.append(line)
        else:
            break
    return "".join(lines)


def write_atomic(path: Path, text: str) -> None:
    """Write through a temp file in the same directory and a rename: readers see old or new, never half."""
    path = Path(path)
    if path.exists():
        mode = path.stat().st_mode & 0o7777  # a config may be 0640 on purpose: keep it
    else:
        umask = os.umask(0o022)  # mkstemp makes 0600; a new file gets what open() would give
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------------
# The whole import, and its report.


def import_sites(
    csv_path: Path, sigungu: str | None = None, into: Path | None = None, credentials: str | None = None
) -> ImportResult:
    """Read a standard-dataset file and, with ``into``, merge its sites into that config file.

    Without ``into`` nothing is written (``result.config`` holds the sites as a config would).
    Raises :class:`ImportFailure` for a file that cannot be imported at all.
    """
    csv_path = Path(csv_path)
    try:
        raw = csv_path.read_bytes()
    except OSError as exc:
        raise ImportFailure(f"{csv_path}: cannot read: {exc.strerror}") from None
    try:
        parsed = parse_sites(raw, sigungu)
    except ImportFailure as exc:
        raise ImportFailure(f"{csv_path}: {exc}") from None

    current: dict[str, Any] = {}
    header = ""
    text = ""
    if into is not None and Path(into).exists():
        try:
            text = Path(into).read_text(encoding="utf-8")
            loaded = yaml.safe_load(text)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ImportFailure(f"{into}: cannot read the config: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ImportFailure(f"{into}: the top level is not a mapping")
        current = loaded or {}
        header = _leading_comments(text)
    merge = merge_sites(current, parsed.sites, credentials, sigungu)
    # Without a target the merge was against nothing: its notes (placeholders, credentials) are noise.
    messages = parsed.messages + (merge.messages if into is not None else [])

    written = None
    if into is not None:
        new_text = dump_config(merge.config, header)
        if any(line.lstrip().startswith("#") for line in text[len(header):].splitlines()):
            messages.append(Message(None, "note", f"comments inside {into} below its header are not kept"))
        if new_text != text:
            try:
                write_atomic(Path(into), new_text)
            except OSError as exc:
                raise ImportFailure(f"{into}: cannot write the config: {exc.strerror or exc}") from None
            written = Path(into)
    if parsed.sigungu and parsed.rows_selected == 0 and parsed.sigungu_seen:
        common = sorted(parsed.sigungu_seen.items(), key=lambda kv: -kv[1])[:8]
        seen = ", ".join(f"{name or '(blank)'} {count}" for name, count in common)
        messages.append(Message(None, "note", f"no row is in {sigungu}; the file has: {seen}"))
    result = ImportResult(
        rows_read=parsed.rows_read, rows_selected=parsed.rows_selected, sites_added=merge.added,
        sites_updated=merge.updated, sites_unchanged=merge.unchanged, rows_rejected=parsed.rows_rejected,
        rows_flagged=parsed.rows_flagged, messages=messages, encoding=parsed.encoding, header=parsed.header,
        sigungu=sigungu, into=Path(into) if into is not None else None, written=written, config=merge.config,
    )
    log.info(
        "sites_imported file=%s sigungu=%s rows=%d selected=%d added=%d updated=%d rejected=%d flagged=%d into=%s",
        csv_path, sigungu or "-", result.rows_read, result.rows_selected, result.sites_added,
        result.sites_updated, result.rows_rejected, result.rows_flagged, into or "-",
    )
    return result


def format_report(result: ImportResult) -> str:
    """The import's outcome in plain English, one message a line after the summary."""
    rows = f"read {result.rows_read} rows"
    if result.sigungu and result.rows_selected != result.rows_read:
        rows += f" ({result.rows_selected} in {result.sigungu})"
    unchanged = f", {result.sites_unchanged} unchanged" if result.sites_unchanged else ""
    lines = [
        f"{rows}; {result.sites_added} sites added, {result.sites_updated} updated{unchanged}; "
        f"{result.rows_rejected} rejected, {result.rows_flagged} flagged"
    ]
    lines += [str(m) for m in result.messages]
    if result.written:
        lines.append(f"wrote {result.written}")
    elif result.into:
        lines.append(f"{result.into} already up to date")
    else:
        lines.append("nothing written (give --into CONFIG.yaml to merge these sites into a config)")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the dataset's CSV (CP949 or UTF-8; any header generation)")
    parser.add_argument("--sigungu", help="keep only rows of this 시군구, e.g. 군산시 or '전북특별자치도 군산시'")
    parser.add_argument("--into", type=Path, help="config YAML to merge into (created if absent); without it, nothing is written")
    parser.add_argument("--credentials", help="credentials name for new APs (default: the config's only one, else 'default')")


def run(args: argparse.Namespace) -> int:
    """``wifimon import-sites FILE.csv [--sigungu 군산시] [--into config.yaml] [--credentials NAME]``."""
    try:
        result = import_sites(args.file, args.sigungu, args.into, args.credentials)
    except ImportFailure as exc:
        print(f"import-sites: {exc}", file=sys.stderr)
        return 1
    print(format_report(result))
    return 1 if args.sigungu and result.rows_selected == 0 else 0


DESCRIPTION = "Import the national free Wi-Fi standard dataset (전국무료와이파이표준데이터) into a config's sites."
