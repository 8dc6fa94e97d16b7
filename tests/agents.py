"""Real SNMP agents on loopback for tests: net-snmp ``snmpd``, snmpsim, and small hostile ones.

Context managers, importable from any test module (fixtures stay in the test modules):

    with snmpd_agent(tmp_path, community="public", users=[SnmpdUser(...)]) as agent:
        agent.host, agent.port
    with snmpsim_agent(data_dir, tmp_path, probe_community="unifi_nanohd") as agent: ...
    async with hostile_agent("garbage") as (host, port): ...

Every agent binds 127.0.0.1 on a free port, is waited for with a real SNMP GET (deadline, no
sleeps), and is stopped by its own process handle. A missing tool skips the test with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from collections.abc import AsyncIterator, Callable, Iterator, Sequence

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api
from tests.ports import free_udp_port

HOST = "127.0.0.1"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
_V2C = api.v2c


@dataclass(frozen=True)
class Agent:
    host: str
    port: int
    log: Path  # the agent's own output, for failure messages
    pid: int = 0  # its process, for a test that stops and continues it (SIGSTOP / SIGCONT)


@dataclass(frozen=True)
class SnmpdUser:
    """A v3 user for snmpd.conf ``createUser``: net-snmp spellings (``SHA-256``, ``AES``)."""

    name: str
    auth: str = "SHA-256"
    auth_pass: str = "auth-pass-123"
    priv: str | None = "AES"
    priv_pass: str = "priv-pass-456"

    def conf(self) -> str:
        priv = f' {self.priv} "{self.priv_pass}"' if self.priv else ""
        level = "authpriv" if self.priv else "auth"
        return f'createUser {self.name} {self.auth} "{self.auth_pass}"{priv}\nrouser {self.name} {level}\n'


def shared_dir() -> Path | None:
    """``/work/shared`` next to the repo, or $WIFIMON_SHARED; None when neither exists."""
    candidate = Path(__file__).resolve().parents[2] / "shared"
    if candidate.is_dir():
        return candidate
    env = os.environ.get("WIFIMON_SHARED")
    return Path(env) if env and Path(env).is_dir() else None




def v2c_get(community: str, oid: str, request_id: int) -> bytes:
    """A BER-encoded SNMPv2c GetRequest."""
    pdu = _V2C.GetRequestPDU()
    _V2C.apiPDU.set_defaults(pdu)
    _V2C.apiPDU.set_request_id(pdu, request_id)
    _V2C.apiPDU.set_varbinds(pdu, [(oid, _V2C.Null(""))])
    msg = _V2C.Message()
    _V2C.apiMessage.set_defaults(msg)
    _V2C.apiMessage.set_community(msg, community)
    _V2C.apiMessage.set_pdu(msg, pdu)
    return encoder.encode(msg)


def wait_for_agent(
    host: str, port: int, community: str, deadline_s: float, proc: subprocess.Popen[bytes], log: Path
) -> None:
    """Send v2c GETs until one is answered; fail with the agent's log if it exits or the deadline passes."""
    end = time.monotonic() + deadline_s
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.1)
        request_id = 1
        while time.monotonic() < end:
            if proc.poll() is not None:
                raise RuntimeError(f"agent on {host}:{port} exited with {proc.returncode}:\n{_tail(log)}")
            s.sendto(v2c_get(community, SYS_UPTIME, request_id), (host, port))
            request_id += 1
            try:
                s.recvfrom(65535)
                return
            except (TimeoutError, ConnectionRefusedError):
                continue
    raise TimeoutError(f"agent on {host}:{port} did not answer within {deadline_s:.0f} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextlib.contextmanager
def _started(
    make_cmd: Callable[[int], list[str]],
    env: dict[str, str],
    log: Path,
    community: str,
    deadline_s: float,
) -> Iterator[Agent]:
    """Start on a free port; another process may grab the port in between, so try a few."""
    last: Exception | None = None
    for _ in range(3):
        port = free_udp_port()
        with log.open("ab") as out:
            proc = subprocess.Popen(make_cmd(port), stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            wait_for_agent(HOST, port, community, deadline_s, proc, log)
        except (RuntimeError, TimeoutError) as exc:
            _stop(proc)
            last = exc
            continue
        try:
            yield Agent(HOST, port, log, proc.pid)
        finally:
            _stop(proc)
        return
    raise RuntimeError(f"could not start agent: {last}")


@contextlib.contextmanager
def snmpd_agent(
    workdir: Path,
    *,
    community: str = "public",
    users: Sequence[SnmpdUser] = (),
    extra_conf: str = "",
    deadline_s: float = 10.0,
) -> Iterator[Agent]:
    """net-snmp snmpd on 127.0.0.1:<free port> with a v2c ``rocommunity`` and v3 users."""
    snmpd = shutil.which("snmpd") or ("/usr/sbin/snmpd" if Path("/usr/sbin/snmpd").exists() else None)
    if snmpd is None:
        pytest.skip("net-snmp snmpd is not installed (apt-get install snmpd)")
    workdir.mkdir(parents=True, exist_ok=True)
    persist = workdir / "persist"
    persist.mkdir(exist_ok=True)
    conf = workdir / "snmpd.conf"
    conf.write_text(
        f"rocommunity {community} 127.0.0.1\n"
        + "".join(u.conf() for u in users)
        + "dontLogTCPWrappersConnects yes\n"
        + extra_conf
    )
    # SNMP_PERSISTENT_DIR: even with -C, snmpd would otherwise use /var/lib/snmp (SNMP-NOTES).
    # MIBS empty: snmpd needs no MIB files, and loading them only fills the log with warnings.
    env = {**os.environ, "SNMP_PERSISTENT_DIR": str(persist), "MIBS": ""}

    def cmd(port: int) -> list[str]:
        # The address goes on the command line: agentaddress in the file is cut at 2,560 chars.
        return [snmpd, "-f", "-Lo", "-C", "-c", str(conf), f"udp:{HOST}:{port}"]

    with _started(cmd, env, workdir / "snmpd.log", community, deadline_s) as agent:
        yield agent


@contextlib.contextmanager
def snmpsim_agent(
    data_dir: Path, workdir: Path, *, probe_community: str, deadline_s: float = 30.0
) -> Iterator[Agent]:
    """snmpsim serving the ``*.snmprec`` files of ``data_dir`` (community = file name without suffix).

    ``probe_community`` must name one of the files: the readiness check GETs through it.
    """
    responder = Path(sys.executable).parent / "snmpsim-command-responder"
    if not responder.exists():
        found = shutil.which("snmpsim-command-responder")
        if found is None:
            pytest.skip("snmpsim is not installed (pip install snmpsim==1.2.2 pysmi)")
        responder = Path(found)
    try:
        import pysmi  # noqa: F401  -- snmpsim needs it but does not declare it
    except ImportError:
        pytest.skip("pysmi is not installed; snmpsim needs it (pip install pysmi)")
    workdir.mkdir(parents=True, exist_ok=True)
    cache = workdir / "snmpsim-cache"
    cache.mkdir(exist_ok=True)
    env = dict(os.environ)
    if os.geteuid() == 0:
        # As root snmpsim insists on dropping to another user, who then cannot read a virtualenv
        # under a root-only home ("no dbm clone found"). Its own escape hatch keeps it root.
        env["SNMPSIM_ALLOW_ROOT"] = "true"

    def cmd(port: int) -> list[str]:
        return [
            str(responder),
            f"--data-dir={data_dir}",
            f"--cache-dir={cache}",  # on the real command line: ignored inside --args-from-file
            f"--agent-udpv4-endpoint={HOST}:{port}",
            "--log-level=error",
        ]

    with _started(cmd, env, workdir / "snmpsim.log", probe_community, deadline_s) as agent:
        yield agent


def copy_recordings(src: Path, dst: Path, names: Sequence[str] | None = None) -> list[str]:
    """Copy ``*.snmprec`` files (all, or the named ones) into a scratch data dir; returns the names."""
    dst.mkdir(parents=True, exist_ok=True)
    copied = []
    for path in sorted(src.glob("*.snmprec")):
        if names is None or path.stem in names:
            shutil.copyfile(path, dst / path.name)
            copied.append(path.stem)
    return copied


# -- hostile agents -------------------------------------------------------------------------------

HostileMode = Literal["garbage", "wrong_request_id", "silent"]


class _Hostile(asyncio.DatagramProtocol):
    """Answers every datagram badly: bytes that are not SNMP, a reply to another request-id, or nothing."""

    def __init__(self, mode: HostileMode) -> None:
        self.mode = mode
        self.transport: asyncio.DatagramTransport | None = None
        self.received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received += 1
        assert self.transport is not None
        if self.mode == "garbage":
            self.transport.sendto(b"\xde\xad\xbe\xef not SNMP at all \x00\x01", addr)
        elif self.mode == "wrong_request_id":
            self.transport.sendto(_mismatched_response(data), addr)

    @property
    def answered(self) -> bool:
        return self.received > 0


def _mismatched_response(request: bytes) -> bytes:
    """A well-formed v2c GetResponse carrying sysUpTime, but for request-id + 1000."""
    msg, _ = decoder.decode(request, asn1Spec=_V2C.Message())
    req_pdu = _V2C.apiMessage.get_pdu(msg)
    rsp_pdu = _V2C.apiPDU.get_response(req_pdu)
    _V2C.apiPDU.set_request_id(rsp_pdu, (int(_V2C.apiPDU.get_request_id(req_pdu)) + 1000) % 2**31)
    _V2C.apiPDU.set_varbinds(
        rsp_pdu, [(oid, _V2C.TimeTicks(12345)) for oid, _ in _V2C.apiPDU.get_varbinds(req_pdu)]
    )
    _V2C.apiMessage.set_pdu(msg, rsp_pdu)
    return encoder.encode(msg)


@contextlib.asynccontextmanager
async def hostile_agent(mode: HostileMode) -> AsyncIterator[tuple[str, int, _Hostile]]:
    """A misbehaving UDP 'agent' on 127.0.0.1:<free port> in this event loop: (host, port, protocol)."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(lambda: _Hostile(mode), local_addr=(HOST, 0))
    try:
        host, port = transport.get_extra_info("sockname")[:2]
        yield host, port, protocol
    finally:
        transport.close()
