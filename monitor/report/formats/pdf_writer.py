"""PDF: A4 landscape, Korean font embedded (NanumGothic from Debian's ``fonts-nanum``), built with ReportLab.

The same tables as the spreadsheet, in the same words, minus a few wide columns (ids, addresses,
comments) that the spreadsheet keeps; then the charts. Long tables are cut into page-sized blocks, each
with the header repeated, so a 10,000-AP report does not make ReportLab split one huge table again and
again.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus import Table as RLTable
from reportlab.platypus import TableStyle

from monitor.report.build import Report
from monitor.report.formats.labels import CATEGORIES, CAUSE_NAMES, TEXT, Lang
from monitor.report.formats.narrative import summary_text
from monitor.report.formats.tables import Table, as_text

FONT_DIR = Path("/usr/share/fonts/truetype/nanum")
FONT_FILES = {"regular": FONT_DIR / "NanumGothic.ttf", "bold": FONT_DIR / "NanumGothicBold.ttf"}
FONT_PACKAGE = "fonts-nanum"
FONT, FONT_BOLD = "NanumGothic", "NanumGothic-Bold"

PAGE = landscape(A4)
MARGIN = 12 * mm
BODY_SIZE = 7.0
ROWS_PER_BLOCK = 40


class FontMissing(Exception):
    """The Korean font the PDF embeds is not installed."""


def register_fonts() -> None:
    """Register NanumGothic with ReportLab (embedded, subset, in every PDF that uses it)."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    missing = [str(p) for p in FONT_FILES.values() if not p.is_file()]
    if missing:
        raise FontMissing(
            f"the PDF report needs the Korean font {', '.join(missing)}, which is not installed; "
            f"install Debian's {FONT_PACKAGE} package (apt-get install {FONT_PACKAGE}), "
            "or ask for --format xlsx,csv"
        )
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILES["regular"])))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_FILES["bold"])))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=FONT_BOLD, fontSize=20, leading=26, spaceAfter=10),
        "h1": ParagraphStyle("h1", fontName=FONT_BOLD, fontSize=13, leading=17, spaceBefore=4, spaceAfter=6),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12),
        "key": ParagraphStyle("key", fontName=FONT_BOLD, fontSize=9, leading=12),
        "lead": ParagraphStyle("lead", fontName=FONT, fontSize=10, leading=15, spaceAfter=4),
    }


