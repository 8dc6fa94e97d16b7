"""Log lines stay machine-readable whatever the values hold (logfmt, and JSON with --log-format json)."""

from __future__ import annotations

import json
import logging

from monitor.logs import JsonFormatter, LogfmtFormatter, fields, render


def _record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("monitor.test", logging.INFO, __file__, 1, msg, args, None)


def test_values_with_spaces_quotes_or_equals_are_quoted():
    rec = _record("site_down site=%s name=%s reason=%s n=%d", "gs-0001", "군산 공설시장", 'a="b"', 3)
    assert render(rec) == 'site_down site=gs-0001 name="군산 공설시장" reason="a=\\"b\\"" n=3'


def test_logfmt_line_parses_back_to_the_same_pairs():
    rec = _record("sites_imported file=%s rows=%d into=%s", "/tmp/전국 무료.csv", 25, "")
    line = LogfmtFormatter().format(rec)
    assert line.startswith("ts=") and " level=info logger=monitor.test event=sites_imported " in line
    event, pairs, prose = fields(line.split(" event=", 1)[1])
    assert (event, pairs, prose) == ("sites_imported", {"file": "/tmp/전국 무료.csv", "rows": "25", "into": ""}, "")


def test_json_lines_carry_event_pairs_and_prose():
    doc = json.loads(JsonFormatter().format(_record("device_skipped site=%s %s", "s 1", "v3 is not simulated")))
    assert doc["event"] == "device_skipped" and doc["site"] == "s 1" and doc["msg"] == "v3 is not simulated"
    assert doc["level"] == "info" and doc["logger"] == "monitor.test"


def test_a_percent_literal_and_odd_arguments_do_not_break_a_line():
    assert render(_record("progress done=100%% of=%s", "all")) == "progress done=100% of=all"
    assert render(_record("odd key=%s", "a", "b")) == "odd key=a"  # extra args: rendered as far as the template goes
