"""What every command shares: which config file it reads when none is named, the argument that names it, and
how an option takes a duration (the config's syntax)."""

from __future__ import annotations

import argparse
import os
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


def config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", type=Path, default=None,
                   help="config file (default: $WIFIMON_CONFIG, config/wifimon.yaml, config/demo/wifimon.yaml)")


class UsageError(WifimonError):
    """A problem with a command's arguments or the config it names; printed as it is, exit code 1."""
def duration_arg(text: str) -> float:
    """An option's duration in the config's one syntax (45m, 1.5h, 1h30m, 1d, 90): seconds."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
