"""Splitting long IN lists into bounded chunks."""

from __future__ import annotations

from collections.abc import Iterator


def chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    """Bounded IN lists: SQLite limits the number of parameters in one statement."""
    for i in range(0, len(items), size):
        yield items[i : i + size]
