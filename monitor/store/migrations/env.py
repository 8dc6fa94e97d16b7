"""Alembic environment for the store.

The service runs migrations itself (``Store.migrate()``), handing over its own connection in
``config.attributes["connection"]``. For a developer running the ``alembic`` command (e.g.
``alembic -c monitor/store/migrations/alembic.ini revision --autogenerate -m "..."``) the URL comes from
``WIFIMON_STORE_URL`` or the ini file.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from monitor.store.schema import Base

config = context.config


def _configure_and_run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead, so later migrations work there.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = os.environ.get("WIFIMON_STORE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set WIFIMON_STORE_URL or sqlalchemy.url in alembic.ini")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _configure_and_run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations()
