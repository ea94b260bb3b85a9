"""`tagen demo`: the main job end to end on this machine."""

from __future__ import annotations

import typer


def demo() -> None:
    """Start the stack, submit the bundled sample, approve it, print the validated TA."""
    from tagen.cli.common import fail, lifecycle_errors
    from tagen.demo import DemoError, run_demo

    with lifecycle_errors():
        try:
            status = run_demo(typer.echo)
        except DemoError as exc:
            raise fail(str(exc)) from None
    if status != "COMPLETED":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
