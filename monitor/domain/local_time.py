"""Local wall-clock times written in YAML config ("06:00")."""

from __future__ import annotations

from typing import Any


def unquoted_time(v: Any) -> Any:
    """Refuse what YAML 1.1 made of an unquoted 16:30: the sexagesimal number 990. Say so, don't guess."""
    if isinstance(v, int) and not isinstance(v, bool):
        raise ValueError(f'got the number {v}: write the time in quotes, e.g. "16:30" '
                         "(YAML reads an unquoted 16:30 as a number)")
    return v
