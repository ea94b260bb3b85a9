"""Request steps: create (idempotent), submit for approval, fail, complete, describe."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prefect import task

from engine.sandbox.routes import InputRoute
from storage.db.enums import AuditAction, AuditEntity, RequestStatus
from storage.db.repositories import StatusChange
from storage.db.unit_of_work import UnitOfWork
from tasks.backends import unit_of_work
from tasks.errors import LifecycleError
from tasks.runtime import RETRY_DELAYS_S, audit, correlation_id, flow_run_id, retry_transient

FINISHED = frozenset({RequestStatus.COMPLETED, RequestStatus.FAILED, RequestStatus.REJECTED})


@dataclass(frozen=True)
class RequestSummary:
    """What the approval form and the CLI show about a request."""

    request_id: str
    status: str
    requester: str
    source_system: str
    description: str
    cim_required: bool
    sourcetype: str | None
    sample_names: list[str]
    sample_preview: str
    failure_reason: str | None


def input_route(metadata: Mapping[str, Any]) -> InputRoute:
    """How a request's samples reach Splunk when its TA is checked and validated: its
    ``validation_input``, a monitored file by default."""
    return InputRoute(metadata.get("validation_input") or InputRoute.MONITOR)


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def create_request(
    *,
    requester: str,
    source_system: str,
    description: str,
    cim_required: bool,
    sourcetype: str | None = None,
    idempotency_key: str | None = None,
    validation_input: str | None = None,
) -> str:
    """NEW request, knowing the flow run that drives it; a repeated `idempotency_key` returns the
    request created the first time.

    `validation_input` is how the samples reach Splunk (tagen validate --input); VALIDATING
    uses it, monitor when unset.
    """
    if not source_system.strip():
        raise LifecycleError("source_system must not be empty")
    if validation_input is not None and validation_input not in set(InputRoute):
        known = ", ".join(InputRoute)
        raise LifecycleError(f"validation input {validation_input!r} is not one of {known}")
    metadata = {"sourcetype": sourcetype} if sourcetype else {}
    if validation_input is not None:
        metadata["validation_input"] = validation_input
    async with unit_of_work() as uow:
        user = await uow.users.get_by_username(requester)
        if user is None or not user.is_active:
            raise LifecycleError(f"requester {requester!r} is not an active user")
        request, created = await uow.requests.create_idempotent(
            {
                "created_by": user.id,
                "source_system": source_system.strip(),
                "description": description,
                "cim_required": cim_required,
                "idempotency_key": idempotency_key or None,
                "flow_run_id": flow_run_id(),
                "extra_metadata": metadata,
            }
        )
        if created:
            await audit(
                uow,
                action=AuditAction.CREATE,
                entity=AuditEntity.REQUEST,
                entity_id=request.id,
                user_id=user.id,
                details={"source_system": request.source_system, "status": "NEW"},
            )
        await uow.commit()
        return str(request.id)


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def adopt_request(request_id: str) -> None:
    """This flow run drives an existing request from now on (requests.flow_run_id)."""
    run_id = flow_run_id()
    async with unit_of_work() as uow:
        request = await uow.requests.get(uuid.UUID(request_id))
        if run_id is None or request.flow_run_id == run_id:
            return
        await uow.requests.update(request.id, {"flow_run_id": run_id})
        await audit(
            uow,
            action=AuditAction.UPDATE,
            entity=AuditEntity.REQUEST,
            entity_id=request.id,
            details={"flow_run_id": str(run_id), "previous": str(request.flow_run_id)},
        )
        await uow.commit()


async def move_request(
    uow: UnitOfWork,
    request_id: str,
    target: RequestStatus,
    *,
    reason: str | None = None,
    user_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> bool:
    """The request's audited move (RequestRepository.move) in this flow run's name; False, with
    nothing written, when it is already there."""
    change = StatusChange(
        target,
        reason=reason,
        user_id=user_id,
        correlation_id=correlation_id(),
        details=details or {},
    )
    return await uow.requests.move(uuid.UUID(request_id), change) is not None


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def submit_for_approval(request_id: str) -> None:
    async with unit_of_work() as uow:
        request = await uow.requests.get(uuid.UUID(request_id))
        if request.status is RequestStatus.NEW:
            await move_request(uow, request_id, RequestStatus.PENDING_APPROVAL)
            await uow.commit()


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def fail_request(request_id: str, reason: str) -> None:
    """FAILED with `reason` (a request already finished is left as it is)."""
    async with unit_of_work() as uow:
        request = await uow.requests.get(uuid.UUID(request_id))
        if request.status in FINISHED:
            return
        await move_request(uow, request_id, RequestStatus.FAILED, reason=reason)
        await uow.commit()


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def complete_request(request_id: str) -> None:
    async with unit_of_work() as uow:
        if await move_request(uow, request_id, RequestStatus.COMPLETED):
            await uow.commit()


async def describe_request(request_id: str) -> RequestSummary:
    """Read-only summary (not a task: it writes nothing and is cheap)."""
    async with unit_of_work() as uow:
        request = await uow.requests.get_full_details(uuid.UUID(request_id))
        if request is None:
            raise LifecycleError(f"no request {request_id}")
        samples = [s for s in request.log_samples if s.deleted_at is None]
        preview = samples[0].sample_preview if samples and samples[0].sample_preview else ""
        return RequestSummary(
            request_id=str(request.id),
            status=str(request.status),
            requester=request.created_by_user.username,
            source_system=request.source_system,
            description=request.description or "",
            cim_required=request.cim_required,
            sourcetype=request.extra_metadata.get("sourcetype"),
            sample_names=[s.filename for s in samples],
            sample_preview=preview,
            failure_reason=request.failure_reason or request.rejection_reason,
        )
