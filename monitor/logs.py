"""Machine-readable logs: logfmt by default, JSON lines with ``--log-format json``.

Every log call in wifimon reads ``log.info("event_name key=%s other=%d", value, n)``: a fixed event name,
then key=value pairs. The formatters keep that shape true whatever the values hold: a value with a space,
a quote or an ``=`` in it is quoted (logfmt), so ``name=군산 공설시장`` cannot be read as two fields; the
JSON form carries the same pairs as an object. Text after the event that is not key=value (a few messages
name a device in prose) is kept under ``msg``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["logfmt", "json"]

# A printf conversion as logging's %-style uses it (no mapping keys: wifimon's calls are positional).
_CONVERSION = re.compile(r"%[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[sdifrxXeEgGcoa%]")
_NEEDS_QUOTES = re.compile(r'[\s"=\\]|^$')
_PAIR = re.compile(r'([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|\S*)')


def quote(value: str) -> str:
    """A logfmt value: bare when it can be, else double-quoted with JSON escapes."""
    return json.dumps(value, ensure_ascii=False) if _NEEDS_QUOTES.search(value) else value


def render(record: logging.LogRecord) -> str:
    """The record's message with every ``key=%s`` value quoted as logfmt wants."""
    args = record.args
    if not isinstance(args, tuple) or not isinstance(record.msg, str):
        return record.getMessage()
    template, out, pos, i = record.msg, [], 0, 0
    try:
        for m in _CONVERSION.finditer(template):
            out.append(template[pos:m.start()])
            pos = m.end()
            if m.group() == "%%":
                out.append("%")
                continue
            text = m.group() % args[i]
            i += 1
            out.append(quote(text) if template[:m.start()].endswith("=") else text)
        out.append(template[pos:])
    except (IndexError, TypeError, ValueError):
        return record.getMessage()
    return "".join(out)


def fields(message: str) -> tuple[str, dict[str, str], str]:
    """(event, key=value pairs, leftover prose) of a rendered message."""
    event, _, rest = message.partition(" ")
    pairs: dict[str, str] = {}
    prose: list[str] = []
    pos = 0
    for m in _PAIR.finditer(rest):
        prose.append(rest[pos:m.start()])
        pos = m.end()
        value = m.group(2)
        pairs[m.group(1)] = json.loads(value) if value.startswith('"') else value
    prose.append(rest[pos:])
    return event, pairs, " ".join("".join(prose).split())


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class LogfmtFormatter(logging.Formatter):
    """``ts=… level=info logger=monitor.polling.poller event=probe_round_done aps=388 …``"""

    def format(self, record: logging.LogRecord) -> str:
        line = (f"ts={_timestamp(record)} level={record.levelname.lower()} logger={record.name} "
                f"event={render(record)}")
        if record.exc_info:
            line += " error=" + quote(f"{record.exc_info[0].__name__ if record.exc_info[0] else ''}: "
                                      f"{record.exc_info[1]}")
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, event, then the event's own keys."""

    def format(self, record: logging.LogRecord) -> str:
        event, pairs, prose = fields(render(record))
        doc: dict[str, Any] = {"ts": _timestamp(record), "level": record.levelname.lower(),
                               "logger": record.name, "event": event}
        doc.update({k: v for k, v in pairs.items() if k not in doc})
        if prose:
            doc["msg"] = prose
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


def configure(level: str, fmt: LogFormat = "logfmt") -> None:
    """Route every logger to stderr in the chosen format; quiet the libraries' per-request chatter."""
    root = logging.getLogger()
    root.setLevel(level)
    # As logging.basicConfig: a process that already routes its logs (a test runner calling main()) keeps its own.
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter() if fmt == "json" else LogfmtFormatter())
        root.addHandler(handler)
    for noisy in ("apscheduler", "httpx", "httpcore", "alembic"):  # their per-job / per-request lines drown ours
        logging.getLogger(noisy).setLevel(logging.WARNING)
