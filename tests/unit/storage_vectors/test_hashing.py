"""The offline hashing embedder: deterministic, normalised, and similar texts closer."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from storage.vectors import Embedder, HashingEmbedder
from storage.vectors.hashing import words


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_it_is_an_embedder_named_by_recipe_and_dimension():
    embedder = HashingEmbedder(384)
    assert isinstance(embedder, Embedder)
    assert embedder.name == "hashing-v1-384" and embedder.dimensions == 384
    [vector] = embedder.embed(["props.conf LINE_BREAKER"])
    assert len(vector) == 384


def test_vectors_are_unit_length_even_without_words():
    texts = ["The quick brown fox", "", "   ", "12345 678", "?!;", "x" * 10_000, "ünïcödé wörds"]
    for vector in HashingEmbedder(256).embed(texts):
        assert math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0, rel_tol=1e-9)


def test_deterministic_across_instances_and_processes():
    text = "FIELDALIAS-src = ipAddress AS src_ip"
    first = HashingEmbedder(128).embed([text])[0]
    assert HashingEmbedder(128).embed([text])[0] == first
    code = (
        "from storage.vectors import HashingEmbedder;"
        f"print(repr(HashingEmbedder(128).embed([{text!r}])[0]))"
    )
    # A fresh interpreter has another hash() salt: BLAKE2b must not care.
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert eval(other) == first


def test_batch_order_is_input_order():
    embedder = HashingEmbedder(128)
    a, b = embedder.embed(["alpha beta", "gamma delta"])
    assert embedder.embed(["gamma delta", "alpha beta"]) == [b, a]


def test_similar_texts_are_closer_than_unrelated_ones():
    embedder = HashingEmbedder()
    query, near, far = embedder.embed(
        [
            "how are timestamps parsed from the event time prefix",
            "TIME_PREFIX and TIME_FORMAT tell where the timestamp of an event starts",
            "eventtypes and tags map events to CIM data models",
        ]
    )
    assert _cos(query, near) > _cos(query, far)


def test_identifier_parts_and_inflections_meet():
    embedder = HashingEmbedder()
    camel, snake, other = embedder.embed(["srcIpAddress", "src_ip_address", "bytes_out"])
    assert _cos(camel, snake) > 0.9
    assert _cos(camel, other) < 0.3
    one, many, unrelated = embedder.embed(["timestamp", "timestamps", "sourcetype"])
    assert _cos(one, many) > _cos(one, unrelated) + 0.3


def test_words_split_identifiers_and_drop_numbers_and_stop_words():
    assert words("RT_FLOW_SESSION_CREATE: ipAddress=10.0.0.1 of the HTTPServer") == [
        "rt",
        "flow",
        "session",
        "create",
        "ip",
        "address",
        "http",
        "server",
    ]
    assert words("café naïve") == ["café", "naïve"]


@pytest.mark.parametrize("dimensions", [0, 15, 16_001])
def test_out_of_range_dimensions_are_refused(dimensions: int):
    with pytest.raises(ValueError, match="dimensions"):
        HashingEmbedder(dimensions)
