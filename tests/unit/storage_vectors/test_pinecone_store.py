"""The Pinecone store through the real `pinecone` SDK against a loopback fake of the index's REST
API: the wire calls, per-document deletes, filters, stats, host lookup and error sorting."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from pinecone import Pinecone

from storage.vectors import (
    ChunkVector,
    HashingEmbedder,
    VectorBackendError,
    VectorConfigurationError,
    VectorFilter,
    VectorStore,
    VectorStoreSettings,
)
from storage.vectors.pinecone_store import PineconeVectorStore, pinecone_filter
from tagen.wiring import build_vector_store
from tests.fakes.loopback import Answer
from tests.fakes.pinecone_server import API_KEY, QUERY, UPSERT, PineconeServer, matches

EMBEDDER = HashingEmbedder(64)
TEXTS = ["LINE_BREAKER splits events", "TIME_FORMAT reads timestamps", "tags map CIM models"]


@pytest.fixture
def server() -> Iterator[PineconeServer]:
    with PineconeServer(name="kb", dimension=64).running() as running:
        yield running


def _store(server: PineconeServer, *, api_key: str = API_KEY):
    client = Pinecone(api_key=api_key)
    return PineconeVectorStore(
        index=client.index(host=server.url),
        index_name="kb",
        namespace=EMBEDDER.name,
        dimensions=64,
    )


def _vectors(document_id: uuid.UUID, texts: list[str]) -> list[ChunkVector]:
    return [
        ChunkVector(document_id, n, values, {"document_type": "markdown"})
        for n, values in enumerate(EMBEDDER.embed(texts))
    ]


def test_upsert_query_stats_and_what_went_over_the_wire(server: PineconeServer):
    store = _store(server)
    assert isinstance(store, VectorStore) and store.name == "pinecone/kb"
    doc = uuid.uuid4()
    assert asyncio.run(store.upsert(_vectors(doc, TEXTS))) == 3
    [sent] = server.calls("/vectors/upsert")
    assert sent.headers["api-key"] == API_KEY
    assert sent.body["namespace"] == EMBEDDER.name
    assert sent.body["vectors"][1]["id"] == f"{doc}:1"
    assert sent.body["vectors"][1]["metadata"] == {
        "document_type": "markdown",
        "document_id": str(doc),
        "ordinal": 1,
    }

    [query] = EMBEDDER.embed(["which format do timestamps have"])
    found = asyncio.run(store.query(query, top_k=2))
    assert [m.ordinal for m in found][:1] == [1] and len(found) == 2
    assert found[0].document_id == doc and found[0].metadata == {"document_type": "markdown"}
    assert found[0].score >= found[1].score

    stats = asyncio.run(store.stats())
    assert (stats.namespace, stats.vectors, stats.documents, stats.dimension) == (
        EMBEDDER.name,
        3,
        None,
        64,
    )


def test_reindexing_overwrites_and_trims_and_filters_select(server: PineconeServer):
    store = _store(server)
    first, second = uuid.uuid4(), uuid.uuid4()
    asyncio.run(store.upsert(_vectors(first, TEXTS)))
    asyncio.run(store.upsert(_vectors(second, TEXTS)))
    asyncio.run(store.upsert(_vectors(first, TEXTS[:1])))  # first shrank to one chunk
    asyncio.run(store.delete_document(first, from_ordinal=1))
    [sent] = server.calls("/vectors/delete")
    assert sent.body["filter"] == {"document_id": {"$eq": str(first)}, "ordinal": {"$gte": 1}}
    assert asyncio.run(store.stats()).vectors == 4

    [query] = EMBEDDER.embed(TEXTS[:1])
    only_first = asyncio.run(
        store.query(query, top_k=10, where=VectorFilter(document_ids=frozenset({first})))
    )
    assert [(m.document_id, m.ordinal) for m in only_first] == [(first, 0)]
    asyncio.run(store.delete_document(second))
    assert asyncio.run(store.stats()).vectors == 1


def test_the_index_host_is_looked_up_by_name_through_the_wiring(
    server: PineconeServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PINECONE_API_KEY", API_KEY)
    monkeypatch.setenv("PINECONE_CONTROLLER_HOST", server.url)
    store = build_vector_store(VectorStoreSettings(kind="pinecone", pinecone_index="kb"), EMBEDDER)
    assert len(server.calls("/indexes/kb")) == 1
    asyncio.run(store.upsert(_vectors(uuid.uuid4(), TEXTS)))
    assert asyncio.run(store.stats()).vectors == 3

    direct = build_vector_store(
        VectorStoreSettings(kind="pinecone", pinecone_index="kb", pinecone_host=server.url),
        EMBEDDER,
    )
    assert asyncio.run(direct.stats()).vectors == 3
    assert len(server.calls("/indexes/kb")) == 1  # the host was given: no lookup


def test_pinecone_without_an_index_name_fails_fast():
    with pytest.raises(VectorConfigurationError, match="TAGEN_VECTORS_PINECONE_INDEX"):
        build_vector_store(VectorStoreSettings(kind="pinecone"), EMBEDDER)


def test_refusals_are_configuration_errors_and_outages_backend_errors(server: PineconeServer):
    with pytest.raises(VectorConfigurationError, match="401"):
        asyncio.run(_store(server, api_key="pc-wrong").stats())
    wrong_size = PineconeVectorStore(
        index=Pinecone(api_key=API_KEY).index(host=server.url),
        index_name="kb",
        namespace="n",
        dimensions=32,
    )
    with pytest.raises(VectorConfigurationError, match="400: Vector dimension 32 does not"):
        asyncio.run(wrong_size.upsert([ChunkVector(uuid.uuid4(), 0, [1.0] * 32)]))

    # The data plane's retries are the SDK's own (3, with backoff; Retry-After: 0 keeps it fast).
    unavailable = Answer.json({"message": "unavailable"}, status=503, headers={"Retry-After": "0"})
    server.script(UPSERT, *[unavailable] * 4)
    before = len(server.calls("/vectors/upsert"))
    with pytest.raises(VectorBackendError, match="503"):
        asyncio.run(_store(server).upsert(_vectors(uuid.uuid4(), TEXTS)))
    assert len(server.calls("/vectors/upsert")) - before == 4
    server.script(QUERY, Answer.raw(b"<html>gateway</html>"))
    with pytest.raises(VectorBackendError, match="query failed"):
        asyncio.run(_store(server).query(EMBEDDER.embed(["x"])[0], top_k=1))


def test_a_call_that_times_out_is_retried_a_bounded_number_of_times(
    server: PineconeServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PINECONE_API_KEY", API_KEY)
    store = build_vector_store(
        VectorStoreSettings(
            kind="pinecone", pinecone_index="kb", pinecone_host=server.url, pinecone_timeout=0.3
        ),
        EMBEDDER,
    )
    server.script(QUERY, *[Answer.json({}, delay=1.5)] * 6)
    with pytest.raises(VectorBackendError, match="query failed"):
        asyncio.run(store.query(EMBEDDER.embed(["x"])[0], top_k=1))
    assert len(server.calls("/query")) == 4  # the SDK's 3 retries, each with its timeout


def test_the_remote_providers_get_circuit_breakers_and_local_ones_none(
    monkeypatch: pytest.MonkeyPatch,
):
    from storage.breaker import EMBEDDINGS, PINECONE, BreakerPolicy
    from storage.vectors import EmbeddingSettings
    from tagen.wiring import remote_breakers

    assert remote_breakers(EmbeddingSettings(), VectorStoreSettings()) == {}
    monkeypatch.setenv("TAGEN_EMBEDDINGS_BREAKER_FAILURES", "5")
    monkeypatch.setenv("TAGEN_VECTORS_BREAKER_OPEN_SECONDS", "30")
    found = remote_breakers(
        EmbeddingSettings(kind="openai"), VectorStoreSettings(kind="pinecone", pinecone_index="kb")
    )
    assert found == {EMBEDDINGS: BreakerPolicy(5, 300.0), PINECONE: BreakerPolicy(3, 30.0)}


def test_the_sdk_retries_a_throttled_call(server: PineconeServer):
    throttled = Answer.json({"message": "slow down"}, status=429, headers={"Retry-After": "0"})
    server.script(UPSERT, throttled)
    assert asyncio.run(_store(server).upsert(_vectors(uuid.uuid4(), TEXTS))) == 3
    assert len(server.calls("/vectors/upsert")) == 2


def test_filters_in_pinecones_language():
    doc = uuid.uuid4()
    where = VectorFilter(document_ids=frozenset({doc}), equals={"document_type": "pdf"})
    expression = pinecone_filter(where)
    assert expression == {"document_id": {"$in": [str(doc)]}, "document_type": {"$eq": "pdf"}}
    assert matches({"document_id": str(doc), "document_type": "pdf"}, expression)
    assert not matches({"document_id": str(doc), "document_type": "markdown"}, expression)
    assert pinecone_filter(None) == {}
