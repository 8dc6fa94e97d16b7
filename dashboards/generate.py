#!/usr/bin/env python3
"""Build wifimon's Grafana dashboards with Grafana's own builders and write them beside this file.

    python dashboards/generate.py           rewrite dashboards/*.json
    python dashboards/generate.py --check   exit 1 when a committed file differs from what this builds

Six dashboards share their variables, state colours, units and site joins; writing them as code keeps
those in one place. Panels, queries, variables and the dashboard itself come from grafana-foundation-sdk
(Grafana's generated types and builders), so the JSON is Grafana's schema by construction: an option a
panel kind does not have is an AttributeError here, not a silently ignored key. This file adds only the
layout (left to right, wrapping at the grid's width) and the shared pieces. The committed JSON is what Grafana provisions (config/grafana/provisioning), and
tests/test_dashboards.py fails when it is not exactly what this script produces: edit here, then run it.

Conventions every panel follows (the tests check them):
- the datasource is the `${datasource}` variable, never a fixed uid;
- Grafana variables appear in label matchers as `=~"$var"`, so "All" (`.*`) and multi-select work;
- metric names are those of monitor/exposition/metric_names.py (counters with `_total`) or recording rules of
  config/prometheus/rules.yml;
- titles are Korean, descriptions English; every panel sets a unit.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from grafana_foundation_sdk.builders import bargauge as bargauge_panel
from grafana_foundation_sdk.builders import common
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import geomap as geomap_panel
from grafana_foundation_sdk.builders import prometheus
from grafana_foundation_sdk.builders import stat as stat_panel
from grafana_foundation_sdk.builders import statetimeline
from grafana_foundation_sdk.builders import table as table_panel
from grafana_foundation_sdk.builders import timeseries as timeseries_panel
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as m
from grafana_foundation_sdk.models import geomap as geomap_models
from grafana_foundation_sdk.models import prometheus as prom

HERE = Path(__file__).resolve().parent
GRID_WIDTH = 24
DS = m.DataSourceRef(type_val="prometheus", uid="${datasource}")
TAG = "wifimon"

# State codes of the recording rules wifi:site_state:code / wifi:ap_state:code (rules.yml).
# (code, state, Korean text, colour)
STATE_CODES = (
    (0, "up", "정상", "green"),
    (1, "degraded", "일부 장애", "orange"),
    (2, "down", "장애", "red"),
    (3, "maintenance", "점검", "blue"),
    (4, "out_of_service", "서비스 시간 외", "purple"),
    (5, "unknown", "알 수 없음", "text"),
)
STATE_WORDS = {state: text for _, state, text, _ in STATE_CODES}

# Label filters of the site-scoped variables.
SITE_SCOPE = 'district=~"$district", category=~"$category"'
SITE_INFO_SCOPED = f"wifi_site_info{{{SITE_SCOPE}}}"
FERRY_INFO = 'wifi_site_info{kind="ferry", site=~"$ferry"}'
MTD = 'wifi_site_availability_ratio{window="month_to_date"}'
HIDDEN_COLUMNS = ("Time", "__name__", "instance", "job", "kind", "window", "lat", "lon")


# ---------------------------------------------------------------------------------------------------
# PromQL fragments


def scoped(expr: str, labels: str = "") -> str:
    """Keep only the sites of the district/category variables; optionally copy site labels over."""
    return f"({expr}) * on (site) group_left ({labels}) {SITE_INFO_SCOPED}"


def ferries(expr: str) -> str:
    """Keep only the ferries of the `ferry` variable and label each series with the ferry's name."""
    return f"({expr}) * on (site) group_left (name) {FERRY_INFO}"


def clients(by: str, selector: str) -> str:
    """Stations per `by` without double counting.

    A profile may report clients at several levels at once (per VAP and per radio, say); each level
    alone adds up to the AP's total. So: add rows up within a level, then take the largest level.
    `by` must include `ap`: levels are per AP.
    """
    return f"max by ({by}) (sum by ({by}, level) (wifi_ap_clients{{{selector}}}))"


def rate_of(metric: str, selector: str, by: str) -> str:
    return f"sum by ({by}) (rate({metric}{{{selector}}}[$__rate_interval]))"


def target(expr: str, legend: str = "__auto", *, instant: bool = False, table: bool = False) -> prometheus.Dataquery:
    """One Prometheus query. refId is filled in by the panel."""
    q = prometheus.Dataquery().datasource(DS).editor_mode(prom.QueryEditorMode.CODE).expr(expr).legend_format(legend)
    q = q.instant() if instant else q.range()
    return q.format(prom.PromQueryFormat.TABLE) if table else q


def steps(*pairs: tuple[str, float | None]) -> dash.ThresholdsConfig:
    return dash.ThresholdsConfig().mode(m.ThresholdsMode.ABSOLUTE).steps(
        [m.Threshold(value=v, color=c) for c, v in pairs])


def value_map(entries: list[tuple[Any, str, str]]) -> list[m.ValueMapping]:
    """Grafana value mappings: (value, text, colour)."""
    return [m.ValueMap(options={str(v): m.ValueMappingResult(text=text, color=color, index=i)
                                for i, (v, text, color) in enumerate(entries)})]


STATE_MAPPINGS = value_map([(code, text, color) for code, _, text, color in STATE_CODES])
STATE_WORD_MAPPINGS = value_map([(state, text, color) for _, state, text, color in STATE_CODES])
UP_MAPPINGS = value_map([(1, "정상", "green"), (0, "장애", "red")])


def override(name: str, matcher: str = "byName", **props: Any) -> dash.DashboardFieldConfigSourceOverrides:
    """Field properties for the fields ``matcher`` selects (by name, or a query's refId with byFrameRefID);
    ``custom__x`` stands for the property ``custom.x``."""
    return dash.DashboardFieldConfigSourceOverrides().matcher(m.MatcherConfig(id_val=matcher, options=name)).properties(
        [m.DynamicConfigValue(id_val=k.replace("__", "."), value=v.build() if isinstance(v, cogbuilder.Builder) else v)
         for k, v in props.items()])


def transmit_below(ref: str = "B") -> dash.DashboardFieldConfigSourceOverrides:
    """Draw one query's series below zero (transmit under receive) without negating the data."""
    return override(ref, "byFrameRefID", custom__transform="negative-Y")


def quantile(q: float, metric: str, selector: str, by: str = "") -> str:
    inner = f"sum by (le{', ' + by if by else ''}) (rate({metric}_bucket{{{selector}}}[$__rate_interval]))"
    return f"histogram_quantile({q}, {inner})"


