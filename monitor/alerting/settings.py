"""The ``alerting:`` section of the config: channels, routes, thresholds, language. Unknown keys fail.

Defaults live here and nowhere else. Credentials (a Telegram bot token, an SMTP password, a webhook URL
that embeds a token, the bearer token of ``POST /api/ack``) are :class:`monitor.config.Secret` references,
never values in the YAML, exactly like SNMP communities.

Example::

    alerting:
      language: ko                      # or en
      repeat_interval: 14400            # seconds between reminders of an unacknowledged alert
      api_token: {env: WIFIMON_API_TOKEN}
      channels:
        oncall: {type: webhook, url: "http://127.0.0.1:9000/hook"}
        chat:   {type: slack, url: {env: SLACK_WEBHOOK_URL}}
        phone:  {type: telegram, token: {file: telegram.token}, chat_id: "-100123"}
        mail:   {type: email, host: smtp.example.org, port: 587, username: wifimon,
                 password: {env: SMTP_PASSWORD}, sender: wifimon@example.org, recipients: [noc@example.org]}
        am:     {type: alertmanager, url: "http://127.0.0.1:9093"}
      routes:
        - {severity: critical, channels: [oncall, am], escalate: [phone, mail], escalate_after: 600}
        - {severity: warning, channels: [chat, am]}
      thresholds: {site_degraded_after: 600, silent_after: 7200}
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.config.types import Ident, Secret

Severity = Literal["critical", "warning", "info"]
RuleName = Literal[
    "site_down", "site_degraded", "ap_rebooted", "ap_flapping", "ap_silent", "ferry_backhaul_lost",
    "service_overrun", "service_store", "service_channel", "service_undelivered", "controller_table_lost",
    "controller_down",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _http_url(v: str) -> str:
    if not v.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return v


class _Channel(_Strict):
    timeout: float = Field(10.0, gt=0, le=120, description="seconds for one delivery attempt")


class WebhookChannel(_Channel):
    """Generic JSON webhook: one POST per message (schema in ``monitor.alerting.channels.webhook``)."""

    type: Literal["webhook"]
    url: str | Secret = Field(description="the URL, or a secret holding it (when it embeds a token)")
    bearer: Secret | None = Field(None, description="sent as 'Authorization: Bearer …'")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | Secret) -> str | Secret:
        return _http_url(v) if isinstance(v, str) else v


class SlackChannel(_Channel):
    """A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, …)."""

    type: Literal["slack"]
    url: str | Secret = Field(description="incoming-webhook URL; it is a credential, so usually a secret")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | Secret) -> str | Secret:
        return _http_url(v) if isinstance(v, str) else v


class TelegramChannel(_Channel):
    """Telegram bot API ``sendMessage``."""

    type: Literal["telegram"]
    token: Secret
    chat_id: str = Field(min_length=1)
    base_url: str = Field("https://api.telegram.org", description="the Bot API server (a local one in tests)")

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _http_url(v).rstrip("/")


class EmailChannel(_Channel):
    """E-mail over SMTP, with STARTTLS and AUTH when the server offers them."""

    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(587, gt=0, lt=65536)
    starttls: bool = Field(True, description="upgrade with STARTTLS before AUTH; refuse to send if it fails")
    tls_verify: bool = Field(True, description="verify the server certificate")
    ca_file: str | None = Field(None, description="PEM file of CAs to trust instead of the system's")
    username: str | None = None
    password: Secret | None = None
    sender: str = Field(min_length=3)
    recipients: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _auth_pair(self) -> EmailChannel:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both 'username' and 'password', or neither")
        return self


class AlertmanagerChannel(_Channel):
    """Prometheus Alertmanager API v2 (``POST /api/v2/alerts``)."""

    type: Literal["alertmanager"]
    url: str = Field(description="Alertmanager base URL, e.g. http://127.0.0.1:9093")
    bearer: Secret | None = None
    resend_interval: float = Field(
        60, gt=0, le=3600,
        description="seconds between re-pushes of firing alerts; endsAt is 4 intervals ahead, as Prometheus does")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _http_url(v).rstrip("/")


Channel = Annotated[
    WebhookChannel | SlackChannel | TelegramChannel | EmailChannel | AlertmanagerChannel,
    Field(discriminator="type"),
]


class Route(_Strict):
    """Which channels hear an alert. The first route whose ``severity`` and ``rules`` match wins."""

    severity: Severity | None = Field(None, description="match this severity (absent: any)")
    rules: tuple[RuleName, ...] = Field((), description="match only these rules (empty: any)")
    channels: tuple[Ident, ...] = Field(min_length=1)
    escalate: tuple[Ident, ...] = Field(
        (), description="channels added one by one while the alert stays unacknowledged")
    escalate_after: float = Field(600, gt=0, description="seconds between escalation steps")
    repeat_interval: float | None = Field(None, gt=0, description="overrides alerting.repeat_interval")


class Thresholds(_Strict):
    site_down_for: float = Field(0, ge=0, description="seconds a site must be down (after confirmation) before alerting")
    site_degraded_after: float = Field(600, ge=0, description="seconds some APs must be down before 'degraded' alerts")
    ferry_backhaul_for: float = Field(0, ge=0, description="seconds a ferry's LTE backhaul must be lost in service hours")
    ferry_backhaul_severity: Severity = "critical"
    reboot_window: float = Field(3600, gt=0, description="one reboot alert per AP per this many seconds")
    flapping_window: float = Field(3600, gt=0, description="one flapping alert per AP per this many seconds")
    silent_after: float = Field(7200, gt=0, description="seconds of zero clients before an AP is 'silent'")
    silent_min_clients: int = Field(
        1, ge=1, description="clients the site's other APs (or this AP a week ago) must have had")
    overruns: int = Field(3, ge=1, description="round overruns within overrun_window that raise an alert")
    overrun_window: float = Field(900, gt=0)
    store_failing_after: float = Field(60, ge=0, description="seconds of failing store writes before alerting")
    channel_failing_after: float = Field(120, ge=0, description="seconds a channel keeps failing before alerting")
    event_burst: int = Field(20, ge=1, description="most reboot/flapping alerts sent per event_burst_window")
    event_burst_window: float = Field(600, gt=0)
    undelivered_window: float = Field(
        3600, gt=0, description="one 'notifications given up' alert per channel per this many seconds")


class DeliverySettings(_Strict):
    """How the outbox is sent. Each channel has its own queue; a failing channel is retried alone (one
    message at a time, ``backoff`` doubling to ``max_backoff``) and, once it answers again, its whole queue
    goes at once."""

    backoff: float = Field(2.0, gt=0, description="first retry delay of a failing channel, doubled per attempt")
    max_backoff: float = Field(
        30.0, gt=0, description="longest retry delay: a healed channel is noticed (and its queue sent) within "
                                "it; a dead one costs one attempt per this many seconds")
    concurrency: int = Field(8, ge=1, le=100, description="messages in flight per channel")
    batch: int = Field(1000, ge=10, description="undelivered messages of one channel read from the outbox at once")
    give_up_after: float = Field(
        21600, gt=0, description="seconds a message may stay undelivered before it is given up (listed by "
                                 "'wifimon alerts --undelivered', counted, and announced on the other channels)")

    @model_validator(mode="after")
    def _order(self) -> DeliverySettings:
        if self.max_backoff < self.backoff:
            raise ValueError("'max_backoff' must be at least 'backoff'")
        return self


class AlertingSettings(_Strict):
    language: Literal["ko", "en"] = "ko"
    repeat_interval: float = Field(14400, gt=0, description="seconds between reminders of an unacknowledged alert")
    evaluate_interval: float = Field(1.0, gt=0, le=60, description="seconds between rule evaluations")
    ack_poll_interval: float = Field(3.0, gt=0, le=300, description="seconds between reads of new acks from the store")
    api_token: Secret | None = Field(None, description="bearer token for POST /api/ack; absent: the endpoint is off")
    channels: dict[Ident, Channel] = {}
    routes: tuple[Route, ...] = Field(
        (), description="absent: every alert goes to every channel")
    thresholds: Thresholds = Thresholds()
    delivery: DeliverySettings = DeliverySettings()

    @model_validator(mode="after")
    def _known_channels(self) -> AlertingSettings:
        problems = []
        for i, route in enumerate(self.routes):
            for field in ("channels", "escalate"):
                for name in getattr(route, field):
                    if name not in self.channels:
                        problems.append(f"routes[{i}].{field}: no channel named {name!r}"
                                        f" (known: {', '.join(sorted(self.channels)) or 'none'})")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def route_for(self, severity: str, rule: str) -> Route | None:
        """The route an alert takes; with no routes configured, every channel hears everything."""
        for route in self.routes:
            if (route.severity is None or route.severity == severity) and (not route.rules or rule in route.rules):
                return route
        if not self.routes and self.channels:
            return Route(channels=tuple(self.channels))
        return None
