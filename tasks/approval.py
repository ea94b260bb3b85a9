"""The approval gate's typed input and the recording of a decision.

The pause/suspend itself happens in the flow (Prefect allows it only there); this module says
what the Resume form asks and turns a submitted decision into APPROVED, REJECTED, or a refusal
(unknown or inactive approver, missing role, the requester deciding their own request, a
rejection without a reason) that is audited while the gate waits again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from prefect import task
from prefect.input import RunInput
from pydantic import Field

from storage.db.enums import AuditAction, RequestStatus
from storage.db.errors import InvalidValueError, NotFoundError, RoleError
from storage.db.unit_of_work import UnitOfWork
from tasks.request import RequestSummary
from tasks.runtime import (
    APPROVAL_TIMEOUT_SECONDS,
    RETRY_DELAYS_S,
    audit,
    config_int,
    retry_transient,
)

PREVIEW_LINES = 8


class ApprovalDecision(RunInput):
    """The Resume form: who decides, and what."""

    approved: bool = Field(description="Approve (true) or reject (false) the request")
    approver: str = Field(min_length=1, max_length=100, description="Your tagen username")
    reason: str = Field(default="", max_length=2000, description="Required when rejecting")


@dataclass(frozen=True)
class DecisionOutcome:
    status: Literal["APPROVED", "REJECTED", "REFUSED"]
    message: str


def approval_description(summary: RequestSummary, *, refusal: str | None = None) -> str:
    """Markdown shown above the Resume form."""
    preview = "\n".join(summary.sample_preview.splitlines()[:PREVIEW_LINES])
    lines = [
        f"## Approve TA request `{summary.request_id}`",
        "",
        f"- **Requester:** {summary.requester}",
        f"- **Source system:** {summary.source_system}",
        f"- **CIM required:** {'yes' if summary.cim_required else 'no'}",
        f"- **Samples:** {', '.join(summary.sample_names) or '-'}",
        "",
        summary.description or "_no description_",
        "",
        "Sample preview:",
        "",
        "```",
        preview,
        "```",
        "",
        "Approvers need the APPROVER or ADMIN role and cannot approve their own request.",
    ]
    if refusal:
        lines[1:1] = ["", f"> **Previous decision refused:** {refusal}"]
    return "\n".join(lines)


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def record_decision(
    request_id: str, approved: bool, approver: str, reason: str
) -> DecisionOutcome:
    """Apply a decision, or refuse it (audited) when the approver may not decide."""
    rid = uuid.UUID(request_id)
    async with UnitOfWork() as uow:
        request = await uow.requests.get(rid)
        if request.status is RequestStatus.APPROVED and approved:
            return DecisionOutcome("APPROVED", "already approved")
        if request.status is RequestStatus.REJECTED and not approved:
            return DecisionOutcome("REJECTED", request.rejection_reason or "")
        user = await uow.users.get_by_username(approver)
        user_id = user.id if user is not None else None
        try:
            if user is None:
                raise NotFoundError("User", approver)
            await uow.requests.decide(rid, user.id, approved=approved, reason=reason)
        except (RoleError, NotFoundError, InvalidValueError) as exc:
            await uow.rollback()
            message = (
                f"unknown approver {approver!r}" if isinstance(exc, NotFoundError) else str(exc)
            )
            await audit(
                uow,
                action=AuditAction.UPDATE,
                entity_type="Request",
                entity_id=rid,
                user_id=user_id,
                details={
                    "decision": "refused",
                    "approver": approver,
                    "approved": approved,
                    "reason": message,
                },
            )
            await uow.commit()
            return DecisionOutcome("REFUSED", message)
        status: Literal["APPROVED", "REJECTED"] = "APPROVED" if approved else "REJECTED"
        await audit(
            uow,
            action=AuditAction.APPROVE if approved else AuditAction.REJECT,
            entity_type="Request",
            entity_id=rid,
            user_id=user.id,
            details={"approver": approver, "reason": reason},
        )
        await uow.commit()
        return DecisionOutcome(status, reason)


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def expire_stale_approvals() -> list[str]:
    """FAIL requests waiting for approval longer than APPROVAL_TIMEOUT_SECONDS.

    A suspended run (from a deployment) holds no process that could notice its own timeout;
    this sweep, run with retention, ends such requests with a clear reason.
    """
    async with UnitOfWork() as uow:
        timeout = await config_int(uow, APPROVAL_TIMEOUT_SECONDS)
        cutoff = datetime.now(UTC) - timedelta(seconds=timeout)
        pending = await uow.requests.get_pending_approval(0, 1000)
        expired = [r.id for r in pending if r.updated_at < cutoff]
        for request_id in expired:
            reason = f"approval timed out after {timeout} s"
            await uow.requests.transition_status(request_id, RequestStatus.FAILED, reason=reason)
            await audit(
                uow,
                action=AuditAction.UPDATE,
                entity_type="Request",
                entity_id=request_id,
                details={"from": "PENDING_APPROVAL", "to": "FAILED", "reason": reason},
            )
        await uow.commit()
        return [str(r) for r in expired]
