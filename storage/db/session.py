"""Async engine and sessions (psycopg 3): the seeds' `backend.database` module.

The URL is DATABASE_URL or, when unset, the embedded PostgreSQL under TAGEN_HOME, logging in as
the application role; migrations use the owner role (DATABASE_OWNER_URL). Engines are kept per
event loop because pooled async connections belong to the loop that opened them (the CLI runs
one `asyncio.run` per command; tests share one loop; FastAPI's TestClient runs the app in a
loop of its own), and settings are read on first use, never at import. Every connection has a
connect timeout and the application's a statement timeout, so an unresponsive server is an
error, not a hang.

The seeds' names: `async_session_factory()`, `get_db` (FastAPI dependency), `init_db`
(development only), `engine`, `check_db_connection`, `dispose_engine`, `get_pool_stats`.
`engine` is a proxy rather than a module `__getattr__`: `from storage.db.session import engine`
runs at import time, outside any event loop and before settings may be read, so the name must
be bound to something that builds nothing yet. Each attribute access on the proxy goes to the
running loop's engine (get_engine()), so `engine.begin()` and `engine.dispose()` act on the
engine this loop actually uses.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import QueuePool

from storage.db.models import Base
from storage.settings import get_database_settings

_ENGINES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncEngine] = (
    weakref.WeakKeyDictionary()
)


def get_database_url() -> str:
    """The application role's URL (psycopg driver); starts the embedded server if needed."""
    settings = get_database_settings()
    if settings.url is not None:
        return settings.url.get_secret_value()
    return _embedded_url(settings.app_role)


def get_migration_url() -> str:
    """The owner role's URL, for migrations: DATABASE_OWNER_URL, else DATABASE_URL (one role
    for both), else the embedded server's owner role."""
    settings = get_database_settings()
    for configured in (settings.owner_url, settings.url):
        if configured is not None:
            return configured.get_secret_value()
    return _embedded_url(settings.owner_role)


def _embedded_url(role: str) -> str:
    from storage.db.embedded import database_url
    from storage.db.roles import APPLICATION_EXTENSIONS

    settings = get_database_settings()
    return database_url(
        role,
        owner=settings.owner_role,
        users=(settings.app_role,),
        extensions=APPLICATION_EXTENSIONS,
    )


def connect_args(url: str, *, statement_timeout: bool = True) -> dict[str, Any]:
    """psycopg connection arguments for `url`: the connect timeout, and the statement timeout
    unless `statement_timeout` is False (migrations may rightly run long), added to the URL's
    own `options`."""
    settings = get_database_settings()
    args: dict[str, Any] = {"connect_timeout": settings.connect_timeout}
    if statement_timeout and settings.statement_timeout > 0:
        given = make_url(url).query.get("options") or ""
        timeout = f"-c statement_timeout={round(settings.statement_timeout * 1000)}"
        args["options"] = f"{given} {timeout}".strip()
    return args


def describe_database_error(exc: BaseException) -> str:
    """One line naming what went wrong with the database, the setting to change for a timeout."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    settings = get_database_settings()
    if "timeout expired" in detail:
        detail += f" after {settings.connect_timeout} s (DATABASE_CONNECT_TIMEOUT)"
    elif "statement timeout" in detail:
        detail += f" after {settings.statement_timeout:g} s (DATABASE_STATEMENT_TIMEOUT)"
    return detail


def _log_sql_to_stderr() -> None:
    """DATABASE_ECHO: SQLAlchemy's own echo writes to stdout, where commands print results."""
    logger = logging.getLogger("sqlalchemy.engine")
    logger.setLevel(logging.INFO)
    if not any(getattr(handler, "_tagen_echo", False) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        handler._tagen_echo = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def create_engine_from_settings(url: str | None = None) -> AsyncEngine:
    """A new engine with the pool settings of DatabaseSettings (callers own its disposal)."""
    settings = get_database_settings()
    if settings.echo:
        _log_sql_to_stderr()
    url = url or get_database_url()
    return create_async_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_recycle=settings.pool_recycle,
        pool_pre_ping=settings.pool_pre_ping,
        pool_timeout=settings.pool_timeout,
        connect_args=connect_args(url),
    )


def get_engine() -> AsyncEngine:
    """This loop's engine. Settings read at creation: after changing them, dispose_engine()."""
    loop = asyncio.get_running_loop()
    engine = _ENGINES.get(loop)
    if engine is None:
        engine = create_engine_from_settings()
        _ENGINES[loop] = engine
    return engine


def get_session_factory() -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(get_engine(), expire_on_commit=False, autoflush=False)


def async_session_factory() -> AsyncSession:
    """A new session on this loop's engine: `async with async_session_factory() as session:`.
    Nothing is committed unless the caller commits."""
    return get_session_factory()()


async def get_db() -> AsyncIterator[AsyncSession]:
    """One session per use, for FastAPI's `Depends(get_db)`: rolled back on error, closed
    afterwards; committing is the caller's decision."""
    async with async_session_factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise


get_session = asynccontextmanager(get_db)
"""`async with get_session() as session:` outside FastAPI (same behaviour as get_db)."""


class _LoopEngine:
    """What `engine` is bound to: every attribute comes from the running loop's engine."""

    def __getattr__(self, name: str) -> Any:
        return getattr(get_engine(), name)

    def __repr__(self) -> str:
        return "<the running event loop's AsyncEngine (storage.db.session.get_engine)>"


engine = cast(AsyncEngine, _LoopEngine())


async def init_db() -> None:
    """Development only: create the models' tables, enum types, indexes and constraints.

    Production uses Alembic (`tagen db upgrade`): only the migrations install the triggers
    (request state machine and initial status, append-only audit log, updated_at) and record
    a revision, so a database made here cannot be upgraded later.
    """
    async with get_engine().begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


async def check_db_connection() -> bool:
    """True when `SELECT 1` succeeds."""
    try:
        async with get_engine().connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


@dataclass(frozen=True)
class HealthStatus:
    status: Literal["healthy", "unhealthy"]
    latency_ms: float
    error: str | None = None


async def health_check() -> HealthStatus:
    """Round-trip a query and report the latency in milliseconds."""
    started = time.perf_counter()
    try:
        async with get_engine().connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        elapsed = (time.perf_counter() - started) * 1000
        detail = describe_database_error(exc)
        return HealthStatus("unhealthy", round(elapsed, 3), f"{type(exc).__name__}: {detail}")
    return HealthStatus("healthy", round((time.perf_counter() - started) * 1000, 3))


@dataclass(frozen=True)
class PoolStats:
    pool_size: int
    checked_out: int
    checked_in: int
    overflow: int


def get_pool_stats() -> PoolStats:
    """Connection pool figures of this loop's engine."""
    pool = get_engine().sync_engine.pool
    if not isinstance(pool, QueuePool):
        return PoolStats(pool_size=0, checked_out=0, checked_in=0, overflow=0)
    return PoolStats(
        pool_size=pool.size(),
        checked_out=pool.checkedout(),
        checked_in=pool.checkedin(),
        overflow=max(pool.overflow(), 0),
    )


async def dispose_engine() -> None:
    """Close this loop's engine and its pooled connections (next use creates a new one)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    engine = _ENGINES.pop(loop, None)
    if engine is not None:
        await engine.dispose()
