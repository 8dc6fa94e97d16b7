"""A real Prometheus for tests, and the dashboards' PromQL ready to run against it.

Prometheus is Debian's `prometheus` binary, started on a free loopback port with a throw-away storage
directory, the project's recording/alert rules loaded, scraping whatever targets the test names:

    with running_prometheus(targets=[f"127.0.0.1:{port}"]) as prom:
        prom.wait_for_target_up(f"127.0.0.1:{port}", timeout=30)
        for q in dashboard_queries():
            series = prom.query(q.rendered)        # PromQLError if Prometheus rejects it

`dashboard_queries()` returns every panel query of every dashboard with the Grafana variables replaced
(query variables by `.*`, custom ones by their default, `$__rate_interval` by 5m, `$__range` by 1h), so
a test can run exactly what Grafana would send.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD_DIR = ROOT / "dashboards"
RULES = ROOT / "config" / "prometheus" / "rules.yml"

# What Grafana would put in for its built-in variables; any valid duration parses the same.
BUILTIN_VARIABLES = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__interval_ms": "60000",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
}

_HTTP_TIMEOUT = 10.0


class PromQLError(Exception):
    """Prometheus refused a query; the message names the query and Prometheus's reason."""

    def __init__(self, expr: str, error_type: str, message: str):
        super().__init__(f"{error_type}: {message}\n  query: {expr}")
        self.expr = expr
        self.error_type = error_type
        self.message = message


def prometheus_binary() -> str | None:
    return shutil.which("prometheus")




