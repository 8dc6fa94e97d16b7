"""Planned maintenance windows (the Store's methods, as a mixin)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.store.schema import MaintenanceRow
from monitor.domain.records import MaintenanceWindow
from monitor.store.timestamps import to_datetime, to_unix


class MaintenanceMixin:
    """Adding, reading, changing and deleting maintenance windows. Part of :class:`Store`."""

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
        windows that started before ``until`` (whether an occurrence falls inside is for the caller to expand).
        Without bounds, all windows. Ordered by start."""
        query = select(MaintenanceRow)
        if until is not None:
            query = query.where(MaintenanceRow.starts_at < to_datetime(until))
        if since is not None:
            query = query.where(
                MaintenanceRow.recurrence.is_not(None) | (MaintenanceRow.ends_at > to_datetime(since))
            )
        with self._transaction("list maintenance") as s:
            rows = s.scalars(query.order_by(MaintenanceRow.starts_at, MaintenanceRow.id)).all()
        return [_maintenance(r) for r in rows]

    def update_maintenance(self, window_id: int, **changes: Any) -> MaintenanceWindow | None:
        """Change fields of a window (validated as a whole); returns the new window, None if no such id."""
        if {"id", "created_at"} & changes.keys():
            raise ValueError("a maintenance window's id and created_at cannot be changed")
        with self._transaction("update maintenance") as s:
            row = s.get(MaintenanceRow, window_id)
            if row is None:
                return None
            window = replace(_maintenance(row), **changes)  # validates, or raises ValueError
            _fill_maintenance(row, window)
        return _maintenance(row)

    def delete_maintenance(self, window_id: int) -> bool:
        """Delete a window; False if there was none with that id."""
        with self._transaction("delete maintenance") as s:
            row = s.get(MaintenanceRow, window_id)
            if row is None:
                return False
            s.delete(row)
        return True


def _fill_maintenance(row: MaintenanceRow, w: MaintenanceWindow) -> None:
    row.scope_kind = w.scope_kind
    row.scope_value = w.scope_value
    row.starts_at = to_datetime(w.starts_at)
    row.ends_at = to_datetime(w.ends_at)
    row.recurrence = w.recurrence
    row.timezone = w.timezone
    row.comment = w.comment
    row.created_by = w.created_by[:128]


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
    )
