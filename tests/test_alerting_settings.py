"""The ``alerting:`` config section: defaults, strict keys with located errors, channel references."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config.load import ConfigError, parse_config


def parse(tmp_path: Path, text: str):
    path = tmp_path / "wifimon.yaml"
    path.write_text(text, encoding="utf-8")
    return parse_config(path)


def test_defaults_without_a_section(tmp_path):
    a = parse(tmp_path, "service: {}\n").alerting
    assert a.language == "ko" and a.channels == {} and a.routes == () and a.api_token is None
    assert a.thresholds.site_degraded_after == 600 and a.repeat_interval == 14400
    assert a.route_for("critical", "site_down") is None  # no channels: nowhere to send


def test_a_full_section(tmp_path):
    a = parse(tmp_path, """\
alerting:
  language: en
  repeat_interval: 7200
  api_token: {env: WIFIMON_API_TOKEN}
  channels:
    oncall: {type: webhook, url: "http://127.0.0.1:9000/hook"}
    chat: {type: slack, url: {env: SLACK_URL}}
    phone: {type: telegram, token: {file: tg.token}, chat_id: "-100123", base_url: "http://127.0.0.1:8081"}
    mail: {type: email, host: 127.0.0.1, username: w, password: {env: SMTP_PW}, sender: w@example.org,
           recipients: [noc@example.org]}
    am: {type: alertmanager, url: "http://127.0.0.1:9093"}
  routes:
    - {severity: critical, channels: [oncall, am], escalate: [phone, mail], escalate_after: 300}
    - {rules: [ap_silent], channels: [mail]}
    - {channels: [chat]}
  thresholds: {site_degraded_after: 900, silent_after: 3600}
""").alerting
    assert a.language == "en" and set(a.channels) == {"oncall", "chat", "phone", "mail", "am"}
    assert a.route_for("critical", "site_down").escalate == ("phone", "mail")
    assert a.route_for("warning", "ap_silent").channels == ("mail",)
    assert a.route_for("warning", "site_degraded").channels == ("chat",)
    assert a.thresholds.site_degraded_after == 900


def test_every_problem_is_reported_with_its_location(tmp_path):
    with pytest.raises(ConfigError) as exc:
        parse(tmp_path, """\
alerting:
  langauge: en
  channels:
    oncall: {type: webhook, url: "ftp://example.org/x"}
    mail: {type: email, host: h, username: u, sender: w@example.org, recipients: [a@example.org]}
    pager: {type: pagerduty}
  routes:
    - {severity: critical, channels: [oncal]}
  thresholds: {site_degraded_afterr: 1}
""")
    problems = "\n".join(exc.value.problems)
    assert "wifimon.yaml:2: alerting.langauge: unknown key 'langauge'" in problems
    assert "alerting.channels.oncall.webhook.url" in problems and "http:// or https://" in problems
    assert "give both 'username' and 'password', or neither" in problems
    assert "alerting.channels.pager" in problems and "pagerduty" in problems
    assert "unknown key 'site_degraded_afterr'" in problems


def test_a_route_naming_an_unknown_channel_fails(tmp_path):
    with pytest.raises(ConfigError) as exc:
        parse(tmp_path, """\
alerting:
  channels: {oncall: {type: webhook, url: "http://127.0.0.1:1/h"}}
  routes: [{severity: critical, channels: [oncall], escalate: [phone]}]
""")
    assert "routes[0].escalate: no channel named 'phone' (known: oncall)" in "\n".join(exc.value.problems)
