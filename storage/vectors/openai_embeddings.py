"""Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint, through the `openai` client.

The client is built by the composition root with its timeout and bounded retries (the client
itself backs off on 429, 5xx and timeouts, and reads `OPENAI_API_KEY` / `OPENAI_BASE_URL`).
Here: batching, order by `index`, checks on what came back, and errors sorted into "retry later"
(`VectorBackendError`) and "fix the configuration" (`VectorConfigurationError`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from storage.vectors.errors import VectorBackendError, VectorConfigurationError
from storage.vectors.model import Vector

if TYPE_CHECKING:
    from openai import OpenAI

_CONFIGURATION_STATUSES = frozenset({400, 401, 403, 404, 422})
_PROBE = "dimension probe"


class OpenAIEmbedder:
    """`name` is `openai/<model>-<dimensions>`.

    With `request_dimensions`, the size is asked of the model (text-embedding-3-* shorten their
    vectors); otherwise it must be the model's own (see `connect`).
    """

    def __init__(
        self,
        *,
        client: OpenAI,
        model: str,
        dimensions: int,
        request_dimensions: bool,
        batch_size: int = 64,
    ) -> None:
        if batch_size < 1 or dimensions < 1:
            raise ValueError(
                f"batch_size and dimensions must be positive: {batch_size}, {dimensions}"
            )
        self._client = client
        self._model = model
        self._dimensions = dimensions
        self._request_dimensions = request_dimensions
        self._batch_size = batch_size

    @classmethod
    def connect(
        cls, *, client: OpenAI, model: str, dimensions: int | None, batch_size: int = 64
    ) -> OpenAIEmbedder:
        """The embedder for `model`; without `dimensions`, one probe request learns its size."""
        requested = dimensions is not None
        if dimensions is None:
            probe = cls(client=client, model=model, dimensions=1, request_dimensions=False)
            dimensions = len(probe._request([_PROBE], check=False)[0])
        return cls(
            client=client,
            model=model,
            dimensions=dimensions,
            request_dimensions=requested,
            batch_size=batch_size,
        )

    @property
    def name(self) -> str:
        return f"openai/{self._model}-{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        vectors: list[Vector] = []
        for start in range(0, len(texts), self._batch_size):
            vectors.extend(self._request(texts[start : start + self._batch_size]))
        return vectors

    def _request(self, texts: Sequence[str], *, check: bool = True) -> list[Vector]:
        import openai
        from openai.types import CreateEmbeddingResponse

        # The API refuses empty strings; whitespace embeds as "nothing" just the same.
        inputs = [text if text.strip() else " " for text in texts]
        try:
            response = self._client.embeddings.create(
                model=self._model,
                input=inputs,
                encoding_format="float",
                dimensions=self._dimensions if self._request_dimensions else openai.omit,
            )
        except openai.APIStatusError as exc:
            message = f"embeddings endpoint answered {exc.status_code} for model {self._model!r}"
            if exc.status_code in _CONFIGURATION_STATUSES:
                raise VectorConfigurationError(f"{message}: {exc.message}") from exc
            raise VectorBackendError(f"{message} (after retries)") from exc
        except openai.APIError as exc:  # connection, timeout, unparsable answer
            raise VectorBackendError(f"embeddings request failed: {exc}") from exc
        if not isinstance(response, CreateEmbeddingResponse):
            # The client hands back the body as text when the answer is not JSON.
            raise VectorBackendError(
                f"embeddings endpoint answered something else than JSON: {str(response)[:80]!r}"
            )
        data = sorted(response.data, key=lambda item: item.index)
        if [item.index for item in data] != list(range(len(inputs))):
            raise VectorBackendError(
                f"embeddings endpoint returned {len(data)} vectors for {len(inputs)} inputs"
            )
        return [self._checked(item.embedding, check_length=check) for item in data]

    def _checked(self, values: Sequence[float], *, check_length: bool) -> Vector:
        if check_length and len(values) != self._dimensions:
            raise VectorConfigurationError(
                f"embedding model {self._model!r} returned {len(values)} dimensions, "
                f"expected {self._dimensions} (TAGEN_EMBEDDINGS_DIMENSIONS)"
            )
        norm = math.sqrt(sum(v * v for v in values))
        if not math.isfinite(norm) or norm == 0.0:
            raise VectorBackendError(f"embedding model {self._model!r} returned a null vector")
        return [float(v) / norm for v in values]
