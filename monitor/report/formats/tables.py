"""The report model laid out as tables: one per section, the same for every format.

Each format (XLSX, CSV, PDF) renders these tables and nothing else, so the three always hold the same
numbers. Values stay raw here (seconds, ratios, unix times, bytes) with a column *kind* that says how to
show them; :func:`as_text` is the one textual rendering (CSV and PDF use it, XLSX keeps numbers as numbers
with a number format).

Durations are shown to the whole second everywhere (rounded once, here, so every format agrees).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from monitor.domain.availability import Figures
from monitor.report.build import Report, SiteResult
from monitor.domain.reason_text import REASONS
from monitor.report.formats.labels import CATEGORIES, CAUSE_NAMES, DAYS, RECURRENCES, SCOPES, TEXT, Lang
from monitor.report.formats.narrative import summary_text
from monitor.report.formats.units import hms, seconds

Kind = Literal["text", "int", "seconds", "ratio", "datetime", "date", "gb", "mixed"]


@dataclass(frozen=True)
class Cell:
    """A value with its own kind, for the key/value tables (cover, summary) whose rows differ in kind."""

    kind: Kind
    value: Any


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: Kind
    width: float = 12  # in characters, for XLSX (PDF scales it)
    pdf: bool = True  # shown in the PDF (which is narrower than a spreadsheet)


@dataclass(frozen=True)
class Table:
    name: str  # ASCII, for file names: 'sites' → wifimon-availability-2026-10-sites.csv
    title: str  # localised: the sheet name and the PDF heading
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]


def as_text(kind: Kind, value: Any, lang: Lang, tz: ZoneInfo) -> str:
    """The value as the CSV and PDF show it."""
    if isinstance(value, Cell):
        return as_text(value.kind, value.value, lang, tz)
    if value is None:
        return TEXT[lang]["no_data"] if kind == "ratio" else ""
    if kind == "seconds":
        return hms(value)
    if kind == "ratio":
        return f"{value * 100:.3f}%"
    if kind == "datetime":
        return datetime.fromtimestamp(value, tz).strftime("%Y-%m-%d %H:%M:%S")
    if kind == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    if kind == "gb":
        return f"{value / 1e9:.3f}"
    return str(value)


def build_tables(report: Report, lang: Lang) -> list[Table]:
    """Every section of the report, in order."""
    t = TEXT[lang]
    return [
        _cover(report, lang),
        _summary(report, lang),
        _sites(report, lang),
        _aps(report, lang),
        _groups(report, lang, "categories"),
        _groups(report, lang, "districts"),
        _ferries(report, lang),
        _worst(report, lang),
        _daily(report, lang),
        _outages(report, lang),
        _maintenance(report, lang),
        Table("gaps", t["sec_gaps"],
              (Column("start", t["start"], "datetime", 20), Column("end", t["end"], "datetime", 20),
               Column("duration", t["duration"], "seconds", 12)),
              tuple((s, e, seconds(e - s)) for s, e in report.gaps)),
    ]


def _kv(name: str, lang: Lang, rows: list[tuple[str, Cell]]) -> Table:
    t = TEXT[lang]
    return Table(name, t[f"sec_{name}"], (Column("item", t["item"], "text", 34), Column("value", t["value"], "mixed", 90)),
                 tuple((k, v) for k, v in rows))


def _cover(r: Report, lang: Lang) -> Table:
    t, p, tz = TEXT[lang], r.period, r.period.tz
    fmt = "%Y-%m-%d %H:%M"
    until = datetime.fromtimestamp(p.until, tz).strftime(fmt)
    if p.not_begun:
        kind = t["kind_future"]
    elif p.month_to_date:
        kind = t["kind_mtd"].format(until=until)
    else:
        kind = t["kind_full"]
    gaps = t["gaps_some"].format(n=len(r.gaps), total=hms(r.gap_seconds)) if r.gaps else t["gaps_none"]
    rows = [
        (t["organisation"], Cell("text", r.organisation)),
        (t["report"], Cell("text", f"{t['title']} ({p.label})")),
        (t["period"], Cell("text", f"{datetime.fromtimestamp(p.start, tz).strftime(fmt)} – "
                                   f"{datetime.fromtimestamp(p.end, tz).strftime(fmt)} ({p.timezone})")),
        (t["kind"], Cell("text", kind)),
        (t["generated_at"], Cell("datetime", r.generated_at)),
        (t["formula"], Cell("text", t["formula_text"])),
        (t["target"], Cell("ratio", r.target)),
        (t["gaps"], Cell("text", gaps)),
        (t["data"], Cell("text", t["data_ok"] if r.watched else t["data_none"])),
        (t["notes"], Cell("text", t["notes_peak"])),
        (t["summary_text"], Cell("text", summary_text(r, lang))),
    ]
    return _kv("cover", lang, rows)


def _summary(r: Report, lang: Lang) -> Table:
    t, f, a = TEXT[lang], r.total, r.ap_total
    rows = [
        (t["sites_n"], Cell("int", len(r.sites))),
        (t["aps_n"], Cell("int", len(r.aps))),
        (t["avail_sites"], Cell("ratio", f.availability)),
        (t["avail_aps"], Cell("ratio", a.availability)),
        (t["target"], Cell("ratio", r.target)),
        (t["below_target"], Cell("int", len(r.below_target()))),
        (t["outages_sites"], Cell("int", f.outages)),
        (t["outages_aps"], Cell("int", a.outages)),
        (t["downtime_total"], Cell("seconds", seconds(f.downtime))),
        (t["mttr"], Cell("seconds", seconds(f.mttr))),
        (t["mtbf"], Cell("seconds", seconds(f.mtbf))),
        (t["unknown_total"], Cell("seconds", seconds(f.unknown))),
        (t["gap_time"], Cell("seconds", seconds(r.gap_seconds))),
        (t["maint_total"], Cell("seconds", seconds(f.maintenance))),
        (t["scheduled_total"], Cell("seconds", seconds(f.scheduled))),
        (t["users_peak"], Cell("int", r.peak_clients)),
        (t["users_mean"], Cell("text", f"{r.mean_clients:.1f}" if r.mean_clients is not None else "")),
        (t["traffic_total"], Cell("gb", r.traffic_bytes)),
        *_previous_rows(r, lang),
        *_cause_rows(r, lang),
    ]
    return _kv("summary", lang, rows)


def _change(now: float | None, before: float | None) -> float | None:
    """The change in availability from the month before (a ratio: shown as percentage points)."""
    return None if now is None or before is None else now - before


def _previous_rows(r: Report, lang: Lang) -> list[tuple[str, Cell]]:
    t = TEXT[lang]
    if r.previous is None:
        return [(t["vs_previous"], Cell("text", t["prev_none"]))]
    before = r.previous.total.availability
    return [(f"{t['previous']} ({r.previous.label})", Cell("ratio", before)),
            (t["vs_previous"], Cell("ratio", _change(r.total.availability, before)))]


def _cause_rows(r: Report, lang: Lang) -> list[tuple[str, Cell]]:
    """Site downtime by cause (they add up to the total downtime), then planned maintenance beside them."""
    t, names = TEXT[lang], CAUSE_NAMES[lang]
    rows = [(t["cause_row"].format(cause=names[c.cause], n=c.outages), Cell("seconds", seconds(c.downtime)))
            for c in r.causes]
    rows.append((f"{t['sec_causes']}: {t['cause_maint']}", Cell("seconds", seconds(r.total.maintenance))))
    rows.append((t["cause_note"], Cell("text", t["cause_note_text"])))
    return rows


def _fig_cols(t: dict[str, str]) -> tuple[Column, ...]:
    return (
        Column("scheduled", t["scheduled"], "seconds", 12),
        Column("downtime", t["downtime"], "seconds", 12),
        Column("unknown", t["unknown"], "seconds", 12),
        Column("availability", t["availability"], "ratio", 11),
    )


def _fig_vals(f: Figures) -> tuple[Any, ...]:
    return (seconds(f.scheduled), seconds(f.downtime), seconds(f.unknown), f.availability)


def _sites(r: Report, lang: Lang) -> Table:
    t = TEXT[lang]
    cat = CATEGORIES[lang]
    cols = (
        Column("site_id", t["site_id"], "text", 14, pdf=False),
        Column("site_name", t["site_name"], "text", 26),
        Column("category", t["category"], "text", 14),
        Column("address", t["address"], "text", 30, pdf=False),
        Column("district", t["district"], "text", 12),
        Column("aps", t["aps"], "int", 6),
        *_fig_cols(t),
        Column("ap_availability", t["ap_availability"], "ratio", 11),
        Column("outages", t["outages"], "int", 8),
        Column("longest", t["longest"], "seconds", 12),
        Column("mttr", t["mttr_col"], "seconds", 11),
        Column("maintenance", t["maintenance"], "seconds", 12, pdf=False),
        Column("peak_clients", t["peak_clients"], "int", 10),
        Column("traffic_gb", t["traffic_gb"], "gb", 11),
        Column("below", t["below"], "text", 8, pdf=False),
        Column("prev_availability", t["prev_avail"], "ratio", 11),
        Column("prev_change", t["prev_change"], "ratio", 11),
    )
    before = {k: f.availability for k, f in r.previous.sites.items()} if r.previous else {}
    rows = tuple(
        (s.site.id, s.site.name, cat.get(s.site.category, s.site.category), s.site.address, s.site.district,
         len(s.site.aps), *_fig_vals(s.figures), s.ap_figures.availability, s.figures.outages,
         seconds(s.figures.longest) if s.figures.outages else None, seconds(s.figures.mttr),
         seconds(s.figures.maintenance), s.peak_clients, s.traffic_bytes, _below_text(s, r, lang),
         before.get(s.site.id), _change(s.figures.availability, before.get(s.site.id)))
        for s in r.sites
    )
    return Table("sites", t["sec_sites"], cols, rows)


def _below_text(s: SiteResult, r: Report, lang: Lang) -> str:
    a = s.figures.availability
    if a is None:
        return ""
    return TEXT[lang]["yes"] if a < r.target else TEXT[lang]["no"]


def _aps(r: Report, lang: Lang) -> Table:
    t = TEXT[lang]
    cols = (
        Column("ap_id", t["ap_id"], "text", 18),
        Column("site_id", t["site_id"], "text", 14, pdf=False),
        Column("site_name", t["site_name"], "text", 26),
        Column("model", t["model"], "text", 14, pdf=False),
        *_fig_cols(t),
        Column("outages", t["outages"], "int", 8),
        Column("longest", t["longest"], "seconds", 12),
        Column("mttr", t["mttr_col"], "seconds", 11),
        Column("peak_clients", t["peak_clients"], "int", 10),
        Column("traffic_gb", t["traffic_gb"], "gb", 11),
    )
    rows = tuple(
        (a.ap.id, a.site.id, a.site.name, a.ap.model, *_fig_vals(a.figures), a.figures.outages,
         seconds(a.figures.longest) if a.figures.outages else None, seconds(a.figures.mttr), a.peak_clients,
         a.traffic_bytes)
        for a in r.aps
    )
    return Table("aps", t["sec_aps"], cols, rows)


def _groups(r: Report, lang: Lang, which: Literal["categories", "districts"]) -> Table:
    t = TEXT[lang]
    cat = CATEGORIES[lang]
    groups = r.categories if which == "categories" else r.districts
    first = Column("key", t["category"] if which == "categories" else t["district"], "text", 20)
    cols = (
        first,
        Column("sites", t["sites_n"], "int", 8),
        Column("aps", t["aps"], "int", 8),
        *_fig_cols(t),
        Column("ap_availability", t["ap_availability"], "ratio", 11),
        Column("outages", t["outages"], "int", 8),
        Column("mttr", t["mttr_col"], "seconds", 11),
        Column("below_sites", t["below_sites"], "int", 10),
    )
    rows = tuple(
        (cat.get(g.key, g.key) if which == "categories" else (g.key or "-"), g.sites, g.aps, *_fig_vals(g.figures),
         g.ap_figures.availability, g.figures.outages, seconds(g.figures.mttr), g.below_target)
        for g in groups
    )
    return Table(which, t[f"sec_{which}"], cols, rows)


_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _day_ranges(days: tuple[str, ...], lang: Lang) -> str:
    """('mon', 'tue', 'wed', 'fri') → '월-수,금': runs of three or more days as ranges."""
    names = DAYS[lang]
    idx = sorted({_WEEK.index(d) for d in days})
    runs: list[list[int]] = []
    for i in idx:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ",".join(f"{names[_WEEK[r[0]]]}-{names[_WEEK[r[-1]]]}" if len(r) > 2
                    else ",".join(names[_WEEK[i]] for i in r) for r in runs)


def _timetable(s: SiteResult, lang: Lang) -> str:
    return "; ".join(f"{_day_ranges(w.days, lang)} {w.start.strftime('%H:%M')}-{w.end.strftime('%H:%M')}"
                     for w in s.site.timetable or ())


def _ferries(r: Report, lang: Lang) -> Table:
    t = TEXT[lang]
    cols = (
        Column("site_id", t["site_id"], "text", 14, pdf=False),
        Column("ferry_name", t["ferry_name"], "text", 24),
        Column("timetable", t["timetable"], "text", 40),
        Column("timetable_hours", t["timetable_hours"], "seconds", 13),
        Column("maintenance", t["maintenance"], "seconds", 12),
        *_fig_cols(t),
        Column("outages", t["outages"], "int", 8),
        Column("longest", t["longest"], "seconds", 12),
    )
    rows = tuple(
        (s.site.id, s.site.name, _timetable(s, lang), seconds(s.figures.service), seconds(s.figures.maintenance),
         *_fig_vals(s.figures), s.figures.outages, seconds(s.figures.longest) if s.figures.outages else None)
        for s in r.ferries
    )
    return Table("ferries", t["sec_ferries"], cols, rows)


def _worst(r: Report, lang: Lang) -> Table:
    t = TEXT[lang]
    cols = (
        Column("rank", t["rank"], "int", 6),
        Column("site_id", t["site_id"], "text", 14, pdf=False),
        Column("site_name", t["site_name"], "text", 26),
        Column("availability", t["availability"], "ratio", 11),
        Column("downtime", t["downtime"], "seconds", 12),
        Column("outages", t["outages"], "int", 8),
    )
    rows = tuple(
        (i + 1, s.site.id, s.site.name, s.figures.availability, seconds(s.figures.downtime), s.figures.outages)
        for i, s in enumerate(r.worst(10))
    )
    return Table("worst", f"{t['sec_worst']} ({t['sec_worst_note']})", cols, rows)


def _daily(r: Report, lang: Lang) -> Table:
    t = TEXT[lang]
    cols = (
        Column("date", t["date"], "date", 12),
        Column("avail_sites", t["avail_site_col"], "ratio", 13),
        Column("avail_aps", t["avail_ap_col"], "ratio", 13),
        Column("scheduled", t["scheduled"], "seconds", 13),
        Column("downtime", t["downtime"], "seconds", 12),
        Column("unknown", t["unknown"], "seconds", 12),
        Column("outages", t["outages"], "int", 8),
    )
    rows = tuple(
        (d.day, d.sites.availability, d.aps.availability, seconds(d.sites.scheduled), seconds(d.sites.downtime),
         seconds(d.sites.unknown), d.sites.outages)
        for d in r.days
    )
    return Table("daily", t["sec_daily"], cols, rows)


def _outages(r: Report, lang: Lang) -> Table:
    t = TEXT[lang]
    reasons, scopes = REASONS[lang], SCOPES[lang]
    cols = (
        Column("outage_id", t["outage_id"], "int", 9),
        Column("scope", t["scope"], "text", 10),
        Column("site_id", t["site_id"], "text", 14, pdf=False),
        Column("site_name", t["site_name"], "text", 24),
        Column("ap_list", t["ap_list"], "text", 24),
        Column("start", t["start"], "datetime", 19),
        Column("end", t["end"], "mixed", 19),
        Column("duration", t["duration"], "seconds", 11),
        Column("counted", t["counted"], "seconds", 13),
        Column("reason", t["reason"], "text", 22),
        Column("ack_by", t["ack_by"], "text", 12),
        Column("comment", t["comment"], "text", 30, pdf=False),
        Column("cause", t["sec_causes"], "text", 22, pdf=False),
    )
    until = r.period.until
    causes = CAUSE_NAMES[lang]
    rows = tuple(
        (o.id, scopes[o.scope], o.site.id, o.site.name, ", ".join(o.aps), o.started_at,
         Cell("datetime", o.ended_at) if o.ended_at is not None else Cell("text", t["ongoing"]),
         seconds((o.ended_at if o.ended_at is not None else until) - o.started_at), seconds(o.counted),
         reasons.get(o.reason, o.reason) if o.reason else "", o.acknowledged_by or "", o.comment or "",
         causes[o.cause])
        for o in r.outages
    )
    return Table("outages", t["sec_outages"], cols, rows)


def _maintenance(r: Report, lang: Lang) -> Table:
    t = TEXT[lang]
    scopes, rec, cat = SCOPES[lang], RECURRENCES[lang], CATEGORIES[lang]
    cols = (
        Column("window_id", t["window_id"], "int", 9),
        Column("scope", t["scope"], "text", 10),
        Column("target_value", t["target_value"], "text", 18),
        Column("start", t["start"], "datetime", 19),
        Column("end", t["end"], "datetime", 19),
        Column("duration", t["duration"], "seconds", 11),
        Column("recurrence", t["recurrence"], "text", 8),
        Column("sites_affected", t["sites_affected"], "int", 10),
        Column("created_by", t["created_by"], "text", 12),
        Column("comment", t["comment"], "text", 30),
    )
    rows = tuple(
        (m.window_id, scopes.get(m.scope_kind, m.scope_kind),
         cat.get(m.scope_value or "", m.scope_value or "") if m.scope_kind == "category" else (m.scope_value or ""),
         m.start, m.end, seconds(m.end - m.start), rec.get(m.recurrence, m.recurrence or ""), m.sites,
         m.created_by, m.comment)
        for m in r.maintenance
    )
    return Table("maintenance", t["sec_maintenance"], cols, rows)
