"""Async engine and sessions (psycopg 3). One engine per event loop, created on first use.

The URL is DATABASE_URL or, when unset, the embedded PostgreSQL under TAGEN_HOME. Engines are
kept per event loop because pooled async connections belong to the loop that opened them (the
CLI runs one `asyncio.run` per command; tests share one loop).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import QueuePool

from storage.settings import get_database_settings

_ENGINES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncEngine] = (
    weakref.WeakKeyDictionary()
)


def get_database_url() -> str:
    """The application database URL (psycopg driver); starts the embedded server if needed."""
    settings = get_database_settings()
    if settings.url is not None:
        return settings.url.get_secret_value()
    from storage.db.embedded import embedded_database_url

    return embedded_database_url(driver="psycopg")


def create_engine_from_settings(url: str | None = None) -> AsyncEngine:
    """A new engine with the pool settings of DatabaseSettings (callers own its disposal)."""
    settings = get_database_settings()
    return create_async_engine(
        url or get_database_url(),
        echo=settings.echo,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_recycle=settings.pool_recycle,
        pool_pre_ping=settings.pool_pre_ping,
        pool_timeout=settings.pool_timeout,
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


@asynccontextmanager
async def get_session() -> AsyncIterator[AsyncSession]:
    """A session; rolled back on error, closed on exit. Commit is the caller's decision."""
    async with get_session_factory()() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise


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
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
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
