"""Pinecone as the vector store, through the maintained `pinecone` SDK's data-plane `Index`.

The index is a dense index with the cosine metric and the embedder's dimension. The embedding
namespace is a Pinecone namespace; each vector carries `document_id` and `ordinal` as metadata,
which is what per-document deletes and filters select on. The SDK is synchronous: calls run in a
worker thread. It retries 429/5xx itself (its RetryConfig); what still fails is sorted into
"retry later" and "fix the configuration" like the other backends.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from storage.vectors.errors import VectorBackendError, VectorConfigurationError
from storage.vectors.model import (
    ChunkVector,
    VectorFilter,
    VectorMatch,
    VectorStats,
    check_top_k,
    check_vectors,
)

if TYPE_CHECKING:
    from pinecone import Index

T = TypeVar("T")
UPSERT_BATCH = 100
"""Vectors per upsert request: well under Pinecone's 2 MB request cap at 2,000 dimensions."""
_CONFIGURATION_STATUSES = frozenset({400, 401, 403, 404, 412, 422})


def pinecone_filter(
    where: VectorFilter | None, *, document_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """A `VectorFilter` in Pinecone's metadata filter language (top-level keys are ANDed)."""
    expression: dict[str, Any] = {}
    if document_id is not None:
        expression["document_id"] = {"$eq": str(document_id)}
    if where is not None and where.document_ids is not None:
        expression["document_id"] = {"$in": sorted(str(d) for d in where.document_ids)}
    if where is not None:
        for key, value in where.equals.items():
            expression[key] = {"$eq": value}
    return expression


class PineconeVectorStore:
    def __init__(self, *, index: Index, index_name: str, namespace: str, dimensions: int) -> None:
        self._index = index
        self._index_name = index_name
        self._namespace = namespace
        self._dimensions = dimensions

    @property
    def name(self) -> str:
        return f"pinecone/{self._index_name}"

    @property
    def namespace(self) -> str:
        return self._namespace

    async def _call(self, what: str, function: Callable[[], T]) -> T:
        from pinecone.errors import ApiError, PineconeError

        try:
            return await asyncio.to_thread(function)
        except ApiError as exc:
            message = f"pinecone index {self._index_name!r}: {what} answered {exc.status_code}"
            if exc.status_code in _CONFIGURATION_STATUSES:
                raise VectorConfigurationError(f"{message}: {exc.message}") from exc
            raise VectorBackendError(f"{message} (after retries)") from exc
        except PineconeError as exc:  # timeouts, connection errors, unparsable answers
            raise VectorBackendError(
                f"pinecone index {self._index_name!r}: {what} failed: {exc}"
            ) from exc

    def _check(self, vectors: Sequence[Sequence[float]]) -> None:
        store = f"pinecone index {self._index_name!r}"
        check_vectors(vectors, dimensions=self._dimensions, store=store)

    async def upsert(self, vectors: Sequence[ChunkVector]) -> int:
        self._check([v.values for v in vectors])
        written = 0
        for start in range(0, len(vectors), UPSERT_BATCH):
            batch: list[dict[str, Any]] = [
                {
                    "id": v.id,
                    "values": list(v.values),
                    "metadata": {
                        **dict(v.metadata),
                        "document_id": str(v.document_id),
                        "ordinal": v.ordinal,
                    },
                }
                for v in vectors[start : start + UPSERT_BATCH]
            ]
            response = await self._call("upsert", functools.partial(self._upsert, batch))
            written += response.upserted_count
        return written

    def _upsert(self, batch: list[dict[str, Any]]) -> Any:
        return self._index.upsert(vectors=batch, namespace=self._namespace)

    async def query(
        self, vector: Sequence[float], *, top_k: int, where: VectorFilter | None = None
    ) -> list[VectorMatch]:
        check_top_k(top_k)
        self._check([vector])
        expression = pinecone_filter(where)
        response = await self._call(
            "query",
            lambda: self._index.query(
                vector=list(vector),
                top_k=top_k,
                namespace=self._namespace,
                filter=expression or None,
                include_metadata=True,
            ),
        )
        matches = []
        for match in response.matches:
            metadata = dict(match.metadata or {})
            try:
                document_id = uuid.UUID(str(metadata.pop("document_id")))
                ordinal = int(metadata.pop("ordinal"))
            except (KeyError, ValueError) as exc:
                raise VectorBackendError(
                    f"pinecone index {self._index_name!r}: vector {match.id!r} lacks "
                    "document_id/ordinal metadata (not written by tagen?)"
                ) from exc
            matches.append(VectorMatch(document_id, ordinal, float(match.score), metadata))
        return matches

    async def delete_document(self, document_id: uuid.UUID, *, from_ordinal: int = 0) -> None:
        expression = pinecone_filter(None, document_id=document_id)
        if from_ordinal > 0:
            expression["ordinal"] = {"$gte": from_ordinal}
        await self._call(
            "delete", lambda: self._index.delete(filter=expression, namespace=self._namespace)
        )

    async def stats(self) -> VectorStats:
        response = await self._call("describe_index_stats", self._index.describe_index_stats)
        summary = response.namespaces.get(self._namespace)
        return VectorStats(
            namespace=self._namespace,
            vectors=summary.vector_count if summary is not None else 0,
            documents=None,
            dimension=response.dimension,
        )
