"""TA revisions: version allocation that is safe under concurrent writers, and history."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from storage.db.errors import InvalidValueError, NotFoundError
from storage.db.models import Request, TARevision
from storage.db.repositories.base import BaseRepository


class TARevisionRepository(BaseRepository[TARevision]):
    model = TARevision

    async def get_latest_revision(self, request_id: uuid.UUID) -> TARevision | None:
        stmt = (
            select(TARevision)
            .where(TARevision.request_id == request_id)
            .order_by(TARevision.version.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def get_next_version(self, request_id: uuid.UUID) -> int:
        """max(version) + 1 as of now; create_next_revision is what allocates it safely."""
        stmt = select(func.coalesce(func.max(TARevision.version), 0)).where(
            TARevision.request_id == request_id
        )
        return int(await self.session.scalar(stmt) or 0) + 1

    async def get_revision_history(self, request_id: uuid.UUID) -> list[TARevision]:
        """Newest first."""
        stmt = (
            select(TARevision)
            .where(TARevision.request_id == request_id)
            .order_by(TARevision.version.desc())
        )
        return list((await self.session.scalars(stmt)).all())

    async def create_next_revision(
        self, request_id: uuid.UUID, data: Mapping[str, Any]
    ) -> TARevision:
        """Create revision max+1 for the request.

        The request row is locked FOR UPDATE until the caller's transaction ends, so concurrent
        writers for one request queue up and each reads the version committed before it:
        versions come out 1..N without gaps, duplicates or IntegrityErrors.
        """
        if "version" in data or "request_id" in data:
            raise InvalidValueError("create_next_revision allocates request_id and version itself")
        locked = await self.session.scalar(
            select(Request.id).where(Request.id == request_id).with_for_update()
        )
        if locked is None:
            raise NotFoundError("Request", request_id)
        version = await self.get_next_version(request_id)
        return await self.create({**data, "request_id": request_id, "version": version})
