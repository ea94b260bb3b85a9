"""The embedded PostgreSQL: start-or-reuse, both drivers, stale lock recovery, stop, the
extensions the migrations enable, refusing another major version, the OS user when root."""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from storage.db import embedded
from storage.settings import clear_settings_cache
from tests.db_fixtures import PgServer, scratch_pgdata


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


def test_migrated_database_has_pgvector_and_pg_trgm(pg_server: PgServer, db_url: str):
    if pg_server.pgdata is None:
        pytest.skip("an external TEST_DATABASE_URL server may lack the extensions")
    installed = _scalar(
        db_url, "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension"
    )
    assert {"vector", "pg_trgm"} <= set(str(installed).split(","))  # pg_trgm: Prefect needs it


def test_cluster_of_another_major_version_is_refused():
    pgdata = scratch_pgdata()
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("16\n")
    try:
        with pytest.raises(embedded.EmbeddedDatabaseError, match="holds a PostgreSQL 16 cluster"):
            embedded.start(pgdata, throwaway=True)
        assert not (pgdata / "postmaster.pid").exists()
        assert sorted(p.name for p in pgdata.iterdir()) == ["PG_VERSION"]  # left untouched
    finally:
        shutil.rmtree(pgdata.parent, ignore_errors=True)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="only root picks the OS user")
def test_as_root_the_server_runs_as_the_owner_of_its_data_directory():
    pgdata = scratch_pgdata()
    pgdata.mkdir()
    nobody = pwd.getpwnam("nobody")
    os.chown(pgdata, nobody.pw_uid, nobody.pw_gid)
    try:
        server = embedded.start(pgdata, throwaway=True)
        assert psutil.Process(server.pid).username() == "nobody"
    finally:
        embedded.stop(pgdata)
        shutil.rmtree(pgdata.parent, ignore_errors=True)
