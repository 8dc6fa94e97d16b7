"""The monthly report job: which month, files written once, catch-up, e-mail over a real SMTP server
(STARTTLS + AUTH, aiosmtpd on loopback), failures that are logged and retried, config validation, and the
report's target from the config.

History is a real SQLite store written the way the monitor writes it: a run, transitions (site ``s1`` is
down for exactly one hour on 10 December 2025, site ``s2`` never), so December's figures are known by
hand: s1 743/744, the whole city (2 × 744 − 1)/(2 × 744).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import io
import logging
import os
import ssl
import time
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from monitor.config.load import ConfigError, load_config, parse_config
from monitor.domain.vocabulary import Reason, Scope, Transition
from monitor.report.formats.labels import TEXT
from monitor.report.job import ReportJob, build_report_job, due_month, receipt
from monitor.report.settings import ReportSchedule
from monitor.store import Store
from tests.ports import free_port

SEOUL = ZoneInfo("Asia/Seoul")
KO = TEXT["ko"]
HOUR = 3600


def T(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> float:
    """A Seoul wall-clock time as unix seconds."""
    return datetime(y, mo, d, h, mi, s, tzinfo=SEOUL).timestamp()


DEC_HOURS = 31 * 24
S1_DEC = (DEC_HOURS - 1) / DEC_HOURS  # s1: down 1 h in December
CITY_DEC = (2 * DEC_HOURS - 1) / (2 * DEC_HOURS)  # s1 and s2 time-weighted
NEW_YEAR_0600 = T(2026, 1, 1, 6)  # the 1st of January at 06:00 in Seoul: still 31 December in UTC
STEM = "wifimon-availability-2025-12"




# -- history and config ---------------------------------------------------------------------------------


def write_history(url: str) -> None:
    store = Store(url)
    store.migrate()
    run = store.start_run(T(2025, 11, 20), host="test", version="test")
    at0 = T(2025, 11, 20, 0, 0, 5)
    down, up = T(2025, 12, 10, 10), T(2025, 12, 10, 11)
    transitions = [
        Transition(Scope.AP, "s1-a", "s1", "unknown", "up", at0), Transition(Scope.SITE, "s1", "s1", "unknown", "up", at0),
        Transition(Scope.AP, "s2-a", "s2", "unknown", "up", at0), Transition(Scope.SITE, "s2", "s2", "unknown", "up", at0),
        Transition(Scope.AP, "s1-a", "s1", "up", "down", down, Reason.TIMEOUT),
        Transition(Scope.SITE, "s1", "s1", "up", "down", down, Reason.TIMEOUT),
        Transition(Scope.AP, "s1-a", "s1", "down", "up", up), Transition(Scope.SITE, "s1", "s1", "down", "up", up),
    ]
    store.record_transitions(transitions, run)
    store.stop_run(run, T(2026, 3, 15))
    store.close()


def config_text(tmp: Path, report: str = "", alerting: str = "", store: str | None = None) -> str:
    store = store or f"sqlite:///{tmp}/wifimon.db"
    return f"""\
service: {{organisation: 군산시, timezone: Asia/Seoul, store_url: "{store}"}}
credentials: {{c: {{version: "2c", community: {{file: community.secret}}}}}}
sites:
  - {{id: s1, name: 군산시청 버스정류장, category: bus_stop, district: 조촌동, aps: [{{id: s1-a, address: 127.0.0.1, credentials: c}}]}}
  - {{id: s2, name: 은파호수공원, category: park, district: 나운동, aps: [{{id: s2-a, address: 127.0.0.2, credentials: c}}]}}
{alerting}{report}"""


def write_config(tmp: Path, **kw: str) -> Path:
    path = tmp / "wifimon.yaml"
    path.write_text(config_text(tmp, **kw), encoding="utf-8")
    (tmp / "community.secret").write_text("never-sent\n")
    return path


def report_section(tmp: Path, extra: str = "", schedule: str = '{day: 1, time: "06:00"}') -> str:
    return f"""\
report:
  target_percent: 99.9
  schedule: {schedule}
  out_dir: {tmp / "reports"}
{extra}"""


def mail_channel(port: int, cert: Path | None = None) -> str:
    ca = f", ca_file: {cert}" if cert else ""
    return f"""\