def _fit(text: str, width: float, size: float) -> str:
    """Cut text to the column's width, marking the cut: a PDF table cell does not wrap plain strings."""
    if pdfmetrics.stringWidth(text, FONT, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", FONT, size) > width:
        text = text[:-1]
    return text + "…"


_GRID = [
    ("FONTNAME", (0, 0), (-1, -1), FONT),
    ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
    ("FONTSIZE", (0, 0), (-1, -1), BODY_SIZE),
    ("LEADING", (0, 0), (-1, -1), BODY_SIZE + 1.5),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE4EE")),
    ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9AA5B1")),
    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ("LEFTPADDING", (0, 0), (-1, -1), 2),
    ("RIGHTPADDING", (0, 0), (-1, -1), 2),
]


def _data_table(table: Table, lang: Lang, tz: ZoneInfo, width: float, styles: dict[str, ParagraphStyle]) -> list[Any]:
    shown = [i for i, c in enumerate(table.columns) if c.pdf]
    cols = [table.columns[i] for i in shown]
    scale = width / sum(c.width for c in cols)
    widths = [c.width * scale for c in cols]
    header_style = ParagraphStyle("th", fontName=FONT_BOLD, fontSize=BODY_SIZE, leading=BODY_SIZE + 1.5)
    header = [Paragraph(escape(c.title), header_style) for c in cols]
    right = [i for i, c in enumerate(cols) if c.kind in ("int", "seconds", "ratio", "gb")]
    style = TableStyle(_GRID + [("ALIGN", (i, 1), (i, -1), "RIGHT") for i in right])
    out: list[Any] = [Paragraph(escape(table.title), styles["h1"])]
    rows = [[_fit(as_text(c.kind, row[i], lang, tz), w - 4, BODY_SIZE) for c, i, w in zip(cols, shown, widths, strict=True)]
            for row in table.rows]
    if not rows:
        rows = [["-"] + [""] * (len(cols) - 1)]
    for start in range(0, len(rows), ROWS_PER_BLOCK):
        block = RLTable([header] + rows[start:start + ROWS_PER_BLOCK], colWidths=widths, repeatRows=1)
        block.setStyle(style)
        out.append(block)
    out.append(Spacer(1, 6))
    return out


def _kv_table(table: Table, lang: Lang, tz: ZoneInfo, width: float, styles: dict[str, ParagraphStyle]) -> RLTable:
    rows = [[Paragraph(escape(str(k)), styles["key"]), Paragraph(escape(as_text("mixed", v, lang, tz)), styles["body"])]
            for k, v in table.rows]
    t = RLTable(rows, colWidths=[width * 0.28, width * 0.72])
    t.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9AA5B1")),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F1F4F8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return t


def _percent_axis(values: list[float], target: float) -> tuple[float, float]:
    """From a little below the lowest value (and the target line) to 100 %."""
    low = min([*values, target], default=100.0)
    return (max(0.0, math.floor(low - 1)), 100.0)


#: Map colours: at or above target, below target, below 95 %, no data.
_OK, _BELOW, _BAD, _NONE = (colors.HexColor(c) for c in ("#2E8B57", "#E0A030", "#C0392B", "#A0A0A0"))
_TARGET = colors.HexColor("#C0392B")


def _frame(title: str, width: float, height: float) -> Drawing:
    d = Drawing(width, height)
    d.add(String(0, height - 12, title, fontName=FONT_BOLD, fontSize=11))
    return d


def _no_data(title: str, width: float, lang: Lang, note: str | None = None) -> Drawing:
    """A chart with nothing to draw says so, rather than leaving a blank."""
    d = _frame(title, width, 60)
    d.add(Rect(0, 5, width, 38, fillColor=colors.HexColor("#F4F4F4"), strokeColor=colors.HexColor("#C8C8C8")))
    d.add(String(width / 2, 20, note or TEXT[lang]["chart_none"], fontName=FONT_BOLD, fontSize=11,
                 textAnchor="middle", fillColor=colors.HexColor("#606060")))
    return d


def _style_axes(chart: Any, lo: float, hi: float) -> None:
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = lo, hi
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%.0f%%" if hi - lo > 5 else "%.1f%%"
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7


def _target_line(d: Drawing, chart: Any, target: float, lo: float, hi: float, lang: Lang,
                 horizontal: bool = True) -> None:
    """The target drawn across a chart whose value axis runs from ``lo`` to ``hi`` percent."""
    label = f"{TEXT[lang]['chart_target']} {target:.1f}%"
    if horizontal:
        y = chart.y + (target - lo) / (hi - lo) * chart.height
        d.add(Line(chart.x, y, chart.x + chart.width, y, strokeColor=_TARGET, strokeWidth=1, strokeDashArray=[4, 2]))
        d.add(String(chart.x + chart.width + 2, y - 3, label, fontName=FONT, fontSize=6, fillColor=_TARGET))
    else:
        x = chart.x + (target - lo) / (hi - lo) * chart.width
        d.add(Line(x, chart.y, x, chart.y + chart.height, strokeColor=_TARGET, strokeWidth=1, strokeDashArray=[4, 2]))
        d.add(String(x, chart.y + chart.height + 2, label, fontName=FONT, fontSize=6, fillColor=_TARGET,
                     textAnchor="middle"))


def _charts(report: Report, lang: Lang, width: float) -> list[Any]:
    """Availability by category, daily availability, the worst sites (each with the target line), downtime by
    cause; a chart without data says "자료 없음"."""
    t, cat = TEXT[lang], CATEGORIES[lang]
    target = report.target * 100
    out: list[Any] = []

    cats = [(cat.get(g.key, g.key), g.figures.availability) for g in report.categories]
    if any(a is not None for _, a in cats):
        d = _frame(t["chart_category"], width, 170)
        c = VerticalBarChart()
        c.x, c.y, c.width, c.height = 40, 35, width - 90, 110
        c.data = [[a * 100 if a is not None else None for _, a in cats]]
        c.categoryAxis.categoryNames = [n for n, _ in cats]
        c.categoryAxis.labels.angle = 30 if len(cats) > 8 else 0
        c.categoryAxis.labels.boxAnchor = "ne" if len(cats) > 8 else "n"
        c.bars[0].fillColor = colors.HexColor("#3B6EA5")
        lo, hi = _percent_axis([a * 100 for _, a in cats if a is not None], target)
        _style_axes(c, lo, hi)
        d.add(c)
        _target_line(d, c, target, lo, hi, lang)
        out.append(d)
    else:
        out.append(_no_data(t["chart_category"], width, lang))

    days = [(d.day, d.sites.availability) for d in report.days]
    if any(a is not None for _, a in days):
        d = _frame(t["chart_daily"], width, 160)
        c = HorizontalLineChart()
        c.x, c.y, c.width, c.height = 40, 25, width - 90, 110
        c.data = [[a * 100 if a is not None else None for _, a in days]]
        c.categoryAxis.categoryNames = [str(day.day) for day, _ in days]
        c.lines[0].strokeColor = colors.HexColor("#3B6EA5")
        c.lines[0].strokeWidth = 1.5
        # A marker on every point: a one-day month (or a day between two without data) is a single point,
        # which a line alone would not show.
        c.lines[0].symbol = makeMarker("FilledCircle", size=3 if len(days) > 7 else 7)
        lo, hi = _percent_axis([a * 100 for _, a in days if a is not None], target)
        _style_axes(c, lo, hi)
        d.add(c)
        _target_line(d, c, target, lo, hi, lang)
        out.append(d)
    else:
        out.append(_no_data(t["chart_daily"], width, lang))

    worst = [(s.site.name, s.figures.availability or 0.0) for s in report.worst(10)]
    title = f"{t['chart_worst']} ({t['sec_worst_note']})"
    if worst:
        d = _frame(title, width, 50 + 16 * len(worst))
        c = HorizontalBarChart()
        c.x, c.y, c.width, c.height = 170, 10, width - 200, 16 * len(worst)
        c.data = [[a * 100 for _, a in reversed(worst)]]
        c.categoryAxis.categoryNames = [_fit(n, 160, 7) for n, _ in reversed(worst)]
        c.bars[0].fillColor = colors.HexColor("#B5533C")
        lo, hi = _percent_axis([a * 100 for _, a in worst], target)
        _style_axes(c, lo, hi)
        d.add(c)
        _target_line(d, c, target, lo, hi, lang, horizontal=False)
        out.append(d)
    else:
        out.append(_no_data(title, width, lang))

    names = CAUSE_NAMES[lang]
    if report.causes:
        d = _frame(t["chart_causes"], width, 40 + 18 * len(report.causes))
        c = HorizontalBarChart()
        c.x, c.y, c.width, c.height = 170, 10, width - 200, 18 * len(report.causes)
        c.data = [[x.downtime / 3600 for x in reversed(report.causes)]]
        c.categoryAxis.categoryNames = [_fit(f"{names[x.cause]} ({x.outages})", 160, 7) for x in reversed(report.causes)]
        c.bars[0].fillColor = colors.HexColor("#7A5195")
        c.valueAxis.valueMin = 0
        c.valueAxis.labels.fontName = c.categoryAxis.labels.fontName = FONT
        c.valueAxis.labels.fontSize = c.categoryAxis.labels.fontSize = 7
        d.add(c)
        out.append(d)
    else:
        out.append(_no_data(t["chart_causes"], width, lang))
    return out


def _site_map(report: Report, lang: Lang, width: float, height: float) -> Drawing:
    """The sites at their coordinates, coloured by availability (no tiles: a plain, equal-scale plot)."""
    t = TEXT[lang]
    placed = [s for s in report.sites if s.site.lat is not None and s.site.lon is not None]
    if not placed:
        return _no_data(t["sec_map"], width, lang, t["map_none"])
    d = _frame(t["sec_map"], width, height)
    lats = [s.site.lat for s in placed if s.site.lat is not None]
    lons = [s.site.lon for s in placed if s.site.lon is not None]
    # Equirectangular, x scaled by cos(latitude) so that a kilometre is as long east-west as north-south.
    k = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lons) - min(lons)) * k, 1e-3)
    span_y = max(max(lats) - min(lats), 1e-3)
    box_w, box_h = width - 200, height - 40
    scale = min(box_w / span_x, box_h / span_y)
    x0 = 30 + (box_w - span_x * scale) / 2
    y0 = 10 + (box_h - span_y * scale) / 2
    d.add(Rect(20, 5, box_w + 20, box_h + 10, fillColor=colors.HexColor("#F7F9FB"),
               strokeColor=colors.HexColor("#C8C8C8")))

    def colour(a: float | None) -> Any:
        if a is None:
            return _NONE
        return _OK if a >= report.target else (_BELOW if a >= 0.95 else _BAD)

    dot = max(2.6, min(8.0, 60 / math.sqrt(len(placed))))  # a few sites: bigger dots
    # The worst last, so that a red dot is never hidden under a green one.
    for s in sorted(placed, key=lambda s: -(s.figures.availability if s.figures.availability is not None else 2)):
        assert s.site.lat is not None and s.site.lon is not None
        x = x0 + (s.site.lon - min(lons)) * k * scale
        y = y0 + (s.site.lat - min(lats)) * scale
        d.add(Circle(x, y, dot, fillColor=colour(s.figures.availability), strokeColor=colors.white, strokeWidth=0.3))
    legend = ((_OK, t["map_legend_ok"]), (_BELOW, t["map_legend_below"]), (_BAD, t["map_legend_bad"]),
              (_NONE, t["map_legend_none"]))
    for i, (c, label) in enumerate(legend):
        y = height - 40 - 14 * i
        d.add(Circle(width - 145, y + 3, 4, fillColor=c, strokeColor=colors.white))
        d.add(String(width - 137, y, label, fontName=FONT, fontSize=8))
    d.add(String(width - 149, height - 40 - 14 * len(legend),
                 f"{t['lat']} {min(lats):.3f}–{max(lats):.3f}, {t['lon']} {min(lons):.3f}–{max(lons):.3f}",
                 fontName=FONT, fontSize=6))
    return d


