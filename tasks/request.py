"""Request steps: create (idempotent), submit for approval, fail, complete, describe."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from prefect import task

from engine.sandbox.routes import InputRoute
from storage.db.enums import AuditAction, RequestStatus
from storage.db.unit_of_work import UnitOfWork
from tasks.errors import LifecycleError
from tasks.runtime import RETRY_DELAYS_S, audit, retry_transient

ENTITY = "Request"


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
    """NEW request; a repeated `idempotency_key` returns the request created the first time.

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
    async with UnitOfWork() as uow:
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
                "extra_metadata": metadata,
            }
        )
        if created:
            await audit(
                uow,
                action=AuditAction.CREATE,
                entity_type=ENTITY,
                entity_id=request.id,
                user_id=user.id,
                details={"source_system": request.source_system, "status": "NEW"},
            )
        await uow.commit()
        return str(request.id)


async def move_request(
    uow: UnitOfWork, request_id: str, target: RequestStatus, details: dict[str, Any]
) -> bool:
    """Transition and audit; False (nothing written) when the request is already there."""
    request = await uow.requests.get(uuid.UUID(request_id))
    previous = request.status
    if previous is target:
        return False
    reason = details.get("reason")
    await uow.requests.transition_status(request.id, target, reason=reason)
    await audit(
        uow,
        action=AuditAction.UPDATE,
        entity_type=ENTITY,
        entity_id=request.id,
        details={"from": str(previous), "to": str(target), **details},
    )
    return True


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def submit_for_approval(request_id: str) -> None:
    async with UnitOfWork() as uow:
        request = await uow.requests.get(uuid.UUID(request_id))
        if request.status is RequestStatus.NEW:
            await move_request(uow, request_id, RequestStatus.PENDING_APPROVAL, {})
            await uow.commit()


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def fail_request(request_id: str, reason: str) -> None:
    """FAILED with `reason` (a request already finished is left as it is)."""
    async with UnitOfWork() as uow:
        request = await uow.requests.get(uuid.UUID(request_id))
        if request.status in (
            RequestStatus.FAILED,
            RequestStatus.COMPLETED,
            RequestStatus.REJECTED,
        ):
            return
        await move_request(uow, request_id, RequestStatus.FAILED, {"reason": reason})
        await uow.commit()


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def complete_request(request_id: str) -> None:
    async with UnitOfWork() as uow:
        if await move_request(uow, request_id, RequestStatus.COMPLETED, {}):
            await uow.commit()


async def describe_request(request_id: str) -> RequestSummary:
    """Read-only summary (not a task: it writes nothing and is cheap)."""
    async with UnitOfWork() as uow:
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
