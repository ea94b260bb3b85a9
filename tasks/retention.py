"""Retention: delete sample objects past retention_until, then soft-delete their rows (and
the messages of the request's generation transcripts, which quote the samples).

Idempotent (a deleted sample is skipped) and tolerant of an object already gone (recorded in
the audit entry). The row goes first: an object delete cannot be undone, so it happens only
after the commit. If it fails then, the task's retry finds the row deleted and deletes the
object again (a no-op when it is gone): at worst an orphan object until that retry, never a row
pointing at a deleted object.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from prefect import task

from storage.db.enums import AuditAction, AuditEntity
from tasks.backends import get_backends, unit_of_work
from tasks.runtime import RETRY_DELAYS_S, audit, retry_transient

BATCH = 500


@dataclass(frozen=True)
class ExpiredSample:
    sample_id: str
    key: str
    retention_until: str


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def find_expired_samples(now: datetime | None = None) -> list[ExpiredSample]:
    cutoff = now or datetime.now(UTC)
    async with unit_of_work() as uow:
        rows = await uow.samples.get_samples_for_cleanup(cutoff, limit=BATCH)
    return [
        ExpiredSample(
            str(s.id), s.storage_key, s.retention_until.isoformat() if s.retention_until else ""
        )
        for s in rows
    ]


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def delete_sample(sample_id: str) -> bool:
    """Delete one expired sample; returns whether its object still existed.

    The object store is asked and written only with no transaction open, in a worker thread.
    """
    sid = uuid.UUID(sample_id)
    objects = get_backends().objects
    async with unit_of_work() as uow:
        sample = await uow.samples.get(sid)
    if sample.deleted_at is not None:  # finish an earlier attempt (a no-op when it is gone)
        await asyncio.to_thread(objects.delete, sample.storage_key)
        return False
    existed = await asyncio.to_thread(objects.exists, sample.storage_key)
    async with unit_of_work() as uow:
        await uow.samples.mark_as_deleted(sid)
        # Transcripts quote the samples (redacted or not): their messages go with them.
        purged = await uow.generation_sessions.purge_messages(sample.request_id)
        await audit(
            uow,
            action=AuditAction.DELETE,
            entity=AuditEntity.LOG_SAMPLE,
            entity_id=sid,
            details={
                "reason": "retention",
                "key": sample.storage_key,
                "object_missing": not existed,
                "request_id": str(sample.request_id),
                "transcript_messages_purged": purged,
            },
        )
        await uow.commit()
    await asyncio.to_thread(objects.delete, sample.storage_key)
    return existed
