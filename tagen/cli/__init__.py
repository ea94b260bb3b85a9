"""The `tagen` command line. Each command group lives in its own module and registers here."""

from __future__ import annotations

import signal
import sys
from types import FrameType

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


class Terminated(BaseException):
    """SIGTERM (what Prefect and Kubernetes send to cancel), raised in the main thread like
    Ctrl-C's KeyboardInterrupt so with-blocks and finally clauses remove partial outputs and
    temporary folders before the process exits."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise Terminated


def main() -> None:
    _register()
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except Terminated:
        print("stopped by SIGTERM; partial outputs removed", file=sys.stderr)
        sys.exit(128 + signal.SIGTERM)
