"""`tagen request submit|approve|reject|status|list`: requests through the lifecycle flow."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from engine.sandbox.routes import InputRoute
from tagen.cli.db import cli_errors, fail, run_async

request_app = typer.Typer(help="TA requests: submit, decide, follow.", no_args_is_help=True)
DEPLOYMENT_WAIT_S = 60


@contextmanager
def lifecycle_errors() -> Iterator[None]:
    """Bad input of the lifecycle (and storage) as one line on stderr, exit code 2."""
    from storage.objects import ObjectStoreError
    from tagen.stack import StackError
    from tasks.errors import LifecycleError

    with cli_errors():
        try:
            yield
        except (LifecycleError, ObjectStoreError, StackError, ValueError) as exc:
            raise fail(str(exc)) from None


def parse_request_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise fail(f"request id {value!r} is not a UUID") from None


def _absolute(spec: str) -> str:
    """Local paths made absolute: the flow run works in another directory."""
    from pathlib import Path

    path = Path(spec).expanduser()
    return str(path.resolve()) if "://" not in spec and path.exists() else spec


async def _flow_run_of(request_id: str) -> uuid.UUID:
    """The lifecycle run of a request: the correlation id of its CREATE audit entry."""
    from storage.db.unit_of_work import UnitOfWork
    from tasks.errors import LifecycleError

    async with UnitOfWork() as uow:
        await uow.requests.get(uuid.UUID(request_id))
        for entry in await uow.audit.get_by_entity("Request", request_id):
            if str(entry.action) == "CREATE" and entry.correlation_id:
                return uuid.UUID(entry.correlation_id)
    raise LifecycleError(f"request {request_id} has no lifecycle flow run")


@request_app.command("submit")
def submit(
    requester: Annotated[str, typer.Option(help="username of the requester")],
    source_system: Annotated[str, typer.Option(help="system the logs come from")],
    sample: Annotated[list[str], typer.Option(help="log sample: path, file:// or s3:// URI")],
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
    from tagen.stack import REQUEST_DEPLOYMENT, connect_prefect

    with lifecycle_errors():
        state = connect_prefect()
        key = idempotency_key or f"cli-{uuid.uuid4()}"

        async def _submit() -> tuple[Any, str | None]:
            from prefect.deployments.flow_runs import arun_deployment

            from storage.db.unit_of_work import UnitOfWork

            flow_run = await arun_deployment(
                REQUEST_DEPLOYMENT,
                parameters={
                    "requester": requester,
                    "source_system": source_system,
                    "description": description,
                    "cim_required": cim,
                    "samples": [_absolute(spec) for spec in sample],
                    "sourcetype": sourcetype,
                    "idempotency_key": key,
                    "validation_input": None if validation_input is None else str(validation_input),
                },
                timeout=0,
            )
            deadline = time.monotonic() + DEPLOYMENT_WAIT_S
            while time.monotonic() < deadline:
                async with UnitOfWork() as uow:
                    found = await uow.requests.get_all(0, 1, filters={"idempotency_key": key})
                if found:
                    return flow_run, str(found[0].id)
                await asyncio.sleep(0.5)
            return flow_run, None

        flow_run, request_id = run_async(_submit)
        typer.echo(f"flow run: {state.ui_url}/runs/flow-run/{flow_run.id}")
        if request_id is None:
            raise fail("the flow run has not created the request yet; see the UI")
        typer.echo(f"request: {request_id}")


def _decide(request_id: str, *, approved: bool, approver: str, reason: str) -> None:
    from tagen.stack import connect_prefect

    rid = parse_request_id(request_id)
    with lifecycle_errors():
        connect_prefect()

        async def _resume() -> str:
            from prefect.exceptions import FlowPauseTimeout
            from prefect.flow_runs import NotPausedError, aresume_flow_run

            from tasks.request import describe_request

            flow_run_id = await _flow_run_of(rid)
            refusals_before = len(await _refusals(rid))
            try:
                await aresume_flow_run(
                    flow_run_id,
                    run_input={"approved": approved, "approver": approver, "reason": reason},
                )
            except (NotPausedError, FlowPauseTimeout) as exc:
                raise ValueError(f"request {rid} is not waiting for approval ({exc})") from None
            except RuntimeError as exc:
                raise ValueError(f"decision refused by the form: {exc}") from None
            deadline = time.monotonic() + DEPLOYMENT_WAIT_S
            while time.monotonic() < deadline:
                status = (await describe_request(rid)).status
                if status != "PENDING_APPROVAL":
                    return status
                refusals = await _refusals(rid)
                if len(refusals) > refusals_before:
                    return f"refused: {refusals[0]}"
                await asyncio.sleep(0.5)
            return "PENDING_APPROVAL"

        outcome = run_async(_resume)
        if outcome.startswith("refused: "):
            raise fail(outcome)
        typer.echo(f"request {rid}: {outcome}")


async def _refusals(request_id: str) -> list[str]:
    """Reasons of the refused decisions on a request, newest first."""
    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork() as uow:
        entries = await uow.audit.get_by_entity("Request", request_id)
    return [str(e.details.get("reason")) for e in entries if e.details.get("decision") == "refused"]


@request_app.command("approve")
def approve(
    request_id: Annotated[str, typer.Argument(help="request id")],
    approver: Annotated[str, typer.Option(help="your username (APPROVER or ADMIN)")],
    reason: Annotated[str, typer.Option(help="note for the audit trail")] = "",
) -> None:
    """Approve a request waiting at the gate (the same call as the UI's Resume button)."""
    _decide(request_id, approved=True, approver=approver, reason=reason)


@request_app.command("reject")
def reject(
    request_id: Annotated[str, typer.Argument(help="request id")],
    approver: Annotated[str, typer.Option(help="your username (APPROVER or ADMIN)")],
    reason: Annotated[str, typer.Option(help="why (required)")],
) -> None:
    """Reject a request waiting at the gate."""
    if not reason.strip():
        raise fail("--reason must not be empty when rejecting")
    _decide(request_id, approved=False, approver=approver, reason=reason)


@request_app.command("status")
def status(request_id: Annotated[str, typer.Argument(help="request id")]) -> None:
    """Status, samples, revisions and validation runs of a request."""
    rid = parse_request_id(request_id)

    async def _status() -> list[str]:
        from storage.db.unit_of_work import UnitOfWork
        from tasks.errors import LifecycleError

        async with UnitOfWork() as uow:
            request = await uow.requests.get_full_details(uuid.UUID(rid))
            if request is None:
                raise LifecycleError(f"no request {rid}")
            lines = [
                f"request {request.id}: {request.status}",
                f"  source system: {request.source_system}"
                f" (requester {request.created_by_user.username})",
            ]
            if request.failure_reason or request.rejection_reason:
                lines.append(f"  reason: {request.failure_reason or request.rejection_reason}")
            lines += [f"  sample: {s.filename} ({s.file_size} bytes)" for s in request.log_samples]
            for revision in request.ta_revisions:
                runs = [str(r.status) for r in revision.validation_runs]
                lines.append(
                    f"  v{revision.version} {revision.generated_by} sha256 {revision.checksum} "
                    f"validation {', '.join(runs) or '-'}"
                )
            return lines

    with lifecycle_errors():
        for line in run_async(_status):
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
