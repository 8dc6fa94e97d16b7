"""The store's exceptions: the database failed (:class:`StoreError`), or it refused a fenced write
(:class:`LeaseFenced`)."""

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


class LeaseFenced(WifimonError):
    """A write of a lease holder was rolled back: in the same transaction, the lease ``lease`` named another
    holder (``current``; empty: nobody). Another instance owns the lease's rows now; this one must stop writing.
    Not a :class:`StoreError`: retrying cannot help, and no job is to blame."""

    def __init__(self, url: str, action: str, lease: str, holder: str, current: str) -> None:
        super().__init__(f"store {url}: {action} refused: lease {lease!r} is held by {current or 'nobody'}, "
                         f"not by this instance ({holder})")
        self.url = url
        self.action = action
        self.lease = lease
        self.holder = holder
        self.current = current
