"""Controller mode, the pure part: the APs the inventory expects against the rows a controller lists.

An AP watched through its controller is up when the controller lists it as up, down with reason
``controller_reports_down`` when it lists it as down, and down with reason ``absent_from_controller``
when it does not list it at all: an AP that vanishes from the table is the outage users ask about
(LibreNMS #13535, unpoller #799), never a row that silently stops being drawn. No I/O; the poller
feeds each verdict to the state machine like a probe outcome.
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
