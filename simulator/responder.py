"""Answer one decoded request from a MIB (RFC 3416 §4.2): pure, no I/O, ``now`` as a parameter."""

from __future__ import annotations

import simulator.ber as ber
from simulator.ber import Message
from simulator.mib import Mib

# Loopback carries datagrams up to 64 KiB; leave room for the IP and UDP headers.
MAX_MESSAGE = 65_000
# More repetitions than any table of ours has rows; a bound on the work one request can cause.
MAX_REPETITIONS = 1000
_OVERHEAD = 64  # message and PDU headers around the varbinds, generously


def respond(mib: Mib, request: Message, now: float) -> bytes | None:
    """The Response to ``request``, or None for PDUs an agent does not answer (responses, traps)."""
    pdu = request.pdu
    budget = MAX_MESSAGE - _OVERHEAD - len(request.community)
    status = index = 0
    if pdu.tag == ber.GET:
        varbinds = [mib.get(oid, now) for oid in pdu.oids]
    elif pdu.tag == ber.GET_NEXT:
        varbinds = [mib.next(oid, now)[0] for oid in pdu.oids]
    elif pdu.tag == ber.GET_BULK:
        varbinds = _bulk(mib, pdu.oids, pdu.error_status, pdu.error_index, now, budget)
    elif pdu.tag == ber.SET:
        # Read-only agent: refuse the first binding, echo the request's bindings back.
        varbinds = [ber.varbind(ber.oid(oid), ber.NULL_VALUE) for oid in pdu.oids]
        status, index = ber.NOT_WRITABLE, 1 if pdu.oids else 0
    else:
        return None
    body = b"".join(varbinds)
    if len(body) > budget:
        body, status, index = b"", ber.TOO_BIG, 0
    return ber.message(request.community, ber.RESPONSE, pdu.request_id, status, index, body, request.version)


def _bulk(mib: Mib, oids: tuple[ber.Oid, ...], non_repeaters: int, max_repetitions: int, now: float,
          budget: int) -> list[bytes]:
    n = max(0, min(non_repeaters, len(oids)))
    out = [mib.next(oid, now)[0] for oid in oids[:n]]
    size = sum(map(len, out))
    cursors: list[ber.Oid | None] = list(oids[n:])
    last = list(cursors)  # the OID an ended column keeps repeating with endOfMibView
    for _ in range(max(0, min(max_repetitions, MAX_REPETITIONS))):
        if not cursors or all(c is None for c in cursors):
            break  # every column ran off the end of the MIB: more rows would all say endOfMibView
        for j, cur in enumerate(cursors):
            if cur is None:
                vb = ber.varbind(ber.oid(last[j]), ber.END_OF_MIB_VIEW_VALUE)  # type: ignore[arg-type]
            else:
                vb, nxt = mib.next(cur, now)
                cursors[j] = nxt
                if nxt is not None:
                    last[j] = nxt
            size += len(vb)
            if size > budget:
                return out  # a shorter response is allowed (RFC 3416 §4.2.3); the manager asks again
            out.append(vb)
    return out