def transformation(kind: str, options: dict[str, Any] | None = None) -> m.DataTransformerConfig:
    return m.DataTransformerConfig(id_val=kind, options=options or {})


def organize(order: list[str], rename: dict[str, str] | None = None) -> m.DataTransformerConfig:
    """Hide bookkeeping columns, put the useful ones first, give them Korean headers."""
    return transformation("organize", {
        "excludeByName": {name: True for name in HIDDEN_COLUMNS},
        "indexByName": {name: i for i, name in enumerate(order)},
        "renameByName": rename or {},
    })


def site_link(field_name: str) -> dash.DashboardFieldConfigSourceOverrides:
    """Clicking a site's name opens the Site dashboard for it."""
    return override(field_name, links=[{
        "title": "사이트 상세 (site detail)",
        "url": "/d/wifimon-site/wifimon-site?var-site=${__data.fields.site}&${__url_time_range}",
    }])


# ---------------------------------------------------------------------------------------------------
# Panels: Grafana's own builders (grafana-foundation-sdk), one helper per kind for what all share.

P = TypeVar("P", bound=cogbuilder.Builder[Any])


def _common(p: P, title: str, description: str, targets: list[prometheus.Dataquery], unit: str, *,
            decimals: int | None = None, minimum: float | None = None, maximum: float | None = None,
            thresholds: dash.ThresholdsConfig | None = None, mappings: list[m.ValueMapping] | None = None,
            overrides: list[dash.DashboardFieldConfigSourceOverrides] | None = None,
            transformations: list[m.DataTransformerConfig] | None = None, time_from: str | None = None) -> P:
    b: Any = p
    b = b.title(title).description(description).datasource(DS).unit(unit)
    b = b.targets([t.ref_id(chr(ord("A") + i)) for i, t in enumerate(targets)])
    if decimals is not None:
        b = b.decimals(decimals)
    if minimum is not None:
        b = b.min(minimum)
    if maximum is not None:
        b = b.max(maximum)
    if thresholds is not None:
        b = b.thresholds(thresholds)
    if mappings:
        b = b.mappings(mappings)
    if overrides:
        b = b.overrides(overrides)
    if transformations:
        b = b.transformations(transformations)
    if time_from:
        b = b.time_from(time_from)
    return typing.cast(P, b)


def _thresholds_colour(p: P) -> P:
    b: Any = p
    return typing.cast(P, b.color_scheme(dash.FieldColor().mode(m.FieldColorModeId.THRESHOLDS)))


def _reduce_last() -> common.ReduceDataOptions:
    return common.ReduceDataOptions().calcs(["lastNotNull"]).fields("").values(False)


def stat(title: str, description: str, targets: list[prometheus.Dataquery], unit: str, *,
         thresholds: dash.ThresholdsConfig | None = None, mappings: list[m.ValueMapping] | None = None,
         color_mode: str = "value", text_mode: str = "auto", decimals: int | None = None,
         graph: bool = False) -> stat_panel.Panel:
    p = _common(stat_panel.Panel(), title, description, targets, unit, decimals=decimals,
                thresholds=thresholds or steps(("text", None)), mappings=mappings)
    return _thresholds_colour(p).reduce_options(_reduce_last()).color_mode(cm.BigValueColorMode(color_mode)) \
        .graph_mode(cm.BigValueGraphMode.AREA if graph else cm.BigValueGraphMode.NONE) \
        .text_mode(cm.BigValueTextMode(text_mode)).justify_mode(cm.BigValueJustifyMode.AUTO) \
        .orientation(cm.VizOrientation.AUTO)


def timeseries(title: str, description: str, targets: list[prometheus.Dataquery], unit: str, *,
               minimum: float | None = None, maximum: float | None = None, decimals: int | None = None,
               overrides: list[dash.DashboardFieldConfigSourceOverrides] | None = None,
               time_from: str | None = None, stack: bool = False, draw: str = "line",
               legend_calcs: tuple[str, ...] = ("lastNotNull", "max")) -> timeseries_panel.Panel:
    p = _common(timeseries_panel.Panel(), title, description, targets, unit, minimum=minimum, maximum=maximum,
                decimals=decimals, overrides=overrides, time_from=time_from)
    return p.color_scheme(dash.FieldColor().mode(m.FieldColorModeId.PALETTE_CLASSIC)) \
        .draw_style(cm.GraphDrawStyle(draw)) \
        .line_interpolation(cm.LineInterpolation.STEP_AFTER if draw == "line" else cm.LineInterpolation.LINEAR) \
        .line_width(1).fill_opacity(20 if stack else 5).show_points(cm.VisibilityMode.NEVER) \
        .stacking(common.StackingConfig().mode(cm.StackingMode.NORMAL if stack else cm.StackingMode.NONE).group("A")) \
        .legend(common.VizLegendOptions().display_mode(cm.LegendDisplayMode.TABLE).placement(cm.LegendPlacement.RIGHT)
                .show_legend(True).calcs(list(legend_calcs))) \
        .tooltip(common.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI).sort(cm.SortOrder.DESCENDING))


def bargauge(title: str, description: str, targets: list[prometheus.Dataquery], unit: str, *,
             thresholds: dash.ThresholdsConfig | None = None, minimum: float | None = 0,
             maximum: float | None = None, decimals: int | None = None) -> bargauge_panel.Panel:
    p = _common(bargauge_panel.Panel(), title, description, targets, unit, minimum=minimum, maximum=maximum,
                decimals=decimals, thresholds=thresholds or steps(("blue", None)))
    return _thresholds_colour(p).reduce_options(_reduce_last()).display_mode(cm.BarGaugeDisplayMode.GRADIENT) \
        .orientation(cm.VizOrientation.HORIZONTAL).show_unfilled(True).value_mode(cm.BarGaugeValueMode.COLOR)


def state_timeline(title: str, description: str, targets: list[prometheus.Dataquery],
                   mappings: list[m.ValueMapping]) -> statetimeline.Panel:
    p = _common(statetimeline.Panel(), title, description, targets, "none", thresholds=steps(("text", None)),
                mappings=mappings)
    return _thresholds_colour(p).line_width(0).fill_opacity(80).merge_values(True) \
        .show_value(cm.VisibilityMode.NEVER).align_value(cm.TimelineValueAlignment.LEFT).row_height(0.9) \
        .legend(common.VizLegendOptions().display_mode(cm.LegendDisplayMode.LIST).placement(cm.LegendPlacement.BOTTOM)
                .show_legend(True)) \
        .tooltip(common.VizTooltipOptions().mode(cm.TooltipDisplayMode.SINGLE).sort(cm.SortOrder.NONE))


