"""The behaviour of one simulated device: uptime, clients, traffic, load, all computed from time on demand.

Nothing here runs on a timer: every figure is a pure function of ``now``, the device's boot time and a
seed drawn from its id, so 400 idle agents cost nothing, two readers see one consistent device, and the
same AP behaves the same way in every run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from simulator.daily import DailyCurve, curve_for
from simulator.spec import AgentSpec

RADIOS = ("ng", "na")  # UniFi's names: 2.4 GHz, 5 GHz

# Associated stations per AP at the busiest hour, by site category (scaled 0.6-1.4 per AP).
PEAK_CLIENTS = {
    "bus_stop": 25, "market": 40, "park": 30, "tourist_site": 35, "ferry": 60, "port": 30, "sports": 30,
    "culture": 25, "welfare": 15, "public_office": 20, "library": 25, "school": 30, "health": 15,
    "rental_yard": 6, "street": 20,
}
DEFAULT_PEAK = 15

# Average bytes per second per associated client, towards the clients and from them.
DOWN_RATE = 40_000.0
UP_RATE = 8_000.0
BACKGROUND_RATE = 250.0  # management traffic, beacons, ARP: bytes/s on every live interface

MINUTE = 60.0

# An LTE modem's signal, in port and far out at sea: (best, worst), the span of a usable link on a
# coastal ferry route.
RSRP_DBM = (-75.0, -115.0)
RSRQ_DB = (-5.0, -18.0)
SINR_DB = (25.0, 0.0)
RSSI_DBM = (-50.0, -90.0)
FADING = 0.25  # the share of each range that is fast fading (waves, the hull turning), not distance
FADE_BUCKET = 20.0  # seconds one fading draw lasts: successive polls see the signal move


def seed_of(key: str) -> int:
    """A stable 64-bit seed from an id (Python's ``hash`` of a str changes between runs)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


def unit(seed: int, *parts: int) -> float:
    """A uniform number in [0, 1) that depends only on (seed, parts): splitmix64 over the parts."""
    x = seed
    for p in parts:
        x = (x ^ (p & 0xFFFFFFFFFFFFFFFF)) + 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 31
    return x / 2**64


def peak_clients(device_id: str, category: str) -> float:
    return PEAK_CLIENTS.get(category, DEFAULT_PEAK) * (0.6 + 0.8 * unit(seed_of(device_id), 10))


@dataclass(frozen=True)
class Interface:
    """One row of ifTable. ``share`` is the part of the device's client traffic it carries.

    A wired port receives what clients download; a radio transmits it.
    """

    name: str
    if_type: int  # IANAifType: 6 ethernetCsmacd, 24 softwareLoopback, 71 ieee80211, 209 bridge
    speed: int  # bits/s
    share: float
    wired: bool = True
    radio: int | None = None  # index into RADIOS


@dataclass(frozen=True)
class LteSignal:
    """What the modem reports, as the whole numbers MIKROTIK-MIB's Integer32 columns carry."""

    rssi_dbm: int
    rsrq_db: int
    rsrp_dbm: int
    sinr_db: int


class DeviceModel:
    """Uptime, clients, counters and load of one device as functions of unix time."""

    def __init__(self, spec: AgentSpec, start: float, utc_offset: float):
        self.spec = spec
        self.seed = seed = seed_of(spec.id)
        # APs of one kind are not in lockstep: shift each curve by up to ±30 minutes.
        self.curve = DailyCurve(curve_for(spec.category), utc_offset, shift=(unit(seed, 1) - 0.5) * 3600)
        if spec.role == "uplink":
            aps = spec.serves or (spec.id,)
            self.peak = sum(peak_clients(ap, spec.category) for ap in aps)
            self.radio_shares: tuple[float, ...] = ()
        else:
            self.peak = peak_clients(spec.id, spec.category)
            ng = 0.25 + 0.2 * unit(seed, 2)  # phones still cling to 2.4 GHz
            self.radio_shares = (ng, 1 - ng)
        weights = [1.0 / (i + 1) ** 1.5 for i in range(len(spec.ssids))]  # the first SSID draws most
        self.ssid_shares = tuple(w / sum(weights) for w in weights)
        self.channels = ((1, 6, 11)[int(unit(seed, 6) * 3)], (36, 44, 149, 157)[int(unit(seed, 7) * 4)])
        self.noise_dbm = (-92 - int(unit(seed, 8) * 6), -96 - int(unit(seed, 9) * 5))
        # An uplink whose profile reads an LTE modem table is an LTE router (a ferry's MikroTik).
        self.lte = spec.role == "uplink" and spec.profile.lte is not None
        # A ferry sails out and back every 1.5-2.5 hours, each on its own schedule.
        self.voyage = 3600.0 * (1.5 + unit(seed, 15))
        self.voyage_phase = self.voyage * unit(seed, 16)
        self.interfaces = self._interfaces()
        self.boot = self._first_boot(start)
        self.boots = 1 + int(unit(seed, 14) * 30)  # snmpEngineBoots: how many times it has started
        self._boot_area = self.curve.integral(self.boot)

    def _interfaces(self) -> tuple[Interface, ...]:
        lo = Interface("lo", 24, 10_000_000, 0.0)
        if self.lte:
            # RouterOS names, no loopback row; ether1 faces the boat's APs, lte1 is the WAN. IANAifType
            # has no LTE type: 6, as the other LTE router's wwan0.
            return (Interface("ether1", 6, 1_000_000_000, 1.0), Interface("lte1", 6, 150_000_000, 1.0))
        if self.spec.role == "uplink":
            wan = Interface("wwan0", 6, 150_000_000, 1.0) if self.spec.ferry else Interface("eth0", 6, 1_000_000_000, 1.0)
            return (lo, wan, Interface("br-lan", 209, 1_000_000_000, 1.0))
        ng, na = self.radio_shares
        return (
            lo,
            Interface("eth0", 6, 1_000_000_000, 1.0),
            Interface("wifi0", 71, 300_000_000, ng, wired=False, radio=0),
            Interface("wifi1", 71, 867_000_000, na, wired=False, radio=1),
            Interface("br0", 209, 1_000_000_000, 1.0),
        )

    def _first_boot(self, start: float) -> float:
        # Each device reboots on its own schedule (every 5-60 days, fixed phase), so restarting the
        # simulator does not look like a reboot of the whole city to a monitor that keeps running.
        period = 86400.0 * (5 + 55 * unit(self.seed, 11))
        phase = period * unit(self.seed, 12)
        return start - (start - phase) % period

    # -- faults -----------------------------------------------------------------------------------

    def reboot(self, now: float) -> None:
        """Uptime and counters start again from zero."""
        self.boot = now
        self.boots += 1
        self._boot_area = self.curve.integral(now)

    # -- what the MIB shows -----------------------------------------------------------------------

    def uptime_ticks(self, now: float) -> int:
        """sysUpTime: hundredths of a second since boot, wrapping at 2**32 (497 days) like the real thing."""
        return int(max(0.0, now - self.boot) * 100) & 0xFFFFFFFF

    def load(self, now: float) -> float:
        return self.curve.value(now)

    def clients(self, radio: int, ssid: int, now: float) -> int:
        """Stations on one SSID of one radio; the noise changes once a minute."""
        mean = self.peak * self.load(now) * self.radio_shares[radio] * self.ssid_shares[ssid]
        bucket = int(now // MINUTE)
        jitter = 0.85 + 0.3 * unit(self.seed, 3, bucket, radio, ssid)
        return int(mean * jitter + unit(self.seed, 4, bucket, radio, ssid))  # random rounding: 0 or 1 at night

    def octets(self, iface: Interface, inbound: bool, now: float) -> int:
        """Bytes through an interface since boot (unwrapped; the MIB wraps it at 32 or 64 bits)."""
        up = max(0.0, now - self.boot)
        area = max(0.0, self.curve.integral(now) - self._boot_area)
        per_client = DOWN_RATE if inbound == iface.wired else UP_RATE
        background = BACKGROUND_RATE if iface.share else BACKGROUND_RATE / 10
        return int(iface.share * self.peak * per_client * area + background * up)

    def cpu_percent(self, cpu: int, now: float) -> int:
        bucket = int(now // MINUTE)
        return min(100, int(3 + 35 * self.load(now) + 8 * unit(self.seed, 5, bucket, cpu)))

    def utilisation_percent(self, radio: int, now: float) -> int:
        """Channel utilisation: neighbours' noise plus our own clients; 2.4 GHz is the crowded band."""
        base, span = ((15.0, 55.0), (5.0, 35.0))[radio]
        bucket = int(now // MINUTE)
        value = base + span * self.load(now) + 6 * (unit(self.seed, 13, bucket, radio) - 0.5)
        return max(0, min(100, int(value)))

    def distance_from_port(self, now: float) -> float:
        """0 in port, 1 out at sea: out and back once per voyage, a while moored at each end."""
        x = ((now + self.voyage_phase) % self.voyage) / self.voyage
        there_and_back = 1 - abs(2 * x - 1)
        return min(1.0, max(0.0, (there_and_back - 0.1) / 0.8))

    def lte_signal(self, now: float) -> LteSignal:
        """The modem's signal: worse the further from port, with fading that changes every 20 s."""
        d = self.distance_from_port(now)
        bucket = int(now // FADE_BUCKET)

        def reading(span: tuple[float, float], part: int) -> int:
            best, worst = span
            fade = FADING * unit(self.seed, 17, bucket, part)
            return round(best + (worst - best) * ((1 - FADING) * d + fade))

        return LteSignal(
            rssi_dbm=reading(RSSI_DBM, 0),
            rsrq_db=reading(RSRQ_DB, 1),
            rsrp_dbm=reading(RSRP_DBM, 2),
            sinr_db=reading(SINR_DB, 3),
        )
