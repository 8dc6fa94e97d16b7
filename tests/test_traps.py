"""The SNMP trap receiver against net-snmp's real ``snmptrap``/``snmpinform`` (v2c and v3 SHA-256/AES), and
the monitor path end to end: a linkDown trap from an AP's own address makes `wifimon run` re-probe it at
once, so the AP is confirmed down long before the next probe round."""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collectors.profile import Profile, TrapSpec, load_profiles
from collectors.traps import DropReason, TrapEvent, TrapReceiver, TrapReceiverError, trap_catalog
from collectors.types import V2cCredentials, V3Credentials
from tests.hostile import (
    ENGINE_ID,
    IF_INDEX,
    LINK_DOWN,
    V3_ARGS,
    V3_AUTH,
    V3_PRIV,
    V3_USER,
    flood_command,
    hostile_datagrams,
    v3_template,
)
from tests.ports import free_udp_port

LINK_UP = "1.3.6.1.6.3.1.1.5.4"
COLD_START = "1.3.6.1.6.3.1.1.5.1"
V3 = V3Credentials(V3_USER, "sha256", V3_AUTH, "aes", V3_PRIV)

needs_snmptrap = pytest.mark.skipif(shutil.which("snmptrap") is None,
                                    reason="net-snmp's snmptrap is not installed (Debian package 'snmp')")




def loopback() -> str:
    """A random 127.x address so parallel runs do not share sources."""
    return f"127.{random.randint(1, 250)}.{random.randint(0, 250)}.{random.randint(1, 250)}"


