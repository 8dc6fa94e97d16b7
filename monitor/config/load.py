"""Loading: read the YAML, validate it, resolve secrets and profiles; every error located (file:line and key path).

One path for every command that starts the service or vouches for a config: ``wifimon run`` and
``wifimon check-config`` both call :func:`load_config`, so whatever would stop ``run`` at start-up is
reported by ``check-config`` too, with the same message, all problems at once.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from collectors.profile import Profile, ProfileError, load_profiles
from collectors.engines import gufo_missing
from collectors.snmp import check_credentials
from collectors.types import Credentials, Target, V2cCredentials, V3Credentials
from monitor.config.checks import Problem, cross_check, profile_problems, scale_problems, timing_problems
from monitor.config.model import Config, CredentialSpec, Device, Site
from monitor.config.types import Secret, dotted
from monitor.domain.shards import Shard
from collectors.errors import WifimonError

# An alias-expanded document may be this many times its written size (plus the slack): enough for anchors
# shared by many sites (``snmp: *lte``), far too little for an alias bomb (``a: &a [*b, *b, …]`` nine deep).
ALIAS_EXPANSION = 10
ALIAS_SLACK_NODES = 10_000

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml: nesting ≤ 1000
    """The safe loader, saying where a value it cannot construct is (a date 2026-13-01, say)."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(None, None, f"{node.value!r}: {exc}", node.start_mark) from None


class _AliasProblem(ValueError):
    """Aliases that expand too far, or into themselves; the message starts with the line."""

Lines = dict[tuple[Any, ...], int]


class ConfigError(WifimonError):
    """Configuration that cannot be used. ``problems`` lists every error, each with its location."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class _Document:
    """A config file read: its data, the line of every key path, and what is wrong with it so far."""

    path: Path
    data: dict[str, Any]
    lines: Lines
    problems: list[Problem]

    def located(self, problems: list[Problem]) -> list[str]:
        return [f"{_located(self.path, loc, self.lines)}: {dotted(loc)}: {msg}" for loc, msg in problems]


def _located(path: Path, loc: tuple[Any, ...], lines: Lines) -> str:
    probe = loc
    while probe and probe not in lines:
        probe = probe[:-1]
    line = lines.get(probe)
    return f"{path}:{line}" if line else str(path)


def _written_size(root: yaml.Node) -> int:
    """Nodes as written: an aliased node counts once."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in node.value for n in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return len(seen)


def _expanded_size(node: yaml.Node, limit: int, sizes: dict[int, int], active: set[int]) -> int:
    """Nodes under ``node`` once every alias is expanded (a shared node counted each time it is referred to).
    _AliasProblem naming the line where the expansion passes ``limit``, or of an alias that contains itself."""
    if id(node) in sizes:
        return sizes[id(node)]
    if id(node) in active:
        raise _AliasProblem(f"{node.start_mark.line + 1}: an alias refers to a node that contains it")
    active.add(id(node))
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    size = 1 + sum(_expanded_size(c, limit, sizes, active) for c in children)
    if size > limit:
        raise _AliasProblem(f"{node.start_mark.line + 1}: YAML aliases here expand to more than {limit:,} values"
                         " (an alias bomb?): write the repeated parts out")
    active.discard(id(node))
    sizes[id(node)] = size
    return size


def _index(node: yaml.Node, lines: Lines, problems: list[Problem], path: tuple[Any, ...] = ()) -> None:
    """Record the 1-based line of every key path, and every key given twice in one mapping (YAML keeps
    the last silently: a second ``service:`` block would replace the first)."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for k, v in node.value:
            if k.tag == _MERGE_TAG or not isinstance(k, yaml.ScalarNode):
                continue
            sub = path + (k.value,)
            line = k.start_mark.line + 1
            if k.value in first:
                problems.append((sub, f"duplicate key {k.value!r} (lines {first[k.value]} and {line});"
                                      " the second would silently replace the first"))
            first.setdefault(k.value, line)
            _index(v, lines, problems, sub)  # the last one given is the one YAML keeps: its lines win
            lines[sub] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _index(v, lines, problems, path + (i,))


def _read(path: Path) -> _Document:
    """The file as YAML data with its line index; ConfigError (one line) when it cannot be read as such."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError([f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}): save the file as UTF-8"
                           " (a file from a Korean Windows editor is often CP949)"]) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return _Document(path, {}, {}, [])
        _expanded_size(node, ALIAS_EXPANSION * _written_size(node) + ALIAS_SLACK_NODES, {}, set())
        lines: Lines = {}
        problems: list[Problem] = []
        _index(node, lines, problems)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError([f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}"]) from None
    except _AliasProblem as exc:
        raise ConfigError([f"{path}:{exc}"]) from None
    except RecursionError:
        raise ConfigError([f"{path}: not usable YAML: nested too deeply"]) from None
    finally:
        loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}:1: the top level must be a mapping of keys"])
    return _Document(path, data, lines, problems)


