"""Free loopback ports for the real peers the tests start (the kernel picks; a caller retries if one is
taken before its server binds it)."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_tcp_udp_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` for TCP and UDP both right now (Alertmanager's gossip listens on both: a port
    free for TCP may be some SNMP client's UDP socket)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            tcp.bind((host, 0))
            port: int = tcp.getsockname()[1]
            try:
                udp.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no port free for both TCP and UDP on {host} in 100 tries")
