"""Knowledge indexing with vectors on real Prefect and PostgreSQL, and hybrid retrieval.

Default backends (hashing embedder, pgvector) and the production ones (the real `openai` and
`pinecone` clients against their loopback fakes): the indexing flow fills the seed's columns,
re-indexing is idempotent, retrieval fuses full-text and vector rankings, and a vector side that
fails leaves full-text results.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.loopback import Answer
from tests.fakes.openai_server import API_KEY as OPENAI_KEY
from tests.fakes.openai_server import OpenAIServer
from tests.fakes.pinecone_server import API_KEY as PINECONE_KEY
from tests.fakes.pinecone_server import QUERY, PineconeServer
from tests.flows.conftest import run

pytestmark = pytest.mark.usefixtures("lifecycle_env")

GUIDE = """# Field naming guide

## Source addresses

Name the client address field src_ip_address and the server one dest_ip_address; CIM
Network Traffic expects src and dest as aliases of them.

## Durations

Durations are milliseconds in a field called duration_ms.
"""


def _document(tmp_path: Path, text: str) -> str:
    from tasks.knowledge_document import register_document

    path = tmp_path / f"guide-{uuid.uuid4().hex[:8]}.md"
    path.write_text(text + f"\n<!-- {uuid.uuid4()} -->\n")  # unique content, unique document
    document_id, created = run(register_document(path, kind="markdown", title=path.stem))
    assert created
    return document_id


async def _indexed(document_id: str) -> tuple[Any, int, list[Any]]:
    from storage.db.enums import AuditAction
    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork() as uow:
        document = await uow.knowledge.get(uuid.UUID(document_id))
        chunks = await uow.chunks.count_for_document(document.id)
        audit = [
            a
            for a in await uow.audit.get_by_entity("KnowledgeDocument", document.id)
            if a.action == AuditAction.UPDATE
        ]
        return document, chunks, audit


async def _vectors_of(store: Any, document_id: str) -> list[tuple[int, float]]:
    from storage.vectors import VectorFilter

    embedder_dimensions = (await store.stats()).dimension
    probe = [1.0] + [0.0] * (embedder_dimensions - 1)
    found = await store.query(
        probe, top_k=100, where=VectorFilter(document_ids=frozenset({uuid.UUID(document_id)}))
    )
    return sorted((m.ordinal, round(m.score, 6)) for m in found)


def test_indexing_fills_the_seed_columns_and_reindexing_is_idempotent(
    backends: Any, tmp_path: Path
):
    from flows.knowledge_indexing import knowledge_indexing
    from tasks.knowledge_document import index_document

    document_id = _document(tmp_path, GUIDE)
    result = run(knowledge_indexing(include_builtin_pack=False))
    assert result["index"] == "pgvector/hashing-v1-1024" and result["failed"] == 0

    document, chunks, audit = run(_indexed(document_id))
    assert document.pinecone_indexed is True
    assert document.pinecone_index_name == "pgvector/hashing-v1-1024"
    assert document.embedding_count == chunks == 2 and document.indexed_at is not None
    assert audit[-1].details["vectors"] == 2
    assert audit[-1].details["embedder"] == "hashing-v1-1024"
    first = run(_vectors_of(backends.vectors, document_id))
    assert [ordinal for ordinal, _ in first] == [0, 1]

    assert run(index_document.fn(document_id)) == 2  # again: same chunks, same vectors
    assert run(_vectors_of(backends.vectors, document_id)) == first
    again, _, _ = run(_indexed(document_id))
    assert again.embedding_count == 2
    run(knowledge_indexing(include_builtin_pack=False))
    assert run(_indexed(document_id))[0].indexed_at == again.indexed_at  # nothing left to do


def test_hybrid_retrieval_finds_what_each_ranker_alone_misses(backends: Any, tmp_path: Path):
    from flows.knowledge_indexing import knowledge_indexing
    from tasks.retrieval import search_knowledge

    document_id = _document(tmp_path, GUIDE)
    run(knowledge_indexing(include_builtin_pack=False))

    # camelCase: PostgreSQL reads `srcIpAddress` as one word, the embedder as src/ip/address.
    query = "srcIpAddress"
    fulltext = run(search_knowledge(query, limit=5, mode="fulltext"))
    assert document_id not in {s.document_id for s in fulltext}
    hybrid = run(search_knowledge(query, limit=5))  # (earlier tests indexed the same guide)
    assert hybrid[0].sources == ("vector",) and "src_ip_address" in hybrid[0].text
    assert document_id in {s.document_id for s in hybrid}

    both = run(search_knowledge("duration_ms milliseconds durations", limit=3))
    ours = [s for s in both if s.document_id == document_id]
    assert ours and ours[0].sources == ("fulltext", "vector")
    assert ours[0].title.endswith("Durations") and both[0].title.endswith("Durations")
    assert [s.score for s in both] == sorted((s.score for s in both), reverse=True)


def test_retrieval_falls_back_to_full_text_when_the_vector_store_fails(
    backends: Any, tmp_path: Path
):
    from pinecone import Pinecone

    from storage.vectors import VectorBackendError
    from storage.vectors.pinecone_store import PineconeVectorStore
    from tasks.retrieval import search_knowledge

    document_id = _document(tmp_path, GUIDE)
    run(_index(document_id))
    with PineconeServer(name="kb", dimension=backends.embedder.dimensions).running() as server:
        down = Answer.json({"message": "down"}, status=503, headers={"Retry-After": "0"})
        server.script(QUERY, *[down] * 8)
        store = PineconeVectorStore(
            index=Pinecone(api_key=PINECONE_KEY).index(host=server.url),
            index_name="kb",
            namespace=backends.embedder.name,
            dimensions=backends.embedder.dimensions,
        )
        found = run(search_knowledge("duration_ms durations", limit=3, store=store))
        assert found and all(s.sources == ("fulltext",) for s in found)
        assert document_id in {s.document_id for s in found}
        with pytest.raises(VectorBackendError, match="503"):
            run(search_knowledge("durations", limit=3, mode="vector", store=store))


async def _index(document_id: str) -> int:
    from tasks.knowledge_document import index_document

    return await index_document.fn(document_id)


async def _close_breakers() -> None:
    from sqlalchemy import delete

    from storage.db.models.circuit_breaker import CircuitBreakerState
    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork() as uow:
        await uow.session.execute(delete(CircuitBreakerState))
        await uow.commit()


BREAKER = {"failures": 2, "open_seconds": 600.0}


@pytest.fixture
def cloud(backends: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Backends of a production set-up: OpenAI embeddings and Pinecone, both loopback fakes,
    each behind a circuit breaker (2 failures open it for 10 minutes)."""
    from openai import OpenAI
    from pinecone import Pinecone

    from storage.breaker import EMBEDDINGS, PINECONE, BreakerPolicy
    from storage.vectors.openai_embeddings import OpenAIEmbedder
    from storage.vectors.pinecone_store import PineconeVectorStore
    from tasks import backends as task_backends

    policy = BreakerPolicy(**BREAKER)
    with (
        OpenAIServer().running() as openai_server,
        PineconeServer(name="kb", dimension=48).running() as pinecone_server,
    ):
        client = OpenAI(
            base_url=openai_server.base_url, api_key=OPENAI_KEY, max_retries=0, timeout=5.0
        )
        embedder = OpenAIEmbedder.connect(
            client=client, model="text-embedding-3-small", dimensions=48
        )
        store = PineconeVectorStore(
            index=Pinecone(api_key=PINECONE_KEY).index(host=pinecone_server.url),
            index_name="kb",
            namespace=embedder.name,
            dimensions=embedder.dimensions,
        )
        task_backends.install(
            dataclasses.replace(
                backends,
                embedder=embedder,
                vectors=store,
                breakers={EMBEDDINGS: policy, PINECONE: policy},
            )
        )
        try:
            yield {"openai": openai_server, "pinecone": pinecone_server, "store": store}
        finally:
            task_backends.install(backends)
            run(_close_breakers())


