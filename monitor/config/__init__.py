"""Configuration: parse → validate → build. Unknown keys fail; every error names file, key path and line.

Secrets (SNMP communities, v3 keys) never sit in the YAML: they come from an environment variable or a
file, and the models keep only where they live, so they never print.

- :mod:`~monitor.config.types`: value types shared by every section (ids, host:port, durations, secrets);
- :mod:`~monitor.config.model`: the sections and the whole :class:`Config`;
- :mod:`~monitor.config.checks`: checks across keys (unique ids, references that exist, timing);
- :mod:`~monitor.config.load`: YAML → located errors → :class:`LoadedConfig` with its secrets read and its
  profiles loaded (the one path of ``run`` and ``check-config``).

The names below are loaded on first use: the sections defined elsewhere (``alerting:``, ``report:``) import
:mod:`monitor.config.types`, which runs this file first; importing the model here at once would import
those sections again while they are half-initialised.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.config.load import ConfigError, LoadedConfig, load_config, parse_config, read_secret
    from monitor.config.model import (
        AccessPoint, Category, Config, CredentialSpec, Device, FlappingPolicy, MaintenanceEntry, ServiceSettings,
        Site, SnmpSettings, TrapSettings, Weekly,
    )
    from monitor.config.types import Duration, Ident, ListenAddress, Secret, device_address, parse_duration, split_listen

__all__ = [
    "AccessPoint", "Category", "Config", "ConfigError", "CredentialSpec", "Device", "Duration", "FlappingPolicy",
    "Ident", "ListenAddress", "LoadedConfig", "MaintenanceEntry", "Secret", "ServiceSettings", "Site",
    "SnmpSettings", "TrapSettings", "Weekly", "device_address", "load_config", "parse_config", "parse_duration",
    "read_secret", "split_listen",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'monitor.config' has no attribute {name!r}")
    for module in ("monitor.config.types", "monitor.config.model", "monitor.config.load"):
        found = getattr(importlib.import_module(module), name, None)
        if found is not None:
            globals()[name] = found
            return found
    raise AttributeError(f"module 'monitor.config' has no attribute {name!r}")
