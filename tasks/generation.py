"""GENERATING_TA: retrieve knowledge, run the generator, store the package, record vN (AUTO).

`start_generation` moves the request to GENERATING_TA (committed, so it is visible while the
generator runs); `generate_revision` then uploads the package and writes the TARevision row in
one unit of work; if that commit fails, the uploaded package is deleted (no orphan object). A
retry of the same attempt finds the revision it already wrote and returns it.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from prefect import task
from pydantic import ValidationError

from engine.generator.generate import generate_ta
from engine.generator.model import GenerationError, GenerationRequest, GenerationResult
from engine.sandbox.report import ValidationReport
from storage.db.enums import AuditAction, RequestStatus, TARevisionType
from storage.db.models import TARevision
from storage.db.unit_of_work import UnitOfWork
from tasks.backends import get_backends
from tasks.errors import LifecycleError
from tasks.request import move_request
from tasks.runtime import (
    KNOWLEDGE_SNIPPETS,
    RETRY_DELAYS_S,
    config_int,
    correlation_id,
    retry_transient,
)
from tasks.ta_revision import store_package_and_commit


@dataclass(frozen=True)
class KnowledgeSnippet:
    document_id: str
    title: str
    text: str


def generator_version() -> str:
    try:
        return f"tagen-rules/{version('splunk-ta-generator')}"
    except PackageNotFoundError:
        return "tagen-rules/unknown"


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def retrieve_knowledge(request_id: str) -> list[KnowledgeSnippet]:
    """Full-text search over indexed knowledge with the request's words."""
    async with UnitOfWork() as uow:
        request = await uow.requests.get(uuid.UUID(request_id))
        limit = await config_int(uow, KNOWLEDGE_SNIPPETS)
        terms = " ".join(
            part
            for part in (
                request.source_system,
                request.description or "",
                request.extra_metadata.get("sourcetype") or "",
                "CIM data model tags" if request.cim_required else "",
            )
            if part
        )
        hits = await uow.chunks.search(terms, limit=limit)
    return [KnowledgeSnippet(str(h.document_id), h.title, h.content) for h in hits]


def config_summary(result: GenerationResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "sourcetype": result.sourcetype,
        "format": result.format.kind,
        "line_breaker": result.breaking.line_breaker,
        "time_format": result.timestamps.time_format,
        "fields": [f.name for f in result.fields.fields],
        "cim_models": list(result.cim.models) if result.cim else [],
        "self_check_passed": result.check.passed,
        "caveats": list(result.caveats),
    }


async def _download_samples(uow: UnitOfWork, request_id: uuid.UUID, workdir: Path) -> list[Path]:
    objects = get_backends().objects
    paths = []
    for sample in await uow.samples.get_by_request(request_id):
        paths.append(objects.get(sample.storage_key, destination=workdir / sample.filename))
    if not paths:
        raise LifecycleError("the request has no stored samples (deleted by retention?)")
    return paths


async def _existing_attempt(
    uow: UnitOfWork, request_id: uuid.UUID, attempt: int
) -> TARevision | None:
    latest = await uow.revisions.get_latest_revision(request_id)
    if latest is None:
        return None
    meta = latest.generation_metadata or {}
    if meta.get("correlation_id") == correlation_id() and meta.get("attempt") == attempt:
        return latest
    return None


async def _failure_reports(uow: UnitOfWork, request_id: uuid.UUID) -> tuple[ValidationReport, ...]:
    """The request's earlier FAILED validation reports, oldest first, for the repair rules.

    A run that crashed before the sandbox reported stores no report; it has nothing to repair.
    """
    reports = []
    for run in reversed(await uow.validations.get_failed_validations(request_id)):
        if not run.results_json:
            continue
        try:
            reports.append(ValidationReport.model_validate(run.results_json or {}))
        except ValidationError:
            continue
    return tuple(reports)


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def start_generation(request_id: str, attempt: int) -> None:
    """APPROVED (or VALIDATING, for a repair) -> GENERATING_TA, audited."""
    async with UnitOfWork() as uow:
        if await move_request(uow, request_id, RequestStatus.GENERATING_TA, {"attempt": attempt}):
            await uow.commit()


@task(retries=2, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def generate_revision(
    request_id: str,
    *,
    attempt: int,
    knowledge: list[KnowledgeSnippet],
    feedback: list[str],
) -> str:
    """Generate and store revision v(N+1); returns its id. GenerationError -> LifecycleError.

    The generator runs in a worker thread with no transaction open (it takes seconds and is
    CPU-bound); the revision is written in one unit of work afterwards.
    """
    rid = uuid.UUID(request_id)
    with tempfile.TemporaryDirectory(prefix="tagen-generate-") as tmp:
        workdir = Path(tmp)
        async with UnitOfWork() as uow:
            found = await _existing_attempt(uow, rid, attempt)
            if found is not None:
                return str(found.id)
            request = await uow.requests.get(rid)
            (workdir / "samples").mkdir()
            samples = await _download_samples(uow, rid, workdir / "samples")
            reports = await _failure_reports(uow, rid)
            gen_request = GenerationRequest(
                samples=tuple(samples),
                sourcetype=request.extra_metadata.get("sourcetype"),
                source_system=request.source_system,
                description=request.description or "",
                cim_required=request.cim_required,
                knowledge=tuple(f"{k.title}\n{k.text}" for k in knowledge),
                feedback=tuple(feedback),
                reports=reports,
            )
        try:
            result = await asyncio.to_thread(generate_ta, gen_request, out_dir=workdir / "out")
        except (GenerationError, ValueError) as exc:
            raise LifecycleError(f"generation failed: {exc}") from exc
        async with UnitOfWork() as uow:
            revision = await uow.revisions.create_next_revision(
                rid,
                {
                    "generated_by": TARevisionType.AUTO,
                    "config_summary": config_summary(result),
                    "generation_metadata": {
                        "generator_version": generator_version(),
                        "knowledge_document_ids": sorted({k.document_id for k in knowledge}),
                        "knowledge_titles": [k.title for k in knowledge],
                        "feedback": feedback,
                        "repairs": list(result.repairs),
                        "attempt": attempt,
                        "correlation_id": correlation_id(),
                        "self_check": {
                            "passed": result.check.passed,
                            "rounds": result.check.rounds,
                            "problems": list(result.check.problems),
                        },
                    },
                },
            )
            await store_package_and_commit(
                uow,
                revision=revision,
                package=result.package,
                action=AuditAction.CREATE,
                details={"attempt": attempt},
            )
            return str(revision.id)