alerting:
  channels:
    hook: {{type: webhook, url: "http://127.0.0.1:9/hook"}}
    mail: {{type: email, host: 127.0.0.1, port: {port}, username: wifimon, password: {{file: smtp.password}},
           sender: wifimon@city.example, recipients: [noc@city.example], timeout: 5{ca}}}
"""


@pytest.fixture
def pdf_font() -> None:
    """The jobs below write PDFs, which embed a Korean font from a Debian package."""
    from monitor.report.formats.pdf_writer import FONT_FILES, FONT_PACKAGE

    missing = [str(f) for f in FONT_FILES.values() if not f.is_file()]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (Debian package {FONT_PACKAGE})")


@pytest.fixture
def city(tmp_path: Path, pdf_font: None) -> Path:
    """A tmp folder with December's history in wifimon.db."""
    write_history(f"sqlite:///{tmp_path}/wifimon.db")
    return tmp_path


def job_for(path: Path) -> ReportJob:
    loaded = load_config(path)
    job = build_report_job(loaded, Store(loaded.config.service.store_url))
    assert job is not None
    return job


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    return {f.name: (f.stat().st_mtime_ns, hashlib.sha256(f.read_bytes()).hexdigest()) for f in folder.iterdir()}


def summary(xlsx: Path | bytes) -> dict[str, object]:
    wb = load_workbook(io.BytesIO(xlsx) if isinstance(xlsx, bytes) else xlsx, read_only=True)
    try:
        return {row[0]: row[1] for row in wb[KO["sec_summary"]].iter_rows(min_row=2, values_only=True)}
    finally:
        wb.close()


# -- which month ------------------------------------------------------------------------------------------


SIX = ReportSchedule(day=1, time="06:00")


@pytest.mark.parametrize(("now", "schedule", "month"), [
    (NEW_YEAR_0600, SIX, "2025-12"),  # the job on the 1st: December, though UTC is still in December
    (NEW_YEAR_0600 - 1, SIX, None),  # a second before the scheduled time: nothing due yet
    (T(2026, 1, 15, 12), SIX, "2025-12"),  # down on the 1st: still December's report that is due
    (T(2026, 3, 1, 0, 30), ReportSchedule(day=1, time="00:00"), "2026-02"),  # UTC: still 28 February
    (T(2026, 2, 4, 23, 59), ReportSchedule(day=5, time="08:00"), None),
    (T(2026, 2, 5, 8), ReportSchedule(day=5, time="08:00"), "2026-01"),
    (T(2026, 12, 31, 23, 59, 59), SIX, "2026-11"),
])
def test_the_month_due_is_last_month_in_seoul_once_the_scheduled_time_has_passed(now, schedule, month):
    assert due_month(now, "Asia/Seoul", schedule) == month


def test_new_year_in_seoul_is_still_the_old_year_in_utc():
    """The boundary case above is a real one: a job that took the month in UTC would report November."""
    assert datetime.fromtimestamp(NEW_YEAR_0600, UTC).date().isoformat() == "2025-12-31"
    assert due_month(NEW_YEAR_0600, "UTC", SIX) == "2025-11"  # 21:00 on 31 December: November's is due


# -- writing ----------------------------------------------------------------------------------------------


async def test_writes_last_months_files_with_the_figures_of_the_store(city, caplog):
    caplog.set_level(logging.INFO, logger="monitor.report.job")
    job = job_for(write_config(city, report=report_section(city)))
    out = await job.run(NEW_YEAR_0600)
    assert out.month == "2025-12" and out.error is None and not out.mailed
    folder = city / "reports" / "2025-12"
    names = sorted(f.name for f in folder.iterdir())
    assert f"{STEM}.xlsx" in names and f"{STEM}.pdf" in names
    assert len([n for n in names if n.endswith(".csv")]) == 12
    assert sorted(f.name for f in out.written) == names == sorted(f.name for f in out.files)
    figures = summary(folder / f"{STEM}.xlsx")
    assert figures[KO["avail_sites"]] == pytest.approx(CITY_DEC, abs=1e-12)
    assert figures[KO["target"]] == pytest.approx(0.999)
    assert figures[KO["below_target"]] == 1  # s1 at 743/744 = 99.866 % < 99.9 %
    assert [p.name for p in (city / "reports").iterdir()] == ["2025-12"]  # no staging folder left behind
    assert any(r.getMessage().startswith("report_written month=2025-12 ") and " files=14 " in r.getMessage()
               for r in caplog.records)


