"""`tagen ta download` and `tagen ta upload`: revisions of a request's TA."""

from __future__ import annotations

from typing import Annotated

import typer

from tagen.cli.common import given_path, lifecycle_errors, parse_request_id, run_async

ta_app = typer.Typer(help="TA revisions: download, upload a manual one.", no_args_is_help=True)


@ta_app.command("download")
def download(
    request_id: Annotated[str, typer.Argument(help="request id")],
    version: Annotated[int | None, typer.Option(min=1, help="revision (default: latest)")] = None,
    out: Annotated[str, typer.Option(help="directory to write the .tgz to")] = ".",
) -> None:
    """Copy a revision's package from the object store (checksum verified)."""
    import hashlib

    from tagen.wiring import install
    from tasks.ta_revision import download_revision

    rid = parse_request_id(request_id)
    destination = given_path(out, "--out")
    with lifecycle_errors():
        install()
        got = run_async(lambda: download_revision(rid, version=version, destination=destination))
        actual = hashlib.sha256(got.path.read_bytes()).hexdigest()
        if actual != got.checksum:
            got.path.unlink()
            raise ValueError(f"checksum mismatch for v{got.version}: stored object is damaged")
        typer.echo(f"v{got.version}: {got.path} (sha256 {got.checksum})")


@ta_app.command("upload")
def upload(
    request_id: Annotated[str, typer.Argument(help="request id")],
    archive_arg: Annotated[
        str, typer.Argument(metavar="ARCHIVE", help="TA package (.tgz, .tar.gz, .spl, .zip)")
    ],
    uploaded_by: Annotated[str, typer.Option(help="your username")],
) -> None:
    """Add a MANUAL revision and validate it like a generated one."""
    from tagen.stack import connect_prefect

    rid = parse_request_id(request_id)
    archive = given_path(archive_arg, "TA package")
    with lifecycle_errors():
        connect_prefect()  # before Prefect is imported (below)
        from tagen import lifecycle
        from tagen.wiring import install

        install()

        result = run_async(lambda: lifecycle.upload(rid, archive, uploaded_by=uploaded_by))
        verdict = "PASSED" if result["passed"] else f"FAILED: {result['reasons']}"
        typer.echo(f"revision {result['revision_id']}: validation {verdict}")


def register(app: typer.Typer) -> None:
    app.add_typer(ta_app, name="ta")
