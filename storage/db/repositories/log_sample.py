"""Log samples: per-request listing, retention cutoff and soft delete."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select

from storage.db.models import LogSample
from storage.db.repositories.base import BaseRepository


class LogSampleRepository(BaseRepository[LogSample]):
    model = LogSample

    async def get_by_request(
        self, request_id: uuid.UUID, *, include_deleted: bool = False
    ) -> list[LogSample]:
        stmt = select(LogSample).where(LogSample.request_id == request_id)
        if not include_deleted:
            stmt = stmt.where(LogSample.deleted_at.is_(None))
        return list((await self.session.scalars(stmt.order_by(LogSample.created_at))).all())

    async def get_samples_for_cleanup(
        self, cutoff: datetime, limit: int | None = None
    ) -> list[LogSample]:
        """Samples not yet deleted whose retention ended at or before `cutoff`, oldest first."""
        stmt = (
            select(LogSample)
            .where(LogSample.deleted_at.is_(None), LogSample.retention_until <= cutoff)
            .order_by(LogSample.retention_until, LogSample.id)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return list((await self.session.scalars(stmt)).all())

    async def mark_as_deleted(self, sample_id: uuid.UUID) -> LogSample:
        """Soft delete; marking twice keeps the first deletion time."""
        sample = await self.get(sample_id)
        if sample.deleted_at is None:
            sample.deleted_at = func.clock_timestamp()
            async with self._write():
                await self.session.flush()
            await self.session.refresh(sample)
        return sample
