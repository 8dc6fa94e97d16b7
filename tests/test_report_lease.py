"""The scheduled report happens once across instances: shard 0's active and its standby (two ``Service``s, as
``wifimon run`` builds them, on one PostgreSQL) race for it through ``Service._once`` and the ``report`` lease.

Each instance has its own ``report.out_dir`` (two machines without a shared folder), so the files on disk
cannot stop the second one: only the lease can. The e-mail goes through a real SMTP server (aiosmtpd on
loopback, STARTTLS + AUTH). December's history is test_report_job's; the job runs at 06:00 on 1 January.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.app import Service
from monitor.config.load import load_config
from monitor.report.job import Outcome
from monitor.store import Store
from tests import dbs
from tests.ports import free_port
from tests.test_report_job import NEW_YEAR_0600, Server, config_text, mail_channel, smtp_helpers, write_history

pytestmark = pytest.mark.integration


@pytest.fixture
def database() -> Iterator[str]:
    with dbs.pg_schema() as url:
        write_history(url)
        yield url


def instance(tmp: Path, name: str, url: str, smtp: Server, *, standby: bool) -> tuple[Service, Path]:
    """Shard 0/2's active or standby, with its own out_dir; and that folder."""
    home = tmp / name
    home.mkdir()
    (home / "community.secret").write_text("never-sent\n")
    (home / "smtp.password").write_text(smtp_helpers().PASSWORD + "\n")
    out = home / "reports"
    report = f"""\
report:
  schedule: {{day: 1, time: "06:00"}}
  out_dir: {out}
  formats: [csv]
  email: {{channel: mail, to: [head@city.example]}}
"""
    body = config_text(home, report=report, alerting=mail_channel(smtp.port, smtp.cert), store=url)
    body = body.replace('store_url: "', f'shard: {{index: 0, count: 2}}, standby: {str(standby).lower()}, '
                        'store_url: "', 1)
    (home / "wifimon.yaml").write_text(body, encoding="utf-8")
    service = Service(load_config(home / "wifimon.yaml"))
    assert service.lease is not None  # the pair's shard lease: its holder names the instance
    return service, out


def job(service: Service) -> Callable[[], Awaitable[Outcome]]:
    from monitor.report.job import build_report_job

    built = build_report_job(service.inventory, service.store)
    assert built is not None
    return functools.partial(built.run, NEW_YEAR_0600)


def files(out: Path) -> list[str]:
    return sorted(p.name for p in out.rglob("*") if p.is_file()) if out.exists() else []


async def test_two_instances_racing_for_the_report_write_and_mail_it_once(tmp_path: Path, database: str, caplog):
    caplog.set_level(logging.INFO)
    with Server(tmp_path, free_port()) as smtp:
        (a, a_out), (b, b_out) = (instance(tmp_path, n, database, smtp, standby=s) for n, s in (("a", False),
                                                                                             ("b", True)))
        done = {"a": asyncio.Event(), "b": asyncio.Event()}
        ran: list[str] = []

        def racing(me: str, other: str, service: Service) -> Callable[[], Awaitable[None]]:
            work = job(service)

            async def holding() -> None:
                # Whoever took the lease keeps it until the other's attempt is over: the two overlap for sure.
                ran.append(me)
                await asyncio.wait_for(done[other].wait(), 30)
                outcome = await work()
                assert outcome.error is None and outcome.mailed

            return holding

        async def attempt(me: str, other: str, service: Service) -> None:
            await service._once("report", racing(me, other, service))
            done[me].set()

        await asyncio.gather(attempt("a", "b", a), attempt("b", "a", b))
        try:
            assert len(ran) == 1, ran
            winner, loser = (a_out, b_out) if ran == ["a"] else (b_out, a_out)
            assert len(files(winner)) == 13 and files(loser) == []  # 12 CSVs and the .mailed receipt
            assert len(smtp.inbox.messages) == 1
            skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("job_skipped job=report")]
            held_by = (a if ran == ["a"] else b).lease
            assert held_by is not None and skipped == [f"job_skipped job=report reason=held_by holder={held_by.holder}"]
            # Released at the end, not left to lapse for an hour. (What is done is read from out_dir: a later
            # tick in another folder would write the month again, hence docs/scale-out.md's shared out_dir.)
            store = Store(database)
            try:
                assert store.lease("report", "someone", 1.0)[0] == "acquire"  # released, not left to lapse
            finally:
                store.close()
        finally:
            a.store.close()
            b.store.close()


async def test_a_report_lease_left_by_a_crashed_holder_is_taken_once_it_expires(tmp_path: Path, database: str,
                                                                               caplog):
    caplog.set_level(logging.INFO)
    with Server(tmp_path, free_port()) as smtp:
        service, out = instance(tmp_path, "b", database, smtp, standby=True)
        try:
            # The crashed holder: it took the lease (REPORT_LEASE_SECONDS, an hour) and never gave it back.
            assert service.store.lease("report", "crashed:1:dead", 3600.0)[0] == "acquire"
            await service._once("report", job(service))
            assert files(out) == [] and smtp.inbox.messages == []
            assert any(r.getMessage() == "job_skipped job=report reason=held_by holder=crashed:1:dead"
                       for r in caplog.records)
            # The hour passes (the database's clock decides expiry: the row is moved, not the test put to sleep).
            with service.store.engine.begin() as conn:
                conn.execute(text("UPDATE leases SET expires_at = now() - interval '1 second' WHERE name = 'report'"))
            await service._once("report", job(service))
            assert len(files(out)) == 13 and len(smtp.inbox.messages) == 1
            assert service.store.lease("report", "someone", 1.0)[0] == "acquire"  # released after the job
        finally:
            service.store.close()
