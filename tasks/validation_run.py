"""VALIDATING: judge a revision with the configured validator, at most MAX_PARALLEL_VALIDATIONS
at once.

The validator (the local emulator or a Kubernetes Job running Splunk) comes from
`tasks.backends`; this module does not know which one ran, only what it returned: the report,
the container or Job that ran it, its log and the debug bundle.

The limit is a database guard, valid across every process and flow run
(`ValidationRunRepository.try_start_with_limit`): a run moves QUEUED -> RUNNING only while fewer
than the limit are RUNNING; otherwise it waits and tries again. Queueing, taking a slot and
running are three tasks, each its own unit of work. RUNNING is therefore the slot,
and a run always leaves RUNNING (PASSED or FAILED) so the slot is released.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from dataclasses import dataclass

from prefect import task

from engine.sandbox.report import ValidationReport
from storage.db.enums import (
    AuditAction,
    AuditEntity,
    RequestStatus,
    TARevisionType,
    ValidationStatus,
)
from storage.db.models import ValidationRun
from tasks.backends import get_backends, unit_of_work
from tasks.compensation import discard
from tasks.errors import LifecycleError
from tasks.object_keys import bundle_key
from tasks.request import input_route, move_request
from tasks.runtime import (
    MAX_PARALLEL_VALIDATIONS,
    RETRY_DELAYS_S,
    VALIDATION_STALE_SECONDS,
    audit,
    config_int,
    retry_transient,
)
from tasks.validators import SampleInput, ValidationInput, ValidationResult

SLOT_POLL_S = 0.5


@dataclass(frozen=True)
class ValidationOutcome:
    """A finished validation run as the flow and the repair step read it: the validator's
    typed report (results_json holds it only as the stored copy), or why there is none."""

    run_id: str
    report: ValidationReport | None
    """None when the run ended before a verdict (the validator raised: `error` says why)."""
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.report is not None and self.report.passed

    @property
    def reasons(self) -> list[str]:
        if self.report is not None:
            return list(self.report.reasons)
        return [self.error or "no verdict"]

    @classmethod
    def stored(cls, run: ValidationRun) -> ValidationOutcome:
        """A finished run read back from its row (the persistence boundary of the report)."""
        report = ValidationReport.model_validate(run.results_json) if run.results_json else None
        return cls(str(run.id), report, run.error_message)


@dataclass(frozen=True)
class Verdict:
    revision_id: str
    outcome: ValidationOutcome


FINISHED_RUNS = (ValidationStatus.PASSED, ValidationStatus.FAILED)


async def verdicts(request_id: str) -> list[Verdict]:
    """The finished validations of the request's generated revisions, oldest first: what a
    run taking the request over already knows (read-only: not a task)."""
    async with unit_of_work() as uow:
        request = await uow.requests.get_full_details(uuid.UUID(request_id))
        if request is None:
            raise LifecycleError(f"no request {request_id}")
    found: list[Verdict] = []
    for revision in sorted(request.ta_revisions, key=lambda r: r.version):
        finished = [r for r in revision.validation_runs if r.status in FINISHED_RUNS]
        if revision.generated_by is TARevisionType.AUTO and finished:
            latest = max(finished, key=lambda r: (r.completed_at is not None, r.completed_at))
            found.append(Verdict(str(revision.id), ValidationOutcome.stored(latest)))
    return found


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def queue_validation(revision_id: str, *, advance_request: bool = True) -> str:
    """A QUEUED ValidationRun for the revision; the request moves to VALIDATING.

    A MANUAL revision of a finished request is validated without moving the request
    (`advance_request=False`): its verdict is the validation run's.
    """
    async with unit_of_work() as uow:
        revision = await uow.revisions.get(uuid.UUID(revision_id))
        if advance_request:
            await move_request(
                uow,
                str(revision.request_id),
                RequestStatus.VALIDATING,
                details={"revision_id": revision_id, "version": revision.version},
            )
        existing = await uow.validations.get_all(0, 1, filters={"ta_revision_id": revision.id})
        if existing:  # this task's retry, or a resumed run going on with it
            await uow.commit()
            return str(existing[0].id)
        run = await uow.validations.create(
            {"request_id": revision.request_id, "ta_revision_id": revision.id}
        )
        await audit(
            uow,
            action=AuditAction.CREATE,
            entity=AuditEntity.VALIDATION_RUN,
            entity_id=run.id,
            details={"revision_id": revision_id, "version": revision.version, "status": "QUEUED"},
        )
        await uow.commit()
        return str(run.id)


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def acquire_validation_slot(run_id: str) -> None:
    """QUEUED -> RUNNING once fewer than MAX_PARALLEL_VALIDATIONS runs are RUNNING.

    Its own task (and commit): the RUNNING row is the slot other processes count.
    """
    vid = uuid.UUID(run_id)
    worker = f"tagen-worker@{socket.gethostname()}:{os.getpid()}"
    while True:
        async with unit_of_work() as uow:
            limit = await config_int(uow, MAX_PARALLEL_VALIDATIONS)
            stale_after_s = await config_int(uow, VALIDATION_STALE_SECONDS)
            for abandoned in await uow.validations.fail_abandoned(stale_after_s=stale_after_s):
                await audit(
                    uow,
                    action=AuditAction.UPDATE,
                    entity=AuditEntity.VALIDATION_RUN,
                    entity_id=abandoned.id,
                    details={
                        "status": "FAILED",
                        "reason": "abandoned",
                        "worker": abandoned.splunk_container_id,
                    },
                )
            started = await uow.validations.try_start_with_limit(
                vid, limit=limit, container_id=worker
            )
            await uow.commit()  # the start, or at least the release of abandoned runs
            if started:
                return
        await asyncio.sleep(SLOT_POLL_S)


@task(retries=2, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def run_validation(run_id: str) -> ValidationOutcome:
    """Validate the revision on the request's samples; PASSED/FAILED with report and bundle.

    The run must hold its slot (`acquire_validation_slot`): RUNNING -> PASSED | FAILED.
    """
    vid = uuid.UUID(run_id)
    backends = get_backends()
    async with unit_of_work() as uow:
        run = await uow.validations.get(vid)
        if run.status in (ValidationStatus.PASSED, ValidationStatus.FAILED):
            return ValidationOutcome.stored(run)
        if run.status is not ValidationStatus.RUNNING:
            raise LifecycleError(f"validation run {run_id} is {run.status}: acquire a slot first")
        revision = await uow.revisions.get(run.ta_revision_id)
        request = await uow.requests.get(run.request_id)
        samples = await uow.samples.get_by_request(run.request_id)
    sourcetype = request.extra_metadata.get("sourcetype") or (revision.config_summary or {}).get(
        "sourcetype"
    )
    result: ValidationResult | None = None
    error: str | None = None
    try:
        if revision.storage_key is None:
            raise ValueError(f"revision v{revision.version} has no stored package")
        result = await backends.validator.validate(
            ValidationInput(
                run_id=run_id,
                package_key=revision.storage_key,
                samples=tuple(SampleInput(key=s.storage_key, filename=s.filename) for s in samples),
                sourcetype=sourcetype,
                bundle_key=bundle_key(run.request_id, run_id),
                input_route=input_route(request.extra_metadata),
            )
        )
    except Exception as exc:  # the run must leave RUNNING whatever happened
        error = str(exc)
    outcome = ValidationOutcome(run_id, result.report if result else None, error)
    status = ValidationStatus.PASSED if outcome.passed else ValidationStatus.FAILED
    bundle = result.bundle if result else None
    try:
        async with unit_of_work() as uow:
            await uow.validations.complete_validation(
                vid,
                status,
                outcome.report.model_dump(mode="json") if outcome.report else {},
                bundle.key if bundle else None,
                debug_bundle_bucket=backends.bucket if bundle else None,
                error_message=None if outcome.passed else "; ".join(outcome.reasons),
                splunk_container_id=result.runner if result else None,
                validation_logs=result.logs if result else None,
            )
            await audit(
                uow,
                action=AuditAction.UPDATE,
                entity=AuditEntity.VALIDATION_RUN,
                entity_id=vid,
                details={
                    "status": str(status),
                    "revision_id": str(revision.id),
                    "version": revision.version,
                    "reasons": outcome.reasons if not outcome.passed else [],
                    **({"runner": result.runner} if result else {}),
                },
            )
            await uow.commit()
    except BaseException:
        if bundle is not None:  # compensation: no bundle without the run that names it
            await discard(backends.objects, [bundle.key])
        raise
    return outcome
