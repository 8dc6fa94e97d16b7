"""Hourly usage rollups gathered in memory between flushes (pure; the store merges them additively)."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.domain.records import UsageRow


@dataclass
class _Bucket:
    site: str
    max_clients: int = 0
    client_sum: int = 0
    samples: int = 0
    rx: int = 0
    tx: int = 0


class UsageAccumulator:
    """Per (AP, UTC hour): peak and summed client samples, and bytes. ``drain`` hands them over once."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, float], _Bucket] = {}

    def add(self, ap: str, site: str, at: float, clients: int | None, rx: int, tx: int) -> None:
        hour = at - at % 3600
        b = self._buckets.setdefault((ap, hour), _Bucket(site))
        if clients is not None:
            b.max_clients = max(b.max_clients, clients)
            b.client_sum += clients
            b.samples += 1
        b.rx += rx
        b.tx += tx

    def drain(self) -> list[UsageRow]:
        rows = [UsageRow(ap, b.site, hour, b.max_clients, b.client_sum, b.samples, b.rx, b.tx)
                for (ap, hour), b in self._buckets.items()]
        self._buckets = {}
        return rows
