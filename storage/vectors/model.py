"""The two protocols of vector retrieval and the records they exchange.

An `Embedder` turns texts into vectors; a `VectorStore` keeps one vector per knowledge chunk,
addressed by (document, ordinal), and answers nearest-neighbour queries by cosine similarity.
Vectors of different embedders never meet: a store is opened on one embedder's namespace.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from storage.vectors.errors import VectorConfigurationError

MetadataValue = str | int | float | bool
Vector = list[float]


@runtime_checkable
class Embedder(Protocol):
    """Texts to L2-normalised vectors of `dimensions` floats, in input order.

    `name` identifies the embedding space (recipe or model, and dimension): two embedders with
    the same name must give comparable vectors, so it is what a store's namespace is keyed on.
    Calls may block (network, CPU): callers run them in a worker thread.
    """

    @property
    def name(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[Vector]: ...


@dataclass(frozen=True)
class ChunkVector:
    """The vector of one chunk of a knowledge document (its ordinal within the document)."""

    document_id: uuid.UUID
    ordinal: int
    values: Sequence[float]
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """Deterministic, so that re-indexing a document overwrites its vectors in place."""
        return f"{self.document_id}:{self.ordinal}"


@dataclass(frozen=True)
class VectorMatch:
    """A nearest neighbour: `score` is the cosine similarity (1 = same direction)."""

    document_id: uuid.UUID
    ordinal: int
    score: float
    metadata: Mapping[str, MetadataValue]


@dataclass(frozen=True)
class VectorFilter:
    """Restricts a query: only these documents (when given) and metadata equal to `equals`."""

    document_ids: frozenset[uuid.UUID] | None = None
    equals: Mapping[str, MetadataValue] = field(default_factory=dict)


@dataclass(frozen=True)
class VectorStats:
    """What the store holds in its namespace (`dimension` None while it holds nothing)."""

    namespace: str
    vectors: int
    documents: int | None
    """None when the backend cannot count documents (Pinecone)."""
    dimension: int | None


@runtime_checkable
class VectorStore(Protocol):
    """One namespace of chunk vectors. Writes are idempotent (upsert by chunk id)."""

    @property
    def name(self) -> str:
        """Where the vectors go, recorded on each indexed document (`pgvector`, `pinecone/x`)."""
        ...

    @property
    def namespace(self) -> str: ...

    async def upsert(self, vectors: Sequence[ChunkVector]) -> int: ...

    async def query(
        self, vector: Sequence[float], *, top_k: int, where: VectorFilter | None = None
    ) -> list[VectorMatch]: ...

    async def delete_document(self, document_id: uuid.UUID, *, from_ordinal: int = 0) -> None:
        """Remove the document's vectors whose ordinal is `from_ordinal` or more (all by
        default): after re-indexing a document into fewer chunks, its surplus vectors go."""
        ...

    async def stats(self) -> VectorStats: ...


def check_vectors(vectors: Sequence[Sequence[float]], *, dimensions: int, store: str) -> None:
    """What every store checks before a write or a query: the vectors' length is its own."""
    for values in vectors:
        if len(values) != dimensions:
            raise VectorConfigurationError(
                f"vector of {len(values)} dimensions for {store}, which holds {dimensions}"
            )


def check_top_k(top_k: int) -> None:
    if top_k < 1:
        raise ValueError(f"top_k must be positive, got {top_k}")
