"""The embedded stack behind `tagen up` / `tagen down`.

`up` starts (or reuses) the embedded PostgreSQL, migrates the application database, starts a
Prefect server on loopback whose own database is a second database in the same PostgreSQL
(through asyncpg, the only driver Prefect's server accepts), and a process serving the three
deployments. What `up` started is recorded in `<TAGEN_HOME>/stack/state.json` so that `down`
stops exactly that and nothing else; a second `up` reuses a healthy stack.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFECT_DATABASE = "prefect"
PREFECT_ROLE = "tagen_prefect"
REQUEST_DEPLOYMENT = "request-lifecycle/request-lifecycle"
_STOP_TIMEOUT_S = 20


class StackError(RuntimeError):
    """The stack could not be started, reached or stopped (the message says which part)."""


class StackSettings(BaseSettings):
    """Where the local Prefect server listens and how long `up` waits for it."""

    model_config = SettingsConfigDict(env_prefix="TAGEN_PREFECT_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=4200, ge=1, le=65535)
    startup_timeout_s: float = Field(default=180.0, gt=0)
    runner_poll_seconds: int = Field(default=1, ge=1)


@lru_cache(maxsize=1)
def get_stack_settings() -> StackSettings:
    return StackSettings()


@dataclass(frozen=True)
class StackState:
    """What `up` started; `started_postgres` is False when PostgreSQL was already running."""

    api_url: str
    ui_url: str
    server_pid: int
    serve_pid: int
    started_postgres: bool
    home: str


def _home() -> Path:
    from storage.settings import get_storage_settings

    return get_storage_settings().home


def _state_dir() -> Path:
    return _home() / "stack"


def _state_file() -> Path:
    return _state_dir() / "state.json"


def read_state() -> StackState | None:
    try:
        return StackState(**json.loads(_state_file().read_text()))
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child still answers kill(0)
        finished, _ = os.waitpid(pid, os.WNOHANG)
        return finished == 0
    except ChildProcessError:
        return True


def api_healthy(api_url: str, *, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def running_stack() -> StackState | None:
    """The recorded stack if its processes are alive and its API answers, else None."""
    state = read_state()
    if state is None:
        return None
    if _alive(state.server_pid) and _alive(state.serve_pid) and api_healthy(state.api_url):
        return state
    return None


def prefect_environment(*, api_url: str | None = None) -> dict[str, str]:
    """Environment for every Prefect process of the stack (server, runner, flow runs)."""
    prefect_home = _home() / "prefect"
    env = {
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOCAL_STORAGE_PATH": str(prefect_home / "storage"),
        "PREFECT_RUNNER_POLL_FREQUENCY": str(get_stack_settings().runner_poll_seconds),
        # A suspended approval re-runs the flow from the top: finished tasks must come back
        # from their persisted results instead of running again.
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
    }
    if api_url is not None:
        env["PREFECT_API_URL"] = api_url
    return env


def _spawn(args: list[str], *, log: Path, env: dict[str, str], cwd: Path | None = None) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as sink:
        process = subprocess.Popen(
            args,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **env},
            cwd=cwd,
            start_new_session=True,  # survives the CLI; `down` signals the whole group
        )
    return process.pid


def _wait_healthy(api_url: str, *, pid: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api_healthy(api_url):
            return
        if not _alive(pid):
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise StackError(f"the Prefect server exited during startup; see {log}\n{tail}")
        time.sleep(0.5)
    raise StackError(f"the Prefect server did not answer at {api_url} within {timeout:.0f} s")


def _has_pg_trgm(server_url: str) -> bool:
    import psycopg

    libpq_url = server_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    with psycopg.connect(libpq_url) as conn:
        row = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"
        ).fetchone()
    return row is not None


def _start_database() -> tuple[str, bool]:
    """Start-or-reuse the embedded PostgreSQL, migrate the app database, create Prefect's,
    owned by a role of its own (Prefect's server migrates it; it reaches nothing else)."""
    from storage.db import embedded
    from storage.db.migrate import upgrade
    from storage.settings import get_storage_settings

    pgdata = get_storage_settings().pgdata
    started = embedded.status(pgdata) is None
    server = embedded.start(pgdata)
    upgrade()
    embedded.provision(server, PREFECT_DATABASE, owner=PREFECT_ROLE)
    prefect_url = server.url(PREFECT_ROLE, driver="asyncpg", database=PREFECT_DATABASE)
    if not _has_pg_trgm(prefect_url):
        raise StackError(
            f"the PostgreSQL in {pgdata} has no pg_trgm extension, which Prefect's server needs"
        )
    return prefect_url, started


def up() -> StackState:
    """Start the stack (or return the running one) and record what was started."""
    existing = running_stack()
    if existing is not None:
        return existing
    down(quiet=True)  # clear a half-dead previous stack
    settings = get_stack_settings()
    base = f"http://{settings.host}:{settings.port}"
    api_url = f"{base}/api"
    if api_healthy(api_url):
        raise StackError(
            f"another process already answers at {api_url}; stop it or set TAGEN_PREFECT_PORT"
        )
    prefect_db_url, started_postgres = _start_database()
    logs = _state_dir() / "logs"
    env = prefect_environment(api_url=api_url)
    server_env = {
        **env,
        "PREFECT_API_DATABASE_CONNECTION_URL": prefect_db_url,
        "PREFECT_UI_API_URL": api_url,
        "PREFECT_SERVER_API_HOST": settings.host,
        "PREFECT_SERVER_API_PORT": str(settings.port),
    }
    prefect_cli = str(Path(sys.executable).with_name("prefect"))
    server_pid = _spawn(
        [prefect_cli, "server", "start", "--host", settings.host, "--port", str(settings.port)],
        log=logs / "prefect-server.log",
        env=server_env,
    )
    _wait_healthy(
        api_url, pid=server_pid, log=logs / "prefect-server.log", timeout=settings.startup_timeout_s
    )
    serve_pid = _spawn([sys.executable, "-m", "tagen.serve"], log=logs / "deployments.log", env=env)
    state = StackState(
        api_url=api_url,
        ui_url=base,
        server_pid=server_pid,
        serve_pid=serve_pid,
        started_postgres=started_postgres,
        home=str(_home()),
    )
    _state_file().write_text(json.dumps(asdict(state), indent=2))
    return state


def _terminate_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + _STOP_TIMEOUT_S
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)


