"""Settings owned by vector retrieval: which embedder, which vector store, and how to reach them.

`TAGEN_EMBEDDINGS_KIND`: `hashing` (default: offline, deterministic), `minilm` (offline
all-MiniLM-L6-v2, the `[onnx]` extra) or `openai` (any OpenAI-compatible `/v1/embeddings`; the
client itself reads `OPENAI_API_KEY` and `OPENAI_BASE_URL`). `TAGEN_VECTORS_KIND`: `pgvector`
(default: the application database) or `pinecone` (the client itself reads `PINECONE_API_KEY`).
Any other kind is refused when the settings are read, naming the allowed values.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.breaker import BreakerPolicy
from storage.vectors.hashing import DEFAULT_DIMENSIONS


class _BreakerSettings(BaseSettings):
    """The circuit breaker of a remote provider (storage.breaker): after ``breaker_failures``
    consecutive failed calls it is not called for ``breaker_open_seconds``."""

    breaker_failures: int = Field(default=3, ge=1)
    breaker_open_seconds: float = Field(default=300.0, ge=0)

    def breaker_policy(self) -> BreakerPolicy:
        return BreakerPolicy(self.breaker_failures, self.breaker_open_seconds)


class EmbeddingSettings(_BreakerSettings):
    model_config = SettingsConfigDict(env_prefix="TAGEN_EMBEDDINGS_", extra="ignore")

    kind: Literal["hashing", "minilm", "openai"] = "hashing"
    dimensions: int | None = Field(
        default=None,
        ge=16,
        le=16000,
        description=(
            f"hashing: vector size (default {DEFAULT_DIMENSIONS}); openai: sent as `dimensions` "
            "when set (text-embedding-3-* shorten their vectors), else the model's own size"
        ),
    )
    model: str = Field(default="text-embedding-3-small", description="openai: the model name")
    timeout: float = Field(default=30.0, gt=0, description="openai: seconds per request")
    max_retries: int = Field(
        default=2, ge=0, le=10, description="openai: retries with backoff on 429, 5xx, timeouts"
    )
    batch_size: int = Field(default=64, ge=1, le=2048, description="openai: texts per request")


class VectorStoreSettings(_BreakerSettings):
    model_config = SettingsConfigDict(env_prefix="TAGEN_VECTORS_", extra="ignore")

    kind: Literal["pgvector", "pinecone"] = "pgvector"
    pinecone_index: str | None = Field(
        default=None, description="pinecone: the index name (a dense index, cosine metric)"
    )
    pinecone_host: str | None = Field(
        default=None,
        description="pinecone: the index host; unset = looked up by name (one describe call)",
    )
    pinecone_timeout: float = Field(default=30.0, gt=0, description="pinecone: seconds per call")


@lru_cache(maxsize=1)
def get_embedding_settings() -> EmbeddingSettings:
    return EmbeddingSettings()


@lru_cache(maxsize=1)
def get_vector_store_settings() -> VectorStoreSettings:
    return VectorStoreSettings()
