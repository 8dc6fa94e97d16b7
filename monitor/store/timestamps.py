"""Unix seconds to aware UTC datetimes and back, at the store's edge.

The store's API speaks unix seconds (``float``), like the state machine; the database keeps aware UTC
datetimes. :func:`to_datetime` and :func:`to_unix` are defined beside the column type in
:mod:`monitor.store.schema` (which needs them); the ``optional_`` variants pass ``None`` (a column not yet set)
through.
"""

from __future__ import annotations

from datetime import datetime

from monitor.store.schema import to_datetime, to_unix

__all__ = ["optional_datetime", "optional_unix", "to_datetime", "to_unix"]


def optional_datetime(value: float | None) -> datetime | None:
    """:func:`to_datetime`, with None for None."""
    return None if value is None else to_datetime(value)


def optional_unix(value: datetime | None) -> float | None:
    """:func:`to_unix`, with None for None."""
    return None if value is None else to_unix(value)
