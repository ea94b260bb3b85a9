"""ValidationRunRepository and KnowledgeDocumentRepository."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db.enums import RequestStatus, ValidationStatus
from storage.db.errors import InvalidStatusTransitionError, InvalidValueError, NotFoundError
from storage.db.unit_of_work import UnitOfWork
from tests.integration.builders import Builder, sha256


async def _revision(build: Builder):
    request = await build.request(status=RequestStatus.VALIDATING)
    return await build.revision(request)


async def test_validation_lifecycle(uow: UnitOfWork, build: Builder):
    revision = await _revision(build)
    run = await build.validation(revision)
    assert run.status is ValidationStatus.QUEUED
    running_before = await uow.validations.get_running_count()
    running = await uow.validations.start_validation(run.id, "sandbox-7")
    assert running.status is ValidationStatus.RUNNING
    assert running.splunk_container_id == "sandbox-7" and running.started_at is not None
    assert await uow.validations.get_running_count() == running_before + 1
    # make the run measurably long without sleeping: move started_at back 90 s
    await uow.session.execute(
        text(
            "UPDATE validation_runs SET started_at = started_at - interval '90 seconds' "
            "WHERE id = :id"
        ),
        {"id": run.id},
    )
    done = await uow.validations.complete_validation(
        run.id,
        "PASSED",
        {"coverage": 0.98},
        "bundles/run.tgz",
        debug_bundle_bucket="debug",
    )
    assert done.status is ValidationStatus.PASSED
    assert done.results_json == {"coverage": 0.98}
    assert (done.debug_bundle_key, done.debug_bundle_bucket) == ("bundles/run.tgz", "debug")
    assert done.completed_at is not None
    assert 90 <= done.duration_seconds < 3600


async def test_invalid_validation_transitions(uow: UnitOfWork, build: Builder):
    revision = await _revision(build)
    run = await build.validation(revision)
    with pytest.raises(InvalidStatusTransitionError, match="from QUEUED to PASSED"):
        await uow.validations.complete_validation(run.id, ValidationStatus.PASSED)
    await uow.validations.start_validation(run.id, "c1")
    with pytest.raises(InvalidStatusTransitionError, match="from RUNNING to RUNNING"):
        await uow.validations.start_validation(run.id, "c2")
    with pytest.raises(InvalidStatusTransitionError, match="from RUNNING to QUEUED"):
        await uow.validations.complete_validation(run.id, "QUEUED")
    with pytest.raises(InvalidValueError, match="'OK' is not one of"):
        await uow.validations.complete_validation(run.id, "OK")
    await uow.validations.complete_validation(run.id, "FAILED", error_message="no events")
    with pytest.raises(InvalidStatusTransitionError, match="from FAILED to PASSED"):
        await uow.validations.complete_validation(run.id, "PASSED")
    with pytest.raises(NotFoundError, match="ValidationRun"):
        await uow.validations.start_validation(uuid.uuid4(), "c")


async def test_queued_run_may_fail_without_starting(uow: UnitOfWork, build: Builder):
    run = await build.validation(await _revision(build))
    failed = await uow.validations.complete_validation(
        run.id, ValidationStatus.FAILED, error_message="image pull failed"
    )
    assert failed.status is ValidationStatus.FAILED
    assert failed.duration_seconds is None and failed.error_message == "image pull failed"


async def test_failed_validations_and_statistics(uow: UnitOfWork, build: Builder):
    revision = await _revision(build)
    other = await _revision(build)
    runs = [await build.validation(revision) for _ in range(3)]
    for run, final in zip(runs, ["FAILED", "FAILED", "PASSED"], strict=True):
        await uow.validations.start_validation(run.id, "c")
        await uow.validations.complete_validation(run.id, final)
    other_run = await build.validation(other)
    await uow.validations.complete_validation(other_run.id, "FAILED")

    failed = await uow.validations.get_failed_validations(revision.request_id)
    assert [r.id for r in failed] == [runs[1].id, runs[0].id]
    stats = await uow.validations.get_validation_summary(revision.request_id)
    assert stats.total == 3
    assert stats.by_status[ValidationStatus.FAILED] == 2
    assert stats.by_status[ValidationStatus.QUEUED] == 0
    assert stats.pass_rate == pytest.approx(1 / 3)
    assert stats.average_duration_seconds is not None
    overall = await uow.validations.get_validation_summary()
    assert overall.total >= 4
    counts = await uow.validations.get_validation_statistics(revision.request_id)
    assert counts == {"QUEUED": 0, "RUNNING": 0, "PASSED": 1, "FAILED": 2}  # the seed's shape


async def test_knowledge_indexing(uow: UnitOfWork, build: Builder):
    manager = await build.user()
    before = await uow.knowledge.get_statistics()
    docs = [
        await uow.knowledge.create(
            {
                "title": f"doc {n}",
                "document_type": kind,
                "storage_bucket": "knowledge",
                "storage_key": f"knowledge/{n}.md",
                "uploaded_by": manager.id,
            }
        )
        for n, kind in enumerate(["markdown", "pdf", "markdown"])
    ]
    await uow.knowledge.update(docs[2].id, {"is_active": False})
    unindexed = await uow.knowledge.get_unindexed_documents(limit=100_000)
    assert [d.id for d in unindexed if d.id in {x.id for x in docs}] == [docs[0].id, docs[1].id]
    indexed = await uow.knowledge.mark_as_indexed(docs[0].id, "tagen-knowledge", 42)
    assert indexed.pinecone_indexed and indexed.indexed_at is not None
    assert (indexed.pinecone_index_name, indexed.embedding_count) == ("tagen-knowledge", 42)
    remaining = await uow.knowledge.get_unindexed_documents(limit=100_000)
    assert docs[0].id not in {d.id for d in remaining} and docs[1].id in {d.id for d in remaining}
    with pytest.raises(InvalidValueError, match="embedding_count"):
        await uow.knowledge.mark_as_indexed(docs[1].id, "idx", -1)
    with pytest.raises(NotFoundError, match="KnowledgeDocument"):
        await uow.knowledge.mark_as_indexed(uuid.uuid4(), "idx", 1)

    stats = await uow.knowledge.get_statistics()
    assert (stats["total"], stats["active"]) == (before["total"] + 3, before["active"] + 2)
    assert stats["indexing_status"] == {
        "indexed": before["indexing_status"]["indexed"] + 1,
        "unindexed": before["indexing_status"]["unindexed"] + 2,
    }
    assert stats["total_embeddings"] == before["total_embeddings"] + 42
    assert stats["by_type"]["markdown"] == before["by_type"].get("markdown", 0) + 2
    assert stats["by_type"]["pdf"] == before["by_type"].get("pdf", 0) + 1


async def test_try_start_with_limit_holds_back_runs_beyond_the_limit(
    uow: UnitOfWork, build: Builder, empty_db: None
):
    first = await build.validation(await _revision(build))
    second = await build.validation(await _revision(build))
    assert await uow.validations.try_start_with_limit(first.id, limit=1, container_id="w1")
    assert not await uow.validations.try_start_with_limit(second.id, limit=1, container_id="w2")
    assert (await uow.validations.get(second.id)).status is ValidationStatus.QUEUED
    # a retry of a run that already holds its slot is not refused, nor started twice
    assert await uow.validations.try_start_with_limit(first.id, limit=1, container_id="w9")
    assert (await uow.validations.get(first.id)).splunk_container_id == "w1"
    await uow.validations.complete_validation(first.id, ValidationStatus.PASSED)
    assert await uow.validations.try_start_with_limit(second.id, limit=1, container_id="w2")
    assert (await uow.validations.get(second.id)).status is ValidationStatus.RUNNING
    with pytest.raises(NotFoundError, match="ValidationRun"):
        await uow.validations.try_start_with_limit(uuid.uuid4(), limit=1, container_id="w")


async def test_fail_abandoned_frees_only_stale_running_runs_once(uow: UnitOfWork, build: Builder):
    stale = await build.validation(await _revision(build))
    fresh = await build.validation(await _revision(build))
    queued = await build.validation(await _revision(build))
    await uow.validations.start_validation(stale.id, "dead-worker")
    await uow.validations.start_validation(fresh.id, "live-worker")
    await uow.session.execute(
        text(
            "UPDATE validation_runs SET started_at = started_at - interval '2 hours' WHERE id = :id"
        ),
        {"id": stale.id},
    )
    failed = await uow.validations.fail_abandoned(stale_after_s=3600)
    assert [(r.id, r.splunk_container_id) for r in failed] == [(stale.id, "dead-worker")]
    run = await uow.validations.get(stale.id)
    assert run.status is ValidationStatus.FAILED
    assert run.error_message == "abandoned: no result within 3600 s"
    assert run.completed_at is not None and run.duration_seconds >= 7200
    assert (await uow.validations.get(fresh.id)).status is ValidationStatus.RUNNING
    assert (await uow.validations.get(queued.id)).status is ValidationStatus.QUEUED
    assert await uow.validations.fail_abandoned(stale_after_s=3600) == []


async def test_concurrent_starts_never_exceed_the_limit(
    committed_session_factory: async_sessionmaker[AsyncSession],
):
    async with UnitOfWork(committed_session_factory) as uow:
        build = Builder(uow)
        runs = [await build.validation(await _revision(build)) for _ in range(6)]
        limit = await uow.validations.get_running_count() + 2
        await uow.commit()
    start = asyncio.Event()

    async def starter(run_id: uuid.UUID) -> bool:
        async with UnitOfWork(committed_session_factory) as unit:
            await start.wait()
            started = await unit.validations.try_start_with_limit(
                run_id, limit=limit, container_id=f"w-{run_id}"
            )
            await asyncio.sleep(0)  # let the others pile up on the lock
            await unit.commit()
            return started

    tasks = [asyncio.create_task(starter(run.id)) for run in runs]
    start.set()
    outcomes = await asyncio.gather(*tasks)
    assert sorted(outcomes) == [False] * 4 + [True] * 2
    async with UnitOfWork(committed_session_factory) as uow:
        statuses = [(await uow.validations.get(run.id)).status for run in runs]
    assert statuses.count(ValidationStatus.RUNNING) == 2
    assert statuses.count(ValidationStatus.QUEUED) == 4


async def test_concurrent_registrations_of_one_content_create_one_document(
    committed_session_factory: async_sessionmaker[AsyncSession],
):
    digest = sha256(f"knowledge-{uuid.uuid4()}")
    start = asyncio.Event()

    async def register(n: int) -> tuple[uuid.UUID, bool]:
        async with UnitOfWork(committed_session_factory) as unit:
            await start.wait()
            document, created = await unit.knowledge.create_unless_known(
                {
                    "title": f"copy {n}",
                    "document_type": "markdown",
                    "storage_bucket": "local",
                    "storage_key": f"knowledge/{digest[:16]}/{n}/doc.md",
                    "content_hash": digest,
                }
            )
            await unit.commit()
            return document.id, created

    tasks = [asyncio.create_task(register(n)) for n in range(8)]
    start.set()
    outcomes = await asyncio.gather(*tasks)
    assert len({document_id for document_id, _ in outcomes}) == 1
    assert sorted(created for _, created in outcomes) == [False] * 7 + [True]
    async with UnitOfWork(committed_session_factory) as uow:
        assert await uow.knowledge.count({"content_hash": digest}) == 1
        with pytest.raises(InvalidValueError, match="content_hash is required"):
            await uow.knowledge.create_unless_known(
                {"title": "t", "document_type": "text", "storage_key": "knowledge/x"}
            )
