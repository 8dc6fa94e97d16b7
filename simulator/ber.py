"""BER (X.690) for the slice of SNMP v2c the simulator speaks (RFC 3416 messages).

Hand-written rather than pyasn1/pysnmp because 400 agents share two cores with the monitor, and because
we must be able to send malformed replies on purpose. Values on the way out are encoded straight to
TLV bytes by the helpers below (``integer``, ``counter64``, …); a decoded message keeps every value as
``(tag, python value)``.

Only single-byte tags and definite lengths exist in SNMP; anything else is an error here.
"""

from __future__ import annotations

from dataclasses import dataclass

Oid = tuple[int, ...]

# Universal and SNMP application tags.
INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_IDENTIFIER = 0x06
SEQUENCE = 0x30
IP_ADDRESS = 0x40
COUNTER32 = 0x41
GAUGE32 = 0x42
TIMETICKS = 0x43
OPAQUE = 0x44
COUNTER64 = 0x46
# v2c varbind exceptions (context-specific, primitive, empty).
NO_SUCH_OBJECT = 0x80
NO_SUCH_INSTANCE = 0x81
END_OF_MIB_VIEW = 0x82
# PDU tags (context-specific, constructed).
GET = 0xA0
GET_NEXT = 0xA1
RESPONSE = 0xA2
SET = 0xA3
GET_BULK = 0xA5
INFORM = 0xA6
TRAP_V2 = 0xA7
REPORT = 0xA8

PDU_TAGS = frozenset({GET, GET_NEXT, RESPONSE, SET, GET_BULK, INFORM, TRAP_V2, REPORT})

# error-status values (RFC 3416) the simulator uses.
NO_ERROR = 0
TOO_BIG = 1
NOT_WRITABLE = 17

VERSION_V1 = 0
VERSION_V2C = 1

_UNSIGNED_BITS = {COUNTER32: 32, GAUGE32: 32, TIMETICKS: 32, COUNTER64: 64}


class BerError(ValueError):
    """Bytes that are not a well-formed SNMP message; the text says what and at which offset."""


# ---------------------------------------------------------------------------------------------------
# Encoding: every helper returns a complete TLV.


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, payload: bytes) -> bytes:
    """One tag-length-value; the building block of everything else."""
    n = len(payload)
    if n < 0x80:  # the common case, kept cheap
        return bytes((tag, n)) + payload
    return bytes((tag,)) + encode_length(n) + payload


def integer(value: int) -> bytes:
    """INTEGER (Integer32 in SNMP; request ids are any signed 32-bit number)."""
    size = ((value if value >= 0 else ~value).bit_length() + 8) // 8
    return tlv(INTEGER, value.to_bytes(size, "big", signed=True))


