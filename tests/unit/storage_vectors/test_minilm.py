"""The offline MiniLM embedder (the `[onnx]` extra, installed by `make install`)."""

from __future__ import annotations

import math

import pytest

from storage.vectors import Embedder, EmbeddingSettings, VectorConfigurationError
from tagen.wiring import build_embedder


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_minilm_is_a_normalised_deterministic_sentence_embedder():
    embedder = build_embedder(EmbeddingSettings(kind="minilm"))
    assert isinstance(embedder, Embedder)
    assert (embedder.name, embedder.dimensions) == ("minilm-l6-v2-int8-384", 384)
    texts = [
        "how are timestamps parsed from the start of an event",
        "TIME_PREFIX and TIME_FORMAT tell Splunk where the event time is and how to read it",
        "eventtypes and tags map events to CIM data models",
        "",
    ]
    vectors = embedder.embed(texts)
    assert [len(v) for v in vectors] == [384] * 4
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-5) for v in vectors)
    assert _cos(vectors[0], vectors[1]) > _cos(vectors[0], vectors[2])
    again = build_embedder(EmbeddingSettings(kind="minilm")).embed(list(reversed(texts)))
    assert [[round(x, 5) for x in v] for v in reversed(again)] == [
        [round(x, 5) for x in v] for v in vectors
    ]


def test_minilm_has_one_size():
    with pytest.raises(VectorConfigurationError, match="MiniLM makes 384"):
        build_embedder(EmbeddingSettings(kind="minilm", dimensions=512))
