"""The monthly report job: once this month's scheduled day and time have passed, write last month's report
into ``<report.out_dir>/<YYYY-MM>/`` and, if configured, mail it.

What is left to do is read from the disk, never from a flag: a format whose file is missing is written, a
report without its ``.mailed`` receipt is mailed. So the same call serves the scheduled run, the catch-up
after the service was down at the scheduled time, the retry after a failure (store or SMTP down) and a
restart after a crash on the 1st; and a report already written is never rewritten.

The files appear all at once: they are written into a hidden staging folder beside the month's folder and
renamed into place, so a crash half-way leaves no half-written month that would pass for a done one.
A failure is logged and left for the next call (the service calls again every ``retry_seconds``); nothing
here raises into the scheduler.

Database reads and file writing run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.alerting.channels import ChannelError, email_channel
from monitor.alerting.channels.email import Attachment, EmailChannel
from monitor.alerting.settings import EmailChannel as EmailChannelSettings
from monitor.config.load import ConfigError, LoadedConfig
from monitor.config.model import Config
from monitor.report.build import Report, make_report, previous_month
from monitor.report.formats import month_stem, write_report
from monitor.report.formats.pdf_writer import FontMissing
from monitor.report.mail import compose
from monitor.report.settings import ReportSchedule
from monitor.store import Store, StoreError

log = logging.getLogger(__name__)

#: Seconds between attempts while last month's report is due and not done (written and, if asked, mailed).
RETRY_SECONDS = 3600.0
#: A staging folder older than this is the leftover of a crash, not a write in progress (another process).
STALE_STAGING_SECONDS = 3600.0
RECEIPT_SUFFIX = ".mailed"


def due_month(now: float, timezone: str, schedule: ReportSchedule) -> str | None:
    """'YYYY-MM' of the month whose report is due at ``now``: last month, once this month's scheduled day
    and local time have passed; None before that (the job of the 1st at 06:00 has nothing to do at 05:59)."""
    tz = ZoneInfo(timezone)
    local = datetime.fromtimestamp(now, tz)
    scheduled = datetime.combine(date(local.year, local.month, schedule.day), schedule.at, tz)
    return previous_month(now, timezone) if local >= scheduled else None


def month_folder(out_dir: Path, month: str) -> Path:
    return out_dir / month


def report_files(folder: Path, month: str) -> list[Path]:
    """The report's files present in ``folder``: XLSX, PDF, then the CSVs (sorted), no receipts."""
    stem = month_stem(month)
    files = [folder / f"{stem}.{ext}" for ext in ("xlsx", "pdf")]
    return [f for f in files if f.is_file()] + sorted(folder.glob(f"{stem}-*.csv"))


def missing_formats(folder: Path, month: str, formats: tuple[str, ...]) -> tuple[str, ...]:
    """The formats of ``formats`` with no file in ``folder`` yet."""
    stem = month_stem(month)

    def present(fmt: str) -> bool:
        if fmt == "csv":
            return any(folder.glob(f"{stem}-*.csv"))
        return (folder / f"{stem}.{fmt}").is_file()

    return tuple(f for f in formats if not present(f))


def receipt(folder: Path, month: str) -> Path:
    """The file whose presence says the month's report was mailed (when, to whom, which Message-ID)."""
    return folder / f"{month_stem(month)}{RECEIPT_SUFFIX}"


@dataclass(frozen=True)
class Outcome:
    """What one call did. ``month`` None: nothing was due."""

    month: str | None
    files: tuple[Path, ...] = ()
    written: tuple[Path, ...] = ()  # written by this call
    mailed: bool = False  # mailed by this call
    error: str | None = None  # the step that failed and why; the next call tries again


