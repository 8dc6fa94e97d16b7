"""Planned maintenance windows (the Store's methods, as a mixin)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.store.schema import MaintenanceRow
from monitor.domain.maintenance import occurrences
from monitor.domain.records import MaintenanceWindow
from monitor.store.timestamps import optional_datetime, optional_unix, to_datetime, to_unix


Removal = Literal["deleted", "retired", "already_retired"]


class MaintenanceMixin:
    """Adding, reading, changing and removing maintenance windows, never rewriting their past. Part of :class:`Store`."""

    _transaction: Callable[[str], AbstractContextManager[Session]]  # provided by Store

    def add_maintenance(self, window: MaintenanceWindow, now: float) -> MaintenanceWindow:
        """Store a new window (its ``id`` is ignored); returns it with ``id`` and ``created_at`` set."""
        row = MaintenanceRow(created_at=to_datetime(now))
        _fill_maintenance(row, window)
        with self._transaction("add maintenance") as s:
            s.add(row)
            s.flush()
        return _maintenance(row)

    def get_maintenance(self, window_id: int) -> MaintenanceWindow | None:
        """One window by id, or None."""
        with self._transaction("read maintenance") as s:
            row = s.get(MaintenanceRow, window_id)
            return _maintenance(row) if row is not None else None

    def list_maintenance(
        self, since: float | None = None, until: float | None = None
    ) -> list[MaintenanceWindow]:
        """Windows that may apply within [since, until): one-off windows overlapping it and recurring
        windows that started before ``until`` (whether an occurrence falls inside is for the caller to expand),
        unless retired by ``since``. Without bounds, all windows, retired ones too. Ordered by start."""
        query = select(MaintenanceRow)
        if until is not None:
            query = query.where(MaintenanceRow.starts_at < to_datetime(until))
        if since is not None:
            query = query.where(
                MaintenanceRow.recurrence.is_not(None) | (MaintenanceRow.ends_at > to_datetime(since))
            ).where(MaintenanceRow.retired_at.is_(None) | (MaintenanceRow.retired_at > to_datetime(since)))
        with self._transaction("list maintenance") as s:
            rows = s.scalars(query.order_by(MaintenanceRow.starts_at, MaintenanceRow.id)).all()
        return [_maintenance(r) for r in rows]

    def update_maintenance(self, window_id: int, now: float, **changes: Any) -> MaintenanceWindow | None:
        """Change fields of a window (validated as a whole); returns the new window, None if no such id.

        A change may not rewrite what the window covered before ``now`` (reports of past months would
        change): once it has begun, its scope and its occurrences up to ``now`` stay as they were, so e.g.
        a one-off window in progress may be extended or cut short, not moved. ValueError otherwise."""
        if {"id", "created_at", "retired_at"} & changes.keys():
            raise ValueError("a maintenance window's id, created_at and retired_at cannot be changed"
                             " (remove_maintenance retires a window)")
        with self._transaction("update maintenance") as s:
            row = s.get(MaintenanceRow, window_id)
            if row is None:
                return None
            old = _maintenance(row)
            window = replace(old, **changes)  # validates, or raises ValueError
            if old.starts_at < now and (
                (old.scope_kind, old.scope_value) != (window.scope_kind, window.scope_value)
                or _past(old, now) != _past(window, now)
            ):
                raise ValueError(f"maintenance window {window_id} has begun: a change may not alter what it"
                                 " covered before now (remove it and add a new one)")
            _fill_maintenance(row, window)
        return _maintenance(row)

    def remove_maintenance(self, window_id: int, now: float) -> tuple[Removal, MaintenanceWindow] | None:
        """Remove a window as of ``now``, keeping its past. One that has not begun is ``deleted``; one that
        has (in progress, over, or recurring past its first start) is ``retired`` at ``now``: it applies no
        more from then on, and every occurrence before stays as it was; one removed before is left as it was
        (``already_retired``). Returns what was done and the window as left; None if there is no such id."""
        with self._transaction("remove maintenance") as s:
            row = s.get(MaintenanceRow, window_id)
            if row is None:
                return None
            window = _maintenance(row)
            if window.retired_at is not None:
                return "already_retired", window
            if window.starts_at >= now:
                s.delete(row)
                return "deleted", window
            row.retired_at = to_datetime(now)
            return "retired", _maintenance(row)


def _fill_maintenance(row: MaintenanceRow, w: MaintenanceWindow) -> None:
    row.scope_kind = w.scope_kind
    row.scope_value = w.scope_value
    row.starts_at = to_datetime(w.starts_at)
    row.ends_at = to_datetime(w.ends_at)
    row.recurrence = w.recurrence
    row.timezone = w.timezone
    row.comment = w.comment
    row.created_by = w.created_by[:128]
    row.retired_at = optional_datetime(w.retired_at)


def _past(window: MaintenanceWindow, now: float) -> list[tuple[float, float]]:
    """What the window covered before ``now``."""
    return list(occurrences(window, window.starts_at, now))


def _maintenance(r: MaintenanceRow) -> MaintenanceWindow:
    return MaintenanceWindow(
        scope_kind=r.scope_kind,
        scope_value=r.scope_value,
        starts_at=to_unix(r.starts_at),
        ends_at=to_unix(r.ends_at),
        timezone=r.timezone,
        created_by=r.created_by,
        recurrence=r.recurrence,
        comment=r.comment,
        id=r.id,
        created_at=to_unix(r.created_at),
        retired_at=optional_unix(r.retired_at),
    )
