"""One knowledge document per content: content_hash becomes unique.

Registration is then idempotent in PostgreSQL (INSERT ... ON CONFLICT DO NOTHING) instead of a
Python look-up that two concurrent indexing runs could both pass. Reviewed by hand: the unique
constraint replaces the plain index (it is an index itself); upgrading a database that already
holds duplicates stops with a message naming them instead of a bare IntegrityError. NULL hashes
stay allowed (and distinct).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    duplicates = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT content_hash FROM knowledge_documents WHERE content_hash IS NOT NULL "
                "GROUP BY content_hash HAVING count(*) > 1 ORDER BY content_hash LIMIT 5"
            )
        )
        .scalars()
        .all()
    )
    if duplicates:
        raise RuntimeError(
            "knowledge_documents holds several documents with the same content_hash "
            f"({', '.join(duplicates)}...): deactivate and delete the extra copies first"
        )
    op.drop_index(op.f("ix_knowledge_documents_content_hash"), table_name="knowledge_documents")
    op.create_unique_constraint(
        op.f("uq_knowledge_documents_content_hash"), "knowledge_documents", ["content_hash"]
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("uq_knowledge_documents_content_hash"), "knowledge_documents", type_="unique"
    )
    op.create_index(
        op.f("ix_knowledge_documents_content_hash"),
        "knowledge_documents",
        ["content_hash"],
        unique=False,
    )
