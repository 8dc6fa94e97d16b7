"""Read-only queries of the monthly availability report (monitor/report/build.py) beyond what the service itself
needs. Kept as functions over a Store, apart from its API, so that SQL still lives only in this package.
"""

from __future__ import annotations

from sqlalchemy import func, select

from monitor.domain.vocabulary import Scope
from monitor.store.schema import TransitionRow, UsageHourlyRow
from monitor.store.core import Store
from monitor.domain.records import UsageTotals
from monitor.store.timestamps import to_datetime


def states_at(store: Store, at: float) -> dict[tuple[Scope, str], str]:
    """Each entity's state just before ``at``: the new state of its latest transition strictly before it.

    Entities with no transition before ``at`` are absent (their state was never recorded: unknown).
    """
    ranked = (
        select(
            TransitionRow.scope,
            TransitionRow.entity,
            TransitionRow.new,
            func.row_number()
            .over(
                partition_by=(TransitionRow.scope, TransitionRow.entity),
                order_by=(TransitionRow.at.desc(), TransitionRow.id.desc()),
            )
            .label("rank"),
        ).where(TransitionRow.at < to_datetime(at))
    ).subquery()
    with store._transaction("read states at a time") as s:
        rows = s.execute(
            select(ranked.c.scope, ranked.c.entity, ranked.c.new).where(ranked.c.rank == 1)
        ).all()
    return {(Scope(r.scope), r.entity): r.new for r in rows}


def usage_totals(
    store: Store, since: float, until: float
) -> tuple[dict[str, UsageTotals], dict[str, UsageTotals]]:
    """Usage per AP and per site (as recorded in each hourly row) for hours starting in [since, until).

    Aggregated in the database: a month of 10,000 APs is 7.4 million hourly rows.
    """
    u = UsageHourlyRow
    window = (u.hour >= to_datetime(since), u.hour < to_datetime(until))
    per_ap = (
        select(u.ap, func.max(u.max_clients), func.sum(u.rx_bytes), func.sum(u.tx_bytes),
               func.sum(u.client_samples_sum), func.sum(u.samples))
        .where(*window)
        .group_by(u.ap)
    )
    per_hour = (
        select(
            u.site,
            u.hour,
            func.sum(u.max_clients).label("clients"),
            func.sum(u.rx_bytes).label("rx"),
            func.sum(u.tx_bytes).label("tx"),
        )
        .where(*window)
        .group_by(u.site, u.hour)
        .subquery()
    )
    per_site = select(
        per_hour.c.site, func.max(per_hour.c.clients), func.sum(per_hour.c.rx), func.sum(per_hour.c.tx)
    ).group_by(per_hour.c.site)
    with store._transaction("read usage totals") as s:
        aps = s.execute(per_ap).all()
        sites = s.execute(per_site).all()
    # PostgreSQL sums bigints into numeric (Decimal): make every figure a plain int.
    return (
        {k: UsageTotals(k, int(c or 0), int(rx or 0), int(tx or 0), int(cs or 0), int(n or 0))
         for k, c, rx, tx, cs, n in aps},
        {k: UsageTotals(k, int(c or 0), int(rx or 0), int(tx or 0)) for k, c, rx, tx in sites},
    )
