"""Why something is down, in words: one wording for the on-call message and the monthly report alike."""

from __future__ import annotations

REASONS: dict[str, dict[str, str]] = {
    "ko": {
        "timeout": "응답 시간 초과", "snmp_error": "SNMP 오류", "auth_error": "SNMP 인증 실패",
        "protocol_error": "SNMP 응답 형식 오류", "uplink_down": "상위 장비(업링크) 다운",
        "controller_reports_down": "컨트롤러가 다운으로 보고", "absent_from_controller": "컨트롤러 목록에서 사라짐",
        "all_aps_down": "모든 AP 응답 없음",
    },
    "en": {
        "timeout": "no answer (timeout)", "snmp_error": "SNMP error", "auth_error": "SNMP authentication failed",
        "protocol_error": "malformed SNMP reply", "uplink_down": "uplink device down",
        "controller_reports_down": "the controller reports it down",
        "absent_from_controller": "missing from the controller's table", "all_aps_down": "every AP silent",
    },
}
