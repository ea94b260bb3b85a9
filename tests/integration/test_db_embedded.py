"""The embedded PostgreSQL: start-or-reuse, both drivers, stale lock recovery, stop."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from storage.db import embedded
from storage.settings import clear_settings_cache
from tests.db_fixtures import scratch_pgdata


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    """TAGEN_HOME for the module: embedded_database_url() starts its cluster there."""
    pgdata = scratch_pgdata()
    embedded.start(pgdata, throwaway=True)
    previous = os.environ.get("TAGEN_HOME")
    os.environ["TAGEN_HOME"] = str(pgdata.parent)
    clear_settings_cache()
    try:
        yield pgdata.parent
    finally:
        embedded.stop(pgdata.parent / "pgdata")
        if previous is None:
            os.environ.pop("TAGEN_HOME", None)
        else:
            os.environ["TAGEN_HOME"] = previous
        clear_settings_cache()
        shutil.rmtree(pgdata.parent, ignore_errors=True)


def _scalar(url: str, sql: str) -> object:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql))
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


def test_start_twice_reuses_the_running_server(home: Path):
    url = embedded.embedded_database_url()
    assert url.startswith("postgresql+psycopg://postgres@/tagen?host=")
    first = embedded.status(home / "pgdata")
    assert first is not None
    second = embedded.start(home / "pgdata")
    assert second.pid == first.pid
    assert embedded.embedded_database_url() == url
    assert _scalar(url, "SELECT current_database()") == "tagen"


def test_both_drivers_reach_the_socket(home: Path):
    server = embedded.start(home / "pgdata")
    assert embedded.ensure_database(server, "prefect") in (True, False)
    assert embedded.ensure_database(server, "prefect") is False
    url = embedded.embedded_database_url("asyncpg", "prefect")
    assert url.startswith("postgresql+asyncpg://")

    async def query() -> object:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return (await conn.execute(text("SELECT current_database()"))).scalar()
        finally:
            await engine.dispose()

    # a private loop: the test session's loop is not running in a sync test
    assert asyncio.run(query()) == "prefect"


def test_stale_lock_after_a_crash_is_recovered(home: Path, caplog: pytest.LogCaptureFixture):
    pgdata = home / "pgdata"
    url = embedded.embedded_database_url()
    _scalar(url, "CREATE TABLE survivor AS SELECT 7 AS n")
    crashed = embedded.start(pgdata)
    os.kill(crashed.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while embedded.status(pgdata) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert embedded.status(pgdata) is None
    assert (pgdata / "postmaster.pid").exists()  # the stale lock is still there

    with caplog.at_level(logging.WARNING, logger="storage.db.embedded"):
        restarted = embedded.start(pgdata, throwaway=True)
    assert restarted.pid != crashed.pid
    assert "did not shut down cleanly" in caplog.text and str(crashed.pid) in caplog.text
    assert _scalar(url, "SELECT sum(n) FROM survivor") == 7  # committed data survived


def test_stop_then_start_again(home: Path):
    pgdata = home / "pgdata"
    embedded.start(pgdata)
    assert embedded.stop(pgdata) is True
    assert embedded.status(pgdata) is None
    assert embedded.stop(pgdata) is False
    assert embedded.stop(home / "missing") is False
    restarted = embedded.start(pgdata, throwaway=True)
    assert _scalar(embedded.embedded_database_url(), "SHOW fsync") == "off"
    assert restarted.pid > 0