def table(title: str, description: str, targets: list[prometheus.Dataquery], unit: str, *,
          transformations: list[m.DataTransformerConfig],
          overrides: list[dash.DashboardFieldConfigSourceOverrides] | None = None, sort_by: str | None = None,
          descending: bool = True, thresholds: dash.ThresholdsConfig | None = None,
          mappings: list[m.ValueMapping] | None = None, decimals: int | None = None) -> table_panel.Panel:
    p = _common(table_panel.Panel(), title, description, targets, unit, decimals=decimals,
                thresholds=thresholds or steps(("text", None)), mappings=mappings, overrides=overrides,
                transformations=transformations)
    p = _thresholds_colour(p).show_header(True).cell_height(cm.TableCellHeight.SM) \
        .footer(common.TableFooterOptions().show(False).reducer(["sum"]))
    if sort_by:
        p = p.sort_by([common.TableSortByFieldState().display_name(sort_by).desc(descending)])
    return p


def site_map(title: str, description: str, targets: list[prometheus.Dataquery]) -> geomap_panel.Panel:
    """Sites as markers at their coordinates (lat/lon labels of wifi_site_info), coloured by state code."""
    p = _common(geomap_panel.Panel(), title, description, targets, "none", mappings=STATE_MAPPINGS,
                thresholds=steps(*((color, code if code else None) for code, _, _, color in STATE_CODES)),
                transformations=[transformation("convertFieldType", {"fields": {}, "conversions": [
                    {"targetField": "lat", "destinationType": "number"},
                    {"targetField": "lon", "destinationType": "number"}]})])
    markers = common.MapLayerOptions().type("markers").name("사이트").tooltip(True).config({
        "showLegend": True,
        "style": {
            "size": {"fixed": 6, "min": 4, "max": 12},
            "color": {"field": "Value", "fixed": "dark-green"},
            "opacity": 0.85,
            "symbol": {"mode": "fixed", "fixed": "img/icons/marker/circle.svg"},
        },
    }).location(common.FrameGeometrySource().mode(cm.FrameGeometrySourceMode.COORDS).latitude("lat").longitude("lon"))
    return _thresholds_colour(p) \
        .view(geomap_panel.MapViewConfig().id("fit").all_layers(True).lat(0).lon(0).zoom(12)) \
        .controls(geomap_panel.ControlsOptions().show_zoom(True).mouse_wheel_zoom(True).show_attribution(True)) \
        .basemap(common.MapLayerOptions().type("default").name("기본 지도").config({})) \
        .layers([markers]) \
        .tooltip(geomap_panel.TooltipOptions().mode(geomap_models.TooltipMode.DETAILS))


# ---------------------------------------------------------------------------------------------------
# Variables


def datasource_var() -> dash.DatasourceVariable:
    return dash.DatasourceVariable("datasource").label("데이터 소스").type("prometheus")


def query_var(name: str, label: str, query: str, *, multi: bool = True, regex: str = "",
              description: str = "") -> dash.QueryVariable:
    """A variable filled from Prometheus. Multi-select ones offer "All" as `.*`."""
    v = dash.QueryVariable(name).label(label).description(description).datasource(DS) \
        .query({"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"}) \
        .refresh(m.VariableRefresh.ON_TIME_RANGE_CHANGED).regex(regex).sort(m.VariableSort.ALPHABETICAL_ASC) \
        .multi(multi).include_all(multi)
    return v.all_value(".*") if multi else v


def custom_var(name: str, label: str, values: list[str], description: str = "") -> dash.CustomVariable:
    """A fixed list; the first value is the default."""
    return dash.CustomVariable(name).label(label).description(description).values(",".join(values)) \
        .current(m.VariableOption(selected=True, text=values[0], value=values[0]))


# The site picker shows Korean names and passes the site id: query_result lines look like
# `wifi_site_info{category="park",…,name="은파호수공원",site="gs-0012"} 1 …` (labels sorted).
SITE_NAME_REGEX = '/name="(?<text>[^"]*)".*site="(?<value>[^"]*)"/'


def district_var() -> dash.QueryVariable:
    return query_var("district", "지역 (district)", "label_values(wifi_site_info, district)")


def category_var() -> dash.QueryVariable:
    return query_var("category", "분류 (category)", "label_values(wifi_site_info, category)")


def site_var(scoped_by_district: bool = True) -> dash.QueryVariable:
    """Pick one site; on dashboards with district/category variables, only among those."""
    selector = f"wifi_site_info{{{SITE_SCOPE}}}" if scoped_by_district else "wifi_site_info"
    return query_var(
        "site", "사이트 (site)", f"query_result({selector})",
        multi=False, regex=SITE_NAME_REGEX, description="Site, by its Korean name; the value is the site id",
    )


# ---------------------------------------------------------------------------------------------------
# Dashboard assembly


@dataclass
class Dashboard:
    """A dashboard being laid out: panels placed left to right, wrapping at the grid's width; ``build`` hands
    them, with the shared variables, links and annotations, to Grafana's Dashboard builder."""

    uid: str
    title: str
    description: str
    variables: list[cogbuilder.Builder[m.VariableModel]]
    time_from: str = "now-6h"
    refresh: str = "1m"
    panels: list[cogbuilder.Builder[Any]] = field(default_factory=list)
    _x: int = 0
    _y: int = 0
    _row_h: int = 0

    def _newline(self) -> None:
        self._y += self._row_h
        self._x = 0
        self._row_h = 0

    def row(self, title: str) -> None:
        """A section header across the full width."""
        if self._x:
            self._newline()
        self.panels.append(dash.Row(title).id(len(self.panels) + 1).grid_pos(m.GridPos(h=1, w=GRID_WIDTH, x=0, y=self._y)))
        self._y += 1

    def add(self, p: Any, w: int, h: int) -> None:
        """Place a panel left to right, wrapping to a new line when the width is used up."""
        if self._x + w > GRID_WIDTH:
            self._newline()
        self.panels.append(p.id(len(self.panels) + 1).grid_pos(m.GridPos(h=h, w=w, x=self._x, y=self._y)))
        self._x += w
        self._row_h = max(self._row_h, h)

    def build(self) -> m.Dashboard:
        d = dash.Dashboard(self.title).uid(self.uid).description(self.description).tags([TAG]).readonly() \
            .tooltip(m.DashboardCursorSync.CROSSHAIR).time(self.time_from, "now").timezone("browser") \
            .refresh(self.refresh).fiscal_year_start_month(0).live_now(False).version(1).week_start("") \
            .link(dash.DashboardLink("wifimon").type(m.DashboardLinkType.DASHBOARDS).tags([TAG]).as_dropdown(True)
                  .include_vars(False).keep_time(True).icon("external link").target_blank(False)) \
            .variables([datasource_var(), *self.variables])
        for p in self.panels:
            d = d.with_row(p) if isinstance(p, dash.Row) else d.with_panel(p)
        return d.build()

    def to_json(self) -> dict[str, Any]:
        """The dashboard as Grafana's JSON model (what provisioning loads)."""
        model: dict[str, Any] = json.loads(json.dumps(self.build(), cls=JSONEncoder))
        return model


