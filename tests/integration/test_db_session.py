"""Settings, engine/session helpers and the unit of work's transaction rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import session as db_session
from storage.db.unit_of_work import UnitOfWork
from storage.settings import (
    DatabaseSettings,
    StorageSettings,
    clear_settings_cache,
    get_database_settings,
    get_storage_settings,
)
from tests.integration.builders import unique


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """monkeypatch for the environment, with the settings caches cleared around the test."""
    clear_settings_cache()
    yield monkeypatch
    monkeypatch.undo()
    clear_settings_cache()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/tagen", "postgresql+psycopg://u:p@db:5432/tagen"),
        ("postgres://u@db/tagen", "postgresql+psycopg://u@db/tagen"),
        ("postgresql+psycopg://u@db/tagen", "postgresql+psycopg://u@db/tagen"),
        ("postgresql+asyncpg://u@db/tagen", "postgresql+psycopg://u@db/tagen"),  # the seeds'
        ("postgresql://u@[::1]:5433/tagen", "postgresql+psycopg://u@[::1]:5433/tagen"),
        ("postgresql://u:p@/tagen?host=/run/pg", "postgresql+psycopg://u:p@/tagen?host=/run/pg"),
    ],
)
def test_database_url_is_normalised(env, given: str, expected: str):
    env.setenv("DATABASE_URL", given)
    url = get_database_settings().url
    assert url is not None and url.get_secret_value() == expected
    assert "p@db" not in repr(get_database_settings())  # the password never shows


def test_database_defaults_and_overrides(env):
    env.delenv("DATABASE_URL", raising=False)
    defaults = DatabaseSettings()
    assert (defaults.url, defaults.pool_size, defaults.max_overflow, defaults.echo) == (
        None,
        10,
        20,
        False,
    )
    assert defaults.pool_pre_ping is True and defaults.pool_recycle > 0
    env.setenv("DATABASE_URL", "  ")
    env.setenv("DATABASE_POOL_SIZE", "3")
    env.setenv("DATABASE_ECHO", "true")
    overridden = DatabaseSettings()
    assert (overridden.url, overridden.pool_size, overridden.echo) == (None, 3, True)


def test_bad_database_settings_fail_clearly(env):
    env.setenv("DATABASE_URL", "sqlite:///x.db")
    with pytest.raises(ValidationError, match=r"must be a PostgreSQL URL.*'sqlite'"):
        DatabaseSettings()
    env.setenv("DATABASE_URL", "postgresql://x/y")
    env.setenv("DATABASE_POOL_SIZE", "0")
    with pytest.raises(ValidationError, match="pool_size"):
        DatabaseSettings()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://u:secret@db:abc/tagen", "DATABASE_URL is malformed: expected postgresql://"),
        ("postgresql://u:secret@[::1/tagen", "DATABASE_URL is malformed"),
        ("postgresql://u:secret@::1:5432/tagen", "DATABASE_URL is malformed"),
        ("postgresql://u:secret@[zz::1]:5432/tagen", "DATABASE_URL has a malformed host"),
        ("postgresql://u:secret@db:99999/tagen", "port 99999, outside 1-65535"),
        ("postgresql+psycopg2://u:secret@db/tagen", "names the driver 'psycopg2'"),
    ],
)
def test_malformed_or_unusable_urls_are_named_without_the_password(env, url: str, message: str):
    env.setenv("DATABASE_URL", url)
    with pytest.raises(ValidationError, match=message.replace("[", "\\[")) as info:
        DatabaseSettings()
    assert "secret" not in info.value.errors()[0]["msg"]
    env.delenv("DATABASE_URL")
    env.setenv("DATABASE_OWNER_URL", url)
    with pytest.raises(ValidationError, match="DATABASE_OWNER_URL"):
        DatabaseSettings()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_APP_ROLE", "postgres", "not postgres"),
        ("DATABASE_APP_ROLE", "App; DROP", "not a role name"),
        ("DATABASE_OWNER_ROLE", "tagen_app", "must differ"),
        ("DATABASE_CONNECT_TIMEOUT", "0", "connect_timeout"),
    ],
)
def test_bad_role_names_and_timeouts_fail_clearly(env, variable: str, value: str, message: str):
    env.setenv(variable, value)
    with pytest.raises(ValidationError, match=message):
        DatabaseSettings()


def test_connect_and_statement_timeouts_reach_the_driver(env):
    env.setenv("DATABASE_CONNECT_TIMEOUT", "3")
    env.setenv("DATABASE_STATEMENT_TIMEOUT", "1.5")
    url = "postgresql+psycopg://u@db/t?options=-c%20search_path%3Dx"
    assert db_session.connect_args(url) == {
        "connect_timeout": 3,
        "options": "-c search_path=x -c statement_timeout=1500",
    }
    assert db_session.connect_args(url, statement_timeout=False) == {"connect_timeout": 3}
    env.setenv("DATABASE_STATEMENT_TIMEOUT", "0")
    clear_settings_cache()
    assert "options" not in db_session.connect_args("postgresql+psycopg://u@db/t")


async def test_a_slow_statement_is_cancelled_with_a_clear_error(db_url: str, env):
    await db_session.dispose_engine()
    env.setenv("DATABASE_STATEMENT_TIMEOUT", "0.2")
    try:
        with pytest.raises(DBAPIError) as info:
            async with db_session.get_session() as s:
                await s.execute(text("SELECT pg_sleep(30)"))
        assert db_session.describe_database_error(info.value) == (
            "canceling statement due to statement timeout after 0.2 s (DATABASE_STATEMENT_TIMEOUT)"
        )
    finally:
        await db_session.dispose_engine()


def test_home_settings_are_read_lazily(env, tmp_path: Path):
    env.setenv("TAGEN_HOME", str(tmp_path / "home"))
    assert StorageSettings().pgdata == tmp_path / "home" / "pgdata"
    settings = get_storage_settings()
    assert settings.home == tmp_path / "home"
    env.setenv("TAGEN_HOME", str(tmp_path / "elsewhere"))
    assert get_storage_settings() is settings  # cached until cleared
    clear_settings_cache()
    assert get_storage_settings().home == tmp_path / "elsewhere"
    env.delenv("TAGEN_HOME")
    assert StorageSettings().home.name == "tagen"  # the user data dir by default


async def test_session_health_and_pool(db_url: str):
    assert db_session.get_database_url() == db_url
    async with db_session.get_session() as s:
        assert (await s.connection()).engine.url.database == "tagen_test"
    assert await db_session.check_db_connection() is True
    status = await db_session.health_check()
    assert status.status == "healthy" and status.latency_ms > 0 and status.error is None
    stats = db_session.get_pool_stats()
    assert stats.pool_size == 10 and stats.checked_out == 0 and stats.checked_in >= 1
    async with db_session.get_session() as s:
        await s.connection()
        assert db_session.get_pool_stats().checked_out == 1
    engine = db_session.get_engine()
    await db_session.dispose_engine()
    assert db_session.get_engine() is not engine


async def test_engine_name_builds_nothing_until_used_then_is_this_loops_engine(db_url: str, env):
    await db_session.dispose_engine()
    clear_settings_cache()
    from storage.db.session import engine  # the seeds' `from backend.database import engine`

    assert "running event loop" in repr(engine)
    assert get_database_settings.cache_info().currsize == 0  # no settings read at import
    async with engine.connect() as conn:
        assert conn.engine.url.database == "tagen_test"
    assert engine.pool is db_session.get_engine().pool
    assert get_database_settings.cache_info().currsize == 1


async def test_unreachable_database_is_reported(db_url: str, env, tmp_path: Path):
    await db_session.dispose_engine()
    env.setenv("DATABASE_URL", f"postgresql://nobody@/none?host={tmp_path}")
    try:
        assert await db_session.check_db_connection() is False
        status = await db_session.health_check()
        assert status.status == "unhealthy"
        assert status.error is not None and "\n" not in status.error
    finally:
        await db_session.dispose_engine()


async def test_unit_of_work_commits_only_when_asked(
    committed_session_factory: async_sessionmaker[AsyncSession],
):
    kept_name, dropped, boom = unique("kept"), unique("dropped"), unique("boom")
    async with UnitOfWork(committed_session_factory) as uow:
        kept = await uow.users.create({"username": kept_name, "email": f"{kept_name}@example.org"})
        await uow.commit()
        await uow.users.create({"username": dropped, "email": f"{dropped}@example.org"})
    with pytest.raises(RuntimeError, match="boom"):
        async with UnitOfWork(committed_session_factory) as uow:
            await uow.users.create({"username": boom, "email": f"{boom}@example.org"})
            raise RuntimeError("boom")
    assert kept.username == kept_name  # still readable after the block
    async with UnitOfWork(committed_session_factory) as uow:
        assert await uow.users.get_by_username(kept_name) is not None
        assert await uow.users.get_by_username(dropped) is None
        assert await uow.users.get_by_username(boom) is None
        await uow.rollback()
    with pytest.raises(RuntimeError, match="outside its `async with`"):
        _ = uow.session


async def test_unit_of_work_uses_the_application_database_by_default(db_url: str):
    async with UnitOfWork() as uow:
        assert (await uow.session.connection()).engine.url.database == "tagen_test"
    await db_session.dispose_engine()


@pytest_asyncio.fixture(loop_scope="session")
async def committed_user(committed_session_factory: async_sessionmaker[AsyncSession]) -> str:
    name = unique("committed")
    async with UnitOfWork(committed_session_factory) as uow:
        await uow.users.create({"username": name, "email": f"{name}@example.org"})
        await uow.audit.create_log(None, "LOGIN", "session")  # append-only rows hide too
        await uow.commit()
    return name


async def test_empty_db_hides_committed_rows_until_rollback(
    committed_user: str,
    empty_db: None,
    uow: UnitOfWork,
    committed_session_factory: async_sessionmaker[AsyncSession],
):
    assert await uow.users.count() == 0
    assert await uow.audit.count() == 0
    assert (await uow.requests.get_summary()).total == 0
    # no clash with the hidden row
    await uow.users.create({"username": committed_user, "email": f"{committed_user}@example.org"})
    async with UnitOfWork(committed_session_factory) as other:  # other connections still see it
        assert await other.users.get_by_username(committed_user) is not None
