"""E-mail over SMTP with ``smtplib`` in a worker thread: STARTTLS (refused to go on without it when
configured), then AUTH, then one message per notification.

Headers carry the idempotency key: ``Message-ID: <{id}@wifimon>`` (mail clients thread and de-duplicate
on it) and ``X-Wifimon-Idempotency-Key``. The password is never logged; errors name host:port and user.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from monitor.alerting.channels.base import ChannelError, footer


class EmailChannel:
    type = "email"

    def __init__(self, name: str, host: str, port: int, *, sender: str, recipients: tuple[str, ...],
                 timeout: float, starttls: bool = True, username: str | None = None, password: str | None = None,
                 tls_verify: bool = True, ca_file: str | None = None):
        self.name = name
        self.target = f"smtp://{username + '@' if username else ''}{host}:{port}"
        self._host, self._port = host, port
        self._sender, self._recipients = sender, recipients
        self._timeout = timeout
        self._starttls = starttls
        self._username, self._password = username, password
        self._tls = ssl.create_default_context(cafile=ca_file)
        if not tls_verify:
            self._tls.check_hostname = False
            self._tls.verify_mode = ssl.CERT_NONE

    def message(self, payload: dict[str, Any]) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = payload["title"]
        msg["From"] = self._sender
        msg["To"] = ", ".join(self._recipients)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = f"<{payload['id']}@wifimon>"
        msg["X-Wifimon-Idempotency-Key"] = payload["id"]
        msg["X-Wifimon-Alert-Key"] = payload["alert"]["key"]
        msg.set_content(f"{payload['text']}\n\n{footer(payload)}\n", charset="utf-8")
        return msg

    async def send(self, payload: dict[str, Any]) -> None:
        msg = self.message(payload)
        await asyncio.to_thread(self._send_sync, msg)

    def _send_sync(self, msg: EmailMessage) -> None:
        started = time.monotonic()
        step = "connect"
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                step = "EHLO"
                smtp.ehlo()
                if self._starttls:
                    if not smtp.has_extn("starttls"):
                        raise ChannelError(self.name, self.target, "the server does not offer STARTTLS")
                    step = "STARTTLS"
                    smtp.starttls(context=self._tls)
                    smtp.ehlo()
                if self._username is not None:
                    step = "AUTH"
                    smtp.login(self._username, self._password or "")
                step = "send"
                refused = smtp.send_message(msg)
        except ChannelError:
            raise
        except (TimeoutError, OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            detail = str(exc).replace(self._password, "***") if self._password else str(exc)
            raise ChannelError(self.name, self.target, f"{step} failed after {time.monotonic() - started:.2f} s "
                                                       f"(timeout {self._timeout:g} s): {type(exc).__name__}: "
                                                       f"{' '.join(detail.split())[:300]}") from None
        if refused:
            raise ChannelError(self.name, self.target, f"recipients refused: {sorted(refused)}")

    async def aclose(self) -> None:
        return None
