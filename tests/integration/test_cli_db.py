"""The database CLI (`tagen db`, `tagen roles`, `tagen users`, `tagen health`) on the test
database, through typer's CliRunner."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import typer
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from storage.db import migrate
from storage.db.enums import UserRoleEnum
from storage.db.session import dispose_engine
from storage.db.unit_of_work import UnitOfWork
from storage.settings import clear_settings_cache
from tagen.cli import _register, app
from tests.db_fixtures import PgServer
from tests.integration.builders import unique

T = TypeVar("T")
runner = CliRunner()


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    _register()
    return app


def _read(query: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Read what the CLI committed, through the application's own engine (like the CLI)."""

    async def read() -> T:
        try:
            async with UnitOfWork() as uow:
                return await query(uow)
        finally:
            await dispose_engine()

    return asyncio.run(read())


def _superuser_and_roles(username: str) -> tuple[bool, set[UserRoleEnum]]:
    async def query(uow: UnitOfWork) -> tuple[bool, set[UserRoleEnum]]:
        user = await uow.users.get_by_username(username)
        assert user is not None
        return user.is_superuser, await uow.users.get_role_names(user.id)

    return _read(query)


def test_roles_init_and_users_create(cli, db_url: str, clean_db: None):
    first = runner.invoke(cli, ["roles", "init"])
    assert first.exit_code == 0, first.output
    assert "APPROVER: Approves" in first.stdout
    assert runner.invoke(cli, ["roles", "init"]).exit_code == 0  # idempotent

    ann = unique("ann")
    created = runner.invoke(
        cli,
        [
            *("users", "create", "--username", ann, "--email", f"{ann}@example.org"),
            *("--role", "approver", "--role", "ADMIN", "--superuser"),
        ],
    )
    assert created.exit_code == 0, created.output
    assert f"created user {ann}" in created.stdout and "APPROVER, ADMIN" in created.stdout
    assert _superuser_and_roles(ann) == (True, {UserRoleEnum.APPROVER, UserRoleEnum.ADMIN})


DUP = unique("dup")


@pytest.mark.parametrize(
    ("username", "email", "more", "message"),
    [
        (DUP, "other@example.org", [], "duplicate User"),
        (unique("bo"), "bo@example.org", ["--role", "boss"], "'BOSS' is not one"),
        (unique("cy"), "no-at-sign", [], "must contain '@'"),
    ],
)
def test_users_create_bad_input_is_one_line_exit_2(
    cli, db_url, clean_db, username, email, more, message
):
    existing = ["users", "create", "--username", DUP, "--email", f"{DUP}@example.org"]
    assert runner.invoke(cli, existing).exit_code == 0
    result = runner.invoke(
        cli, ["users", "create", "--username", username, "--email", email, *more]
    )
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert _read(lambda uow: uow.users.get_by_email(email)) is None  # nothing half-written