# ---------------------------------------------------------------------------------------------------
# The dashboards


def overview() -> Dashboard:
    d = Dashboard(
        uid="wifimon-overview",
        title="공공 와이파이 전체 현황",
        description="Overview of the city's public Wi-Fi: what is up, down or degraded now, where, and how busy.",
        variables=[district_var(), category_var()],
    )

    def count_in(metric: str, states: str) -> str:
        # sum, not count: the state series are 0/1 for every state, so "none down" reads 0.
        selector = metric + '{state=~"' + states + '"}'
        return f"sum({scoped(selector)}) or vector(0)"

    def count_sites(states: str) -> str:
        return count_in("wifi_site_state", states)

    def count_aps(states: str) -> str:
        return count_in("wifi_ap_state", states)

    d.row("지금 상태 (state now)")
    d.add(stat("정상 사이트", "Sites with every AP up.", [target(count_sites("up"), "정상")], "short",
               thresholds=steps(("green", None))), 4, 4)
    d.add(stat("일부 장애 사이트", "Sites with some of their APs down (degraded).",
               [target(count_sites("degraded"), "일부 장애")], "short",
               thresholds=steps(("green", None), ("orange", 1)), color_mode="background"), 4, 4)
    d.add(stat("장애 사이트", "Sites that are down: every AP down, or the uplink down.",
               [target(count_sites("down"), "장애")], "short",
               thresholds=steps(("green", None), ("red", 1)), color_mode="background"), 4, 4)
    d.add(stat("점검·시간 외 사이트", "Sites in planned maintenance or outside their service hours "
               "(ferries off their timetable); not counted as outages.",
               [target(count_sites("maintenance|out_of_service"), "점검·시간 외")], "short",
               thresholds=steps(("blue", None))), 4, 4)
    d.add(stat("정상 AP", "Access points answering SNMP.", [target(count_aps("up"), "정상 AP")], "short",
               thresholds=steps(("green", None))), 4, 4)
    d.add(stat("장애 AP", "Access points confirmed down (consecutive failed probes).",
               [target(count_aps("down"), "장애 AP")], "short",
               thresholds=steps(("green", None), ("red", 1)), color_mode="background"), 4, 4)

    geomap = site_map(
        "사이트 지도",
        "Every site at its coordinates (wifi_site_info lat/lon), coloured by state: green up, orange degraded, "
        "red down, blue maintenance, purple outside service hours, grey unknown.",
        [target(f"wifi:site_state:code * on (site) group_left (name, lat, lon, district, category) {SITE_INFO_SCOPED}",
                instant=True, table=True)],
    )
    d.add(geomap, 14, 14)

    broken = 'max by (site, state) (wifi_site_state{state=~"down|degraded"}) == 1'
    since = "max by (site) (wifi_site_state_since_timestamp_seconds)"
    d.add(table(
        "장애·일부 장애 사이트",
        "Sites down or degraded now, with when their state began (wifi_site_state_since_timestamp_seconds) "
        "and for how long. Click a name for the site's dashboard.",
        [
            target(scoped(f"(time() - {since}) * on (site) group_left (state) ({broken})",
                          "name, district, category"), instant=True, table=True),
            target(scoped(f"(1000 * {since}) * on (site) group_left (state) ({broken})",
                          "name, district, category"), instant=True, table=True),
        ],
        "dtdurations",
        transformations=[transformation("merge"),
                         organize(["name", "state", "Value #B", "Value #A", "district", "category", "site"],
                                  {"name": "사이트", "state": "상태", "district": "지역", "category": "분류",
                                   "site": "ID"})],
        overrides=[override("Value #A", displayName="지속 시간"),
                   override("Value #B", displayName="시작 시각", unit="dateTimeAsIso"),
                   override("state", mappings=STATE_WORD_MAPPINGS, custom__cellOptions={"type": "color-text"}),
                   site_link("name")],
        sort_by="지속 시간",
    ), 10, 14)

    d.row("접속자·트래픽 (clients and traffic)")
    site_clients = f"wifi:site_clients:sum{{{SITE_SCOPE}}}"
    rx = f"wifi:site_receive_bytes:rate5m{{{SITE_SCOPE}}}"
    tx = f"wifi:site_transmit_bytes:rate5m{{{SITE_SCOPE}}}"
    d.add(stat("현재 접속자", "Stations associated now over the selected sites.",
               [target(f"sum({site_clients}) or vector(0)", "접속자")], "short", graph=True), 4, 5)
    d.add(stat("현재 처리량", "Traffic now (5-minute rate of the APs' uplink byte counters): receive = what the "
               "APs took in from the network (users' downloads), transmit = what they sent.",
               [target(f"sum({rx})", "수신 (receive)"), target(f"sum({tx})", "송신 (transmit)")], "Bps",
               text_mode="value_and_name", graph=True), 6, 5)
    d.add(stat("24시간 최대 접속자", "Peak of the total stations over the last 24 hours (1-minute steps).",
               [target(f"max_over_time(sum({site_clients})[24h:])", "최대", instant=True)], "short"), 4, 5)
    d.add(stat("24시간 전송량", "Bytes moved through the selected sites' APs in the last 24 hours.",
               [target(f'sum({scoped("increase(wifi_ap_receive_bytes_total[24h])")})', "수신 (receive)", instant=True),
                target(f'sum({scoped("increase(wifi_ap_transmit_bytes_total[24h])")})', "송신 (transmit)", instant=True)],
               "decbytes", text_mode="value_and_name"), 10, 5)
    d.add(timeseries("접속자 추이 (24시간)", "Total stations over the last 24 hours.",
                     [target(f"sum({site_clients})", "접속자")], "short", minimum=0, time_from="24h"), 12, 8)
    d.add(timeseries("처리량 추이 (24시간)", "Total traffic over the last 24 hours.",
                     [target(f"sum({rx})", "수신 (receive)"), target(f"sum({tx})", "송신 (transmit)")],
                     "Bps", minimum=0, time_from="24h"), 12, 8)

    d.row("분류·지역별 (by category and district)")
    d.add(bargauge("분류별 접속자", "Stations now by site category (bus stop, park, market, …).",
                   [target(f"sum by (category) ({site_clients})", "{{category}}", instant=True)], "short"), 8, 10)
    d.add(bargauge("분류별 장애 사이트", "Sites down now by category (the district filter does not apply here).",
                   [target('wifi:category_sites_down:count{category=~"$category"}', "{{category}}", instant=True)],
                   "short", thresholds=steps(("green", None), ("red", 1))), 8, 10)
    d.add(bargauge("지역별 접속자", "Stations now by district.",
                   [target(f"sum by (district) ({site_clients})", "{{district}}", instant=True)], "short"), 8, 10)
    d.add(timeseries("분류별 접속자 추이 (24시간)",
                     "Stations by category over 24 hours (the district filter does not apply here).",
                     [target('wifi:category_clients:sum{category=~"$category"}', "{{category}}")], "short",
                     minimum=0, time_from="24h", stack=True), 12, 9)
    d.add(timeseries("지역별 접속자 추이 (24시간)",
                     "Stations by district over 24 hours (the category filter does not apply here).",
                     [target('wifi:district_clients:sum{district=~"$district"}', "{{district}}")], "short",
                     minimum=0, time_from="24h", stack=True), 12, 9)

    d.row("순위 (rankings)")
    d.add(table("가장 붐비는 사이트 10곳", "The 10 sites with the most stations now.",
                [target(f"topk(10, {site_clients})", instant=True, table=True)], "short",
                transformations=[organize(["name", "Value", "district", "category", "site"],
                                          {"name": "사이트", "Value": "접속자", "district": "지역",
                                           "category": "분류", "site": "ID"})],
                overrides=[site_link("name")], sort_by="접속자"), 12, 10)
    d.add(table("가용률 하위 사이트 10곳",
                "The 10 sites with the lowest availability this month so far, as the monthly report computes it "
                "(wifi_site_availability_ratio, window month_to_date).",
                [target(f'bottomk(10, {scoped(f"{MTD} >= 0", "name, district, category")})', instant=True, table=True)],
                "percentunit",
                transformations=[organize(["name", "Value", "district", "category", "site"],
                                          {"name": "사이트", "Value": "가용률", "district": "지역",
                                           "category": "분류", "site": "ID"})],
                overrides=[site_link("name")], sort_by="가용률", descending=False, decimals=2,
                thresholds=steps(("red", None), ("orange", 0.95), ("green", 0.99))), 12, 10)
    return d


