"""The e-mail that carries the monthly report: subject, body and which files to attach. Pure: no I/O.

Korean by default, like the report (the department head forwards it to the ministry). The body gives the
figures a reader wants before opening anything: organisation, period, overall availability against the
target, how many sites fell below it, and any monitoring gap (unknown time, printed beside the figure as
the report does).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from monitor.report.build import Report
from monitor.report.formats.labels import TEXT, Lang
from monitor.report.formats.units import hms

#: More CSV files than this (the report writes one per section, a dozen) and the mail carries the XLSX and
#: PDF only, which hold the same tables; the body says where the CSVs are.
MAX_CSV_ATTACHMENTS = 3

WORDS: dict[Lang, dict[str, str]] = {
    "ko": {
        "subject": "[wifimon] {org} {title} ({year}년 {month}월)",
        "intro": "{org}의 {year}년 {month}월 공공와이파이 가용률 보고서를 보내 드립니다.",
        "organisation": "기관", "period": "기간", "availability": "전체 가용률", "below": "목표 미달 사이트 수",
        "gaps": "모니터링 공백", "attached": "첨부",
        "avail_value": "{avail} (목표 {target})", "avail_none": "산출 불가: 관측된 서비스 시간이 없음 (목표 {target})",
        "below_value": "{n}개 / 전체 {total}개", "gaps_none": "없음",
        "gaps_some": "{n}건, {total} (가용률 계산에서 제외, 보고서에 별도 표기)",
        "csv_elsewhere": "CSV 파일 {n}개는 서버의 {where} 에 있습니다 (XLSX와 같은 표).",
        "footer": "wifimon이 자동으로 보낸 메일입니다. 수치의 근거는 첨부 보고서의 장애·점검·공백 기록에 있습니다.",
    },
    "en": {
        "subject": "[wifimon] {org} {title} ({year}-{month:02d})",
        "intro": "The public Wi-Fi availability report of {org} for {year}-{month:02d}.",
        "organisation": "Organisation", "period": "Period", "availability": "Overall availability",
        "below": "Sites below target", "gaps": "Monitoring gaps", "attached": "Attached",
        "avail_value": "{avail} (target {target})",
        "avail_none": "cannot be given: no service time was observed (target {target})",
        "below_value": "{n} of {total}", "gaps_none": "none",
        "gaps_some": "{n}, {total} in all (left out of the availability, shown in the report)",
        "csv_elsewhere": "The {n} CSV files (the same tables as the XLSX) are on the server in {where}.",
        "footer": "Sent by wifimon. Every figure traces to the outage, maintenance and gap logs in the report.",
    },
}


@dataclass(frozen=True)
class ReportMail:
    subject: str
    body: str
    message_id: str  # without angle brackets; the same for every attempt, so a repeat is recognisable
    attach: tuple[Path, ...]
    left_out: tuple[Path, ...]


def choose_attachments(files: list[Path] | tuple[Path, ...]) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """(attached, left out): every file, unless the CSVs are many and an XLSX or PDF holds the same tables."""
    csvs = tuple(f for f in files if f.suffix == ".csv")
    others = tuple(f for f in files if f.suffix != ".csv")
    if len(csvs) > MAX_CSV_ATTACHMENTS and others:
        return others, csvs
    return tuple(files), ()


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.3f} %"


def message_id(report: Report) -> str:
    """Stable per organisation and month: two cities' reports to one inbox never share it."""
    digest = hashlib.sha256(f"{report.organisation}\0{report.period.label}".encode()).hexdigest()[:16]
    return f"wifimon-report-{report.period.label}-{digest}@wifimon"


def compose(report: Report, files: list[Path] | tuple[Path, ...], where: Path, lang: Lang = "ko") -> ReportMail:
    """The mail for ``report`` whose ``files`` sit in the folder ``where`` (named in the body)."""
    w, p = WORDS[lang], report.period
    org = report.organisation
    attach, left_out = choose_attachments(files)
    target = _percent(report.target)
    avail = report.total.availability
    fmt = "%Y-%m-%d %H:%M"
    period = (f"{datetime.fromtimestamp(p.start, p.tz).strftime(fmt)} – "
              f"{datetime.fromtimestamp(p.end, p.tz).strftime(fmt)} ({p.timezone})")
    gaps = (w["gaps_some"].format(n=len(report.gaps), total=hms(report.gap_seconds)) if report.gaps
            else w["gaps_none"])
    lines = [
        w["intro"].format(org=org, year=p.year, month=p.month),
        "",
        f"{w['organisation']}: {org}",
        f"{w['period']}: {period}",
        f"{w['availability']}: " + (w["avail_value"].format(avail=_percent(avail), target=target)
                                    if avail is not None else w["avail_none"].format(target=target)),
        f"{w['below']}: {w['below_value'].format(n=len(report.below_target()), total=len(report.sites))}",
        f"{w['gaps']}: {gaps}",
        f"{w['attached']}: {', '.join(f.name for f in attach)}",
    ]
    if left_out:
        lines.append(w["csv_elsewhere"].format(n=len(left_out), where=where))
    lines += ["", w["footer"], ""]
    subject = w["subject"].format(org=org, title=TEXT[lang]["title"], year=p.year, month=p.month)
    return ReportMail(subject, "\n".join(lines), message_id(report), attach, left_out)
