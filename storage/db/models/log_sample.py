"""A raw log sample uploaded with a request; kept until its retention date, then soft-deleted."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db.base import Base, JsonObject, TimestampMixin, UUIDPrimaryKeyMixin

if TYPE_CHECKING:
    from storage.db.models.request import Request


class LogSample(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    """Metadata of one sample file; the bytes live in the object store at (bucket, key).

    `deleted_at` marks a soft delete: the row stays for the audit trail, the object is removed.
    """

    __tablename__ = "log_samples"
    __table_args__ = (
        CheckConstraint("file_size >= 0", name="file_size_non_negative"),
        CheckConstraint("checksum ~ '^[0-9a-f]{64}$'", name="checksum_sha256_hex"),
    )

    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(500))
    storage_bucket: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(1024), index=True)
    file_size: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(String(255))
    checksum: Mapped[str] = mapped_column(String(64))
    sample_preview: Mapped[str | None] = mapped_column(Text)
    retention_until: Mapped[datetime | None] = mapped_column(index=True)
    deleted_at: Mapped[datetime | None]
    extra_metadata: Mapped[JsonObject] = mapped_column("metadata")

    request: Mapped[Request] = relationship(back_populates="log_samples", lazy="raise")

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
