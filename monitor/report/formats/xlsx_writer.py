"""XLSX: one sheet per section with Korean column names, number formats and frozen headers, plus a
sheet of charts (availability by category, daily availability, the 10 worst sites).

Numbers stay numbers: durations are Excel durations (``[h]:mm:ss``, so a month's 744 hours shows as
744:00:00 rather than wrapping at a day), availability a ratio shown as a percentage, times local
date-times of the city. A ratio that cannot be computed (nothing observed) is the words "no data", never
a 0 that a chart or a sum would take for a fact. Write-only mode keeps 10,000-AP workbooks quick.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from monitor.report.build import Report
from monitor.report.formats.labels import CATEGORIES, TEXT, Lang
from monitor.report.formats.tables import Cell, Kind, Table

FORMATS: dict[str, str] = {
    "seconds": "[h]:mm:ss",
    "ratio": "0.000%",
    "datetime": "yyyy-mm-dd hh:mm:ss",
    "date": "yyyy-mm-dd",
    "gb": "0.000",
    "int": "#,##0",
}
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_WRAP = Alignment(wrap_text=True, vertical="top")


def excel_value(kind: Kind, value: Any, lang: Lang, tz: ZoneInfo) -> tuple[Any, str | None]:
    """The cell value and number format of a table value."""
    if isinstance(value, Cell):
        return excel_value(value.kind, value.value, lang, tz)
    if value is None:
        return (TEXT[lang]["no_data"], None) if kind == "ratio" else (None, None)
    if kind == "seconds":
        return value / 86400, FORMATS["seconds"]
    if kind == "datetime":
        # Excel has no time zones: the city's local wall-clock time, as the column titles say.
        return datetime.fromtimestamp(value, tz).replace(tzinfo=None), FORMATS["datetime"]
    if kind == "gb":
        return round(value / 1e9, 3), FORMATS["gb"]
    if kind in ("ratio", "date", "int"):
        return value, FORMATS[kind]
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value), None
    return value, None


def _cell(ws: WriteOnlyWorksheet, value: Any, number_format: str | None = None, header: bool = False,
          wrap: bool = False) -> WriteOnlyCell:
    c = WriteOnlyCell(ws, value=value)
    if number_format:
        c.number_format = number_format
    if header:
        c.font, c.fill, c.alignment = _HEADER_FONT, _HEADER_FILL, _WRAP
    elif wrap:
        c.alignment = _WRAP
    return c


def _sheet(wb: Workbook, table: Table, lang: Lang, tz: ZoneInfo) -> None:
    ws = wb.create_sheet(table.title[:31])
    for i, col in enumerate(table.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = "A2"
    if table.rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{len(table.rows) + 1}"
    ws.append([_cell(ws, c.title, header=True) for c in table.columns])
    wrap = table.name in ("cover", "summary")
    for row in table.rows:
        cells = []
        for col, raw in zip(table.columns, row, strict=True):
            value, fmt = excel_value(col.kind, raw, lang, tz)
            cells.append(_cell(ws, value, fmt, wrap=wrap))
        ws.append(cells)


def _charts(wb: Workbook, report: Report, lang: Lang) -> None:
    """A sheet with the charts' own small tables (empty cells where there is no data, so a chart shows a
    gap rather than a false 0) and the three charts beside them."""
    t, cat = TEXT[lang], CATEGORIES[lang]
    ws = wb.create_sheet(t["sec_charts"][:31])
    for letter, width in zip("ABCDEFGH", (20, 11, 3, 12, 11, 3, 26, 11), strict=True):
        ws.column_dimensions[letter].width = width
    pct = "0.0%"
    cats = [(cat.get(g.key, g.key), g.figures.availability) for g in report.categories]
    days = [(d.day, d.sites.availability) for d in report.days]
    worst = [(s.site.name, s.figures.availability) for s in report.worst(10)]
    ws.append([_cell(ws, x, header=True) for x in
               (t["category"], t["availability"], None, t["date"], t["availability"], None, t["site_name"],
                t["availability"])])
    for i in range(max(len(cats), len(days), len(worst))):
        row: list[Any] = []
        for data, fmt in ((cats, None), (days, FORMATS["date"]), (worst, None)):
            if i < len(data):
                row += [_cell(ws, data[i][0], fmt), _cell(ws, data[i][1], pct)]
            else:
                row += [None, None]
            row.append(None)
        ws.append(row[:-1])

    def place(chart: Any, title: str, col: int, n: int, cats_col: int, anchor: str) -> None:
        if n == 0:
            return
        chart.title = title
        chart.y_axis.number_format = "0%"
        chart.y_axis.title = t["availability"]
        chart.height, chart.width = 8, 18
        chart.legend = None
        chart.add_data(Reference(ws, min_col=col, min_row=1, max_row=n + 1), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=cats_col, min_row=2, max_row=n + 1))
        ws.add_chart(chart, anchor)

    bar = BarChart()
    bar.type = "col"
    place(bar, t["chart_category"], 2, len(cats), 1, "J2")
    line = LineChart()
    place(line, t["chart_daily"], 5, len(days), 4, "J19")
    worst_bar = BarChart()
    worst_bar.type = "bar"
    place(worst_bar, t["chart_worst"], 8, len(worst), 7, "J36")


def write_xlsx(report: Report, tables: list[Table], path: Path, lang: Lang) -> Path:
    """Write the workbook to ``path``."""
    tz = report.period.tz
    wb = Workbook(write_only=True)
    for table in tables:
        _sheet(wb, table, lang, tz)
    _charts(wb, report, lang)
    wb.save(path)
    return path
