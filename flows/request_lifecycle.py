"""The request lifecycle: samples in, approval gate, generation, validation, repair, outcome.

Every step is a task in `tasks/` (one unit of work, one audit entry, ids in and out). The
approval gate suspends the run when it comes from a deployment (no process is held while a
human decides; earlier tasks come back from persisted results when it resumes) and pauses
in-process otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from prefect import flow, get_run_logger
from prefect.context import FlowRunContext
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import apause_flow_run, asuspend_flow_run

from tasks.approval import (
    ApprovalDecision,
    DecisionOutcome,
    approval_description,
    erase_credential,
    record_decision,
)
from tasks.artifacts import publish_report
from tasks.errors import LifecycleError
from tasks.generation import generate_revision, retrieve_knowledge, start_generation
from tasks.log_sample import SampleArgument, ingest_samples
from tasks.recovery import remove_orphan_objects
from tasks.request import (
    adopt_request,
    complete_request,
    create_request,
    describe_request,
    fail_request,
    submit_for_approval,
)
from tasks.runtime import APPROVAL_TIMEOUT_SECONDS, REPAIR_ATTEMPTS, read_config_int
from tasks.ta_revision import register_manual_revision
from tasks.validation_run import (
    ValidationOutcome,
    acquire_validation_slot,
    queue_validation,
    run_validation,
    verdicts,
)

POLL_INTERVAL_S = 1
MAX_DECISIONS = 20
"""Refused decisions after which the gate gives up (each one is audited)."""


@dataclass(frozen=True)
class LifecycleResult:
    request_id: str
    status: str
    revision_id: str | None = None
    reason: str | None = None


async def _wait_for_decision(
    request_id: str, *, key: str, refusal: str | None, timeout: int
) -> ApprovalDecision:
    """Suspend (from a deployment) or pause until the Resume form is submitted; the credential
    it carries is erased from the Prefect server before anything else happens."""
    summary = await describe_request(request_id)
    form = ApprovalDecision.with_initial_data(
        description=approval_description(summary, refusal=refusal), approved=True
    )
    context = FlowRunContext.get()
    if context is not None and context.flow_run is not None and context.flow_run.deployment_id:
        decision = await asuspend_flow_run(wait_for_input=form, timeout=timeout, key=key)
    else:
        decision = await apause_flow_run(
            wait_for_input=form, timeout=timeout, poll_interval=POLL_INTERVAL_S, key=key
        )
    await erase_credential(decision)
    return decision


async def approval_gate(request_id: str) -> DecisionOutcome:
    """Wait for a decision; refused decisions are audited and the gate waits again."""
    timeout = await read_config_int(APPROVAL_TIMEOUT_SECONDS)
    refusal: str | None = None
    for round_ in range(1, MAX_DECISIONS + 1):
        key = f"approval-{round_}"
        try:
            decision = await _wait_for_decision(
                request_id, key=key, refusal=refusal, timeout=timeout
            )
        except FlowPauseTimeout:
            return DecisionOutcome("REFUSED", f"approval timed out after {timeout} s")
        outcome = await record_decision(
            request_id,
            key,
            decision.approved,
            decision.approver,
            decision.reason,
            decision.credential,
        )
        if outcome.status != "REFUSED":
            return outcome
        refusal = outcome.message
        get_run_logger().warning("decision refused: %s; waiting for another", refusal)
    return DecisionOutcome("REFUSED", f"{MAX_DECISIONS} decisions were refused")


async def _finish(
    request_id: str, status: str, *, revision_id: str | None = None, reason: str | None = None
) -> LifecycleResult:
    """Publish the report artifacts and say how the run ended."""
    await publish_report(request_id)
    return LifecycleResult(request_id, status, revision_id, reason)


async def validate_revision(revision_id: str, *, advance_request: bool = True) -> ValidationOutcome:
    """Queue a validation run, wait for a slot, sandbox: three tasks, three units of work."""
    run_id = await queue_validation(revision_id, advance_request=advance_request)
    await acquire_validation_slot(run_id)
    return await run_validation(run_id)


async def generate_and_validate(request_id: str) -> LifecycleResult:
    """vN, validate, and on failure regenerate v(N+1) from the failed reports (bounded).

    A run that took the request over counts the verdicts it already has: a passed one completes
    it, failed ones are the attempts already made (their reports still feed the repair).
    """
    repairs = await read_config_int(REPAIR_ATTEMPTS)
    judged = await verdicts(request_id)
    revision_id = judged[-1].revision_id if judged else None
    if judged and judged[-1].outcome.passed:
        await complete_request(request_id)
        return await _finish(request_id, "COMPLETED", revision_id=revision_id)
    failures = [verdict.outcome for verdict in judged]
    knowledge = await retrieve_knowledge(request_id)
    for attempt in range(len(failures) + 1, repairs + 2):
        await start_generation(request_id, attempt)
        try:
            revision_id = await generate_revision(
                request_id, attempt=attempt, knowledge=knowledge, failures=failures
            )
        except LifecycleError as exc:
            await fail_request(request_id, str(exc))
            return await _finish(request_id, "FAILED", reason=str(exc))
        outcome = await validate_revision(revision_id)
        if outcome.passed:
            await complete_request(request_id)
            return await _finish(request_id, "COMPLETED", revision_id=revision_id)
        failures.append(outcome)
    last = "; ".join(failures[-1].reasons)
    reason = f"validation failed after {repairs} repair attempt(s): {last}"
    await fail_request(request_id, reason)
    return await _finish(request_id, "FAILED", revision_id=revision_id, reason=reason)


@flow(name="request-lifecycle", log_prints=True)
async def request_lifecycle(
    requester: str = "",
    source_system: str = "",
    description: str = "",
    cim_required: bool = True,
    samples: list[SampleArgument] | None = None,
    sourcetype: str | None = None,
    idempotency_key: str | None = None,
    request_id: str | None = None,
    validation_input: str | None = None,
) -> dict[str, str | None]:
    """From log samples to a validated TA. `samples`: each a path, a URI (file://, s3://) or
    pasted text (a plain string is a path, or a URI when it has a scheme).

    Give `request_id` instead of the request fields to continue an existing request (this run
    then drives it: its approval gate is resumed here, and what a dead run left half-done is
    cleaned or continued: `tagen request resume`). `validation_input` is how the samples
    reach Splunk for validation (monitor when unset).
    """
    if request_id is None:
        request_id = await create_request(
            requester=requester,
            source_system=source_system,
            description=description,
            cim_required=cim_required,
            sourcetype=sourcetype,
            idempotency_key=idempotency_key,
            validation_input=validation_input,
        )
    else:
        await adopt_request(request_id)
        await remove_orphan_objects(request_id)
    summary = await describe_request(request_id)
    if summary.status in ("COMPLETED", "FAILED", "REJECTED"):
        return asdict(LifecycleResult(request_id, summary.status, reason=summary.failure_reason))
    if summary.status == "NEW":
        try:
            await ingest_samples(request_id, list(samples or []))
        except LifecycleError as exc:
            await fail_request(request_id, str(exc))
            return asdict(await _finish(request_id, "FAILED", reason=str(exc)))
        await submit_for_approval(request_id)
    result = await _after_submission(request_id)
    return asdict(result)


async def _after_submission(request_id: str) -> LifecycleResult:
    status = (await describe_request(request_id)).status
    if status == "PENDING_APPROVAL":
        decision = await approval_gate(request_id)
        if decision.status == "REFUSED":
            await fail_request(request_id, decision.message)
            return await _finish(request_id, "FAILED", reason=decision.message)
        if decision.status == "REJECTED":
            return await _finish(request_id, "REJECTED", reason=decision.message)
    return await generate_and_validate(request_id)


@flow(name="manual-revision", log_prints=True)
async def manual_revision(request_id: str, archive: str, uploaded_by: str) -> dict[str, object]:
    """Validate a human-uploaded TA exactly like a generated one (a MANUAL revision)."""
    revision_id = await register_manual_revision(request_id, archive, uploaded_by)
    outcome = await validate_revision(revision_id, advance_request=False)
    await publish_report(request_id)
    return {"revision_id": revision_id, "passed": outcome.passed, "reasons": outcome.reasons}