async def test_files_present_are_not_rewritten_and_a_missing_one_is_added(city):
    path = write_config(city, report=report_section(city))
    assert (await job_for(path).run(NEW_YEAR_0600)).written
    folder = city / "reports" / "2025-12"
    before = snapshot(folder)

    # A restart (a new job, nothing in memory) later that day: everything is there, nothing is written.
    again = await job_for(path).run(NEW_YEAR_0600 + 3 * HOUR)
    assert again.month == "2025-12" and again.written == () and again.error is None
    assert snapshot(folder) == before

    # Someone deleted the PDF: only the PDF comes back, the rest is untouched.
    (folder / f"{STEM}.pdf").unlink()
    third = await job_for(path).run(NEW_YEAR_0600 + 4 * HOUR)
    assert [f.name for f in third.written] == [f"{STEM}.pdf"]
    after = snapshot(folder)
    assert {k: v for k, v in after.items() if not k.endswith(".pdf")} == \
           {k: v for k, v in before.items() if not k.endswith(".pdf")}


async def test_a_crash_half_way_on_the_first_leaves_no_month_that_passes_for_done(city):
    """What a crash during the write leaves: a staging folder with some files, and no month folder. The next
    run writes the month and clears the leftover (old enough not to be someone's write in progress)."""
    path = write_config(city, report=report_section(city))
    reports = city / "reports"
    leftover = reports / ".2025-12.partial-deadbeef"
    leftover.mkdir(parents=True)
    (leftover / f"{STEM}.xlsx").write_bytes(b"half a workbook")
    old = time.time() - 2 * HOUR  # by the wall clock: the age of a folder is a fact of this machine
    os.utime(leftover, (old, old))
    fresh = reports / ".2025-12.partial-0ther0ne"  # another process's write in progress: left alone
    fresh.mkdir()
    out = await job_for(path).run(NEW_YEAR_0600 + 600)
    assert out.error is None and len(out.written) == 14
    assert sorted(p.name for p in reports.iterdir()) == [".2025-12.partial-0ther0ne", "2025-12"]
    assert summary(reports / "2025-12" / f"{STEM}.xlsx")[KO["avail_sites"]] == pytest.approx(CITY_DEC, abs=1e-12)


async def test_catch_up_after_being_down_at_the_scheduled_time(city):
    path = write_config(city, report=report_section(city))
    job = job_for(path)
    early = await job.run(T(2026, 1, 1, 5, 59))  # started before the scheduled time: the cron job will do it
    assert early.month is None and not (city / "reports").exists()
    late = await job.run(T(2026, 1, 14, 9, 30))  # down from the 31st to the 14th: December, on start-up
    assert late.month == "2025-12" and len(late.written) == 14
    # The report is of December, whenever written: its figures do not depend on the day it is run.
    assert summary(city / "reports" / "2025-12" / f"{STEM}.xlsx")[KO["avail_sites"]] == pytest.approx(CITY_DEC, abs=1e-12)


async def test_store_down_is_logged_leaves_nothing_and_is_retried(tmp_path, caplog, pdf_font):
    caplog.set_level(logging.INFO, logger="monitor.report.job")
    db_dir = tmp_path / "db"  # does not exist yet: SQLite cannot open the file
    store = f"sqlite:///{db_dir}/wifimon.db"
    path = write_config(tmp_path, report=report_section(tmp_path), store=store)
    job = job_for(path)
    out = await job.run(NEW_YEAR_0600)
    assert out.month == "2025-12" and out.error is not None and out.error.startswith("write: ")
    assert "wifimon.db" in out.error and out.written == ()
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())
    failed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("report_failed")]
    assert failed and "month=2025-12 step=write retry_in=3600s" in failed[0]

    db_dir.mkdir()  # the store is back
    write_history(store)
    retried = await job.run(NEW_YEAR_0600 + HOUR)
    assert retried.error is None and len(retried.written) == 14


