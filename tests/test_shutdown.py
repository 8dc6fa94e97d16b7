"""A clean stop of `wifimon run` (SIGTERM from a service manager, Ctrl-C's SIGINT) in the middle of its rounds:
exit 0, no traceback and no error in the log, no false down on the way out, the run closed in the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.store import Store
from tests.e2e import Monitor, sample, simulator, small_city, wait_until
from tests.ports import free_port

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_during_rounds_is_clean(tmp_path, sig):
    config = small_city(tmp_path, probe=2, metrics=3, recheck=1)
    with simulator(config, tmp_path):
        mon = Monitor(config, tmp_path).start()
        try:
            wait_until("every site up", lambda: all(sample(mon.metrics(), "wifi_site_up", site=s) == 1.0
                                                    for s in ("market", "park", "stop", "ferry")), 30)
            # Rounds take most of their interval (spread 0.8): a stop now lands in the middle of one.
            rounds = sample(mon.metrics(), "wifimon_rounds_total", round="probe") or 0.0
            wait_until("another probe round", lambda: (sample(mon.metrics(), "wifimon_rounds_total", round="probe")
                                                       or 0.0) > rounds, 10)
            assert mon.proc is not None
            mon.proc.send_signal(sig)
            assert mon.proc.wait(30) == 0
        finally:
            mon.stop()
    log = (tmp_path / "wifimon-1.log").read_text()
    assert "service_stopped" in log
    assert "Traceback" not in log and "level=error" not in log, log[-3000:]
    assert "new=down" not in log  # nothing was judged down while the service was closing
    store = Store(f"sqlite:///{tmp_path}/wifimon.db")
    try:
        [run] = store.runs(0, 2e9)
        assert run.stopped_at is not None
    finally:
        store.close()


def _as_a_terminal_job() -> None:
    """SIGINT as a terminal's foreground job has it: a test run started in the background by a non-interactive
    shell (nohup, `&`, some CI runners) inherits SIGINT ignored, and Python then installs no KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_of_the_demo_while_it_starts_is_one_line(tmp_path):
    """Ctrl-C (SIGINT to the terminal's foreground process group) while `wifimon demo` waits for its simulator
    to start: a one-line message, exit 130, no traceback from either process, the simulator stopped."""
    config = small_city(tmp_path)
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen([sys.executable, "-m", "monitor.cli.main", "demo", str(config), "--control",
                                 f"127.0.0.1:{free_port()}"], stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
                                start_new_session=True, preexec_fn=_as_a_terminal_job)
        try:
            children = Path(f"/proc/{demo.pid}/task/{demo.pid}/children")
            [sim] = wait_until("the simulator started", lambda: children.read_text().split(), 30)
            os.killpg(demo.pid, signal.SIGINT)
            assert demo.wait(30) == 130
        finally:
            if demo.poll() is None:
                os.killpg(demo.pid, signal.SIGKILL)
    text = log.read_text()
    assert "Traceback" not in text and "Exception ignored" not in text, text
    assert "wifimon: interrupted" in text.splitlines()
    assert not Path(f"/proc/{sim}").exists() or "zombie" in Path(f"/proc/{sim}/status").read_text()


def test_a_thread_job_in_flight_at_a_stop_ends_quietly(caplog):
    """What the service does at a stop (the scheduler shut down without waiting, then its jobs cancelled) while a
    blocking job (publish, heartbeat, housekeeping, usage) is in its thread: nothing is logged as failed.
    (APScheduler logs a cancelled thread job as an error with a CancelledError traceback: seen on Ctrl-C of
    the demo, whose snapshot takes a while to publish.)"""
    import asyncio
    import logging
    import threading
    from datetime import UTC, datetime

    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from monitor.app import _Jobs

    started, release = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait(10)

    async def main() -> None:
        jobs, scheduler = _Jobs(), AsyncIOScheduler()
        scheduler.add_job(jobs.threaded(slow), "interval", seconds=60, next_run_time=datetime.now(UTC), id="slow")
        scheduler.start()
        assert await asyncio.to_thread(started.wait, 10)
        scheduler.shutdown(wait=False)
        await jobs.stop()
        release.set()
        for _ in range(3):  # the done callbacks of what was cancelled run on the next turns of the loop
            await asyncio.sleep(0)

    with caplog.at_level(logging.DEBUG):
        asyncio.run(main())
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
