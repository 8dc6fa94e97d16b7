"""How durations are written in every format and in the report's sentences: to the whole second."""

from __future__ import annotations


def seconds(value: float | None) -> int | None:
    """Durations are reported to the whole second."""
    return None if value is None else int(round(value))


def hms(value: float) -> str:
    total = int(round(value))
    sign, total = ("-", -total) if total < 0 else ("", total)
    return f"{sign}{total // 3600}:{total // 60 % 60:02d}:{total % 60:02d}"
