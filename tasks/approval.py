"""The approval gate's typed input, its authentication, the approval policy and the recording of
a decision.

The pause/suspend itself happens in the flow (Prefect allows it only there); this module says
what the Resume form asks, proves who decides (the approver's password, checked against
`users.hashed_password`; failed attempts are audited and, past APPROVAL_MAX_FAILED_LOGINS within
APPROVAL_LOCKOUT_SECONDS, refuse the approver until the window has passed), who may decide
(`refusal`: the one place of that policy; the repository only records decisions) and turns a
submitted decision into APPROVED, REJECTED, or a refusal that is audited while the gate waits
again.

The password arrives as Prefect run input, which the Prefect server stores: `erase_credential`
overwrites the stored input without it as soon as the flow has read it, and the password never
enters a task's cache key, a log, an artifact or an audit entry.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from prefect import get_client, task
from prefect.cache_policies import DEFAULT
from prefect.input import RunInput
from pydantic import Field, SecretStr

from storage.db.enums import AuditAction, AuditEntity, RequestStatus, UserRoleEnum
from storage.db.models import Request, User
from storage.db.passwords import verify_password
from storage.db.unit_of_work import UnitOfWork
from tasks.backends import unit_of_work
from tasks.request import RequestSummary, move_request
from tasks.runtime import (
    APPROVAL_LOCKOUT_SECONDS,
    APPROVAL_MAX_FAILED_LOGINS,
    APPROVAL_TIMEOUT_SECONDS,
    RETRY_DELAYS_S,
    audit,
    config_int,
    retry_transient,
)

PREVIEW_LINES = 8
APPROVER_ROLES = frozenset({UserRoleEnum.APPROVER, UserRoleEnum.ADMIN})


class ApprovalDecision(RunInput):
    """The Resume form: who decides, proven by their password, and what."""

    approved: bool = Field(description="Approve (true) or reject (false) the request")
    approver: str = Field(min_length=1, max_length=100, description="Your tagen username")
    credential: SecretStr = Field(
        description="Your tagen password (checked, then erased from the run's stored input)"
    )
    reason: str = Field(default="", max_length=2000, description="Required when rejecting")


async def erase_credential(decision: ApprovalDecision) -> None:
    """Replace the decision the Prefect server stored as the run's input by the same decision
    without its credential (the server keeps a resumed run's input for good). A suspended run
    that is resumed reads the erased input again: its decision comes from record_decision's
    cached result, or is refused, never taken on an empty password."""
    if not decision.credential.get_secret_value():
        return
    key, flow_run_id = decision.metadata.key, decision.metadata.receiver
    assert key is not None and flow_run_id is not None  # set by RunInput.load
    erased = {**decision.model_dump(mode="json", exclude={"credential"}), "credential": ""}
    async with get_client() as client:
        await client.delete_flow_run_input(flow_run_id, key)
        await client.create_flow_run_input(flow_run_id, key, json.dumps(erased))


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
        "Approvers need the APPROVER or ADMIN role and cannot approve their own request;",
        "`credential` is your tagen password (repeated failures lock the approver out).",
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


async def lockout(uow: UnitOfWork, username: str) -> str | None:
    """Why `username` may not decide now (None: they may try): APPROVAL_MAX_FAILED_LOGINS failed
    authentications within the last APPROVAL_LOCKOUT_SECONDS, counted from the audit log by the
    database's clock (0: no limit)."""
    limit = await config_int(uow, APPROVAL_MAX_FAILED_LOGINS)
    seconds = await config_int(uow, APPROVAL_LOCKOUT_SECONDS)
    if limit <= 0:
        return None
    window = timedelta(seconds=seconds)
    failures = await uow.audit.get_recent_matching(
        {"approver": username, "authentication": "failed"}, within=window, limit=limit
    )
    if len(failures) < limit:
        return None
    until = (failures[-1] + window).astimezone(UTC)
    return (
        f"too many failed authentications for approver {username!r} ({limit} within {seconds} s):"
        f" their decisions are refused until {until:%Y-%m-%d %H:%M:%S} UTC"
    )


def authenticated(user: User | None, credential: SecretStr) -> bool:
    """Whether `credential` is `user`'s password (a user without one never is)."""
    hashed = user.hashed_password if user is not None else None
    return verify_password(hashed, credential.get_secret_value())


@task(
    retries=3,
    retry_delay_seconds=RETRY_DELAYS_S,
    retry_condition_fn=retry_transient,
    cache_policy=DEFAULT - "credential",
)
async def record_decision(
    request_id: str,
    gate: str,
    approved: bool,
    approver: str,
    reason: str,
    credential: SecretStr,
) -> DecisionOutcome:
    """Apply a decision, or refuse it (audited) when the approver is locked out, fails to
    authenticate or may not decide. `gate` is the pause key of the decision's round, so that
    each round gets its own cached result (the credential is kept out of the cache key)."""
    rid = uuid.UUID(request_id)
    async with unit_of_work() as uow:
        request = await uow.requests.get(rid)
        if request.status is RequestStatus.APPROVED and approved:
            return DecisionOutcome("APPROVED", "already approved")
        if request.status is RequestStatus.REJECTED and not approved:
            return DecisionOutcome("REJECTED", request.rejection_reason or "")
        user = await uow.users.get_by_username(approver)
        refused, authentication = await lockout(uow, approver), "locked"
        if refused is None and not authenticated(user, credential):
            refused, authentication = (
                (
                    f"authentication failed for approver {approver!r}: wrong password, or no "
                    "password is set for that user (`tagen users password`)"
                ),
                "failed",
            )
        if refused is None:
            authentication = "verified"
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
                    "authentication": authentication,
                    "gate": gate,
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
            details={"approver": approver, "authentication": authentication, "gate": gate},
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
