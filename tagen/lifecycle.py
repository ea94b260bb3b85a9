"""The request lifecycle as its callers drive it: submit, decide, wait, summarize.

The CLI (`tagen request ...`), the demo and the tests start a lifecycle run, resume it at the
approval gate and read how it ended through these functions, and nowhere else. A request knows
the flow run that drives it (`requests.flow_run_id`), so the run is read from the request, never
looked for in the audit trail.

Callers provide the backends first (`tagen.wiring.install()`): the summary reads the object
store, and the tasks' read models come through it.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from engine.sandbox.routes import InputRoute
from storage.db.enums import AuditEntity, RequestStatus
from storage.db.models import Request
from tagen.stack import REQUEST_DEPLOYMENT
from tasks.backends import get_backends, unit_of_work
from tasks.errors import LifecycleError
from tasks.generation_session import describe_session
from tasks.log_sample import SampleSpec
from tasks.validation_run import ValidationOutcome

DEPLOYMENT_WAIT_S = 60.0
POLL_S = 0.3
FORM_WAIT_S = 60.0
"""How long a run that has just paused may take to publish its form: Prefect sets the PAUSED
state first and stores the run input schema after it, and a decision sent in between is
rejected ('Run input schema not found')."""
FINISHED_RUNS = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})
FINISHED_REQUESTS = frozenset(
    {RequestStatus.COMPLETED, RequestStatus.FAILED, RequestStatus.REJECTED}
)


class LifecycleTimeoutError(TimeoutError):
    """A flow run did not reach the state waited for in time (the message says which)."""


@dataclass(frozen=True)
class Submission:
    flow_run_id: uuid.UUID
    request_id: str | None
    """None: the run had not created its request when the wait ended."""


@dataclass(frozen=True)
class Decision:
    status: str
    """The request's status once the decision was taken (PENDING_APPROVAL: not taken yet)."""
    refusal: str | None = None
    """Why the approval step refused the decision (the gate waits for another)."""


def parameters(
    *,
    requester: str,
    source_system: str,
    samples: Sequence[SampleSpec],
    description: str = "",
    cim_required: bool = True,
    sourcetype: str | None = None,
    idempotency_key: str | None = None,
    validation_input: InputRoute | None = None,
) -> dict[str, Any]:
    """The request-lifecycle flow's parameters. Local paths are made absolute (the run works in
    another directory); without a key, a new one, so the request can be found by it."""
    return {
        "requester": requester,
        "source_system": source_system,
        "description": description,
        "cim_required": cim_required,
        "samples": [_absolute(spec).model_dump() for spec in samples],
        "sourcetype": sourcetype,
        "idempotency_key": idempotency_key or f"tagen-{uuid.uuid4()}",
        "validation_input": None if validation_input is None else str(validation_input),
    }


def _absolute(spec: SampleSpec) -> SampleSpec:
    if spec.kind != "path":
        return spec
    return SampleSpec(kind="path", value=str(Path(spec.value).expanduser().absolute()))


async def submit(
    flow_parameters: dict[str, Any],
    *,
    deployment: str = REQUEST_DEPLOYMENT,
    timeout: float = DEPLOYMENT_WAIT_S,
) -> Submission:
    """Start a lifecycle run of `deployment` and wait (up to `timeout`) for its request."""
    from prefect.deployments.flow_runs import arun_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        flow_run = await arun_deployment(deployment, parameters=flow_parameters, timeout=0)
    except ObjectNotFound:
        raise LifecycleError(
            f"no deployment {deployment!r} on the Prefect server (is `tagen up` serving it?)"
        ) from None
    found = await find_request(flow_parameters["idempotency_key"], timeout=timeout)
    return found or Submission(flow_run.id, None)


async def find_request(
    idempotency_key: str, *, timeout: float, running: Callable[[], bool] = lambda: True
) -> Submission | None:
    """The request created for `idempotency_key` and the run driving it; None when it does not
    exist within `timeout` or once `running()` says the run is over."""
    deadline = time.monotonic() + timeout
    while True:
        async with unit_of_work() as uow:
            found = await uow.requests.get_all(0, 1, filters={"idempotency_key": idempotency_key})
        if found and found[0].flow_run_id is not None:
            return Submission(found[0].flow_run_id, str(found[0].id))
        if time.monotonic() >= deadline or not running():
            return None
        await asyncio.sleep(POLL_S)


