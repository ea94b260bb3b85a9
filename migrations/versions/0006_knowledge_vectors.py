"""knowledge_vectors: the pgvector store (one embedding per chunk and embedding namespace).

Reviewed by hand. `embedding` is an unsized `vector` so that any embedder fits; `dimensions`
(checked against `vector_dims(embedding)`) selects the rows a sized HNSW index covers. HNSW
indexes (cosine) are built for the hashing embedder's default length (1024) and MiniLM's (384),
as partial expression indexes `(embedding::vector(N)) WHERE dimensions = N`, the form pgvector
documents for mixed lengths; queries use the same expression. Rows go with their document
(ON DELETE CASCADE).

A server without pgvector (0001 installs the extension only when it is offered) gets no table:
the pgvector store then refuses with a message naming the fix, and Pinecone still works. The
table is derived data: downgrade drops it, the indexing flow rebuilds it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HNSW_DIMENSIONS = (1024, 384)  # hashing's default and MiniLM's, frozen here


def _has_pgvector() -> bool:
    return bool(
        op.get_bind()
        .execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'vector'"))
        .scalar()
    )


def upgrade() -> None:
    if not _has_pgvector():
        return
    op.create_table(
        "knowledge_vectors",
        sa.Column("namespace", sa.String(length=200), nullable=False),
        sa.Column("document_id", sa.UUID(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("dimensions", sa.SmallInteger(), nullable=False),
        sa.Column("embedding", Vector(), nullable=False),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "dimensions = vector_dims(embedding)",
            name=op.f("ck_knowledge_vectors_dimensions_match"),
        ),
        sa.CheckConstraint("ordinal >= 0", name=op.f("ck_knowledge_vectors_ordinal_non_negative")),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["knowledge_documents.id"],
            name=op.f("fk_knowledge_vectors_document_id_knowledge_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_vectors")),
        sa.UniqueConstraint(
            "namespace",
            "document_id",
            "ordinal",
            name=op.f("uq_knowledge_vectors_namespace_document_id_ordinal"),
        ),
    )
    op.create_index(
        op.f("ix_knowledge_vectors_document_id"), "knowledge_vectors", ["document_id"], unique=False
    )
    for length in HNSW_DIMENSIONS:
        op.execute(
            f"CREATE INDEX ix_knowledge_vectors_embedding_hnsw_{length} ON knowledge_vectors "
            f"USING hnsw ((embedding::vector({length})) vector_cosine_ops) "
            f"WHERE dimensions = {length}"
        )
    op.execute(
        "CREATE TRIGGER trg_knowledge_vectors_updated_at BEFORE UPDATE ON knowledge_vectors "
        "FOR EACH ROW EXECUTE FUNCTION tagen_set_updated_at()"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS knowledge_vectors")
