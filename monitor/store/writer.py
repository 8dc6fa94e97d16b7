"""One background thread that does the store's writes in order, so DB I/O never blocks the polling loop.

The asyncio side calls :meth:`StoreWriter.submit` (returns at once with a ``concurrent.futures.Future``)
or awaits :meth:`StoreWriter.call`. Jobs run in submission order. A job that fails with a
:class:`~monitor.store.StoreError` (database down, locked, timed out, disk full) stays at the head of the
queue and is retried with exponential backoff until it succeeds: a transition is never dropped, and nothing
submitted after it overtakes it. Store methods are idempotent against such a retry (see
``Store.record_transitions``), so a commit whose acknowledgement was lost is harmless.

A job that keeps failing *the same way* while the database takes other writes is the job's fault (an
IntegrityError, a value the database refuses): after ``set_aside_after`` identical failures the writer tries
the next job once; if that one succeeds, the failing job is set aside (its future gets
:class:`StoreJobSetAside`, ``store_job_set_aside`` is logged with the error, :attr:`set_aside` counts it)
and the rest goes on. If the next job fails too, the database is the problem and both wait, in order.
A job that fails with anything else (a ``ValueError`` for bad input, a bug) fails the same way every time:
its future gets the exception at once, it is counted as set aside, and the queue moves on.

**Batches.** When several jobs wait, the writer takes up to ``batch_jobs`` of them from the head and runs
them in one transaction (:meth:`Store.batch`), in order: one commit instead of one each, which is what a
burst of events (a power cut, a journal replayed at a takeover) needs. Their futures complete after the
commit. If job *k* of a batch fails, the batch is rolled back, jobs 0..k-1 are written again as a batch, and
job *k*, now at the head, goes on alone as above: its failure counts as its first attempt (a StoreError is
retried, then set aside if it keeps failing while others pass; anything else fails its future at once), so
a bad job is still found and set aside on its own, and nothing is written twice or overtaken. A failed
commit (no job to blame) sends the head job on alone. ``wifimon_store_write_seconds`` observes, for each job
of a batch, the batch's time divided by its jobs.

**The journal** (``journal=PATH``). What must survive a crash of the process while the store cannot take it
is submitted with :meth:`submit_durable`: transitions, events, alert states and their outbox messages and
marks, usage rollups, the end of a run. Such a job is appended to the journal (a length-prefixed pickle per
job: the store method's name or the function, and the arguments) before it is queued; the journal is emptied
whenever the queue is. At start, :meth:`replay` writes what a killed process left there, in order, before
anything else. The journal survives SIGKILL and OOM kills (the bytes are in the page cache), not a power cut.
If it cannot be written (disk full) the job is still queued and written later; only a crash in that state
would lose it.

**When the queue is full** (``max_jobs``): a durable job is kept in the journal only (spilled) and read back in
order as the queue drains; heartbeats (:meth:`submit_latest`, journaled too) are superseded, never piled up: the
queue holds at most the newest one; any other job submitted while the queue is full is dropped and counted
(:attr:`dropped`). Transitions, outages, events, alert states, outbox marks and acknowledgement voids are
all durable, so a full queue never drops them; only without a usable journal do they stay in memory past the
bound (``store_queue_full`` says so).

**Fenced** (a lease holder's store, ``Store.fence``): a job refused with :class:`~monitor.store.LeaseFenced`
means another instance holds the shard's lease now and owns its rows. Retrying cannot help and the job is not
to blame: the writer stops at once. Every job queued, spilled or submitted later fails with that error, unwritten
(``store_writer_fenced``), ``on_fenced`` is called (once, from the writer thread), and the journal is emptied if
this process alone has it open; if another has it open too (the new holder, started in the same directory,
which replayed it at its takeover) it is left to that one. What the fenced instance had not written is dropped:
the new holder decides from its own probes, so nothing is written twice or over its rows. ``journal_if`` (if
given) is asked at every durable submission; while it says no (the lease is not known to be held: a process
woken past its lease) the job is queued without being journaled, so that nothing of it reaches a journal the new
holder may replay; the fence decides whether it is written (a process that was only slow writes it).
"""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import logging
import os
import pickle
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from monitor.store import LeaseFenced, Store, StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")

