"""`tagen demo`: the main job end to end on this machine."""

from __future__ import annotations

import typer


def demo() -> None:
    """Start the stack, submit the bundled sample, approve it, print the validated TA."""
    from tagen import stack
    from tagen.demo import DemoError, run_demo

    try:
        status = run_demo(typer.echo)
    except (DemoError, stack.StackError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    if status != "COMPLETED":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
