"""Hostile datagrams for the trap receiver (tests and bench/chaos.py): what a flood is made of, and a
flooder that sends them from another process, as an attacker would (its sending does not compete with the
receiver's process for the GIL).

The templates are real traps, as net-snmp's ``snmptrap`` sends them, caught on a socket of ours."""

from __future__ import annotations

import os
import pickle
import random
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1"
V3_USER = "wifimon-trap"
V3_AUTH, V3_PRIV = "trap-auth-pass", "trap-priv-pass"
V3_ARGS = ["-v3", "-u", V3_USER, "-l", "authPriv", "-a", "SHA-256", "-A", V3_AUTH, "-x", "AES", "-X", V3_PRIV]
ENGINE_ID = "80001f8804" + "77696669"  # the engine ID the v3 template carries (9 octets)

_FLOOD = """
import pickle, socket, sys
kinds = pickle.loads(open(sys.argv[1], "rb").read())
host, port, count, sources = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
socks = {}
for src in sources:
    if src not in socks:
        socks[src] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        socks[src].bind((src, 0))
for i in range(count):
    socks[sources[i % len(sources)]].sendto(kinds[i % len(kinds)], (host, port))
"""


def captured(tmp: Path, *args: str) -> bytes:
    """One datagram as ``snmptrap ARGS`` sends it (a linkDown for ifIndex 2), never delivered."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(10)
        env = dict(os.environ, SNMP_PERSISTENT_DIR=str(tmp), SNMPCONFPATH=str(tmp))
        subprocess.run(["snmptrap", *args, f"127.0.0.1:{s.getsockname()[1]}", "", LINK_DOWN, f"{IF_INDEX}.2", "i",
                        "2"], check=True, env=env, timeout=10, capture_output=True)
        return s.recv(65536)


def v3_template(tmp: Path) -> bytes:
    """A v3 trap of our user (SHA-256/AES) carrying ENGINE_ID."""
    return captured(tmp, *V3_ARGS, "-e", "0x" + ENGINE_ID)


def hostile_datagrams(tmp: Path, rng: random.Random, community: str) -> list[bytes]:
    """Random bytes, a 60 KB packet, truncated and bit-flipped v2c and v3 traps, and v3 traps for our user
    under random engine IDs (their digests cannot match)."""
    v2c = captured(tmp, "-v2c", "-c", community)
    v3 = v3_template(tmp)
    engine = bytes.fromhex(ENGINE_ID)
    out = [rng.randbytes(rng.randint(1, 1400)) for _ in range(50)] + [rng.randbytes(60_000)]
    for msg in (v2c, v3):
        out += [msg[: rng.randint(1, len(msg) - 1)] for _ in range(50)]
        for _ in range(50):
            flipped = bytearray(msg)
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
            out.append(bytes(flipped))
    out += [v3.replace(engine, rng.randbytes(len(engine))) for _ in range(500)]
    return out


def flood_command(tmp: Path, kinds: Sequence[bytes], host: str, port: int, count: int,
                  sources: Sequence[str]) -> list[str]:
    """The command that sends ``count`` datagrams, ``kinds`` in turn, from ``sources`` in turn."""
    path = tmp / "flood-kinds.pickle"
    path.write_bytes(pickle.dumps(list(kinds)))
    return [sys.executable, "-c", _FLOOD, str(path), host, str(port), str(count), *sources]
