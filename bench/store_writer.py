"""Benchmark: the store writer draining a backlog, one transaction per job versus batches.

A backlog like a burst of events (a power cut, a journal replayed at a takeover): ``--jobs`` jobs, each the
service's unit of work for one device (one transition, AP up→down or down→up, plus one event), queued
behind a job that holds the writer until all are queued; then the time until the last is written. Once
with ``batch_jobs=1`` (each job its own transaction, as before batching) and once per ``--batches`` size,
on a SQLite file and on a fresh PostgreSQL schema (127.0.0.1:5432, dropped after); on PostgreSQL also with the
store fenced by a lease it holds (``Store.fence``, as a shard's active: one lease check per write transaction,
so per batch). Prints a Markdown table.

    .venv/bin/python bench/store_writer.py [--jobs 2000] [--batches 200] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from monitor.domain.vocabulary import Event, EventKind, Reason, Scope, Transition
from monitor.store import Store
from monitor.store.writer import StoreWriter

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
T0 = 1_790_000_000.0


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    """The URL of an empty database of ``backend``, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / f'{uuid.uuid4().hex[:8]}.db'}"
        return
    schema = f"wifimon_bench_w{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_ADMIN}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def drain(url: str, jobs: int, batch_jobs: int, fenced: bool) -> dict[str, Any]:
    """Seconds to write ``jobs`` queued jobs (two writes each) with ``batch_jobs``; checks every row landed."""
    store = Store(url)
    store.migrate()
    if fenced:
        store.lease("shard 0/1", "bench", 3600)
        store.fence("shard 0/1", "bench")
    run = store.start_run(T0)
    writer = StoreWriter(store, batch_jobs=batch_jobs)
    holding, gate = threading.Event(), threading.Event()

    def hold() -> None:
        holding.set()
        gate.wait(60)

    writer.submit(hold)
    holding.wait(10)  # the writer is held: the backlog queues behind it
    futures: list[Future[Any]] = []
    for i in range(jobs):
        entity, down = f"ap{i % 500:04d}", (i // 500) % 2 == 0
        at = T0 + 1 + i * 0.01
        transition = Transition(Scope.AP, entity, f"s{i % 250:03d}", "up" if down else "down",
                                "down" if down else "up", at, Reason.TIMEOUT if down else None)
        futures.append(writer.submit_durable(store.record_transitions, [transition], run))
        futures.append(writer.submit_durable(store.record_events, [Event(EventKind.REBOOT, entity, "s", at)], run))
    started = time.perf_counter()
    gate.set()
    for f in futures:
        f.result(timeout=600)
    seconds = time.perf_counter() - started
    writer.close(10)
    written = len(store.transitions(T0, T0 + jobs))
    assert written == jobs, (written, jobs)
    store.close()
    return {"seconds": seconds, "jobs_per_s": 2 * jobs / seconds, "batches": writer.batches}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2000, help="devices in the backlog (two writer jobs each)")
    ap.add_argument("--batches", default="200", help="batch sizes to compare with 1, comma-separated")
    ap.add_argument("--backends", default="sqlite,postgresql")
    args = ap.parse_args()
    sizes = [1] + [int(b) for b in args.batches.split(",")]
    print(f"{2 * args.jobs} writer jobs ({args.jobs} transitions + {args.jobs} events), queued, then drained\n")
    print("| store | batch_jobs | seconds | jobs/s | transactions of several jobs | vs one per transaction |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="wifimon-bench-writer-") as tmp:
        for backend, fenced in [(b, f) for b in args.backends.split(",") for f in (False, True)
                                if b == "postgresql" or not f]:
            base = None
            for size in sizes:
                with database(backend, Path(tmp)) as url:
                    r = drain(url, args.jobs, size, fenced)
                base = base or r["seconds"]
                print(f"| {backend}{', fenced' if fenced else ''} | {size} | {r['seconds']:.2f} | "
                      f"{r['jobs_per_s']:.0f} | {r['batches']} | {base / r['seconds']:.1f}× |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
