"""Who may reach the embedded PostgreSQL: nobody without a password, no other local user through
the socket, no cluster left on trust authentication; and the server's OS user reaches its
binaries and data without anyone's permissions being widened."""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from storage.db import embedded, server_user
from storage.db.roles import verifies
from storage.db.server_user import ServerAccessError, ServerUser
from tests.db_fixtures import PgServer, scratch_cluster, scratch_dir, scratch_pgdata

as_root = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0,
    reason="needs root: another local user is created, and only root runs postgres as another user",
)


def _scalar(url: str, sql: str) -> object:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def stranger() -> Iterator[ServerUser]:
    """A throw-away local user: another person on the same machine."""
    name = f"tagen-probe-{secrets.token_hex(3)}"
    subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/bin/false", name],
        check=True,
        capture_output=True,
    )
    try:
        yield ServerUser.named(name)
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True)


def _long_pgdata() -> Path:
    """A data directory whose socket path is too long for sun_path: the socket goes to $TMPDIR."""
    return scratch_dir("tagen-test-pg-") / ("long-tagen-home-" * 6) / "pgdata"


def _short_socket_dir(pgdata: Path) -> Path:
    socket_dir = embedded._socket_dir(pgdata.parent.resolve() / pgdata.name)
    assert socket_dir.parent == Path(tempfile.gettempdir())
    return socket_dir


def test_every_login_needs_a_password(pg_server: PgServer):
    if pg_server.pgdata is None:
        pytest.skip("TEST_DATABASE_URL: the server is not ours")
    server = embedded.status(pg_server.pgdata)
    assert server is not None
    for password in (None, "guess"):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(
                host=str(server.socket_dir), user="postgres", dbname="postgres", password=password
            )
    hba = (server.pgdata / "pg_hba.conf").read_text()
    active = [line.split() for line in hba.splitlines() if line and not line.startswith("#")]
    assert active == [["local", "all", "all", "scram-sha-256"]]
    credentials = server.credentials.path.stat()
    assert stat.S_IMODE(credentials.st_mode) == 0o600 and credentials.st_uid == os.geteuid()


def test_the_socket_directory_of_a_long_home_is_private_to_the_server():
    pgdata = _long_pgdata()
    socket_dir = _short_socket_dir(pgdata)
    socket_dir.mkdir(mode=0o777, exist_ok=True)  # as earlier versions left it
    socket_dir.chmod(0o777)
    try:
        with scratch_cluster(pgdata) as server:
            assert server.socket_dir == socket_dir
            info = socket_dir.stat()
            assert stat.S_IMODE(info.st_mode) == 0o700
            assert info.st_uid == psutil.Process(server.pid).uids().real
            assert _scalar(server.url(database="postgres"), "SELECT 1") == 1
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)
        shutil.rmtree(pgdata.parents[1], ignore_errors=True)


@as_root
def test_another_local_user_cannot_reach_the_socket(pg_server: PgServer, stranger: ServerUser):
    if pg_server.pgdata is None:
        pytest.skip("TEST_DATABASE_URL: the server is not ours")
    pgdata = _long_pgdata()
    socket_dir = _short_socket_dir(pgdata)
    try:
        with scratch_cluster(pgdata) as server:
            psql = embedded._bin_dir(stranger) / "psql"  # a copy it can run, if need be
            attempt = subprocess.run(
                [str(psql), "-w", "-h", str(server.socket_dir), "-U", "postgres", "-c", "SELECT 1"],
                capture_output=True,
                text=True,
                timeout=60,
                env={"PATH": "/usr/bin:/bin"},
                **stranger.process_credentials(),
            )
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)
        shutil.rmtree(pgdata.parents[1], ignore_errors=True)
    assert attempt.returncode != 0
    assert "Permission denied" in attempt.stderr


@as_root
def test_a_socket_directory_another_user_made_is_refused(stranger: ServerUser):
    pgdata = _long_pgdata()
    socket_dir = _short_socket_dir(pgdata)
    socket_dir.mkdir(mode=0o777, exist_ok=True)
    os.chown(socket_dir, stranger.uid, stranger.gid)  # squatted before tagen started
    try:
        refused = pytest.raises(ServerAccessError, match=f"belongs to uid {stranger.uid}")
        with refused, scratch_cluster(pgdata):
            pass
        assert socket_dir.stat().st_uid == stranger.uid  # left alone, not taken over
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)
        shutil.rmtree(pgdata.parents[1], ignore_errors=True)


