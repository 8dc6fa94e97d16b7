"""Controller mode, the I/O part: an AP naming a controller is watched through that controller's AP table.

One walk of a controller's table stands for the probes of all the APs it watches, so callers arriving
while a poll runs share it. Each AP's part of the outcome is handed, one AP at a time and in inventory
order, to the ``apply`` callback as a :class:`Sighting`; the matching itself is ``monitor.polling.controller``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from collectors.identify import identify_device
from collectors.profile import Profile
from collectors.types import ErrorKind, SnmpClient, Target
from monitor.config.load import LoadedConfig
from monitor.config.model import Device
from monitor.domain.clients import device_total
from monitor.polling.controller import ExpectedAp, TableLoss, Verdict, table_lost, verdicts
from monitor.domain.vocabulary import Reason, Scope
from monitor.polling.entry import Entry

log = logging.getLogger(__name__)


@dataclass
class ControllerEntry:
    """A wireless controller: polled for its AP table, never tracked as a state of its own."""

    device: Device
    target: Target
    profile: str  # "auto" until identified
    rows_good: int | None = None  # rows of the last walk that was not a lost table
    loss: TableLoss | None = None  # the table is lost now (since ``loss.at``)
    failing_since: float | None = None  # its polls fail since then (None: it answered last time)
    error: str = ""  # the last failed poll's kind and detail
    answered: bool | None = None  # whether its last poll was answered (None: not polled yet)
    clients: int | None = None  # its own client total, as its last answered poll counted them
    joined: int | None = None  # APs its last AP table listed as not down


@dataclass(frozen=True)
class Seen:
    """One observation of an AP made through its controller, shaped like a probe outcome for ``observe``."""

    ok: bool
    started_at: float
    error: Reason | ErrorKind | None = None
    detail: str = ""


@dataclass(frozen=True)
class Sighting:
    """What one controller poll says about one AP it watches."""

    entry: Entry
    seen: Seen
    verdict: Verdict | None = None  # None: the controller itself did not answer
    at: float = 0.0  # when the table was read (the end of the poll)
    lost: bool = False  # the controller's table is lost: nothing is known about the AP


class ControllerWatch:
    """The controllers, the APs each one watches, and the one in-flight poll per controller."""

    def __init__(
        self,
        loaded: LoadedConfig,
        entries: Iterable[Entry],
        client: SnmpClient,
        profiles: dict[str, Profile],
        count: Callable[[str, object], None],
        active: Callable[[Entry], bool],
        apply: Callable[[Sighting], None],
    ):
        self._client = client
        self._profiles = profiles
        self._count = count  # (operation, error or None): the service's SNMP request metrics
        self._active = active  # whether an AP is to be looked at now (its mode)
        self._apply = apply
        self.controllers: dict[str, ControllerEntry] = {
            c.id: ControllerEntry(c, loaded.controller_target(c), c.profile) for c in loaded.config.controllers}
        self.watched: dict[str, list[Entry]] = {cid: [] for cid in self.controllers}
        for e in entries:
            cid = getattr(e.device, "controller", None)
            if e.scope == Scope.AP and cid in self.watched:
                self.watched[cid].append(e)
        self._polls: dict[str, asyncio.Task[None]] = {}

    def via(self, entry: Entry) -> bool:
        """Whether ``entry`` is an AP watched through a controller."""
        return entry.scope == Scope.AP and getattr(entry.device, "controller", None) in self.controllers

    def targets(self) -> list[Target]:
        """The controllers' SNMP targets, for the client to register."""
        return [c.target for c in self.controllers.values()]

    def in_flight(self) -> list[asyncio.Task[None]]:
        """Controller polls still running (for shutdown)."""
        return [t for t in self._polls.values() if not t.done()]

    def start(self, cid: str) -> asyncio.Task[None]:
        """The controller's poll in flight, started now if none runs (one walk serves all its APs)."""
        task = self._polls.get(cid)
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(self._poll_once(cid), name=f"controller-{cid}")
            self._polls[cid] = task
        return task

    async def poll(self, cid: str) -> None:
        """Poll a controller; callers arriving while one poll runs share it."""
        await asyncio.shield(self.start(cid))  # a cancelled re-check must not cancel the poll others wait for

    async def _poll_once(self, cid: str) -> None:
        ctl = self.controllers[cid]
        aps = [e for e in self.watched[cid] if self._active(e)]
        if not aps:
            return
        profile = self._profiles.get(ctl.profile, self._profiles["generic"])
        if ctl.profile == "auto":
            found, ident = await identify_device(self._client, ctl.target, self._profiles)
            if ident.ok:
                log.info("profile_identified controller=%s profile=%s", cid, found.name)
                ctl.profile, profile = found.name, found
        result = await self._client.poll(ctl.target, profile)
        self._count("poll", result.error)
        if not result.ok:
            ctl.failing_since = ctl.failing_since if ctl.failing_since is not None else result.started_at
            ctl.error = f"{result.error}: {result.detail}"
            ctl.answered, ctl.clients, ctl.joined = False, None, None  # not seen now: unknown, not zero
            # Nothing seen is no proof of life: the APs fail this observation as if probed directly.
            log.warning("controller_poll_failed controller=%s kind=%s aps=%d detail=%s",
                        cid, result.error, len(aps), result.detail)
            for e in aps:
                self._apply(Sighting(e, Seen(False, result.started_at, result.error,
                                             f"through controller {cid}: {result.detail}")))
            return
        ctl.failing_since, ctl.error, ctl.answered = None, "", True
        total = device_total(result.clients)
        ctl.clients = total[0] if total else None
        ctl.joined = None if result.controller_aps is None else sum(r.status != "down" for r in result.controller_aps)
        if result.controller_aps is None:
            log.warning("controller_without_ap_table controller=%s profile=%s aps=%d", cid, profile.name, len(aps))
            return
        at = result.started_at + result.duration
        loss = table_lost(cid, ctl.rows_good, len(result.controller_aps), len(aps), at)
        if loss is not None:
            if ctl.loss is None:
                log.warning("controller_table_lost controller=%s rows_before=%s rows_now=%d aps=%d",
                            cid, loss.rows_before, loss.rows_now, len(aps))
            ctl.loss = loss if ctl.loss is None else replace(loss, at=ctl.loss.at)
            for e in aps:
                self._apply(Sighting(e, Seen(False, result.started_at, None, loss.detail), None, at, lost=True))
            return
        if ctl.loss is not None:
            log.info("controller_table_back controller=%s rows=%d", cid, len(result.controller_aps))
        ctl.loss, ctl.rows_good = None, len(result.controller_aps)
        expected = [ExpectedAp(e.id, getattr(e.device, "controller_ap", None) or e.id) for e in aps]
        for e, v in zip(aps, verdicts(cid, expected, result.controller_aps), strict=True):
            if not v.ok and v.detail:
                log.debug("controller_verdict ap=%s controller=%s reason=%s detail=%s", e.id, cid, v.reason, v.detail)
            self._apply(Sighting(e, Seen(v.ok, result.started_at, v.reason, v.detail), v, at))