@dataclass
class Prometheus:
    """A running Prometheus and a small client for its HTTP API."""

    url: str
    workdir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=_HTTP_TIMEOUT))

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        try:
            # POST form, as Grafana does: long joined queries do not fit comfortably in a URL.
            if path.startswith("/api/v1/query"):
                r = self.client.post(self.url + path, data=dict(params or {}))
            else:
                r = self.client.get(self.url + path, params=params)
        except httpx.HTTPError as exc:
            raise RuntimeError(f"Prometheus at {self.url}{path} did not answer within {_HTTP_TIMEOUT}s: {exc!r}") from exc
        try:
            body = r.json()
        except ValueError:
            raise RuntimeError(
                f"Prometheus at {self.url}{path} answered HTTP {r.status_code}, not JSON: {r.text[:200]}"
            ) from None
        return body

    def query_raw(self, expr: str, at: float | None = None) -> dict[str, Any]:
        """The `data` of an instant query: {"resultType": …, "result": …}."""
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = at
        body = self._get("/api/v1/query", params)
        if body.get("status") != "success":
            raise PromQLError(expr, body.get("errorType", "?"), body.get("error", str(body)))
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """Instant query: its series, each {"metric": labels, "value": [t, "v"]} (a scalar as one such)."""
        data = self.query_raw(expr, at)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        body = self._get("/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step})
        if body.get("status") != "success":
            raise PromQLError(expr, body.get("errorType", "?"), body.get("error", str(body)))
        return body["data"]["result"]

    def wait_for(
        self,
        expr: str,
        predicate: Callable[[list[dict[str, Any]]], bool] = bool,
        timeout: float = 60.0,
        interval: float = 0.5,
    ) -> list[dict[str, Any]]:
        """Poll an instant query until `predicate(result)` holds (default: some series); return that result."""
        deadline = time.monotonic() + timeout
        result: list[dict[str, Any]] = []
        while True:
            result = self.query(expr)
            if predicate(result):
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expr!r} did not satisfy the condition within {timeout}s; last result: {result[:3]}")
            time.sleep(interval)

    def targets(self) -> list[dict[str, Any]]:
        return self._get("/api/v1/targets")["data"]["activeTargets"]

    def wait_for_target_up(self, address: str, timeout: float = 60.0) -> None:
        """Wait until the scrape of host:port has succeeded at least once."""
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            seen = [t for t in self.targets() if t["labels"].get("instance") == address]
            if any(t["health"] == "up" for t in seen):
                return
            time.sleep(0.3)
        errors = "; ".join(f"{t['health']}: {t.get('lastError', '')}" for t in seen) or "target not listed"
        raise TimeoutError(f"Prometheus at {self.url} could not scrape {address} within {timeout}s ({errors})")

    def rule_groups(self) -> list[dict[str, Any]]:
        return self._get("/api/v1/rules")["data"]["groups"]

    def wait_for_rule_evaluation(self, timeout: float = 60.0) -> None:
        """Wait until every loaded rule group has been evaluated at least once."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            groups = self.rule_groups()
            # An unevaluated group reports Go's zero time, 0001-01-01T00:00:00Z.
            if all(not g.get("lastEvaluation", "0001").startswith("0001") for g in groups):
                return
            time.sleep(0.3)
        raise TimeoutError(f"Prometheus at {self.url}: rule groups not all evaluated within {timeout}s")

    def alerts(self) -> list[dict[str, Any]]:
        return self._get("/api/v1/alerts")["data"]["alerts"]


def _config(
    targets: Sequence[str], job: str, rule_files: Sequence[Path], scrape_interval: str, evaluation_interval: str,
    scrape_options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_interval,  # may not exceed the interval
            "evaluation_interval": evaluation_interval,
        },
        "rule_files": [str(Path(p).resolve()) for p in rule_files],
        "scrape_configs": [],
    }
    if targets:
        config["scrape_configs"].append({"job_name": job, "static_configs": [{"targets": list(targets)}],
                                         **(scrape_options or {})})
    return config


@contextmanager
def running_prometheus(
    targets: Sequence[str] = (),
    *,
    job: str = "wifimon",
    rule_files: Sequence[Path] = (RULES,),
    scrape_interval: str = "1s",
    evaluation_interval: str = "1s",
    startup_timeout: float = 30.0,
    scrape_options: Mapping[str, Any] | None = None,
) -> Iterator[Prometheus]:
    """Start Prometheus scraping `targets` (host:port, loopback only) as job `job`; stop and clean up after.

    Raises RuntimeError (with the tail of Prometheus's log) when the binary is missing or it does not
    become ready in time; tests turn a missing binary into a skip with `prometheus_binary()` first.
    """
    binary = prometheus_binary()
    if binary is None:
        raise RuntimeError("the prometheus binary is not installed (Debian package 'prometheus')")
    for address in targets:
        host = address.rpartition(":")[0]
        if not (host.startswith("127.") or host in ("localhost", "[::1]")):
            raise ValueError(f"scrape target {address!r} is not on loopback")
    workdir = Path(tempfile.mkdtemp(prefix="wifimon-prom-"))
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(_config(targets, job, rule_files, scrape_interval, evaluation_interval, scrape_options)))
    prom: Prometheus | None = None
    try:
        # A port picked free can be taken before Prometheus binds it: try a few.
        for attempt in range(3):
            port = free_port()
            log_path = workdir / f"prometheus-{attempt}.log"
            with open(log_path, "wb") as log:
                process = subprocess.Popen(
                    [
                        binary,
                        f"--config.file={config_path}",
                        f"--storage.tsdb.path={workdir / 'data'}",
                        f"--web.listen-address=127.0.0.1:{port}",
                        "--storage.tsdb.retention.time=1d",
                        "--log.level=info",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=workdir,
                )
            prom = Prometheus(f"http://127.0.0.1:{port}", workdir, process, log_path)
            if _wait_ready(prom, startup_timeout):
                break
            _stop(prom)
            if "address already in use" not in prom.log_tail():
                raise RuntimeError(
                    f"Prometheus on 127.0.0.1:{port} not ready within {startup_timeout}s; log:\n{prom.log_tail()}"
                )
            prom = None
        if prom is None:
            raise RuntimeError("Prometheus could not bind a free loopback port in 3 attempts")
        yield prom
    finally:
        if prom is not None:
            _stop(prom)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_ready(prom: Prometheus, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if prom.process.poll() is not None:
            return False
        try:
            if httpx.get(prom.url + "/-/ready", timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


def _stop(prom: Prometheus) -> None:
    prom.client.close()
    if prom.process.poll() is None:
        prom.process.terminate()
        try:
            prom.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            prom.process.kill()
            prom.process.wait(timeout=10)


# ---------------------------------------------------------------------------------------------------
# Dashboards: their queries, with Grafana's variables filled in.


@dataclass(frozen=True)
class PanelQuery:
    """One target of one panel."""

    dashboard: str  # file name, e.g. overview.json
    uid: str
    panel_id: int
    panel_title: str
    ref_id: str
    expr: str  # as written in the dashboard
    rendered: str  # as Grafana would send it, variables substituted
    instant: bool

    @property
    def name(self) -> str:
        return f"{self.dashboard}#{self.panel_id}{self.ref_id}"


@dataclass(frozen=True)
class VariableQuery:
    """The PromQL inside a query variable (`label_values(expr, label)`, `query_result(expr)`)."""

    dashboard: str
    variable: str
    query: str
    rendered: str


def dashboard_files(directory: Path = DASHBOARD_DIR) -> list[Path]:
    return sorted(directory.glob("*.json"))


def load_dashboard(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data.get("dashboard", data)  # accept the API's {"dashboard": …} wrapper too


def panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' nested panels included."""

    def walk(items: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for p in items:
            yield p
            yield from walk(p.get("panels", []))

    return walk(dashboard.get("panels", []))


def dashboard_variables(dashboard: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Values for the dashboard's variables: query variables match everything (`.*`), custom and
    constant ones take their current (default) value; `overrides` wins, e.g. {"site": "gs-0001"}."""
    values = dict(BUILTIN_VARIABLES)
    for var in dashboard.get("templating", {}).get("list", []):
        name, kind = var["name"], var.get("type")
        if kind == "datasource":
            values[name] = var.get("query", "prometheus")
        elif kind in ("custom", "constant", "textbox", "interval"):
            current = var.get("current", {}).get("value")
            if isinstance(current, list):
                current = current[0] if current else None
            if current in (None, "", "$__all"):
                options = [o["value"] for o in var.get("options", [])]
                current = options[0] if options else str(var.get("query", "")).split(",")[0]
            values[name] = str(current)
        else:
            values[name] = ".*"
    values.update(overrides or {})
    return values


_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")


def render(expr: str, variables: Mapping[str, str]) -> str:
    """Substitute Grafana variables ($var, ${var}, ${var:fmt}, [[var]]) in a query."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(3)
        if name not in variables:
            raise KeyError(f"query uses ${name}, which the dashboard does not define: {expr}")
        return variables[name]

    return _VARIABLE.sub(sub, expr)


def dashboard_queries(
    paths: Iterable[Path] | None = None, overrides: Mapping[str, str] | None = None
) -> list[PanelQuery]:
    """Every panel target with an expression, across the dashboards (default: dashboards/*.json)."""
    out: list[PanelQuery] = []
    for path in paths if paths is not None else dashboard_files():
        board = load_dashboard(path)
        variables = dashboard_variables(board, overrides)
        for p in panels(board):
            for t in p.get("targets", []):
                expr = t.get("expr")
                if not expr:
                    continue
                out.append(
                    PanelQuery(
                        dashboard=path.name,
                        uid=board.get("uid", ""),
                        panel_id=p.get("id", 0),
                        panel_title=p.get("title", ""),
                        ref_id=t.get("refId", ""),
                        expr=expr,
                        rendered=render(expr, variables),
                        instant=bool(t.get("instant")) and not t.get("range", False),
                    )
                )
    return out


_VARIABLE_FUNCS = re.compile(r"^\s*(label_values|query_result)\s*\((.*)\)\s*$", re.S)


def variable_promql(query: str) -> str | None:
    """The PromQL inside a Grafana Prometheus variable query, or None when it has none
    (`label_values(label)`, `label_names()`, `metrics(…)`)."""
    m = _VARIABLE_FUNCS.match(query)
    if not m:
        return None
    func, args = m.groups()
    if func == "query_result":
        return args.strip()
    expr, sep, _label = args.rpartition(",")
    return expr.strip() if sep else None


def variable_queries(paths: Iterable[Path] | None = None) -> list[VariableQuery]:
    out: list[VariableQuery] = []
    for path in paths if paths is not None else dashboard_files():
        board = load_dashboard(path)
        values = dashboard_variables(board)
        for var in board.get("templating", {}).get("list", []):
            if var.get("type") != "query":
                continue
            q = var.get("query")
            query = q.get("query", "") if isinstance(q, dict) else str(q or "")
            promql = variable_promql(query)
            if promql:
                out.append(VariableQuery(path.name, var["name"], query, render(promql, values)))
    return out


def run_queries(prom: Prometheus, queries: Iterable[PanelQuery]) -> tuple[list[str], list[str]]:
    """Run each query once; return (errors, empties), each a list of "dashboard#panelREF title: …" lines.

    An end-to-end test over a live wifimon wants both empty; some panels only have data when something
    happened (a site down, an SNMP error, a notification), so such a test names the ones it excuses.
    """
    errors: list[str] = []
    empties: list[str] = []
    for q in queries:
        try:
            if not prom.query(q.rendered):
                empties.append(f"{q.name} {q.panel_title}: {q.rendered}")
        except PromQLError as exc:
            errors.append(f"{q.name} {q.panel_title}: {exc}")
    return errors, empties


# ---------------------------------------------------------------------------------------------------
# Rules


def load_rules(path: Path = RULES) -> list[dict[str, Any]]:
    """Every rule of a Prometheus rule file (recording and alerting), with its group's name as `group`."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [{**rule, "group": g["name"]} for g in doc.get("groups", []) for rule in g.get("rules", [])]


def recording_rules(path: Path = RULES) -> dict[str, str]:
    """Recorded name → expression."""
    return {r["record"]: r["expr"] for r in load_rules(path) if "record" in r}


def alerting_rules(path: Path = RULES) -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for r in load_rules(path) if "alert" in r}


# ---------------------------------------------------------------------------------------------------
# Metric names inside PromQL (no parser of our own beyond this: Prometheus itself judges syntax).

_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
    "and", "or", "unless", "atan2", "inf", "nan",
}


def metric_names(expr: str) -> set[str]:
    """Names of the series an expression selects (functions, keywords and label names left out)."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    s = re.sub(r"\{[^}]*\}", " ", s)  # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)  # ranges and subqueries
    s = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)  # label lists
    names = set()
    for m in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", s):
        word = m.group(0)
        if word.lower() in _KEYWORDS or s[m.end():].lstrip().startswith("("):
            continue
        names.add(word)
    return names
