"""The public status page as a resident sees it: headless Chromium (Debian's) on a phone-sized window,
served by the real HTTP face, behind basic auth for everything else but open itself."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from PIL import Image
from prometheus_client import CollectorRegistry

from monitor.config.model import AccessPoint, Site
from monitor.domain.vocabulary import ApStatus, Reason, SiteStatus
from monitor.exposition.http import HttpServer
from monitor.exposition.public_page import render_public
from monitor.exposition.snapshot import ApView, SiteView, Snapshot
from monitor.exposition.web_config import WebConfig

CHROMIUM = shutil.which("chromium")
NOW = 1_796_100_000.0  # 2026-12-01 in KST


def _ap(ap_id: str, site: str, status: ApStatus) -> ApView:
    return ApView(ap=ap_id, site=site, address="10.20.0.11:161", profile="unifi", model="UAP", status=status,
                  since=NOW - 3600, reason=Reason.TIMEOUT if status == ApStatus.DOWN else None, probe_duration=0.01,
                  last_success_at=NOW, probes=5, probe_failures=0)


def _site(site_id: str, name: str, district: str) -> Site:
    return Site(id=site_id, name=name, category="park", district=district,
                aps=(AccessPoint(id=f"{site_id}-ap1", address="10.20.0.11", credentials="c"),))


def snapshot() -> Snapshot:
    views = (
        SiteView(_site("gs-0001", "은파호수공원", "나운2동"), SiteStatus.UP, NOW - 86400, None, True, None,
                 (_ap("gs-0001-ap1", "gs-0001", ApStatus.UP),)),
        SiteView(_site("gs-0002", "군산공설시장", "신영동"), SiteStatus.DOWN, NOW - 3600, Reason.TIMEOUT, True, None,
                 (_ap("gs-0002-ap1", "gs-0002", ApStatus.DOWN),)),
        SiteView(_site("gs-0003", "월명공원", "나운2동"), SiteStatus.MAINTENANCE, NOW - 600, None, True, None,
                 (_ap("gs-0003-ap1", "gs-0003", ApStatus.MAINTENANCE),)),
    )
    return Snapshot(NOW, views, True)


def test_the_page_says_what_a_resident_needs_and_nothing_internal():
    html = render_public(snapshot(), "군산시", "Asia/Seoul")
    assert "군산시 공공 와이파이 운영 현황" in html and "1곳 정상 / 전체 3곳" in html
    assert html.index("나운2동") < html.index("신영동")  # by district
    assert "장애" in html and "점검 중" in html and "KST 부터" in html
    for internal in ("gs-0002", "gs-0002-ap1", "10.20.0.11", "timeout", "unifi"):
        assert internal not in html
    assert "Public Wi-Fi status" in render_public(snapshot(), "Gunsan", "Asia/Seoul", "en")


@pytest.mark.integration
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_chromium_renders_it_on_a_phone(tmp_path: Path):
    async def ready() -> tuple[bool, str]:
        return True, "ready"

    locked = WebConfig(path=None, ssl=None, users={"staff": b"$2b$04$" + b"x" * 53}, headers={})
    loop = asyncio.new_event_loop()
    server = HttpServer(CollectorRegistry(), snapshot, ready, web_config=locked,
                        public=lambda: render_public(snapshot(), "군산시", "Asia/Seoul"))
    port = loop.run_until_complete(server.start("127.0.0.1", 0))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=390,844", "--hide-scrollbars"]
    url = f"http://127.0.0.1:{port}/public"
    try:
        dom = subprocess.run([CHROMIUM or "chromium", *flags, "--dump-dom", url], capture_output=True, text=True,
                             timeout=120).stdout
        shot = tmp_path / "public.png"
        subprocess.run([CHROMIUM or "chromium", *flags, f"--screenshot={shot}", url], capture_output=True,
                       timeout=120, check=True)
        locked_out = subprocess.run([CHROMIUM or "chromium", *flags, "--dump-dom",
                                     f"http://127.0.0.1:{port}/api/status"], capture_output=True, text=True,
                                    timeout=120).stdout
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
    assert "군산공설시장" in dom and "장애" in dom and "1곳 정상 / 전체 3곳" in dom
    assert "gs-0002" not in locked_out and "군산공설시장" not in locked_out  # the rest stays behind auth
    image = Image.open(shot).convert("RGB")
    assert image.size == (390, 844)
    colours = image.getcolors(maxcolors=1 << 20) or []
    # The down state is drawn in its red (#cf222e), and Korean text rendered as glyphs (many shades of grey).
    assert any(abs(r - 0xCF) < 24 and abs(g - 0x22) < 24 and abs(b - 0x2E) < 24 for _, (r, g, b) in colours)
    assert len(colours) > 20
