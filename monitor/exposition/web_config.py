"""TLS and basic auth for the HTTP face, from a web-config file in the format of Prometheus' exporter-toolkit.

The same file an operator writes for node_exporter or snmp_exporter works here, and Prometheus scrapes
wifimon with its usual ``scheme: https`` and ``basic_auth``::

    tls_server_config:
      cert_file: wifimon.crt            # relative paths: relative to this file
      key_file: wifimon.key
      client_auth_type: RequireAndVerifyClientCert   # or NoClientCert (default), VerifyClientCertIfGiven
      client_ca_file: clients-ca.crt
      min_version: TLS12                # TLS10 … TLS13
    basic_auth_users:
      prometheus: $2y$10$…              # bcrypt hashes (htpasswd -nBC 10 "" | tr -d ':\\n')

Unknown keys are errors, as in exporter-toolkit. ``RequestClientCert`` and ``RequireAnyClientCert`` (a
certificate asked for but not verified) are refused: Python's TLS cannot accept a certificate it does not
verify, and silently verifying or ignoring it would not be what the operator wrote.
"""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.config.load import ConfigError, LoadedConfig
from monitor.config.types import dotted

TlsVersion = Literal["TLS10", "TLS11", "TLS12", "TLS13"]
_TLS_VERSIONS = {"TLS10": ssl.TLSVersion.TLSv1, "TLS11": ssl.TLSVersion.TLSv1_1,
                 "TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
_CLIENT_AUTH = {"NoClientCert": ssl.CERT_NONE, "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
                "RequireAndVerifyClientCert": ssl.CERT_REQUIRED}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsServerConfig(_Strict):
    cert_file: Path
    key_file: Path
    client_auth_type: Literal["NoClientCert", "RequestClientCert", "RequireAnyClientCert",
                              "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"] = "NoClientCert"
    client_ca_file: Path | None = None
    min_version: TlsVersion = "TLS12"
    max_version: TlsVersion = "TLS13"
    cipher_suites: tuple[str, ...] = ()
    prefer_server_cipher_suites: bool = True
    curve_preferences: tuple[str, ...] = ()


class HttpServerConfig(_Strict):
    http2: bool = False
    headers: dict[str, str] = Field(default_factory=dict)


class _WebConfigFile(_Strict):
    tls_server_config: TlsServerConfig | None = None
    http_server_config: HttpServerConfig = HttpServerConfig()
    basic_auth_users: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True)
class WebConfig:
    """What the HTTP face needs: a TLS context (or None for plain HTTP), the users and the extra headers."""

    path: Path | None
    ssl: ssl.SSLContext | None
    users: dict[str, bytes]
    headers: dict[str, str]

    @property
    def auth_required(self) -> bool:
        return bool(self.users)


PLAIN = WebConfig(path=None, ssl=None, users={}, headers={})


def load_web_config(path: Path) -> WebConfig:
    """Read and check a web-config file; every problem at once, each naming the file and key."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError([f"{path}: cannot read the web config: {exc}"]) from None
    try:
        spec = _WebConfigFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([f"{path}: {dotted(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()]) from None
    problems: list[str] = []
    for user, hashed in spec.basic_auth_users.items():
        if not hashed.startswith(("$2a$", "$2b$", "$2y$")):
            problems.append(f"{path}: basic_auth_users.{user}: not a bcrypt hash (write one with htpasswd -nBC 10)")
    context = None
    if spec.tls_server_config is not None:
        try:
            context = _ssl_context(spec.tls_server_config, path.parent)
        except ValueError as exc:
            problems.append(f"{path}: tls_server_config.{exc}")
    if problems:
        raise ConfigError(problems)
    return WebConfig(path=path, ssl=context, users={u: h.encode() for u, h in spec.basic_auth_users.items()},
                     headers=dict(spec.http_server_config.headers))


def _ssl_context(tls: TlsServerConfig, base: Path) -> ssl.SSLContext:
    def resolve(p: Path) -> Path:
        return p if p.is_absolute() else base / p

    if tls.client_auth_type not in _CLIENT_AUTH:
        raise ValueError(f"client_auth_type: {tls.client_auth_type} is not supported (use NoClientCert, "
                         "VerifyClientCertIfGiven or RequireAndVerifyClientCert)")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = _TLS_VERSIONS[tls.min_version]
    context.maximum_version = _TLS_VERSIONS[tls.max_version]
    try:
        context.load_cert_chain(resolve(tls.cert_file), resolve(tls.key_file))
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"cert_file/key_file: cannot load {resolve(tls.cert_file)} and {resolve(tls.key_file)}: "
                         f"{getattr(exc, 'strerror', None) or exc}") from None
    context.verify_mode = _CLIENT_AUTH[tls.client_auth_type]
    if context.verify_mode != ssl.CERT_NONE:
        if tls.client_ca_file is None:
            raise ValueError(f"client_ca_file: needed by client_auth_type {tls.client_auth_type}")
        try:
            context.load_verify_locations(cafile=resolve(tls.client_ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"client_ca_file: cannot load {resolve(tls.client_ca_file)}: "
                             f"{getattr(exc, 'strerror', None) or exc}") from None
    if tls.cipher_suites:
        try:
            context.set_ciphers(":".join(tls.cipher_suites))
        except ssl.SSLError:
            raise ValueError(f"cipher_suites: none of {', '.join(tls.cipher_suites)} is known") from None
    return context


class PasswordCheck:
    """bcrypt, remembered: a verified (user, password) pair is not hashed again on every scrape.

    bcrypt at cost 10 costs ~60 ms of CPU by design; a 15 s scrape interval with a fresh hash each time
    would waste it. Only successes are remembered (by SHA-256 of the password, never the password), so a
    guess costs the guesser the full bcrypt price every time.
    """

    def __init__(self, users: dict[str, bytes], limit: int = 64) -> None:
        self._users = users
        self._ok: dict[tuple[str, bytes], None] = {}
        self._limit = limit

    def remembered(self, user: str, password: str) -> bool:
        return (user, hashlib.sha256(password.encode()).digest()) in self._ok

    def verify(self, user: str, password: str) -> bool:
        """The slow path (call it off the event loop)."""
        import bcrypt

        hashed = self._users.get(user)
        # An unknown user still pays for one hash, so timing does not tell which users exist.
        ok = bcrypt.checkpw(password.encode(), hashed or _DUMMY_HASH) and hashed is not None
        if ok:
            if len(self._ok) >= self._limit:
                self._ok.pop(next(iter(self._ok)))
            self._ok[(user, hashlib.sha256(password.encode()).digest())] = None
        return ok


# bcrypt of a random string at cost 10: compared against when the user does not exist.
_DUMMY_HASH = b"$2b$10$dblRJ9M7AnKBcIAV2n0TpO3ipkFBThS2vD5131FgWOdeAkTzRBuQW"


def web_config_of(loaded: LoadedConfig) -> WebConfig:
    """The web config ``service.web_config`` names (relative to the config file), or plain HTTP without auth."""
    path = loaded.config.service.web_config
    if path is None:
        return PLAIN
    return load_web_config(path if path.is_absolute() else loaded.path.parent / path)
