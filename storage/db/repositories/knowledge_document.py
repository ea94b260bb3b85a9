"""Knowledge documents: what still needs indexing, marking indexed, statistics."""

from __future__ import annotations

import uuid
from typing import Any, TypedDict

from sqlalchemy import func, or_, select

from storage.db.errors import InvalidValueError
from storage.db.models import KnowledgeDocument
from storage.db.repositories.base import BaseRepository


class KnowledgeStatistics(TypedDict):
    """The seed's shape ({"by_type": {...}, "indexing_status": {"indexed", "unindexed"}}) plus
    totals."""

    by_type: dict[str, int]
    indexing_status: dict[str, int]
    total: int
    active: int
    total_embeddings: int


class KnowledgeDocumentRepository(BaseRepository[KnowledgeDocument]):
    model = KnowledgeDocument

    async def create_unless_known(self, data: dict[str, Any]) -> tuple[KnowledgeDocument, bool]:
        """Insert unless a document with the same `content_hash` exists: (document, created)."""
        if data.get("content_hash") is None:
            raise InvalidValueError("KnowledgeDocument: content_hash is required to deduplicate")
        return await self._create_unless_exists(data, unique="content_hash")

    async def get_unindexed_documents(self, limit: int = 100) -> list[KnowledgeDocument]:
        """Active documents not indexed yet (pinecone_indexed is the seeds' name for it), oldest
        first."""
        stmt = (
            select(KnowledgeDocument)
            .where(KnowledgeDocument.is_active.is_(True))
            .where(KnowledgeDocument.pinecone_indexed.is_(False))
            .order_by(KnowledgeDocument.created_at)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def get_documents_to_index(
        self, index_name: str, limit: int = 100
    ) -> list[KnowledgeDocument]:
        """Active documents not indexed yet, or indexed into another index than `index_name`
        (the embedder or vector store changed since), oldest first."""
        stmt = (
            select(KnowledgeDocument)
            .where(KnowledgeDocument.is_active.is_(True))
            .where(
                or_(
                    KnowledgeDocument.pinecone_indexed.is_(False),
                    KnowledgeDocument.pinecone_index_name.is_distinct_from(index_name),
                )
            )
            .order_by(KnowledgeDocument.created_at, KnowledgeDocument.id)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def mark_as_indexed(
        self, document_id: uuid.UUID, index_name: str, embedding_count: int
    ) -> KnowledgeDocument:
        """Indexed into the index `index_name` (stored as pinecone_index_name, the seeds' column;
        today the full-text chunks, "postgres-fts"), `embedding_count` its entries."""
        if embedding_count < 0:
            raise InvalidValueError(f"embedding_count must be >= 0, got {embedding_count}")
        document = await self.get(document_id)
        document.pinecone_indexed = True
        document.pinecone_index_name = index_name
        document.embedding_count = embedding_count
        document.indexed_at = func.clock_timestamp()
        async with self._write():
            await self.session.flush()
        await self.session.refresh(document)
        return document

    async def get_statistics(self) -> KnowledgeStatistics:
        totals = (
            await self.session.execute(
                select(
                    func.count(),
                    func.count().filter(KnowledgeDocument.is_active.is_(True)),
                    func.count().filter(KnowledgeDocument.pinecone_indexed.is_(True)),
                    func.coalesce(func.sum(KnowledgeDocument.embedding_count), 0),
                )
            )
        ).one()
        by_type = (
            await self.session.execute(
                select(KnowledgeDocument.document_type, func.count()).group_by(
                    KnowledgeDocument.document_type
                )
            )
        ).all()
        total, indexed = int(totals[0]), int(totals[2])
        return KnowledgeStatistics(
            by_type={doc_type: int(count) for doc_type, count in by_type},
            indexing_status={"indexed": indexed, "unindexed": total - indexed},
            total=total,
            active=int(totals[1]),
            total_embeddings=int(totals[3]),
        )
