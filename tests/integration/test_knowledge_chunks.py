"""Knowledge chunks: generated tsvector, ranked full-text search, idempotent re-indexing."""

from __future__ import annotations

from storage.db.repositories.knowledge_chunk import ChunkText
from storage.db.unit_of_work import UnitOfWork


async def _document(uow: UnitOfWork, title: str, *, active: bool = True):
    return await uow.knowledge.create(
        {
            "title": title,
            "document_type": "markdown",
            "storage_bucket": "local",
            "storage_key": f"knowledge/{title}.md",
            "is_active": active,
        }
    )


async def test_search_ranks_matching_chunks_and_skips_inactive_documents(uow: UnitOfWork):
    props = await _document(uow, "props")
    cim = await _document(uow, "cim")
    retired = await _document(uow, "retired", active=False)
    await uow.chunks.replace_for_document(
        props.id,
        [
            ChunkText(0, "Event breaking", "LINE_BREAKER splits events; SHOULD_LINEMERGE false"),
            ChunkText(1, "Timestamps", "TIME_FORMAT and TIME_PREFIX read the event time"),
        ],
    )
    await uow.chunks.replace_for_document(
        cim.id, [ChunkText(0, "Web data model", "tag web, fields status and http_method")]
    )
    await uow.chunks.replace_for_document(
        retired.id, [ChunkText(0, "Old", "timestamps were read differently")]
    )

    # Other tests may have indexed documents too (committed): look at ours only.
    ours = {props.id, cim.id, retired.id}
    hits = [
        h for h in await uow.chunks.search("how are timestamps parsed", 50) if h.document_id in ours
    ]
    assert [h.title for h in hits] == ["Timestamps"]
    assert hits[0].document_id == props.id and hits[0].rank > 0

    web = [
        h
        for h in await uow.chunks.search("nginx web access logs with http status", 50)
        if h.document_id in ours
    ]
    assert web[0].document_id == cim.id
    assert await uow.chunks.search("  ?! ", limit=5) == []


async def test_replacing_chunks_is_idempotent(uow: UnitOfWork):
    doc = await _document(uow, "guide")
    chunks = [ChunkText(i, f"part {i}", f"text number {i}") for i in range(3)]
    assert await uow.chunks.replace_for_document(doc.id, chunks) == 3
    assert await uow.chunks.replace_for_document(doc.id, chunks[:2]) == 2
    assert await uow.chunks.count_for_document(doc.id) == 2