def test_indexing_into_pinecone_with_openai_embeddings(cloud: dict[str, Any], tmp_path: Path):
    from flows.knowledge_indexing import knowledge_indexing
    from tasks.retrieval import search_knowledge

    document_id = _document(tmp_path, GUIDE)
    result = run(knowledge_indexing(include_builtin_pack=False))
    index = "pinecone/kb/openai/text-embedding-3-small-48"
    assert result["index"] == index and result["failed"] == 0

    document, chunks, _ = run(_indexed(document_id))
    assert (document.pinecone_indexed, document.pinecone_index_name) == (True, index)
    assert document.embedding_count == chunks == 2
    space = cloud["pinecone"].namespaces["openai/text-embedding-3-small-48"]
    ours = {k: m for k, (_, m) in space.items() if m["document_id"] == document_id}
    assert sorted(ours) == [f"{document_id}:{n}" for n in range(2)]
    assert {m["document_type"] for m in ours.values()} == {"markdown"}
    sent = [text for call in cloud["openai"].calls("/v1/embeddings") for text in call.body["input"]]
    assert any("src_ip_address" in text for text in sent)

    found = run(search_knowledge("durations in milliseconds", limit=8))
    assert found[0].title.endswith("Durations") and "vector" in found[0].sources
    assert document_id in {s.document_id for s in found}
    run(knowledge_indexing(include_builtin_pack=False))
    assert run(_indexed(document_id))[0].indexed_at == document.indexed_at