async def snmp_cmd(tool: str, *args: str, env_dir: Path, timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
    """Run a net-snmp command; SNMP_PERSISTENT_DIR keeps its engine ID files out of /var/lib/snmp."""
    env = dict(os.environ, SNMP_PERSISTENT_DIR=str(env_dir), SNMPCONFPATH=str(env_dir))
    proc = await asyncio.create_subprocess_exec(tool, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return subprocess.CompletedProcess([tool, *args], proc.returncode or 0, out.decode(), err.decode())


async def until(what: str, check, timeout: float = 5.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Harness:
    """A started receiver that records what it delivers and what it drops."""

    def __init__(self, tmp: Path, sources: list[str], credentials: dict | None = None,  # type: ignore[type-arg]
                 **limits: float):
        self.tmp = tmp
        self.events: list[TrapEvent] = []
        self.drops = []  # type: ignore[var-annotated]
        creds = credentials if credentials is not None else {"city": V2cCredentials("city-trap-community"), "v3": V3}
        self.receiver = TrapReceiver(("127.0.0.1", 0), creds, sources, trap_catalog(load_profiles().values()),
                                     self.events.append, self.drops.append, **limits)  # type: ignore[arg-type]
        self.target = ""

    async def __aenter__(self) -> Harness:
        host, port = await self.receiver.start()
        self.target = f"{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.receiver.close()

    async def trap(self, *args: str, source: str | None = None, tool: str = "snmptrap"):  # type: ignore[no-untyped-def]
        extra = [f"--clientaddr={source}"] if source else []
        result = await snmp_cmd(tool, *extra, *args, env_dir=self.tmp)
        return result


# -- the receiver ----------------------------------------------------------------------------------


@needs_snmptrap
async def test_v2c_link_down_arrives_with_every_field(tmp_path):
    ap = loopback()
    async with Harness(tmp_path, [ap]) as h:
        before = time.time()
        r = await h.trap("-v2c", "-c", "city-trap-community", h.target, "", LINK_DOWN,
                         f"{IF_INDEX}.2", "i", "2", source=ap)
        assert r.returncode == 0, r.stderr
        await until("the linkDown event", lambda: h.events)
    (event,) = h.events
    assert event.source_host == ap and 1024 <= event.source_port < 65536
    assert event.trap_oid == LINK_DOWN and event.name == "linkDown" and event.means == "link_down"
    assert event.varbinds[f"{IF_INDEX}.2"] == "2"
    assert "1.3.6.1.2.1.1.3.0" in event.varbinds  # sysUpTime.0, as the agent sent it
    assert event.community_or_user == "city"  # the credentials' name, never the community itself
    assert before <= event.received_at <= time.time()
    assert h.drops == [] and h.receiver.stats["delivered"] == 1


@needs_snmptrap
async def test_v3_trap_from_an_engine_id_never_configured_is_learned_and_authenticated(tmp_path):
    ap = loopback()
    async with Harness(tmp_path, [ap]) as h:
        # No -e: snmptrap uses its own (persistent) engine ID, which the receiver was never told.
        r = await h.trap(*V3_ARGS, h.target, "", COLD_START, source=ap)
        assert r.returncode == 0, r.stderr
        # And an explicit, different engine ID from the same device (e.g. the AP was replaced).
        r = await h.trap(*V3_ARGS, "-e", "0x80001f8804776966696d6f6e", h.target, "", LINK_UP,
                         f"{IF_INDEX}.1", "i", "1", source=ap)
        assert r.returncode == 0, r.stderr
        await until("both v3 events", lambda: len(h.events) == 2)
    assert [(e.name, e.community_or_user, e.source_host) for e in h.events] == [
        ("coldStart", "wifimon-trap", ap), ("linkUp", "wifimon-trap", ap)]
    assert h.events[1].varbinds[f"{IF_INDEX}.1"] == "1"
    assert h.drops == []


@needs_snmptrap
async def test_informs_are_acknowledged_v2c_and_v3(tmp_path):
    ap = loopback()
    async with Harness(tmp_path, [ap]) as h:
        # snmpinform exits non-zero unless the receiver answers (v3: after discovering our engine ID).
        for args in (["-v2c", "-c", "city-trap-community"], V3_ARGS):
            r = await h.trap(*args, "-t", "2", "-r", "1", h.target, "", LINK_DOWN, source=ap, tool="snmpinform")
            assert r.returncode == 0, f"{args[0]} inform not acknowledged: {r.stderr}"
        await until("two inform events", lambda: len(h.events) == 2)
    assert {e.community_or_user for e in h.events} == {"city", "wifimon-trap"}
    # The v3 discovery request before the inform is not a notification, and says so.
    assert [d.reason for d in h.drops] == [DropReason.NOT_NOTIFICATION]


@needs_snmptrap
async def test_wrong_community_and_bad_v3_credentials_are_counted_and_dropped(tmp_path):
    ap = loopback()
    async with Harness(tmp_path, [ap]) as h:
        await h.trap("-v2c", "-c", "not-the-community", h.target, "", LINK_DOWN, source=ap)
        wrong_key = [a if a != "trap-auth-pass" else "wrong-auth-pass" for a in V3_ARGS]
        await h.trap(*wrong_key, h.target, "", LINK_DOWN, source=ap)
        stranger = [a if a != "wifimon-trap" else "somebody" for a in V3_ARGS]
        await h.trap(*stranger, h.target, "", LINK_DOWN, source=ap)
        await until("three drops", lambda: len(h.drops) == 3)
        # A good one after them still gets through: the drops did not upset the receiver.
        await h.trap("-v2c", "-c", "city-trap-community", h.target, "", LINK_DOWN, source=ap)
        await until("the good trap", lambda: h.events)
    assert [d.reason for d in h.drops] == [DropReason.BAD_AUTH] * 3
    assert [d.detail for d in h.drops] == ["snmpInBadCommunityNames", "usmStatsWrongDigests",
                                           "usmStatsUnknownUserNames"]
    assert all(d.source_host == ap for d in h.drops)
    assert h.receiver.stats["bad_auth"] == 3 and h.receiver.stats["delivered"] == 1


@needs_snmptrap
async def test_unknown_source_is_counted_and_dropped_even_with_the_right_community(tmp_path):
    ap, stranger = loopback(), loopback()
    async with Harness(tmp_path, [ap]) as h:
        await h.trap("-v2c", "-c", "city-trap-community", h.target, "", LINK_DOWN, source=stranger)
        await until("the drop", lambda: h.drops)
    assert h.events == []
    (drop,) = h.drops
    assert (drop.reason, drop.source_host) == (DropReason.UNKNOWN_SOURCE, stranger)
    assert h.receiver.stats == {"unknown_source": 1}


async def test_garbage_and_requests_are_classified(tmp_path):
    ap = loopback()
    async with Harness(tmp_path, [ap]) as h:
        host, port = h.receiver.address  # type: ignore[misc]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((ap, 0))
            s.sendto(b"\x30\x03\x02\x01", (host, port))  # truncated BER
            s.sendto(b"hello, is this SNMP?", (host, port))
        await until("two drops", lambda: len(h.drops) == 2)
    assert [d.reason for d in h.drops] == [DropReason.MALFORMED] * 2
    assert h.events == []


async def test_unrecognised_trap_oid_is_delivered_but_not_recognised(tmp_path):
    if shutil.which("snmptrap") is None:
        pytest.skip("net-snmp's snmptrap is not installed (Debian package 'snmp')")
    ap = loopback()
    async with Harness(tmp_path, [ap]) as h:
        await h.trap("-v2c", "-c", "city-trap-community", h.target, "", "1.3.6.1.4.1.99999.0.1", source=ap)
        await until("the event", lambda: h.events)
    (event,) = h.events
    assert event.trap_oid == "1.3.6.1.4.1.99999.0.1" and not event.recognised and event.name == ""


async def test_a_port_in_use_is_an_error_naming_the_address(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        receiver = TrapReceiver(("127.0.0.1", port), {"city": V2cCredentials("x")}, [], {}, lambda e: None)
        with pytest.raises(TrapReceiverError, match=rf"cannot listen for SNMP traps on 127\.0\.0\.1:{port}: "):
            await receiver.start()


async def test_unusable_v3_credentials_are_all_named_without_their_keys():
    creds = {
        "no-auth": V3Credentials("u1", None, None, "aes", "priv-secret-1"),
        "first": V3Credentials("u2", "sha256", "auth-secret-2", "aes", "priv-secret-2"),
        "second": V3Credentials("u2", "sha256", "auth-secret-3", "aes", "priv-secret-3"),
    }
    receiver = TrapReceiver(("127.0.0.1", 0), creds, [], {}, lambda e: None)
    with pytest.raises(TrapReceiverError) as caught:
        await receiver.start()
    text = str(caught.value)
    assert "credentials 'no-auth': v3 privacy needs authentication" in text
    assert "credentials 'second': v3 user 'u2' is configured twice with different keys" in text
    assert "secret" not in text


def test_catalogue_merges_profiles_and_rejects_conflicts():
    catalog = trap_catalog(load_profiles().values())
    assert catalog[LINK_DOWN].name == "linkDown" and catalog["1.3.6.1.4.1.8072.4.0.2"].means == "down"
    clash = Profile(name="clash", traps=(TrapSpec(oid=LINK_DOWN, name="notLinkDown", means="down"),))
    with pytest.raises(ValueError, match="generic.*clash|clash.*generic"):
        trap_catalog([*load_profiles().values(), clash])


# -- the monitor path, end to end --------------------------------------------------------------------


@pytest.mark.e2e
@needs_snmptrap
def test_link_down_trap_confirms_an_ap_down_long_before_the_next_probe_round(tmp_path):
    from monitor.cli.simulate import send_fault
    from tests.alerting_helpers import Receiver
    from tests.e2e import Monitor, sample, simulator, small_city, wait_until

    trap_port = free_udp_port()
    rx = Receiver()
    config = small_city(tmp_path, probe=60, metrics=120, recheck=1)
    text = config.read_text(encoding="utf-8").replace("  probe_interval: 60\n", "  probe_interval: 60\n  spread: 0\n")
    text += f"traps:\n  listen: 127.0.0.1:{trap_port}\n  credentials: [sim]\n"
    text += f'alerting:\n  channels:\n    hook: {{type: webhook, url: "{rx.url}/hook", timeout: 5}}\n'
    config.write_text(text, encoding="utf-8")
    ap_host = re.search(r'id: market-ap1, address: "([0-9.]+):', text).group(1)  # type: ignore[union-attr]
    park_host = re.search(r'id: park-ap1, address: "([0-9.]+):', text).group(1)  # type: ignore[union-attr]
    community = (tmp_path / "community.secret").read_text().strip()

    with simulator(config, tmp_path) as control:
        mon = Monitor(config, tmp_path).start()
        try:
            wait_until("both market APs up", lambda: all(
                sample(mon.metrics(), "wifi_ap_up", ap=a) == 1.0 for a in ("market-ap1", "market-ap2")), 20)
            assert sample(mon.metrics(), "wifimon_traps_received_total", result="accepted") == 0.0
            # Both market APs stop answering; only ap1 "sends" a linkDown (from its own address).
            send_fault("market-ap1=down", control=control)
            send_fault("market-ap2=down", control=control)
            t0 = time.monotonic()
            env = dict(os.environ, SNMP_PERSISTENT_DIR=str(tmp_path), SNMPCONFPATH=str(tmp_path))
            subprocess.run(["snmptrap", "-v2c", "-c", community, f"--clientaddr={ap_host}",
                            f"127.0.0.1:{trap_port}", "", LINK_DOWN, f"{IF_INDEX}.2", "i", "2"],
                           check=True, env=env, timeout=10, capture_output=True)
            # A stranger's trap is counted and dropped.
            subprocess.run(["snmptrap", "-v2c", "-c", community, f"--clientaddr={loopback()}",
                            f"127.0.0.1:{trap_port}", "", LINK_DOWN], check=True, env=env, timeout=10,
                           capture_output=True)
            wait_until("market-ap1 confirmed down", lambda: sample(mon.metrics(), "wifi_ap_up", ap="market-ap1") == 0.0, 20)
            took = time.monotonic() - t0
            m = mon.metrics()
            # Confirmed (probe now + 2 re-checks 1 s apart) in seconds, within the first probe round's
            # interval: the second round has not even started, and ap2, which sent nothing, is still up.
            assert took < 10, f"trap to confirmed down took {took:.1f} s"
            assert sample(m, "wifimon_rounds_total", round="probe") == 1.0
            assert sample(m, "wifi_ap_up", ap="market-ap2") == 1.0
            assert sample(m, "wifimon_traps_received_total", result="accepted") == 1.0
            assert sample(m, "wifimon_traps_received_total", result="unknown_source") == 1.0
            log = (tmp_path / "wifimon-1.log").read_text()
            assert re.search(r"trap_received device=market-ap1 trap=linkDown means=link_down", log), log[-2000:]

            # The park's only AP dies and says so: the site-down alert reaches the on-call webhook in
            # seconds, far inside the 60 s probe interval.
            send_fault("park=down", control=control)
            t0 = time.monotonic()
            subprocess.run(["snmptrap", "-v2c", "-c", community, f"--clientaddr={park_host}",
                            f"127.0.0.1:{trap_port}", "", LINK_DOWN, f"{IF_INDEX}.2", "i", "2"],
                           check=True, env=env, timeout=10, capture_output=True)
            fired = wait_until("the park's site-down alert at the webhook", lambda: [
                r for r in rx.received() if r.json()["alert"]["key"] == "site_down:park"
                and r.json()["kind"] == "firing"], 30)
            took = time.monotonic() - t0
            assert took < 15, f"trap to alert took {took:.1f} s"
            assert len(fired) == 1
            assert sample(mon.metrics(), "wifimon_rounds_total", round="probe") == 1.0
        finally:
            mon.stop()
            rx.close()


def test_cli_check_config_accepts_a_traps_section(tmp_path):
    from tests.e2e import small_city

    config = small_city(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + "traps:\n  listen: 127.0.0.1:1162\n  credentials: [sim, nope]\n",
                      encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "monitor.cli.main", "check-config", str(config)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1
    assert re.search(r"wifimon\.yaml:\d+: traps\.credentials\[1\]: no credentials named 'nope'", r.stderr), r.stderr


# -- hostile input ---------------------------------------------------------------------------------------


@needs_snmptrap
async def test_engine_ids_are_learned_only_from_messages_that_prove_the_key_and_are_bounded_per_source(tmp_path):
    """500 v3 traps for our user under random engine IDs (wrong digests) teach the receiver nothing; six real
    ones under six engine IDs from one device all arrive, and the device holds at most 4 at a time."""
    ap = loopback()
    rng = random.Random(11)
    v3 = v3_template(tmp_path)
    engine = bytes.fromhex(ENGINE_ID)
    async with Harness(tmp_path, [ap], rate_per_source=1000) as h:
        host, port = h.target.split(":")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((ap, 0))
            for _ in range(500):
                s.sendto(v3.replace(engine, rng.randbytes(len(engine))), (host, int(port)))
                await asyncio.sleep(0.002)  # inside the budgets (raised here): every one is judged
        await until("500 drops", lambda: len(h.drops) >= 500, timeout=30)
        assert h.receiver.engine_ids == 0 and h.events == []
        assert {d.reason for d in h.drops} == {DropReason.BAD_AUTH}
        for i in range(6):
            r = await h.trap(*V3_ARGS, "-e", f"0x80001f88047769666900{i:02x}", h.target, "", LINK_UP, source=ap)
            assert r.returncode == 0, r.stderr
        await until("six authentic traps", lambda: len(h.events) == 6, timeout=20)
        assert h.receiver.engine_ids == 4




@needs_snmptrap
async def test_a_flood_of_hostile_datagrams_never_stalls_the_event_loop(tmp_path):
    """Ten thousand hostile datagrams as fast as a process can send them, from a device's address and from
    strangers: the loop keeps ticking (its lag stays under 0.25 s), the budget and the per-source limit take
    the excess, and a good trap afterwards still arrives."""
    ap = loopback()
    rng = random.Random(7)
    kinds = hostile_datagrams(tmp_path, rng, "city-trap-community")
    strangers = [loopback() for _ in range(20)]
    async with Harness(tmp_path, [ap]) as h:
        host, port = h.target.split(":")

        sources = [src for pair in zip([ap] * len(strangers), strangers, strict=True) for src in pair]
        sender = await asyncio.create_subprocess_exec(*flood_command(tmp_path, kinds, host, int(port), 10_000,
                                                                     sources))
        lag = 0.0
        waiting = asyncio.ensure_future(sender.wait())
        while not waiting.done():
            before = time.monotonic()
            await asyncio.sleep(0.01)
            lag = max(lag, time.monotonic() - before - 0.01)
        assert await waiting == 0
        assert lag < 0.25, f"the event loop stalled {lag:.2f} s"
        stats = h.receiver.stats
        assert stats["rate_limited"] > 0 and stats["unknown_source"] > 0
        assert stats["malformed"] + stats["bad_auth"] > 0
        assert h.receiver.engine_ids == 0
        # (A bit-flipped v2c trap with the right community may pass as some trap: v2c has no integrity check,
        # and a trap is only a hint for a re-probe.) The flood spent the device's own budget too: a device
        # that repeats its trap is heard within seconds.
        def good() -> list[TrapEvent]:
            return [e for e in h.events if e.name == "linkUp" and e.varbinds.get(f"{IF_INDEX}.7") == "7"]

        deadline = time.monotonic() + 20
        while not good():
            assert time.monotonic() < deadline, "no good trap got through after the flood"
            r = await h.trap("-v2c", "-c", "city-trap-community", h.target, "", LINK_UP, f"{IF_INDEX}.7", "i", "7",
                             source=ap)
            assert r.returncode == 0, r.stderr
            await asyncio.sleep(0.5)


@needs_snmptrap
def test_a_trap_flood_leaves_probe_rounds_on_time_and_no_false_down(tmp_path):
    """`wifimon run` with a trap receiver; 3 x 100,000 hostile datagrams (every kind above, from the APs' own
    addresses and from strangers) as fast as another process sends them, during several probe rounds. No
    round overruns, no AP or site goes down, the log stays short, memory stays within 10 %."""
    from tests.e2e import Monitor, sample, simulator, small_city, wait_until

    trap_port = free_udp_port()
    config = small_city(tmp_path, probe=2, metrics=10, recheck=1)
    text = config.read_text(encoding="utf-8")
    text += f"traps:\n  listen: 127.0.0.1:{trap_port}\n  credentials: [sim, v3]\n"
    text = text.replace("credentials:\n  sim:", "credentials:\n  v3: {version: \"3\", user: wifimon-trap, auth_protocol: "
                        "sha256, auth_key: {file: auth.secret}, priv_protocol: aes, priv_key: {file: priv.secret}}\n  sim:")
    (tmp_path / "auth.secret").write_text("trap-auth-pass\n")
    (tmp_path / "priv.secret").write_text("trap-priv-pass\n")
    config.write_text(text, encoding="utf-8")
    aps = re.findall(r'address: "([0-9.]+):1161"', text)
    kinds = hostile_datagrams(tmp_path, random.Random(5), (tmp_path / "community.secret").read_text().strip())

    def rss(pid: int) -> int:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]

    with simulator(config, tmp_path):
        mon = Monitor(config, tmp_path).start()
        try:
            sites = ("market", "park", "stop", "ferry")
            wait_until("every site up", lambda: all(sample(mon.metrics(), "wifi_site_up", site=s) == 1.0
                                                    for s in sites), 30)
            wait_until("a metrics round", lambda: (sample(mon.metrics(), "wifimon_rounds_total", round="metrics")
                                                   or 0) >= 1, 30)
            assert mon.proc is not None
            before = rss(mon.proc.pid)
            rounds = sample(mon.metrics(), "wifimon_rounds_total", round="probe") or 0.0
            strangers = [loopback() for _ in range(len(aps))]
            # Every AP address floods in turn (the v3 ones under random engine IDs), strangers in between.
            overruns = {r: sample(mon.metrics(), "wifimon_round_overruns_total", round=r) for r in ("probe", "metrics")}
            # One flooding process at a time: the machine keeps a core for the monitor (several flooders on a
            # two-core machine starve every process, which says nothing about the receiver).
            for ap in aps[:3]:
                subprocess.run(flood_command(tmp_path, kinds, "127.0.0.1", trap_port, 100_000, [ap, *strangers]),
                               check=True, timeout=120)
            wait_until("three more probe rounds", lambda: (sample(mon.metrics(), "wifimon_rounds_total",
                                                                  round="probe") or 0) >= rounds + 3, 30)
            m = mon.metrics()
            after = rss(mon.proc.pid)
        finally:
            mon.stop()
    # (The first round may have been skipped at start-up, before the flood: only overruns during it count.)
    assert {r: sample(m, "wifimon_round_overruns_total", round=r) for r in ("probe", "metrics")} == overruns
    assert all(sample(m, "wifi_site_up", site=s) == 1.0 for s in sites)
    log = (tmp_path / "wifimon-1.log").read_text()
    assert "new=down" not in log and "Traceback" not in log
    assert re.search(r"^wifimon_trap_engine_ids 0\.0$", m, re.M)  # no engine ID learned from the flood
    counted = {r: sample(m, "wifimon_traps_received_total", result=r) or 0.0
               for r in ("unknown_source", "rate_limited", "malformed", "bad_auth")}
    assert all(counted.values()), counted
    assert log.count("trap_dropped") < 50, "the drops were logged one by one"
    assert after < before * 1.10, f"RSS grew from {before} kB to {after} kB"