def _unsigned(tag: int, value: int) -> bytes:
    bits = _UNSIGNED_BITS[tag]
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{value} does not fit an unsigned {bits}-bit value (tag 0x{tag:02x})")
    # A leading zero octet keeps values with the top bit set positive, as BER requires.
    return tlv(tag, value.to_bytes((value.bit_length() + 8) // 8, "big"))


def counter32(value: int) -> bytes:
    return _unsigned(COUNTER32, value)


def gauge32(value: int) -> bytes:
    return _unsigned(GAUGE32, value)


def timeticks(value: int) -> bytes:
    return _unsigned(TIMETICKS, value)


def counter64(value: int) -> bytes:
    return _unsigned(COUNTER64, value)


def octets(value: bytes | str) -> bytes:
    return tlv(OCTET_STRING, value.encode("utf-8") if isinstance(value, str) else value)


def ip_address(value: str) -> bytes:
    parts = [int(p) for p in value.split(".")]
    if len(parts) != 4 or not all(0 <= p <= 255 for p in parts):
        raise ValueError(f"not an IPv4 address: {value!r}")
    return tlv(IP_ADDRESS, bytes(parts))


def oid(value: Oid | str) -> bytes:
    """OBJECT IDENTIFIER from a tuple of arcs or a dotted string."""
    arcs = parse_oid(value) if isinstance(value, str) else value
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValueError(f"not an encodable OID: {value!r}")
    body = bytearray()
    for sub in (arcs[0] * 40 + arcs[1], *arcs[2:]):
        if sub < 0:
            raise ValueError(f"negative arc in OID {value!r}")
        if sub < 0x80:
            body.append(sub)
            continue
        chunk = bytearray()
        while sub:
            chunk.append(0x80 | (sub & 0x7F))
            sub >>= 7
        chunk[0] &= 0x7F
        chunk.reverse()
        body += chunk
    return tlv(OBJECT_IDENTIFIER, bytes(body))


NULL_VALUE = b"\x05\x00"
NO_SUCH_OBJECT_VALUE = b"\x80\x00"
NO_SUCH_INSTANCE_VALUE = b"\x81\x00"
END_OF_MIB_VIEW_VALUE = b"\x82\x00"


def varbind(oid_tlv: bytes, value_tlv: bytes) -> bytes:
    return tlv(SEQUENCE, oid_tlv + value_tlv)


def message(
    community: bytes, pdu_tag: int, request_id: int, error_status: int, error_index: int, varbinds: bytes,
    version: int = VERSION_V2C,
) -> bytes:
    """A whole message; ``varbinds`` is the concatenation of ``varbind()`` results.

    For a GetBulkRequest, error_status/error_index carry non-repeaters/max-repetitions.
    """
    pdu = tlv(pdu_tag, integer(request_id) + integer(error_status) + integer(error_index) + tlv(SEQUENCE, varbinds))
    return tlv(SEQUENCE, integer(version) + octets(community) + pdu)


def parse_oid(text: str) -> Oid:
    try:
        return tuple(int(p) for p in text.strip().lstrip(".").split("."))
    except ValueError:
        raise ValueError(f"not a numeric OID: {text!r}") from None


def format_oid(value: Oid) -> str:
    return ".".join(map(str, value))


# ---------------------------------------------------------------------------------------------------
# Decoding.


def _header(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at ``pos``; it must end by ``end``."""
    if pos + 2 > end:
        raise BerError(f"truncated header at offset {pos}")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise BerError(f"multi-byte tag at offset {pos}")
    first = buf[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0:
            raise BerError(f"indefinite length at offset {pos - 1}")
        if count > 4 or pos + count > end:
            raise BerError(f"bad length of {count} octets at offset {pos - 1}")
        length = int.from_bytes(buf[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise BerError(f"length {length} at offset {pos} runs past the end ({end})")
    return tag, pos, pos + length


def _expect(buf: bytes, pos: int, end: int, tag: int, what: str) -> tuple[int, int]:
    got, start, stop = _header(buf, pos, end)
    if got != tag:
        raise BerError(f"{what}: expected tag 0x{tag:02x}, got 0x{got:02x} at offset {pos}")
    return start, stop


def decode_integer(content: bytes) -> int:
    if not content:
        raise BerError("empty INTEGER")
    return int.from_bytes(content, "big", signed=True)


def decode_oid(content: bytes) -> Oid:
    if not content:
        raise BerError("empty OBJECT IDENTIFIER")
    arcs: list[int] = []
    sub = 0
    fresh = True
    for byte in content:
        if fresh and byte == 0x80:
            raise BerError("OID sub-identifier with a leading 0x80 octet")
        sub = (sub << 7) | (byte & 0x7F)
        fresh = not byte & 0x80
        if fresh:
            arcs.append(sub)
            sub = 0
    if not fresh:
        raise BerError("OID ends inside a sub-identifier")
    first = arcs[0]
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return head + tuple(arcs[1:])


def decode_value(tag: int, content: bytes) -> object:
    """The Python value of one varbind value: int, bytes, str (IpAddress), Oid, or None."""
    if tag == INTEGER:
        return decode_integer(content)
    if tag in _UNSIGNED_BITS:
        if not content:
            raise BerError(f"empty value with tag 0x{tag:02x}")
        value = int.from_bytes(content, "big")
        if value >= 1 << _UNSIGNED_BITS[tag]:
            raise BerError(f"value {value} too large for tag 0x{tag:02x}")
        return value
    if tag in (OCTET_STRING, OPAQUE):
        return bytes(content)
    if tag == OBJECT_IDENTIFIER:
        return decode_oid(content)
    if tag == IP_ADDRESS:
        if len(content) != 4:
            raise BerError(f"IpAddress of {len(content)} octets")
        return ".".join(map(str, content))
    if tag in (NULL, NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW):
        if content:
            raise BerError(f"non-empty value with tag 0x{tag:02x}")
        return None
    raise BerError(f"unknown value tag 0x{tag:02x}")


@dataclass(frozen=True)
class Pdu:
    """A decoded PDU. For GetBulkRequest, ``error_status``/``error_index`` are non-repeaters/max-repetitions."""

    tag: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: tuple[tuple[Oid, int, object], ...]  # (oid, value tag, value)

    @property
    def oids(self) -> tuple[Oid, ...]:
        return tuple(vb[0] for vb in self.varbinds)


@dataclass(frozen=True)
class Message:
    version: int
    community: bytes
    pdu: Pdu


def decode_message(data: bytes) -> Message:
    """Decode one SNMP v1/v2c message; raise BerError on anything malformed (trailing bytes included)."""
    buf = bytes(data)
    start, stop = _expect(buf, 0, len(buf), SEQUENCE, "message")
    if stop != len(buf):
        raise BerError(f"{len(buf) - stop} trailing bytes after the message")
    s, e = _expect(buf, start, stop, INTEGER, "version")
    version = decode_integer(buf[s:e])
    s, e = _expect(buf, e, stop, OCTET_STRING, "community")
    community = buf[s:e]
    tag, ps, pe = _header(buf, e, stop)
    if tag not in PDU_TAGS:
        raise BerError(f"unknown PDU tag 0x{tag:02x} at offset {e}")
    if pe != stop:
        raise BerError("bytes after the PDU")
    fields = []
    pos = ps
    for what in ("request-id", "error-status", "error-index"):
        s, pos = _expect(buf, pos, pe, INTEGER, what)
        fields.append(decode_integer(buf[s:pos]))
    ls, le = _expect(buf, pos, pe, SEQUENCE, "variable-bindings")
    if le != pe:
        raise BerError("bytes after the variable-bindings")
    varbinds = []
    pos = ls
    while pos < le:
        vs, pos = _expect(buf, pos, le, SEQUENCE, "varbind")
        os_, oe = _expect(buf, vs, pos, OBJECT_IDENTIFIER, "varbind name")
        vtag, vvs, vve = _header(buf, oe, pos)
        if vve != pos:
            raise BerError(f"bytes after the value of varbind at offset {vs}")
        varbinds.append((decode_oid(buf[os_:oe]), vtag, decode_value(vtag, buf[vvs:vve])))
    return Message(version, community, Pdu(tag, fields[0], fields[1], fields[2], tuple(varbinds)))
