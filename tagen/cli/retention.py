"""`tagen retention run [--dry-run]`: what the nightly deployment does, now."""

from __future__ import annotations

from typing import Annotated

import typer

from tagen.cli.common import lifecycle_errors, run_async

retention_app = typer.Typer(help="Sample retention.", no_args_is_help=True)


@retention_app.command("run")
def run(
    dry_run: Annotated[bool, typer.Option(help="only report what would be deleted")] = False,
) -> None:
    """Delete log samples whose retention date has passed."""
    from tagen.stack import connect_prefect

    with lifecycle_errors():
        connect_prefect()  # before Prefect is imported (below)
        from tagen.wiring import install

        install()

        async def _run() -> dict[str, int]:
            from flows.retention import retention

            return await retention(dry_run=dry_run)

        result = run_async(_run)
        verb = "would delete" if dry_run else "deleted"
        count = result["expired"] if dry_run else result["deleted"]
        typer.echo(
            f"{result['expired']} expired samples; {verb} {count} "
            f"({result['missing_objects']} objects were already gone); "
            f"{result['approvals']} requests failed for an expired approval"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")
