"""The config's value types, shared by every section: ids, host:port, durations, where a secret lives.

Sections defined elsewhere (``alerting:`` in :mod:`monitor.alerting.settings`, ``report:`` in
:mod:`monitor.report.settings`) import these, and the model imports those sections: types → sections →
model, one way.
"""

from __future__ import annotations

import ipaddress
import math
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _check_id(value: str) -> str:
    if not _ID_RE.match(value):
        raise ValueError("must be 1-64 characters of letters, digits, '.', '_' or '-'")
    return value


Ident = Annotated[str, AfterValidator(_check_id)]


def split_listen(address: str) -> tuple[str, int]:
    """'host:port' → (host, port); ValueError says what is expected."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError("must be host:port (port 0: any free port)")
    return host, int(port)


ListenAddress = Annotated[str, AfterValidator(lambda v: split_listen(v) and v)]

_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


def device_address(address: str, default_port: int = 161) -> tuple[str, int]:
    """A device's 'host' or 'host:port' → (host, port); the host an IPv4 address or a DNS name. ValueError
    says what is wrong: ``999.300.1.1`` is refused here rather than polled and reported as a timeout."""
    host, sep, port = address.rpartition(":")
    if not sep:
        host, port = address, str(default_port)
    elif not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("port must be 1-65535")
    if all(c.isdigit() or c == "." for c in host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ValueError(f"{host!r} is not an IPv4 address (four numbers 0-255)") from None
    elif len(host) > 253 or not all(_HOST_LABEL.match(label) for label in host.removesuffix(".").split(".")):
        raise ValueError(f"{host!r} is neither an IPv4 address nor a host name")
    return host, int(port)


DeviceAddress = Annotated[str, AfterValidator(lambda v: device_address(v) and v)]


class Strict(BaseModel):
    """A config model: unknown keys fail, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret(Strict):
    """Where a secret lives: ``env: NAME`` or ``file: path`` (relative to the config file)."""

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Secret:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of 'env' or 'file'")
        return self


_NUMBER = r"(\d+(?:\.\d+)?|\.\d+)"
_DURATION_RE = re.compile(rf"^(?:{_NUMBER}d)?(?:{_NUMBER}h)?(?:{_NUMBER}m)?(?:{_NUMBER}s)?$")
_SECONDS_RE = re.compile(rf"^{_NUMBER}$")


def parse_duration(value: object) -> float:
    """Seconds from '45m', '1.5h', '1h30m', '1d', '90s', '90' or a number of seconds; ValueError says what is
    accepted. The one duration syntax: config values and every command-line option read durations here."""
    text = re.sub(r"\s+", "", value.lower()) if isinstance(value, str) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif text is not None and (m := _SECONDS_RE.match(text)):
        seconds = float(m.group(1))
    elif text is not None and (m := _DURATION_RE.match(text)) and any(m.groups()):
        d, h, mi, s = (float(g or 0) for g in m.groups())
        seconds = d * 86400 + h * 3600 + mi * 60 + s
    else:
        raise ValueError(f"{value!r} is not a duration: write e.g. 45m, 1.5h, 1h30m, 1d or 90 (seconds)")
    if not math.isfinite(seconds):
        raise ValueError(f"{value!r} is not a finite duration")
    if not seconds > 0:
        raise ValueError("a duration must be longer than 0 seconds")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


def dotted(loc: tuple[Any, ...]) -> str:
    """A key path as the user writes it: ``sites[3].aps[0].address``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
