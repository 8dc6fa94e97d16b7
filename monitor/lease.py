"""The shard's lease at run time: wait as the standby until it can be taken, renew it while active, give it
up at a clean stop. The decisions are ``monitor.domain.shards``'s (pure); this is their I/O edge.

Only on PostgreSQL (several instances share it); a single instance on SQLite holds no lease.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time

from monitor.domain.shards import Lease, lease_lost, taking_over
from monitor.store import LeaseFenced, Store, StoreError

log = logging.getLogger(__name__)


class ShardLease:
    """The lease ``name`` held by this process (``holder``: host, pid and a random token) for ``ttl`` seconds,
    renewed every ``ttl / 3``."""

    def __init__(self, store: Store, name: str, ttl: float):
        self.store = store
        self.name = name
        self.ttl = ttl
        self.every = ttl / 3
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"[:255]
        # Local monotonic time at which the last successful renewal was *sent*: the database set the expiry
        # one ttl after it read its clock, which was later, so the lease is held until at least this + ttl.
        self.last_renewed: float | None = None
        self.lost = False  # lost for good: another holder took it, or the store fenced a write
        self.previous: Lease | None = None  # the lease as found when this process took it
        self.taken_at = 0.0  # the database's clock then
        self._asking: asyncio.Future[bool] | None = None  # a read of the lease row in flight (confirm)

    async def acquire(self, stop: asyncio.Event, standby: bool) -> bool:
        """Wait until this process holds the lease (True) or ``stop`` is set (False). A standby lets one
        renewal period pass first, so that of two instances started together the active one takes it."""
        if standby and await _stopped(stop, self.every):
            return False
        waiting_for: str | None = None
        while True:
            sent = time.monotonic()
            try:
                action, found, now = await self.store.call(self.store.lease, self.name, self.holder, self.ttl)
            except StoreError as exc:
                log.warning("lease_check_failed lease=%s error=%s retry_in=%.1fs", self.name, exc, self.every)
            else:
                if action != "wait":
                    self.last_renewed, self.previous, self.taken_at = sent, found, now
                    self.store.fence(self.name, self.holder)  # every write from now on checks it still holds it
                    log.info("lease_acquired lease=%s holder=%s previous=%s", self.name, self.holder,
                             found.holder if found else "-")
                    return True
                if found is not None and found.holder != waiting_for:
                    waiting_for = found.holder
                    log.info("standby_waiting lease=%s active=%s expires_in=%.1fs", self.name, found.holder,
                             found.expires_at - now)
            if await _stopped(stop, self.every):
                return False

    def takeover(self, grace: float) -> bool:
        """Whether this process continues a recent holder's watch (see ``taking_over``)."""
        return taking_over(self.previous, self.taken_at, grace)

    async def renew(self) -> bool:
        """Renew the lease; False once it is lost: another holder has it, or no renewal succeeded for ``ttl``
        (a standby may have taken it by now). A failed renewal within that time is only logged."""
        if self.lost:  # a fenced write said so first, and logged it
            return False
        sent = time.monotonic()
        try:
            action, found, _ = await self.store.call(self.store.lease, self.name, self.holder, self.ttl)
        except StoreError as exc:
            log.warning("lease_renew_failed lease=%s error=%s", self.name, exc)
        else:
            if action == "wait":
                if not self.lost:  # (a fenced write may have said so while this renewal was on its way)
                    log.error("lease_lost lease=%s holder=%s now=%s", self.name, self.holder,
                              found.holder if found else "-")
                self.lost = True
                return False
            self.last_renewed = sent
        if lease_lost(self.last_renewed, time.monotonic(), self.ttl):
            log.error("lease_lost lease=%s holder=%s reason=not_renewed_for_%gs", self.name, self.holder, self.ttl)
            self.lost = True
            return False
        return True

    def held(self) -> bool:
        """Whether this process may act for the shard now, by its own clock: not lost, and the last renewal is
        younger than the lease (a process that was stopped wakes up with an old one). Cheap, no I/O: asked
        before each notification is sent and each write is queued. The database's fence (``Store.fence``) is
        the one that holds whatever the local clock says."""
        return not self.lost and not lease_lost(self.last_renewed, time.monotonic(), self.ttl)

    async def confirm(self, timeout: float) -> bool:
        """:meth:`held`, and the database agrees that this process holds the lease (asked before sending: a
        pause that stopped the local clock too is caught here). If the database does not answer within
        ``timeout``, the local clock decides: a page must not wait for the store, and a renewal that keeps
        failing stops the instance within a TTL."""
        if not self.held():
            return False
        if self._asking is None or self._asking.done():  # one read at a time: a hung database holds one thread
            self._asking = asyncio.ensure_future(self.store.call(self.store.holds, self.name, self.holder))
            self._asking.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved, even if late
        try:
            return await asyncio.wait_for(asyncio.shield(self._asking), timeout)
        except (StoreError, TimeoutError):
            return self.held()

    def fenced(self, exc: LeaseFenced) -> None:
        """The store refused a write: another instance holds the lease (found out before the next renewal)."""
        if not self.lost:
            self.lost = True
            log.error("lease_lost lease=%s holder=%s reason=fenced now=%s", self.name, self.holder,
                      exc.current or "-")

    async def release(self) -> None:
        try:
            released = await self.store.call(self.store.release, self.name, self.holder)
        except StoreError as exc:  # it lapses by itself within ttl
            log.warning("lease_release_failed lease=%s error=%s", self.name, exc)
        else:
            if released:
                log.info("lease_released lease=%s", self.name)
            else:  # it lapsed while this process was stalled, and another took it
                log.warning("lease_not_released lease=%s reason=held_by_another", self.name)


async def _stopped(stop: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True
