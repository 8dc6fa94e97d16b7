"""Which interfaces are a device's uplink: the first pattern that matches any wins, so a router's traffic,
which crosses its LAN and its WAN interface alike, is counted once."""

from collectors.profile import load_profiles
from collectors.types import InterfaceCounters
from monitor.polling.readings import uplink_interfaces


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