async def wait(
    flow_run_id: uuid.UUID,
    *,
    until: Collection[str] = (),
    pause_key: str | None = None,
    timeout: float,
) -> str:
    """The run's state type once it is one of `until` (PAUSED at `pause_key`, when given) or
    finished; LifecycleTimeoutError after `timeout` seconds."""
    from prefect import get_client

    deadline = time.monotonic() + timeout
    async with get_client() as client:
        while time.monotonic() < deadline:
            flow_run = await client.read_flow_run(flow_run_id)
            state = flow_run.state
            kind = state.type.value if state else "PENDING"
            key_ok = pause_key is None or (state and state.state_details.pause_key == pause_key)
            if (kind in until and key_ok) or kind in FINISHED_RUNS:
                return kind
            await asyncio.sleep(POLL_S)
    wanted = f"{sorted(until)}" + (f" at {pause_key}" if pause_key else "")
    raise LifecycleTimeoutError(f"flow run {flow_run_id} did not reach {wanted} in {timeout:.0f} s")


async def decide(
    request_id: str,
    *,
    approved: bool,
    approver: str,
    password: SecretStr,
    reason: str,
    timeout: float = DEPLOYMENT_WAIT_S,
) -> Decision:
    """Resume the request's run at its approval gate with a decision and the approver's
    password (what the UI's Resume button sends) and wait until the approval step took it or
    refused it (the run erases the password from its stored input as soon as it reads it)."""
    from prefect.exceptions import FlowPauseTimeout
    from prefect.flow_runs import NotPausedError

    request = await _request(request_id)
    if request.flow_run_id is None:
        raise LifecycleError(f"request {request_id} has no lifecycle flow run")
    refusals_before = len(await _refusals(request_id))
    try:
        await resume_with_input(
            request.flow_run_id,
            {
                "approved": approved,
                "approver": approver,
                "credential": password.get_secret_value(),
                "reason": reason,
            },
        )
    except (NotPausedError, FlowPauseTimeout) as exc:
        raise LifecycleError(f"request {request_id} is not waiting for approval ({exc})") from None
    except RuntimeError as exc:
        raise LifecycleError(f"decision refused by the form: {exc}") from None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = await status(request_id)
        if current != RequestStatus.PENDING_APPROVAL:
            return Decision(current)
        refusals = await _refusals(request_id)
        if len(refusals) > refusals_before:
            return Decision(current, refusals[0])
        await asyncio.sleep(POLL_S)
    return Decision(str(RequestStatus.PENDING_APPROVAL))


async def resume_with_input(
    flow_run_id: uuid.UUID, run_input: dict[str, Any], *, form_wait: float = FORM_WAIT_S
) -> None:
    """Resume a paused run with `run_input`, waiting up to `form_wait` seconds for a run that
    has paused but not yet stored its form (see FORM_WAIT_S); any other refusal is raised."""
    from prefect.flow_runs import aresume_flow_run

    deadline = time.monotonic() + form_wait
    while True:
        try:
            await aresume_flow_run(flow_run_id, run_input=run_input)
            return
        except RuntimeError as exc:
            if "schema not found" not in str(exc) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(POLL_S)


async def resume_parameters(request_id: str) -> dict[str, Any]:
    """The parameters of a run that continues an unfinished request: those of the run that
    drove it (its samples, its validation input), and the request to adopt."""
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    request = await _request(request_id)
    if request.status in FINISHED_REQUESTS:
        raise LifecycleError(f"request {request_id} is {request.status}: nothing to resume")
    if request.flow_run_id is None:
        raise LifecycleError(f"request {request_id} has no lifecycle flow run to resume")
    async with get_client() as client:
        try:
            flow_run = await client.read_flow_run(request.flow_run_id)
        except ObjectNotFound:
            raise LifecycleError(
                f"the flow run {request.flow_run_id} of request {request_id} is not on this "
                "Prefect server"
            ) from None
    return {**flow_run.parameters, "request_id": request_id}


async def resume(
    request_id: str,
    *,
    force: bool = False,
    deployment: str = REQUEST_DEPLOYMENT,
    timeout: float = DEPLOYMENT_WAIT_S,
) -> Submission:
    """Continue an unfinished request whose run died (CRASHED, FAILED, CANCELLED): a new run
    of the same parameters adopts it, removes the objects the dead run left without a row and
    goes on from the request's status. A run still live is refused unless `force` (its process
    is known to be gone: killed before Prefect heard of it)."""
    from prefect.deployments.flow_runs import arun_deployment

    request = await _request(request_id)
    if request.flow_run_id is not None and not force:
        state = await _run_state(request.flow_run_id)
        if state not in FINISHED_RUNS | {"MISSING"}:
            raise LifecycleError(
                f"request {request_id} is {request.status} and its flow run "
                f"{request.flow_run_id} is {state}: resume only a run that died (or give "
                "--force when its process is known to be gone)"
            )
    flow_parameters = await resume_parameters(request_id)
    flow_run = await arun_deployment(deployment, parameters=flow_parameters, timeout=0)
    deadline = time.monotonic() + timeout
    while (await _request(request_id)).flow_run_id != flow_run.id:
        if time.monotonic() >= deadline:
            return Submission(flow_run.id, None)
        await asyncio.sleep(POLL_S)
    return Submission(flow_run.id, request_id)


