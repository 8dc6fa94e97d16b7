"""What every channel is: a name, a masked target for messages, and ``send(payload)``.

A payload is the channel-neutral message of :mod:`monitor.alerting.payload`; each channel turns it into
its own wire format. A failed attempt raises :class:`ChannelError`, whose message names the channel, its
type and target (credentials masked) and says what happened and how long it waited.
"""

from __future__ import annotations

import time
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from collectors.errors import WifimonError


class ChannelError(WifimonError):
    """One delivery attempt failed. ``retry_after`` (seconds) when the peer asked for a pause."""

    def __init__(self, channel: str, target: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(f"channel {channel} ({target}): {detail}")
        self.channel = channel
        self.target = target
        self.detail = detail
        self.retry_after = retry_after


class Channel(Protocol):
    name: str
    type: str
    target: str  # where it sends, for logs and errors; never holds a credential

    async def send(self, payload: dict[str, Any]) -> None: ...

    async def aclose(self) -> None: ...


def mask_url(url: str, secret: bool) -> str:
    """A URL fit for a log line. A URL that came from a secret shows scheme, host and port only; any
    other loses its query string (tokens hide there too)."""
    parts = urlsplit(url)
    if secret:
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/***"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}" + ("?***" if parts.query else "")


def footer(payload: dict[str, Any]) -> str:
    """The idempotency key as the last line of a human-readable message (chat tools have no header for it)."""
    return f"id: {payload['id']}"


class HttpChannel:
    """Shared HTTP plumbing: one client per channel, a timeout on every request, errors that name the target."""

    type = "http"

    def __init__(self, name: str, target: str, timeout: float) -> None:
        self.name = name
        self.target = target
        self.timeout = timeout
        # trust_env=False: where alerts go is the config's business, not an inherited proxy variable's.
        self._client = httpx.AsyncClient(timeout=timeout, trust_env=False, follow_redirects=False)

    async def _post(self, url: str, json: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        started = time.monotonic()
        try:
            response = await self._client.post(url, json=json, headers=headers)
        except httpx.TimeoutException:
            raise ChannelError(self.name, self.target, f"no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            # The exception text may repeat the URL; ours names the masked target instead.
            raise ChannelError(self.name, self.target,
                               f"{type(exc).__name__} after {time.monotonic() - started:.2f} s") from None
        if not 200 <= response.status_code < 300:
            raise ChannelError(self.name, self.target,
                               f"HTTP {response.status_code} after {time.monotonic() - started:.2f} s: "
                               f"{' '.join(response.text.split())[:200]}",
                               retry_after=_retry_after(response))
        return response

    async def aclose(self) -> None:
        await self._client.aclose()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