def _approval(lang: Lang) -> RLTable:
    """The approval block (결재란): a box per signer, left empty for the signature."""
    t = TEXT[lang]
    roles = t["approval_roles"].split(",")
    table = RLTable([[t["approval"], *roles], ["", *[""] * len(roles)]],
                    colWidths=[14 * mm] + [24 * mm] * len(roles), rowHeights=[6 * mm, 16 * mm])
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT_BOLD),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("SPAN", (0, 0), (0, 1)),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (0, 1), colors.HexColor("#F1F4F8")),
    ]))
    table.hAlign = "RIGHT"
    return table


def write_pdf(report: Report, tables: list[Table], path: Path, lang: Lang) -> Path:
    """Write the PDF to ``path``; raises FontMissing (naming the package) without the Korean font."""
    register_fonts()
    tz = report.period.tz
    t = TEXT[lang]
    styles = _styles()
    width = PAGE[0] - 2 * MARGIN
    by_name = {tb.name: tb for tb in tables}
    footer = f"{report.organisation} · {t['title']} · {report.period.label}"

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawString(MARGIN, 7 * mm, footer)
        canvas.drawRightString(PAGE[0] - MARGIN, 7 * mm, f"{doc.page} {t['page']}")
        canvas.restoreState()

    cover = replace(by_name["cover"], rows=tuple(r for r in by_name["cover"].rows if r[0] != t["summary_text"]))
    story: list[Any] = [
        _approval(lang),
        Paragraph(escape(f"{t['title']} — {report.period.label}"), styles["title"]),
        KeepTogether([Paragraph(escape(t["summary_text"]), styles["h1"]),
                      Paragraph(escape(summary_text(report, lang)), styles["lead"])]),
        Spacer(1, 8),
        _kv_table(cover, lang, tz, width, styles),
        Spacer(1, 10),
        KeepTogether([Paragraph(escape(by_name["summary"].title), styles["h1"]),
                      _kv_table(by_name["summary"], lang, tz, width, styles)]),
        PageBreak(),
        Paragraph(escape(t["sec_charts"]), styles["h1"]),
        *_charts(report, lang, width),
        PageBreak(),
        _site_map(report, lang, width, PAGE[1] - 2 * MARGIN - 20 * mm),
        PageBreak(),
    ]
    for table in tables:
        if table.name in ("cover", "summary"):
            continue
        if table.name == "ferries":  # the ferries have a page of their own (their timetables differ)
            story.extend([PageBreak(), *_data_table(table, lang, tz, width, styles), PageBreak()])
            continue
        story.extend(_data_table(table, lang, tz, width, styles))
    doc = SimpleDocTemplate(
        str(path), pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=14 * mm,
        title=f"{t['title']} {report.period.label}", author=report.organisation,
        creator="wifimon", subject=f"{report.period.label} ({report.period.timezone})",
    )
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return path
