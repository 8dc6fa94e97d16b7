"""The ``report:`` section of the config: the availability target, and the monthly report job. Unknown keys fail.

Defaults live here and nowhere else. Example::

    report:
      target_percent: 99.5          # printed on the cover; `wifimon report --target` overrides it
      schedule: {day: 1, time: "06:00"}   # local time in service.timezone; absent: no scheduled report
      formats: [xlsx, csv, pdf]
      out_dir: reports              # the job writes reports/2026-10/…; relative to the working directory
      language: ko
      email: {channel: mail, to: [head@city.go.kr]}   # an alerting.channels entry of type email

This module imports nothing from :mod:`monitor.config` (which imports it), so there is no import cycle to
manage; whether ``email.channel`` names an e-mail channel is checked across sections by
:func:`email_channel_problems`, on the raw data, so the error carries the file and line like the others.
"""

from __future__ import annotations

import re
from datetime import time as dt_time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.domain.local_time import unquoted_time

ReportFormat = Literal["xlsx", "csv", "pdf"]

_HHMM_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportSchedule(_Strict):
    """When the job writes last month's report: a day of the month and a local time of day."""

    day: int = Field(1, ge=1, le=28, description="day of the month (1-28: every month has it)")
    time: str = Field("06:00", description="local 'HH:MM' in service.timezone")

    @field_validator("time", mode="before")
    @classmethod
    def _hhmm(cls, v: Any) -> Any:
        unquoted_time(v)
        if not isinstance(v, str) or not _HHMM_RE.match(v.strip()):
            raise ValueError(f'{v!r} is not a local time of the form "HH:MM" (e.g. "06:00")')
        return v.strip()

    @property
    def at(self) -> dt_time:
        """The time of day as a :class:`datetime.time` (no zone: it is local to ``service.timezone``)."""
        hour, minute = self.time.split(":")
        return dt_time(int(hour), int(minute))


class ReportEmail(_Strict):
    """Mail the report through an e-mail channel of ``alerting.channels`` (its server, sender, credentials)."""

    channel: str = Field(min_length=1, description="name of an alerting.channels entry with type: email")
    to: tuple[str, ...] | None = Field(
        None, min_length=1, description="recipients of the report (absent: the channel's recipients)")

    @field_validator("to")
    @classmethod
    def _addresses(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        bad = [a for a in v or () if "@" not in a or any(c.isspace() for c in a)]
        if bad:
            raise ValueError(f"not e-mail addresses: {', '.join(map(repr, bad))}")
        return v


class ReportSettings(_Strict):
    target_percent: float = Field(99.0, gt=0, le=100, description="availability target printed on the cover")
    schedule: ReportSchedule | None = Field(None, description="absent: no scheduled report")
    formats: tuple[ReportFormat, ...] = Field(("xlsx", "csv", "pdf"), min_length=1)
    out_dir: Path = Field(Path("reports"), description="the job writes <out_dir>/<YYYY-MM>/; relative to the "
                                                       "working directory")
    language: Literal["ko", "en"] = "ko"
    email: ReportEmail | None = Field(None, description="absent: the report is written, not mailed")

    @field_validator("formats", mode="before")
    @classmethod
    def _comma_list(cls, v: Any) -> Any:
        return [f.strip() for f in v.split(",") if f.strip()] if isinstance(v, str) else v

    @field_validator("formats")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError("each format only once")
        return v

    @property
    def target(self) -> float:
        """The target as a ratio (0.99), as :func:`monitor.report.build.make_report` takes it."""
        return self.target_percent / 100


def email_channel_problems(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """``report.email.channel`` must name an entry of ``alerting.channels`` whose type is ``email``.

    Runs on the raw data (see :func:`monitor.config.checks.cross_check`) so that the problem is located and
    reported together with every other one.
    """
    report = data.get("report")
    email = report.get("email") if isinstance(report, dict) else None
    name = email.get("channel") if isinstance(email, dict) else None
    if not isinstance(name, str) or not name:
        return []
    alerting = data.get("alerting")
    channels = alerting.get("channels") if isinstance(alerting, dict) else None
    channels = channels if isinstance(channels, dict) else {}
    loc = ("report", "email", "channel")
    emails = sorted(str(k) for k, c in channels.items() if isinstance(c, dict) and c.get("type") == "email")
    if name not in channels:
        return [(loc, f"no channel named {name!r} under alerting.channels "
                      f"(e-mail channels: {', '.join(emails) or 'none'})")]
    kind = channels[name].get("type") if isinstance(channels[name], dict) else None
    if kind != "email":
        return [(loc, f"channel {name!r} is of type {kind!r}, not 'email' "
                      f"(e-mail channels: {', '.join(emails) or 'none'})")]
    return []
