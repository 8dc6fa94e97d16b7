"""Walking several table columns at once with GETBULK, assembled by hand (pure: no I/O, no pysnmp).

A GETBULK naming n columns answers with one flat list interleaved row by row
(col1.r1, col2.r1, …, col1.r2, …), possibly cut short by the agent's size limits. pysnmp's
``bulk_walk_cmd`` takes one column and, left to its defaults, walks past it to the end of the MIB
(SNMP-NOTES §2–3), so the client drives this state machine instead:

    walk = TableWalk(columns, ...)
    while (req := walk.next_request()) is not None:
        reply = <send GETBULK req.start_oids with req.max_repetitions>
        walk.absorb(req, reply_varbinds)
    walk.rows, walk.missing, walk.notes

Values are opaque to the walk except :data:`END`, which the caller passes for endOfMibView,
noSuchObject and noSuchInstance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Oid = tuple[int, ...]

END: Any = object()
"""Sentinel value for endOfMibView / noSuchObject / noSuchInstance: the column ends here."""


def parse_oid(text: str) -> Oid:
    """``"1.3.6.1.2.1.1.3.0"`` → ``(1, 3, 6, 1, 2, 1, 1, 3, 0)``."""
    return tuple(map(int, text.strip(".").split(".")))  # map: half the cost of a generator, on every varbind


def format_oid(oid: Sequence[int]) -> str:
    return ".".join(map(str, oid))


def split_bulk(request: BulkRequest, varbinds: Sequence[tuple[Oid, Any]]) -> list[Sequence[tuple[Oid, Any]]]:
    """A GETBULK reply's flat, row-interleaved varbinds as one list per column of the request, in its order.

    The first ``non_repeaters`` varbinds answer one column each; the rest cycle through the repeaters.
    Varbinds beyond what was asked are dropped.
    """
    nr = request.non_repeaters
    n = len(request.columns) - nr
    once: list[Sequence[tuple[Oid, Any]]] = [varbinds[k : k + 1] for k in range(nr)]
    return once + [varbinds[nr + i :: n] for i in range(n)]


@dataclass(frozen=True)
class ColumnPart:
    """One column's share of a GETBULK step: its varbinds in order, and whether the engine saw it end."""

    varbinds: Sequence[tuple[Oid, Any]]
    ended: bool = False


@dataclass(frozen=True)
class BulkRequest:
    """One GETBULK to send: one start OID per column still being walked.

    The first ``non_repeaters`` columns are asked once (one GETNEXT each): columns the agent did
    not have last time, so an absent column costs one varbind instead of max-repetitions of them.
    """

    columns: tuple[Oid, ...]  # which columns the varbinds belong to, in request order
    start_oids: tuple[Oid, ...]  # where each column continues from
    non_repeaters: int
    max_repetitions: int
    number: int  # 1 for the first request of the walk


@dataclass
class _Column:
    oid: Oid
    position: Oid
    rows: dict[Oid, Any] = field(default_factory=dict)
    done: bool = False
    waits_for: Oid | None = None  # walked only once this column is done, and then only if …
    wants_rows: bool = False  # … it has rows (True) or has none (False)
    asked: bool = True