@pytest.mark.parametrize("running", [True, False], ids=["running", "stopped"])
def test_a_trust_cluster_is_upgraded_in_place(running: bool):
    """A cluster made by earlier versions (initdb --auth=trust, objects owned by postgres)."""
    pgdata = scratch_pgdata()
    pgdata.mkdir()
    user = server_user.server_user_for(pgdata)
    if user is not None:
        os.chown(pgdata, user.uid, user.gid)
    legacy = ["--auth=trust", "--encoding=utf8", "--locale=C", "-U", "postgres", "--no-sync"]
    embedded._run("initdb", legacy, pgdata=pgdata, timeout=120)
    start = ["-w", "-o", f"-h '' -k {pgdata} -c fsync=off", "-l", str(pgdata / "log"), "start"]
    embedded._run("pg_ctl", start, pgdata=pgdata, timeout=70)
    try:
        with psycopg.connect(host=str(pgdata), user="postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE tagen")
        with psycopg.connect(host=str(pgdata), user="postgres", dbname="tagen") as conn:
            conn.execute("CREATE TABLE legacy AS SELECT 42 AS answer")
        if not running:
            embedded.stop(pgdata)

        server = embedded.start(pgdata)

        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(host=str(server.socket_dir), user="postgres", dbname="tagen")
        assert "trust" not in (pgdata / "pg_hba.conf").read_text()
        embedded.provision(server, "tagen", owner="tagen_owner", users=("tagen_app",))
        owner = server.url("tagen_owner")
        assert _scalar(owner, "SELECT answer FROM legacy") == 42  # the data stayed
        assert _scalar(owner, "SELECT tableowner FROM pg_tables WHERE tablename = 'legacy'") == (
            "tagen_owner"
        )
    finally:
        embedded.stop(pgdata)
        shutil.rmtree(pgdata.parent, ignore_errors=True)


@as_root
def test_a_data_directory_the_server_cannot_reach_is_refused_and_nothing_is_widened():
    closed = scratch_dir("tagen-closed-")
    closed.chmod(0o700)  # a mktemp -d, or root's home
    pgdata = closed / "home" / "pgdata"
    try:
        with pytest.raises(ServerAccessError, match=f"{closed} \\(drwx------\\) stops it"):
            embedded.start(pgdata)
        assert stat.S_IMODE(closed.stat().st_mode) == 0o700
        assert not (pgdata / "PG_VERSION").exists()
    finally:
        shutil.rmtree(closed, ignore_errors=True)


@as_root
def test_binaries_in_a_directory_the_server_cannot_reach_are_run_from_a_copy(
    monkeypatch: pytest.MonkeyPatch,
):
    """A checkout in a 0700 directory (or root's home): its .venv holds the wheel."""
    closed = scratch_dir("tagen-closed-checkout-")
    closed.chmod(0o700)
    site = closed / "site-packages"
    site.mkdir()
    for part in embedded._WHEEL_PARTS:
        (site / part.split("/")[0]).symlink_to(embedded._site() / part.split("/")[0])
    cache = scratch_dir("tagen-pginstall-cache-")
    cache.chmod(0o755)
    monkeypatch.setattr(embedded, "_site", lambda: site)
    monkeypatch.setattr(server_user, "INSTALL_CACHE", cache / "tagen")
    embedded._bin_dir.cache_clear()
    try:
        with scratch_cluster() as server:
            postmaster = Path(psutil.Process(server.pid).exe())
            assert postmaster.is_relative_to(cache / "tagen")
            assert _scalar(server.url(database="postgres"), "SELECT 1") == 1
        copy = next((cache / "tagen").glob("pginstall-*"))
        assert copy.stat().st_uid == 0 and not copy.stat().st_mode & 0o022
    finally:
        embedded._bin_dir.cache_clear()
        shutil.rmtree(closed, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)


def test_libpq_verifiers_are_recognised(pg_server: PgServer):
    """The check that spares a password reset on every start agrees with libpq's verifiers."""
    with pg_server.connect() as admin:
        verifier = admin.pgconn.encrypt_password(b"right", b"someone", b"scram-sha-256").decode()
    assert verifies(verifier, "right") and not verifies(verifier, "wrong")
