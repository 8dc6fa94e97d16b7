"""Local wall-clock times: as the config writes them ("06:00") and as the command line prints them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


def local_text(ts: float | None, timezone: str | ZoneInfo, *, seconds: bool = False) -> str:
    """A unix time as the city reads it, naming the zone: ``2026-12-01 16:44 KST`` ('-' for None).

    Every time the command line prints goes through here, in ``service.timezone``, never the host's zone."""
    if ts is None:
        return "-"
    tz = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def unquoted_time(v: Any) -> Any:
    """Refuse what YAML 1.1 made of an unquoted 16:30: the sexagesimal number 990. Say so, don't guess."""
    if isinstance(v, int) and not isinstance(v, bool):
        raise ValueError(f'got the number {v}: write the time in quotes, e.g. "16:30" '
                         "(YAML reads an unquoted 16:30 as a number)")
    return v