# -- e-mail over a real SMTP server ----------------------------------------------------------------------------

def smtp_helpers():
    """The e-mail channel's test server pieces; skips the test (not this module) without aiosmtpd."""
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is a dev dependency (pip install -e '.[dev]')")
    import tests.test_alerting_smtp as helpers

    return helpers


class Server:
    """aiosmtpd on loopback requiring STARTTLS, then AUTH (the e-mail channel's own test server)."""

    def __init__(self, tmp: Path, port: int) -> None:
        from aiosmtpd.controller import Controller

        helpers = smtp_helpers()
        self.cert, key = helpers._certificate(tmp)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.cert, key)
        self.inbox = helpers.Inbox()
        self.port = port
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port, tls_context=tls,
                                     require_starttls=True, auth_required=True, auth_require_tls=True,
                                     authenticator=helpers._auth)

    def __enter__(self) -> Server:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def mail_config(tmp: Path, port: int, cert: Path, to: str = "[head@city.example, it@city.example]") -> Path:
    (tmp / "smtp.password").write_text(smtp_helpers().PASSWORD + "\n")
    return write_config(tmp, alerting=mail_channel(port, cert),
                        report=report_section(tmp, f"  email: {{channel: mail, to: {to}}}\n"))


@pytest.mark.integration
async def test_the_report_arrives_by_mail_with_korean_subject_figures_and_attachments(city, caplog):
    caplog.set_level(logging.INFO, logger="monitor.report.job")
    with Server(city, free_port()) as smtp:
        job = job_for(mail_config(city, smtp.port, smtp.cert))
        out = await job.run(NEW_YEAR_0600)
        assert out.error is None and out.mailed
        [(sender, rcpts, raw)] = smtp.inbox.messages
        # a restart the same morning: written, mailed, nothing to do
        again = await job_for(mail_config(city, smtp.port, smtp.cert)).run(NEW_YEAR_0600 + HOUR)
        assert again.error is None and not again.mailed and again.written == ()
        assert len(smtp.inbox.messages) == 1

    assert sender == "wifimon@city.example" and rcpts == ["head@city.example", "it@city.example"]
    msg = message_from_bytes(raw, policy=default_policy)
    assert msg["Subject"] == "[wifimon] 군산시 공공와이파이 가용률 월간 보고서 (2025년 12월)"
    assert msg["X-Wifimon-Report-Month"] == "2025-12" and msg["Message-ID"].startswith("<wifimon-report-2025-12-")
    body = msg.get_body(("plain",)).get_content()
    assert "기관: 군산시" in body
    assert "기간: 2025-12-01 00:00 – 2026-01-01 00:00 (Asia/Seoul)" in body
    assert f"전체 가용률: {CITY_DEC * 100:.3f} % (목표 99.900 %)" in body
    assert "목표 미달 사이트 수: 1개 / 전체 2개" in body
    assert "CSV 파일 12개" in body and str(city / "reports" / "2025-12") in body

    attachments = {a.get_filename(): a for a in msg.iter_attachments()}
    assert sorted(attachments) == [f"{STEM}.pdf", f"{STEM}.xlsx"]  # 12 CSVs are too many: XLSX + PDF
    xlsx = attachments[f"{STEM}.xlsx"].get_content()
    assert xlsx == (city / "reports" / "2025-12" / f"{STEM}.xlsx").read_bytes()
    assert summary(xlsx)[KO["avail_sites"]] == pytest.approx(CITY_DEC, abs=1e-12)
    pdf = attachments[f"{STEM}.pdf"]
    assert pdf.get_content_type() == "application/pdf" and pdf.get_content().startswith(b"%PDF")

    note = receipt(city / "reports" / "2025-12", "2025-12").read_text(encoding="utf-8")
    assert "head@city.example" in note and smtp_helpers().PASSWORD not in note
    mailed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("report_mailed")]
    assert len(mailed) == 1 and "month=2025-12 channel=mail to=2 attachments=2 " in mailed[0]


