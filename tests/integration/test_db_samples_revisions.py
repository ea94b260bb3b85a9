"""Log samples (soft delete, retention) and TA revisions (versions, concurrency)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db.enums import RequestStatus, TARevisionType
from storage.db.errors import InvalidValueError, NotFoundError
from storage.db.unit_of_work import UnitOfWork
from tests.integration.builders import Builder, sha256


async def test_soft_delete_hides_samples_and_keeps_first_time(uow: UnitOfWork, build: Builder):
    request = await build.request()
    kept = await build.sample(request)
    gone = await build.sample(request)
    deleted = await uow.samples.mark_as_deleted(gone.id)
    assert deleted.is_deleted and deleted.deleted_at is not None
    first_time = deleted.deleted_at
    assert (await uow.samples.mark_as_deleted(gone.id)).deleted_at == first_time
    assert [s.id for s in await uow.samples.get_by_request(request.id)] == [kept.id]
    everything = await uow.samples.get_by_request(request.id, include_deleted=True)
    assert {s.id for s in everything} == {kept.id, gone.id}
    with pytest.raises(NotFoundError, match="LogSample"):
        await uow.samples.mark_as_deleted(uuid.uuid4())


async def test_retention_cutoff(uow: UnitOfWork, build: Builder):
    request = await build.request()
    now = datetime.now(UTC)
    expired = await build.sample(request, retention_until=now - timedelta(days=2))
    due_exactly = await build.sample(request, retention_until=now)
    await build.sample(request, retention_until=now + timedelta(days=1))
    await build.sample(request)  # no retention date: kept forever
    already = await build.sample(request, retention_until=now - timedelta(days=5))
    await uow.samples.mark_as_deleted(already.id)
    due = await uow.samples.get_samples_for_cleanup(now)
    assert [s.id for s in due if s.request_id == request.id] == [expired.id, due_exactly.id]
    assert all(s.deleted_at is None and s.retention_until <= now for s in due)
    first = await uow.samples.get_samples_for_cleanup(now, limit=1)
    assert [s.id for s in first] == [due[0].id]


async def test_versions_are_sequential_per_request(uow: UnitOfWork, build: Builder):
    request = await build.request(status=RequestStatus.GENERATING_TA)
    other = await build.request(status=RequestStatus.GENERATING_TA)
    assert await uow.revisions.get_next_version(request.id) == 1
    assert await uow.revisions.get_latest_revision(request.id) is None
    v1 = await build.revision(request, config_summary={"sourcetypes": 1})
    v2 = await build.revision(request, generated_by=TARevisionType.MANUAL)
    o1 = await build.revision(other)
    assert (v1.version, v2.version, o1.version) == (1, 2, 1)
    assert v1.generated_by is TARevisionType.AUTO and v2.generated_by is TARevisionType.MANUAL
    assert (await uow.revisions.get_latest_revision(request.id)).id == v2.id
    assert await uow.revisions.get_next_version(request.id) == 3
    history = await uow.revisions.get_revision_history(request.id)
    assert [r.version for r in history] == [2, 1]


async def test_next_revision_refuses_caller_versions_and_unknown_request(uow: UnitOfWork):
    with pytest.raises(InvalidValueError, match="allocates"):
        await uow.revisions.create_next_revision(uuid.uuid4(), {"version": 7})
    with pytest.raises(NotFoundError, match="Request"):
        await uow.revisions.create_next_revision(uuid.uuid4(), {})


async def test_twenty_concurrent_writers_get_versions_1_to_20(
    committed_session_factory: async_sessionmaker[AsyncSession],
):
    async with UnitOfWork(committed_session_factory) as uow:
        request = await Builder(uow).request(status=RequestStatus.GENERATING_TA)
        await uow.commit()

    start = asyncio.Event()

    async def writer(n: int) -> int:
        async with UnitOfWork(committed_session_factory) as unit:
            await start.wait()
            revision = await unit.revisions.create_next_revision(
                request.id, {"storage_key": f"ta/{n}.tgz", "checksum": sha256(str(n))}
            )
            await asyncio.sleep(0)  # let the others pile up on the lock
            await unit.commit()
            return revision.version

    tasks = [asyncio.create_task(writer(n)) for n in range(20)]
    start.set()
    versions = await asyncio.gather(*tasks)
    assert sorted(versions) == list(range(1, 21))

    async with UnitOfWork(committed_session_factory) as uow:
        history = await uow.revisions.get_revision_history(request.id)
    assert [r.version for r in history] == list(range(20, 0, -1))
    assert len({r.storage_key for r in history}) == 20


async def test_concurrent_retries_of_one_submission_create_one_request(
    committed_session_factory: async_sessionmaker[AsyncSession],
):
    async with UnitOfWork(committed_session_factory) as uow:
        requester = await Builder(uow).user()
        await uow.commit()
    key = f"submit-{uuid.uuid4()}"
    start = asyncio.Event()

    async def submit() -> tuple[uuid.UUID, bool]:
        async with UnitOfWork(committed_session_factory) as unit:
            await start.wait()
            request, created = await unit.requests.create_idempotent(
                {"created_by": requester.id, "source_system": "retry", "idempotency_key": key}
            )
            await unit.commit()
            return request.id, created

    tasks = [asyncio.create_task(submit()) for _ in range(10)]
    start.set()
    outcomes = await asyncio.gather(*tasks)
    assert len({request_id for request_id, _ in outcomes}) == 1
    assert sum(created for _, created in outcomes) == 1
