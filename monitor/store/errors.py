"""The store's one exception: the database failed."""

from __future__ import annotations

from collectors.errors import WifimonError


class StoreError(WifimonError):
    """The database failed: unreachable, refused, timed out, or rejected a statement.

    ``url`` is the database with its password masked, ``action`` what the store was doing, ``detail``
    the driver's own words. Callers that retry (the store writer) retry on this and only this.
    """

    def __init__(self, url: str, action: str, detail: str) -> None:
        super().__init__(f"store {url}: {action} failed: {detail}")
        self.url = url
        self.action = action
        self.detail = detail