def test_health_reports_latency_and_pool(cli, db_url: str):
    result = runner.invoke(cli, ["health", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["database"]["status"] == "healthy"
    assert report["database"]["latency_ms"] > 0
    assert set(report["pool"]) == {"pool_size", "checked_out", "checked_in", "overflow"}
    assert report["pool"]["pool_size"] == 10
    text = runner.invoke(cli, ["health"])
    assert text.exit_code == 0 and text.stdout.startswith("database: healthy (")


def test_db_url_prints_the_application_role_with_its_password_masked(
    cli, pg_server: PgServer, db_url: str
):
    password = pg_server.app.password
    assert f":{password}@" in db_url
    shown = runner.invoke(cli, ["db", "url", "--driver", "asyncpg", "--show-password"])
    assert shown.exit_code == 0
    assert shown.stdout.strip() == db_url.replace("postgresql+psycopg", "postgresql+asyncpg")
    masked = runner.invoke(cli, ["db", "url"])
    assert masked.exit_code == 0 and password not in masked.stdout
    assert masked.stdout.strip() == db_url.replace(password, "***")
    assert f"//{pg_server.app.role}:***@" in masked.stdout


@pytest.fixture
def scratch_database(pg_server: PgServer, db_url: str) -> Iterator[str]:
    """DATABASE_URL/DATABASE_OWNER_URL pointing at an empty database for migration commands."""
    pg_server.create_database("tagen_cli", fresh=True)
    with pg_server.environment("tagen_cli") as url:
        yield url


def test_db_upgrade_current_downgrade(cli, scratch_database: str):
    head = migrate.heads()[0]
    assert runner.invoke(cli, ["db", "current"]).stdout.strip() == "base"
    up = runner.invoke(cli, ["db", "upgrade"])
    assert up.exit_code == 0, up.output
    assert up.stdout.strip() == f"database at {head}"
    assert runner.invoke(cli, ["db", "current"]).stdout.strip() == head
    script = ScriptDirectory.from_config(migrate.alembic_config())
    previous = script.get_revision(head).down_revision
    relative = runner.invoke(cli, ["db", "downgrade", "-1"])  # as the README shows it
    assert relative.exit_code == 0, relative.output
    assert relative.stdout.strip() == f"database at {previous}"
    assert runner.invoke(cli, ["db", "upgrade", "+1"]).stdout.strip() == f"database at {head}"
    down = runner.invoke(cli, ["db", "downgrade", "base"])
    assert down.exit_code == 0 and down.stdout.strip() == "database at base"
    bad = runner.invoke(cli, ["db", "upgrade", "9999"])
    assert bad.exit_code == 2
    assert "9999" in bad.stderr and bad.stderr.count("\n") == 1


def test_bad_database_url_is_one_line(cli, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/x")
    clear_settings_cache()
    try:
        result = runner.invoke(cli, ["health"])
    finally:
        monkeypatch.undo()
        clear_settings_cache()
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: invalid setting url: Value error, DATABASE_URL must be a PostgreSQL URL "
        "(postgresql://...), got scheme 'mysql'"
    )


def test_unusable_home_is_one_line(cli, monkeypatch, tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("TAGEN_HOME", str(not_a_dir))
    clear_settings_cache()
    try:
        result = runner.invoke(cli, ["db", "url"])
    finally:
        monkeypatch.undo()
        clear_settings_cache()
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and str(not_a_dir) in result.stderr
    assert result.stderr.count("\n") == 1


def _hash_of(username: str) -> str | None:
    async def query(uow: UnitOfWork) -> str | None:
        user = await uow.users.get_by_username(username)
        assert user is not None
        return user.hashed_password

    return _read(query)


def test_users_create_with_a_password_and_verify_it(cli, db_url: str, clean_db: None, caplog):
    secret = "correct horse battery staple "  # a trailing space is part of a password
    dee = unique("dee")
    created = runner.invoke(
        cli,
        ["users", "create", "--username", dee, "--email", f"{dee}@x.org", "--password-stdin"],
        input=secret + "\n",
    )
    assert created.exit_code == 0, created.output
    hashed = _hash_of(dee)
    assert hashed is not None and hashed.startswith("$argon2id$") and secret not in hashed

    def verify(username: str, password: str) -> tuple[int, str]:
        result = runner.invoke(
            cli, ["users", "verify", "--username", username, "--password-stdin"], input=password
        )
        return result.exit_code, result.output

    assert verify(dee, secret + "\n") == (0, f"password of {dee} verified\n")
    assert verify(dee, secret + "\r\n")[0] == 0
    for wrong_user, wrong_password in ((dee, secret.strip()), (dee, "x"), (unique("nobody"), "x")):
        code, output = verify(wrong_user, wrong_password)
        assert (code, output) == (1, "invalid username or password\n")

    dee_id = _user_id(dee)
    audit = _read(lambda uow: uow.audit.get_by_entity("user", dee_id))
    assert [a.details["local_password"] for a in audit] == [True]
    everything = created.output + caplog.text + repr([a.details for a in audit])
    assert secret.strip() not in everything and hashed not in everything


def test_users_password_sets_and_replaces_a_password(cli, db_url: str, clean_db: None, caplog):
    fay = unique("fay")
    created = runner.invoke(cli, ["users", "create", "--username", fay, "--email", f"{fay}@x.org"])
    assert created.exit_code == 0, created.output
    assert _hash_of(fay) is None
    outputs = []
    for secret in ("first secret", "second secret"):
        result = runner.invoke(
            cli, ["users", "password", "--username", fay, "--password-stdin"], input=secret + "\n"
        )
        assert (result.exit_code, result.output) == (0, f"password of {fay} set\n")
        outputs.append(result.output)
    verified = runner.invoke(
        cli, ["users", "verify", "--username", fay, "--password-stdin"], input="second secret\n"
    )
    assert verified.exit_code == 0, verified.output
    stale = runner.invoke(
        cli, ["users", "verify", "--username", fay, "--password-stdin"], input="first secret\n"
    )
    assert stale.exit_code == 1
    fay_id = _user_id(fay)
    audit = _read(lambda uow: uow.audit.get_by_entity("user", fay_id))
    assert sorted(str(a.action) for a in audit) == ["CREATE", "UPDATE", "UPDATE"]
    everything = "".join(outputs) + caplog.text + repr([a.details for a in audit])
    assert "secret" not in everything


def _user_id(username: str):
    async def query(uow: UnitOfWork):
        user = await uow.users.get_by_username(username)
        assert user is not None
        return user.id

    return _read(query)


@pytest.mark.parametrize(
    ("command", "stdin", "message"),
    [
        (["users", "create", "--email", "e@x.org", "--password-stdin"], "\n", "no password"),
        (["users", "create", "--email", "e@x.org", "--password-stdin"], "   \n", "no password"),
        (["users", "verify", "--password-stdin"], "", "no password on stdin"),
        (["users", "verify"], "pw\n", "--password-stdin is required"),
        (["users", "password"], "pw\n", "--password-stdin is required"),
        (["users", "password", "--password-stdin"], "pw\n", "not found"),
        (["users", "password", "--password-stdin"], " \n", "no password"),
    ],
)
def test_passwords_bad_input_is_exit_2(cli, db_url, clean_db, command, stdin, message):
    name = unique("eve")
    result = runner.invoke(cli, [*command, "--username", name], input=stdin)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert _read(lambda uow: uow.users.get_by_username(name)) is None


def test_usernames_differing_only_in_case_are_refused(cli, db_url: str, clean_db: None):
    ann = unique("ann")
    created = runner.invoke(cli, ["users", "create", "--username", ann, "--email", f"{ann}@a.org"])
    assert created.exit_code == 0, created.output
    shout = runner.invoke(
        cli, ["users", "create", "--username", ann.upper(), "--email", f"{ann}@b.org"]
    )
    assert shout.exit_code == 2
    assert "duplicate User" in shout.stderr and shout.stderr.count("\n") == 1
    assert _read(lambda uow: uow.users.get_by_email(f"{ann}@b.org")) is None


TAGEN = str(Path(sys.executable).with_name("tagen"))


def _tagen(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real `tagen` process (its own stdout and stderr); a hang fails the test."""
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_OWNER_URL"}
    return subprocess.run(
        [TAGEN, *args],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@pytest.mark.parametrize(("command", "code"), [(["health"], 1), (["db", "current"], 2)])
def test_a_server_that_never_answers_times_out(silent_port: int, command: list[str], code: int):
    result = _tagen(
        *command,
        DATABASE_URL=f"postgresql://u:p@127.0.0.1:{silent_port}/tagen",
        DATABASE_CONNECT_TIMEOUT="2",
    )
    assert result.returncode == code, result.stderr
    assert "timeout expired after 2 s (DATABASE_CONNECT_TIMEOUT)" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_echoed_sql_goes_to_stderr_and_json_stays_parseable(db_url: str):
    result = _tagen("health", "--json", DATABASE_URL=db_url, DATABASE_ECHO="true")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["database"]["status"] == "healthy"
    assert "SELECT 1" in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:secret@db:abc/tagen",
        "postgresql://u:secret@[::1/tagen",
        "postgresql+psycopg2://u:secret@db/tagen",
    ],
)
def test_unusable_database_urls_are_one_line_without_the_password(cli, monkeypatch, url: str):
    monkeypatch.setenv("DATABASE_URL", url)
    clear_settings_cache()
    try:
        for command in (["health"], ["db", "current"], ["roles", "init"]):
            result = runner.invoke(cli, command)
            assert result.exit_code == 2, (command, result.output)
            assert result.stderr.startswith("error: invalid setting url: ")
            assert result.stderr.count("\n") == 1 and "secret" not in result.stderr
    finally:
        monkeypatch.undo()
        clear_settings_cache()
