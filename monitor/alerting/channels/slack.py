"""Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat): ``{"text": …}`` plus Slack blocks.

Incoming webhooks have no idempotency header of their own; the message id is sent as ``Idempotency-Key``
anyway and printed as the message's last line, so a duplicate can at least be recognised by eye.
"""

from __future__ import annotations

from typing import Any

from monitor.alerting.channels.base import HttpChannel, footer, mask_url

_ICON = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}


class SlackChannel(HttpChannel):
    type = "slack"

    def __init__(self, name: str, url: str, *, url_is_secret: bool, timeout: float):
        super().__init__(name, mask_url(url, url_is_secret), timeout)
        self._url = url

    async def send(self, payload: dict[str, Any]) -> None:
        alert = payload["alert"]
        icon = ":white_check_mark:" if alert["status"] == "resolved" else _ICON.get(alert["severity"], "")
        body = {
            "text": f"{icon} {payload['text']}\n{footer(payload)}",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"{icon} *{payload['title']}*\n"
                                             + payload["text"].split("\n", 1)[-1]}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": f"wifimon · {footer(payload)}"}]},
            ],
        }
        await self._post(self._url, body, {"Idempotency-Key": payload["id"]})
