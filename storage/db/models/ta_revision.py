"""A generated (or hand-edited) TA archive: version N of a request's add-on."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db.base import (
    Base,
    JsonObject,
    TimestampMixin,
    UUIDPrimaryKeyMixin,
    owned_rows,
    pg_enum,
)
from storage.db.enums import TARevisionType

if TYPE_CHECKING:
    from storage.db.models.request import Request
    from storage.db.models.user import User
    from storage.db.models.validation_run import ValidationRun


class TARevision(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    """Versions are 1, 2, 3... per request, unique; TARevisionRepository.create_next_revision
    allocates them safely under concurrency.

    `generated_by` says how the revision came to be (AUTO: generated, MANUAL: uploaded by a
    person); `generated_by_user` is that person (the seed's relationship: `uploaded_by_user`).
    """

    __tablename__ = "ta_revisions"
    __table_args__ = (
        UniqueConstraint("request_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("file_size IS NULL OR file_size >= 0", name="file_size_non_negative"),
    )

    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    version: Mapped[int]
    generated_by: Mapped[TARevisionType] = mapped_column(
        pg_enum(TARevisionType, "ta_revision_type"),
        default=TARevisionType.AUTO,
        server_default=text("'AUTO'"),
    )
    storage_bucket: Mapped[str | None] = mapped_column(String(255))
    storage_key: Mapped[str | None] = mapped_column(String(1024))
    checksum: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    config_summary: Mapped[JsonObject]
    generation_metadata: Mapped[JsonObject]
    generated_by_user: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    request: Mapped[Request] = relationship(back_populates="ta_revisions", lazy="raise")
    uploaded_by_user: Mapped[User | None] = relationship(
        foreign_keys=[generated_by_user], lazy="raise"
    )
    validation_runs: Mapped[list[ValidationRun]] = owned_rows(
        back_populates="ta_revision", order_by="ValidationRun.created_at"
    )