def site() -> Dashboard:
    d = Dashboard(
        uid="wifimon-site",
        title="사이트 상세",
        description="One site in depth: its APs' states, clients per AP/radio/SSID, traffic, uptime, probes, availability.",
        variables=[district_var(), category_var(), site_var()],
    )
    s = 'site=~"$site"'
    d.row("상태 (state)")
    d.add(stat("사이트 상태", "The site's state now.", [target(f"wifi:site_state:code{{{s}}}", "상태")], "none",
               mappings=STATE_MAPPINGS, color_mode="background"), 4, 4)
    d.add(stat("상태 지속 시간", "How long the site has been in its current state.",
               [target(f"time() - wifi_site_state_since_timestamp_seconds{{{s}}}", "지속")], "dtdurations"), 4, 4)
    d.add(stat("AP 상태별 수", "The site's APs by state (wifi_site_aps).",
               [target(f"wifi_site_aps{{{s}}}", "{{state}}")], "short", text_mode="value_and_name"), 6, 4)
    d.add(stat("접속자", "Stations associated over all the site's APs.",
               [target(f"wifi_site_clients{{{s}}}", "접속자")], "short", graph=True), 4, 4)
    d.add(stat("이달 가용률", "Availability this month so far, the figure the monthly report prints "
               "(scheduled time minus unknown and downtime, over scheduled minus unknown).",
               [target(f'wifi_site_availability_ratio{{{s}, window="month_to_date"}}', "가용률")], "percentunit",
               decimals=2, thresholds=steps(("red", None), ("orange", 0.95), ("green", 0.99))), 6, 4)
    d.add(state_timeline("사이트 상태 이력", "The site's state over time; each red stretch is an outage.",
                         [target(f"wifi:site_state:code{{{s}}}", "사이트")], STATE_MAPPINGS), 24, 4)
    d.add(state_timeline("AP 상태 이력", "Each AP's state over time.",
                         [target(f"wifi:ap_state:code{{{s}}}", "{{ap}}")], STATE_MAPPINGS), 24, 7)

    d.row("접속자 (clients)")
    d.add(timeseries("AP별 접속자", "Stations per AP.", [target(clients("ap", s), "{{ap}}")], "short",
                     minimum=0, stack=True), 8, 8)
    d.add(timeseries("무선별 접속자", "Stations per AP and radio (2.4/5/6 GHz), where the profile reports radios.",
                     [target(clients("ap, radio", f'{s}, radio!=""'), "{{ap}} {{radio}}")], "short",
                     minimum=0, stack=True), 8, 8)
    per_ap_ssid = clients("ap, ssid", f'{s}, ssid!=""')
    d.add(timeseries("SSID별 접속자", "Stations per SSID over the site's APs, where the profile reports SSIDs.",
                     [target(f"sum by (ssid) ({per_ap_ssid})", "{{ssid}}")], "short", minimum=0, stack=True), 8, 8)

    d.row("트래픽·장비 (traffic and devices)")
    d.add(timeseries("처리량", "Traffic per AP from the uplink byte counters: receive (users' downloads) above, "
                     "transmit below zero.",
                     [target(rate_of("wifi_ap_receive_bytes_total", s, "ap"), "{{ap}} 수신"),
                      target(rate_of("wifi_ap_transmit_bytes_total", s, "ap"), "{{ap}} 송신")], "Bps",
                     overrides=[transmit_below()]), 12, 8)
    d.add(timeseries("프로브 응답 시간", "Round-trip time of the last liveness probe of each AP, and of the "
                     "site's uplink device where it has one.",
                     [target(f"wifi_ap_probe_duration_seconds{{{s}}}", "{{ap}}"),
                      target(f"wifi_uplink_probe_duration_seconds{{{s}}}", "업링크 {{device}}")], "s",
                     minimum=0), 12, 8)
    d.add(stat("가동 시간", "Each AP's uptime (sysUpTime, corrected for its 497-day wrap).",
               [target(f"wifi_ap_uptime_seconds{{{s}}}", "{{ap}}")], "dtdurations", text_mode="value_and_name"), 8, 5)
    d.add(stat("재부팅 (기간 내)", "Reboots detected in the selected time range (uptime went back, not its wrap).",
               [target(f"round(increase(wifi_ap_reboots_total{{{s}}}[$__range]))", "{{ap}}", instant=True)],
               "short", text_mode="value_and_name", thresholds=steps(("green", None), ("orange", 1))), 8, 5)
    d.add(stat("장애 횟수 (기간 내)", "Outages that began in the selected time range, counted from the state "
               "series (approximate at the range's edges; `wifimon report` lists them exactly).",
               [target(f'ceil(changes(wifi_site_state{{{s}, state="down"}}[$__range]) / 2)', "장애", instant=True)],
               "short", thresholds=steps(("green", None), ("red", 1))), 8, 5)

    d.row("가용률 (availability)")
    d.add(timeseries("가용률", "Availability by window (month_to_date is what the monthly report prints).",
                     [target(f"wifi_site_availability_ratio{{{s}}}", "{{window}}")], "percentunit",
                     maximum=1, decimals=3, legend_calcs=("lastNotNull", "min")), 24, 8)
    return d


