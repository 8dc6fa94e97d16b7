"""Database fixtures for tests: run the same test on SQLite and on PostgreSQL.

Use from any test module (pytest picks up fixtures that are attributes of the module)::

    from tests import dbs

    store = dbs.store  # assigned rather than imported, so linters do not call the parameter a redefinition

    def test_something(store):  # runs twice: [sqlite] and [postgresql]
        ...

(or list ``"tests.dbs"`` in ``pytest_plugins`` of the root ``tests/conftest.py`` to offer them everywhere).

``store_url`` is the URL of an empty database (a temporary SQLite file, or a fresh PostgreSQL schema of
its own, dropped afterwards, so parallel test runs never meet). ``store`` is a migrated
:class:`monitor.store.Store` on it. PostgreSQL is the one at ``WIFIMON_TEST_PG_URL`` (default
127.0.0.1:5432, user postgres, database ``test``); when it is not reachable, the PostgreSQL variants are
skipped with the reason, never failed. Its sessions run in Asia/Seoul time, not UTC, so a test passes only
if the store really returns UTC.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url

from monitor.store import Store

PG_URL = os.environ.get("WIFIMON_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.integration),
]


def _admin_engine(database: str | None = None) -> Engine:
    url = make_url(PG_URL)
    if database is not None:
        url = url.set(database=database)
    return create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


@functools.cache
def postgres_unavailable() -> str | None:
    """None if the test PostgreSQL answers, else why not (for pytest.skip)."""
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure at all means "skip", with the reason
        shown = make_url(PG_URL).render_as_string(hide_password=True)
        return f"PostgreSQL at {shown} is not reachable: {' '.join(str(exc).split())[:300]}"
    finally:
        engine.dispose()
    return None


def require_postgres() -> None:
    """Skip the calling test unless the test PostgreSQL is reachable."""
    reason = postgres_unavailable()
    if reason is not None:
        pytest.skip(reason)


def unique_name(prefix: str) -> str:
    """A database or schema name no other test run will pick."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def pg_url(database: str | None = None, schema: str | None = None) -> str:
    """The test PostgreSQL's URL, for another database and/or with ``schema`` first on the search path.

    The session time zone is Asia/Seoul on purpose (see the module docstring).
    """
    url: URL = make_url(PG_URL)
    if database is not None:
        url = url.set(database=database)
    options = "-cTimeZone=Asia/Seoul"
    if schema is not None:
        options += f" -csearch_path={schema}"
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh, empty schema in the test database; yields a URL that uses it; drops it afterwards."""
    require_postgres()
    name = unique_name("wifimon_t")
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        yield pg_url(schema=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


def create_pg_database(name: str) -> None:
    """CREATE DATABASE on the test server."""
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def rename_pg_database(old: str, new: str) -> None:
    """ALTER DATABASE ... RENAME (no one may be connected to it)."""
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{old}" RENAME TO "{new}"'))
    finally:
        admin.dispose()


def drop_pg_database(name: str) -> None:
    """DROP DATABASE, disconnecting whoever is still on it."""
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of an empty database: a temporary SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'wifimon.db'}"
    else:
        with pg_schema() as url:
            yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated Store on an empty database, closed afterwards."""
    s = Store(store_url)
    s.migrate()
    try:
        yield s
    finally:
        s.close()