def test_a_pinecone_index_of_another_dimension_stops_indexing_at_once(
    cloud: dict[str, Any], tmp_path: Path
):
    from flows.knowledge_indexing import knowledge_indexing
    from storage.vectors import VectorConfigurationError

    cloud["pinecone"].dimension = 1536  # an index made for another model
    _document(tmp_path, GUIDE)
    with pytest.raises(VectorConfigurationError, match="holds 1536-dimension vectors"):
        run(knowledge_indexing(include_builtin_pack=False))
    assert cloud["pinecone"].calls("/vectors/upsert") == []


def test_the_lifecycle_query_takes_whole_redacted_lines_of_the_first_sample(
    backends: Any, tmp_path: Path
):
    from tasks.generation import QUERY_SAMPLE_CHARS, _sample_head

    line = "2024-05-01T10:00:{:02d} login user=ann@example.org src=10.1.2.{} status=ok\n"
    sample = tmp_path / "auth.log"
    lines = [line.format(n % 60, n % 250) for n in range(500)]
    sample.write_text("".join(lines))
    stored = backends.objects.put_file(f"tests/{uuid.uuid4().hex}/auth.log", sample)

    head = _sample_head(stored.key)
    fitting = next(
        n for n in range(len(lines)) if sum(map(len, lines[: n + 1])) > QUERY_SAMPLE_CHARS
    )
    assert len(head.splitlines()) == fitting  # the whole lines of the first 2,000 characters
    assert "ann@example.org" not in head and "10.1.2." not in head
    assert all(text.endswith("status=ok") for text in head.splitlines())
    assert head.splitlines()[0].startswith("2024-05-01T10:00:00 login user=user1@example.com")


async def _breaker(provider: str) -> Any:
    from storage.db.models.circuit_breaker import CircuitBreakerState
    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork() as uow:
        return await uow.session.get(CircuitBreakerState, provider)


async def _let_trial_through(provider: str) -> None:
    """The circuit's time is over (as if its 10 minutes had passed)."""
    from sqlalchemy import text

    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork() as uow:
        await uow.session.execute(
            text(
                "UPDATE circuit_breakers SET open_until = now() - interval '1 second' "
                "WHERE provider = :provider"
            ),
            {"provider": provider},
        )
        await uow.commit()


def _marked(tmp_path: Path) -> tuple[str, str]:
    """A document holding a word of its own, and that word."""
    word = f"marker{uuid.uuid4().hex[:10]}"
    return _document(tmp_path, f"{GUIDE}\n## Marker\n\nThe word {word} is here.\n"), word