def _validate(doc: _Document) -> Config | None:
    """The model and the checks across keys, their problems added to the document's; None if the model fails."""
    config = None
    try:
        config = Config.model_validate(doc.data)
    except ValidationError as exc:
        errors = exc.errors()
        failed = {tuple(e["loc"][:n]) for e in errors for n in range(len(e["loc"]))}  # every key above an error
        for err in errors:
            loc = tuple(err["loc"])
            if err["type"] == "too_short" and loc in failed:
                continue  # "aps: at least 1 item" only because its one item failed: that error says why
            doc.problems.append((loc, _message(err)))
    doc.problems.extend(cross_check(doc.data))
    if config is not None:
        doc.problems.extend(timing_problems(config))
        doc.problems.extend(scale_problems(config))
    return config


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return f"unknown key {err['loc'][-1]!r}"
    return str(err["msg"]).removeprefix("Value error, ")


def parse_config(path: Path) -> Config:
    """Read and validate one config file, secrets and profiles left unread (the commands that only read the
    store need neither); raise ConfigError with every problem at once."""
    doc = _read(path)
    config = _validate(doc)
    if doc.problems or config is None:
        raise ConfigError(doc.located(doc.problems))
    return config


# ---------------------------------------------------------------------------------------------------
# Secrets, credentials and profiles: what ``run`` needs beyond the file itself.


def _secret_value(secret: Secret, base: Path) -> str:
    """The secret's value; ValueError saying where we looked, never the value."""
    if secret.env is not None:
        value = os.environ.get(secret.env)
        if value is None:
            raise ValueError(f"environment variable {secret.env} is not set")
        return value
    assert secret.file is not None
    file = secret.file if secret.file.is_absolute() else base / secret.file
    try:
        return file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"cannot read secret file {file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"secret file {file} is not UTF-8 text") from None


def read_secret(secret: Secret, base: Path, where: str) -> str:
    """Resolve a secret; ConfigError says which key wanted it and where we looked, never the value."""
    try:
        return _secret_value(secret, base)
    except ValueError as exc:
        raise ConfigError([f"{where}: {exc}"]) from None


def _secret_refs(data: Any, loc: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Secret]]:
    """Every ``{env: …}`` / ``{file: …}`` in the raw data (a mapping of those keys only is a secret wherever
    the schema takes one), found even where the rest of its section does not validate."""
    if isinstance(data, dict):
        if data and set(data) <= {"env", "file"}:
            try:
                return [(loc, Secret.model_validate(data))]
            except ValidationError:
                return []  # the schema's own error says what is wrong with it
        return [ref for k, v in data.items() for ref in _secret_refs(v, loc + (k,))]
    if isinstance(data, list):
        return [ref for i, v in enumerate(data) for ref in _secret_refs(v, loc + (i,))]
    return []


def _read_secrets(doc: _Document) -> dict[tuple[Any, ...], str]:
    """Every secret the config refers to, by key path; what cannot be read goes to the document's problems."""
    values: dict[tuple[Any, ...], str] = {}
    for loc, secret in _secret_refs(doc.data):
        try:
            values[loc] = _secret_value(secret, doc.path.parent)
        except ValueError as exc:
            doc.problems.append((loc, str(exc)))
    return values


def _ca_files(doc: _Document) -> None:
    """Each e-mail channel's ``ca_file`` (relative to the config's folder) loads as the channel will load it."""
    alerting = doc.data.get("alerting")
    channels = alerting.get("channels") if isinstance(alerting, dict) else None
    for name, channel in (channels.items() if isinstance(channels, dict) else ()):
        ca = channel.get("ca_file") if isinstance(channel, dict) else None
        if isinstance(ca, str):
            file = Path(ca) if Path(ca).is_absolute() else doc.path.parent / ca
            try:
                ssl.create_default_context(cafile=str(file))
            except OSError as exc:  # missing, unreadable, or (ssl.SSLError) not PEM certificates
                doc.problems.append((("alerting", "channels", name, "ca_file"),
                                     f"cannot load CA certificates from {file}: {exc.strerror or exc}"))


