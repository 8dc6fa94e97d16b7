"""Both SNMP engines give the same results: every recording, net-snmp v2c and every v3 pair, and every failure.

One parametrised test polls each case with pysnmp (:class:`~collectors.snmp.PysnmpClient`) and gufo-snmp
(:class:`~collectors.fast_snmp.GufoClient`) and compares what the monitor gets: the identity and profile
picked, the full PollResult and the probe. Times and values that move between two reads of a live agent
(timestamps, sysUpTime, octet counters of snmpd's own interfaces) are compared for presence only, and a
failure's detail, which names the engine's own view of it, only by the kind. The pure choice of engine
is tested at the end.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from collectors.engines import RoutedClient, choose_engine, summary
from collectors.fast_snmp import FD_RESERVE, GufoClient, fd_needed
from collectors.identify import identify_device
from collectors.profile import Profile
from collectors.snmp import PysnmpClient
from collectors.types import PollResult, ProbeResult, Target, V2cCredentials, V3Credentials
from tests import vendor_coverage as vc
from tests.agents import Agent, SnmpdUser, hostile_agent, snmpd_agent, snmpsim_agent
from tests.ports import free_udp_port

pytestmark = pytest.mark.integration

RECORDINGS = vc.recordings()
COMMUNITY = "wifimon-engines"
AUTH_PASS = "auth-pass-123"
PRIV_PASS = "priv-pass-456"
# (our names) ↔ (net-snmp's): every authentication protocol, every privacy protocol, and authNoPriv.
V3_PAIRS = [
    ("md5", "des", "MD5", "DES"),
    ("md5", "aes", "MD5", "AES"),
    ("sha", "aes", "SHA", "AES"),
    ("sha", "des", "SHA", "DES"),
    ("sha224", "aes192", "SHA-224", "AES-192"),
    ("sha256", "aes", "SHA-256", "AES"),
    ("sha256", "aes256", "SHA-256", "AES-256"),
    ("sha384", "aes256", "SHA-384", "AES-256"),
    ("sha512", "aes192", "SHA-512", "AES-192"),
    ("sha256", None, "SHA-256", None),
]


NOAUTH_USER = "e-noauth"


def _user(auth: str, priv: str | None) -> str:
    return f"e-{auth}-{priv or 'nopriv'}"


def _v3(agent: Agent, key: str, auth: str, priv: str | None, *, user: str | None = None,
        auth_pass: str = AUTH_PASS, priv_pass: str = PRIV_PASS) -> Target:
    creds = V3Credentials(user or _user(auth, priv), auth, auth_pass, priv, priv_pass if priv else None)  # type: ignore[arg-type]
    return Target(key, agent.host, agent.port, creds, timeout=1.0, retries=1)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    if not RECORDINGS:
        pytest.skip("no recordings in shared/snmprec")
    work = tmp_path_factory.mktemp("engines-sim")
    vc.write_sorted(RECORDINGS, work / "data")
    with snmpsim_agent(work / "data", work, probe_community=RECORDINGS[0]) as agent:
        yield agent


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    users = [SnmpdUser(_user(a, p), na, AUTH_PASS, np, PRIV_PASS) for a, p, na, np in V3_PAIRS]
    noauth = f"createUser {NOAUTH_USER}\nrouser {NOAUTH_USER} noauth\n"  # SnmpdUser always authenticates
    with snmpd_agent(tmp_path_factory.mktemp("engines-snmpd"), community=COMMUNITY, users=users,
                     extra_conf=noauth) as agent:
        yield agent


def _settled(result: PollResult | ProbeResult, live: bool) -> Any:
    """A result without what legitimately differs between two reads: times, and on a live agent its clock and
    traffic counters; a failure's detail is the engine's own words, so only its kind stays."""
    common: dict[str, Any] = {"started_at": 0.0, "duration": 0.0, "uptime_window": None}
    if not result.ok:
        common["detail"] = ""
    if live:
        common["uptime_ticks"] = result.uptime_ticks is not None
    if isinstance(result, PollResult) and live:
        common["interfaces"] = tuple(
            dataclasses.replace(i, in_octets=i.in_octets is not None, out_octets=i.out_octets is not None)
            for i in result.interfaces)
    return dataclasses.replace(result, **common)


async def _both(target: Target, profiles: dict[str, Profile], live: bool,
                identify: bool = True) -> tuple[list[Any], list[Any]]:
    """What each engine reads of ``target``: identity and chosen profile, the full poll, a probe."""
    seen: list[list[Any]] = []
    for client in (PysnmpClient(), GufoClient()):
        try:
            await client.register([target])
            if identify:
                profile, identity = await identify_device(client, target, profiles)
                got: list[Any] = [profile.name, identity.error, identity.sys_object_id, identity.sys_descr,
                                  identity.probes_answered]
            else:
                profile, got = profiles["generic"], []
            got.append(_settled(await client.poll(target, profile), live))
            got.append(_settled(await client.probe(target), live))
            seen.append(got)
        finally:
            await client.close()
    return seen[0], seen[1]


@pytest.mark.parametrize("name", RECORDINGS)
async def test_recording_reads_the_same_on_both_engines(recorded, profiles, name):
    target = Target(f"rec-{name}", recorded.host, recorded.port, V2cCredentials(name), timeout=3.0, retries=1)
    pysnmp, gufo = await _both(target, profiles, live=False)
    assert pysnmp[-2].ok, pysnmp[-2].detail  # a recording that fails would prove little
    assert gufo == pysnmp


@pytest.mark.parametrize(("auth", "priv"), [("v2c", None), ("noauth", None)] + [(a, p) for a, p, _, _ in V3_PAIRS],
                         ids=lambda v: v or "nopriv")
async def test_snmpd_reads_the_same_on_both_engines(snmpd, profiles, auth, priv):
    if auth == "v2c":
        target = Target("snmpd-v2c", snmpd.host, snmpd.port, V2cCredentials(COMMUNITY), timeout=1.0, retries=1)
    elif auth == "noauth":
        target = Target("snmpd-noauth", snmpd.host, snmpd.port, V3Credentials(NOAUTH_USER), timeout=1.0, retries=1)
    else:
        target = _v3(snmpd, f"snmpd-{auth}-{priv}", auth, priv)
    pysnmp, gufo = await _both(target, profiles, live=True)
    assert pysnmp[-2].ok, pysnmp[-2].detail
    assert pysnmp[-2].interfaces, "snmpd has interfaces: the walk was compared on something"
    assert gufo == pysnmp


FAILURES = {
    "v2c wrong community": (lambda a: Target("bad-community", a.host, a.port, V2cCredentials("not-it"),
                                             timeout=0.3, retries=1), "timeout"),
    "v3 wrong auth key": (lambda a: _v3(a, "bad-auth", "sha256", "aes", auth_pass="wrong-auth-pass"), "auth_error"),
    "v3 unknown user": (lambda a: _v3(a, "bad-user", "sha256", "aes", user="nobody-here"), "auth_error"),
    "v3 wrong priv key": (lambda a: dataclasses.replace(
        _v3(a, "bad-priv", "sha256", "aes", priv_pass="wrong-priv-pass"), timeout=0.3), "timeout"),
    "v3 wrong auth protocol": (lambda a: _v3(a, "bad-proto", "sha512", "aes", user=_user("sha256", "aes")),
                               "auth_error"),
}


@pytest.mark.parametrize("case", list(FAILURES))
async def test_snmpd_failures_are_classified_the_same(snmpd, profiles, case):
    make, kind = FAILURES[case]
    pysnmp, gufo = await _both(make(snmpd), profiles, live=True, identify=False)
    assert [r.error for r in pysnmp] == [kind, kind], [r.detail for r in pysnmp]
    assert gufo == pysnmp


@pytest.mark.parametrize("mode", ["garbage", "wrong_request_id", "silent"])
async def test_hostile_agents_are_classified_the_same(profiles, mode):
    expected = {"garbage": "protocol_error", "wrong_request_id": "timeout", "silent": "timeout"}[mode]
    async with hostile_agent(mode) as (host, port, agent):
        target = Target(f"hostile-{mode}", host, port, V2cCredentials(COMMUNITY), timeout=0.3, retries=1)
        pysnmp, gufo = await _both(target, profiles, live=True, identify=False)
        assert agent.answered or mode == "silent"
    assert [r.error for r in pysnmp] == [expected, expected], [r.detail for r in pysnmp]
    assert gufo == pysnmp


async def test_nothing_listening_is_a_timeout_on_both(profiles):
    """A closed port: gufo's connected socket hears ICMP port unreachable, pysnmp's does not; both time out."""
    target = Target("closed", "127.0.0.1", free_udp_port(), V2cCredentials(COMMUNITY), timeout=0.3, retries=1)
    pysnmp, gufo = await _both(target, profiles, live=True, identify=False)
    assert [r.error for r in pysnmp] == ["timeout", "timeout"]
    assert gufo == pysnmp


# -- the choice of engine (pure) ------------------------------------------------------------------------


def _target(host: str = "10.0.0.1", creds: Any = None) -> Target:
    return Target("ap", host, 161, creds or V2cCredentials("c"))


def test_auto_picks_gufo_for_every_credential_wifimon_accepts():
    for auth, priv, _, _ in V3_PAIRS:
        creds = V3Credentials("u", auth, AUTH_PASS, priv, PRIV_PASS if priv else None)  # type: ignore[arg-type]
        assert choose_engine(_target(creds=creds), "auto", "").engine == "gufo"
    assert choose_engine(_target(), "auto", "").engine == "gufo"


def test_auto_falls_back_to_pysnmp_and_says_why():
    zoned = choose_engine(_target("fe80::1%eth0"), "auto", "")
    assert zoned.engine == "pysnmp" and "zone" in zoned.reason
    missing = choose_engine(_target(), "auto", "gufo-snmp is not installed")
    assert missing.engine == "pysnmp" and "not installed" in missing.reason
    assert choose_engine(_target(), "pysnmp", "").engine == "pysnmp"
    assert summary([_target(), _target("fe80::1%eth0"), _target("10.0.0.2")], "auto", "") == [
        "gufo: 2 target(s)", "pysnmp: 1 target(s) (an IPv6 address with a zone index, which gufo-snmp cannot parse)"]


def test_forcing_gufo_where_it_is_missing_is_refused(monkeypatch):
    monkeypatch.setattr("collectors.engines.gufo_missing", lambda: "gufo-snmp is not installed")
    with pytest.raises(ValueError, match="snmp_engine: gufo"):
        RoutedClient("gufo")


def test_register_raises_the_open_files_limit_to_one_socket_per_target():
    import resource

    assert fd_needed(10_000) == 10_000 + FD_RESERVE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
    client = GufoClient()
    try:
        targets = [Target(f"ap-{i}", "127.0.0.1", 9 + i, V2cCredentials("c")) for i in range(3)]
        asyncio.run(client.register(targets))
        assert client.sockets == 3
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == fd_needed(3)
    finally:
        asyncio.run(client.close())
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# -- what gufo-snmp cannot see: values without their SNMP type, error-status other than authorizationError --

TYPES = {  # community → the recording's lines (sysDescr and sysObjectID as everywhere)
    "uptime-counter64-big": "1.3.6.1.2.1.1.3.0|70|1099511627776",
    "uptime-text": "1.3.6.1.2.1.1.3.0|4|12345",
    "uptime-integer": "1.3.6.1.2.1.1.3.0|2|12345",
    "uptime-generr": "1.3.6.1.2.1.1.3.0|67:error|op=get,status=genError,value=5",
    "uptime-denied": "1.3.6.1.2.1.1.3.0|67:error|op=get,status=authorizationError,value=5",
    "slow-link": "1.3.6.1.2.1.1.3.0|67:delay|value=5,wait=250",
}


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    work = tmp_path_factory.mktemp("engines-types")
    (work / "data").mkdir()
    for name, line in TYPES.items():
        (work / "data" / f"{name}.snmprec").write_text(
            f"1.3.6.1.2.1.1.1.0|4|Linux test\n1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10\n{line}\n")
    with snmpsim_agent(work / "data", work, probe_community="uptime-text") as agent:
        yield agent


@pytest.mark.parametrize("name", ["uptime-counter64-big", "uptime-text", "uptime-denied"])
async def test_wrong_types_and_refusals_both_engines_see(typed, profiles, name):
    target = Target(name, typed.host, typed.port, V2cCredentials(name), timeout=1.0, retries=1)
    pysnmp, gufo = await _both(target, profiles, live=False, identify=False)
    poll, probe = pysnmp
    if name == "uptime-denied":
        assert (poll.error, probe.error) == ("auth_error", "auth_error")
    else:
        assert poll.ok and poll.uptime_ticks is None and "not TimeTicks" in poll.protocol_errors[0]
        assert probe.error == "protocol_error"
    assert gufo == pysnmp


async def test_what_gufo_cannot_see(typed, profiles):
    """Documented limits (collectors/fast_snmp.py): an INTEGER uptime in TimeTicks' range passes on gufo,
    and a genErr answer reads as a missing object. This fails the day gufo-snmp keeps types."""
    for name, on_pysnmp, on_gufo in (("uptime-integer", "protocol_error", None),
                                     ("uptime-generr", "snmp_error", "no_such_object")):
        target = Target(name, typed.host, typed.port, V2cCredentials(name), timeout=1.0, retries=1)
        pysnmp, gufo = await _both(target, profiles, live=False, identify=False)
        assert (pysnmp[1].error, gufo[1].error) == (on_pysnmp, on_gufo), (pysnmp[1].detail, gufo[1].detail)


@pytest.mark.parametrize(("setting", "engine"), [("auto", "gufo"), ("pysnmp", "pysnmp"), ("gufo", "gufo")])
async def test_the_routed_client_polls_each_target_on_its_engine(snmpd, profiles, setting, engine):
    client = RoutedClient(setting)
    targets = [Target("r-v2c", snmpd.host, snmpd.port, V2cCredentials(COMMUNITY), timeout=1.0, retries=1),
               _v3(snmpd, "r-v3", "sha256", "aes")]
    try:
        await client.register(targets)
        assert client.counts == {engine: 2}
        for target in targets:
            assert (await client.probe(target)).ok
            assert (await client.poll(target, profiles["generic"])).interfaces
        assert client.stats.requests >= 4 and client.receive_drops() == 0
    finally:
        await client.close()


async def test_a_host_name_is_resolved_by_both(snmpd, profiles):
    target = Target("by-name", "localhost", snmpd.port, V2cCredentials(COMMUNITY), timeout=1.0, retries=1)
    pysnmp, gufo = await _both(target, profiles, live=True, identify=False)
    assert pysnmp[0].ok, pysnmp[0].detail
    assert gufo == pysnmp


async def test_auto_moves_a_slow_link_to_pysnmp(typed, profiles):
    """gufo-snmp asks one column per round trip: on a slow link (here 250 ms) pysnmp's multi-column GETBULK
    is the better engine, and ``auto`` moves the target there once its answers show it, and only it."""
    target = Target("slow", typed.host, typed.port, V2cCredentials("slow-link"), timeout=2.0, retries=0)
    # The fleet it is slow against: answers without the delay (their uptimes are of the wrong type; no matter).
    fast = [Target(f"fast-{n}", typed.host, typed.port, V2cCredentials(n), timeout=2.0, retries=0)
            for n in ("uptime-text", "uptime-integer", "uptime-counter64-big")]
    client = RoutedClient("auto")
    try:
        await client.register([target, *fast])
        assert client.counts == {"gufo": 4}
        for t in fast:
            await client.probe(t)
        first = [await client.probe(target) for _ in range(2)]
        assert all(r.ok for r in first), [r.detail for r in first]
        assert (await client.probe(target)).ok
        for t in fast:
            await client.probe(t)
        assert client.counts == {"pysnmp": 1, "gufo": 3}
    finally:
        await client.close()
