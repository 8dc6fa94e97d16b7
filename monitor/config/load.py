"""Loading: parse the YAML, validate it, resolve the secrets; every error located (file:line and key path)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from collectors.types import Credentials, Target, V2cCredentials, V3Credentials
from monitor.config.checks import cross_check, timing_problems
from monitor.config.model import Config, Device, Site
from monitor.config.types import Secret, dotted
from collectors.errors import WifimonError

class ConfigError(WifimonError):
    """Configuration that cannot be used. ``problems`` lists every error, each with its location."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _line_index(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map every key path in a YAML document to its 1-based line."""
    lines = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            sub = path + (k.value,)
            lines.update(_line_index(v, sub))
            lines[sub] = k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            lines.update(_line_index(v, path + (i,)))
    return lines


def _located(path: Path, loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> str:
    probe = loc
    while probe and probe not in lines:
        probe = probe[:-1]
    line = lines.get(probe)
    return f"{path}:{line}" if line else str(path)


def parse_config(path: Path) -> Config:
    """Read and validate one config file; raise ConfigError with every problem at once."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError([f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}:1: the top level must be a mapping of keys"])
    lines = _line_index(node) if node is not None else {}
    errors: list[tuple[tuple[Any, ...], str]] = []
    config = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            msg = f"unknown key {loc[-1]!r}" if err["type"] == "extra_forbidden" else err["msg"]
            errors.append((loc, msg.removeprefix("Value error, ")))
    errors.extend(cross_check(data))
    if config is not None:
        errors.extend(timing_problems(config))
    if errors or config is None:
        raise ConfigError([f"{_located(path, loc, lines)}: {dotted(loc)}: {msg}" for loc, msg in errors])
    return config


# ---------------------------------------------------------------------------------------------------
# Building: from validated config to what the collectors need.


def read_secret(secret: Secret, base: Path, where: str) -> str:
    """Resolve a secret; errors say which key wanted it and where we looked, never the value."""
    if secret.env is not None:
        value = os.environ.get(secret.env)
        if value is None:
            raise ConfigError([f"{where}: environment variable {secret.env} is not set"])
        return value
    assert secret.file is not None
    file = secret.file if secret.file.is_absolute() else base / secret.file
    try:
        return file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError([f"{where}: cannot read secret file {file}: {exc.strerror}"]) from None


def build_credentials(config: Config, base: Path) -> dict[str, Credentials]:
    out: dict[str, Credentials] = {}
    problems: list[str] = []
    for name, spec in config.credentials.items():
        where = f"credentials.{name}"
        try:
            if spec.version == "2c":
                assert spec.community is not None
                out[name] = V2cCredentials(read_secret(spec.community, base, f"{where}.community"))
            else:
                out[name] = V3Credentials(
                    user=spec.user or "",
                    auth_protocol=spec.auth_protocol,
                    auth_key=read_secret(spec.auth_key, base, f"{where}.auth_key") if spec.auth_key else None,
                    priv_protocol=spec.priv_protocol,
                    priv_key=read_secret(spec.priv_key, base, f"{where}.priv_key") if spec.priv_key else None,
                )
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return out


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config with its secrets resolved: what the composition root builds from."""

    path: Path
    config: Config
    credentials: dict[str, Credentials]

    def controller_target(self, device: Device) -> Target:
        """A controller's target: it belongs to no site, so only its own and the service's SNMP settings."""
        snmp = device.snmp or self.config.service.snmp
        host, port = device.host_port
        return Target(
            key=device.id, host=host, port=port, credentials=self.credentials[device.credentials],
            timeout=snmp.timeout, retries=snmp.retries,
        )

    def target(self, site: Site, device: Device) -> Target:
        snmp = device.snmp or site.snmp or self.config.service.snmp
        host, port = device.host_port
        return Target(
            key=device.id, host=host, port=port, credentials=self.credentials[device.credentials],
            timeout=snmp.timeout, retries=snmp.retries,
        )


def load_config(path: Path) -> LoadedConfig:
    config = parse_config(path)
    return LoadedConfig(path=path, config=config, credentials=build_credentials(config, path.parent))
