"""Generic JSON webhook: one ``POST`` per message, the payload as is.

Schema ``wifimon.alert/v1`` (UTF-8 JSON object; times RFC 3339 UTC)::

    {
      "schema": "wifimon.alert/v1",
      "id": "9f1c…",                 # the message id = idempotency key (also the Idempotency-Key header);
      "idempotency_key": "9f1c…",    #   a retried delivery carries the same one: drop repeats by it
      "kind": "firing",              # firing | repeat | escalation | worse | acknowledged | resolved
      "sequence": 1,                 # nth message of this alert instance; increases in delivery order
      "created_at": "2026-11-26T05:03:12.5Z",
      "language": "ko",              # ko | en: the language of title and text
      "title": "[장애] 공설시장 (market) 사이트 장애",
      "text": "…several lines: address, APs, reason, since, duration, alert key…",
      "alert": {
        "key": "site_down:market",   # stable: rule + site or AP
        "rule": "site_down",         # site_down | site_degraded | ap_rebooted | ap_flapping | ap_silent |
                                     # ferry_backhaul_lost | service_overrun | service_store | service_channel |
                                     # service_undelivered | controller_table_lost | controller_down
        "severity": "critical",      # critical | warning | info
        "status": "firing",          # firing | resolved
        "site": "market", "site_name": "공설시장", "address": "…", "district": "…",
        "ap": null,                  # the AP for AP alerts
        "aps": ["market-ap1", "market-ap2"], "total_aps": 2,
        "reason": "timeout", "reason_text": "응답 시간 초과", "detail": "",
        "since": "2026-11-26T05:02:58Z", "since_unix": 1795842178.0,   # first failed probe
        "opened_at": "…", "resolved_at": null, "resolved_at_unix": null,
        "escalation": 0,             # escalation steps taken
        "acknowledged": null         # or {"by", "at", "until", "comment"}
      }
    }

Headers: ``Content-Type: application/json``, ``Idempotency-Key``, ``X-Wifimon-Alert-Key``, and
``Authorization: Bearer …`` when configured. Any 2xx is success; anything else is retried with backoff.
"""

from __future__ import annotations

from typing import Any

from monitor.alerting.channels.base import HttpChannel, mask_url


class WebhookChannel(HttpChannel):
    type = "webhook"

    def __init__(self, name: str, url: str, *, url_is_secret: bool, timeout: float, bearer: str | None = None):
        super().__init__(name, mask_url(url, url_is_secret), timeout)
        self._url = url
        self._bearer = bearer

    async def send(self, payload: dict[str, Any]) -> None:
        headers = {"Idempotency-Key": payload["id"], "X-Wifimon-Alert-Key": payload["alert"]["key"]}
        if self._bearer:
            headers["Authorization"] = f"Bearer {self._bearer}"
        await self._post(self._url, payload, headers)
