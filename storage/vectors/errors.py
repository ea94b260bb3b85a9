"""Errors of embedders and vector stores.

A provider failure (network, 5xx after the client's retries, timeouts) is a `VectorBackendError`
(a RuntimeError: worth retrying later). A configuration that cannot work (dimension mismatch,
missing pgvector, unknown kind) is a `VectorConfigurationError` (a ValueError: retrying cannot fix
it), with a message that says what to change.
"""

from __future__ import annotations


class VectorBackendError(RuntimeError):
    """An embedding provider or vector store failed (its own error is chained)."""


class VectorConfigurationError(ValueError):
    """Embedder and store settings that cannot work together, or an unknown backend kind."""