def ap() -> Dashboard:
    d = Dashboard(
        uid="wifimon-ap",
        title="AP 상세",
        description="One access point in depth: clients per radio and SSID, interface traffic, CPU, radios.",
        variables=[
            site_var(scoped_by_district=False),
            query_var("ap", "AP", 'label_values(wifi_ap_info{site=~"$site"}, ap)', multi=False),
        ],
    )
    a = 'site=~"$site", ap=~"$ap"'
    d.row("상태 (state)")
    d.add(stat("AP 상태", "The AP's state now.", [target(f"wifi:ap_state:code{{{a}}}", "상태")], "none",
               mappings=STATE_MAPPINGS, color_mode="background"), 4, 4)
    d.add(stat("가동 시간", "Uptime (sysUpTime, corrected for its 497-day wrap).",
               [target(f"wifi_ap_uptime_seconds{{{a}}}", "가동")], "dtdurations"), 4, 4)
    d.add(stat("마지막 응답 이후", "Time since the AP last answered SNMP.",
               [target(f"time() - wifi_ap_last_success_timestamp_seconds{{{a}}}", "경과")], "s",
               thresholds=steps(("green", None), ("orange", 60), ("red", 300))), 4, 4)
    d.add(stat("접속자", "Stations associated now.", [target(clients("site, ap", a), "접속자")], "short",
               graph=True), 4, 4)
    d.add(stat("재부팅 (기간 내)", "Reboots in the selected time range.",
               [target(f"round(increase(wifi_ap_reboots_total{{{a}}}[$__range]))", "재부팅", instant=True)], "short",
               thresholds=steps(("green", None), ("orange", 1))), 4, 4)
    d.add(stat("장비", "Profile and model (wifi_ap_info).",
               [target(f"wifi_ap_info{{{a}}}", "{{profile}} {{model}}")], "none", text_mode="name"), 4, 4)
    d.add(state_timeline("상태 이력", "The AP's state over time.",
                         [target(f"wifi:ap_state:code{{{a}}}", "{{ap}}")], STATE_MAPPINGS), 24, 4)

    d.row("접속자 (clients)")
    d.add(timeseries("무선별 접속자", "Stations per radio, where the profile reports radios.",
                     [target(clients("ap, radio", f'{a}, radio!=""'), "{{radio}}")], "short", minimum=0, stack=True),
          12, 8)
    d.add(timeseries("SSID별 접속자", "Stations per SSID, where the profile reports SSIDs.",
                     [target(clients("ap, ssid", f'{a}, ssid!=""'), "{{ssid}}")], "short", minimum=0, stack=True),
          12, 8)

    d.row("인터페이스·프로브 (interface and probes)")
    d.add(timeseries("인터페이스 처리량", "Uplink interface traffic: receive above, transmit below zero.",
                     [target(rate_of("wifi_ap_receive_bytes_total", a, "ap"), "수신 (receive)"),
                      target(rate_of("wifi_ap_transmit_bytes_total", a, "ap"), "송신 (transmit)")], "Bps",
                     overrides=[transmit_below()]),
          12, 8)
    d.add(timeseries("프로브 응답 시간·손실", "Liveness probe round-trip time (left) and the share of probes "
                     "that failed over 5 minutes (right).",
                     [target(f"wifi_ap_probe_duration_seconds{{{a}}}", "응답 시간 (RTT)"),
                      target(f"wifi:ap_probe_loss:ratio_rate5m{{{a}}}", "손실 (loss)")], "s", minimum=0,
                     overrides=[override("B", "byFrameRefID", unit="percentunit", max=1,
                                          custom__axisPlacement="right")]), 12, 8)

    d.row("장비·무선 (device and radios)")
    d.add(timeseries("CPU 사용률", "Mean CPU load, where the profile has it. Memory is not exported yet.",
                     [target(f"wifi_ap_cpu_ratio{{{a}}}", "CPU")], "percentunit", minimum=0, maximum=1), 6, 8)
    d.add(timeseries("무선 사용률", "Channel utilisation per radio, where the profile has it.",
                     [target(f"wifi_ap_radio_utilisation_ratio{{{a}}}", "{{radio}}")], "percentunit",
                     minimum=0, maximum=1), 6, 8)
    d.add(timeseries("채널", "Channel number per radio, where the profile has it.",
                     [target(f"wifi_ap_radio_channel{{{a}}}", "{{radio}}")], "none", decimals=0,
                     legend_calcs=("lastNotNull",)), 6, 8)
    d.add(timeseries("잡음", "Noise floor per radio, where the profile has it.",
                     [target(f"wifi_ap_radio_noise_dbm{{{a}}}", "{{radio}}")], "dBm",
                     legend_calcs=("lastNotNull", "max")), 6, 8)
    return d


