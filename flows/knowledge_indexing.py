"""Indexing: register the built-in knowledge pack, then index every document the current vector
index lacks (full-text chunks and one vector per chunk). A vector side that is down (or whose
circuit is open) leaves the documents' full-text chunks indexed and their vectors to the next
run; the result says so (`vectors_unavailable`)."""

from __future__ import annotations

from prefect import flow, get_run_logger

from tasks.knowledge_document import (
    builtin_pack,
    check_vector_index,
    index_document,
    list_unindexed,
    register_pack_document,
)


@flow(name="knowledge-indexing", log_prints=True)
async def knowledge_indexing(include_builtin_pack: bool = True) -> dict[str, int | str | None]:
    index = await check_vector_index()  # an embedder/store mismatch stops here, once
    if include_builtin_pack:
        for path in builtin_pack():  # one task (one unit of work) per document
            await register_pack_document(path)
    indexed: dict[str, int] = {}
    failed = 0
    for document_id in await list_unindexed():
        try:
            indexed[document_id] = await index_document(document_id)
        except ValueError as exc:  # one unreadable document must not stop the others
            failed += 1
            get_run_logger().error("document %s not indexed: %s", document_id, exc)
    return {
        "documents": len(indexed),
        "chunks": sum(indexed.values()),
        "failed": failed,
        "index": index["index"],
        "vectors_unavailable": index.get("unavailable"),
    }
