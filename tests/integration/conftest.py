"""Fixtures shared by the integration tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import pytest_asyncio

from storage.db.unit_of_work import UnitOfWork
from tests.db_fixtures import PgServer
from tests.integration.builders import Builder


@pytest.fixture
def build(uow: UnitOfWork) -> Builder:
    return Builder(uow)


@pytest.fixture(scope="module")
def seed_db_url(pg_server: PgServer) -> Iterator[str]:
    """A freshly migrated database of its own for the seed guides' examples, which commit for
    real through the application's own session factory (one per test module); the application
    role's URL, as the application connects."""
    from storage.db import migrate

    migrate.upgrade("head", url=pg_server.create_database("tagen_seed_examples", fresh=True))
    yield pg_server.url("tagen_seed_examples", pg_server.app)


@pytest_asyncio.fixture(loop_scope="session")
async def app_database(db_url: str) -> AsyncIterator[Callable[[str], Awaitable[None]]]:
    """`await app_database(url)` points DATABASE_URL (the application's engine,
    `async_session_factory`, `get_db`) at `url` until the test ends; then back at the
    session's database."""
    from storage.db.session import dispose_engine
    from storage.settings import clear_settings_cache

    async def point_at(url: str) -> None:
        await dispose_engine()
        os.environ["DATABASE_URL"] = url
        clear_settings_cache()

    try:
        yield point_at
    finally:
        await point_at(db_url)


@pytest_asyncio.fixture(loop_scope="session")
async def seed_app_db(
    seed_db_url: str, app_database: Callable[[str], Awaitable[None]]
) -> AsyncIterator[str]:
    """The application on the seed examples' database for the test."""
    await app_database(seed_db_url)
    yield seed_db_url
