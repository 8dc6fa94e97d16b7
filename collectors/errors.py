"""The root of wifimon's exceptions, so a caller (the CLI, the composition root) can catch one class.

It lives here, at the bottom of the dependency graph, because ``collectors/`` imports nothing of
``monitor/`` while both raise errors of the tree::

    WifimonError                      anything wifimon refuses or cannot do; the message says where and why
    ├── ProfileError                  collectors.profile: a vendor profile file that does not validate
    ├── TrapReceiverError             collectors.traps: the trap receiver cannot bind or use its credentials
    ├── FdLimitError                  collectors.fast_snmp: the open-files limit is below one socket per target
    ├── ConfigError                   monitor.config: a config that cannot be used (``problems``: each located)
    ├── StoreError                    monitor.store: the database failed (``url`` masked, ``action``, ``detail``)
    ├── LeaseFenced                   monitor.store: a write refused, another instance holds the lease (not retried)
    ├── LeaseLost                     monitor.app: the instance stopped watching, its shard's lease is another's
    ├── ChannelError                  monitor.alerting.channels: one delivery attempt failed
    ├── ControlError                  monitor.cli.simulate: the simulator's control API refused or is unreachable
    └── UsageError                    monitor.cli: a command's arguments refused (exit code 1)

Errors a device reports (timeouts, SNMP error statuses, malformed replies) are not exceptions: they come
back as values (``collectors.types.PollError``), classified by kind, because a failing AP is data.
"""

from __future__ import annotations


class WifimonError(Exception):
    """Something wifimon refuses or cannot do. ``str(exc)`` is the one-line message for the user."""
