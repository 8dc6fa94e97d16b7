"""E-mail channel against a real SMTP server on loopback (aiosmtpd) that requires STARTTLS and AUTH."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

aiosmtpd = pytest.importorskip("aiosmtpd", reason="aiosmtpd is a dev dependency (pip install -e '.[dev]')")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from monitor.alerting.channels import ChannelError  # noqa: E402
from monitor.alerting.channels.email import EmailChannel  # noqa: E402
from monitor.alerting.model import Alert, Notification, Rule  # noqa: E402
from monitor.alerting.payload import build  # noqa: E402
from tests.alerting_helpers import T0  # noqa: E402
from tests.ports import free_port  # noqa: E402

pytestmark = pytest.mark.integration

USER, PASSWORD = "wifimon", "pa55-smtp-w0rd"


def _certificate(tmp: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made here (no files from outside)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wifimon test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp / "smtp.crt", tmp / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _auth(server, session, envelope, mechanism, data) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == USER.encode() and data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)




@pytest.fixture
def smtp(tmp_path: Path):
    cert, key = _certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=tls, require_starttls=True,
                            auth_required=True, auth_require_tls=True, authenticator=_auth)
    controller.start()
    try:
        yield controller, inbox, cert
    finally:
        controller.stop()


def payload() -> dict:
    alert = Alert(key="site_down:market", rule=Rule.SITE_DOWN, severity="critical", since=T0 - 60, site="market",
                  site_name="공설시장", aps=("market-ap1",), total_aps=1, reason="auth_error")
    return build(Notification("firing", alert, ("mail",), T0, T0, 1), "3b1f0c9e", "ko", ZoneInfo("Asia/Seoul"))


def channel(controller, cert: Path, **kw) -> EmailChannel:
    args = dict(sender="wifimon@example.org", recipients=("noc@example.org", "kim@example.org"), timeout=5,
                starttls=True, username=USER, password=PASSWORD, ca_file=str(cert))
    args.update(kw)
    return EmailChannel("mail", controller.hostname, controller.port, **args)


async def test_smtp_starttls_auth_delivers_a_korean_message_with_the_idempotency_key(smtp):
    controller, inbox, cert = smtp
    await channel(controller, cert).send(payload())
    [(sender, rcpts, raw)] = inbox.messages
    assert sender == "wifimon@example.org" and rcpts == ["noc@example.org", "kim@example.org"]
    msg = message_from_bytes(raw, policy=default_policy)
    assert msg["Subject"] == "[장애] 공설시장 (market) 사이트 장애"
    assert msg["Message-ID"] == "<3b1f0c9e@wifimon>" and msg["X-Wifimon-Idempotency-Key"] == "3b1f0c9e"
    assert msg["X-Wifimon-Alert-Key"] == "site_down:market"
    text = msg.get_content()
    assert "SNMP 인증 실패" in text and "id: 3b1f0c9e" in text


async def test_smtp_wrong_password_fails_naming_server_and_user_but_not_the_password(smtp):
    controller, inbox, cert = smtp
    with pytest.raises(ChannelError) as exc:
        await channel(controller, cert, password="wrong-one").send(payload())
    text = str(exc.value)
    assert f"channel mail (smtp://{USER}@127.0.0.1:{controller.port}): AUTH failed" in text
    assert "wrong-one" not in text and PASSWORD not in text
    assert inbox.messages == []


async def test_smtp_untrusted_certificate_is_refused_unless_verification_is_off(smtp):
    controller, inbox, cert = smtp
    with pytest.raises(ChannelError, match="STARTTLS failed"):
        await channel(controller, cert, ca_file=None).send(payload())  # the system CAs do not know it
    await channel(controller, cert, ca_file=None, tls_verify=False).send(payload())
    assert len(inbox.messages) == 1


async def test_smtp_without_starttls_the_server_refuses_auth(smtp):
    controller, inbox, cert = smtp
    with pytest.raises(ChannelError, match="(AUTH|send) failed"):
        await channel(controller, cert, starttls=False).send(payload())
    assert inbox.messages == []


async def test_smtp_nothing_listening_names_host_port_and_timeout():
    port = free_port()
    ch = EmailChannel("mail", "127.0.0.1", port, sender="w@example.org", recipients=("a@example.org",), timeout=2)
    with pytest.raises(ChannelError, match=rf"smtp://127.0.0.1:{port}\): connect failed .*timeout 2 s"):
        await ch.send(payload())