def ferries_board() -> Dashboard:
    d = Dashboard(
        uid="wifimon-ferries",
        title="여객선 와이파이",
        description="The ferries side by side: on their timetable or not, LTE backhaul latency and loss, "
        "clients on board. Off-timetable time is 'out of service', not an outage.",
        variables=[query_var("ferry", "여객선 (ferry)", 'query_result(wifi_site_info{kind="ferry"})',
                             regex=SITE_NAME_REGEX)],
    )
    d.row("지금 (now)")
    d.add(stat("운항 여부", "Whether the timetable says the ferry is in service now (wifi_site_in_service).",
               [target(ferries("wifi_site_in_service"), "{{name}}")], "none", text_mode="value_and_name",
               mappings=value_map([(1, "운항 중", "green"), (0, "운항 외", "blue")]), color_mode="background"), 6, 5)
    d.add(stat("와이파이 상태", "The ferry site's state now.",
               [target(ferries("wifi:site_state:code"), "{{name}}")], "none", text_mode="value_and_name",
               mappings=STATE_MAPPINGS, color_mode="background"), 6, 5)
    d.add(stat("LTE 업링크", "Whether the ferry's LTE router answers SNMP.",
               [target(ferries("wifi_uplink_up"), "{{name}}")], "none", text_mode="value_and_name",
               mappings=value_map([(1, "연결", "green"), (0, "끊김", "red")]), color_mode="background"), 6, 5)
    d.add(stat("탑승 접속자", "Stations associated on board now.",
               [target(ferries("wifi_site_clients"), "{{name}}")], "short", text_mode="value_and_name"), 6, 5)

    ferry_sites = 'site=~"$ferry"'
    d.row("백홀 (LTE backhaul)")
    d.add(timeseries("백홀 응답 시간", "Probe round-trip time of each ferry's LTE router and the mean over its "
                     "APs (LTE: hundreds of ms is normal).",
                     [target(ferries("wifi_uplink_probe_duration_seconds"), "{{name}} LTE"),
                      target(ferries("avg by (site) (wifi_ap_probe_duration_seconds)"), "{{name}} AP")], "s",
                     minimum=0), 12, 8)
    d.add(timeseries("프로브 손실률", "Share of liveness probes to each ferry's APs that failed "
                     "(wifi_ap_probe_failures_total / wifi_ap_probes_total).",
                     [target(ferries(f'{rate_of("wifi_ap_probe_failures_total", ferry_sites, "site")} / '
                                     f'{rate_of("wifi_ap_probes_total", ferry_sites, "site")}'), "{{name}}")],
                     "percentunit", minimum=0, maximum=1), 12, 8)

    d.add(timeseries("LTE 신호 (RSRP)", "Reference signal received power of each ferry's LTE modem, where the "
                     "router's profile reads it (MikroTik mtxrLTEModem): above -90 dBm is good, below -110 poor.",
                     [target(ferries("wifi_uplink_lte_rsrp_dbm"), "{{name}}")], "dBm"), 12, 8)
    d.add(timeseries("LTE 신호 품질 (RSRQ, SINR)", "Reference signal received quality and signal to interference "
                     "and noise ratio of each ferry's LTE modem, where the router's profile reads them.",
                     [target(ferries("wifi_uplink_lte_rsrq_db"), "{{name}} RSRQ"),
                      target(ferries("wifi_uplink_lte_sinr_db"), "{{name}} SINR")], "dB"), 12, 8)

    d.row("탑승객 (on board)")
    d.add(timeseries("탑승 접속자 추이", "Stations on board over time.",
                     [target(ferries("wifi_site_clients"), "{{name}}")], "short", minimum=0), 12, 8)
    d.add(state_timeline("상태 이력", "Each ferry's state over time: purple is off the timetable.",
                         [target(ferries("wifi:site_state:code"), "{{name}}")], STATE_MAPPINGS), 12, 8)
    return d


def availability() -> Dashboard:
    d = Dashboard(
        uid="wifimon-availability",
        title="가용률",
        description="Availability this month so far, per site, category and district, against the target. "
        "The figures are wifi_site_availability_ratio{window=\"month_to_date\"}, the same as the monthly report.",
        variables=[
            district_var(), category_var(),
            custom_var("target", "목표 가용률 (target)", ["0.99", "0.995", "0.999", "0.98", "0.95"],
                       "Availability target the sites are held to"),
        ],
        time_from="now/M",
        refresh="5m",
    )
    # NaN (no scheduled time known yet) must not drag averages: `>= 0` drops it.
    av = scoped(f"{MTD} >= 0", "name, district, category")
    av_colours = steps(("red", None), ("orange", 0.95), ("green", 0.99))
    d.row("요약 (summary)")
    d.add(stat("평균 가용률", "Mean of the selected sites' availability this month.",
               [target(f"avg({av})", "평균")], "percentunit", decimals=3, thresholds=av_colours, graph=True), 6, 5)
    d.add(stat("목표", "The target chosen above.", [target("vector($target)", "목표")], "percentunit",
               decimals=1), 6, 5)
    d.add(stat("목표 미달 사이트", "Sites below the target this month.",
               [target(f"count(({av}) < $target) or vector(0)", "미달")], "short",
               thresholds=steps(("green", None), ("red", 1)), color_mode="background"), 6, 5)
    d.add(stat("최저 가용률", "The lowest site availability this month.",
               [target(f"min({av})", "최저")], "percentunit", decimals=2, thresholds=av_colours), 6, 5)

    d.row("분류·지역별 (by category and district)")
    d.add(bargauge("지역별 가용률", "Mean site availability per district (the report may weight by scheduled "
                   "time; this is the plain mean). Colours: green from 0.99.",
                   [target(f"avg by (district) ({av})", "{{district}}", instant=True)], "percentunit",
                   thresholds=av_colours, minimum=0.9, maximum=1, decimals=2), 8, 12)
    d.add(bargauge("분류별 가용률", "Mean site availability per category. Colours: green from 0.99.",
                   [target(f"avg by (category) ({av})", "{{category}}", instant=True)], "percentunit",
                   thresholds=av_colours, minimum=0.9, maximum=1, decimals=2), 8, 12)
    d.add(bargauge("지역별 목표 미달 사이트", "Sites below the target per district (0 where none).",
                   [target(f"count by (district) (({av}) < $target) or (0 * count by (district) ({av}))",
                           "{{district}}", instant=True)], "short",
                   thresholds=steps(("green", None), ("red", 1))), 8, 12)

    d.row("사이트별 (per site)")
    d.add(table("사이트별 가용률", "Every selected site's availability this month and its margin over the "
                "target (negative: below target). Click a name for the site's dashboard.",
                [target(av, instant=True, table=True), target(f"({av}) - $target", instant=True, table=True)],
                "percentunit",
                transformations=[transformation("merge"),
                                 organize(["name", "Value #A", "Value #B", "district", "category", "site"],
                                          {"name": "사이트", "district": "지역", "category": "분류", "site": "ID"})],
                overrides=[override("Value #A", displayName="가용률",
                                    custom__cellOptions={"type": "color-text"}),
                           override("Value #B", displayName="목표 대비",
                                    thresholds=steps(("red", None), ("green", 0)),
                                    custom__cellOptions={"type": "color-background", "mode": "basic"}),
                           site_link("name")],
                sort_by="가용률", descending=False, decimals=3, thresholds=av_colours), 24, 14)

    d.row("추이 (trend)")
    d.add(timeseries("가용률 추이", "Mean month-to-date availability of the selected sites, and the target.",
                     [target(f"avg({av})", "평균 (mean)"), target(f"min({av})", "최저 (lowest)"),
                      target("vector($target)", "목표 (target)")],
                     "percentunit", maximum=1, decimals=3, legend_calcs=("lastNotNull", "min")), 24, 8)
    return d


