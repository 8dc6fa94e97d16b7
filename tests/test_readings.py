"""Folding readings into a device's data: which interfaces are its uplink (the first pattern that matches
any wins, so a router's traffic, which crosses its LAN and its WAN interface alike, is counted once),
uptime readings dated by their own answers, and octet counters judged by what the port carries."""

from collectors.profile import load_profiles
from collectors.types import InterfaceCounters, PollResult, ProbeResult
from monitor.domain.vocabulary import EventKind
from monitor.polling.readings import DeviceData, fold_poll, fold_probe, fold_traffic, uplink_interfaces


def ifaces(*names: str) -> list[InterfaceCounters]:
    return [InterfaceCounters(str(i), n, 100, 200, 64) for i, n in enumerate(names, 1)]


def names(chosen: list[InterfaceCounters]) -> list[str]:
    return [i.name for i in chosen]


def test_an_lte_router_counts_its_modem_not_its_lan_port_too():
    mikrotik = load_profiles()["mikrotik"].interfaces
    assert names(uplink_interfaces(mikrotik.uplink, ifaces("ether1", "lte1", "wlan1"))) == ["lte1"]
    assert names(uplink_interfaces(mikrotik.uplink, ifaces("ether1", "wlan1", "bridge"))) == ["ether1"]


def test_generic_prefers_a_wan_then_the_ethernet_ports_then_everything_but_loopback():
    generic = load_profiles()["generic"].interfaces
    assert names(uplink_interfaces(generic.uplink, ifaces("lo", "eth0", "wan0"))) == ["wan0"]
    assert names(uplink_interfaces(generic.uplink, ifaces("lo", "eth0", "ath0"))) == ["eth0"]
    assert names(uplink_interfaces(generic.uplink, ifaces("lo", "br0", "ath0"))) == ["br0", "ath0"]


def test_a_probe_answered_during_a_slow_full_poll_is_no_reboot():
    """The interleaving of issue 10 through the poller's folds: the full poll GETs sysUpTime first
    (answered after 1.9 s) and walks its tables for 5.7 s more; a probe sent meanwhile is answered and
    folded first. Each reading is dated by its own answer, so the poll's is the older one."""
    boot = 1_000_000.0
    ticks = lambda t: int((t - boot) * 100)  # noqa: E731 -- the agent's sysUpTime at t
    data, t0 = DeviceData(profile="unifi"), 2_000_000.0
    assert fold_probe(data, "ap", "s", ProbeResult("ap", t0 - 15, 0.1, uptime_ticks=ticks(t0 - 14.95))) == []
    probe = ProbeResult("ap", t0 + 2.0, 1.9, uptime_ticks=ticks(t0 + 3.0), uptime_window=(t0 + 2.0, t0 + 3.9))
    poll = PollResult("ap", "unifi", t0, 7.6, uptime_ticks=ticks(t0 + 1.0), uptime_window=(t0, t0 + 1.9))
    assert fold_probe(data, "ap", "s", probe) == []
    _, _, events = fold_poll(data, "ap", "s", poll, None, own_clients=True)
    assert events == [] and data.reboots == 0
    # A real reboot after the poll is still seen by the next probe.
    later = ProbeResult("ap", t0 + 30, 0.1, uptime_ticks=500, uptime_window=(t0 + 30, t0 + 30.1))
    [event] = fold_probe(data, "ap", "s", later)
    assert event.kind == EventKind.REBOOT and data.reboots == 1 and abs(event.at - (t0 + 25.1)) < 0.02


def test_an_interface_that_cannot_carry_a_wrap_counts_a_reset_not_traffic():
    """FortiAP's 32-bit ifInOctets on its 10 Mbit/s port: 3.9e9 → 1e6 in 60 s cannot be a wrap (396 MB)."""
    data = DeviceData(profile="fortiap")
    port = lambda octets: [InterfaceCounters("1", "eth0", octets, octets, 32, speed_bps=10_000_000)]  # noqa: E731
    fold_traffic(data, "ap", "s", ("^eth",), port(int(3.9e9)), 0.0)
    rx, tx, events = fold_traffic(data, "ap", "s", ("^eth",), port(10**6), 60.0)
    assert (rx, tx) == (0, 0) and [e.kind for e in events] == [EventKind.COUNTER_RESET]
    rx, _, _ = fold_traffic(data, "ap", "s", ("^eth",), port(2 * 10**6), 120.0)
    assert rx == 10**6 and data.rx_total == 10**6  # counting resumes from the new baseline


def test_interfaces_named_without_octets_give_no_byte_total():
    data = DeviceData(profile="generic")
    names_only = [InterfaceCounters("1", "eth0", None, None, 64)]
    for at in (0.0, 60.0):
        assert fold_traffic(data, "ap", "s", ("^eth",), names_only, at)[:2] == (0, 0)
    assert data.rx_total is None and data.tx_total is None  # unknown, never 0 bytes
