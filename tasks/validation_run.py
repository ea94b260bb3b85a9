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
from typing import Any

from prefect import task

from engine.sandbox.routes import InputRoute
from storage.db.enums import AuditAction, RequestStatus, ValidationStatus
from storage.db.unit_of_work import UnitOfWork
from tasks.backends import get_backends
from tasks.errors import LifecycleError
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
    run_id: str
    passed: bool
    reasons: list[str]
    bundle_url: str | None
    summary: dict[str, Any]


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def queue_validation(revision_id: str, *, advance_request: bool = True) -> str:
    """A QUEUED ValidationRun for the revision; the request moves to VALIDATING.

    A MANUAL revision of a finished request is validated without moving the request
    (`advance_request=False`): its verdict is the validation run's.
    """
    async with UnitOfWork() as uow:
        revision = await uow.revisions.get(uuid.UUID(revision_id))
        existing = await uow.validations.get_all(0, 1, filters={"ta_revision_id": revision.id})
        if existing:
            return str(existing[0].id)
        request = await uow.requests.get(revision.request_id)
        if advance_request and request.status is not RequestStatus.VALIDATING:
            await uow.requests.transition_status(request.id, RequestStatus.VALIDATING)
        run = await uow.validations.create(
            {"request_id": revision.request_id, "ta_revision_id": revision.id}
        )
        await audit(
            uow,
            action=AuditAction.CREATE,
            entity_type="ValidationRun",
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
        async with UnitOfWork() as uow:
            limit = await config_int(uow, MAX_PARALLEL_VALIDATIONS)
            stale_after_s = await config_int(uow, VALIDATION_STALE_SECONDS)
            for abandoned in await uow.validations.fail_abandoned(stale_after_s=stale_after_s):
                await audit(
                    uow,
                    action=AuditAction.UPDATE,
                    entity_type="ValidationRun",
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
    async with UnitOfWork() as uow:
        run = await uow.validations.get(vid)
        if run.status in (ValidationStatus.PASSED, ValidationStatus.FAILED):
            return _outcome(run_id, run.status, run.results_json or {}, run.debug_bundle_key)
        if run.status is not ValidationStatus.RUNNING:
            raise LifecycleError(f"validation run {run_id} is {run.status}: acquire a slot first")
        revision = await uow.revisions.get(run.ta_revision_id)
        request = await uow.requests.get(run.request_id)
        samples = await uow.samples.get_by_request(run.request_id)
    sourcetype = request.extra_metadata.get("sourcetype") or (revision.config_summary or {}).get(
        "sourcetype"
    )
    result: ValidationResult | None = None
    try:
        if revision.storage_key is None:
            raise ValueError(f"revision v{revision.version} has no stored package")
        result = await backends.validator.validate(
            ValidationInput(
                run_id=run_id,
                package_key=revision.storage_key,
                samples=tuple(SampleInput(key=s.storage_key, filename=s.filename) for s in samples),
                sourcetype=sourcetype,
                bundle_key=f"validations/{run.request_id}/{run_id}/debug-bundle.zip",
                input_route=InputRoute(request.extra_metadata.get("validation_input") or "monitor"),
            )
        )
        report = result.report.model_dump(mode="json")
        status = ValidationStatus.PASSED if result.report.passed else ValidationStatus.FAILED
        error = None if status is ValidationStatus.PASSED else "; ".join(result.report.reasons)
    except Exception as exc:  # the run must leave RUNNING whatever happened
        report, status, error = {}, ValidationStatus.FAILED, str(exc)
    bundle = result.bundle if result else None
    try:
        async with UnitOfWork() as uow:
            await uow.validations.complete_validation(
                vid,
                status,
                report,
                bundle.key if bundle else None,
                debug_bundle_bucket=backends.bucket if bundle else None,
                error_message=error,
                splunk_container_id=result.runner if result else None,
                validation_logs=result.logs if result else None,
            )
            await audit(
                uow,
                action=AuditAction.UPDATE,
                entity_type="ValidationRun",
                entity_id=vid,
                details={
                    "status": str(status),
                    "revision_id": str(revision.id),
                    "version": revision.version,
                    "reasons": report.get("reasons", [error] if error else []),
                    **({"runner": result.runner} if result else {}),
                },
            )
            await uow.commit()
    except BaseException:
        if bundle is not None:  # compensation: no bundle without the run that names it
            backends.objects.delete(bundle.key)
        raise
    return _outcome(run_id, status, report, bundle.key if bundle else None, error=error)


def _outcome(
    run_id: str,
    status: ValidationStatus,
    report: dict[str, Any],
    bundle_key: str | None,
    *,
    error: str | None = None,
) -> ValidationOutcome:
    reasons = list(report.get("reasons") or ([error] if error else []))
    summary = {
        "events": report.get("events", 0),
        "timestamp_ratio": (report.get("timestamps") or {}).get("ratio"),
        "field_event_ratio": report.get("field_event_ratio"),
        "cim_ratio": (report.get("cim") or {}).get("ratio"),
        "fields": [f["name"] for f in report.get("fields", [])][:30],
        "lint": len(report.get("lint", [])),
    }
    url = get_backends().objects.url(bundle_key) if bundle_key else None
    return ValidationOutcome(run_id, status is ValidationStatus.PASSED, reasons, url, summary)
