"""PysnmpClient against real agents on loopback: net-snmp snmpd and small hostile UDP peers.

Plus the pure parts it is built from (TableWalk, poll_mapping), tested without a network.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from collectors.identify import fetch_identity, select_profile
from collectors.poll_mapping import Counter32, Counter64, as_text, map_tables
from collectors.profile import Profile
from collectors.snmp import PysnmpClient, socket_drops
from collectors.table_walk import END, TableWalk, parse_oid
from collectors.types import ErrorKind, Target, V2cCredentials, V3Credentials
from tests.agents import SnmpdUser, free_udp_port, hostile_agent, snmpd_agent

COMMUNITY = "wifimon-test"
AUTH_PASS = "auth-pass-123"
PRIV_PASS = "priv-pass-456"

# (our protocol names) ↔ (net-snmp createUser spellings)
V3_MATRIX = [
    ("md5", "des", "MD5", "DES"),
    ("sha", "aes", "SHA", "AES"),
    ("sha224", "aes192", "SHA-224", "AES-192"),
    ("sha256", "aes", "SHA-256", "AES"),
    ("sha384", "aes256", "SHA-384", "AES-256"),
    ("sha512", "aes256", "SHA-512", "AES-256"),
]


def _user(auth: str, priv: str) -> str:
    return f"u-{auth}-{priv}"


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory: pytest.TempPathFactory):
    users = [SnmpdUser(_user(a, p), na, AUTH_PASS, np, PRIV_PASS) for a, p, na, np in V3_MATRIX]
    with snmpd_agent(tmp_path_factory.mktemp("snmpd"), community=COMMUNITY, users=users) as agent:
        yield agent


def v2c(agent, key: str = "ap-v2c", community: str = COMMUNITY, **kw) -> Target:
    return Target(key, agent.host, agent.port, V2cCredentials(community), **kw)


def v3(
    agent, key: str = "ap-v3", auth: str = "sha256", priv: str = "aes", auth_key: str = AUTH_PASS, **kw
) -> Target:
    creds = V3Credentials(_user(auth, priv), auth, auth_key, priv, PRIV_PASS)  # type: ignore[arg-type]
    return Target(key, agent.host, agent.port, creds, **kw)


def _snmpget(agent, oid: str) -> str:
    """The value as net-snmp's own snmpget reads it: an oracle independent of pysnmp."""
    exe = shutil.which("snmpget")
    if exe is None:
        pytest.skip("net-snmp snmpget is not installed (apt-get install snmp)")
    out = subprocess.run(
        [
            exe,
            "-v2c",
            "-c",
            COMMUNITY,
            "-On",
            "-Oqv",
            "-Oe",
            "-Ot",
            "-t",
            "2",
            f"{agent.host}:{agent.port}",
            oid,
        ],
        capture_output=True,
        text=True,
        timeout=10,
        env={"MIBS": "", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _kernel_interfaces() -> dict[str, str]:
    """ifIndex → name as the kernel numbers them (net-snmp's ifIndex is the kernel's ifindex)."""
    return {str(idx): name for idx, name in socket.if_nameindex()}


# -- snmpd: the happy paths -------------------------------------------------------------------------


async def test_probe_v2c_reads_uptime(snmpd, client):
    target = v2c(snmpd)
    await client.register([target])
    result = await client.probe(target)
    assert result.ok, result.detail
    assert result.key == "ap-v2c"
    # snmpd counts from its own start: compare with net-snmp's snmpget, read right after.
    oracle = int(_snmpget(snmpd, "1.3.6.1.2.1.1.3.0"))
    assert result.uptime_ticks is not None and 0 < result.uptime_ticks <= oracle
    assert oracle - result.uptime_ticks < 300  # within 3 s of each other
    assert 0 < result.duration < target.timeout


@pytest.mark.parametrize("version", ["v2c", "v3"])
async def test_poll_generic_profile(snmpd, client, profiles, version):
    target = v2c(snmpd) if version == "v2c" else v3(snmpd)
    await client.register([target])
    result = await client.poll(target, profiles["generic"])
    assert result.ok, result.detail
    assert result.profile == "generic"
    assert result.sys_descr == _snmpget(snmpd, "1.3.6.1.2.1.1.1.0").strip('"')
    assert "." + result.sys_object_id == _snmpget(snmpd, "1.3.6.1.2.1.1.2.0")
    assert result.uptime_ticks and result.uptime_ticks > 0

    kernel = _kernel_interfaces()
    assert {i.index: i.name for i in result.interfaces} == kernel
    for iface in result.interfaces:
        assert iface.counter_bits == 64
        assert isinstance(iface.in_octets, int) and isinstance(iface.out_octets, int)
    lo = next(i for i in result.interfaces if i.name == "lo")
    rx_now = int(Path("/sys/class/net/lo/statistics/rx_bytes").read_text())
    assert 0 < lo.in_octets <= rx_now  # snmpd caches counters briefly, so never ahead of the kernel

    # hrProcessorLoad depends on what the container exposes; either it is read or it is "missing".
    if result.cpu_ratio is None:
        assert "cpu_load_percent" in result.missing
    else:
        assert 0.0 <= result.cpu_ratio <= 1.0
    assert not [m for m in result.missing if m.startswith("interfaces")]


async def test_second_poll_fits_one_bulk_request(snmpd, profiles):
    """Row counts from the first poll size max-repetitions so the next walk is one GETBULK."""
    c = PysnmpClient()
    try:
        target = v2c(snmpd)
        await c.register([target])
        first = await c.poll(target, profiles["generic"])
        assert first.ok, first.detail
        before = c.stats.requests
        second = await c.poll(target, profiles["generic"])
        assert second.ok, second.detail
        assert c.stats.requests - before == 2  # one GET of the scalars + one GETBULK
        assert [i.index for i in second.interfaces] == [i.index for i in first.interfaces]
    finally:
        await c.close()


@pytest.mark.parametrize(("auth", "priv"), [(a, p) for a, p, _, _ in V3_MATRIX])
async def test_v3_auth_and_priv_protocols(snmpd, client, auth, priv):
    target = v3(snmpd, key=f"ap-{auth}-{priv}", auth=auth, priv=priv)
    await client.register([target])
    result = await client.probe(target)
    assert result.ok, result.detail
    assert result.uptime_ticks and result.uptime_ticks > 0


async def test_identity_and_profile_selection(snmpd, client, profiles):
    target = v2c(snmpd)
    await client.register([target])
    ident = await fetch_identity(client, target)
    assert ident.ok, ident.detail
    assert "." + ident.sys_object_id == _snmpget(snmpd, "1.3.6.1.2.1.1.2.0")
    assert ident.as_tuple()[1] == _snmpget(snmpd, "1.3.6.1.2.1.1.1.0").strip('"')
    # net-snmp's sysObjectID and a Linux sysDescr match no vendor profile.
    assert select_profile(profiles, ident).name == "generic"


# -- snmpd: classified failures ---------------------------------------------------------------------


async def test_wrong_community_is_a_timeout_naming_the_target(snmpd, client):
    target = v2c(snmpd, key="ap-17", community="not-the-community", timeout=0.3, retries=1)
    await client.register([target])
    result = await client.probe(target)
    assert result.error is ErrorKind.TIMEOUT
    assert f"ap-17 {snmpd.host}:{snmpd.port}" in result.detail
    assert "2 attempts × 0.3 s" in result.detail and "GET sysUpTime.0" in result.detail
    assert 0.5 < result.duration < 2.0


async def test_wrong_v3_keys_and_users_are_auth_errors_beside_a_good_one(snmpd, client, profiles):
    good = v3(snmpd, key="ap-good")
    bad_auth = v3(snmpd, key="ap-bad-auth", auth_key="wrong-auth-key-1", timeout=0.5)
    bad_priv = Target(
        "ap-bad-priv",
        snmpd.host,
        snmpd.port,
        V3Credentials(_user("sha256", "aes"), "sha256", AUTH_PASS, "aes", "wrong-priv-1"),
        timeout=0.5,
    )
    unknown = Target(
        "ap-unknown-user",
        snmpd.host,
        snmpd.port,
        V3Credentials("nobody-here", "sha256", AUTH_PASS, "aes", PRIV_PASS),
        timeout=0.5,
    )
    targets = [good, bad_auth, bad_priv, unknown]
    await client.register(targets)
    # Same user name, different keys: they cannot share one USM table, so they must not clobber each other.
    assert client.engine_count >= 3
    results = await asyncio.gather(
        *(client.probe(t) for t in targets), client.poll(good, profiles["generic"])
    )
    by_key = {r.key: r for r in results[:-1]}
    assert by_key["ap-good"].ok, by_key["ap-good"].detail
    assert results[-1].ok, results[-1].detail
    for key, kind_text in (("ap-bad-auth", "WrongDigest"), ("ap-unknown-user", "UnknownUserName")):
        r = by_key[key]
        assert r.error is ErrorKind.AUTH, (key, r.detail)
        assert kind_text in r.detail and f"{key} {snmpd.host}:{snmpd.port}" in r.detail
    # A wrong privacy key passes authentication; AES-CFB "decrypts" to garbage that net-snmp cannot
    # parse, and it drops the request without a report. The agent did answer engine discovery,
    # which the detail points out.
    bad_priv_r = by_key["ap-bad-priv"]
    assert bad_priv_r.error is ErrorKind.TIMEOUT, bad_priv_r.detail
    assert "suspect the privacy key" in bad_priv_r.detail
    for r in results:
        assert AUTH_PASS not in r.detail and PRIV_PASS not in r.detail and "wrong-auth-key-1" not in r.detail


async def test_nobody_listening_is_a_timeout_naming_host_and_port(client):
    port = free_udp_port()
    target = Target("ap-dark", "127.0.0.1", port, V2cCredentials("public"), timeout=0.2, retries=2)
    await client.register([target])
    result = await client.probe(target)
    assert result.error is ErrorKind.TIMEOUT
    assert f"ap-dark 127.0.0.1:{port}" in result.detail and "3 attempts × 0.2 s" in result.detail


async def test_changed_credentials_replace_the_old_ones(snmpd, client):
    """Key rotation: the same AP re-registered with a new key set must use it, in the same engine."""
    old = v3(snmpd, key="ap-rotating", auth_key="old-auth-key-1", timeout=0.5, retries=0)
    await client.register([old])
    assert (await client.probe(old)).error is ErrorKind.AUTH
    new = v3(snmpd, key="ap-rotating")
    await client.register([new])
    result = await client.probe(new)
    assert result.ok, result.detail
    assert client.engine_count == 1


async def test_unregistered_target_is_registered_on_first_use(snmpd, client):
    result = await client.probe(v2c(snmpd, key="ap-late"))
    assert result.ok, result.detail


async def test_bad_credentials_are_reported_at_register_all_at_once(snmpd, client):
    bad1 = Target("ap-a", snmpd.host, snmpd.port, V3Credentials("u", "sha256", None, None, None))
    bad2 = Target("ap-b", snmpd.host, snmpd.port, V3Credentials("u2", None, None, "aes", PRIV_PASS))
    bad3 = Target("ap-c", snmpd.host, snmpd.port, V3Credentials("u3", "sha", "short7", "aes", PRIV_PASS))
    good = v2c(snmpd, key="ap-ok")
    with pytest.raises(ValueError) as err:
        await client.register([bad1, good, bad2, bad3])
    text = str(err.value)
    assert "ap-a" in text and "ap-b" in text and "ap-c: v3 user 'u3': auth_key shorter than 8" in text
    assert PRIV_PASS not in text and "short7" not in text
    assert (await client.probe(good)).ok  # the good one was still registered


# -- caps: a huge table cannot run away with a poll --------------------------------------------------


async def test_row_cap_truncates_and_says_so(snmpd, profiles):
    kernel = _kernel_interfaces()
    if len(kernel) < 3:
        pytest.skip("needs at least 3 network interfaces to show a cap of 2 rows")
    c = PysnmpClient(max_rows=2)
    try:
        target = v2c(snmpd)
        await c.register([target])
        result = await c.poll(target, profiles["generic"])
        assert result.ok, result.detail
        assert len(result.interfaces) == 2
        assert "stopped at 2 rows (cap)" in result.detail and f"{snmpd.host}:{snmpd.port}" in result.detail
    finally:
        await c.close()


async def test_request_cap_stops_the_walk(snmpd, profiles):
    kernel = _kernel_interfaces()
    if len(kernel) < 3:
        pytest.skip("needs at least 3 network interfaces")
    c = PysnmpClient(max_varbinds=3, max_requests=2)  # 3 columns × 1 row per request
    try:
        target = v2c(snmpd)
        await c.register([target])
        profile = Profile(name="interfaces-only", interfaces=profiles["generic"].interfaces)
        result = await c.poll(target, profile)
        assert result.ok, result.detail
        assert len(result.interfaces) == 2
        assert "stopped after 2 requests (cap)" in result.detail
    finally:
        await c.close()


# -- concurrency ------------------------------------------------------------------------------------


async def test_many_targets_bounded_in_flight_no_false_timeouts(snmpd, profiles):
    limit = 20
    c = PysnmpClient(max_in_flight=limit)
    try:
        targets = [v2c(snmpd, key=f"ap-{i:03d}", timeout=3.0, retries=0) for i in range(150)]
        targets += [v3(snmpd, key=f"ap-v3-{i:03d}", timeout=3.0, retries=0) for i in range(50)]
        await c.register(targets)
        # 4 MiB, or as much as net.core.rmem_max allows without CAP_NET_ADMIN.
        rmem_max = int(Path("/proc/sys/net/core/rmem_max").read_text())
        assert c.rcvbuf >= min(4 * 1024 * 1024, rmem_max)
        probes = await asyncio.gather(*(c.probe(t) for t in targets))
        polls = await asyncio.gather(*(c.poll(t, profiles["generic"]) for t in targets[:100]))
        failed = [r.detail for r in (*probes, *polls) if not r.ok]
        assert failed == []
        assert c.stats.in_flight_peak == limit  # the bound was reached …
        assert c.stats.timeouts == 0  # … and never exceeded into drops
    finally:
        await c.close()


# -- hostile peers ----------------------------------------------------------------------------------


async def test_hostile_agents_are_classified_and_do_not_disturb_a_healthy_one(snmpd, client, profiles):
    async with (
        hostile_agent("garbage") as (g_host, g_port, garbage),
        hostile_agent("wrong_request_id") as (w_host, w_port, wrong_id),
        hostile_agent("silent") as (s_host, s_port, silent),
    ):
        hostile = {
            "ap-garbage": Target(
                "ap-garbage", g_host, g_port, V2cCredentials("public"), timeout=0.5, retries=1
            ),
            "ap-wrong-id": Target(
                "ap-wrong-id", w_host, w_port, V2cCredentials("public"), timeout=0.5, retries=1
            ),
            "ap-silent": Target(
                "ap-silent", s_host, s_port, V2cCredentials("public"), timeout=0.5, retries=1
            ),
        }
        healthy = v2c(snmpd, key="ap-healthy")
        await client.register([*hostile.values(), healthy])

        async def healthy_polls() -> list:
            results = []
            # Keep polling the healthy agent for as long as the hostile exchanges last.
            while not all(p.done() for p in pending):
                results.append(await client.poll(healthy, profiles["generic"]))
            return results

        pending = [
            asyncio.ensure_future(client.probe(hostile["ap-garbage"])),
            asyncio.ensure_future(client.poll(hostile["ap-wrong-id"], profiles["generic"])),
            asyncio.ensure_future(client.probe(hostile["ap-silent"])),
        ]
        healthy_results = await healthy_polls()
        garbage_r, wrong_r, silent_r = [p.result() for p in pending]

    assert garbage.answered and wrong_id.answered and silent.answered  # each saw our requests
    assert garbage_r.error is ErrorKind.PROTOCOL
    assert "undecodable" in garbage_r.detail and f"ap-garbage {g_host}:{g_port}" in garbage_r.detail
    assert wrong_r.error is ErrorKind.TIMEOUT
    assert "matched no pending request" in wrong_r.detail and f"{w_host}:{w_port}" in wrong_r.detail
    assert silent_r.error is ErrorKind.TIMEOUT and "matched no pending" not in silent_r.detail
    assert f"ap-silent {s_host}:{s_port}" in silent_r.detail and "2 attempts × 0.5 s" in silent_r.detail

    assert len(healthy_results) >= 3
    assert all(r.ok for r in healthy_results), [r.detail for r in healthy_results if not r.ok]
    assert max(r.duration for r in healthy_results) < 0.5  # never held up by the hostile peers


async def test_close_releases_and_is_idempotent(snmpd):
    c = PysnmpClient()
    target = v2c(snmpd)
    await c.register([target])
    assert (await c.probe(target)).ok
    await c.close()
    await c.close()


# -- pure parts: the GETBULK table walk -------------------------------------------------------------

A = parse_oid("1.3.6.1.9.1")
B = parse_oid("1.3.6.1.9.2")


def _vb(col, idx, value):
    return (col + (idx,), value)


def test_walk_assembles_interleaved_columns_and_stops_at_subtree_end():
    walk = TableWalk([A, B], default_repetitions=3)
    req = walk.next_request()
    assert req.columns == (A, B) and req.start_oids == (A, B) and req.max_repetitions == 3
    assert req.non_repeaters == 0
    # Row-interleaved: A.1 B.1 A.2 B.2 A.3(left A's subtree: into B) B.3(END)
    walk.absorb(
        req, [_vb(A, 1, 10), _vb(B, 1, "x"), _vb(A, 2, 20), _vb(B, 2, "y"), _vb(B, 1, "x"), (B + (3,), END)]
    )
    assert walk.next_request() is None
    assert walk.rows == {A: {(1,): 10, (2,): 20}, B: {(1,): "x", (2,): "y"}}
    assert walk.missing == () and walk.notes == []


def test_walk_continues_a_column_that_was_cut_short():
    walk = TableWalk([A, B], default_repetitions=2)
    req = walk.next_request()
    walk.absorb(req, [_vb(A, 1, 1), _vb(B, 1, 1), _vb(A, 2, 2)])  # truncated reply: B got one row
    req2 = walk.next_request()
    assert req2.columns == (A, B) and req2.start_oids == (A + (2,), B + (1,))
    walk.absorb(req2, [(parse_oid("1.3.6.2"), 0), (parse_oid("1.3.6.2"), 0)])
    assert walk.finished and walk.rows[B] == {(1,): 1}


def test_walk_reports_missing_columns_and_agent_bugs():
    walk = TableWalk([A, B])
    req = walk.next_request()
    walk.absorb(req, [(parse_oid("1.3.6.1.9.3.1"), 5), _vb(B, 2, 1)])  # A absent, B fine so far
    req2 = walk.next_request()
    assert req2.columns == (B,)
    walk.absorb(req2, [_vb(B, 1, 1)])  # goes backwards
    assert walk.finished and walk.missing == (A,)
    assert any("non-increasing" in n for n in walk.notes)


def test_walk_caps_rows_and_requests():
    walk = TableWalk([A], max_rows=3, default_repetitions=2)
    walk.absorb(walk.next_request(), [_vb(A, 1, 0), _vb(A, 2, 0)])
    walk.absorb(walk.next_request(), [_vb(A, 3, 0), _vb(A, 4, 0)])
    assert walk.next_request() is None and len(walk.rows[A]) == 3
    assert walk.notes == ["column 1.3.6.1.9.1 stopped at 3 rows (cap)"]

    walk = TableWalk([A], max_requests=1, default_repetitions=1)
    walk.absorb(walk.next_request(), [_vb(A, 1, 0)])
    assert walk.next_request() is None and "cap" in walk.notes[0]


def test_walk_sizes_repetitions_from_last_time_and_budget():
    walk = TableWalk([A, B], expected_rows={A: 29, B: 20}, max_varbinds=200)
    req = walk.next_request()
    assert req.columns == (A, B) and req.max_repetitions == 30  # the longest table plus one to see its end
    walk = TableWalk([A, B], expected_rows={A: 290, B: 200}, max_varbinds=200)
    assert walk.next_request().max_repetitions == 100  # 2 columns × 100 = the varbind budget


def test_walk_asks_short_and_long_tables_separately():
    C = parse_oid("1.3.6.1.9.3")
    walk = TableWalk([A, B, C], expected_rows={A: 4, B: 29, C: 29})
    req = walk.next_request()
    assert (req.columns, req.max_repetitions) == ((B, C), 30)  # A would bring 25 objects past its end
    walk.absorb(req, [x for i in range(1, 30) for x in (_vb(B, i, 0), _vb(C, i, 0))] + [(A, 0), (A, 0)])
    req = walk.next_request()
    assert (req.columns, req.max_repetitions) == ((A,), 5)
    walk.absorb(req, [_vb(A, i, 0) for i in range(1, 5)] + [(B, 0)])
    assert walk.next_request() is None and walk.row_counts() == {A: 4, B: 29, C: 29}
    walk = TableWalk([A], default_repetitions=8)
    walk.next_request()
    assert walk.shrink() and walk.next_request().max_repetitions == 4


def test_walk_rechecks_columns_absent_last_time_with_one_getnext():
    walk = TableWalk([A, B], expected_rows={A: 0, B: 3})
    req = walk.next_request()
    assert (req.columns, req.non_repeaters, req.max_repetitions) == ((A, B), 1, 4)
    # Non-repeater first, then B's repetitions; A has appeared since last time.
    walk.absorb(req, [_vb(A, 1, 7), _vb(B, 1, 0), _vb(B, 2, 0), _vb(B, 3, 0), (parse_oid("1.3.6.1.9.3"), 0)])
    req2 = walk.next_request()
    assert (req2.columns, req2.non_repeaters) == ((A,), 0)  # now walked as a table
    walk.absorb(req2, [(parse_oid("1.3.6.1.9.2.1"), 0)])
    assert walk.finished and walk.rows[A] == {(1,): 7} and len(walk.rows[B]) == 3

    walk = TableWalk([A], expected_rows={A: 0})
    req = walk.next_request()
    assert (req.non_repeaters, req.max_repetitions) == (1, 0)
    walk.absorb(req, [(parse_oid("1.3.6.1.9.2.1"), 0)])
    assert walk.finished and walk.missing == (A,)


def test_walk_gives_up_on_empty_replies():
    walk = TableWalk([A])
    walk.absorb(walk.next_request(), [])
    assert walk.next_request() is None and "empty" in walk.notes[0]


# -- pure parts: mapping columns into PollResult fields ---------------------------------------------


def test_mapping_uses_wire_counter_width_and_decodes_text(profiles):
    generic = profiles["generic"]
    tables = {
        "1.3.6.1.2.1.31.1.1.1.1": {"1": b"eth0\x00", "2": b"wlan0"},
        "1.3.6.1.2.1.31.1.1.1.6": {"1": Counter32(5), "2": Counter64(2**40)},
        "1.3.6.1.2.1.31.1.1.1.10": {"1": Counter32(7)},
        "1.3.6.1.2.1.25.3.3.1.2": {"196608": 30, "196609": 50},
    }
    fields = map_tables(generic, tables, set())
    eth0, wlan0 = fields.interfaces
    assert (eth0.name, eth0.in_octets, eth0.out_octets, eth0.counter_bits) == ("eth0", 5, 7, 32)
    assert (wlan0.name, wlan0.in_octets, wlan0.out_octets, wlan0.counter_bits) == ("wlan0", 2**40, None, 64)
    assert fields.cpu_ratio == pytest.approx(0.4)
    assert as_text(b"\xffok ") == "\ufffdok"


def test_mapping_names_missing_profile_fields(profiles):
    unifi = profiles["unifi"]
    fields = map_tables(unifi, {}, {"1.3.6.1.4.1.41112.1.6.1.2.1.8", "1.3.6.1.2.1.25.3.3.1.2"})
    assert set(fields.missing) == {"clients[0].count", "cpu_load_percent"}
    assert fields.clients == () and fields.cpu_ratio is None


async def test_column_at_the_end_of_the_mib_is_missing_not_an_error(snmpd, client, profiles):
    """GETBULK past the agent's last object answers endOfMibView: the column is absent, that is all."""
    profile = Profile(
        name="end-of-mib", cpu_load_percent="1.9.9.9", interfaces=profiles["generic"].interfaces
    )
    target = v2c(snmpd)
    await client.register([target])
    result = await client.poll(target, profile)
    assert result.ok, result.detail
    assert result.missing == ("cpu_load_percent",) and result.cpu_ratio is None
    assert result.detail == ""  # no agent-misbehaviour notes: endOfMibView is a clean end
    assert {i.index: i.name for i in result.interfaces} == _kernel_interfaces()


@pytest.fixture(scope="module")
def odd_agents(tmp_path_factory: pytest.TempPathFactory):
    """snmpsim with two small hand-written recordings: an agent that answers sysUpTime as a Counter64,
    and one whose interface walk answers 0.8 s late (snmpsim's delay variation)."""
    from tests.agents import snmpsim_agent

    work = tmp_path_factory.mktemp("odd")
    data = work / "data"
    data.mkdir()
    common = "1.3.6.1.2.1.1.1.0|4|Linux ap\n1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10\n"
    (data / "counter64-uptime.snmprec").write_text(common + "1.3.6.1.2.1.1.3.0|70|18000000000000000000\n")
    (data / "slow-walk.snmprec").write_text(
        common + "1.3.6.1.2.1.1.3.0|67|123456\n1.3.6.1.2.1.31.1.1.1.1.1|4:delay|value=eth0,wait=800\n"
        "1.3.6.1.2.1.31.1.1.1.6.1|70|1000\n1.3.6.1.2.1.31.1.1.1.10.1|70|2000\n")
    with snmpsim_agent(data, work, probe_community="slow-walk") as agent:
        yield agent


async def test_an_uptime_of_the_wrong_type_is_a_protocol_error_never_a_value(odd_agents, client, profiles):
    target = Target("ap-c64", odd_agents.host, odd_agents.port, V2cCredentials("counter64-uptime"), timeout=3.0)
    probe = await client.probe(target)
    assert probe.error is ErrorKind.PROTOCOL and probe.uptime_ticks is None
    # The detail gives the value, not its SNMP type: gufo-snmp cannot say the type, and both engines say the same.
    assert "integer 18000000000000000000, not TimeTicks" in probe.detail and "ap-c64" in probe.detail
    poll = await client.poll(target, profiles["generic"])
    assert poll.ok and poll.uptime_ticks is None and poll.uptime_window is None
    assert len(poll.protocol_errors) == 1 and "integer 18000000000000000000" in poll.protocol_errors[0]
    assert "uptime" not in poll.missing  # it was there, of the wrong type: not the same thing


async def test_a_poll_dates_its_uptime_by_the_request_that_read_it(odd_agents, client, profiles):
    target = Target("ap-slow", odd_agents.host, odd_agents.port, V2cCredentials("slow-walk"), timeout=3.0)
    poll = await client.poll(target, profiles["generic"])
    assert poll.ok and poll.uptime_ticks == 123456, poll.detail
    assert poll.uptime_window is not None
    sent, answered = poll.uptime_window
    end = poll.started_at + poll.duration
    assert poll.started_at <= sent <= answered and answered < end - 0.7  # the walk took 0.8 s more
    probe = await client.probe(target)
    assert probe.uptime_window is not None
    assert probe.started_at <= probe.uptime_window[0] <= probe.uptime_window[1] <= probe.started_at + probe.duration


def _flood(address: tuple[str, int], n: int = 3000) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _ in range(n):
            s.sendto(b"x" * 1000, address)


async def test_receive_drops_count_the_clients_own_sockets_only(snmpd):
    """Replies dropped on our socket (buffer full) are what makes answered polls time out; drops on
    another socket of the host are not ours to report."""
    if socket_drops(set()) is None:
        pytest.skip("no /proc/net/udp (not Linux)")
    client = PysnmpClient(rcvbuf=4096)  # a tiny buffer the kernel fills at once
    try:
        target = v2c(snmpd)
        await client.register([target])
        assert (await client.probe(target)).ok  # the kernel binds the socket at its first send
        assert client.receive_drops() == 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
            other.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            other.bind(("127.0.0.1", 0))
            _flood(other.getsockname())  # never read: the kernel drops most of it, on that socket
            other_drops = socket_drops({os.fstat(other.fileno()).st_ino})
            assert other_drops and other_drops > 0
            assert client.receive_drops() == 0  # the host's drops are not the client's
        [(host, port)] = client.local_addresses
        _flood(("127.0.0.1" if host in ("0.0.0.0", "") else host, port))  # the loop does not run meanwhile, so nothing is read: ours drop
        ours = client.receive_drops()
        assert ours and ours > 1000
    finally:
        await client.close()
