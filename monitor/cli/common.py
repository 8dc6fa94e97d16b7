"""What every command shares: which config file it reads when none is named, the argument that names it,
what it says when that default config fails, how an option takes a duration (the config's syntax), and how a
table pads its columns (by display width: a Korean name is twice as wide as its length)."""

from __future__ import annotations

import argparse
import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from collectors.errors import WifimonError
from monitor.config.types import parse_duration

DEFAULT_CONFIGS = (Path("config/wifimon.yaml"), Path("config/demo/wifimon.yaml"))


def default_config() -> Path:
    """$WIFIMON_CONFIG, else config/wifimon.yaml, else the demo config (relative to the working dir)."""
    env = os.environ.get("WIFIMON_CONFIG")
    if env:
        return Path(env)
    for candidate in DEFAULT_CONFIGS:
        if candidate.exists():
            return candidate
    return DEFAULT_CONFIGS[0]


CONFIG_HELP = "config file (default: $WIFIMON_CONFIG, config/wifimon.yaml, config/demo/wifimon.yaml)"


def config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", type=Path, default=None, help=CONFIG_HELP)


def default_note(named: Path | None, path: Path) -> str | None:
    """When no config was named: which file the command read instead, and how to name another (else None).

    A config created at config/wifimon.yaml (by ``import-sites --into``, say) silently takes over from the
    demo's; a command failing on it must say which file it read.
    """
    if named is not None:
        return None
    why = "$WIFIMON_CONFIG" if os.environ.get("WIFIMON_CONFIG") else "the default"
    return (f"(no config named: read {path}, {why}; name another as an argument or with --config, "
            "or set $WIFIMON_CONFIG)")


def config_failure(named: Path | None, path: Path, problems: Sequence[str]) -> str:
    """A config's problems, one a line, then which file was read when it was a default one."""
    note = default_note(named, path)
    return "\n".join([*problems, note] if note else problems)


def plain(doc: str | None) -> str:
    """A module docstring as a command's ``--help`` text: reST literals (double backticks) as plain words."""
    return (doc or "").replace("``", "")


def width(text: str) -> int:
    """Display width on a terminal: wide and full-width characters (Hangul, CJK) take two columns."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(value: object, columns: int, right: bool = False) -> str:
    """``value`` padded with spaces to ``columns`` display columns (left-aligned unless ``right``)."""
    text = str(value)
    fill = " " * max(0, columns - width(text))
    return fill + text if right else text + fill


class UsageError(WifimonError):
    """A problem with a command's arguments or the config it names; printed as it is, exit code 1."""
def duration_arg(text: str) -> float:
    """An option's duration in the config's one syntax (45m, 1.5h, 1h30m, 1d, 90): seconds."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