@pytest.mark.integration
async def test_csv_only_reports_attach_their_csvs(city):
    with Server(city, free_port()) as smtp:
        path = mail_config(city, smtp.port, smtp.cert, to="[head@city.example]")
        text = path.read_text(encoding="utf-8").replace("  out_dir:", "  formats: csv\n  language: en\n  out_dir:")
        path.write_text(text, encoding="utf-8")
        out = await job_for(path).run(NEW_YEAR_0600)
        assert out.error is None and out.mailed
        msg = message_from_bytes(smtp.inbox.messages[0][2], policy=default_policy)
    names = sorted(a.get_filename() for a in msg.iter_attachments())
    assert len(names) == 12 and all(n.startswith(STEM) and n.endswith(".csv") for n in names)
    assert msg["Subject"].startswith("[wifimon] 군산시 Public Wi-Fi availability")
    assert "Sites below target: 1 of 2" in msg.get_body(("plain",)).get_content()


@pytest.mark.integration
async def test_smtp_down_is_logged_the_files_stay_and_the_mail_goes_on_the_retry(city, caplog):
    caplog.set_level(logging.INFO, logger="monitor.report.job")
    port = free_port()  # nothing listens here yet
    server = Server(city, port)
    job = job_for(mail_config(city, port, server.cert))
    out = await job.run(NEW_YEAR_0600)
    assert out.error is not None and out.error.startswith("mail: ") and f"127.0.0.1:{port}" in out.error
    assert len(out.written) == 14 and not out.mailed
    folder = city / "reports" / "2025-12"
    assert not receipt(folder, "2025-12").exists()
    failed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("report_failed")]
    assert len(failed) == 1 and "step=mail retry_in=3600s" in failed[0] and "connect failed" in failed[0]
    before = snapshot(folder)

    with server:  # the server is back an hour later; a restarted service (a new job) sends it
        retried = await job_for(mail_config(city, port, server.cert)).run(NEW_YEAR_0600 + HOUR)
        assert retried.error is None and retried.mailed and retried.written == ()
        assert len(server.inbox.messages) == 1
    assert {k: v for k, v in snapshot(folder).items() if not k.endswith(".mailed")} == before
    msg = message_from_bytes(server.inbox.messages[0][2], policy=default_policy)
    assert f"전체 가용률: {CITY_DEC * 100:.3f} %" in msg.get_body(("plain",)).get_content()  # figures read again


@pytest.mark.integration
async def test_the_running_service_catches_up_survives_smtp_down_and_retries(tmp_path, monkeypatch, caplog,
                                                                             pdf_font):
    """The real service (no sites, so no SNMP): on start-up it writes last month's report; the SMTP server is
    down, which is logged while /healthz goes on answering; the retry job mails it once the server is up."""
    import httpx

    from monitor import app
    from monitor.report import job as report_job
    from monitor.report.build import previous_month

    caplog.set_level(logging.INFO, logger="monitor.report.job")
    monkeypatch.setattr(app, "REPORT_CATCH_UP_SECONDS", 0.3)
    monkeypatch.setattr(report_job, "RETRY_SECONDS", 1.0)
    port, listen = free_port(), free_port()
    server = Server(tmp_path, port)
    (tmp_path / "smtp.password").write_text(smtp_helpers().PASSWORD + "\n")
    path = tmp_path / "wifimon.yaml"
    report = report_section(tmp_path, "  email: {channel: mail}\n", '{day: 1, time: "00:00"}')
    path.write_text(f"""\
service: {{organisation: 군산시, listen: "127.0.0.1:{listen}", store_url: "sqlite:///{tmp_path}/wifimon.db"}}
{mail_channel(port, server.cert)}{report}""", encoding="utf-8")
    month = previous_month(time.time(), "Asia/Seoul")
    folder = tmp_path / "reports" / month

    async def until(what: str, check, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
            await asyncio.sleep(0.05)

    def failures() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.getMessage().startswith("report_failed")]

    stop = asyncio.Event()
    service = asyncio.create_task(app.Service(load_config(path)).run(stop))
    try:
        await until("the mail to fail", lambda: failures() or service.done())
        assert not service.done()
        assert "step=mail" in failures()[0] and len(list(folder.glob("*.xlsx"))) == 1
        async with httpx.AsyncClient(timeout=5) as client:
            assert (await client.get(f"http://127.0.0.1:{listen}/healthz")).status_code == 200
        with server:
            # The receipt is written after the server accepted the mail: wait for both.
            await until("the retried mail and its receipt",
                        lambda: (server.inbox.messages and receipt(folder, month).exists()) or service.done())
            assert not service.done()
            assert len(server.inbox.messages) == 1
        assert sum(1 for r in caplog.records if r.getMessage().startswith("report_written")) == 1
    finally:
        stop.set()
        await asyncio.wait_for(service, 15)


