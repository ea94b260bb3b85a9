"""The pgvector store on the real embedded PostgreSQL: upsert, cosine top k, filters, deletes,
namespaces, the HNSW index of migration 0006, and the chunk addresses retrieval reads back."""

from __future__ import annotations

import math
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db.repositories.knowledge_chunk import ChunkText
from storage.db.unit_of_work import UnitOfWork
from storage.vectors import (
    ChunkVector,
    HashingEmbedder,
    VectorConfigurationError,
    VectorFilter,
    VectorStore,
)
from storage.vectors.pgvector_store import PgVectorStore

pytestmark = pytest.mark.usefixtures("empty_db")

EMBEDDER = HashingEmbedder()  # 1024 dimensions: the length migration 0006 indexes


async def _document(uow: UnitOfWork, title: str, *, active: bool = True) -> uuid.UUID:
    document = await uow.knowledge.create(
        {
            "title": title,
            "document_type": "markdown",
            "storage_bucket": "local",
            "storage_key": f"knowledge/{title}.md",
            "is_active": active,
        }
    )
    return document.id


def _store(factory: async_sessionmaker[AsyncSession], embedder: HashingEmbedder = EMBEDDER):
    return PgVectorStore(
        sessions=lambda: factory, namespace=embedder.name, dimensions=embedder.dimensions
    )


def _vectors(document_id: uuid.UUID, texts: list[str], **metadata: str) -> list[ChunkVector]:
    return [
        ChunkVector(document_id, ordinal, values, metadata)
        for ordinal, values in enumerate(EMBEDDER.embed(texts))
    ]


TEXTS = [
    "LINE_BREAKER splits the stream into events",
    "TIME_FORMAT and TIME_PREFIX read the event timestamp",
    "tags and eventtypes map events to CIM data models",
]


async def test_upsert_query_and_stats(uow: UnitOfWork, session_factory):
    store = _store(session_factory)
    assert isinstance(store, VectorStore)
    doc = await _document(uow, "props")
    assert await store.upsert(_vectors(doc, TEXTS, document_type="markdown")) == 3

    [query] = EMBEDDER.embed(["where does the timestamp of an event start"])
    found = await store.query(query, top_k=2)
    assert len(found) == 2 and {m.document_id for m in found} == {doc}
    assert found[0].ordinal == 1
    assert found[0].score > found[1].score
    assert found[0].metadata == {"document_type": "markdown"}
    [same] = await store.query(EMBEDDER.embed([TEXTS[2]])[0], top_k=1)
    assert same.ordinal == 2 and math.isclose(same.score, 1.0, abs_tol=1e-5)

    stats = await store.stats()
    assert (stats.namespace, stats.vectors, stats.documents, stats.dimension) == (
        EMBEDDER.name,
        3,
        1,
        1024,
    )


async def test_upsert_is_idempotent_and_delete_trims_a_shrunk_document(
    uow: UnitOfWork, session_factory
):
    store = _store(session_factory)
    doc = await _document(uow, "shrinks")
    await store.upsert(_vectors(doc, TEXTS))
    await store.upsert(_vectors(doc, TEXTS[:2]))  # re-indexed into two chunks: overwritten
    assert (await store.stats()).vectors == 3
    await store.delete_document(doc, from_ordinal=2)
    assert sorted(m.ordinal for m in await store.query(EMBEDDER.embed(["x"])[0], top_k=10)) == [
        0,
        1,
    ]
    await store.delete_document(doc)
    assert (await store.stats()).vectors == 0


async def test_filters_and_namespaces_keep_vectors_apart(uow: UnitOfWork, session_factory):
    store = _store(session_factory)
    small = HashingEmbedder(64)
    other_space = _store(session_factory, small)
    first, second = await _document(uow, "first"), await _document(uow, "second")
    await store.upsert(_vectors(first, TEXTS, document_type="markdown"))
    await store.upsert(_vectors(second, TEXTS, document_type="ta_archive"))
    await other_space.upsert(
        [ChunkVector(first, 0, small.embed([TEXTS[0]])[0], {"document_type": "markdown"})]
    )
    [query] = EMBEDDER.embed([TEXTS[0]])

    only_second = await store.query(
        query, top_k=10, where=VectorFilter(document_ids=frozenset({second}))
    )
    assert {m.document_id for m in only_second} == {second} and len(only_second) == 3
    archives = await store.query(
        query, top_k=10, where=VectorFilter(equals={"document_type": "ta_archive"})
    )
    assert {m.document_id for m in archives} == {second}
    assert (await store.stats()).vectors == 6
    assert (await other_space.stats()).vectors == 1
    assert len(await other_space.query(small.embed(["x"])[0], top_k=10)) == 1


async def test_vectors_of_another_length_are_refused(uow: UnitOfWork, session_factory):
    store = _store(session_factory)
    doc = await _document(uow, "wrong")
    with pytest.raises(VectorConfigurationError, match="64 dimensions"):
        await store.upsert([ChunkVector(doc, 0, HashingEmbedder(64).embed(["x"])[0])])
    with pytest.raises(VectorConfigurationError, match="64 dimensions"):
        await store.query(HashingEmbedder(64).embed(["x"])[0], top_k=1)
    with pytest.raises(ValueError, match="top_k"):
        await store.query(EMBEDDER.embed(["x"])[0], top_k=0)


async def test_vectors_go_with_their_document(uow: UnitOfWork, session_factory):
    store = _store(session_factory)
    doc = await _document(uow, "deleted")
    await store.upsert(_vectors(doc, TEXTS))
    await uow.knowledge.delete(doc)
    await uow.commit()
    assert (await store.stats()).vectors == 0


async def test_queries_use_the_hnsw_index_of_their_length(session: AsyncSession):
    [query] = EMBEDDER.embed(["x"])
    literal = "[" + ",".join(str(v) for v in query) + "]"
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = (
        await session.execute(
            text(
                "EXPLAIN SELECT id FROM knowledge_vectors WHERE namespace = 'n' "
                "AND dimensions = 1024 ORDER BY (embedding::vector(1024)) <=> "
                f"'{literal}'::vector(1024) LIMIT 5"
            )
        )
    ).scalars()
    assert "ix_knowledge_vectors_embedding_hnsw_1024" in "\n".join(plan)


async def test_chunks_are_read_back_by_address_for_active_documents(uow: UnitOfWork):
    doc, retired = await _document(uow, "live"), await _document(uow, "retired", active=False)
    await uow.chunks.replace_for_document(
        doc, [ChunkText(i, f"t{i}", t) for i, t in enumerate(TEXTS)]
    )
    await uow.chunks.replace_for_document(retired, [ChunkText(0, "old", "gone")])
    hits = await uow.chunks.get_by_keys([(doc, 2), (retired, 0), (doc, 7), (doc, 0)])
    assert [(h.document_id, h.ordinal, h.title) for h in hits] == [(doc, 2, "t2"), (doc, 0, "t0")]
    assert await uow.chunks.get_by_keys([]) == []
