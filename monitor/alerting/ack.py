"""Acknowledgement from outside the service: the ``until`` syntax and the ``POST /api/ack`` endpoint.

Both the CLI (``wifimon ack``) and the endpoint write the ack to the store; the running service reads
new acks from there every ``alerting.ack_poll_interval`` seconds (at once for the endpoint), so an ack
reaches the engine the same way whoever gave it.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.config.types import parse_duration
from monitor.exposition.http import PostHandler, Response
from monitor.store import LeaseFenced, Store, StoreError, acknowledge_alerts

log = logging.getLogger(__name__)

def parse_until(text: str, now: float, tz: ZoneInfo) -> float:
    """A duration from now in the config's syntax (``2h``, ``1.5h``, ``1h30m``, ``1d``); ``18:00`` (the next
    such local time); or an ISO date-time (local time unless it carries an offset). Raises ValueError saying
    what is accepted."""
    try:
        return now + parse_duration(text)
    except ValueError:
        pass  # not a duration: a time of day or a date-time
    local_now = datetime.fromtimestamp(now, tz)
    if re.fullmatch(r"\d{1,2}:\d{2}", text.strip()):
        hh, mm = (int(x) for x in text.strip().split(":"))
        if hh > 23 or mm > 59:
            raise ValueError(f"--until {text!r}: no such time of day")
        at = local_now.replace(hour=hh, minute=mm, second=0, microsecond=0)
        if at <= local_now:
            at += timedelta(days=1)
        return at.timestamp()
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--until {text!r}: expected a span of time (30m, 1.5h, 1h30m, 1d), a time of day (18:00) "
                         "or a date-time (2026-11-26T18:00)") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz)
    if at.timestamp() <= now:
        raise ValueError(f"--until {text!r} is in the past")
    return at.timestamp()


def ack_endpoint(store: Store, token: str | None, tz: ZoneInfo, on_ack: Callable[[], None],
                 clock: Callable[[], float] = time.time) -> PostHandler:
    """``POST /api/ack`` with ``Authorization: Bearer <alerting.api_token>`` and a JSON body
    ``{"target": "<alert key, site or AP>", "until": "2h" | null, "comment": "…", "by": "…"}``.

    200 with ``{"acknowledged": [keys]}``; 401 without the right token; 403 when no token is configured
    (the endpoint is off); 404 when nothing active matches; 400 for a bad body; 503 if the store fails.
    """

    def reply(status: int, doc: dict[str, object]) -> Response:
        return Response(status, json.dumps(doc, ensure_ascii=False).encode() + b"\n", "application/json")

    async def handle(headers: dict[str, str], body: bytes) -> Response:
        if token is None:
            return reply(403, {"error": "acknowledgement over HTTP is off: set alerting.api_token"})
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            log.warning("ack_refused reason=bad_token")
            return reply(401, {"error": "missing or wrong bearer token"})
        try:
            try:
                doc = json.loads(body or b"{}")
            except RecursionError:  # json's own limit on nesting: a hostile body, not our failure
                raise ValueError("JSON nested too deeply") from None
            if not isinstance(doc, dict):
                raise ValueError("the body must be a JSON object")
            target = doc.get("target")
            if not isinstance(target, str) or not target:
                raise ValueError("'target' must be a non-empty string")
            now = clock()
            until = doc.get("until")
            if isinstance(until, (int, float)) and not isinstance(until, bool):
                if not math.isfinite(until) or until <= now:
                    raise ValueError("'until' in unix seconds must be a time in the future")
                until_ts: float | None = float(until)
            elif isinstance(until, str):
                until_ts = parse_until(until, now, tz)
            elif until is None:
                until_ts = None
            else:
                raise ValueError("'until' must be a span, a time, a date-time or unix seconds")
            by, comment = str(doc.get("by") or "api")[:128], str(doc.get("comment") or "")
        except (ValueError, KeyError, TypeError) as exc:
            return reply(400, {"error": f"bad request: {exc}"})
        try:
            acked = await store.call(acknowledge_alerts, store, target, by, comment, now, until_ts)
        except (StoreError, LeaseFenced) as exc:  # fenced: another instance is the shard's active now
            return reply(503, {"error": str(exc)})
        except ValueError as exc:
            return reply(400, {"error": str(exc)})
        if not acked:
            return reply(404, {"error": f"no active alert has key, site or AP {target!r}"})
        log.info("alerts_acknowledged target=%s by=%s count=%d via=http", target, by, len(acked))
        on_ack()
        return reply(200, {"acknowledged": [a.key for a in acked]})

    return handle
