"""Notification channels, built from ``alerting.channels`` with their secrets resolved."""

from __future__ import annotations

from pathlib import Path

from monitor.alerting import settings as s
from monitor.alerting.channels.alertmanager import AlertmanagerChannel
from monitor.alerting.channels.base import Channel, ChannelError
from monitor.alerting.channels.email import EmailChannel
from monitor.alerting.channels.slack import SlackChannel
from monitor.alerting.channels.telegram import TelegramChannel
from monitor.alerting.channels.webhook import WebhookChannel
from monitor.config.load import ConfigError, read_secret
from monitor.config.types import Secret

__all__ = ["Channel", "ChannelError", "build_channels", "email_channel"]


def build_channels(settings: s.AlertingSettings, base: Path) -> dict[str, Channel]:
    """Every configured channel, secrets read; all unreadable secrets are reported at once (ConfigError)."""
    out: dict[str, Channel] = {}
    problems: list[str] = []
    for name, cfg in settings.channels.items():
        where = f"alerting.channels.{name}"

        def secret(value: Secret | None, key: str, where: str = where) -> str | None:
            return None if value is None else read_secret(value, base, f"{where}.{key}")

        try:
            if isinstance(cfg, s.WebhookChannel):
                url = cfg.url if isinstance(cfg.url, str) else secret(cfg.url, "url")
                out[name] = WebhookChannel(name, url or "", url_is_secret=not isinstance(cfg.url, str),
                                           timeout=cfg.timeout, bearer=secret(cfg.bearer, "bearer"))
            elif isinstance(cfg, s.SlackChannel):
                url = cfg.url if isinstance(cfg.url, str) else secret(cfg.url, "url")
                out[name] = SlackChannel(name, url or "", url_is_secret=not isinstance(cfg.url, str),
                                         timeout=cfg.timeout)
            elif isinstance(cfg, s.TelegramChannel):
                out[name] = TelegramChannel(name, cfg.base_url, secret(cfg.token, "token") or "", cfg.chat_id,
                                            timeout=cfg.timeout)
            elif isinstance(cfg, s.EmailChannel):
                out[name] = email_channel(name, cfg, base)
            elif isinstance(cfg, s.AlertmanagerChannel):
                out[name] = AlertmanagerChannel(name, cfg.url, timeout=cfg.timeout,
                                                resend_interval=cfg.resend_interval, bearer=secret(cfg.bearer, "bearer"))
        except ConfigError as exc:
            problems.extend(exc.problems)
        except (OSError, ValueError) as exc:  # e.g. an unreadable ca_file
            problems.append(f"{where}: {exc}")
    if problems:
        raise ConfigError(problems)
    return out


def email_channel(name: str, cfg: s.EmailChannel, base: Path) -> EmailChannel:
    """One e-mail channel, its password read (ConfigError) and its ca_file relative to the config's folder.

    Alerting builds it through :func:`build_channels`; the report job builds the one it mails the report with.
    """
    ca = cfg.ca_file
    if ca is not None and not Path(ca).is_absolute():
        ca = str(base / ca)
    where = f"alerting.channels.{name}"
    password = read_secret(cfg.password, base, f"{where}.password") if cfg.password is not None else None
    return EmailChannel(name, cfg.host, cfg.port, sender=cfg.sender, recipients=cfg.recipients, timeout=cfg.timeout,
                        starttls=cfg.starttls, username=cfg.username, password=password, tls_verify=cfg.tls_verify,
                        ca_file=ca)
