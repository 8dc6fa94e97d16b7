"""The month's figures per site as open data: what a city may publish, beside the national dataset's columns.

One row per configured site, identified as in the national free Wi-Fi standard dataset (전국무료와이파이
표준데이터: 관리번호, 설치장소명, 도로명주소, 위도, 경도, as ``wifimon import-sites`` keeps them), with the
month's figures from the report model (``monitor.report.build``: the same arithmetic, so the same numbers
as the ministry report). Written as CSV (UTF-8 with a BOM, or CP949 on request) and JSON. The columns are
documented, in Korean and English, in docs/open-data.md.

Only what may be published: no device addresses, AP ids, credentials, acknowledgement names or comments.
A figure that cannot be given (nothing observed, no usage recorded) is empty in the CSV and null in the
JSON, never 0.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from monitor.report.build import Report, SiteResult
from monitor.report.formats.labels import CATEGORIES
from monitor.report.formats.units import seconds

Encoding = Literal["utf-8", "cp949"]
ENCODINGS: tuple[Encoding, ...] = ("utf-8", "cp949")
OPEN_FORMATS = ("csv", "json")

#: ``import-sites`` makes a site's id from its smallest 관리번호 (``wf-<관리번호>``), or, for a place without
#: one, from a hash (``wf-`` and ten hex digits): only the first kind gives the number back.
_MGMT_ID = re.compile(r"^wf-(?![0-9a-f]{10}$)(.+)$")


def management_number(site_id: str) -> str:
    """The 관리번호 a site was imported with ('' when it was not imported from the dataset or had none)."""
    m = _MGMT_ID.match(site_id)
    return m.group(1) if m else ""


@dataclass(frozen=True)
class OpenColumn:
    """One published column: its header (the dataset's Korean style), JSON key, and how to read it."""

    header: str
    key: str
    value: Callable[[Report, SiteResult], Any]


def _ratio_percent(a: float | None) -> float | None:
    return None if a is None else round(a * 100, 3)


def _month_end(r: Report) -> str:
    """데이터기준일자: the last day the figures cover (the month's last day, or today for the current month)."""
    return (datetime.fromtimestamp(r.period.until, r.period.tz) - timedelta(seconds=1)).date().isoformat()


COLUMNS: tuple[OpenColumn, ...] = (
    OpenColumn("관리번호", "management_number", lambda r, s: management_number(s.site.id)),
    OpenColumn("사이트ID", "site_id", lambda r, s: s.site.id),
    OpenColumn("설치장소명", "place_name", lambda r, s: s.site.name),
    OpenColumn("설치시설구분", "facility_category", lambda r, s: CATEGORIES["ko"].get(s.site.category, s.site.category)),
    OpenColumn("도로명주소", "road_address", lambda r, s: s.site.address),
    OpenColumn("읍면동", "district", lambda r, s: s.site.district),
    OpenColumn("위도", "latitude", lambda r, s: s.site.lat),
    OpenColumn("경도", "longitude", lambda r, s: s.site.lon),
    OpenColumn("AP수", "ap_count", lambda r, s: len(s.site.aps)),
    OpenColumn("기준월", "month", lambda r, s: r.period.label),
    OpenColumn("운영시간(초)", "scheduled_seconds", lambda r, s: seconds(s.figures.scheduled)),
    OpenColumn("장애시간(초)", "downtime_seconds", lambda r, s: seconds(s.figures.downtime)),
    OpenColumn("미확인시간(초)", "unknown_seconds", lambda r, s: seconds(s.figures.unknown)),
    OpenColumn("장애건수", "outages", lambda r, s: s.figures.outages),
    OpenColumn("가용률(%)", "availability_percent", lambda r, s: _ratio_percent(s.figures.availability)),
    OpenColumn("최대동시접속자수", "peak_clients", lambda r, s: s.peak_clients),
    OpenColumn("평균동시접속자수", "mean_clients",
               lambda r, s: None if s.mean_clients is None else round(s.mean_clients, 2)),
    OpenColumn("트래픽(바이트)", "traffic_bytes", lambda r, s: s.traffic_bytes),
    OpenColumn("제공기관명", "provider", lambda r, s: r.organisation),
    OpenColumn("데이터기준일자", "reference_date", lambda r, s: _month_end(r)),
)


def open_data_records(report: Report) -> list[dict[str, Any]]:
    """One record per site, keyed by the JSON keys, in the config's order."""
    return [{c.key: c.value(report, s) for c in COLUMNS} for s in report.sites]


def open_data_stem(report: Report) -> str:
    """``wifimon-opendata-2026-10`` (``-mtd`` for a month not yet over)."""
    stem = f"wifimon-opendata-{report.period.label}"
    return stem + "-mtd" if report.period.month_to_date else stem


class EncodingProblem(ValueError):
    """A value cannot be written in the encoding asked for (CP949 lacks some characters)."""


def _csv_text(records: list[dict[str, Any]]) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow([c.header for c in COLUMNS])
    for rec in records:
        w.writerow(["" if rec[c.key] is None else rec[c.key] for c in COLUMNS])
    return buf.getvalue()


def _encode(text: str, encoding: Encoding, records: list[dict[str, Any]]) -> bytes:
    if encoding == "utf-8":
        return text.encode("utf-8-sig")  # the BOM: Excel then opens Korean text correctly
    try:
        return text.encode("cp949")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start:exc.end]
        where = next((f"site {r['site_id']} column {c.header}" for r in records for c in COLUMNS
                      if bad in str(r[c.key] or "")), "the header")
        raise EncodingProblem(f"{where}: {bad!r} cannot be written in CP949; use --encoding utf-8") from None


def write_open_data(report: Report, formats: tuple[str, ...], out_dir: Path,
                    encoding: Encoding = "utf-8") -> list[Path]:
    """Write the open data of ``report`` in each of ``formats`` into ``out_dir``; returns the files.

    The CSV is in ``encoding``; the JSON is always UTF-8 (JSON has no other). Everything is encoded before
    anything is written, so a value CP949 cannot hold (EncodingProblem) leaves no half-written file.
    """
    unknown = [f for f in formats if f not in OPEN_FORMATS]
    if unknown or not formats:
        raise ValueError(f"unknown open-data format(s) {', '.join(unknown)}; choose from {', '.join(OPEN_FORMATS)}")
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}; choose from {', '.join(ENCODINGS)}")
    records = open_data_records(report)
    stem = open_data_stem(report)
    blobs: dict[str, bytes] = {}
    if "csv" in formats:
        blobs[f"{stem}.csv"] = _encode(_csv_text(records), encoding, records)
    if "json" in formats:
        document = {
            "dataset": "공공와이파이 사이트별 월간 가용률 (public Wi-Fi availability per site)",
            "provider": report.organisation,
            "month": report.period.label,
            "month_to_date": report.period.month_to_date,
            "timezone": report.period.timezone,
            "generated_at": datetime.fromtimestamp(report.generated_at, report.period.tz).isoformat(timespec="seconds"),
            "columns": [{"key": c.key, "header": c.header} for c in COLUMNS],
            "records": records,
        }
        blobs[f"{stem}.json"] = (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, blob in blobs.items():
        path = out_dir / name
        path.write_bytes(blob)
        written.append(path)
    return written
