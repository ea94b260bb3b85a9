"""The pgvector store's table: one embedding per knowledge chunk and embedding namespace.

`embedding` is a `vector` of any length (the embedder decides), with `dimensions` beside it so
that an HNSW index can be built per length: PostgreSQL indexes `embedding::vector(N)` for the
rows `WHERE dimensions = N` (migration 0006 builds one for the default hashing embedder; a
deployment using another length adds its own the same way, and is exact-scanned until then).
"""

from __future__ import annotations

import uuid

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    DDL,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    cast,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.db.base import Base, JsonObject, TimestampMixin, UUIDPrimaryKeyMixin

HNSW_DIMENSIONS = (1024, 384)
"""The lengths migration 0006 builds an HNSW index for: the hashing embedder's default and
MiniLM's (also what text-embedding-3-* give when asked for 384)."""


class KnowledgeVector(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    __tablename__ = "knowledge_vectors"
    __table_args__ = (
        UniqueConstraint("namespace", "document_id", "ordinal"),
        CheckConstraint("dimensions = vector_dims(embedding)", name="dimensions_match"),
        CheckConstraint("ordinal >= 0", name="ordinal_non_negative"),
    )

    namespace: Mapped[str] = mapped_column(String(200))
    """The embedder's name: vectors of different embedders are never compared."""
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("knowledge_documents.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int]
    dimensions: Mapped[int] = mapped_column(SmallInteger)
    embedding: Mapped[list[float]] = mapped_column(Vector())
    extra_metadata: Mapped[JsonObject] = mapped_column("metadata")


for _length in HNSW_DIMENSIONS:
    Index(
        f"ix_knowledge_vectors_embedding_hnsw_{_length}",
        cast(KnowledgeVector.embedding, Vector(_length)).label("embedding_sized"),
        postgresql_using="hnsw",
        postgresql_ops={"embedding_sized": "vector_cosine_ops"},
        postgresql_where=text(f"dimensions = {_length}"),
    )

# `metadata.create_all` (development, the seeds' test fixture) installs pgvector just before the
# table that needs it; migrations do it in 0001.
event.listen(
    KnowledgeVector.__table__, "before_create", DDL("CREATE EXTENSION IF NOT EXISTS vector")
)
