"""Knowledge chunks: replace a document's chunks, rank chunks for a free-text query, and read
chunks by (document, ordinal), the address vector stores use."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, insert, literal_column, or_, select, tuple_

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
    ordinal: int


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
            self._hits(rank.label("rank"))
            .where(
                or_(
                    KnowledgeChunk.search_vector.bool_op("@@")(strict),
                    KnowledgeChunk.search_vector.bool_op("@@")(loose),
                )
            )
            .order_by(rank.desc(), KnowledgeChunk.id)
            .limit(limit)
        )
        return await self._fetch(stmt)

    async def get_by_keys(self, keys: Sequence[tuple[uuid.UUID, int]]) -> list[ChunkHit]:
        """Chunks of active documents at these (document_id, ordinal) addresses, in the order
        of `keys` (rank 0); addresses with no chunk (stale vectors, inactive documents) are
        left out."""
        if not keys:
            return []
        stmt = self._hits(literal_column("0.0").label("rank")).where(
            tuple_(KnowledgeChunk.document_id, KnowledgeChunk.ordinal).in_(list(keys))
        )
        found = {(hit.document_id, hit.ordinal): hit for hit in await self._fetch(stmt)}
        return [found[key] for key in keys if key in found]

    @staticmethod
    def _hits(rank: Any) -> Select[Any]:
        return (
            select(
                KnowledgeChunk.document_id,
                KnowledgeChunk.id,
                KnowledgeChunk.title,
                KnowledgeChunk.content,
                rank,
                KnowledgeChunk.ordinal,
            )
            .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
            .where(KnowledgeDocument.is_active.is_(True))
        )

    async def _fetch(self, stmt: Select[Any]) -> list[ChunkHit]:
        rows = (await self.session.execute(stmt)).all()
        return [ChunkHit(r[0], r[1], r[2], r[3], float(r[4]), int(r[5])) for r in rows]

    async def count_for_document(self, document_id: uuid.UUID) -> int:
        return await self.count({"document_id": document_id})
