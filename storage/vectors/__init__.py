"""Vector retrieval backends: embedders (offline hashing | OpenAI-compatible) and vector stores
(pgvector in the application database | Pinecone), each behind one Protocol.

Embedders live here rather than in the engine because an embedding space is a property of the
index it fills: the store is keyed on the embedder's name and dimension, and the production
embedder is a network client (the engine has no network). The hashing embedder sits beside it
so that every embedder is chosen, named and checked the same way.
"""

from __future__ import annotations

from storage.vectors.errors import VectorBackendError, VectorConfigurationError
from storage.vectors.hashing import DEFAULT_DIMENSIONS as DEFAULT_HASHING_DIMENSIONS
from storage.vectors.hashing import HashingEmbedder
from storage.vectors.model import (
    ChunkVector,
    Embedder,
    MetadataValue,
    Vector,
    VectorFilter,
    VectorMatch,
    VectorStats,
    VectorStore,
)
from storage.vectors.settings import (
    EmbeddingSettings,
    VectorStoreSettings,
    get_embedding_settings,
    get_vector_store_settings,
)

__all__ = [
    "DEFAULT_HASHING_DIMENSIONS",
    "ChunkVector",
    "Embedder",
    "EmbeddingSettings",
    "HashingEmbedder",
    "MetadataValue",
    "Vector",
    "VectorBackendError",
    "VectorConfigurationError",
    "VectorFilter",
    "VectorMatch",
    "VectorStats",
    "VectorStore",
    "VectorStoreSettings",
    "get_embedding_settings",
    "get_vector_store_settings",
]
