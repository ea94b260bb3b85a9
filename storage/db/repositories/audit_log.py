"""The audit trail: append, and read by entity, user, time and correlation id; never change."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import func, select

from storage.db.enums import LEGACY_AUDIT_ENTITIES, AuditAction, AuditEntity
from storage.db.errors import ImmutableAuditLogError
from storage.db.models import AuditLog
from storage.db.repositories.base import BaseRepository, to_enum


class AuditLogRepository(BaseRepository[AuditLog]):
    """`entity_id` and `correlation_id` are text (the seed has UUIDs): entities and correlation
    ids that are not UUIDs (a flow run outside Prefect is "local") fit too. UUIDs are accepted
    everywhere and stored in their canonical text form.

    `entity_type` is an AuditEntity, written as its value ("request"); an unknown name is an
    InvalidValueError. Lookups also find the entries written before AuditEntity under the class
    name ("Request"): the log is append-only, so they are read as they are, never rewritten."""

    model = AuditLog
    default_order = "-timestamp"

    async def create_log(
        self,
        user_id: uuid.UUID | None,
        action: AuditAction | str,
        entity_type: AuditEntity | str,
        entity_id: str | uuid.UUID | None = None,
        details: dict[str, Any] | None = None,
        ip_address: str | None = None,
        user_agent: str | None = None,
        correlation_id: str | uuid.UUID | None = None,
    ) -> AuditLog:
        return await self.create(
            {
                "user_id": user_id,
                "action": action,
                "entity_type": audit_entity(entity_type).value,
                "entity_id": _text(entity_id),
                "details": details or {},
                "ip_address": ip_address,
                "user_agent": user_agent,
                "correlation_id": _text(correlation_id),
            }
        )

    async def get_by_entity(
        self,
        entity_type: AuditEntity | str,
        entity_id: str | uuid.UUID,
        skip: int = 0,
        limit: int = 100,
    ) -> list[AuditLog]:
        return await self.get_all(
            skip,
            limit,
            filters={
                "entity_type": spellings(audit_entity(entity_type)),
                "entity_id": str(entity_id),
            },
        )

    async def get_by_user(
        self, user_id: uuid.UUID, skip: int = 0, limit: int = 100
    ) -> list[AuditLog]:
        return await self.get_all(skip, limit, filters={"user_id": user_id})

    async def get_recent_activity(self, hours: int = 24, limit: int = 100) -> list[AuditLog]:
        stmt = (
            select(AuditLog)
            .where(AuditLog.timestamp >= func.clock_timestamp() - timedelta(hours=hours))
            .order_by(AuditLog.timestamp.desc(), AuditLog.id)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def get_recent_matching(
        self, details: Mapping[str, Any], *, within: timedelta, limit: int
    ) -> list[datetime]:
        """Timestamps, newest first (at most `limit`), of the entries of the last `within` by
        the server's clock whose details contain `details`: what rate limits count."""
        stmt = (
            select(AuditLog.timestamp)
            .where(
                AuditLog.details.contains(dict(details)),
                AuditLog.timestamp >= func.clock_timestamp() - within,
            )
            .order_by(AuditLog.timestamp.desc())
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def get_by_correlation_id(self, correlation_id: str | uuid.UUID) -> list[AuditLog]:
        """Oldest first: the story of one flow run or API call."""
        stmt = (
            select(AuditLog)
            .where(AuditLog.correlation_id == str(correlation_id))
            .order_by(AuditLog.timestamp, AuditLog.id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def update(self, id: uuid.UUID, data: Mapping[str, Any]) -> NoReturn:
        raise ImmutableAuditLogError("UPDATE")

    async def delete(self, id: uuid.UUID) -> NoReturn:
        raise ImmutableAuditLogError("DELETE")


def audit_entity(value: AuditEntity | str) -> AuditEntity:
    """`value` as an AuditEntity; a name written before the enum ("TARevision") is read too."""
    if isinstance(value, str) and value in LEGACY_AUDIT_ENTITIES:
        return LEGACY_AUDIT_ENTITIES[value]
    return to_enum(AuditEntity, value, "AuditLog.entity_type")


def spellings(entity: AuditEntity) -> list[str]:
    """How entries about `entity` are stored: its value, and its name before AuditEntity."""
    return [entity.value, *(old for old, new in LEGACY_AUDIT_ENTITIES.items() if new is entity)]


def _text(value: str | uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None
