"""A request for a TA: who asked, for which source, and where it is in the lifecycle."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db.base import (
    Base,
    JsonObject,
    TimestampMixin,
    UUIDPrimaryKeyMixin,
    owned_rows,
    pg_enum,
)
from storage.db.enums import RequestStatus

if TYPE_CHECKING:
    from storage.db.models.log_sample import LogSample
    from storage.db.models.ta_revision import TARevision
    from storage.db.models.user import User
    from storage.db.models.validation_run import ValidationRun


class Request(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    """A TA request. Status moves only along REQUEST_TRANSITIONS (also enforced by a trigger).

    A request is created as NEW or PENDING_APPROVAL only (RequestRepository.create and a
    trigger, migration 0004); every later status is reached by a transition.

    Additions beyond the seed columns:
    - `idempotency_key` (unique, nullable): a retried submission returns the existing request.
    - `approved_by` / `approved_at` also record who rejected, and when.
    - `failure_reason`: why the lifecycle ended FAILED.
    - `flow_run_id`: the Prefect flow run driving the request (its approval gate is resumed
      there); NULL for a request made outside a flow run.
    """

    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_created_at", "created_at"),
        Index("ix_requests_status_created_at", "status", "created_at"),
    )

    created_by: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    source_system: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    cim_required: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    status: Mapped[RequestStatus] = mapped_column(
        pg_enum(RequestStatus, "request_status"),
        default=RequestStatus.NEW,
        server_default=text("'NEW'"),
        index=True,
    )
    approved_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    approved_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    flow_run_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    extra_metadata: Mapped[JsonObject] = mapped_column("metadata")

    created_by_user: Mapped[User] = relationship(foreign_keys=[created_by], lazy="raise")
    approved_by_user: Mapped[User | None] = relationship(foreign_keys=[approved_by], lazy="raise")
    log_samples: Mapped[list[LogSample]] = owned_rows(
        back_populates="request", order_by="LogSample.created_at"
    )
    ta_revisions: Mapped[list[TARevision]] = owned_rows(
        back_populates="request", order_by="TARevision.version"
    )
    validation_runs: Mapped[list[ValidationRun]] = owned_rows(
        back_populates="request", order_by="ValidationRun.created_at"
    )

    def __repr__(self) -> str:
        return f"Request(id={self.id}, status={self.status!s})"
