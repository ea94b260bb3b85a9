"""The default vector store: the `knowledge_vectors` table (pgvector) of the application database.

Each call is its own short transaction (committed here: the store is a backend like the object
store, not a repository of the caller's unit of work). Queries order by cosine distance on
`embedding::vector(N)` restricted to `dimensions = N`, the expression the HNSW index of that
length is built on, with iterative index scans so that filters do not starve the top k.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import cast, delete, func, literal, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db.models.knowledge_vector import KnowledgeVector
from storage.vectors.errors import VectorBackendError, VectorConfigurationError
from storage.vectors.model import (
    ChunkVector,
    VectorFilter,
    VectorMatch,
    VectorStats,
    check_top_k,
    check_vectors,
)

_UNDEFINED_TABLE = "42P01"
_MIN_EF_SEARCH = 40


class PgVectorStore:
    """Chunk vectors of one embedding namespace in PostgreSQL."""

    name = "pgvector"

    def __init__(
        self,
        *,
        sessions: Callable[[], async_sessionmaker[AsyncSession]],
        namespace: str,
        dimensions: int,
    ) -> None:
        """`sessions` gives the running event loop's session factory (as tasks' backends do)."""
        self._sessions = sessions
        self._namespace = namespace
        self._dimensions = dimensions

    @property
    def namespace(self) -> str:
        return self._namespace

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        try:
            async with self._sessions()() as session:
                yield session
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == _UNDEFINED_TABLE:
                raise VectorConfigurationError(
                    "the database has no knowledge_vectors table: its server lacks the pgvector "
                    "extension. Install pgvector and re-run migration 0006, or set "
                    "TAGEN_VECTORS_KIND=pinecone"
                ) from exc
            raise VectorBackendError(f"pgvector: {str(exc.orig or exc).strip()}") from exc

    def _typed(self, values: Sequence[float]) -> Any:
        return cast(literal(list(values), Vector()), Vector(self._dimensions))

    def _check(self, vectors: Sequence[Sequence[float]]) -> None:
        store = f"pgvector namespace {self._namespace!r}"
        check_vectors(vectors, dimensions=self._dimensions, store=store)

    async def upsert(self, vectors: Sequence[ChunkVector]) -> int:
        if not vectors:
            return 0
        self._check([v.values for v in vectors])
        rows = [
            {
                "namespace": self._namespace,
                "document_id": v.document_id,
                "ordinal": v.ordinal,
                "dimensions": self._dimensions,
                "embedding": list(v.values),
                "extra_metadata": dict(v.metadata),
            }
            for v in vectors
        ]
        stmt = insert(KnowledgeVector)
        stmt = stmt.on_conflict_do_update(
            index_elements=["namespace", "document_id", "ordinal"],
            set_={
                "dimensions": stmt.excluded.dimensions,
                "embedding": stmt.excluded.embedding,
                "metadata": stmt.excluded.metadata,
            },
        )
        async with self._session() as session:
            await session.execute(stmt, rows)
            await session.commit()
        return len(rows)

    async def query(
        self, vector: Sequence[float], *, top_k: int, where: VectorFilter | None = None
    ) -> list[VectorMatch]:
        check_top_k(top_k)
        self._check([vector])
        distance = cast(KnowledgeVector.embedding, Vector(self._dimensions)).cosine_distance(
            self._typed(vector)
        )
        stmt = (
            select(
                KnowledgeVector.document_id,
                KnowledgeVector.ordinal,
                KnowledgeVector.extra_metadata,
                distance.label("distance"),
            )
            .where(KnowledgeVector.namespace == self._namespace)
            .where(KnowledgeVector.dimensions == self._dimensions)
            .order_by(distance, KnowledgeVector.document_id, KnowledgeVector.ordinal)
            .limit(top_k)
        )
        if where is not None and where.document_ids is not None:
            stmt = stmt.where(KnowledgeVector.document_id.in_(where.document_ids))
        if where is not None and where.equals:
            stmt = stmt.where(KnowledgeVector.extra_metadata.contains(dict(where.equals)))
        async with self._session() as session:
            await session.execute(text("SET LOCAL hnsw.iterative_scan = strict_order"))
            await session.execute(text(f"SET LOCAL hnsw.ef_search = {max(_MIN_EF_SEARCH, top_k)}"))
            rows = (await session.execute(stmt)).all()
        return [
            VectorMatch(
                document_id=row.document_id,
                ordinal=row.ordinal,
                score=1.0 - float(row.distance),
                metadata=row.extra_metadata,
            )
            for row in rows
        ]

    async def delete_document(self, document_id: uuid.UUID, *, from_ordinal: int = 0) -> None:
        stmt = (
            delete(KnowledgeVector)
            .where(KnowledgeVector.namespace == self._namespace)
            .where(KnowledgeVector.document_id == document_id)
            .where(KnowledgeVector.ordinal >= from_ordinal)
        )
        async with self._session() as session:
            await session.execute(stmt)
            await session.commit()

    async def stats(self) -> VectorStats:
        stmt = select(
            func.count(),
            func.count(func.distinct(KnowledgeVector.document_id)),
            func.max(KnowledgeVector.dimensions),
        ).where(KnowledgeVector.namespace == self._namespace)
        async with self._session() as session:
            vectors, documents, dimension = (await session.execute(stmt)).one()
        return VectorStats(
            namespace=self._namespace,
            vectors=int(vectors),
            documents=int(documents),
            dimension=int(dimension) if dimension is not None else None,
        )
