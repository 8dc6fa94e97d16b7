"""The report's words, in Korean (the default: the ministry reads Korean) and English (``--lang en``)."""

from __future__ import annotations

from typing import Literal

Lang = Literal["ko", "en"]
LANGS: tuple[Lang, ...] = ("ko", "en")

CATEGORIES: dict[Lang, dict[str, str]] = {
    "ko": {
        "bus_stop": "버스정류장", "park": "공원", "tourist_site": "관광지", "market": "전통시장",
        "welfare": "복지시설", "rental_yard": "농기계임대사업소", "public_office": "공공청사",
        "culture": "문화시설", "sports": "체육시설", "library": "도서관", "port": "항만",
        "street": "거리", "school": "학교", "health": "보건시설", "ferry": "여객선", "other": "기타",
    },
    "en": {
        "bus_stop": "Bus stop", "park": "Park", "tourist_site": "Tourist site", "market": "Market",
        "welfare": "Welfare centre", "rental_yard": "Farm-machinery rental yard", "public_office": "Public office",
        "culture": "Culture", "sports": "Sports", "library": "Library", "port": "Port", "street": "Street",
        "school": "School", "health": "Health", "ferry": "Ferry", "other": "Other",
    },
}


SCOPES: dict[Lang, dict[str, str]] = {
    "ko": {"site": "사이트 전체", "ap": "AP", "category": "시설구분", "district": "지역", "all": "전체"},
    "en": {"site": "whole site", "ap": "AP", "category": "category", "district": "district", "all": "everything"},
}

RECURRENCES: dict[Lang, dict[str | None, str]] = {
    "ko": {None: "1회", "daily": "매일", "weekly": "매주", "monthly": "매월"},
    "en": {None: "once", "daily": "daily", "weekly": "weekly", "monthly": "monthly"},
}

#: The causes of downtime (monitor.report.build.CAUSES), in words.
CAUSE_NAMES: dict[Lang, dict[str, str]] = {
    "ko": {"timeout": "응답 시간 초과·정전", "uplink": "상위 장비(업링크)", "controller": "컨트롤러",
           "snmp": "SNMP 오류", "other": "기타"},
    "en": {"timeout": "timeout or power cut", "uplink": "uplink device", "controller": "controller",
           "snmp": "SNMP error", "other": "other"},
}

