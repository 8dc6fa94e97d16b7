"""The HTTP face as an operator's tools meet it: curl and openssl over TLS (with and without client
certificates), basic auth from an exporter-toolkit web config, a real Prometheus scraping over TLS with
basic auth, gzip and OpenMetrics negotiation, and 200 idle connections while /metrics still answers.

The server is the real one (aiohttp) on its own event loop in a thread, so blocking clients (curl,
Prometheus's helper) can talk to it; its snapshot and readiness are the seams the service owns.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import bcrypt
import pytest
from prometheus_client import CollectorRegistry, Gauge

from monitor.config.load import ConfigError
from monitor.exposition.http import LIMITS, HttpServer, Limits
from monitor.exposition.snapshot import EMPTY
from monitor.exposition.web_config import PLAIN, WebConfig, load_web_config
from tests.prom import prometheus_binary, running_prometheus

pytestmark = pytest.mark.integration

PASSWORD = "s3cret wörd"
CURL = shutil.which("curl")
OPENSSL = shutil.which("openssl")
needs_tools = pytest.mark.skipif(not (CURL and OPENSSL), reason="needs curl and openssl (Debian packages)")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run([OPENSSL or "openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1 signed by it, and a client certificate signed by it."""
    if not OPENSSL:
        pytest.skip("needs openssl")
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", "/CN=wifimon test CA", cwd=d)
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=d)
        (d / f"{name}.ext").write_text(ext + "\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    return d


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def _web(pki: Path, client_auth: str = "NoClientCert", users: bool = True) -> WebConfig:
    lines = ["tls_server_config:", "  cert_file: server.crt", "  key_file: server.key",
             f"  client_auth_type: {client_auth}"]
    if client_auth != "NoClientCert":
        lines.append("  client_ca_file: ca.crt")
    if users:
        lines += ["basic_auth_users:", f"  prom: '{_hash(PASSWORD)}'"]
    path = pki / f"web-{client_auth}-{users}.yml"
    path.write_text("\n".join(lines) + "\n")
    return load_web_config(path)


async def _ready() -> tuple[bool, str]:
    return True, "ready"


@contextmanager
def serving(web: WebConfig, limits: Limits = LIMITS) -> Iterator[int]:
    """The real HttpServer on a loop of its own, in a thread; yields its port."""
    registry = CollectorRegistry()
    gauge = Gauge("wifi_test_value", "a value to scrape", ["n"], registry=registry)
    for i in range(200):  # enough text that gzip is worth it
        gauge.labels(str(i)).set(i)
    loop = asyncio.new_event_loop()
    server = HttpServer(registry, lambda: EMPTY, _ready, web_config=web, limits=limits)
    port = loop.run_until_complete(server.start("127.0.0.1", 0))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _curl(*args: str) -> tuple[int, str]:
    done = subprocess.run([CURL or "curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "10", *args],
                          capture_output=True, text=True, timeout=30)
    body, _, code = done.stdout.rpartition("\n")
    return int(code or 0), body


@needs_tools
def test_tls_and_basic_auth_with_curl(pki: Path):
    with serving(_web(pki)) as port:
        url = f"https://127.0.0.1:{port}"
        ca = ("--cacert", str(pki / "ca.crt"))
        assert _curl(*ca, f"{url}/healthz")[0] == 200  # open: the container's HEALTHCHECK
        code, body = _curl(*ca, f"{url}/metrics")
        assert code == 401 and "wifi_test_value" not in body and len(body) < 40
        assert _curl(*ca, "-u", "prom:wrong", f"{url}/metrics")[0] == 401
        assert _curl(*ca, "-u", "nobody:" + PASSWORD, f"{url}/api/status")[0] == 401
        code, body = _curl(*ca, "-u", f"prom:{PASSWORD}", f"{url}/metrics")
        assert code == 200 and 'wifi_test_value{n="199"} 199.0' in body
        assert _curl(*ca, "-u", f"prom:{PASSWORD}", f"{url}/api/status")[0] == 200
        assert _curl(f"http://127.0.0.1:{port}/metrics")[0] != 200  # no plain HTTP beside TLS
        assert _curl(f"{url}/healthz")[0] == 0  # an unknown CA: curl refuses the server


@needs_tools
def test_client_certificates_required_and_verified(pki: Path):
    with serving(_web(pki, "RequireAndVerifyClientCert", users=False)) as port:
        url = f"https://127.0.0.1:{port}/metrics"
        ca = ("--cacert", str(pki / "ca.crt"))
        assert _curl(*ca, url)[0] == 0  # no certificate: the handshake fails
        code, body = _curl(*ca, "--cert", str(pki / "client.crt"), "--key", str(pki / "client.key"), url)
        assert code == 200 and "wifi_test_value" in body
        # openssl s_client sees the server ask for a certificate signed by our CA.
        # openssl s_client: a session without a certificate is cut by the server (an error on the client's
        # side), one with ours is not.
        base = [OPENSSL or "openssl", "s_client", "-tls1_2", "-connect", f"127.0.0.1:{port}", "-CAfile", str(pki / "ca.crt")]
        without = subprocess.run(base, input="", capture_output=True, text=True, timeout=30)
        assert ":error:" in without.stderr
        with_cert = subprocess.run([*base, "-cert", str(pki / "client.crt"), "-key", str(pki / "client.key")],
                                   input="", capture_output=True, text=True, timeout=30)
        assert "Verify return code: 0 (ok)" in with_cert.stdout and ":error:" not in with_cert.stderr


@needs_tools
def test_gzip_and_openmetrics_are_negotiated():
    with serving(PLAIN) as port:
        url = f"http://127.0.0.1:{port}/metrics"
        done = subprocess.run([CURL or "curl", "-s", "-D", "-", "-H", "Accept-Encoding: gzip", url],
                              capture_output=True, timeout=30)
        head, _, body = done.stdout.partition(b"\r\n\r\n")
        assert b"content-encoding: gzip" in head.lower()
        assert b"wifi_test_value" in gzip.decompress(body)
        done = subprocess.run([CURL or "curl", "-s", "-D", "-", "-H",
                               "Accept: application/openmetrics-text; version=1.0.0", url],
                              capture_output=True, text=True, timeout=30)
        assert "application/openmetrics-text" in done.stdout.lower() and done.stdout.rstrip().endswith("# EOF")


@needs_tools
def test_200_idle_connections_do_not_stop_metrics():
    with serving(PLAIN) as port:
        idle = []
        try:
            for _ in range(200):
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # a request that never ends
                idle.append(s)
            code, body = _curl(f"http://127.0.0.1:{port}/metrics")
            assert code == 200 and "wifi_test_value" in body
        finally:
            for s in idle:
                s.close()


@needs_tools
def test_oversized_body_and_headers_are_refused():
    with serving(PLAIN, Limits(max_body=1024)) as port:
        url = f"http://127.0.0.1:{port}/api/ack"
        assert _curl("-X", "POST", "--data-binary", "x" * 4096, url)[0] == 413
        assert _curl("-H", "X-Big: " + "y" * 9000, f"http://127.0.0.1:{port}/healthz")[0] in (400, 431)


@pytest.mark.skipif(prometheus_binary() is None, reason="needs Debian's prometheus")
def test_prometheus_scrapes_over_tls_with_basic_auth(pki: Path):
    with serving(_web(pki)) as port:
        target = f"127.0.0.1:{port}"
        options = {"scheme": "https", "tls_config": {"ca_file": str(pki / "ca.crt")},
                   "basic_auth": {"username": "prom", "password": PASSWORD}}
        with running_prometheus([target], rule_files=(), scrape_options=options) as prom:
            prom.wait_for_target_up(target, timeout=30)
            assert prom.query('wifi_test_value{n="7"}')[0]["value"][1] == "7"


def test_web_config_problems_are_located(tmp_path: Path, pki: Path):
    bad = tmp_path / "web.yml"
    bad.write_text("tls_server_config: {cert_file: nope.crt, key_file: nope.key}\nbasic_auth_users: {a: plain}\n"
                   "extra_key: 1\n")
    with pytest.raises(ConfigError) as err:
        load_web_config(bad)
    assert any("extra_key" in p and str(bad) in p for p in err.value.problems)
    bad.write_text("tls_server_config: {cert_file: nope.crt, key_file: nope.key}\nbasic_auth_users: {a: plain}\n")
    with pytest.raises(ConfigError) as err:
        load_web_config(bad)
    assert any("basic_auth_users.a: not a bcrypt hash" in p for p in err.value.problems)
    assert any("tls_server_config.cert_file" in p and "nope.crt" in p for p in err.value.problems)
    bad.write_text(f"tls_server_config: {{cert_file: {pki}/server.crt, key_file: {pki}/server.key,"
                   " client_auth_type: RequireAnyClientCert}\n")
    with pytest.raises(ConfigError, match="client_auth_type: RequireAnyClientCert is not supported"):
        load_web_config(bad)
