"""The public status page (``/public``, off by default): sites by district, their state and since when.

For residents, not staff: site names and districts only — no addresses of devices, no AP or site ids,
no reasons (a reason such as ``auth_error`` says something about the network inside). One self-contained
HTML document, readable on a phone, refreshed by the browser every minute. Pure: snapshot and time in,
text out.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from monitor.domain.vocabulary import SiteStatus
from monitor.exposition.snapshot import Snapshot

_STATE_TEXT = {
    "ko": {SiteStatus.UP: "정상", SiteStatus.DEGRADED: "일부 장애", SiteStatus.DOWN: "장애",
           SiteStatus.MAINTENANCE: "점검 중", SiteStatus.OUT_OF_SERVICE: "운영 시간 외", SiteStatus.UNKNOWN: "확인 중"},
    "en": {SiteStatus.UP: "working", SiteStatus.DEGRADED: "partly down", SiteStatus.DOWN: "down",
           SiteStatus.MAINTENANCE: "maintenance", SiteStatus.OUT_OF_SERVICE: "outside service hours",
           SiteStatus.UNKNOWN: "checking"},
}
_WORDS = {
    "ko": {"title": "공공 와이파이 운영 현황", "updated": "갱신", "since": "부터", "district": "지역",
           "none": "(지역 미지정)", "summary": "{up}곳 정상 / 전체 {total}곳"},
    "en": {"title": "Public Wi-Fi status", "updated": "updated", "since": "since", "district": "district",
           "none": "(no district)", "summary": "{up} of {total} sites working"},
}
_COLOUR = {SiteStatus.UP: "#1a7f37", SiteStatus.DEGRADED: "#9a6700", SiteStatus.DOWN: "#cf222e",
           SiteStatus.MAINTENANCE: "#0969da", SiteStatus.OUT_OF_SERVICE: "#6e7781", SiteStatus.UNKNOWN: "#6e7781"}


def render_public(snap: Snapshot, organisation: str, timezone: str, lang: str = "ko") -> str:
    """The page for one snapshot; times in the city's zone, named (``12-01 16:44 KST``)."""
    zone = ZoneInfo(timezone)
    words, states = _WORDS.get(lang, _WORDS["ko"]), _STATE_TEXT.get(lang, _STATE_TEXT["ko"])

    def when(ts: float) -> str:
        return datetime.fromtimestamp(ts, zone).strftime("%m-%d %H:%M %Z")

    by_district: dict[str, list[str]] = defaultdict(list)
    up = 0
    for view in sorted(snap.sites, key=lambda v: (v.site.district, v.site.name)):
        up += view.status == SiteStatus.UP
        since = f' <span class="since">{escape(when(view.since))} {words["since"]}</span>' if (
            view.since and view.status != SiteStatus.UP) else ""
        by_district[view.site.district or words["none"]].append(
            f'<li><span class="name">{escape(view.site.name)}</span> '
            f'<span class="state" style="color:{_COLOUR[view.status]}">{states[view.status]}</span>{since}</li>')
    sections = "\n".join(
        f"<section><h2>{escape(d)}</h2><ul>\n" + "\n".join(items) + "\n</ul></section>"
        for d, items in sorted(by_district.items()))
    summary = words["summary"].format(up=up, total=len(snap.sites))
    updated = when(snap.taken_at) if snap.taken_at else "-"
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>{escape(organisation)} {words["title"]}</title>
<style>
body {{ font-family: "Noto Sans KR", "NanumGothic", sans-serif; margin: 0 auto; max-width: 44rem; padding: 1rem;
       line-height: 1.5; color: #1f2328; }}
h1 {{ font-size: 1.4rem; margin: 0 0 .25rem; }} h2 {{ font-size: 1.1rem; margin: 1.2rem 0 .3rem; }}
ul {{ list-style: none; padding: 0; margin: 0; }} li {{ padding: .35rem 0; border-bottom: 1px solid #d0d7de; }}
.state {{ font-weight: bold; float: right; }} .since {{ display: block; font-size: .85rem; color: #57606a; }}
.summary {{ font-size: 1.05rem; }} .updated {{ color: #57606a; font-size: .85rem; }}
</style></head><body>
<h1>{escape(organisation)} {words["title"]}</h1>
<p class="summary">{summary}</p><p class="updated">{words["updated"]} {escape(updated)}</p>
{sections}
</body></html>
"""
