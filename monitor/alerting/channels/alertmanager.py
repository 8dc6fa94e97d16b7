"""Prometheus Alertmanager API v2: ``POST {url}/api/v2/alerts`` with a list of alerts.

Alertmanager expects clients to re-send firing alerts (Prometheus does every evaluation); an alert not
re-sent before its ``endsAt`` resolves by itself. So a firing alert is pushed with ``endsAt`` four
``resend_interval``\\ s ahead and re-pushed every interval (:meth:`refresh`) while it fires; a resolve is
pushed with ``endsAt`` = the time it cleared. Labels: ``alertname`` (``WifiSiteDown``, …), ``severity``,
``site``, ``ap`` (AP alerts), ``alert_key``, ``service="wifimon"``; annotations: ``summary``,
``description``, ``idempotency_key``, ``reason``. Alertmanager de-duplicates by label set, so the same
alert pushed twice is harmless.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from monitor.alerting.channels.base import HttpChannel, mask_url
from monitor.alerting.payload import iso


def alertname(rule: str) -> str:
    """``site_down`` → ``WifiSiteDown``."""
    return "Wifi" + "".join(part.capitalize() for part in rule.split("_"))


class AlertmanagerChannel(HttpChannel):
    type = "alertmanager"

    def __init__(self, name: str, url: str, *, timeout: float, resend_interval: float, bearer: str | None = None,
                 clock: Callable[[], float] = time.time):
        super().__init__(name, mask_url(url, False) + "/api/v2/alerts", timeout)
        self._url = f"{url}/api/v2/alerts"
        self._bearer = bearer
        self.resend_interval = resend_interval
        self._clock = clock

    def to_alertmanager(self, payload: dict[str, Any]) -> dict[str, Any]:
        a = payload["alert"]
        labels = {"alertname": alertname(a["rule"]), "severity": a["severity"], "site": a["site"] or "wifimon",
                  "alert_key": a["key"], "service": "wifimon"}
        if a.get("ap"):
            labels["ap"] = a["ap"]
        annotations = {"summary": payload["title"], "description": payload["text"],
                       "idempotency_key": payload["id"]}
        if a.get("reason"):
            annotations["reason"] = a["reason"]
        if a["status"] == "resolved" and a.get("resolved_at_unix") is not None:
            ends = iso(a["resolved_at_unix"])
        else:
            ends = iso(self._clock() + 4 * self.resend_interval)
        return {"labels": labels, "annotations": annotations, "startsAt": a["since"], "endsAt": ends}

    def _headers(self, payloads: Sequence[dict[str, Any]]) -> dict[str, str]:
        headers = {"Idempotency-Key": payloads[0]["id"]} if len(payloads) == 1 else {}
        if self._bearer:
            headers["Authorization"] = f"Bearer {self._bearer}"
        return headers

    async def send(self, payload: dict[str, Any]) -> None:
        await self._post(self._url, [self.to_alertmanager(payload)], self._headers([payload]))

    async def refresh(self, payloads: Sequence[dict[str, Any]]) -> None:
        """Re-push every alert still firing (one request), so Alertmanager does not time them out."""
        if payloads:
            await self._post(self._url, [self.to_alertmanager(p) for p in payloads], self._headers(payloads))
