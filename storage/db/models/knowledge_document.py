"""A document that generation retrieves from (markdown, pdf, Splunk docs, existing TAs)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db.base import Base, JsonObject, TimestampMixin, UUIDPrimaryKeyMixin


class KnowledgeDocument(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    """`pinecone_indexed` and `pinecone_index_name` (seed names) mean "indexed in the vector
    store" and the index it went to, whichever backend.

    Addition: `content_hash` (SHA-256 of the stored file) is unique, so registering the same
    content twice (retries, concurrent indexing runs) yields one document.
    """

    __tablename__ = "knowledge_documents"
    __table_args__ = (CheckConstraint("embedding_count >= 0", name="embedding_count_non_negative"),)

    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    document_type: Mapped[str] = mapped_column(String(50), index=True)
    storage_bucket: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(1024))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    content_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    pinecone_indexed: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false"), index=True
    )
    embedding_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    pinecone_index_name: Mapped[str | None] = mapped_column(String(255))
    indexed_at: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=text("true"), index=True
    )
    extra_metadata: Mapped[JsonObject] = mapped_column("metadata")
