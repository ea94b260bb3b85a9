"""The audit trail. Append-only: a trigger (migration 0001) rejects UPDATE and DELETE."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.orm import Mapped, mapped_column

from storage.db.base import Base, JsonObject, UUIDPrimaryKeyMixin, pg_enum
from storage.db.enums import AuditAction


class AuditLog(UUIDPrimaryKeyMixin, Base):
    """Who did what to which entity, when, from where. No updated_at: rows never change.

    `user_id` has no ON DELETE action: a user with history is deactivated, not deleted.
    """

    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("ix_audit_logs_user_id_timestamp", "user_id", "timestamp"),
        Index("ix_audit_logs_entity_type_entity_id", "entity_type", "entity_id"),
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[AuditAction] = mapped_column(pg_enum(AuditAction, "audit_action"))
    entity_type: Mapped[str] = mapped_column(String(100))
    entity_id: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[JsonObject]
    ip_address: Mapped[ipaddress.IPv4Address | ipaddress.IPv6Address | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(String(1000))
    correlation_id: Mapped[str | None] = mapped_column(String(255), index=True)
    timestamp: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp(), index=True)
