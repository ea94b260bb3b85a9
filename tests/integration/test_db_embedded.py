"""The embedded PostgreSQL: start-or-reuse, both drivers, stale and corrupt lock recovery,
stop, the extensions the migrations enable, refusing another major version, the OS user and
group when root, and no leftovers when a test cluster fails to start."""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
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
from storage.db.session import get_database_url, get_migration_url
from storage.settings import clear_settings_cache
from tests.db_fixtures import PgServer, scratch_cluster, scratch_pgdata

as_root = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0, reason="only root runs the server as another user"
)


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    """TAGEN_HOME for the module, no DATABASE_URL: the application's URLs are the embedded
    server's there."""
    with scratch_cluster() as server, pytest.MonkeyPatch.context() as env:
        env.setenv("TAGEN_HOME", str(server.pgdata.parent))
        env.delenv("DATABASE_URL", raising=False)
        env.delenv("DATABASE_OWNER_URL", raising=False)
        clear_settings_cache()
        try:
            yield server.pgdata.parent
        finally:
            clear_settings_cache()


def _scalar(url: str, sql: str) -> object:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql))
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


def test_start_twice_reuses_the_running_server(home: Path):
    url = get_database_url()
    assert url.startswith("postgresql+psycopg://tagen_app:")
    assert "@/tagen?host=" in url
    first = embedded.status(home / "pgdata")
    assert first is not None
    second = embedded.start(home / "pgdata")
    assert second.pid == first.pid
    assert get_database_url() == url
    assert _scalar(url, "SELECT current_user || '@' || current_database()") == "tagen_app@tagen"
    owner = get_migration_url()
    assert _scalar(owner, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'tagen'")
    assert _scalar(owner, "SELECT current_user") == "tagen_owner"


def test_both_drivers_reach_the_socket(home: Path):
    url = embedded.database_url(
        "tagen_prefect", owner="tagen_prefect", database="prefect", driver="asyncpg"
    )
    assert url.startswith("postgresql+asyncpg://tagen_prefect:")
    server = embedded.start(home / "pgdata")
    assert embedded.provision(server, "prefect", owner="tagen_prefect") is False  # exists

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
    url = get_migration_url()
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


@pytest.mark.parametrize(
    "corrupt",
    [b"\xff\xfe\x00garbage\n", b"not-a-pid\n/x\n1\n5432\n/tmp\n\n1 2\nready\n", b""],
    ids=["binary", "non-numeric-pid", "empty"],
)
def test_corrupt_postmaster_pid_is_treated_as_stale(
    home: Path, corrupt: bytes, caplog: pytest.LogCaptureFixture
):
    pgdata = home / "pgdata"
    embedded.start(pgdata)
    assert embedded.stop(pgdata) is True
    (pgdata / "postmaster.pid").write_bytes(corrupt)
    assert embedded.status(pgdata) is None  # no traceback
    with caplog.at_level(logging.WARNING, logger="storage.db.embedded"):
        restarted = embedded.start(pgdata, throwaway=True)
    assert restarted.pid > 0 and embedded.status(pgdata) == restarted
    assert "corrupt" in caplog.text or "did not shut down cleanly" in caplog.text
    assert _scalar(get_database_url(), "SELECT 1") == 1


def test_stop_then_start_again(home: Path):
    pgdata = home / "pgdata"
    embedded.start(pgdata)
    assert embedded.stop(pgdata) is True
    assert embedded.status(pgdata) is None
    assert embedded.stop(pgdata) is False
    assert embedded.stop(home / "missing") is False
    restarted = embedded.start(pgdata, throwaway=True)
    assert _scalar(get_database_url(), "SHOW fsync") == "off"
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
    refused = pytest.raises(embedded.EmbeddedDatabaseError, match="holds a PostgreSQL 16 cluster")
    with refused, scratch_cluster(pgdata):
        pass
    assert not pgdata.parent.exists()  # and the scratch directory is gone


def test_a_failed_initdb_leaves_no_scratch_directory():
    pgdata = scratch_pgdata()
    pgdata.mkdir()
    (pgdata / "stray").write_text("initdb refuses a directory that is not empty")
    with pytest.raises(embedded.EmbeddedDatabaseError, match="initdb"), scratch_cluster(pgdata):
        pass
    assert not pgdata.parent.exists()


@as_root
def test_as_root_the_server_runs_as_the_owner_of_its_data_directory():
    pgdata = scratch_pgdata()
    pgdata.mkdir()
    nobody = pwd.getpwnam("nobody")
    os.chown(pgdata, nobody.pw_uid, nobody.pw_gid)
    with scratch_cluster(pgdata) as server:
        assert psutil.Process(server.pid).username() == "nobody"


@as_root
def test_as_root_the_server_has_a_group_of_its_own(pg_server: PgServer):
    if pg_server.pgdata is None:
        pytest.skip("TEST_DATABASE_URL: the server is not ours")
    server = embedded.status(pg_server.pgdata)
    assert server is not None
    process = psutil.Process(server.pid)
    account = pwd.getpwnam(process.username())
    assert set(process.gids()) == {account.pw_gid} and account.pw_gid != 0
    status = Path(f"/proc/{server.pid}/status").read_text()
    groups = next(line for line in status.splitlines() if line.startswith("Groups:"))
    assert "0" not in groups.split()[1:]  # no supplementary root group either


def test_provisioning_again_changes_nothing(home: Path):
    """Every process start provisions: a role and database already right are not rewritten
    (the row versions of the catalog entries stay), and the stored password still verifies."""
    url = get_migration_url()
    catalog = (
        "SELECT string_agg(xmin::text, ',' ORDER BY rolname) FROM pg_authid "
        "WHERE rolname IN ('tagen_owner', 'tagen_app')"
    )
    database = "SELECT xmin::text FROM pg_database WHERE datname = 'tagen'"
    admin = embedded.start(home / "pgdata").url(database="tagen")
    before = (_scalar(admin, catalog), _scalar(admin, database))
    assert get_database_url() and get_migration_url() == url
    assert (_scalar(admin, catalog), _scalar(admin, database)) == before
    assert _scalar(url, "SELECT current_user") == "tagen_owner"
