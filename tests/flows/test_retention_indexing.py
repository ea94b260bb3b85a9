"""The scheduled flows: retention (dry run, missing objects, idempotence) and indexing."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.flows.conftest import SAMPLE, FlowThread, resume, run, set_config

pytestmark = pytest.mark.usefixtures("lifecycle_env")


async def _samples(request_id: str):
    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork() as uow:
        samples = await uow.samples.get_by_request(uuid.UUID(request_id), include_deleted=True)
        audit = await uow.audit.get_by_entity("log_sample", samples[0].id)
        return samples, audit


def test_retention_deletes_expired_samples_once_and_survives_a_missing_object(
    backends: Any, tmp_path: Path
):
    from flows.retention import retention

    second = tmp_path / "second.log"
    second.write_text(SAMPLE.read_text())
    run(set_config("SAMPLE_RETENTION_DAYS", -1))
    try:
        flow = FlowThread(
            requester="req-ann", source_system="expired", samples=[str(SAMPLE), str(second)]
        )
        request_id, flow_run_id = flow.request_and_run()
        flow.wait_paused(flow_run_id, key="approval-1")
        resume(flow_run_id, approved=False, approver="appr-bob", reason="retention test")
        flow.join()
    finally:
        run(set_config("SAMPLE_RETENTION_DAYS", 30))
    samples, _ = run(_samples(request_id))
    assert len(samples) == 2
    backends.objects.delete(samples[1].storage_key)  # gone already: retention must cope

    dry = run(retention(dry_run=True))
    assert dry["expired"] >= 2 and dry["deleted"] == 0
    assert backends.objects.exists(samples[0].storage_key)

    done = run(retention(dry_run=False))
    assert done["deleted"] >= 2 and done["missing_objects"] >= 1
    samples, audit = run(_samples(request_id))
    assert all(s.deleted_at is not None for s in samples)
    assert not backends.objects.exists(samples[0].storage_key)
    assert [a.details["reason"] for a in audit] == ["retention"]

    assert run(retention(dry_run=False))["expired"] == 0

    # The row is committed before the object goes: an object delete that failed after the
    # commit is finished by the task's retry, without a second audit entry.
    from tasks.retention import delete_sample

    backends.objects.put_file(samples[0].storage_key, SAMPLE)
    assert run(delete_sample.fn(str(samples[0].id))) is False
    assert not backends.objects.exists(samples[0].storage_key)
    assert [a.details["reason"] for a in run(_samples(request_id))[1]] == ["retention"]


def test_indexing_registers_the_pack_indexes_documents_and_skips_unreadable_ones(tmp_path: Path):
    from flows.knowledge_indexing import knowledge_indexing
    from storage.db.unit_of_work import UnitOfWork
    from tasks.knowledge_document import register_document

    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nnot really a pdf")
    run(register_document(broken, kind="pdf", title="broken"))

    first = run(knowledge_indexing())
    assert first["failed"] == 1

    async def pack_chunks() -> list[int]:
        async with UnitOfWork() as uow:
            docs = await uow.knowledge.get_all(0, 100, filters={"document_type": "markdown"})
            return [d.embedding_count for d in docs if d.storage_key.endswith(".md")]

    counts = run(pack_chunks())
    assert len(counts) >= 5 and all(count > 0 for count in counts)

    async def search() -> list[str]:
        async with UnitOfWork() as uow:
            hits = await uow.chunks.search("LINE_BREAKER event breaking", limit=3)
            return [h.title for h in hits]

    titles = run(search())
    assert titles and "event breaking" in titles[0].lower()

    again = run(knowledge_indexing())
    assert again["documents"] == 0 and again["failed"] == 1


def test_retention_ends_requests_whose_approval_waited_too_long():
    import time

    from flows.retention import retention
    from tasks.request import create_request, describe_request, submit_for_approval

    async def pending() -> str:
        request_id = await create_request.fn(
            requester="req-ann", source_system="waits", description="", cim_required=False
        )
        await submit_for_approval.fn(request_id)
        return request_id

    request_id = run(pending())
    run(set_config("APPROVAL_TIMEOUT_SECONDS", 1))
    try:
        time.sleep(1.5)
        result = run(retention(dry_run=False))
    finally:
        run(set_config("APPROVAL_TIMEOUT_SECONDS", 3600))
    assert result["approvals"] >= 1
    summary = run(describe_request(request_id))
    assert summary.status == "FAILED"
    assert summary.failure_reason == "approval timed out after 1 s"


def test_concurrent_registrations_keep_one_document_and_one_object(backends: Any, tmp_path: Path):
    import asyncio
    import hashlib

    from tasks.knowledge_document import register_document

    document = tmp_path / "notes.md"
    document.write_text(f"# Notes {uuid.uuid4()}\n\nprops.conf LINE_BREAKER notes.\n")
    digest = hashlib.sha256(document.read_bytes()).hexdigest()

    async def register_all() -> list[tuple[str, bool]]:
        return list(
            await asyncio.gather(
                *(register_document(document, kind="markdown", title="notes") for _ in range(4))
            )
        )

    outcomes = run(register_all())
    assert len({document_id for document_id, _ in outcomes}) == 1
    assert [created for _, created in outcomes].count(True) == 1
    stored = list((backends.objects.root / "knowledge" / digest[:16]).rglob("notes.md"))
    assert len(stored) == 1  # the losing attempts deleted their uploads
    again = run(register_document(document, kind="markdown", title="again"))
    assert again == (outcomes[0][0], False)
