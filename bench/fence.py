"""What fencing costs: the store's write latency on real PostgreSQL with and without ``Store.fence`` (the lease
check, FOR SHARE on the lease row, before each write transaction's commit). Prints one Markdown table.

    .venv/bin/python bench/fence.py [--rounds 400] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]

A fresh schema in the given database (dropped afterwards); two stores on it, one fenced by a lease it holds, one
not; the writes the running service makes most (a heartbeat; a batch of 10 transitions, half opening outages and
half closing them; an alert state with its outbox message), each timed as one call from the calling thread, the
two stores taking turns (so that a busy moment of the machine falls on both alike).
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, text

from monitor.domain.records import AlertRecord, OutboxMessage
from monitor.domain.vocabulary import Reason, Scope, Transition
from monitor.store import Store, save_alerting

LEASE = "shard 0/1"
T0 = 1_790_000_000.0


def _alert(key: str, i: int) -> AlertRecord:
    return AlertRecord(key=key, rule="site_down", severity="critical", site=key, ap=None,
                       status="firing", opened_at=T0 + i, since=T0 + i, reason="timeout", fired_at=T0 + i,
                       last_sent_at=T0 + i, resolved_at=None, sends=1, escalation=0, notified=("hook",),
                       gravity=2, ack_gravity=None, alert={}, acked_by=None, acked_at=None, ack_until=None,
                       ack_comment=None)


def writes(store: Store, run: int, prefix: str) -> dict[str, Callable[[int], object]]:
    """Each store writes its own entities and alerts, so that neither waits for the other's rows."""
    def transitions(i: int) -> object:
        old, new = ("up", "down") if i % 2 == 0 else ("down", "up")
        return store.record_transitions([Transition(Scope.SITE, f"{prefix}{j}", f"{prefix}{j}", old, new, T0 + i,
                                                    Reason.TIMEOUT if new == "down" else None) for j in range(10)],
                                        run)

    def alerting(i: int) -> object:
        mid, key = uuid.uuid4().hex, f"site_down:{prefix}{i}"
        return save_alerting(store, [_alert(key, i)], [OutboxMessage(message_id=mid, alert_key=key,
                                                                channel="hook", kind="firing", payload={},
                                                                created_at=T0 + i)])

    return {"heartbeat": lambda i: store.heartbeat(run, T0 + i), "10 transitions": transitions,
            "alert + outbox message": alerting}


def _p95(xs: list[float]) -> float:
    return xs[int(len(xs) * 0.95)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    schema = f"wifimon_fence_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in args.url else "?"
    url = f"{args.url}{sep}options=-csearch_path%3D{schema}"
    plain, fenced = Store(url), Store(url)
    try:
        plain.migrate()
        assert fenced.lease(LEASE, "bench", 3600.0)[0] == "acquire"
        fenced.fence(LEASE, "bench")
        jobs = {"plain": writes(plain, plain.start_run(T0), "p"), "fenced": writes(fenced, fenced.start_run(T0), "f")}
        seen: dict[tuple[str, str], list[float]] = {}
        for i in range(args.rounds):
            for name in jobs["plain"]:
                for who in (("plain", "fenced") if i % 2 == 0 else ("fenced", "plain")):
                    started = time.perf_counter()
                    jobs[who][name](i)
                    seen.setdefault((name, who), []).append(time.perf_counter() - started)
        print(f"PostgreSQL {plain.engine.dialect.server_version_info}, {args.rounds} of each write per store\n")
        print("| write | median without | median with | p95 without | p95 with | median cost |")
        print("| --- | --- | --- | --- | --- | --- |")
        for name in jobs["plain"]:
            a, b = sorted(seen[(name, "plain")]), sorted(seen[(name, "fenced")])
            ma, mb = statistics.median(a), statistics.median(b)
            print(f"| {name} | {ma * 1e3:.2f} ms | {mb * 1e3:.2f} ms | {_p95(a) * 1e3:.2f} ms | {_p95(b) * 1e3:.2f} ms "
                  f"| {(mb - ma) * 1e3:+.2f} ms ({(mb / ma - 1) * 100:+.0f} %) |")
    finally:
        plain.close()
        fenced.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