def wifimon_self() -> Dashboard:
    d = Dashboard(
        uid="wifimon-self",
        title="wifimon 자체 상태",
        description="wifimon itself: is it scraped, are its rounds on time, SNMP errors, traps, notifications, "
        "outbox and store.",
        variables=[query_var("instance", "인스턴스 (instance)", 'label_values(up{job="wifimon"}, instance)')],
        time_from="now-3h",
    )
    i = 'instance=~"$instance"'
    d.row("상태 (state)")
    d.add(stat("수집 상태", "Whether Prometheus can scrape each wifimon instance (up).",
               [target(f'up{{job="wifimon", {i}}}', "{{instance}}")], "none", mappings=UP_MAPPINGS,
               color_mode="background", text_mode="value_and_name"), 4, 4)
    d.add(stat("버전", "wifimon version (wifimon_build_info).",
               [target(f"wifimon_build_info{{{i}}}", "{{version}}")], "none", text_mode="name"), 4, 4)
    d.add(stat("설정된 AP", "APs in the inventory.", [target(f"sum(wifimon_aps_configured{{{i}}})", "AP")],
               "short"), 4, 4)
    d.add(stat("마지막 라운드 이후", "Time since the last probe and metrics round finished; well above the "
               "interval means the scheduler is stuck.",
               [target(f"max by (round) (time() - wifimon_last_round_timestamp_seconds{{{i}}})", "{{round}}")], "s",
               text_mode="value_and_name", thresholds=steps(("green", None), ("orange", 120), ("red", 600))), 6, 4)
    d.add(stat("알림 대기열", "Notifications waiting in the outbox.",
               [target(f"sum(wifimon_outbox_depth{{{i}}})", "대기")], "short",
               thresholds=steps(("green", None), ("orange", 5), ("red", 20))), 6, 4)

    d.row("폴링 라운드 (rounds)")
    d.add(timeseries("라운드 소요 시간", "Wall time of probe and metrics rounds: median and 95th percentile.",
                     [target(quantile(0.5, "wifimon_round_duration_seconds", i, "round"), "{{round}} p50"),
                      target(quantile(0.95, "wifimon_round_duration_seconds", i, "round"), "{{round}} p95")], "s",
                     minimum=0), 12, 8)
    d.add(timeseries("라운드 초과", "Rounds per minute that did not finish within their interval (overruns), "
                     "by round kind.",
                     [target(f'60 * {rate_of("wifimon_round_overruns_total", i, "round")}', "{{round}}")], "opm",
                     minimum=0), 12, 8)

    d.row("SNMP")
    d.add(timeseries("SNMP 요청", "SNMP exchanges per second by operation.",
                     [target(rate_of("wifimon_snmp_requests_total", i, "op"), "{{op}}")], "reqps", minimum=0),
          8, 8)
    d.add(timeseries("SNMP 오류 (종류별)", "Failed SNMP exchanges per minute by operation and kind "
                     "(timeout, auth, protocol, …).",
                     [target(f'60 * {rate_of("wifimon_snmp_errors_total", i, "op, kind")}', "{{op}} {{kind}}")],
                     "opm", minimum=0), 8, 8)
    d.add(timeseries("UDP 수신 버퍼 오류", "Receive-buffer drops per minute on wifimon's own SNMP sockets "
                     "(/proc/net/udp): replies lost before wifimon read them, seen as timeouts.",
                     [target(f'60 * {rate_of("wifimon_udp_receive_buffer_errors_total", i, "instance")}',
                             "{{instance}}")], "opm", minimum=0), 8, 8)

    d.row("트랩·알림 (traps and notifications)")
    d.add(timeseries("트랩 수신", "SNMP traps received per minute, by result (accepted, unknown source, …).",
                     [target(f'60 * {rate_of("wifimon_traps_received_total", i, "result")}', "{{result}}")], "opm",
                     minimum=0), 8, 8)
    d.add(timeseries("알림 발송", "Notifications per minute by channel and result.",
                     [target(f'60 * {rate_of("wifimon_notifications_total", i, "channel, result")}',
                             "{{channel}} {{result}}")], "opm", minimum=0), 8, 8)
    d.add(timeseries("알림 대기열", "Notifications waiting in the outbox.",
                     [target(f"wifimon_outbox_depth{{{i}}}", "{{instance}}")], "short", minimum=0), 8, 8)

    d.row("저장소 (store)")
    d.add(timeseries("저장소 쓰기 지연", "Latency of store writes: median, 95th and 99th percentile.",
                     [target(quantile(0.5, "wifimon_store_write_seconds", i), "p50"),
                      target(quantile(0.95, "wifimon_store_write_seconds", i), "p95"),
                      target(quantile(0.99, "wifimon_store_write_seconds", i), "p99")], "s", minimum=0), 8, 8)
    d.add(timeseries("저장소 대기열", "Store writes waiting.",
                     [target(f"wifimon_store_queue_depth{{{i}}}", "{{instance}}")], "short", minimum=0), 8, 8)
    d.add(timeseries("저장소 오류", "Failed (and retried) store writes per minute.",
                     [target(f'60 * {rate_of("wifimon_store_errors_total", i, "instance")}', "{{instance}}")],
                     "opm", minimum=0), 8, 8)
    return d


BUILDERS = {
    "overview.json": overview,
    "site.json": site,
    "ap.json": ap,
    "ferries.json": ferries_board,
    "availability.json": availability,
    "wifimon.json": wifimon_self,
}


def build_all() -> dict[str, str]:
    """File name → the JSON text to commit."""
    return {
        name: json.dumps(build().to_json(), indent=2, ensure_ascii=False) + "\n"
        for name, build in BUILDERS.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files; write nothing")
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write to (default: beside this file)")
    args = parser.parse_args(argv)
    stale = []
    for name, text in build_all().items():
        path = args.out / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"out of date (run python dashboards/generate.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
