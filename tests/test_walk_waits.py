"""Columns walked only when needed (TableWalk ``waits``), and which columns a profile defers (pure).

An interface fallback column (IF-MIB ifTable) stands in for an ifXTable column the agent lacks; a
controller's radio table is useless without its AP table. Neither costs a request when not needed, and
a column left unasked is not reported missing.
"""

from __future__ import annotations

from collectors.profile import load_profiles
from collectors.table_walk import END, TableWalk, parse_oid

HC = parse_oid("1.3.6.1.2.1.31.1.1.1.6")
LEGACY = parse_oid("1.3.6.1.2.1.2.2.1.10")
APS = parse_oid("1.3.6.1.4.1.9.1")
RADIOS = parse_oid("1.3.6.1.4.1.9.2")


def _vb(col, idx, value):
    return (col + (idx,), value)


def test_a_fallback_column_is_not_asked_while_its_main_column_answers():
    walk = TableWalk([HC, LEGACY], waits={LEGACY: (HC, False)})
    req = walk.next_request()
    assert req.columns == (HC,)
    walk.absorb(req, [_vb(HC, 1, 5), _vb(HC, 2, 6), (parse_oid("1.3.6.1.2.1.31.1.1.1.7.1"), 0)])
    assert walk.next_request() is None and walk.finished
    assert walk.missing == () and walk.row_counts() == {HC: 2}  # LEGACY: not asked, not missing, no hint


def test_a_fallback_column_is_walked_when_its_main_column_is_absent_and_at_once_next_time():
    walk = TableWalk([HC, LEGACY], waits={LEGACY: (HC, False)})
    walk.absorb(walk.next_request(), [(parse_oid("1.3.6.1.2.1.31.1.1.1.7.1"), 0)])  # no ifHCInOctets
    req = walk.next_request()
    assert req.columns == (LEGACY,)
    walk.absorb(req, [_vb(LEGACY, 1, 9), (parse_oid("1.3.6.1.2.1.2.2.1.11.1"), 0)])
    assert walk.next_request() is None
    assert walk.rows[LEGACY] == {(1,): 9} and walk.missing == (HC,)
    hints = walk.row_counts()
    assert hints == {HC: 0, LEGACY: 1}
    again = TableWalk([HC, LEGACY], waits={LEGACY: (HC, False)}, expected_rows=hints)
    first = again.next_request()
    assert set(first.columns) == {HC, LEGACY} and first.non_repeaters == 1  # HC rechecked with one GETNEXT


def test_a_dependent_column_waits_for_rows_of_the_column_it_needs():
    walk = TableWalk([APS, RADIOS], waits={RADIOS: (APS, True)})
    req = walk.next_request()
    assert req.columns == (APS,)
    walk.absorb(req, [(APS, END)])  # no AP table
    assert walk.next_request() is None and walk.missing == (APS,)  # RADIOS never asked

    walk = TableWalk([APS, RADIOS], waits={RADIOS: (APS, True)})
    walk.absorb(walk.next_request(), [_vb(APS, 1, b"ap-1"), (APS + (9, 9), END)])
    assert walk.next_request().columns == (RADIOS,)
    # With last time's rows the radio table goes along from the start.
    warm = TableWalk([APS, RADIOS], waits={RADIOS: (APS, True)}, expected_rows={APS: 1, RADIOS: 2})
    assert set(warm.next_request().columns) == {APS, RADIOS}


def test_profiles_defer_their_fallback_and_radio_columns():
    profiles = load_profiles()
    generic = profiles["generic"].waits
    assert generic == {"1.3.6.1.2.1.2.2.1.2": ("1.3.6.1.2.1.31.1.1.1.1", False),
                       "1.3.6.1.2.1.2.2.1.10": ("1.3.6.1.2.1.31.1.1.1.6", False),
                       "1.3.6.1.2.1.2.2.1.16": ("1.3.6.1.2.1.31.1.1.1.10", False)}
    aruba = profiles["aruba_instant"].waits
    assert aruba == {"1.3.6.1.4.1.14823.2.3.3.1.2.2.1.21": ("1.3.6.1.4.1.14823.2.3.3.1.2.1.1.2", True)}
    # fortiap reads ifTable as its main interface table: nothing of it is deferred
    assert profiles["fortiap"].waits == {}


def test_caps_grow_to_fit_a_table_as_long_as_last_time_but_not_without_bound():
    """A controller's AP table longer than the caps is cut on the first poll only: with last time's row
    counts the caps fit it (1.5 × the values, rounded up), never beyond ten times the configured caps."""
    def walk_all(walk: TableWalk, rows: int) -> int:
        while (req := walk.next_request()) is not None:
            start = req.start_oids[0]
            first = start[len(APS):][0] + 1 if len(start) > len(APS) else 1
            last = min(first + req.max_repetitions, rows + 1)
            walk.absorb(req, [_vb(APS, i, b"ap") for i in range(first, last)]
                        + ([(RADIOS, END)] if last == rows + 1 else []))
        return len(walk.rows[APS])

    first = TableWalk([APS], max_varbinds=10, max_requests=3, max_rows=1000)
    assert walk_all(first, 100) == 30 and "cap" in first.notes[0]  # 3 requests × 10 rows
    second = TableWalk([APS], max_varbinds=10, max_requests=3, max_rows=1000, expected_rows=first.row_counts())
    # allowed 1.5 × 30 values / 10 + 2 = 7 requests, one of them a single row to see whether the table ends
    # where it ended last time: 61 rows, on its way
    assert walk_all(second, 100) == 61
    third = TableWalk([APS], max_varbinds=10, max_requests=3, max_rows=1000, expected_rows=second.row_counts())
    assert walk_all(third, 100) == 100 and third.notes == []  # whole
    # An agent that once answered a million rows gets ten times the caps, and no more.
    runaway = TableWalk([APS], max_varbinds=100, max_requests=3, max_rows=50, expected_rows={APS: 10**6})
    assert walk_all(runaway, 10**6) == 500 and runaway.notes == ["column 1.3.6.1.4.1.9.1 stopped at 500 rows (cap)"]
    flood = TableWalk([APS], max_varbinds=10, max_requests=3, max_rows=10**6, expected_rows={APS: 10**6})
    assert walk_all(flood, 10**6) == 300 and flood.requests == 30
