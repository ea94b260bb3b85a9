"""The `tagen` command line. Each command group lives in its own module and registers here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="tagen",
    help="Turn raw log samples into a validated, versioned Splunk Technology Add-on.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    # A callback keeps the `tagen <command>` form even while one command is registered.
    pass


def _register() -> None:
    # Imported here so `tagen --help` stays cheap and modules register their own commands.
    from tagen.cli import (
        db,
        demo,
        generate,
        knowledge,
        request,
        retention,
        stack,
        ta,
        users,
        validate,
    )

    validate.register(app)
    generate.register(app)
    db.register(app)
    users.register(app)
    stack.register(app)
    demo.register(app)
    request.register(app)
    ta.register(app)
    knowledge.register(app)
    retention.register(app)


def main() -> None:
    _register()
    app()
