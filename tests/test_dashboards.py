"""The Grafana dashboards: generated JSON is committed as generated, Grafana's required fields are there,
every panel queries something with a unit, and every query parses in a real Prometheus.

Whether the queries return data from a live wifimon is the end-to-end test's job (it uses tests/prom.py).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.exposition.metric_names import METRICS
from tests.prom import (
    DASHBOARD_DIR,
    PanelQuery,
    PromQLError,
    Prometheus,
    dashboard_files,
    dashboard_queries,
    dashboard_variables,
    load_dashboard,
    metric_names,
    panels,
    prometheus_binary,
    recording_rules,
    render,
    running_prometheus,
    variable_queries,
)

FILES = dashboard_files()
BOARDS = {p.name: load_dashboard(p) for p in FILES}
QUERIES = dashboard_queries(FILES)
DS_REF = {"type": "prometheus", "uid": "${datasource}"}
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def exposed_names() -> set[str]:
    """Series names wifimon exposes (prometheus_client adds _total / _bucket, _sum, _count)."""
    names = {"up"}
    for spec in METRICS.values():
        if spec.type == "counter":
            names.add(spec.name + "_total")
        elif spec.type == "histogram":
            names.update(spec.name + suffix for suffix in ("_bucket", "_sum", "_count"))
        else:
            names.add(spec.name)
    return names


def data_panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return (p for p in panels(board) if p.get("type") != "row")


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("dashboards_generate", DASHBOARD_DIR / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


# --- The committed files ---------------------------------------------------------------------------


def test_committed_json_is_what_the_generator_builds():
    built = _generator().build_all()
    committed = {p.name: p.read_text(encoding="utf-8") for p in FILES}
    assert sorted(committed) == sorted(built), "dashboards/*.json and generate.py's dashboards differ in files"
    stale = [name for name, text in built.items() if committed[name] != text]
    assert not stale, f"run `python dashboards/generate.py`: {stale} differ from what it builds"


def test_six_dashboards_with_unique_stable_uids():
    assert len(BOARDS) >= 6
    uids = [b.get("uid") for b in BOARDS.values()]
    assert all(isinstance(u, str) and re.fullmatch(r"wifimon-[a-z0-9-]+", u) for u in uids), uids
    assert len(set(uids)) == len(uids), f"duplicate uids: {uids}"
    titles = [b["title"] for b in BOARDS.values()]
    assert len(set(titles)) == len(titles), f"duplicate titles: {titles}"


# --- Grafana's model -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_dashboard_has_the_fields_grafana_requires(name):
    board = BOARDS[name]
    for key in ("uid", "title", "panels", "schemaVersion", "templating", "time", "tags"):
        assert key in board, f"{name}: missing {key}"
    assert board["schemaVersion"] >= 36, f"{name}: schemaVersion {board['schemaVersion']} is older than Grafana 10"
    assert board.get("id") is None, f"{name}: a provisioned dashboard must not carry a database id"
    assert HANGUL.search(board["title"]), f"{name}: title should be Korean"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    ds = variables.get("datasource")
    assert ds and ds["type"] == "datasource" and ds["query"] == "prometheus", f"{name}: no prometheus datasource variable"
    for var in variables.values():
        if var["type"] == "query":
            assert var["datasource"] == DS_REF, f"{name}: variable {var['name']} does not use ${{datasource}}"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_panel_ids_unique_and_layout_does_not_overlap(name):
    board = BOARDS[name]
    all_panels = list(panels(board))
    ids = [p.get("id") for p in all_panels]
    assert all(isinstance(i, int) for i in ids), f"{name}: panel without an integer id"
    assert len(set(ids)) == len(ids), f"{name}: duplicate panel ids"
    cells: dict[tuple[int, int], str] = {}
    for p in all_panels:
        g = p["gridPos"]
        assert g["w"] > 0 and g["h"] > 0 and g["x"] >= 0 and g["x"] + g["w"] <= 24, f"{name}: {p['title']} {g}"
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{name}: {p['title']!r} overlaps {cells[(x, y)]!r}"
                cells[(x, y)] = p["title"]


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_panel_has_datasource_query_unit_and_titles(name):
    problems = []
    for p in data_panels(BOARDS[name]):
        where = f"{name} panel {p.get('id')} {p.get('title')!r}"
        if p.get("datasource") != DS_REF:
            problems.append(f"{where}: datasource is {p.get('datasource')}, not ${{datasource}}")
        targets = p.get("targets") or []
        if not targets:
            problems.append(f"{where}: no targets")
        refs = [t.get("refId") for t in targets]
        if not all(refs) or len(set(refs)) != len(refs):
            problems.append(f"{where}: refIds missing or repeated: {refs}")
        for t in targets:
            if not (t.get("expr") or "").strip():
                problems.append(f"{where}: target {t.get('refId')} has no expr")
            if t.get("datasource") != DS_REF:
                problems.append(f"{where}: target {t.get('refId')} datasource is {t.get('datasource')}")
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if not isinstance(unit, str) or not unit:
            problems.append(f"{where}: no unit in fieldConfig.defaults")
        if not HANGUL.search(p.get("title", "")):
            problems.append(f"{where}: title is not Korean")
        if not re.search(r"[A-Za-z]{3,}", p.get("description", "")):
            problems.append(f"{where}: no English description")
    assert not problems, "\n".join(problems)


def test_variables_are_matched_as_regexes_and_all_defined():
    """`site="$site"` would break "All" (`.*`) and multi-select: variables go in `=~` matchers."""
    problems = []
    for q in QUERIES:
        if re.search(r'(?<![=!])=\s*"[^"]*\$', q.expr) or re.search(r'!=\s*"[^"]*\$', q.expr):
            problems.append(f"{q.name}: variable in an exact matcher: {q.expr}")
    assert not problems, "\n".join(problems)
    # render() raises on a variable the dashboard does not define; rendering them all is the check.
    assert all("$" not in q.rendered for q in QUERIES), [q.rendered for q in QUERIES if "$" in q.rendered]


def test_render_substitutes_grafana_variables():
    values = {"site": "gs-1", "__rate_interval": "5m", "target": "0.99"}
    assert render('rate(x{site=~"$site"}[$__rate_interval]) > ${target}', values) == 'rate(x{site=~"gs-1"}[5m]) > 0.99'
    with pytest.raises(KeyError, match="nope"):
        render("x{a=~\"$nope\"}", values)


def test_availability_target_defaults_to_0_99():
    board = next(b for b in BOARDS.values() if b["uid"] == "wifimon-availability")
    assert dashboard_variables(board)["target"] == "0.99"
    assert any("$target" in q.expr for q in QUERIES if q.uid == "wifimon-availability")


def test_queries_use_only_known_metrics():
    known = exposed_names() | set(recording_rules())
    unknown = {f"{q.name}: {name}" for q in QUERIES for name in metric_names(q.rendered) if name not in known}
    for v in variable_queries(FILES):
        unknown |= {f"{v.dashboard} ${v.variable}: {n}" for n in metric_names(v.rendered) if n not in known}
    assert not unknown, "names neither in monitor/exposition/metric_names.py nor recorded in rules.yml:\n" + "\n".join(sorted(unknown))


def test_metric_names_extracts_series_names_only():
    expr = ('sum by (site) (rate(wifi_ap_receive_bytes_total{site=~"a|b"}[5m] offset 1h)) '
            '* on (site) group_left (name) wifi_site_info or vector(0) > bool wifi:site_clients:sum')
    assert metric_names(expr) == {"wifi_ap_receive_bytes_total", "wifi_site_info", "wifi:site_clients:sum"}


def test_every_recording_rule_is_used():
    rules = recording_rules()
    used_in = " ".join(q.expr for q in QUERIES) + " " + " ".join(rules.values())
    unused = [name for name in rules if not re.search(re.escape(name) + r"(?![\w:])", used_in)]
    assert not unused, f"recording rules no dashboard or rule uses: {unused}"


def test_overview_covers_what_the_issue_asks():
    board = next(b for b in BOARDS.values() if b["uid"] == "wifimon-overview")
    kinds = {p["type"] for p in data_panels(board)}
    assert {"stat", "geomap", "table", "timeseries"} <= kinds
    exprs = " ".join(q.expr for q in QUERIES if q.uid == "wifimon-overview")
    for needle in ("wifi_site_state_since_timestamp_seconds", "topk(10", "bottomk(10", "wifi:site_state:code",
                   "[24h", 'state=~"down"', 'state=~"degraded"'):
        assert needle in exprs, f"overview lacks {needle}"


# --- Against a real Prometheus ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def prometheus() -> Iterator[Prometheus]:
    if prometheus_binary() is None:
        pytest.skip("prometheus is not installed (Debian package 'prometheus'); cannot check PromQL")
    with running_prometheus() as prom:  # no targets: we only ask it to parse
        yield prom


def test_prometheus_rejects_a_broken_query(prometheus):
    """The check below can fail: Prometheus does report parse errors through the helper."""
    with pytest.raises(PromQLError, match="parse error"):
        prometheus.query('sum(wifi_site_state{state=~"down"}')


@pytest.mark.parametrize("q", QUERIES, ids=[q.name for q in QUERIES])
def test_panel_query_parses(prometheus, q: PanelQuery):
    try:
        prometheus.query(q.rendered)
    except PromQLError as exc:
        pytest.fail(f"{q.dashboard} panel {q.panel_id} {q.panel_title!r} target {q.ref_id}: {exc}")


def test_variable_queries_parse(prometheus):
    queries = variable_queries(FILES)
    assert queries, "no query variables found"
    for v in queries:
        try:
            prometheus.query(v.rendered)
        except PromQLError as exc:
            pytest.fail(f"{v.dashboard} variable ${v.variable} ({v.query}): {exc}")


@pytest.mark.parametrize("record", sorted(recording_rules()))
def test_recording_rule_parses(prometheus, record):
    prometheus.query(recording_rules()[record])


def test_prometheus_loaded_the_rules(prometheus):
    groups = prometheus.rule_groups()
    loaded = {r["name"] for g in groups for r in g["rules"]}
    assert set(recording_rules()) <= loaded


def test_dashboards_are_plain_json_files_grafana_can_provision():
    for path in FILES:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert "dashboard" not in data, f"{path.name}: provisioning wants the bare dashboard, not an API wrapper"
        assert isinstance(data["panels"], list)
    assert Path(DASHBOARD_DIR, "generate.py").exists()
