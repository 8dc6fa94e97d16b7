"""A device's MIB: objects sorted by OID (exact lookup, and the next object for walks), built per profile.

The objects the monitor reads come from the device's profile (``collectors/profiles/*.yaml``), so the
simulator serves exactly the OIDs the collectors ask for. Only the standard objects no profile names
(the rest of the system group, ifTable) are spelled out here.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from collections.abc import Callable

from collectors.profile import Profile
import simulator.ber as ber
from simulator.ber import Oid, parse_oid
from simulator.device import RADIOS, DeviceModel

# A value is its encoded TLV, or a function of unix time returning one (evaluated when asked).
Value = bytes | Callable[[float], bytes]

# SNMPv2-MIB system group and IF-MIB ifTable: standard objects none of the profiles name.
SYS_DESCR = parse_oid("1.3.6.1.2.1.1.1.0")
SYS_OBJECT_ID = parse_oid("1.3.6.1.2.1.1.2.0")
SYS_UPTIME = parse_oid("1.3.6.1.2.1.1.3.0")
SYS_CONTACT = parse_oid("1.3.6.1.2.1.1.4.0")
SYS_NAME = parse_oid("1.3.6.1.2.1.1.5.0")
SYS_LOCATION = parse_oid("1.3.6.1.2.1.1.6.0")
SYS_SERVICES = parse_oid("1.3.6.1.2.1.1.7.0")
IF_NUMBER = parse_oid("1.3.6.1.2.1.2.1.0")
IF_ENTRY = parse_oid("1.3.6.1.2.1.2.2.1")
IF_INDEX, IF_DESCR, IF_TYPE, IF_SPEED, IF_ADMIN_STATUS, IF_OPER_STATUS, IF_IN_OCTETS, IF_OUT_OCTETS = (
    IF_ENTRY + (c,) for c in (1, 2, 3, 5, 7, 8, 10, 16)
)
# SNMP-FRAMEWORK-MIB snmpEngine group: net-snmp based firmware has it, and it sits last in the MIB,
# so a walk that runs past a vendor table meets these objects before endOfMibView, as on a real AP.
SNMP_ENGINE_ID, SNMP_ENGINE_BOOTS, SNMP_ENGINE_TIME, SNMP_ENGINE_MAX_MESSAGE_SIZE = (
    parse_oid(f"1.3.6.1.6.3.10.2.1.{c}.0") for c in (1, 2, 3, 4)
)
HR_DEVICE_FIRST = 196608  # hrDeviceIndex of the first processor on net-snmp based firmware
CPUS = 2

NET_SNMP_LINUX = "1.3.6.1.4.1.8072.3.2.10"


@dataclass(frozen=True)
class Flavour:
    """How a vendor's device introduces itself (sysDescr, sysObjectID)."""

    descr: str  # format string: {model}, {id}
    object_id: str | None  # None: the profile's own sysObjectID (its first match entry)
    default_model: str


FLAVOURS = {
    # Real UniFi firmware reports the net-snmp OID; the enterprise one makes identification certain.
    "unifi": Flavour("{model} 6.5.28.15108", "1.3.6.1.4.1.41112.1.6", "UAP-AC-Pro"),
    "generic": Flavour("Linux {id} 4.14.221 #0 SMP {model} mips", NET_SNMP_LINUX, "OpenWrt AP"),
    # RouterOS: sysDescr is "RouterOS <board>", sysObjectID the bare enterprise product OID.
    "mikrotik": Flavour("RouterOS {model}", None, "RBLtAP-2HnD"),
}
LTE_ROUTER = Flavour("Linux {id} 5.4.147 #0 SMP {model} LTE router", NET_SNMP_LINUX, "RUTX11")


def flavour_for(profile: Profile, role: str, ferry: bool) -> Flavour:
    if role == "uplink" and ferry and profile.name == "generic":
        return LTE_ROUTER
    if profile.name in FLAVOURS:
        return FLAVOURS[profile.name]
    # A profile we know nothing about: its own sysObjectID prefix makes the monitor pick it.
    object_id = f"{profile.match.sys_object_id[0]}.1" if profile.match.sys_object_id else NET_SNMP_LINUX
    return Flavour(f"{{model}} ({profile.name}, simulated)", object_id, profile.name)


