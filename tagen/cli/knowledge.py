"""`tagen knowledge add|index`: documents generation retrieves from."""

from __future__ import annotations

from typing import Annotated

import typer

from tagen.cli.common import given_path, lifecycle_errors, run_async
from tagen.cli.progress import ProgressOption, byte_progress

knowledge_app = typer.Typer(help="Knowledge documents for retrieval.", no_args_is_help=True)


@knowledge_app.command("add")
def add(
    file_arg: Annotated[str, typer.Argument(metavar="FILE", help="the document")],
    type_: Annotated[
        str, typer.Option("--type", help="markdown, text, pdf or ta_archive")
    ] = "markdown",
    title: Annotated[str | None, typer.Option(help="title (default: file name)")] = None,
    progress: ProgressOption = None,
) -> None:
    """Store a document; the next indexing run (or `tagen knowledge index`) indexes it."""
    from tagen.wiring import install
    from tasks.knowledge_document import register_document

    file = given_path(file_arg, "document")
    with lifecycle_errors():
        install()
        # Read twice (hashed, then stored); a file that is not regular is refused by the task.
        total = 2 * file.stat().st_size if file.is_file() else None
        with byte_progress("adding", total, show=progress) as advance:
            document_id, created = run_async(
                lambda: register_document(
                    file, kind=type_, title=title or file.name, on_read=advance
                )
            )
        typer.echo(f"{'added' if created else 'already known'}: {document_id}")


@knowledge_app.command("index")
def index() -> None:
    """Index every document not indexed yet (what the scheduled deployment does)."""
    from tagen.stack import connect_prefect

    with lifecycle_errors():
        connect_prefect()  # before Prefect is imported (below)
        from tagen.wiring import install

        install()

        async def _index() -> dict[str, int | str | None]:
            from flows.knowledge_indexing import knowledge_indexing

            return await knowledge_indexing()

        result = run_async(_index)
        typer.echo(
            f"indexed {result['documents']} documents ({result['chunks']} chunks), "
            f"{result['failed']} failed, into {result['index']}"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(knowledge_app, name="knowledge")
