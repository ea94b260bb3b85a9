"""One validation of a TA revision in the sandbox: QUEUED -> RUNNING -> PASSED | FAILED."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db.base import Base, TimestampMixin, UUIDPrimaryKeyMixin, pg_enum
from storage.db.enums import ValidationStatus

if TYPE_CHECKING:
    from storage.db.models.request import Request
    from storage.db.models.ta_revision import TARevision


class ValidationRun(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    """Results (coverage, CIM compliance, errors) are kept in `results_json`; the debug bundle
    (events, logs) is an object at (debug_bundle_bucket, debug_bundle_key).

    `splunk_container_id` names what ran the validation (a Kubernetes Job, a container, the
    local sandbox worker); `validation_logs` holds its log text. `duration_seconds` is a float,
    not the seed's integer: a sandbox run often takes less than a second.
    """

    __tablename__ = "validation_runs"
    __table_args__ = (
        CheckConstraint(
            "duration_seconds IS NULL OR duration_seconds >= 0", name="duration_non_negative"
        ),
    )

    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), index=True
    )
    ta_revision_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ta_revisions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ValidationStatus] = mapped_column(
        pg_enum(ValidationStatus, "validation_status"),
        default=ValidationStatus.QUEUED,
        server_default=text("'QUEUED'"),
        index=True,
    )
    splunk_container_id: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime | None] = mapped_column(index=True)
    completed_at: Mapped[datetime | None]
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    results_json: Mapped[dict[str, Any] | None]
    validation_logs: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    debug_bundle_key: Mapped[str | None] = mapped_column(String(1024))
    debug_bundle_bucket: Mapped[str | None] = mapped_column(String(255))

    request: Mapped[Request] = relationship(back_populates="validation_runs", lazy="raise")
    ta_revision: Mapped[TARevision] = relationship(back_populates="validation_runs", lazy="raise")
