"""Rendering the report model: XLSX, CSV and PDF, all from the same tables (``tables.build_tables``)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from monitor.report.build import Report
from monitor.report.formats.labels import LANGS, Lang
from monitor.report.formats.tables import build_tables

log = logging.getLogger(__name__)

FORMATS = ("xlsx", "csv", "pdf")


def month_stem(month: str, month_to_date: bool = False) -> str:
    """``wifimon-availability-2026-10`` for month '2026-10', with ``-mtd`` for a month not yet over."""
    stem = f"wifimon-availability-{month}"
    return stem + "-mtd" if month_to_date else stem


def file_stem(report: Report) -> str:
    """The name every file of ``report`` starts with (see :func:`month_stem`)."""
    return month_stem(report.period.label, report.period.month_to_date)


def write_report(report: Report, formats: tuple[str, ...], out_dir: Path, lang: Lang = "ko") -> list[Path]:
    """Write the report in each of ``formats`` into ``out_dir`` (created if need be); returns the files.

    Raises ValueError for an unknown format or language, and ``pdf_writer.FontMissing`` when the PDF's
    Korean font is not installed (checked before anything is written).
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown report format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise ValueError(f"unknown report language {lang!r}; choose from {', '.join(LANGS)}")
    if "pdf" in formats:
        from monitor.report.formats.pdf_writer import register_fonts

        register_fonts()  # fail before writing anything rather than after the spreadsheet
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = build_tables(report, lang)
    stem = file_stem(report)
    written: list[Path] = []
    for fmt in formats:
        began = time.perf_counter()
        if fmt == "xlsx":
            from monitor.report.formats.xlsx_writer import write_xlsx

            written.append(write_xlsx(report, tables, out_dir / f"{stem}.xlsx", lang))
        elif fmt == "csv":
            from monitor.report.formats.csv_writer import write_csv

            written.extend(write_csv(tables, out_dir, stem, lang, report.period.tz))
        else:
            from monitor.report.formats.pdf_writer import write_pdf

            written.append(write_pdf(report, tables, out_dir / f"{stem}.pdf", lang))
        log.info("report_format_written format=%s month=%s took=%.2fs", fmt, report.period.label, time.perf_counter() - began)
    return written
