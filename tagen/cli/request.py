"""`tagen request submit|approve|reject|status|list`: requests through the lifecycle flow.

A decision is authenticated by the approver's password, read from TAGEN_APPROVER_PASSWORD or a
hidden prompt, never from an option (it would show in the process list and the shell history).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from engine.sandbox.routes import InputRoute
from tagen.cli.common import fail, lifecycle_errors, parse_request_id, run_async

if TYPE_CHECKING:
    from pydantic import SecretStr

PASSWORD_ENV = "TAGEN_APPROVER_PASSWORD"

request_app = typer.Typer(help="TA requests: submit, decide, follow.", no_args_is_help=True)


@request_app.command("submit")
def submit(
    requester: Annotated[str, typer.Option(help="username of the requester")],
    source_system: Annotated[str, typer.Option(help="system the logs come from")],
    sample: Annotated[
        list[str] | None, typer.Option(help="log sample: path, file:// or s3:// URI")
    ] = None,
    sample_text: Annotated[
        list[str] | None, typer.Option(help="log sample given as its text (pasted)")
    ] = None,
    description: Annotated[str, typer.Option(help="what the logs are")] = "",
    cim: Annotated[bool, typer.Option(help="map to the CIM")] = True,
    sourcetype: Annotated[str | None, typer.Option(help="sourcetype to use")] = None,
    idempotency_key: Annotated[str | None, typer.Option(help="repeat-safe key")] = None,
    validation_input: Annotated[
        InputRoute | None,
        typer.Option("--input", help="how the samples reach Splunk when validating"),
    ] = None,
) -> None:
    """Start the request-lifecycle deployment; prints the request id once it exists."""
    from tagen.stack import connect_prefect

    if not sample and not sample_text:
        raise fail("give at least one --sample or --sample-text")
    with lifecycle_errors():
        state = connect_prefect()  # before Prefect is imported (below)
        from tagen import lifecycle
        from tagen.wiring import install
        from tasks.log_sample import SampleSpec

        install()
        specs = [SampleSpec.location(s) for s in sample or []]
        specs += [SampleSpec.pasted(text) for text in sample_text or []]
        flow_parameters = lifecycle.parameters(
            requester=requester,
            source_system=source_system,
            samples=specs,
            description=description,
            cim_required=cim,
            sourcetype=sourcetype,
            idempotency_key=idempotency_key,
            validation_input=validation_input,
        )
        submission = run_async(lambda: lifecycle.submit(flow_parameters))
        typer.echo(f"flow run: {state.ui_url}/runs/flow-run/{submission.flow_run_id}")
        if submission.request_id is None:
            raise fail("the flow run has not created the request yet; see the UI")
        typer.echo(f"request: {submission.request_id}")


def _approver_password(approver: str) -> SecretStr:
    """The approver's password: TAGEN_APPROVER_PASSWORD, else a prompt that does not echo."""
    from pydantic import SecretStr

    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        try:
            password = typer.prompt(f"password of {approver}", hide_input=True, err=True)
        except typer.Abort:
            raise fail(f"no password: set {PASSWORD_ENV} or answer the prompt") from None
    if not password.strip():
        raise fail(f"the password of {approver} must not be empty")
    return SecretStr(password)


def _decide(request_id: str, *, approved: bool, approver: str, reason: str) -> None:
    from tagen.stack import connect_prefect

    rid = parse_request_id(request_id)
    password = _approver_password(approver)
    with lifecycle_errors():
        connect_prefect()  # before Prefect is imported (below)
        from tagen import lifecycle
        from tagen.wiring import install

        install()
        decision = run_async(
            lambda: lifecycle.decide(
                rid, approved=approved, approver=approver, password=password, reason=reason
            )
        )
        if decision.refusal is not None:
            raise fail(f"refused: {decision.refusal}")
        typer.echo(f"request {rid}: {decision.status}")


@request_app.command("approve")
def approve(
    request_id: Annotated[str, typer.Argument(help="request id")],
    approver: Annotated[str, typer.Option(help="your username (APPROVER or ADMIN)")],
    reason: Annotated[str, typer.Option(help="note for the audit trail")] = "",
) -> None:
    """Approve a request waiting at the gate (the same call as the UI's Resume button); the
    password comes from TAGEN_APPROVER_PASSWORD or a hidden prompt."""
    _decide(request_id, approved=True, approver=approver, reason=reason)


@request_app.command("reject")
def reject(
    request_id: Annotated[str, typer.Argument(help="request id")],
    approver: Annotated[str, typer.Option(help="your username (APPROVER or ADMIN)")],
    reason: Annotated[str, typer.Option(help="why (required)")],
) -> None:
    """Reject a request waiting at the gate; the password comes from TAGEN_APPROVER_PASSWORD or
    a hidden prompt."""
    if not reason.strip():
        raise fail("--reason must not be empty when rejecting")
    _decide(request_id, approved=False, approver=approver, reason=reason)


@request_app.command("resume")
def resume(
    request_id: Annotated[str, typer.Argument(help="request id")],
    force: Annotated[
        bool, typer.Option(help="resume although Prefect still shows its run live")
    ] = False,
) -> None:
    """Continue an unfinished request whose flow run died (crashed, killed, cancelled): a new
    run of the same parameters takes it over from its status."""
    from tagen.stack import connect_prefect

    rid = parse_request_id(request_id)
    with lifecycle_errors():
        state = connect_prefect()  # before Prefect is imported (below)
        from tagen import lifecycle
        from tagen.wiring import install

        install()
        submission = run_async(lambda: lifecycle.resume(rid, force=force))
        typer.echo(f"flow run: {state.ui_url}/runs/flow-run/{submission.flow_run_id}")
        if submission.request_id is None:
            raise fail("the new flow run has not taken the request over yet; see the UI")
        typer.echo(f"request {rid}: resumed")


@request_app.command("status")
def status(request_id: Annotated[str, typer.Argument(help="request id")]) -> None:
    """Status, samples, revisions and validation runs of a request."""
    from tagen import lifecycle
    from tagen.wiring import install

    rid = parse_request_id(request_id)
    with lifecycle_errors():
        install()
        for line in run_async(lambda: lifecycle.summarize(rid)):
            typer.echo(line)


@request_app.command("list")
def list_requests(
    status: Annotated[str | None, typer.Option(help="only this status")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
) -> None:
    """The newest requests."""

    async def _list() -> list[str]:
        from storage.db.unit_of_work import UnitOfWork

        async with UnitOfWork() as uow:
            found = await uow.requests.search_requests(status=status, limit=limit)
        return [f"{r.id}  {r.status!s:<16} {r.source_system}" for r in found]

    with lifecycle_errors():
        for line in run_async(_list) or ["no requests"]:
            typer.echo(line)


def register(app: typer.Typer) -> None:
    app.add_typer(request_app, name="request")
