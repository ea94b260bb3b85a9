"""`tagen up` / `tagen down` / `tagen status`: the embedded stack."""

from __future__ import annotations

import typer

from tagen.cli.common import lifecycle_errors


def up() -> None:
    """Start embedded PostgreSQL, a Prefect server on loopback and the deployments."""
    from tagen import stack

    with lifecycle_errors():
        state = stack.up()
    typer.echo(f"Prefect UI: {state.ui_url}")
    typer.echo(f"Prefect API: {state.api_url} (export PREFECT_API_URL={state.api_url})")


def down() -> None:
    """Stop what `tagen up` started."""
    from tagen import stack

    with lifecycle_errors():
        stopped = stack.down()
    typer.echo("stopped: " + ", ".join(stopped) if stopped else "nothing to stop")


def status() -> None:
    """Whether the stack is running, and where."""
    from tagen import stack

    state = stack.running_stack()
    if state is None:
        typer.echo("not running (start it with `tagen up`)")
        raise typer.Exit(1)
    typer.echo(f"running: UI {state.ui_url}, API {state.api_url}")


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("down")(down)
    app.command("status")(status)