async def _run_state(flow_run_id: uuid.UUID) -> str:
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    async with get_client() as client:
        try:
            flow_run = await client.read_flow_run(flow_run_id)
        except ObjectNotFound:
            return "MISSING"
    return flow_run.state.type.value if flow_run.state else "PENDING"


async def status(request_id: str) -> str:
    """The request's status now."""
    return str((await _request(request_id)).status)


async def upload(request_id: str, archive: Path, *, uploaded_by: str) -> dict[str, object]:
    """Add a human-made TA as the request's next (MANUAL) revision and validate it like a
    generated one, in this process (the manual-revision flow): revision_id, passed, reasons."""
    from flows.request_lifecycle import manual_revision

    return await manual_revision(request_id, str(archive.absolute()), uploaded_by)


async def summarize(request_id: str, *, verify: bool = False) -> list[str]:
    """What became of a request, as lines: status, samples, revisions and their validations,
    where the TA is, and its run's audit trail. `verify` re-reads the latest package to check
    its stored checksum."""
    objects = get_backends().objects
    async with unit_of_work() as uow:
        request = await uow.requests.get_full_details(_uuid(request_id))
        if request is None:
            raise LifecycleError(f"no request {request_id}")
        trail = (
            await uow.audit.get_by_correlation_id(request.flow_run_id)
            if request.flow_run_id
            else []
        )
        sessions = {
            session.ta_revision_id: session
            for session in await uow.generation_sessions.get_for_request(request.id)
        }
    lines = [
        f"request {request.id}: {request.status}",
        f"  source system: {request.source_system} (requester {request.created_by_user.username})",
    ]
    if request.failure_reason or request.rejection_reason:
        lines.append(f"  reason: {request.failure_reason or request.rejection_reason}")
    lines += [f"  sample: {s.filename} ({s.file_size} bytes)" for s in request.log_samples]
    for revision in request.ta_revisions:
        lines.append(f"  v{revision.version} {revision.generated_by} sha256 {revision.checksum}")
        if revision.id in sessions:
            lines.append(f"    planner: {describe_session(sessions[revision.id])}")
        for run in revision.validation_runs:
            lines.append(f"    validation {run.status}: {_verdict(ValidationOutcome.stored(run))}")
            if run.debug_bundle_key:
                lines.append(f"    bundle: {objects.url(run.debug_bundle_key)}")
    latest = request.ta_revisions[-1] if request.ta_revisions else None
    if latest is not None and latest.storage_key:
        lines.append(f"  TA: {objects.url(latest.storage_key)}")
        if verify:
            actual = await asyncio.to_thread(_sha256, latest.storage_key)
            same = "matches" if actual == latest.checksum else "DOES NOT MATCH"
            lines.append(f"  checksum: the stored object {same} sha256 {latest.checksum}")
    if trail:
        steps = sorted({f"{a.entity_type}.{a.action}" for a in trail})
        lines.append(f"  flow run {request.flow_run_id}: {len(trail)} audit entries")
        lines.append(f"    {', '.join(steps)}")
    return lines


def _verdict(outcome: ValidationOutcome) -> str:
    report = outcome.report
    if report is None:
        return "; ".join(outcome.reasons)
    text = f"{report.events} events, fields in {report.field_event_ratio:.0%} of them"
    return text if outcome.passed else f"{text}; {'; '.join(outcome.reasons)}"


def _sha256(key: str) -> str:
    digest = hashlib.sha256()
    with get_backends().objects.open(key) as stored:
        while chunk := stored.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _uuid(request_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(request_id)
    except ValueError:
        raise LifecycleError(f"request id {request_id!r} is not a UUID") from None


async def _request(request_id: str) -> Request:
    async with unit_of_work() as uow:
        return await uow.requests.get(_uuid(request_id))


async def _refusals(request_id: str) -> list[str]:
    """Reasons of the refused decisions on a request, newest first."""
    async with unit_of_work() as uow:
        entries = await uow.audit.get_by_entity(AuditEntity.REQUEST, request_id)
    return [str(e.details.get("reason")) for e in entries if e.details.get("decision") == "refused"]