def test_an_embeddings_api_that_times_out_opens_its_circuit_and_indexing_keeps_full_text(
    cloud: dict[str, Any], tmp_path: Path
):
    from flows.knowledge_indexing import knowledge_indexing
    from tasks.retrieval import search_knowledge
    from tests.fakes.openai_server import EMBEDDINGS, slow

    documents = [_marked(tmp_path) for _ in range(3)]
    cloud["openai"].script(EMBEDDINGS, slow(8), slow(8))  # the client gives up after 5 s
    result = run(knowledge_indexing(include_builtin_pack=False))
    assert result["failed"] == 0  # no document failed: their vectors were skipped
    assert len(cloud["openai"].calls("/v1/embeddings")) == 2  # then the open circuit
    assert cloud["pinecone"].calls("/vectors/upsert") == []
    skipped = []
    for document_id, _ in documents:
        document, chunks, audit = run(_indexed(document_id))
        assert chunks == 3 and document.pinecone_indexed is False
        assert audit[-1].details["indexed"] is False and audit[-1].details["vectors"] == 0
        skipped.append(audit[-1].details["vectors_skipped"])
    assert all(reason.startswith("embeddings unavailable") for reason in skipped)
    assert any("embeddings circuit is open" in reason for reason in skipped), skipped
    state = run(_breaker("embeddings"))
    assert state.failures >= 2 and state.open_until is not None
    assert "timed out" in (state.last_error or "").lower()

    # Retrieval falls back to full text, without asking the open provider.
    document_id, word = documents[0]
    found = run(search_knowledge(word, limit=3))
    assert found.fallback is not None and "embeddings circuit is open" in found.fallback
    assert [s.document_id for s in found] == [document_id]
    assert found[0].sources == ("fulltext",)
    assert len(cloud["openai"].calls("/v1/embeddings")) == 2

    # Its time over, a trial call goes through; its success closes the circuit.
    run(_let_trial_through("embeddings"))
    run(knowledge_indexing(include_builtin_pack=False))
    for document_id, _ in documents:
        assert run(_indexed(document_id))[0].pinecone_indexed is True
    state = run(_breaker("embeddings"))
    assert state.failures == 0 and state.open_until is None
    assert run(search_knowledge(word, limit=3)).fallback is None


def test_a_failing_pinecone_opens_its_circuit_and_the_lifecycle_audits_full_text_retrieval(
    cloud: dict[str, Any], tmp_path: Path
):
    from storage.db.unit_of_work import UnitOfWork
    from tasks.generation import retrieve_knowledge
    from tests.integration.builders import Builder

    document_id, word = _marked(tmp_path)
    run(_index(document_id))
    down = Answer.json({"message": "down"}, status=503, headers={"Retry-After": "0"})
    cloud["pinecone"].script(QUERY, *[down] * 40)

    async def request() -> str:
        async with UnitOfWork() as uow:
            # The marker alone is the query: "CIM data model tags" would rank the documents
            # other tests left in this database above it.
            made = await Builder(uow).request(source_system=word, cim_required=False)
            await uow.commit()
            return str(made.id)

    request_id = run(request())
    queried = []
    for _ in range(3):
        found = run(retrieve_knowledge.fn(request_id))
        assert document_id in {s.document_id for s in found}
        assert all(s.sources == ("fulltext",) for s in found)
        queried.append(len(cloud["pinecone"].calls("/query")))
    assert queried[0] >= 1 and queried[1] > queried[0]
    assert queried[2] == queried[1]  # the third search did not call the open circuit

    async def audit() -> list[Any]:
        async with UnitOfWork() as uow:
            return await uow.audit.get_by_entity("request", request_id)

    reasons = [e.details["reason"] for e in run(audit()) if "retrieval" in e.details]
    assert len(reasons) == 3
    assert sum("answered 503" in reason for reason in reasons) == 2
    assert sum("pinecone circuit is open" in reason for reason in reasons) == 1
    state = run(_breaker("pinecone"))
    assert state.failures == 2 and state.open_until is not None
