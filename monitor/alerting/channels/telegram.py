"""Telegram bot API: ``POST {base_url}/bot{token}/sendMessage`` as plain text (no parse mode, so a site
name with ``*`` or ``_`` cannot break the markup). The token never appears in a log or error."""

from __future__ import annotations

from typing import Any

from monitor.alerting.channels.base import ChannelError, HttpChannel, footer


class TelegramChannel(HttpChannel):
    type = "telegram"

    def __init__(self, name: str, base_url: str, token: str, chat_id: str, *, timeout: float):
        super().__init__(name, f"{base_url}/bot***/sendMessage chat {chat_id}", timeout)
        self._url = f"{base_url}/bot{token}/sendMessage"
        self._chat_id = chat_id

    async def send(self, payload: dict[str, Any]) -> None:
        body = {"chat_id": self._chat_id, "text": f"{payload['text']}\n{footer(payload)}",
                "disable_web_page_preview": True}
        response = await self._post(self._url, body, {"Idempotency-Key": payload["id"]})
        try:
            ok = response.json().get("ok")
        except ValueError:
            ok = None
        if ok is not True:
            raise ChannelError(self.name, self.target, f"the Bot API did not say ok: {response.text[:200]}")