class Mib:
    """Objects in OID order. ``get``/``next`` return an encoded varbind, ready for the response."""

    __slots__ = ("_oids", "_names", "_values", "_index", "_parents")

    def __init__(self, objects: dict[Oid, Value]):
        self._oids = sorted(objects)
        self._names = [ber.oid(o) for o in self._oids]  # encoded once: most of a varbind's bytes
        self._values = [objects[o] for o in self._oids]
        self._index = {o: i for i, o in enumerate(self._oids)}
        self._parents = {o[:-1] for o in self._oids}

    def __len__(self) -> int:
        return len(self._oids)

    @property
    def oids(self) -> tuple[Oid, ...]:
        return tuple(self._oids)

    def _value(self, i: int, now: float) -> bytes:
        v = self._values[i]
        return v if isinstance(v, bytes) else v(now)

    def get(self, oid: Oid, now: float) -> bytes:
        i = self._index.get(oid)
        if i is None:
            # noSuchInstance when the object exists with other instances (a column, a scalar's x.1).
            missing = ber.NO_SUCH_INSTANCE_VALUE if oid[:-1] in self._parents else ber.NO_SUCH_OBJECT_VALUE
            return ber.varbind(ber.oid(oid), missing)
        return ber.varbind(self._names[i], self._value(i, now))

    def next(self, oid: Oid, now: float) -> tuple[bytes, Oid | None]:
        """The varbind of the first object after ``oid``, and its OID (None at the end of the MIB)."""
        i = bisect_right(self._oids, oid)
        if i == len(self._oids):
            return ber.varbind(ber.oid(oid), ber.END_OF_MIB_VIEW_VALUE), None
        return ber.varbind(self._names[i], self._value(i, now)), self._oids[i]


