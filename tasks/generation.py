"""GENERATING_TA: retrieve knowledge, run the generator, store the package, record vN (AUTO).

`start_generation` moves the request to GENERATING_TA (committed, so it is visible while the
generator runs); `generate_revision` then generates from the samples and the failed validation
reports of the earlier revisions and stores the package as the next revision
(`tasks.ta_revision.store_revision`: upload, then one short unit of work). A generated revision
no validation has judged yet (stored by this task before a retry, or by a run that died) is
returned instead of generating its twin.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from prefect import task

from engine.generator.generate import generate_ta
from engine.generator.model import GenerationError, GenerationRequest, GenerationResult
from engine.generator.redact import Redactor
from engine.samples import sniff_encoding
from storage.db.enums import AuditAction, AuditEntity, RequestStatus, TARevisionType
from storage.db.models import TARevision
from storage.db.unit_of_work import UnitOfWork
from tasks.backends import get_backends, unit_of_work
from tasks.errors import LifecycleError
from tasks.generation_session import choose_planner, write_session
from tasks.request import input_route, move_request
from tasks.retrieval import KnowledgeSnippet, search_knowledge
from tasks.runtime import (
    KNOWLEDGE_SNIPPETS,
    RETRY_DELAYS_S,
    audit,
    config_int,
    correlation_id,
    retry_transient,
)
from tasks.ta_revision import store_revision
from tasks.validation_run import FINISHED_RUNS, ValidationOutcome

QUERY_SAMPLE_CHARS = 2000
"""How much of the first sample joins the retrieval query (whole lines)."""


def generator_version() -> str:
    try:
        return f"tagen-rules/{version('splunk-ta-generator')}"
    except PackageNotFoundError:
        return "tagen-rules/unknown"


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def retrieve_knowledge(request_id: str) -> list[KnowledgeSnippet]:
    """Hybrid search over indexed knowledge with the request's words and the head of its first
    sample (redacted: the query may go to an embeddings API). A vector side that failed (its
    provider down or its circuit open) leaves full-text results, audited on the request."""
    rid = uuid.UUID(request_id)
    async with unit_of_work() as uow:
        request = await uow.requests.get(rid)
        limit = await config_int(uow, KNOWLEDGE_SNIPPETS)
        samples = await uow.samples.get_by_request(rid)
        terms = [
            request.source_system,
            request.description or "",
            request.extra_metadata.get("sourcetype") or "",
            "CIM data model tags" if request.cim_required else "",
        ]
    head = await asyncio.to_thread(_sample_head, samples[0].storage_key) if samples else ""
    query = "\n".join(part for part in (*terms, head) if part)
    found = await search_knowledge(query, limit=limit)
    if found.fallback is not None:
        async with unit_of_work() as uow:
            await audit(
                uow,
                action=AuditAction.UPDATE,
                entity=AuditEntity.REQUEST,
                entity_id=rid,
                details={"retrieval": "fulltext only", "reason": found.fallback},
            )
            await uow.commit()
    return list(found)


def _sample_head(key: str) -> str:
    """The whole lines within the first QUERY_SAMPLE_CHARS characters of a stored sample,
    redacted (placeholders may make them a little longer)."""
    with get_backends().objects.open(key) as stream:
        head = stream.read(QUERY_SAMPLE_CHARS * 4)
    text = head.decode(sniff_encoding(head), errors="replace")[:QUERY_SAMPLE_CHARS]
    if len(text) == QUERY_SAMPLE_CHARS and "\n" in text:
        text = text[: text.rindex("\n")]  # whole lines only
    return Redactor(ip_shape=False).redact(text)


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


def _download_samples(samples: list[tuple[str, str]], workdir: Path) -> list[Path]:
    """The stored samples (key, file name) copied to `workdir` (blocking I/O)."""
    objects = get_backends().objects
    return [objects.get(key, destination=workdir / filename) for key, filename in samples]


async def _unjudged_revision(uow: UnitOfWork, request_id: uuid.UUID) -> TARevision | None:
    """The latest generated revision while no validation has judged it: the attempt that
    stored it got no further (a retry of this task, or a run that died before the verdict),
    so it is validated rather than generated twice."""
    latest = await uow.revisions.get_latest_revision(request_id)
    if latest is None or latest.generated_by is not TARevisionType.AUTO:
        return None
    runs = await uow.validations.get_all(0, 100, filters={"ta_revision_id": latest.id})
    if any(run.status in FINISHED_RUNS for run in runs):
        return None
    return latest


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def start_generation(request_id: str, attempt: int) -> None:
    """APPROVED (or VALIDATING, for a repair) -> GENERATING_TA, audited."""
    async with unit_of_work() as uow:
        if await move_request(
            uow, request_id, RequestStatus.GENERATING_TA, details={"attempt": attempt}
        ):
            await uow.commit()


@task(retries=2, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def generate_revision(
    request_id: str,
    *,
    attempt: int,
    knowledge: list[KnowledgeSnippet],
    failures: list[ValidationOutcome],
) -> str:
    """Generate and store revision v(N+1); returns its id. GenerationError -> LifecycleError.

    `failures` are the earlier revisions' failed validations, oldest first: their reports are
    what the generator repairs from. Reading the request, downloading its samples, generating
    (seconds, CPU-bound) and uploading the package each happen with no transaction open; the
    revision row is written in one short unit of work at the end.
    """
    rid = uuid.UUID(request_id)
    backends = get_backends()
    async with unit_of_work() as uow:
        found = await _unjudged_revision(uow, rid)
        if found is not None:
            return str(found.id)
        request = await uow.requests.get(rid)
        stored = [(s.storage_key, s.filename) for s in await uow.samples.get_by_request(rid)]
        choice = await choose_planner(uow, rid)
    if not stored:
        raise LifecycleError("the request has no stored samples (deleted by retention?)")
    with tempfile.TemporaryDirectory(prefix="tagen-generate-") as tmp:
        workdir = Path(tmp)
        (workdir / "samples").mkdir()
        samples = await asyncio.to_thread(_download_samples, stored, workdir / "samples")
        gen_request = GenerationRequest(
            samples=tuple(samples),
            sourcetype=request.extra_metadata.get("sourcetype"),
            source_system=request.source_system,
            description=request.description or "",
            cim_required=request.cim_required,
            knowledge=tuple(f"{k.title}\n{k.text}" for k in knowledge),
            reports=tuple(f.report for f in failures if f.report is not None),
            sandbox=backends.sandbox,
            input_route=input_route(request.extra_metadata),
        )
        try:
            result = await asyncio.to_thread(
                generate_ta, gen_request, out_dir=workdir / "out", planner=choice.planner
            )
        except (GenerationError, ValueError) as exc:
            raise LifecycleError(f"generation failed: {exc}") from exc
        revision_id = await store_revision(
            rid,
            package=result.package,
            row={
                "generated_by": TARevisionType.AUTO,
                "config_summary": config_summary(result),
                "generation_metadata": {
                    "generator_version": generator_version(),
                    "knowledge_document_ids": sorted({k.document_id for k in knowledge}),
                    "knowledge_titles": [k.title for k in knowledge],
                    "knowledge_sources": [list(k.sources) for k in knowledge],
                    "repaired_from": [f.run_id for f in failures],
                    "repairs": list(result.repairs),
                    "planner": result.planner,
                    "assisted": list(result.assisted),
                    "attempt": attempt,
                    "correlation_id": correlation_id(),
                    "self_check": {
                        "passed": result.check.passed,
                        "rounds": result.check.rounds,
                        "problems": list(result.check.problems),
                    },
                },
            },
            action=AuditAction.CREATE,
            details={"attempt": attempt},
            with_revision=partial(write_session, request_id=rid, choice=choice, result=result),
        )
        return revision_id
