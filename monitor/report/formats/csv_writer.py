"""CSV: one file per section, UTF-8 with a byte-order mark so that Excel opens Korean text correctly."""

from __future__ import annotations

import csv
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.report.formats.labels import Lang
from monitor.report.formats.tables import Table, as_text


def write_csv(tables: list[Table], out_dir: Path, stem: str, lang: Lang, tz: ZoneInfo) -> list[Path]:
    """Write ``{stem}-{section}.csv`` for each table; returns the paths written."""
    written = []
    for table in tables:
        path = out_dir / f"{stem}-{table.name}.csv"
        # utf-8-sig writes the BOM; newline='' lets the csv module end rows with CRLF as RFC 4180 says.
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([c.title for c in table.columns])
            for row in table.rows:
                w.writerow([as_text(c.kind, v, lang, tz) for c, v in zip(table.columns, row, strict=True)])
        written.append(path)
    return written
