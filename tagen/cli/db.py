"""`tagen db upgrade|downgrade|current|url` and `tagen health`: the application database.

Errors print one line on stderr and exit with code 2; `tagen health` exits 1 when unhealthy.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Literal

import typer
from sqlalchemy.engine import make_url

from tagen.cli.common import cli_errors, run_async

db_app = typer.Typer(
    help="Application database: migrations and connection URL.", no_args_is_help=True
)


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
