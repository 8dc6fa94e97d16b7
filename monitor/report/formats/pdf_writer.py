"""PDF: A4 landscape, Korean font embedded (NanumGothic from Debian's ``fonts-nanum``), built with ReportLab.

The same tables as the spreadsheet, in the same words, minus a few wide columns (ids, addresses,
comments) that the spreadsheet keeps; then the charts. Long tables are cut into page-sized blocks, each
with the header repeated, so a 10,000-AP report does not make ReportLab split one huge table again and
again.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
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
from monitor.report.formats.labels import CATEGORIES, TEXT, Lang
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


def _percent_axis(values: list[float]) -> tuple[float, float]:
    low = min(values, default=100.0)
    return (max(0.0, math.floor(low - 1)), 100.0)


def _charts(report: Report, lang: Lang, width: float) -> list[Any]:
    t, cat = TEXT[lang], CATEGORIES[lang]
    out: list[Any] = []

    def frame(title: str, height: float) -> Drawing:
        d = Drawing(width, height)
        d.add(String(0, height - 12, title, fontName=FONT_BOLD, fontSize=11))
        return d

    def style_axes(chart: Any, lo: float, hi: float) -> None:
        chart.valueAxis.valueMin, chart.valueAxis.valueMax = lo, hi
        chart.valueAxis.labels.fontName = FONT
        chart.valueAxis.labels.fontSize = 7
        chart.valueAxis.labelTextFormat = "%.0f%%" if hi - lo > 5 else "%.1f%%"
        chart.categoryAxis.labels.fontName = FONT
        chart.categoryAxis.labels.fontSize = 7

    cats = [(cat.get(g.key, g.key), g.figures.availability) for g in report.categories]
    if any(a is not None for _, a in cats):
        d = frame(t["chart_category"], 170)
        c = VerticalBarChart()
        c.x, c.y, c.width, c.height = 40, 35, width - 60, 110
        c.data = [[a * 100 if a is not None else None for _, a in cats]]
        c.categoryAxis.categoryNames = [n for n, _ in cats]
        c.categoryAxis.labels.angle = 30 if len(cats) > 8 else 0
        c.categoryAxis.labels.boxAnchor = "ne" if len(cats) > 8 else "n"
        c.bars[0].fillColor = colors.HexColor("#3B6EA5")
        style_axes(c, *_percent_axis([a * 100 for _, a in cats if a is not None]))
        d.add(c)
        out.append(d)

    days = [(d.day, d.sites.availability) for d in report.days]
    if any(a is not None for _, a in days):
        d = frame(t["chart_daily"], 160)
        c = HorizontalLineChart()
        c.x, c.y, c.width, c.height = 40, 25, width - 60, 110
        c.data = [[a * 100 if a is not None else None for _, a in days]]
        c.categoryAxis.categoryNames = [str(day.day) for day, _ in days]
        c.lines[0].strokeColor = colors.HexColor("#3B6EA5")
        c.lines[0].strokeWidth = 1.5
        style_axes(c, *_percent_axis([a * 100 for _, a in days if a is not None]))
        d.add(c)
        out.append(d)

    worst = [(s.site.name, s.figures.availability or 0.0) for s in report.worst(10)]
    if worst:
        d = frame(t["chart_worst"], 40 + 16 * len(worst))
        c = HorizontalBarChart()
        c.x, c.y, c.width, c.height = 170, 10, width - 200, 16 * len(worst)
        c.data = [[a * 100 for _, a in reversed(worst)]]
        c.categoryAxis.categoryNames = [_fit(n, 160, 7) for n, _ in reversed(worst)]
        c.bars[0].fillColor = colors.HexColor("#B5533C")
        style_axes(c, *_percent_axis([a * 100 for _, a in worst]))
        d.add(c)
        out.append(d)
    return out


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

    story: list[Any] = [
        Paragraph(escape(f"{t['title']} — {report.period.label}"), styles["title"]),
        _kv_table(by_name["cover"], lang, tz, width, styles),
        Spacer(1, 10),
        KeepTogether([Paragraph(escape(by_name["summary"].title), styles["h1"]),
                      _kv_table(by_name["summary"], lang, tz, width, styles)]),
        PageBreak(),
        Paragraph(escape(t["sec_charts"]), styles["h1"]),
        *_charts(report, lang, width),
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
