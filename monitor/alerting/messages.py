"""Message text: Korean by default, English on request (``alerting.language: en``). Pure.

A message names the site (its Korean name and id), the address, which APs, since when (local time of
the service's time zone) and the reason in words, so an on-call engineer can act on it from a phone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.alerting.model import Notification, Rule
from monitor.domain.reason_text import REASONS

_TITLES = {
    "ko": {
        Rule.SITE_DOWN: "사이트 장애", Rule.SITE_DEGRADED: "사이트 일부 AP 장애", Rule.AP_REBOOTED: "AP 재부팅",
        Rule.AP_FLAPPING: "AP 상태 불안정(플래핑)", Rule.AP_SILENT: "AP 무접속(클라이언트 0)",
        Rule.FERRY_BACKHAUL_LOST: "여객선 LTE 백홀 끊김", Rule.SERVICE_OVERRUN: "모니터 폴링 지연",
        Rule.SERVICE_STORE: "모니터 저장소 장애", Rule.SERVICE_CHANNEL: "알림 채널 장애",
        Rule.SERVICE_UNDELIVERED: "알림 전달 포기", Rule.CONTROLLER_TABLE_LOST: "컨트롤러 AP 목록 유실",
        Rule.CONTROLLER_DOWN: "컨트롤러 응답 없음",
    },
    "en": {
        Rule.SITE_DOWN: "site down", Rule.SITE_DEGRADED: "site degraded", Rule.AP_REBOOTED: "AP rebooted",
        Rule.AP_FLAPPING: "AP flapping", Rule.AP_SILENT: "AP silent (zero clients)",
        Rule.FERRY_BACKHAUL_LOST: "ferry LTE backhaul lost", Rule.SERVICE_OVERRUN: "monitor polling overruns",
        Rule.SERVICE_STORE: "monitor store failing", Rule.SERVICE_CHANNEL: "notification channel failing",
        Rule.SERVICE_UNDELIVERED: "notifications given up", Rule.CONTROLLER_TABLE_LOST: "controller AP table lost",
        Rule.CONTROLLER_DOWN: "controller not answering",
    },
}

_KIND = {
    "ko": {"firing": "장애", "repeat": "장애 지속", "escalation": "장애 (상위 보고)", "worse": "장애 악화",
           "acknowledged": "확인됨", "resolved": "복구"},
    "en": {"firing": "FIRING", "repeat": "STILL FIRING", "escalation": "ESCALATED", "worse": "WORSE",
           "acknowledged": "ACKNOWLEDGED", "resolved": "RESOLVED"},
}

_L = {
    "ko": {"address": "주소", "aps": "AP", "since": "발생 시각", "reason": "원인", "duration": "지속 시간",
           "resolved": "복구 시각", "ack": "확인", "until": "까지", "key": "알림 키", "of": "대 중 ", "down": "대 응답 없음",
           "detail": "상세"},
    "en": {"address": "Address", "aps": "APs", "since": "Since", "reason": "Reason", "duration": "Duration",
           "resolved": "Resolved at", "ack": "Acknowledged", "until": "until", "key": "Alert key", "of": " of ",
           "down": " not answering", "detail": "Detail"},
}


def reason_text(reason: str | None, language: str) -> str:
    """A reason (or comma-separated reasons) in words."""
    if not reason:
        return ""
    return ", ".join(REASONS[language].get(r, r) for r in reason.split(","))


def duration_text(seconds: float, language: str) -> str:
    s = max(0, int(seconds))
    d, h, m = s // 86400, s // 3600 % 24, s // 60 % 60
    if language == "ko":
        parts = [f"{d}일" if d else "", f"{h}시간" if h else "", f"{m}분" if m or not (d or h) else ""]
        return " ".join(p for p in parts if p) if s >= 60 else f"{s}초"
    parts = [f"{d}d" if d else "", f"{h}h" if h else "", f"{m}m" if m or not (d or h) else ""]
    return " ".join(p for p in parts if p) if s >= 60 else f"{s}s"


def _when(ts: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def title(n: Notification, language: str) -> str:
    """One line: ``[장애] 공설시장 (market) 사이트 장애``."""
    a = n.alert
    subject = f"{a.site_name} ({a.site})" if a.site_name else (a.site or "wifimon")
    if a.ap and a.rule in (Rule.AP_REBOOTED, Rule.AP_FLAPPING, Rule.AP_SILENT):
        subject += f" {a.ap}"
    return f"[{_KIND[language][n.kind]}] {subject} {_TITLES[language][a.rule]}"


def body(n: Notification, language: str, tz: ZoneInfo) -> str:
    """The message text, several lines."""
    a, L = n.alert, _L[language]
    lines = [title(n, language)]
    if a.address:
        lines.append(f"{L['address']}: {a.address}")
    if a.aps and n.kind != "resolved" and a.rule in (Rule.SITE_DOWN, Rule.SITE_DEGRADED, Rule.FERRY_BACKHAUL_LOST):
        lines.append(f"{L['aps']}: {', '.join(a.aps)} ({a.total_aps}{L['of']}{len(a.aps)}{L['down']})")
    elif a.aps:
        lines.append(f"{L['aps']}: {', '.join(a.aps)}")
    if a.reason:
        lines.append(f"{L['reason']}: {reason_text(a.reason, language)}")
    detail = _detail(n, language)
    if detail:
        lines.append(f"{L['detail']}: {detail}")
    lines.append(f"{L['since']}: {_when(a.since, tz)}")
    end = n.resolved_at if n.resolved_at is not None else n.at
    lines.append(f"{L['duration']}: {duration_text(end - a.since, language)}")
    if n.resolved_at is not None:
        lines.append(f"{L['resolved']}: {_when(n.resolved_at, tz)}")
    if n.ack is not None and n.kind in ("acknowledged", "repeat", "resolved"):
        until = f" ({_when(n.ack.until, tz)} {L['until']})" if n.ack.until else ""
        comment = f" — {n.ack.comment}" if n.ack.comment else ""
        lines.append(f"{L['ack']}: {n.ack.by}{until}{comment}")
    lines.append(f"{L['key']}: {a.key}")
    return "\n".join(lines)


def _detail(n: Notification, language: str) -> str:
    a, ko = n.alert, language == "ko"
    if a.rule == Rule.AP_REBOOTED:
        count, _, text = a.detail.partition("|")
        return f"{count}회 재부팅 감지 ({text})" if ko else f"{count} reboot(s) detected ({text})"
    if a.rule == Rule.AP_SILENT:
        what, _, value = a.detail.partition("=")
        if what == "neighbours":
            return f"같은 사이트의 다른 AP 접속자 {value}명" if ko else f"the site's other APs have {value} clients"
        return f"지난주 같은 시간 접속자 {value}명" if ko else f"{value} clients in the same hour last week"
    if a.rule == Rule.SERVICE_OVERRUN:
        rnd, count, window = (a.detail.split("|") + ["", "", ""])[:3]
        return (f"{rnd} 라운드가 {window}초 동안 {count}회 주기 초과" if ko
                else f"{count} {rnd} rounds overran within {window} s")
    if a.rule == Rule.SERVICE_CHANNEL:
        channel, _, error = a.detail.partition("|")
        return f"{channel}: {error}"
    if a.rule == Rule.SERVICE_UNDELIVERED:
        channel, count, why = (a.detail.split("|", 2) + ["", "", ""])[:3]
        return (f"{channel} 채널로 보내지 못한 알림 {count}건을 포기함 ({why}); wifimon alerts --undelivered" if ko
                else f"{count} notification(s) to {channel} given up ({why}); see wifimon alerts --undelivered")
    if a.rule == Rule.CONTROLLER_TABLE_LOST:
        ctl, before, now = (a.detail.split("|") + ["", "", ""])[:3]
        return (f"컨트롤러 {ctl}의 AP 목록이 {before}행에서 {now}행으로 줄어듦 (AP 상태 알 수 없음)" if ko
                else f"controller {ctl} AP table went from {before} to {now} row(s); its APs are unknown")
    if a.rule == Rule.CONTROLLER_DOWN:
        ctl, _, error = a.detail.partition("|")
        return f"컨트롤러 {ctl}: {error}" if ko else f"controller {ctl}: {error}"
    if a.rule in (Rule.SITE_DOWN, Rule.FERRY_BACKHAUL_LOST) and a.detail:
        return (f"업링크 {a.detail}" if ko else f"uplink {a.detail}")
    return a.detail
