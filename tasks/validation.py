"""VALIDATING: run the local sandbox on a revision, at most MAX_PARALLEL_VALIDATIONS at once.

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
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import task

from engine.sandbox.validate import validate_package
from engine.settings import get_sandbox_settings
from storage.db.enums import AuditAction, RequestStatus, ValidationStatus
from storage.db.unit_of_work import UnitOfWork
from storage.objects import ObjectStore, StoredObject
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
    worker = f"local-sandbox@{socket.gethostname()}:{os.getpid()}"
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


def _validate_stored(
    objects: ObjectStore,
    *,
    package_key: str,
    sample_files: list[tuple[str, str]],
    sourcetype: str | None,
    bundle_key: str,
) -> tuple[dict[str, Any], StoredObject]:
    """Fetch the package and samples, sandbox them, store the debug bundle (in a worker
    thread: all of it is blocking I/O or CPU)."""
    with tempfile.TemporaryDirectory(prefix="tagen-validate-") as tmp:
        workdir = Path(tmp)
        archive = objects.get(package_key, destination=workdir / Path(package_key).name)
        (workdir / "samples").mkdir()
        paths = [
            objects.get(key, destination=workdir / "samples" / filename)
            for key, filename in sample_files
        ]
        local_bundle = workdir / "bundle.zip"
        report = validate_package(
            archive,
            paths,
            sourcetype=sourcetype,
            source=None,
            host=None,
            settings=get_sandbox_settings(),
            bundle=local_bundle,
        ).model_dump(mode="json")
        bundle = objects.put_file(bundle_key, local_bundle, content_type="application/zip")
    return report, bundle


@task(retries=2, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def run_validation(run_id: str) -> ValidationOutcome:
    """Sandbox the revision on the request's samples; PASSED/FAILED with report and bundle.

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
    bundle_key = f"validations/{run.request_id}/{run_id}/debug-bundle.zip"
    sourcetype = request.extra_metadata.get("sourcetype") or (revision.config_summary or {}).get(
        "sourcetype"
    )
    sample_files = [(s.storage_key, s.filename) for s in samples]
    try:
        if revision.storage_key is None:
            raise ValueError(f"revision v{revision.version} has no stored package")
        report, bundle = await asyncio.to_thread(
            _validate_stored,
            backends.objects,
            package_key=revision.storage_key,
            sample_files=sample_files,
            sourcetype=sourcetype,
            bundle_key=bundle_key,
        )
        status = (
            ValidationStatus.PASSED if report["verdict"] == "PASSED" else ValidationStatus.FAILED
        )
        error = None if status is ValidationStatus.PASSED else "; ".join(report["reasons"])
    except Exception as exc:  # the run must leave RUNNING whatever happened
        report, status, error, bundle = {}, ValidationStatus.FAILED, str(exc), None
    try:
        async with UnitOfWork() as uow:
            await uow.validations.complete_validation(
                vid,
                status,
                report,
                bundle.key if bundle else None,
                debug_bundle_bucket=backends.bucket if bundle else None,
                error_message=error,
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