class ReportJob:
    """Writes and mails last month's report; :meth:`run` is the whole job, given ``now``."""

    def __init__(self, store: Store, config: Config, *, mailer: EmailChannel | None = None,
                 retry_seconds: float | None = None) -> None:
        if config.report.schedule is None:
            raise ValueError("the report job needs report.schedule")
        self.store = store
        self.config = config
        self.settings = config.report
        self.schedule: ReportSchedule = config.report.schedule
        self.mailer = mailer
        email = config.report.email
        self.recipients: tuple[str, ...] = (email.to or mailer.recipients) if (email and mailer) else ()
        self.retry_seconds = RETRY_SECONDS if retry_seconds is None else retry_seconds
        self._lock = asyncio.Lock()
        self._built: Report | None = None  # the last report built, kept for its mail

    @property
    def out_dir(self) -> Path:
        return self.settings.out_dir

    def due(self, now: float) -> str | None:
        return due_month(now, self.config.service.timezone, self.schedule)

    async def tick(self) -> Outcome:
        """The scheduler's entry point: :meth:`run` at the current time."""
        return await self.run(time.time())

    async def run(self, now: float) -> Outcome:
        """Do what is left of the report due at ``now``. Never raises (bar cancellation): failures are logged."""
        month = self.due(now)
        if month is None:
            return Outcome(None)
        if self._lock.locked():  # the cron job and the retry job fired together: one of them is enough
            log.debug("report_busy month=%s", month)
            return Outcome(month)
        async with self._lock:
            return await self._run(month, now)

    async def _run(self, month: str, now: float) -> Outcome:
        step = "write"
        written: list[Path] = []
        try:
            files, written, mailed = await asyncio.to_thread(self.write, month, now)
            if self.mailer is None or mailed:
                return Outcome(month, tuple(files), tuple(written))
            step = "mail"
            await self.mail(month, files, now)
            return Outcome(month, tuple(files), tuple(written), mailed=True)
        except (StoreError, ChannelError, FontMissing, OSError, ValueError) as exc:
            error, trace = (f"{type(exc).__name__}: {exc}" if isinstance(exc, OSError) else str(exc)), False
        except Exception as exc:  # a bug, most likely: logged with its traceback, and the service goes on
            error, trace = f"{type(exc).__name__}: {exc}", True
        log.error("report_failed month=%s step=%s retry_in=%.0fs error=%s", month, step, self.retry_seconds, error,
                  exc_info=trace)
        try:
            files = await asyncio.to_thread(report_files, month_folder(self.out_dir, month), month)
        except OSError:  # out_dir itself unreadable: the error above says enough
            files = []
        return Outcome(month, tuple(files), tuple(written), error=f"{step}: {error}")

    # -- writing (in a thread) -----------------------------------------------------------------------

    def write(self, month: str, now: float) -> tuple[list[Path], list[Path], bool]:
        """Write the formats of ``month`` that are missing. Returns all its files, those written now, and
        whether its receipt says it was mailed."""
        folder = month_folder(self.out_dir, month)
        missing = missing_formats(folder, month, self.settings.formats)
        mailed = receipt(folder, month).exists()
        if not missing:
            files = report_files(folder, month)
            log.debug("report_present month=%s dir=%s files=%d mailed=%s", month, folder, len(files), mailed)
            return files, [], mailed
        began = time.monotonic()
        report = make_report(self.store, self.config, month, now, self.settings.target)
        if report.period.month_to_date:  # cannot happen for last month; a wrong file name would be worse
            raise ValueError(f"month {month} is not over at {now}")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._remove_stale_staging(month)
        # Not tempfile.mkdtemp: its 0700 would become the month folder's mode, hiding it from whoever
        # serves or collects the reports; a plain mkdir follows the umask like every other file.
        staging = self.out_dir / f".{month}.partial-{secrets.token_hex(4)}"
        staging.mkdir()
        try:
            written = write_report(report, missing, staging, self.settings.language)
            try:
                staging.rename(folder)  # atomic: the month's folder appears complete, or not at all
            except OSError:  # the folder exists (some formats were there already): add the missing files
                folder.mkdir(exist_ok=True)
                for f in written:
                    os.replace(f, folder / f.name)
            written = [folder / f.name for f in written]
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if self.mailer is not None:
            self._built = report  # for the mail's figures, so they need not be read again
        files = report_files(folder, month)
        log.info("report_written month=%s dir=%s files=%d formats=%s took=%.2fs", month, folder, len(written),
                 ",".join(missing), time.monotonic() - began)
        return files, written, mailed

    def _remove_stale_staging(self, month: str) -> None:
        """Leftovers of a crash; by the wall clock (an mtime is one), not the report's ``now``."""
        for old in self.out_dir.glob(f".{month}.partial-*"):
            try:
                if time.time() - old.stat().st_mtime > STALE_STAGING_SECONDS:
                    shutil.rmtree(old)
                    log.info("report_staging_removed dir=%s", old)
            except OSError as exc:
                log.warning("report_staging_not_removed dir=%s error=%s", old, exc)

    # -- mailing ----------------------------------------------------------------------------------------

    async def mail(self, month: str, files: list[Path], now: float) -> None:
        """Mail the month's report, then leave the receipt. The report's figures for the body are the ones
        just built, or (after a restart, the files already written) built again: the same history gives
        the same figures."""
        assert self.mailer is not None
        folder = month_folder(self.out_dir, month)
        report = self._built
        if report is None or report.period.label != month:
            report = await asyncio.to_thread(make_report, self.store, self.config, month, now, self.settings.target)
            self._built = report
        text = compose(report, files, folder, self.settings.language)
        attachments = await asyncio.to_thread(lambda: [Attachment.from_file(f) for f in text.attach])
        size = sum(len(a.content) for a in attachments)
        began = time.monotonic()
        await self.mailer.send_mail(text.subject, text.body, message_id=text.message_id, recipients=self.recipients,
                                    attachments=attachments, headers={"X-Wifimon-Report-Month": month})
        took = time.monotonic() - began
        note = (f"mailed {datetime.fromtimestamp(time.time(), report.period.tz).isoformat(timespec='seconds')}\n"
                f"channel {self.mailer.name} ({self.mailer.target})\nto {', '.join(self.recipients)}\n"
                f"message-id <{text.message_id}>\nattachments {', '.join(f.name for f in text.attach)}\n")
        await asyncio.to_thread(receipt(folder, month).write_text, note, encoding="utf-8")
        self._built = None
        log.info("report_mailed month=%s channel=%s to=%d attachments=%d bytes=%d took=%.2fs", month,
                 self.mailer.name, len(self.recipients), len(attachments), size, took)


def build_report_job(loaded: LoadedConfig, store: Store) -> ReportJob | None:
    """The job as the config asks for it; None without ``report.schedule``. ConfigError if the e-mail
    channel's password cannot be read."""
    cfg = loaded.config
    if cfg.report.schedule is None:
        return None
    mailer = None
    if cfg.report.email is not None:
        name = cfg.report.email.channel
        channel = cfg.alerting.channels.get(name)
        if not isinstance(channel, EmailChannelSettings):  # parse_config refuses this; a hand-built Config may not
            raise ConfigError([f"report.email.channel: no e-mail channel named {name!r} under alerting.channels"])
        mailer = email_channel(name, channel, loaded.path.parent)
    job = ReportJob(store, cfg, mailer=mailer)
    log.info("report_job_configured day=%d time=%s timezone=%s out_dir=%s formats=%s mail=%s to=%d", job.schedule.day,
             job.schedule.time, cfg.service.timezone, job.out_dir, ",".join(job.settings.formats),
             mailer.name if mailer else "none", len(job.recipients))
    return job