def _credentials(doc: _Document, secrets: dict[tuple[Any, ...], str]) -> dict[str, Credentials]:
    """Each entry of ``credentials:`` that validates and whose secrets could be read, checked the way the SNMP
    client will use it (a v3 key shorter than 8 characters is refused there, so it is refused here)."""
    raw = doc.data.get("credentials")
    out: dict[str, Credentials] = {}
    for name, entry in (raw.items() if isinstance(raw, dict) else ()):
        loc = ("credentials", name)
        try:
            spec = CredentialSpec.model_validate(entry)
        except ValidationError:
            continue  # already reported with the whole config's errors
        keys = [k for k in ("community", "auth_key", "priv_key") if getattr(spec, k) is not None]
        if any(loc + (k,) not in secrets for k in keys):
            continue  # an unreadable secret, already reported
        value = {k: secrets[loc + (k,)] for k in keys}
        creds: Credentials
        if spec.version == "2c":
            creds = V2cCredentials(value["community"])
        else:
            creds = V3Credentials(user=spec.user or "", auth_protocol=spec.auth_protocol,
                                  auth_key=value.get("auth_key"), priv_protocol=spec.priv_protocol,
                                  priv_key=value.get("priv_key"))
        try:
            check_credentials(creds)
        except ValueError as exc:
            doc.problems.append((loc, str(exc)))
            continue
        out[str(name)] = creds
    return out


def _profiles(doc: _Document) -> dict[str, Profile]:
    """The built-in profiles and those of ``profile_dirs`` (relative to the config's folder); every device's
    ``profile`` checked against them."""
    dirs = doc.data.get("profile_dirs")
    found: list[Path] = []
    for i, d in enumerate(dirs if isinstance(dirs, list) else []):
        if isinstance(d, str):
            folder = Path(d) if Path(d).is_absolute() else doc.path.parent / d
            if folder.is_dir():
                found.append(folder)
            else:
                doc.problems.append((("profile_dirs", i), f"no such folder: {folder}"))
    try:
        profiles = load_profiles(*found)
    except ProfileError as exc:  # a bad profile file is a configuration problem, reported the same way
        doc.problems.extend((("profile_dirs",), line) for line in str(exc).splitlines())
        return {}
    doc.problems.extend(profile_problems(doc.data, profiles))
    return profiles


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config with its secrets resolved and its profiles loaded: what the composition root builds from."""

    path: Path
    config: Config
    credentials: dict[str, Credentials]
    profiles: dict[str, Profile]

    @property
    def shard(self) -> Shard | None:
        """The shard this instance runs (``service.shard``); None: the whole inventory."""
        s = self.config.service.shard
        return Shard(s.index, s.count) if s is not None else None

    def shard_view(self) -> LoadedConfig:
        """The config as this instance watches it: only its shard's sites (each with its APs and uplink)."""
        shard = self.shard
        if shard is None:
            return self
        sites = tuple(s for s in self.config.sites if shard.owns(s.id))
        return replace(self, config=self.config.model_copy(update={"sites": sites}))

    def controller_target(self, device: Device) -> Target:
        """A controller's target: it belongs to no site, so only its own and the service's SNMP settings."""
        snmp = device.snmp or self.config.service.snmp
        host, port = device.host_port
        return Target(
            key=device.id, host=host, port=port, credentials=self.credentials[device.credentials],
            timeout=snmp.timeout, retries=snmp.retries,
        )

    def targets(self) -> list[Target]:
        """Every SNMP target the service polls: the sites' APs and uplinks, and the controllers."""
        out = [self.target(site, d) for site in self.config.sites for d in (*site.aps, *filter(None, [site.uplink]))]
        return out + [self.controller_target(c) for c in self.config.controllers]

    def target(self, site: Site, device: Device) -> Target:
        snmp = device.snmp or site.snmp or self.config.service.snmp
        host, port = device.host_port
        return Target(
            key=device.id, host=host, port=port, credentials=self.credentials[device.credentials],
            timeout=snmp.timeout, retries=snmp.retries,
        )


def load_config(path: Path) -> LoadedConfig:
    """Everything ``wifimon run`` checks before it starts, all problems at once (ConfigError), each located:
    the YAML, the schema, references across keys, every secret and CA file, the SNMP credentials, the profiles.
    What it cannot know without starting (a port in use, a database down) ``run`` reports when it meets it."""
    doc = _read(path)
    config = _validate(doc)
    credentials = _credentials(doc, _read_secrets(doc))
    _ca_files(doc)
    profiles = _profiles(doc)
    if config is not None and config.service.snmp_engine == "gufo" and (missing := gufo_missing()):
        doc.problems.append((("service", "snmp_engine"), f"gufo: {missing}; use auto or pysnmp"))
    if doc.problems or config is None:
        raise ConfigError(doc.located(doc.problems))
    return LoadedConfig(path=path, config=config, credentials=credentials, profiles=profiles)