class TableWalk:
    """State of a multi-column GETBULK walk for one poll of one agent.

    ``max_varbinds`` bounds the size of one reply (columns × max-repetitions); ``max_rows`` and
    ``max_requests`` keep a huge or misbehaving table from running away with the poll: a column
    stopped by a cap keeps the rows read so far and says so in :attr:`notes`. A table as long as last
    time is no runaway, so with ``expected_rows`` the caps grow to fit it, up to ten times the given
    ones: a controller's AP table longer than the caps is read whole from the next poll on, rather than
    cut at the same row every time (the APs past the cut would read as absent from the controller).
    ``expected_rows`` (rows per column seen last time) sizes max-repetitions so that a table
    usually comes back in a single request. ``waits`` maps a column to (another column, whether that
    one must have rows): the column is walked only when the other has rows (a controller's radio
    table, useless without its AP table) or only when it has none (IF-MIB ifInOctets standing in for
    ifHCInOctets). It starts at once when last time's row counts already say so, and a column not
    walked is not missing.
    """

    def __init__(
        self,
        columns: Sequence[Oid],
        *,
        max_varbinds: int = 200,
        max_rows: int = 1000,
        max_requests: int = 40,
        default_repetitions: int = 10,
        expected_rows: Mapping[Oid, int] | None = None,
        waits: Mapping[Oid, tuple[Oid, bool]] | None = None,
    ) -> None:
        if max_varbinds < 1 or max_rows < 1 or max_requests < 1 or default_repetitions < 1:
            raise ValueError("TableWalk limits must be positive")
        self._columns = {oid: _Column(oid, oid) for oid in dict.fromkeys(columns)}
        expected = expected_rows or {}
        if expected:
            needed = -(-3 * sum(expected.values()) // (2 * max_varbinds)) + 2  # 1.5 × last time's values, rounded up
            max_requests = min(max(max_requests, needed), 10 * max_requests)
            max_rows = min(max(max_rows, max(expected.values()) * 5 // 4 + 10), 10 * max_rows)
        for oid, (other, wants_rows) in (waits or {}).items():
            col = self._columns.get(oid)
            if col is None or other not in self._columns or other == oid:
                continue
            if other in expected and (expected[other] > 0) == wants_rows:
                continue  # last time says it is needed: walk it along with the other from the start
            col.waits_for, col.wants_rows, col.asked = other, wants_rows, False
        self._max_varbinds = max_varbinds
        self._max_rows = max_rows
        self._max_requests = max_requests
        self._default_repetitions = default_repetitions
        self._expected = dict(expected_rows or {})
        self._rep_cap = max_varbinds  # lowered when the agent says tooBig
        self._last_reps = 0
        self.requests = 0
        self.notes: list[str] = []  # human text: caps hit, agent misbehaviour

    # -- planning -------------------------------------------------------------------------------

    def _wake_waiting(self) -> None:
        for c in self._columns.values():
            other = self._columns[c.waits_for] if c.waits_for is not None else None
            if other is not None and other.done and other.waits_for is None:
                c.asked = bool(other.rows) == c.wants_rows
                c.done = not c.asked  # not needed: left unasked, and not missing
                c.waits_for = None

    def next_request(self) -> BulkRequest | None:
        """The next GETBULK to send, or None when every column is finished (or a cap was hit)."""
        self._wake_waiting()
        active = [c for c in self._columns.values() if not c.done and c.waits_for is None]
        if not active:
            return None
        if self.requests >= self._max_requests:
            for c in active:
                c.done = True
            self.notes.append(
                f"stopped after {self.requests} requests (cap) with {len(active)} column(s) unfinished: "
                + ", ".join(format_oid(c.oid) for c in active)
            )
            return None
        # Columns absent last time and not seen yet: a single GETNEXT each re-checks them.
        once = [c for c in active if not c.rows and c.position == c.oid and self._expected.get(c.oid) == 0]
        repeat = [c for c in active if c not in once]
        reps = 0
        if repeat:
            # Enough repetitions that a table fits as long as it was last time, plus one to see its
            # end; a table longer than last time (or never seen) gets the default.
            want = {
                c.oid: (exp - len(c.rows) + 1)
                if (exp := self._expected.get(c.oid)) is not None and exp >= len(c.rows)
                else self._default_repetitions
                for c in repeat
            }
            # One max-repetitions serves every column of a request, so a 4-row table asked along
            # with a 29-row one returns 25 objects past its end that cost as much to decode as
            # real rows. Columns of similar length go together; shorter ones wait for the next request.
            longest = max(want.values())
            repeat = [c for c in repeat if 2 * want[c.oid] >= longest]
            budget = max(1, (self._max_varbinds - len(once)) // len(repeat))
            reps = max(1, min(longest, budget, self._rep_cap))
        self._last_reps = reps
        self.requests += 1
        ordered = once + repeat
        return BulkRequest(
            columns=tuple(c.oid for c in ordered),
            start_oids=tuple(c.position for c in ordered),
            non_repeaters=len(once),
            max_repetitions=reps,
            number=self.requests,
        )

    def shrink(self) -> bool:
        """The agent answered tooBig: ask for half the rows next time. False when already at one row."""
        if self._last_reps <= 1:
            return False
        self._rep_cap = self._last_reps // 2
        self.requests -= 1  # the refused request does not count against the cap
        return True

    # -- absorbing replies ----------------------------------------------------------------------

    def absorb(self, request: BulkRequest, varbinds: Sequence[tuple[Oid, Any]]) -> None:
        """Take one GETBULK reply: the flat, row-interleaved varbinds, distributed to their columns."""
        self.absorb_parts(request, [ColumnPart(rows) for rows in split_bulk(request, varbinds)])

    def absorb_parts(self, request: BulkRequest, parts: Sequence[ColumnPart]) -> None:
        """Take one GETBULK step's answer as a part per column of ``request``, in its order."""
        if not any(part.varbinds or part.ended for part in parts):
            # An empty reply would make the next request identical: give up on these columns.
            for c in request.columns:
                if not self._columns[c].done:
                    self._columns[c].done = True
                    self.notes.append(f"column {format_oid(c)}: empty GETBULK reply; stopped")
            return
        for column, part in zip(request.columns, parts, strict=True):
            self.absorb_column(column, part.varbinds, ended=part.ended)

    def absorb_column(self, column: Oid, varbinds: Sequence[tuple[Oid, Any]], *, ended: bool = False) -> None:
        """Take one column's part of a reply, in order; ``ended``: the engine saw the column end (a client
        that stops at the subtree's edge itself, as gufo-snmp does, passes no varbind past it)."""
        col = self._columns[column]
        if col.done:
            return
        prefix = col.oid
        cut = len(prefix)
        for oid, value in varbinds:
            if value is END or len(oid) <= cut or oid[:cut] != prefix:
                col.done = True  # left the column's subtree: the column is complete
                return
            if oid <= col.position:
                col.done = True
                self.notes.append(
                    f"column {format_oid(prefix)}: agent returned non-increasing OID {format_oid(oid)}"
                    f" after {format_oid(col.position)}; stopped"
                )
                return
            col.rows[oid[cut:]] = value
            col.position = oid
            if len(col.rows) >= self._max_rows:
                col.done = True
                self.notes.append(f"column {format_oid(prefix)} stopped at {self._max_rows} rows (cap)")
                return
        if ended:
            col.done = True

    # -- results --------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return all(c.done for c in self._columns.values())

    @property
    def rows(self) -> dict[Oid, dict[Oid, Any]]:
        """Column OID → {row index suffix → value}, rows in the agent's (lexicographic) order."""
        return {oid: c.rows for oid, c in self._columns.items()}

    @property
    def missing(self) -> tuple[Oid, ...]:
        """Columns the agent does not have: the walk left the subtree (or hit the end) at once."""
        return tuple(oid for oid, c in self._columns.items() if c.done and c.asked and not c.rows)

    def row_counts(self) -> dict[Oid, int]:
        """Rows per column asked (the next walk's ``expected_rows``); columns not needed are left out."""
        return {oid: len(c.rows) for oid, c in self._columns.items() if c.asked}