# -- config --------------------------------------------------------------------------------------------------


def problems(tmp: Path, **kw: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config(write_config(tmp, **kw))
    return exc.value.problems


def test_report_config_defaults(tmp_path):
    cfg = parse_config(write_config(tmp_path)).report
    assert (cfg.target_percent, cfg.schedule, cfg.formats, str(cfg.out_dir), cfg.language, cfg.email) == \
           (99.0, None, ("xlsx", "csv", "pdf"), "reports", "ko", None)
    cfg = parse_config(write_config(tmp_path, report="report: {schedule: {}}\n")).report
    assert cfg.schedule == ReportSchedule(day=1, time="06:00")
    assert build_report_job(load_config(write_config(tmp_path)), Store("sqlite://")) is None  # no schedule: no job


def test_unknown_report_keys_fail_with_file_and_line(tmp_path):
    found = problems(tmp_path, report="report:\n  target_percent: 99.5\n  schedule: {day: 1, hour: 6}\n  colour: red\n")
    path = tmp_path / "wifimon.yaml"
    assert f"{path}:8: report.schedule.hour: unknown key 'hour'" in found
    assert f"{path}:9: report.colour: unknown key 'colour'" in found


def test_the_email_channel_must_exist_and_be_an_email_channel(tmp_path):
    path = tmp_path / "wifimon.yaml"
    missing = problems(tmp_path, alerting=mail_channel(25), report="report:\n  email: {channel: post}\n")
    assert missing == [f"{path}:12: report.email.channel: no channel named 'post' under alerting.channels "
                       "(e-mail channels: mail)"]
    wrong = problems(tmp_path, alerting=mail_channel(25), report="report:\n  email:\n    channel: hook\n")
    assert wrong == [f"{path}:13: report.email.channel: channel 'hook' is of type 'webhook', not 'email' "
                     "(e-mail channels: mail)"]
    none = problems(tmp_path, report="report: {email: {channel: mail}}\n")
    assert any("no channel named 'mail'" in p and "(e-mail channels: none)" in p for p in none)


def test_report_values_are_checked_all_at_once(tmp_path):
    found = problems(tmp_path, alerting=mail_channel(25), report="""\
report:
  target_percent: 120
  schedule: {day: 31, time: 16:30}
  formats: [xlsx, docx]
  language: fr
  email: {channel: nope, to: [not-an-address]}
""")
    text = "\n".join(found)
    for where in ("report.target_percent", "report.schedule.day", "report.schedule.time", "report.formats",
                  "report.language", "report.email.to", "report.email.channel"):
        assert where in text, where
    assert "write the time in quotes" in text  # YAML read 16:30 as 990: the message says why
    assert all(p.startswith(f"{tmp_path / 'wifimon.yaml'}:") for p in found)


# -- wifimon report takes its target from the config ---------------------------------------------------------


def test_cli_report_uses_the_configured_target_unless_given_one(city, monkeypatch, capsys):
    from monitor.cli.report import register

    monkeypatch.chdir(city)
    write_config(city, report="report: {target_percent: 99.95}\n")
    parser = argparse.ArgumentParser(prog="wifimon")
    register(parser.add_subparsers(dest="command", required=True))

    def cover_and_summary(*extra: str) -> tuple[str, str]:
        args = parser.parse_args(["report", "--month", "2025-12", "--format", "csv", "--out", "r",
                                  "--config", "wifimon.yaml", *extra])
        assert args.func(args) == 0, capsys.readouterr().err
        with (city / "r" / f"{STEM}-summary.csv").open(encoding="utf-8-sig", newline="") as fh:
            rows = dict(csv.reader(fh))
        return rows[KO["target"]], rows[KO["below_target"]]

    assert cover_and_summary() == ("99.950%", "1")  # s1's 99.866 % is below the configured 99.95 %
    assert cover_and_summary("--target", "99.8") == ("99.800%", "0")
