"""E-mail over SMTP with ``smtplib`` in a worker thread: STARTTLS (refused to go on without it when
configured), then AUTH, then one message per notification.

Headers carry the idempotency key: ``Message-ID: <{id}@wifimon>`` (mail clients thread and de-duplicate
on it) and ``X-Wifimon-Idempotency-Key``. The password is never logged; errors name host:port and user.

Besides alerts, :meth:`EmailChannel.send_mail` sends any text with attachments through the same server
and credentials: the monthly report job mails the report that way.
"""

from __future__ import annotations

import asyncio
import mimetypes
import smtplib
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from monitor.alerting.channels.base import ChannelError, footer

# The report's formats, spelled out: mimetypes' answer depends on the host's /etc/mime.types.
_MIME_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
    ".pdf": "application/pdf",
}


@dataclass(frozen=True)
class Attachment:
    """A file to attach: the name the recipient sees, its bytes, its MIME type ('application/pdf')."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"

    @classmethod
    def from_file(cls, path: Path) -> Attachment:
        """Read ``path`` (raises OSError); the type from its suffix."""
        mime = _MIME_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return cls(path.name, path.read_bytes(), mime)


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

    @property
    def recipients(self) -> tuple[str, ...]:
        """Who hears this channel unless a message names its own recipients."""
        return self._recipients

    def compose(self, subject: str, text: str, *, message_id: str, recipients: Sequence[str] | None = None,
                attachments: Sequence[Attachment] = (), headers: dict[str, str] | None = None) -> EmailMessage:
        """A UTF-8 message from this channel's sender; ``message_id`` without the angle brackets."""
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self._sender
        msg["To"] = ", ".join(recipients or self._recipients)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = f"<{message_id}>"
        for name, value in (headers or {}).items():
            msg[name] = value
        msg.set_content(text, charset="utf-8")
        for a in attachments:
            maintype, _, subtype = a.mime_type.partition("/")
            msg.add_attachment(a.content, maintype=maintype, subtype=subtype or "octet-stream", filename=a.filename)
        return msg

    def message(self, payload: dict[str, Any]) -> EmailMessage:
        return self.compose(
            payload["title"], f"{payload['text']}\n\n{footer(payload)}\n", message_id=f"{payload['id']}@wifimon",
            headers={"X-Wifimon-Idempotency-Key": payload["id"], "X-Wifimon-Alert-Key": payload["alert"]["key"]},
        )

    async def send(self, payload: dict[str, Any]) -> None:
        msg = self.message(payload)
        await asyncio.to_thread(self._send_sync, msg)

    async def send_mail(self, subject: str, text: str, *, message_id: str, recipients: Sequence[str] | None = None,
                        attachments: Sequence[Attachment] = (), headers: dict[str, str] | None = None) -> None:
        """Send one message (see :meth:`compose`) through this channel's server; ChannelError on failure."""
        msg = self.compose(subject, text, message_id=message_id, recipients=recipients, attachments=attachments,
                           headers=headers)
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
