"""The approval gate's typed input, the approval policy and the recording of a decision.

The pause/suspend itself happens in the flow (Prefect allows it only there); this module says
what the Resume form asks, who may decide (`refusal`: the one place of that policy; the
repository only records decisions) and turns a submitted decision into APPROVED, REJECTED, or
a refusal (unknown or inactive approver, missing role, the requester deciding their own
request, a rejection without a reason) that is audited while the gate waits again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from prefect import task
from prefect.input import RunInput
from pydantic import Field

from storage.db.enums import AuditAction, AuditEntity, RequestStatus, UserRoleEnum
from storage.db.models import Request, User
from storage.db.unit_of_work import UnitOfWork
from tasks.backends import unit_of_work
from tasks.request import RequestSummary, move_request
from tasks.runtime import (
    APPROVAL_TIMEOUT_SECONDS,
    RETRY_DELAYS_S,
    audit,
    config_int,
    retry_transient,
)

PREVIEW_LINES = 8
APPROVER_ROLES = frozenset({UserRoleEnum.APPROVER, UserRoleEnum.ADMIN})


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


async def refusal(
    uow: UnitOfWork,
    request: Request,
    approver: User | None,
    *,
    username: str,
    approved: bool,
    reason: str,
) -> str | None:
    """Why `approver` may not make this decision (None: they may). The approval policy: an
    active user other than the requester, holding the APPROVER or ADMIN role (or a superuser);
    a rejection says why."""
    if approver is None:
        return f"unknown approver {username!r}"
    if not approver.is_active:
        return f"user {username!r} is inactive and cannot decide requests"
    if approver.id == request.created_by:
        return f"user {username!r} cannot decide their own request"
    if not approver.is_superuser and not (
        await uow.users.get_role_names(approver.id) & APPROVER_ROLES
    ):
        return f"user {username!r} needs the APPROVER or ADMIN role to decide requests"
    if not approved and not reason.strip():
        return "a rejection needs a reason"
    return None


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def record_decision(
    request_id: str, approved: bool, approver: str, reason: str
) -> DecisionOutcome:
    """Apply a decision, or refuse it (audited) when the approver may not decide."""
    rid = uuid.UUID(request_id)
    async with unit_of_work() as uow:
        request = await uow.requests.get(rid)
        if request.status is RequestStatus.APPROVED and approved:
            return DecisionOutcome("APPROVED", "already approved")
        if request.status is RequestStatus.REJECTED and not approved:
            return DecisionOutcome("REJECTED", request.rejection_reason or "")
        user = await uow.users.get_by_username(approver)
        refused = await refusal(
            uow, request, user, username=approver, approved=approved, reason=reason
        )
        if refused is not None or user is None:
            await audit(
                uow,
                action=AuditAction.UPDATE,
                entity=AuditEntity.REQUEST,
                entity_id=rid,
                user_id=user.id if user is not None else None,
                details={
                    "decision": "refused",
                    "approver": approver,
                    "approved": approved,
                    "reason": refused,
                },
            )
            await uow.commit()
            return DecisionOutcome("REFUSED", refused or "")
        target = RequestStatus.APPROVED if approved else RequestStatus.REJECTED
        await move_request(
            uow,
            request_id,
            target,
            reason=reason.strip() or None,
            user_id=user.id,
            details={"approver": approver},
        )
        await uow.commit()
        status: Literal["APPROVED", "REJECTED"] = "APPROVED" if approved else "REJECTED"
        return DecisionOutcome(status, reason)


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def expire_stale_approvals() -> list[str]:
    """FAIL requests waiting for approval longer than APPROVAL_TIMEOUT_SECONDS.

    A suspended run (from a deployment) holds no process that could notice its own timeout;
    this sweep, run with retention, ends such requests with a clear reason.
    """
    async with unit_of_work() as uow:
        timeout = await config_int(uow, APPROVAL_TIMEOUT_SECONDS)
        cutoff = datetime.now(UTC) - timedelta(seconds=timeout)
        pending = await uow.requests.get_pending_approval(0, 1000)
        expired = [str(r.id) for r in pending if r.updated_at < cutoff]
        for request_id in expired:
            reason = f"approval timed out after {timeout} s"
            await move_request(uow, request_id, RequestStatus.FAILED, reason=reason)
        await uow.commit()
        return expired