DAYS: dict[Lang, dict[str, str]] = {
    "ko": {"mon": "월", "tue": "화", "wed": "수", "thu": "목", "fri": "금", "sat": "토", "sun": "일"},
    "en": {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat", "sun": "Sun"},
}

# Sheet titles (Excel allows 31 characters), section headings and column headers.
TEXT: dict[Lang, dict[str, str]] = {
    "ko": {
        "title": "공공와이파이 가용률 월간 보고서",
        "sec_cover": "표지", "sec_summary": "요약", "sec_sites": "설치장소별", "sec_aps": "AP별",
        "sec_categories": "시설구분별", "sec_districts": "지역별", "sec_ferries": "여객선",
        "sec_outages": "장애 이력", "sec_maintenance": "계획 점검 이력", "sec_gaps": "모니터링 공백",
        "sec_daily": "일별 가용률", "sec_worst": "가용률 하위 10곳", "sec_charts": "차트",
        "item": "항목", "value": "값",
        "organisation": "기관", "report": "보고서", "period": "기간", "timezone": "시간대",
        "generated_at": "작성 일시", "kind": "구분", "kind_full": "월간 확정 보고서",
        "kind_mtd": "월중 잠정 보고서(월 누계): {until}까지 집계", "kind_future": "아직 시작되지 않은 달: 집계할 기간이 없습니다",
        "formula": "가용률 산식",
        "formula_text": "가용률 = (운영시간 - 미확인시간 - 장애시간) ÷ (운영시간 - 미확인시간). 운영시간은 서비스 "
                        "시간(여객선은 운항 시간표)에서 계획 점검시간을 뺀 시간이며, 미확인시간(모니터링 공백)은 "
                        "정상으로도 장애로도 집계하지 않고 따로 표시합니다.",
        "target": "목표 가용률", "gaps": "모니터링 공백",
        "gaps_none": "없음", "gaps_some": "있음: {n}건, 합계 {total}",
        "data": "자료", "data_ok": "모니터링 기록에 근거함",
        "data_none": "이 기간의 모니터링 기록이 없습니다. 모든 운영시간이 미확인으로 집계되어 가용률을 산출할 수 "
                     "없습니다(측정 불가).",
        "no_data": "측정 불가", "ongoing": "진행 중", "yes": "예", "no": "아니오",
        "sites_n": "사이트 수", "aps_n": "AP 수", "avail_sites": "가용률(사이트, 시간가중)",
        "avail_aps": "가용률(AP 기준)", "below_target": "목표 미달 사이트 수", "outages_sites": "장애 건수(사이트)",
        "outages_aps": "장애 건수(AP)", "downtime_total": "총 장애시간(사이트 합계)", "mttr": "평균 복구시간(MTTR)",
        "mtbf": "평균 무장애시간(MTBF)", "unknown_total": "미확인시간(사이트 합계)",
        "gap_time": "모니터링 공백(실제 시간)", "maint_total": "계획 점검시간(사이트 합계)",
        "scheduled_total": "운영시간(사이트 합계)",
        "site_id": "사이트ID", "site_name": "설치장소명", "category": "설치시설구분", "address": "주소",
        "district": "지역(읍면동)", "aps": "AP 수", "scheduled": "운영시간", "downtime": "장애시간",
        "unknown": "미확인시간", "maintenance": "계획 점검시간", "availability": "가용률(%)",
        "ap_availability": "AP 가용률(%)", "outages": "장애 건수", "longest": "최장 장애시간", "mtbf_col": "MTBF",
        "mttr_col": "MTTR", "peak_clients": "최대 동시접속자", "traffic_gb": "총 트래픽(GB)",
        "below": "목표 미달", "ap_id": "AP ID", "model": "모델", "below_sites": "목표 미달 사이트",
        "ferry_name": "선박명", "timetable": "운항 시간표", "timetable_hours": "운항시간(시간표)",
        "outage_id": "장애 번호", "scope": "범위", "ap_list": "AP", "start": "시작", "end": "종료",
        "duration": "지속시간", "counted": "이번 기간 장애시간", "reason": "원인", "ack_by": "확인자",
        "comment": "의견", "window_id": "점검 번호", "target_value": "대상", "recurrence": "반복",
        "sites_affected": "해당 사이트 수", "created_by": "등록자", "date": "날짜",
        "avail_site_col": "가용률(사이트,%)", "avail_ap_col": "가용률(AP,%)", "rank": "순위",
        "chart_category": "시설구분별 가용률", "chart_daily": "일별 가용률", "chart_worst": "가용률 하위 10곳",
        "page": "쪽", "notes": "참고",
        "notes_peak": "최대 동시접속자: 사이트는 시간별로 각 AP 최대 접속자를 더한 값 중 가장 큰 값(상한)입니다.",
        "sec_worst_note": "100% 사이트 제외", "sec_causes": "장애 원인", "sec_map": "사이트 지도(가용률)",
        "summary_text": "월간 요약", "approval": "결재", "approval_roles": "담당,팀장,과장",
        "previous": "전월 가용률(사이트)", "vs_previous": "전월 대비 증감(%p)", "prev_avail": "전월 가용률(%)",
        "prev_change": "전월 대비(%p)", "prev_none": "전월 자료 없음",
        "cause_row": "장애 원인: {cause} ({n}건)", "cause_maint": "계획 점검(장애 아님)",
        "cause_note": "장애 원인 참고", "cause_note_text": "정전은 SNMP로 AP 무응답과 구별되지 않아 '응답 시간 초과'에 "
        "포함됩니다. 사이트 전체 장애는 그 AP들의 가장 많은 원인으로 분류합니다.",
        "users_peak": "최대 동시접속자(사이트 합계)", "users_mean": "평균 동시접속자(AP 합계)",
        "traffic_total": "총 트래픽(GB)", "mean_clients": "평균 동시접속자",
        "chart_causes": "장애 원인별 장애시간(시간)", "chart_target": "목표", "chart_none": "자료 없음",
        "map_none": "좌표가 있는 사이트가 없습니다", "map_legend_ok": "목표 이상", "map_legend_below": "목표 미달",
        "map_legend_bad": "95% 미만", "map_legend_none": "자료 없음",
        "lon": "경도", "lat": "위도",
    },
    "en": {
        "title": "Public Wi-Fi availability, monthly report",
        "sec_cover": "Cover", "sec_summary": "Summary", "sec_sites": "Sites", "sec_aps": "APs",
        "sec_categories": "By category", "sec_districts": "By district", "sec_ferries": "Ferries",
        "sec_outages": "Outages", "sec_maintenance": "Planned maintenance", "sec_gaps": "Monitoring gaps",
        "sec_daily": "Daily availability", "sec_worst": "10 worst sites", "sec_charts": "Charts",
        "item": "Item", "value": "Value",
        "organisation": "Organisation", "report": "Report", "period": "Period", "timezone": "Time zone",
        "generated_at": "Generated at", "kind": "Kind", "kind_full": "Final report for the month",
        "kind_mtd": "Month to date (provisional): up to {until}",
        "kind_future": "This month has not begun: nothing to count yet",
        "formula": "Availability formula",
        "formula_text": "availability = (scheduled - unknown - downtime) / (scheduled - unknown), where scheduled "
                        "time is the service calendar (a ferry's timetable) less planned maintenance, and unknown "
                        "time (monitoring gaps) is counted neither as up nor as down but shown beside it.",
        "target": "Target availability", "gaps": "Monitoring gaps",
        "gaps_none": "none", "gaps_some": "yes: {n}, {total} in all",
        "data": "Data", "data_ok": "from the monitoring record",
        "data_none": "There is no monitoring record for this period: all scheduled time is unknown, so no "
                     "availability can be given (no data).",
        "no_data": "no data", "ongoing": "ongoing", "yes": "yes", "no": "no",
        "sites_n": "Sites", "aps_n": "APs", "avail_sites": "Availability (sites, time-weighted)",
        "avail_aps": "Availability (APs)", "below_target": "Sites below target", "outages_sites": "Outages (sites)",
        "outages_aps": "Outages (APs)", "downtime_total": "Downtime (sum over sites)", "mttr": "MTTR",
        "mtbf": "MTBF", "unknown_total": "Unknown time (sum over sites)",
        "gap_time": "Monitoring gaps (wall clock)", "maint_total": "Planned maintenance (sum over sites)",
        "scheduled_total": "Scheduled time (sum over sites)",
        "site_id": "Site ID", "site_name": "Site", "category": "Category", "address": "Address",
        "district": "District", "aps": "APs", "scheduled": "Scheduled", "downtime": "Downtime",
        "unknown": "Unknown", "maintenance": "Planned maintenance", "availability": "Availability (%)",
        "ap_availability": "AP availability (%)", "outages": "Outages", "longest": "Longest outage",
        "mtbf_col": "MTBF", "mttr_col": "MTTR", "peak_clients": "Peak concurrent clients",
        "traffic_gb": "Traffic (GB)", "below": "Below target", "ap_id": "AP ID", "model": "Model",
        "below_sites": "Sites below target", "ferry_name": "Vessel", "timetable": "Timetable",
        "timetable_hours": "Timetable hours", "outage_id": "Outage #", "scope": "Scope", "ap_list": "AP(s)",
        "start": "Start", "end": "End", "duration": "Duration", "counted": "Downtime in period",
        "reason": "Reason", "ack_by": "Acknowledged by", "comment": "Comment", "window_id": "Window #",
        "target_value": "Target", "recurrence": "Recurrence", "sites_affected": "Sites affected",
        "created_by": "Created by", "date": "Date", "avail_site_col": "Availability (sites, %)",
        "avail_ap_col": "Availability (APs, %)", "rank": "Rank",
        "chart_category": "Availability by category", "chart_daily": "Daily availability",
        "chart_worst": "10 worst sites", "page": "page", "notes": "Notes",
        "notes_peak": "Peak concurrent clients of a site: the highest hourly sum of its APs' hourly maxima (an upper bound).",
        "sec_worst_note": "sites at 100% left out", "sec_causes": "Causes of downtime",
        "sec_map": "Map of the sites (availability)", "summary_text": "The month in brief", "approval": "Approval",
        "approval_roles": "Officer,Team lead,Section head",
        "previous": "Previous month's availability (sites)", "vs_previous": "Change vs the previous month (pp)",
        "prev_avail": "Previous month (%)", "prev_change": "Change vs previous (pp)",
        "prev_none": "no data for the previous month",
        "cause_row": "Cause: {cause} ({n} outages)", "cause_maint": "planned maintenance (not downtime)",
        "cause_note": "About the causes", "cause_note_text": "A power cut cannot be told over SNMP from an AP "
        "that stopped answering: it is counted under 'no answer (timeout)'. A whole-site outage takes the "
        "commonest reason of its APs.",
        "users_peak": "Peak concurrent clients (sum over sites)", "users_mean": "Mean concurrent clients (sum over APs)",
        "traffic_total": "Traffic (GB)", "mean_clients": "Mean concurrent clients",
        "chart_causes": "Downtime by cause (hours)", "chart_target": "target", "chart_none": "no data",
        "map_none": "no site has coordinates", "map_legend_ok": "at or above target", "map_legend_below": "below target",
        "map_legend_bad": "below 95%", "map_legend_none": "no data",
        "lon": "longitude", "lat": "latitude",
    },
}