def down(*, quiet: bool = False) -> list[str]:
    """Stop what `up` recorded: runner, Prefect server, PostgreSQL if `up` started it."""
    state = read_state()
    stopped: list[str] = []
    if state is None:
        return stopped
    for name, pid in (("deployment runner", state.serve_pid), ("Prefect server", state.server_pid)):
        if _alive(pid):
            _terminate_group(pid)
            stopped.append(f"{name} (pid {pid})")
    if state.started_postgres:
        from storage.db import embedded
        from storage.settings import get_storage_settings

        if embedded.stop(get_storage_settings().pgdata):
            stopped.append("embedded PostgreSQL")
    _state_file().unlink(missing_ok=True)
    return stopped


def wait_for_deployments(api_url: str, *, names: tuple[str, ...], timeout: float = 60.0) -> None:
    """Block until the runner has registered `names` with the server."""
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            try:
                with urllib.request.urlopen(f"{api_url}/deployments/name/{name}", timeout=2):
                    pending.discard(name)
            except (urllib.error.URLError, OSError):
                continue
        if pending:
            time.sleep(0.5)
    if pending:
        log = _state_dir() / "logs" / "deployments.log"
        raise StackError(f"deployments {sorted(pending)} were not registered; see {log}")


def connect_prefect() -> StackState:
    """Point this process's Prefect client at the running stack (before prefect is imported)."""
    state = running_stack()
    if state is None:
        raise StackError("the tagen stack is not running: start it with `tagen up`")
    os.environ.update(prefect_environment(api_url=state.api_url))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # commands print their own result
    return state