def build_mib(model: DeviceModel) -> Mib:
    """Every object of one device: system group, interfaces, and the tables its profile names."""
    spec = model.spec
    profile = spec.profile
    flavour = flavour_for(profile, spec.role, spec.ferry)
    objects: dict[Oid, Value] = {}

    def uptime(now: float) -> bytes:
        return ber.timeticks(model.uptime_ticks(now))

    objects[SYS_DESCR] = ber.octets(flavour.descr.format(model=spec.model or flavour.default_model, id=spec.id))
    objects[SYS_OBJECT_ID] = ber.oid(flavour.object_id or profile.match.sys_object_id[0])
    objects[SYS_UPTIME] = uptime
    objects[parse_oid(profile.uptime)] = uptime  # the same unless a vendor keeps its own uptime
    objects[SYS_CONTACT] = ber.octets("noc@city.example")
    objects[SYS_NAME] = ber.octets(spec.id)
    objects[SYS_LOCATION] = ber.octets(spec.site_name or spec.site)
    objects[SYS_SERVICES] = ber.integer(72 if spec.role == "ap" else 6)

    ifaces = model.interfaces
    objects[IF_NUMBER] = ber.integer(len(ifaces))
    for n, iface in enumerate(ifaces, 1):
        row = (n,)
        objects[IF_INDEX + row] = ber.integer(n)
        objects[IF_DESCR + row] = ber.octets(iface.name)
        objects[IF_TYPE + row] = ber.integer(iface.if_type)
        objects[IF_SPEED + row] = ber.gauge32(min(iface.speed, 0xFFFFFFFF))
        objects[IF_ADMIN_STATUS + row] = ber.integer(1)
        objects[IF_OPER_STATUS + row] = ber.integer(1)
        objects[IF_IN_OCTETS + row] = lambda now, f=iface: ber.counter32(model.octets(f, True, now) & 0xFFFFFFFF)
        objects[IF_OUT_OCTETS + row] = lambda now, f=iface: ber.counter32(model.octets(f, False, now) & 0xFFFFFFFF)
        if profile.interfaces:
            cols = profile.interfaces
            if cols.counter_bits == 64:
                wrap, encode = 0xFFFFFFFFFFFFFFFF, ber.counter64
            else:
                wrap, encode = 0xFFFFFFFF, ber.counter32
            objects[parse_oid(cols.name) + row] = ber.octets(iface.name)
            objects[parse_oid(cols.in_octets) + row] = (
                lambda now, f=iface, w=wrap, e=encode: e(model.octets(f, True, now) & w)
            )
            objects[parse_oid(cols.out_octets) + row] = (
                lambda now, f=iface, w=wrap, e=encode: e(model.octets(f, False, now) & w)
            )

    if profile.cpu_load_percent:
        column = parse_oid(profile.cpu_load_percent)
        for cpu in range(CPUS):
            objects[column + (HR_DEVICE_FIRST + cpu,)] = lambda now, c=cpu: ber.integer(model.cpu_percent(c, now))

    if model.radio_shares:
        _client_tables(objects, model, profile)
        _radio_table(objects, model, profile)
    if model.lte:
        _lte_table(objects, model, profile)

    # Engine id format 4 (text) under net-snmp's enterprise number, as net-snmp agents make theirs.
    objects[SNMP_ENGINE_ID] = ber.octets(b"\x80\x00\x1f\x88\x04" + spec.id.encode("utf-8")[:27])
    objects[SNMP_ENGINE_BOOTS] = lambda now: ber.integer(model.boots)
    objects[SNMP_ENGINE_TIME] = lambda now: ber.integer(model.uptime_ticks(now) // 100)
    objects[SNMP_ENGINE_MAX_MESSAGE_SIZE] = ber.integer(65507)
    return Mib(objects)


def _client_tables(objects: dict[Oid, Value], model: DeviceModel, profile: Profile) -> None:
    ssids = model.spec.ssids
    radios = range(len(RADIOS))
    for table in profile.clients:
        # (index, radio name, ssid name, the (radio, ssid) pairs the row counts)
        rows: list[tuple[tuple[int, ...], str, str, list[tuple[int, int]]]]
        if table.level == "vap":  # one row per SSID per radio, radio-major like UniFi
            rows = [((r * len(ssids) + s + 1,), RADIOS[r], ssids[s], [(r, s)]) for r in radios for s in range(len(ssids))]
        elif table.level == "ssid":
            rows = [((s + 1,), "", ssids[s], [(r, s) for r in radios]) for s in range(len(ssids))]
        elif table.level == "radio":
            rows = [((r + 1,), RADIOS[r], "", [(r, s) for s in range(len(ssids))]) for r in radios]
        else:  # the whole AP: a scalar
            rows = [((0,), "", "", [(r, s) for r in radios for s in range(len(ssids))])]
        count = parse_oid(table.count)
        for index, radio, ssid, cells in rows:
            objects[count + index] = lambda now, cs=tuple(cells): ber.integer(
                sum(model.clients(r, s, now) for r, s in cs)
            )
            if table.ssid and ssid:
                objects[parse_oid(table.ssid) + index] = ber.octets(ssid)
            if table.radio and radio:
                objects[parse_oid(table.radio) + index] = ber.octets(radio)


def _lte_table(objects: dict[Oid, Value], model: DeviceModel, profile: Profile) -> None:
    """One modem row, indexed by the ifIndex of its interface (lte1), as mtxrLTEModemTable is."""
    spec = profile.lte
    if spec is None:
        return
    index = (next(n for n, iface in enumerate(model.interfaces, 1) if iface.name.startswith("lte")),)
    for field in ("rssi_dbm", "rsrq_db", "rsrp_dbm", "sinr_db"):
        column = getattr(spec, field)
        if column:
            # The profile divides raw values by its divisor; serve what that division turns back into dB.
            objects[parse_oid(column) + index] = lambda now, f=field: ber.integer(
                round(getattr(model.lte_signal(now), f) * spec.divisor)
            )


def _radio_table(objects: dict[Oid, Value], model: DeviceModel, profile: Profile) -> None:
    table = profile.radios
    if table is None:
        return
    for r, name in enumerate(RADIOS):
        index = (r + 1,)
        if table.name:
            objects[parse_oid(table.name) + index] = ber.octets(name)
        if table.channel:
            objects[parse_oid(table.channel) + index] = ber.integer(model.channels[r])
        if table.utilisation_percent:
            objects[parse_oid(table.utilisation_percent) + index] = (
                lambda now, rr=r: ber.integer(model.utilisation_percent(rr, now))
            )
        if table.noise_dbm:
            objects[parse_oid(table.noise_dbm) + index] = ber.integer(model.noise_dbm[r])
