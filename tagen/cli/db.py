"""`tagen db upgrade|downgrade|current|url` and `tagen health`: the application database.

Errors print one line on stderr and exit with code 2; `tagen health` exits 1 when unhealthy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict
from typing import Annotated, Literal, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

T = TypeVar("T")

db_app = typer.Typer(
    help="Application database: migrations and connection URL.", no_args_is_help=True
)


def fail(message: str) -> typer.Exit:
    """Print `message` as one line on stderr; the caller raises the returned Exit (code 2)."""
    Console(stderr=True).print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


@contextlib.contextmanager
def cli_errors() -> Iterator[None]:
    """Turn the storage layer's errors into one line on stderr and exit code 2."""
    from alembic.util.exc import CommandError

    from storage.db.embedded import EmbeddedDatabaseError
    from storage.db.errors import StorageError
    from storage.db.session import describe_database_error

    try:
        yield
    except (StorageError, EmbeddedDatabaseError, CommandError) as exc:
        raise fail(str(exc)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or exc.title
        raise fail(f"invalid setting {where}: {first['msg']}") from None
    except SQLAlchemyError as exc:
        raise fail(f"database: {describe_database_error(exc)}") from None
    except OSError as exc:  # e.g. TAGEN_HOME not writable
        raise fail(str(exc)) from None


def run_async(action: Callable[[], Awaitable[T]]) -> T:
    """Run one command's coroutine on a fresh loop and close its database engine afterwards."""
    from storage.db.session import dispose_engine

    async def _main() -> T:
        try:
            return await action()
        finally:
            await dispose_engine()

    return asyncio.run(_main())


@db_app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
) -> None:
    """Apply migrations up to REVISION (default: head), as the owner role."""
    from storage.db import migrate

    with cli_errors():
        migrate.upgrade(revision)
        typer.echo(f"database at {migrate.current() or 'base'}")


# ignore_unknown_options: a relative revision such as -1 is an argument, not an option.
@db_app.command(context_settings={"ignore_unknown_options": True})
def downgrade(
    revision: Annotated[str, typer.Argument(help="target revision, e.g. -1 or base")],
) -> None:
    """Revert migrations down to REVISION."""
    from storage.db import migrate

    with cli_errors():
        migrate.downgrade(revision)
        typer.echo(f"database at {migrate.current() or 'base'}")


@db_app.command()
def current() -> None:
    """Print the revision the database is at ('base' when empty)."""
    from storage.db import migrate

    with cli_errors():
        typer.echo(migrate.current() or "base")


@db_app.command()
def url(
    driver: Annotated[
        Literal["psycopg", "asyncpg"], typer.Option(help="SQLAlchemy driver of the URL")
    ] = "psycopg",
    show_password: Annotated[bool, typer.Option(help="print the password in clear")] = False,
) -> None:
    """Print the application role's database URL, its password masked unless --show-password
    (starts the embedded server when DATABASE_URL is unset)."""
    from storage.db.session import get_database_url

    with cli_errors():
        raw = get_database_url()
    parsed = make_url(raw)
    if parsed.password and not show_password:
        typer.echo(parsed.set(drivername=f"postgresql+{driver}").render_as_string())
    else:  # as configured, only the driver swapped (keeps the socket path readable)
        typer.echo(f"postgresql+{driver}://" + raw.split("://", 1)[1])


def health(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Check the database: round-trip latency and connection pool figures."""
    from storage.db.session import get_pool_stats, health_check

    async def _check() -> dict[str, object]:
        status = await health_check()
        return {"database": asdict(status), "pool": asdict(get_pool_stats())}

    with cli_errors():
        report = run_async(_check)
    database = report["database"]
    assert isinstance(database, dict)
    if as_json:
        typer.echo(json.dumps(report, sort_keys=True))
    else:
        line = f"database: {database['status']} ({database['latency_ms']:.1f} ms)"
        if database["error"]:
            line += f": {database['error']}"
        pool = report["pool"]
        assert isinstance(pool, dict)
        typer.echo(line)
        typer.echo("pool: " + " ".join(f"{key}={value}" for key, value in pool.items()))
    if database["status"] != "healthy":
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.command("health")(health)