_FRAME = struct.Struct(">I")


@dataclass(eq=False)  # a job is itself: the queue finds and removes jobs by identity
class _Job:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    future: Future[Any] = field(default_factory=Future)
    latest: bool = False  # a heartbeat: a newer one supersedes it while it waits
    taken: bool = False  # by the writer thread, to be written now: no longer superseded, nor failed by close()

    @property
    def name(self) -> str:
        return getattr(self.fn, "__qualname__", repr(self.fn))


class StoreWriterClosed(RuntimeError):
    """The writer is closed: it accepts no new jobs, and jobs it could not write by then fail with this."""


class StoreJobSetAside(RuntimeError):
    """The job failed the same way again and again while other writes succeeded: it was set aside."""


class StoreWriterFull(RuntimeError):
    """The queue was full and the job was neither durable nor a heartbeat: it was dropped."""


class StoreWriter:
    """Runs store writes on one daemon thread, in order, retrying database errors until they pass.

    ``on_latency(seconds)`` is called after every successful job with how long the call took (not the
    time it waited in the queue, not failed attempts; for a job written in a batch, the batch's time divided by
    its jobs), e.g. to observe ``wifimon_store_write_seconds``.
    ``backoff`` and ``max_backoff`` (seconds) shape the retry delays: doubling from the first to the cap.
    ``batch_jobs``: at most this many queued jobs in one transaction (1: each in its own).
    """

    def __init__(
        self,
        store: Store,
        *,
        on_latency: Callable[[float], None] | None = None,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        journal: Path | None = None,
        max_jobs: int = 20_000,
        set_aside_after: int = 5,
        batch_jobs: int = 200,
        on_fenced: Callable[[LeaseFenced], object] | None = None,
        journal_if: Callable[[], bool] | None = None,
    ) -> None:
        if not 0 < backoff <= max_backoff:
            raise ValueError(f"need 0 < backoff <= max_backoff, got {backoff} and {max_backoff}")
        if max_jobs < 2 or set_aside_after < 1 or batch_jobs < 1:
            raise ValueError(f"need max_jobs >= 2, set_aside_after >= 1 and batch_jobs >= 1, got {max_jobs}, "
                             f"{set_aside_after} and {batch_jobs}")
        self._store = store
        self._on_latency = on_latency
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._max_jobs = max_jobs
        self._set_aside_after = set_aside_after
        self._batch_jobs = batch_jobs
        self._on_fenced = on_fenced
        self._journal_if = journal_if
        self.fenced: LeaseFenced | None = None  # the refusal that stopped this writer (see the module docstring)
        self._jobs: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._closing = False  # no new jobs; drain what is queued
        self._abandon = False  # stop now, even with jobs left
        self._journal_path = journal
        self._journal: BinaryIO | None = None
        self._journal_failing = False
        self._truncate_failing = False  # emptying the journal failed last time (logged once until it works)
        self._spill_offset: int | None = None  # journal offset of the first job not in memory (None: none spilled)
        self._spilled: dict[int, Future[Any]] = {}  # journal offset → the future of a job spilled by this process
        self._full_logged = False
        self._last_loaded: Future[Any] | None = None  # the last job read back from the journal
        self._loaded = 0  # jobs read back from the journal
        self._last_exc: StoreError | None = None
        self.failures = 0  # failed attempts since start (each retry of one job counts)
        self.written = 0  # jobs completed successfully
        self.batches = 0  # transactions that committed several jobs at once
        self.set_aside = 0  # jobs given up: failing the same way while others succeeded, or bad input
        self.dropped = 0  # jobs refused because the queue was full (never a durable one)
        self.failing_since: float | None = None  # unix time of the first failed attempt of the job now retried
        self.last_error = ""  # what that job's last attempt said
        if journal is not None:
            self._open_journal(journal)
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    @property
    def depth(self) -> int:
        """Jobs not yet done, the one being written or retried included (it stays at the head until done);
        spilled jobs not counted."""
        with self._cond:
            return len(self._jobs)

    # -- submitting --------------------------------------------------------------------------------------

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Queue ``fn(*args, **kwargs)`` behind everything submitted before; returns its future at once.
        Dropped (the future fails with StoreWriterFull) if the queue is full."""
        return self._queue(_Job(fn, args, kwargs), durable=False)

    def submit_durable(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Like :meth:`submit`, and journaled: a method of this writer's store, or a function whose first
        argument is the store, with picklable arguments. Never dropped."""
        return self._queue(_Job(fn, args, {}), durable=True)

    def submit_latest(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Like :meth:`submit_durable` for a write that a newer one of the same ``fn`` makes pointless (a
        heartbeat): a queued, not yet started, job of the same ``fn`` is superseded (its future gets the newer
        result). Journaled all the same: a heartbeat says until when a killed run watched, and the outages
        it saw end there (``Store.end_outages_at_stop``), not at the last heartbeat the database took."""
        return self._queue(_Job(fn, args, {}, latest=True), durable=True)

    def _queue(self, job: _Job, durable: bool) -> Future[Any]:
        with self._cond:
            if self.fenced is not None:
                job.future.set_exception(self.fenced)
                return job.future
            if self._closing:
                raise StoreWriterClosed(
                    f"store writer for {self._store.display_url} is closed; {job.name} refused"
                )
            journaling = durable and (self._journal_if is None or self._journal_if())
            if job.latest:
                for i, old in enumerate(self._jobs):
                    if old.latest and old.fn == job.fn and not old.taken:
                        if journaling:  # a replay writes the superseded one too, then this one: harmless
                            self._journaled(job)
                        self._jobs[i] = job
                        previous: Future[Any] = old.future

                        def forward(done: Future[Any], previous: Future[Any] = previous) -> None:
                            _chain(done, previous)

                        job.future.add_done_callback(forward)
                        return job.future
            spilling = self._spill_offset is not None or len(self._jobs) >= self._max_jobs
            offset = self._journaled(job) if journaling else None
            if spilling:
                if offset is not None:
                    if self._spill_offset is None:
                        self._spill_offset = offset
                    self._spilled[offset] = job.future  # the arguments leave memory; the future stays
                    self._log_full("spilled to the journal")
                    return job.future
                if not durable:
                    self.dropped += 1
                    self._log_full("dropped")
                    job.future.set_exception(StoreWriterFull(
                        f"store writer for {self._store.display_url}: queue full, {job.name} dropped"))
                    return job.future
                self._log_full("kept in memory: the journal cannot take it")
            self._jobs.append(job)
            self._cond.notify()
        return job.future

    def _log_full(self, what: str) -> None:
        if not self._full_logged:
            self._full_logged = True
            log.warning("store_queue_full url=%s jobs=%d policy=%s", self._store.display_url, len(self._jobs), what)

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Submit and await the result from asyncio (the loop is never blocked while it waits).

        Cancelling the awaiting task does not cancel the write: once submitted, it is written.
        """
        return await asyncio.shield(asyncio.wrap_future(self.submit(fn, *args, **kwargs)))

    def _spilling(self) -> bool:
        """Jobs wait in the journal file (read under ``_cond``; the writer thread changes it)."""
        return self._spill_offset is not None

    def replay(self) -> int:
        """Blocking: write what the journal holds (a previous process's durable jobs), before anything else.
        Returns how many jobs it held. Call once, right after construction."""
        with self._cond:
            if self._journal is None or self._journal.seek(0, os.SEEK_END) == 0:
                return 0
            self._spill_offset = 0
            self._after_job()
            self._cond.notify()
        while True:
            with self._cond:
                if not self._spilling() or self.fenced is not None:  # the thread reads it back and clears it
                    last, count = self._last_loaded, self._loaded
                    break
                self._cond.wait(0.5)
        if last is not None:
            try:
                last.result()
            except Exception as exc:  # set aside or closed: logged where it happened
                log.warning("store_journal_replay_failed error=%s", exc)
        log.info("store_journal_replayed url=%s jobs=%d", self._store.display_url, count)
        return count

    def close(self, timeout: float) -> bool:
        """Stop accepting jobs and wait up to ``timeout`` seconds for the queue to drain.

        Returns True if everything was written. Otherwise the jobs left fail with StoreWriterClosed and
        are logged (``store_writer_abandoned``): with the database down at shutdown, nothing else can be done
        (durable jobs stay in the journal for the next start).
        """
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if not self._thread.is_alive():
            return self.fenced is None
        with self._cond:
            self._abandon = True
            # The jobs the thread has taken are its to resolve; the rest are failed here.
            waiting = len(self._jobs)
            left = [job for job in self._jobs if not job.taken]
            for job in left:
                self._jobs.remove(job)
            self._cond.notify_all()
        for job in left:  # a cancelled one among them stays cancelled
            _settle(job.future, exc=StoreWriterClosed(
                f"store writer for {self._store.display_url} closed before {job.name} was written"))
        log.error(
            "store_writer_abandoned url=%s jobs=%d waited=%.1fs journaled=%s", self._store.display_url, waiting,
            timeout, self._journal is not None and not self._journal_failing,
        )
        return False

    # -- the journal ------------------------------------------------------------------------------------

    def _open_journal(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._journal = open(path, "a+b")  # kept open for the writer's life
        except OSError as exc:
            log.error("store_journal_unusable path=%s error=%s (durable writes are kept in memory only)", path, exc)
            return
        try:  # shared: whoever has the journal open holds this, so a fenced writer can tell if it is alone
            fcntl.flock(self._journal.fileno(), fcntl.LOCK_SH)
        except OSError as exc:  # a file system without locks: a fenced writer then leaves the journal as it is
            log.warning("store_journal_lock_failed path=%s error=%s", path, exc)

    def _journaled(self, job: _Job) -> int | None:
        """Append the job to the journal (under the lock); its offset, or None if it cannot be journaled."""
        if self._journal is None:
            return None
        if getattr(job.fn, "__self__", None) is self._store:
            ref: Any = ("method", job.fn.__name__)
        elif job.args and job.args[0] is self._store:
            ref = ("function", job.fn)
        else:
            raise ValueError(f"{job.name}: a durable job is a method of the store or takes the store first")
        args = job.args if ref[0] == "method" else job.args[1:]
        try:
            data = pickle.dumps((ref, args), protocol=pickle.HIGHEST_PROTOCOL)
            offset = self._journal.seek(0, os.SEEK_END)
            self._journal.write(_FRAME.pack(len(data)) + data)
            self._journal.flush()
        except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
            if not self._journal_failing:
                log.error("store_journal_write_failed path=%s job=%s error=%s", self._journal_path, job.name, exc)
            self._journal_failing = True
            return None
        if self._journal_failing:
            log.info("store_journal_write_recovered path=%s", self._journal_path)
            self._journal_failing = False
        return offset

    def _load(self, start: int, end: int, limit: int) -> None:
        """Queue up to ``limit`` jobs read from the journal between ``start`` and ``end`` (under the lock); the
        spill offset moves to what is left."""
        assert self._journal is not None
        self._journal.seek(start)
        offset, loaded = start, 0
        while offset < end and loaded < limit:
            head = self._journal.read(_FRAME.size)
            if len(head) < _FRAME.size:
                break
            (size,) = _FRAME.unpack(head)
            data = self._journal.read(size)
            if len(data) < size:  # the process died in the middle of this frame: it was never queued
                log.warning("store_journal_truncated path=%s offset=%d", self._journal_path, offset)
                break
            at, offset = offset, offset + _FRAME.size + size
            try:
                (kind, target), args = pickle.loads(data)
                fn = getattr(self._store, target) if kind == "method" else target
                job = _Job(fn, tuple(args) if kind == "method" else (self._store, *args), {})
                if at in self._spilled:
                    job.future = self._spilled.pop(at)
            except Exception as exc:  # written by another version: say so, go on with the rest
                log.error("store_journal_unreadable path=%s offset=%d error=%r", self._journal_path, at, exc)
                continue
            self._jobs.append(job)
            loaded += 1
            self._last_loaded = job.future
            self._loaded += 1
        self._spill_offset = offset if offset < end else None

    def _after_job(self) -> None:
        """Under the lock, after a job left the queue: read spilled jobs back, or empty the journal."""
        if self._journal is None or self.fenced is not None:
            return
        if self._spill_offset is not None and len(self._jobs) < self._max_jobs // 2:
            end = self._journal.seek(0, os.SEEK_END)
            self._load(self._spill_offset, end, limit=self._max_jobs // 2)
            self._journal.seek(0, os.SEEK_END)
        if not self._jobs and self._spill_offset is None:
            self._full_logged = False
            try:
                self._journal.truncate(0)
            except OSError as exc:  # logged once a streak (a full disk fails it at every write), as writes are
                if not self._truncate_failing:
                    log.warning("store_journal_truncate_failed path=%s error=%s", self._journal_path, exc)
                self._truncate_failing = True
            else:
                if self._truncate_failing:
                    log.info("store_journal_truncate_recovered path=%s", self._journal_path)
                self._truncate_failing = False

    # -- the thread --------------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._closing and not self._abandon:
                    self._cond.wait()
                if self._abandon or not self._jobs:
                    if self._journal is not None and not self._jobs and self._spill_offset is None:
                        self._journal.close()
                    return  # abandoned, or closing with the queue drained
                jobs = [job for job in list(itertools.islice(self._jobs, self._batch_jobs)) if self._take(job)]
            self._write(jobs)

    def _take(self, job: _Job) -> bool:
        """Under the lock: the thread takes ``job`` (from now on nobody supersedes or fails it but the thread).
        False if its submitter cancelled it before it started: their choice, so it leaves the queue unwritten."""
        if job.taken:
            return True
        if not job.future.set_running_or_notify_cancel():
            self._jobs.remove(job)
            return False
        job.taken = True
        return True

    def _write(self, jobs: list[_Job]) -> None:
        """Write ``jobs`` (taken, the head of the queue, in order), several in one transaction; each leaves the
        queue once done. If a job of a batch fails, the jobs before it are written again without it, then it
        goes on alone (retried, set aside, or failed), then the jobs after it."""
        while jobs and not self._is_fenced():  # fenced: every job failed already, the queue emptied (_fence)
            if self._abandon:  # close() gave up: nothing more is tried
                for job in jobs:
                    _settle(job.future, exc=StoreWriterClosed(
                        f"store writer for {self._store.display_url} closed before {job.name} was written"))
                self._done(jobs)
                return
            if len(jobs) == 1:
                self._attempt_until_done(jobs[0])
                self._done(jobs)
                return
            failed, exc = self._attempt_batch(jobs)
            if failed is None or self._is_fenced():
                self._done(jobs)
                return
            if failed == len(jobs):  # the commit failed: no job to blame; the head goes on alone
                failed, exc = 0, None
            if failed:
                self._write(jobs[:failed])
                if self._is_fenced():
                    return
            job = jobs[failed]
            if exc is None or isinstance(exc, StoreError):
                self._attempt_until_done(job, exc)
            else:
                self._give_up(job, exc)
            self._done([job])
            jobs = [j for j in jobs[failed + 1:] if not j.future.done()]  # not written out of turn meanwhile

    def _is_fenced(self) -> bool:
        """Whether a job refused with LeaseFenced stopped the writer (it may have happened in any call just made)."""
        return self.fenced is not None

    def _done(self, jobs: list[_Job]) -> None:
        with self._cond:
            if self._is_fenced():  # _fence emptied the queue
                return
            for job in jobs:
                self._jobs.remove(job)
            self._after_job()

    def _attempt_batch(self, jobs: list[_Job]) -> tuple[int | None, Exception | None]:
        """One attempt at ``jobs`` in one transaction: (None, None) if every one was written (each future has
        its result), else the index of the job that failed (``len(jobs)``: the commit) and what it raised."""
        started = time.perf_counter()
        results: list[Any] = []
        try:
            with self._store.batch() as run:
                for job in jobs:
                    results.append(run(job.fn, *job.args, **job.kwargs))
        except LeaseFenced as exc:  # a job's write, or the batch's commit: the writer stops
            self._fence(jobs[min(len(results), len(jobs) - 1)], exc)
            return len(results), exc
        except Exception as exc:
            if isinstance(exc, StoreError):
                self._failed(exc)
            where = jobs[len(results)].name if len(results) < len(jobs) else "the commit"
            log.info("store_batch_failed url=%s jobs=%d failed_at=%d job=%s error=%r", self._store.display_url,
                     len(jobs), len(results), where, exc)
            return len(results), exc
        each = (time.perf_counter() - started) / len(jobs)
        self.written += len(jobs)
        self.batches += 1
        self.failing_since = None
        for job, result in zip(jobs, results, strict=True):
            _settle(job.future, result=result)
            self._observe(each)
        return None, None

    def _attempt(self, job: _Job) -> str:
        """One attempt: 'written', 'retry' (a StoreError: the job stays), 'fenced' (the writer stops: see
        :meth:`_fence`) or 'failed' (anything else: its future has the exception; retrying cannot help)."""
        started = time.perf_counter()
        try:
            result = job.fn(*job.args, **job.kwargs)
        except LeaseFenced as exc:
            self._fence(job, exc)
            return "fenced"
        except StoreError as exc:
            self._failed(exc)
            return "retry"
        except Exception as exc:  # not a database problem: retrying cannot help
            self._give_up(job, exc)
            return "failed"
        self.written += 1
        self.failing_since = None
        _settle(job.future, result=result)
        self._observe(time.perf_counter() - started)
        return "written"

    def _failed(self, exc: StoreError) -> None:
        """An attempt failed with a StoreError: counted, and said by /readyz until a write succeeds."""
        self.failures += 1
        if self.failing_since is None:
            self.failing_since = time.time()
        self.last_error = f"{exc.action} failed: {exc.detail}"
        self._last_exc = exc

    def _give_up(self, job: _Job, exc: Exception) -> None:
        """The job failed with something other than a StoreError: the same every time, so it is not retried."""
        self.set_aside += 1
        log.error("store_write_error url=%s job=%s error=%r", self._store.display_url, job.name, exc)
        _settle(job.future, exc=exc)

    def _observe(self, seconds: float) -> None:
        if self._on_latency is not None:
            try:
                self._on_latency(seconds)
            except Exception:  # a broken metrics hook must not stop the writes
                log.exception("store_latency_hook_failed")

    def _fence(self, job: _Job, exc: LeaseFenced) -> None:
        """Stop for good: another instance holds the lease (see the module docstring)."""
        with self._cond:
            self.fenced = exc
            self._abandon = True
            dropped = [j.future for j in self._jobs] + list(self._spilled.values())
            self._jobs.clear()
            self._spilled.clear()
            self._spill_offset = None
            journal = self._drop_journal()
            self._cond.notify_all()
        log.error("store_writer_fenced url=%s lease=%s job=%s dropped=%d journal=%s", self._store.display_url,
                  exc.lease, job.name, len(dropped), journal)
        if self._on_fenced is not None:  # first: the instance stops before anyone hears of a failed job
            self._on_fenced(exc)
        for future in dropped:
            _settle(future, exc=exc)

    def _drop_journal(self) -> str:
        """A fenced writer's journal (under the lock): emptied if no other process has it open, else left."""
        if self._journal is None:
            return "none"
        journal, self._journal = self._journal, None
        try:
            fcntl.flock(journal.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            outcome = "left_to_the_other_holder"
        else:
            journal.truncate(0)
            outcome = "emptied"
        journal.close()
        return outcome

    def _attempt_until_done(self, job: _Job, failed: StoreError | None = None) -> None:
        """Run one job, retrying StoreError with backoff until it succeeds, is set aside, or close() gives up.
        ``failed``: its first attempt (in a batch) failed with this."""
        delay = self._backoff
        attempt = 1
        outcome = "retry" if failed is not None else self._attempt(job)
        same = 0  # consecutive failures with the same error
        last = ""
        while outcome == "retry":
            exc = self._last_exc
            assert exc is not None  # a "retry" comes only after a StoreError
            error = f"{exc.action} failed: {exc.detail}"
            same = same + 1 if error == last else 1
            last = error
            log.warning("store_write_failed url=%s error=%s job=%s attempt=%d retry_in=%.2fs", exc.url, error,
                        job.name, attempt, delay)
            if same >= self._set_aside_after:
                if self._next_is_written(job):
                    self.set_aside += 1
                    log.error("store_job_set_aside url=%s job=%s attempts=%d error=%s args=%.500r", exc.url,
                              job.name, attempt, error, job.args)
                    _settle(job.future, exc=StoreJobSetAside(
                        f"{job.name} failed {same} times with '{error}' while other writes succeeded: set aside"))
                    return
                same = 0  # the database is the problem: try the next job again after as many failures
            with self._cond:
                # Interruptible wait: close() may want us to give up before the backoff ends.
                self._cond.wait_for(lambda: self._abandon, timeout=delay)
                if self._abandon:
                    _settle(job.future, exc=StoreWriterClosed(
                        f"store writer for {exc.url} closed before {job.name} was written"))
                    return
            delay = min(delay * 2, self._max_backoff)
            attempt += 1
            outcome = self._attempt(job)
        if outcome == "written" and attempt > 1:
            log.info("store_write_recovered url=%s job=%s attempts=%d", self._store.display_url, job.name, attempt)

    def _next_is_written(self, job: _Job) -> bool:
        """Try the job queued behind ``job`` once, out of turn: does the database take other writes? A job
        done by this (written, or failed for good) leaves the queue."""
        with self._cond:
            nxt = self._jobs[1] if len(self._jobs) > 1 and self._jobs[0] is job else None
            if nxt is None or not self._take(nxt):
                return False
        outcome = self._attempt(nxt)
        if outcome not in ("retry", "fenced"):  # fenced: the queue is empty by now
            with self._cond:
                self._jobs.remove(nxt)
        return outcome == "written"


def _settle(future: Future[Any], result: Any = None, exc: BaseException | None = None) -> None:
    """Complete a job's future, unless its submitter cancelled it meanwhile (a job tried out of turn is
    still pending, so it can be)."""
    try:
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)
    except InvalidStateError:
        pass


def _chain(source: Future[Any], target: Future[Any]) -> None:
    """Complete ``target`` as ``source`` completed."""
    if target.done():
        return
    if source.cancelled():
        target.cancel()
    elif source.exception() is not None:
        target.set_exception(source.exception())
    else:
        target.set_result(source.result())
