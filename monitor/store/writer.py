"""One background thread that does the store's writes in order, so DB I/O never blocks the polling loop.

The asyncio side calls :meth:`StoreWriter.submit` (returns at once with a ``concurrent.futures.Future``)
or awaits :meth:`StoreWriter.call`. Jobs run one at a time, in submission order. A job that fails with a
:class:`~monitor.store.StoreError` (database down, locked, timed out) stays at the head of the queue and
is retried with exponential backoff until it succeeds: a transition is never dropped, and nothing
submitted after it overtakes it. Store methods are idempotent against such a retry (see
``Store.record_transitions``), so a commit whose acknowledgement was lost is harmless.

A job that fails with anything else (a ``ValueError`` for bad input, a bug) will fail the same way
every time: its future gets the exception and the queue moves on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from monitor.store import Store, StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class _Job:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    future: Future[Any] = field(default_factory=Future)

    @property
    def name(self) -> str:
        return getattr(self.fn, "__qualname__", repr(self.fn))


class StoreWriterClosed(RuntimeError):
    """The writer is closed: it accepts no new jobs, and jobs it could not write by then fail with this."""


class StoreWriter:
    """Runs store writes on one daemon thread, in order, retrying database errors forever.

    ``on_latency(seconds)`` is called after every successful job with how long the call took (not the
    time it waited in the queue, not failed attempts), e.g. to observe ``wifimon_store_write_seconds``.
    ``backoff`` and ``max_backoff`` (seconds) shape the retry delays: doubling from the first to the cap.
    """

    def __init__(
        self,
        store: Store,
        *,
        on_latency: Callable[[float], None] | None = None,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        if not 0 < backoff <= max_backoff:
            raise ValueError(f"need 0 < backoff <= max_backoff, got {backoff} and {max_backoff}")
        self._store = store
        self._on_latency = on_latency
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._jobs: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._closing = False  # no new jobs; drain what is queued
        self._abandon = False  # stop now, even with jobs left
        self._busy = False
        self.failures = 0  # failed attempts since start (each retry of one job counts)
        self.written = 0  # jobs completed successfully
        self.failing_since: float | None = None  # unix time of the first failed attempt of the job now retried
        self.last_error = ""  # what that job's last attempt said
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    @property
    def depth(self) -> int:
        """Jobs not yet done, the one being written or retried included (it stays at the head until done)."""
        with self._cond:
            return len(self._jobs)

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Queue ``fn(*args, **kwargs)`` behind everything submitted before; returns its future at once."""
        job = _Job(fn, args, kwargs)
        with self._cond:
            if self._closing:
                raise StoreWriterClosed(
                    f"store writer for {self._store.display_url} is closed; {job.name} refused"
                )
            self._jobs.append(job)
            self._cond.notify()
        return job.future

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Submit and await the result from asyncio (the loop is never blocked while it waits).

        Cancelling the awaiting task does not cancel the write: once submitted, it is written.
        """
        return await asyncio.shield(asyncio.wrap_future(self.submit(fn, *args, **kwargs)))

    def close(self, timeout: float) -> bool:
        """Stop accepting jobs and wait up to ``timeout`` seconds for the queue to drain.

        Returns True if everything was written. Otherwise the jobs left fail with StoreWriterClosed and
        are logged (``store_writer_abandoned``): with the database down at shutdown, nothing else can be done.
        """
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if not self._thread.is_alive():
            return True
        with self._cond:
            self._abandon = True
            # The job in flight (if any) is the thread's to resolve; the rest are failed here.
            left = list(self._jobs)[1:] if self._busy else list(self._jobs)
            for job in left:
                self._jobs.remove(job)
            self._cond.notify_all()
        for job in left:
            job.future.set_exception(
                StoreWriterClosed(
                    f"store writer for {self._store.display_url} closed before {job.name} was written"
                )
            )
        log.error(
            "store_writer_abandoned url=%s jobs=%d waited=%.1fs", self._store.display_url, len(left), timeout
        )
        return False

    # -- the thread --------------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._closing and not self._abandon:
                    self._cond.wait()
                if self._abandon or not self._jobs:
                    return  # abandoned, or closing with the queue drained
                job = self._jobs[0]
                self._busy = True
            # False if the submitter cancelled the future before the job started: its choice, so skip it.
            if job.future.set_running_or_notify_cancel():
                self._attempt_until_done(job)
            with self._cond:
                self._busy = False
                self._jobs.popleft()

    def _attempt_until_done(self, job: _Job) -> None:
        """Run one job, retrying StoreError with backoff until it succeeds or close() gives up."""
        delay = self._backoff
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                result = job.fn(*job.args, **job.kwargs)
            except StoreError as exc:
                self.failures += 1
                if self.failing_since is None:
                    self.failing_since = time.time()
                self.last_error = f"{exc.action} failed: {exc.detail}"
                log.warning(
                    "store_write_failed url=%s error=%s job=%s attempt=%d retry_in=%.2fs",
                    exc.url,
                    f"{exc.action} failed: {exc.detail}",
                    job.name,
                    attempt,
                    delay,
                )
                with self._cond:
                    # Interruptible wait: close() may want us to give up before the backoff ends.
                    self._cond.wait_for(lambda: self._abandon, timeout=delay)
                    if self._abandon:
                        job.future.set_exception(
                            StoreWriterClosed(
                                f"store writer for {exc.url} closed before {job.name} was written"
                            )
                        )
                        return
                delay = min(delay * 2, self._max_backoff)
                continue
            except Exception as exc:  # not a database problem: retrying cannot help
                log.error("store_write_error url=%s job=%s error=%r", self._store.display_url, job.name, exc)
                job.future.set_exception(exc)
                return
            elapsed = time.perf_counter() - started
            self.written += 1
            self.failing_since = None
            if attempt > 1:
                log.info(
                    "store_write_recovered url=%s job=%s attempts=%d",
                    self._store.display_url,
                    job.name,
                    attempt,
                )
            job.future.set_result(result)
            if self._on_latency is not None:
                try:
                    self._on_latency(elapsed)
                except Exception:  # a broken metrics hook must not stop the writes
                    log.exception("store_latency_hook_failed")
            return
