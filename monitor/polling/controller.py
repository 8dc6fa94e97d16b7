"""Controller mode, the pure part: the APs the inventory expects against the rows a controller lists.

An AP watched through its controller is up when the controller lists it as up, down with reason
``controller_reports_down`` when it lists it as down, and down with reason ``absent_from_controller``
when it does not list it at all: an AP that vanishes from the table is the outage users ask about
(LibreNMS #13535, unpoller #799), never a row that silently stops being drawn. No I/O; the poller
feeds each verdict to the state machine like a probe outcome.

A table that shrinks to nothing (or to fewer than half the rows of the last good walk) while the controller
still answers is the controller's fault (firmware, profile mismatch), not an outage of every AP it lists:
:func:`table_lost` says so, and its APs become unknown instead of absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from collectors.poll_mapping import mac_text
from collectors.types import ClientCount, ControllerAp
from monitor.domain.vocabulary import Reason


@dataclass(frozen=True)
class ExpectedAp:
    """An AP of the inventory and how its controller knows it (name, MAC or IP)."""

    ap: str
    match: str


@dataclass(frozen=True)
class Verdict:
    """What the controller's table says about one expected AP."""

    ap: str
    ok: bool
    reason: Reason | None = None
    detail: str = ""
    row: ControllerAp | None = None

    @property
    def clients(self) -> tuple[ClientCount, ...]:
        """The AP's clients as the controller counts them: per radio where it offers that, else the total.

        Per-radio rows are level ``radio``; a per-AP total alone is level ``ap``; never both, so a sum
        over one AP's counts is its total (see ``monitor.domain.clients``).
        """
        if self.row is None or not self.ok:
            return ()
        if self.row.radios:
            return self.row.radios
        if self.row.clients is not None:
            return (ClientCount(level="ap", count=self.row.clients),)
        return ()


LOST_BELOW = 0.5  # fewer rows than this share of the last good walk: the table, not the APs, is lost


@dataclass(frozen=True)
class TableLoss:
    """A controller answered with an AP table far shorter than its last good one."""

    controller: str
    rows_before: int | None  # the last good walk's row count (None: no good walk yet this run)
    rows_now: int
    at: float

    @property
    def detail(self) -> str:
        before = "none yet" if self.rows_before is None else str(self.rows_before)
        return f"AP table of controller {self.controller} lost: {self.rows_now} row(s) now, last good {before}"


def table_lost(controller: str, rows_before: int | None, rows_now: int, expected: int,
               now: float) -> TableLoss | None:
    """Whether a walk of ``rows_now`` rows, after a last good walk of ``rows_before``, lost the table.

    An empty table while APs are expected is lost even without history; otherwise a table is lost when it
    falls below ``LOST_BELOW`` of the last good count.
    """
    if expected > 0 and rows_now == 0:
        return TableLoss(controller, rows_before, rows_now, now)
    if rows_before and rows_now < rows_before * LOST_BELOW:
        return TableLoss(controller, rows_before, rows_now, now)
    return None


def find_row(match: str, rows: Sequence[ControllerAp]) -> ControllerAp | None:
    """The row whose MAC, name or IP is ``match`` (MAC in any notation; names compare case-insensitively)."""
    mac = mac_text(match)
    if mac:
        for row in rows:
            if row.mac == mac:
                return row
    wanted = match.strip().casefold()
    for row in rows:
        if row.name.casefold() == wanted:
            return row
    for row in rows:
        if row.ip and row.ip == match.strip():
            return row
    return None


def verdicts(controller: str, expected: Sequence[ExpectedAp], rows: Sequence[ControllerAp]) -> list[Verdict]:
    """One verdict per expected AP, in the order given."""
    out: list[Verdict] = []
    for exp in expected:
        row = find_row(exp.match, rows)
        if row is None:
            out.append(Verdict(exp.ap, False, Reason.ABSENT_FROM_CONTROLLER,
                               f"{exp.match!r} is not in the AP table of controller {controller}"
                               f" ({len(rows)} AP(s) listed)"))
        elif row.status == "down":
            out.append(Verdict(exp.ap, False, Reason.CONTROLLER_REPORTS_DOWN,
                               f"controller {controller} lists {row.name or row.mac} with status"
                               f" {row.raw_status or 'down'}", row))
        else:
            # "unknown" (a status the profile does not map) still means the controller lists the AP:
            # no evidence of an outage, so it counts as up; the raw value goes to the detail.
            detail = (f"status {row.raw_status!r} not in the profile's map" if row.status == "unknown" else "")
            out.append(Verdict(exp.ap, True, None, detail, row))
    return out
