"""Knowledge chunks: replace a document's chunks, and rank chunks for a free-text query."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, literal_column, or_, select

from storage.db.models.knowledge_chunk import KnowledgeChunk
from storage.db.models.knowledge_document import KnowledgeDocument
from storage.db.repositories.base import BaseRepository


@dataclass(frozen=True)
class ChunkText:
    """What the indexer hands over for one chunk."""

    ordinal: int
    title: str
    content: str


@dataclass(frozen=True)
class ChunkHit:
    document_id: uuid.UUID
    chunk_id: uuid.UUID
    title: str
    content: str
    rank: float


class KnowledgeChunkRepository(BaseRepository[KnowledgeChunk]):
    model = KnowledgeChunk
    default_order = "ordinal"

    async def replace_for_document(
        self, document_id: uuid.UUID, chunks: Sequence[ChunkText]
    ) -> int:
        """Make `chunks` the document's chunks (re-indexing is idempotent); returns the count."""
        async with self._write():
            await self.session.execute(
                delete(KnowledgeChunk).where(KnowledgeChunk.document_id == document_id)
            )
            if chunks:
                await self.session.execute(
                    insert(KnowledgeChunk),
                    [
                        {
                            "document_id": document_id,
                            "ordinal": chunk.ordinal,
                            "title": chunk.title,
                            "content": chunk.content,
                        }
                        for chunk in chunks
                    ],
                )
        return len(chunks)

    async def search(self, query: str, limit: int = 5) -> list[ChunkHit]:
        """Chunks of active documents best matching `query` (ts_rank), best first.

        The query is read with websearch_to_tsquery (all words, quotes, OR, -negation) and,
        so that a long request description still finds chunks sharing only some of its words,
        also as the OR of its words; matching all words ranks twice as high.
        """
        words = [w for w in "".join(c if c.isalnum() else " " for c in query).split() if w]
        if not words:
            return []
        strict = func.websearch_to_tsquery(literal_column("'english'"), query)
        loose = func.to_tsquery(literal_column("'english'"), " | ".join(words))
        rank = func.ts_rank(KnowledgeChunk.search_vector, strict) * 2 + func.ts_rank(
            KnowledgeChunk.search_vector, loose
        )
        stmt = (
            select(
                KnowledgeChunk.document_id,
                KnowledgeChunk.id,
                KnowledgeChunk.title,
                KnowledgeChunk.content,
                rank.label("rank"),
            )
            .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
            .where(KnowledgeDocument.is_active.is_(True))
            .where(
                or_(
                    KnowledgeChunk.search_vector.bool_op("@@")(strict),
                    KnowledgeChunk.search_vector.bool_op("@@")(loose),
                )
            )
            .order_by(rank.desc(), KnowledgeChunk.id)
            .limit(limit)
        )
        rows = (await self.session.execute(stmt)).all()
        return [ChunkHit(row[0], row[1], row[2], row[3], float(row[4])) for row in rows]

    async def count_for_document(self, document_id: uuid.UUID) -> int:
        return await self.count({"document_id": document_id})
