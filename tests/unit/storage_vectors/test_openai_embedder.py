"""The OpenAI embedder through the real `openai` client against a loopback OpenAI-compatible
server: batching, order, dimensions, and failures sorted into retry-later or fix-the-config."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from openai import OpenAI

from storage.vectors import (
    Embedder,
    EmbeddingSettings,
    HashingEmbedder,
    VectorBackendError,
    VectorConfigurationError,
)
from storage.vectors.openai_embeddings import OpenAIEmbedder
from tagen.wiring import build_embedder
from tests.fakes.loopback import Answer
from tests.fakes.openai_server import API_KEY, EMBEDDINGS, OpenAIServer, error, slow


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer(dimensions=32).running() as running:
        yield running


def _embedder(
    server: OpenAIServer,
    *,
    retries: int = 0,
    timeout: float = 5.0,
    dimensions: int = 32,
    batch_size: int = 64,
) -> OpenAIEmbedder:
    client = OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=retries, timeout=timeout)
    return OpenAIEmbedder(
        client=client,
        model="text-embedding-3-small",
        dimensions=dimensions,
        request_dimensions=dimensions != 32,
        batch_size=batch_size,
    )


def test_batches_keep_input_order_and_vectors_are_normalised(server: OpenAIServer):
    embedder = _embedder(server, batch_size=2)
    assert isinstance(embedder, Embedder)
    texts = ["alpha", "beta gamma", "delta", "", "epsilon"]
    vectors = embedder.embed(texts)
    assert len(vectors) == 5
    calls = server.calls("/v1/embeddings")
    assert [len(c.body["input"]) for c in calls] == [2, 2, 1]
    assert calls[0].body["model"] == "text-embedding-3-small"
    assert calls[0].body["encoding_format"] == "float" and "dimensions" not in calls[0].body
    assert " " in calls[1].body["input"]  # the empty text, which the API refuses, as a blank
    reference = HashingEmbedder(32).embed(["beta gamma"])[0]
    assert vectors[1] == pytest.approx(reference)
    assert all(math.isclose(sum(v * v for v in vec), 1.0, rel_tol=1e-6) for vec in vectors)


def test_dimensions_are_requested_when_configured_else_learnt_by_one_probe(
    server: OpenAIServer,
):
    client = OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0)
    chosen = OpenAIEmbedder.connect(client=client, model="text-embedding-3-small", dimensions=48)
    assert chosen.name == "openai/text-embedding-3-small-48" and chosen.dimensions == 48
    assert server.requests == []  # known without asking
    assert len(chosen.embed(["x"])[0]) == 48
    assert server.requests[-1].body["dimensions"] == 48

    native = OpenAIEmbedder.connect(client=client, model="nomic-embed-text", dimensions=None)
    assert (native.name, native.dimensions) == ("openai/nomic-embed-text-32", 32)
    assert len(server.requests) == 2  # one probe, without `dimensions`
    assert "dimensions" not in server.requests[-1].body
    native.embed(["y"])
    assert "dimensions" not in server.requests[-1].body


def test_rate_limits_and_5xx_are_retried_by_the_client(server: OpenAIServer):
    server.script(EMBEDDINGS, error(429, "Rate limit reached"), error(500))
    assert len(_embedder(server, retries=2).embed(["a", "b"])) == 2
    assert len(server.calls("/v1/embeddings")) == 3


def test_a_failing_endpoint_is_a_backend_error_after_bounded_retries(server: OpenAIServer):
    server.script(EMBEDDINGS, *[error(500)] * 3)
    with pytest.raises(VectorBackendError, match="500"):
        _embedder(server, retries=1).embed(["a"])
    assert len(server.calls("/v1/embeddings")) == 2


@pytest.mark.parametrize(
    "answer",
    [
        Answer.raw(b"<html>bad gateway</html>"),
        Answer.json({"object": "list", "data": [], "model": "m", "usage": {}}),
        Answer(drop=True),
        slow(3.0),
    ],
    ids=["not-json", "missing-vectors", "dropped", "timeout"],
)
def test_unusable_answers_are_backend_errors(server: OpenAIServer, answer: Answer):
    server.script(EMBEDDINGS, answer)
    with pytest.raises(VectorBackendError):
        _embedder(server, timeout=0.5).embed(["a"])


def test_refusals_are_configuration_errors(server: OpenAIServer):
    wrong_key = OpenAIEmbedder(
        client=OpenAI(base_url=server.base_url, api_key="sk-wrong", max_retries=0),
        model="m",
        dimensions=32,
        request_dimensions=False,
    )
    with pytest.raises(VectorConfigurationError, match="401"):
        wrong_key.embed(["a"])
    server.script(EMBEDDINGS, error(404, "The model `nope` does not exist"))
    with pytest.raises(VectorConfigurationError, match="does not exist"):
        _embedder(server).embed(["a"])
    changing = _embedder(server, dimensions=48)
    server.script(
        EMBEDDINGS,
        Answer.json(
            {
                "object": "list",
                "data": [{"object": "embedding", "index": 0, "embedding": [1.0, 0.0]}],
                "model": "m",
                "usage": {},
            }
        ),
    )
    with pytest.raises(VectorConfigurationError, match="returned 2 dimensions, expected 48"):
        changing.embed(["a"])


def test_wiring_builds_it_from_settings_and_the_clients_own_variables(
    server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    embedder = build_embedder(
        EmbeddingSettings(kind="openai", model="nomic-embed-text", dimensions=40, batch_size=3)
    )
    assert embedder.name == "openai/nomic-embed-text-40"
    assert len(embedder.embed(["a", "b", "c", "d"])) == 4
    assert server.requests[-1].headers["authorization"] == f"Bearer {API_KEY}"


def test_unknown_kinds_are_refused_by_the_settings():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="'hashing', 'minilm' or 'openai'"):
        EmbeddingSettings(kind="word2vec")  # type: ignore[arg-type]
