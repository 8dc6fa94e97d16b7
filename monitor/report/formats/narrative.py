"""The month in a few plain sentences (생성 문장), written from the report's figures and nothing else.

Each sentence states figures that the tables print too (same rounding, via ``tables.as_text`` and
``units.hms``), so a reader can find every number of the paragraph in the tables below it.
"""

from __future__ import annotations

from monitor.report.build import Report
from monitor.report.formats.labels import CAUSE_NAMES, Lang
from monitor.report.formats.units import hms


def _pct(ratio: float) -> str:
    return f"{ratio * 100:.3f}%"


def _pp(delta: float) -> str:
    return f"{abs(delta) * 100:.3f}%p"


def summary_text(report: Report, lang: Lang) -> str:
    """A paragraph on the month: availability against target and the month before, outages and their main
    cause, the sites below target, monitoring gaps, users and traffic."""
    return (_korean if lang == "ko" else _english)(report)


def _korean(r: Report) -> str:
    p, f = r.period, r.total
    out = [f"{p.year}년 {p.month}월{'(월 누계)' if p.month_to_date else ''} {r.organisation} 공공와이파이 "
           f"{len(r.sites)}개 사이트(AP {len(r.aps)}대)의 "]
    a = f.availability
    if a is None:
        out[0] += "가용률은 모니터링 기록이 없어 산출할 수 없습니다(측정 불가)."
        return "".join(out)
    met = "달성했습니다" if a >= r.target else "밑돌았습니다"
    out[0] += f"가용률은 {_pct(a)}로 목표 {_pct(r.target)}를 {met}."
    prev = r.previous.total.availability if r.previous else None
    if r.previous is not None and prev is not None:
        d = a - prev
        how = "같습니다" if abs(d) < 5e-6 else (f"{_pp(d)} 높아졌습니다" if d > 0 else f"{_pp(d)} 낮아졌습니다")
        out.append(f" 전월({r.previous.label}) {_pct(prev)}와 비교하면 {how}.")
    if f.outages:
        out.append(f" 사이트 장애는 {f.outages}건, 장애시간은 합계 {hms(f.downtime)}입니다.")
        if r.causes:
            main = max(r.causes, key=lambda c: c.downtime)
            out.append(f" 주된 장애 원인은 {CAUSE_NAMES['ko'][main.cause]}({main.outages}건, {hms(main.downtime)})입니다.")
    else:
        out.append(" 사이트 장애는 없었습니다.")
    below = r.below_target()
    if below:
        worst = r.worst(1)[0]
        out.append(f" 목표에 못 미친 사이트는 {len(below)}곳이며, 가장 낮은 곳은 {worst.site.name}"
                   f"({_pct(worst.figures.availability or 0.0)})입니다.")
    else:
        out.append(" 모든 사이트가 목표를 달성했습니다.")
    if r.gaps:
        out.append(f" 모니터링 공백 {len(r.gaps)}건(합계 {hms(r.gap_seconds)})은 정상이나 장애로 보지 않고 "
                   "미확인시간으로 따로 집계했습니다.")
    if r.peak_clients is not None:
        traffic = r.traffic_bytes or 0
        out.append(f" 사이트별 최대 동시접속자의 합은 {r.peak_clients}명, 총 트래픽은 {traffic / 1e9:.3f}GB입니다.")
    return "".join(out)


def _english(r: Report) -> str:
    p, f = r.period, r.total
    head = (f"In {p.label}{' (month to date)' if p.month_to_date else ''}, the public Wi-Fi of "
            f"{r.organisation} ({len(r.sites)} sites, {len(r.aps)} APs) ")
    a = f.availability
    if a is None:
        return head + "has no availability figure: there is no monitoring record (no data)."
    out = [head + f"was available {_pct(a)} of the time, {'meeting' if a >= r.target else 'below'} the target "
                  f"of {_pct(r.target)}."]
    prev = r.previous.total.availability if r.previous else None
    if r.previous is not None and prev is not None:
        d = a - prev
        how = "the same" if abs(d) < 5e-6 else f"{_pp(d).replace('%p', ' pp')} {'higher' if d > 0 else 'lower'}"
        out.append(f" Compared with the previous month ({r.previous.label}, {_pct(prev)}) that is {how}.")
    if f.outages:
        out.append(f" There were {f.outages} site outages, {hms(f.downtime)} of downtime in all.")
        if r.causes:
            main = max(r.causes, key=lambda c: c.downtime)
            out.append(f" The main cause was {CAUSE_NAMES['en'][main.cause]} ({main.outages} outages, "
                       f"{hms(main.downtime)}).")
    else:
        out.append(" No site had an outage.")
    below = r.below_target()
    if below:
        worst = r.worst(1)[0]
        out.append(f" {len(below)} sites fell short of the target; the lowest was {worst.site.name} "
                   f"({_pct(worst.figures.availability or 0.0)}).")
    else:
        out.append(" Every site met the target.")
    if r.gaps:
        out.append(f" {len(r.gaps)} monitoring gaps ({hms(r.gap_seconds)} in all) are counted as unknown, "
                   "neither up nor down.")
    if r.peak_clients is not None:
        out.append(f" The sites' peak concurrent clients add up to {r.peak_clients}; traffic was "
                   f"{(r.traffic_bytes or 0) / 1e9:.3f} GB.")
    return "".join(out)
