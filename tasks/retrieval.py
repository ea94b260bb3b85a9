"""Knowledge retrieval: PostgreSQL full-text and vector search, fused by reciprocal rank.

`search_knowledge` is the one entry point (the lifecycle, the LLM planner and the benchmark use
it). Each ranker proposes `candidates` chunks; reciprocal rank fusion orders their union; the
chunks are read back from the database by (document, ordinal), so a vector whose chunk or
document is gone (deactivated, re-chunked) never surfaces. The embedding call runs in a worker
thread with no transaction open. Remote providers are called through their circuit breakers
(tasks.provider_breakers). When the vector side fails (provider down, its circuit open),
retrieval goes on with full-text alone, says so in each snippet's `sources` and in
the result's `fallback` (which the lifecycle audits); a configuration error is raised.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from engine.knowledge.fusion import reciprocal_rank_fusion
from storage.breaker import EMBEDDINGS, PINECONE
from storage.db.repositories.knowledge_chunk import ChunkHit
from storage.vectors import Embedder, VectorBackendError, VectorFilter, VectorStore
from tasks.backends import get_backends, unit_of_work
from tasks.provider_breakers import through_breaker

RetrievalMode = Literal["hybrid", "fulltext", "vector"]
RETRIEVAL_MODES: tuple[str, ...] = get_args(RetrievalMode)
DEFAULT_CANDIDATES = 20
"""Chunks each ranker proposes to the fusion (more than are kept: agreement lifts a chunk)."""

Ranker = Literal["fulltext", "vector"]
ChunkKey = tuple[uuid.UUID, int]
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnowledgeSnippet:
    """A retrieved chunk. `score` is its fused RRF score; `sources` the rankers that found it."""

    document_id: str
    title: str
    text: str
    ordinal: int
    score: float
    sources: tuple[Ranker, ...]


async def _fulltext(query: str, candidates: int) -> list[ChunkHit]:
    async with unit_of_work() as uow:
        return await uow.chunks.search(query, limit=candidates)


async def _vector(
    query: str, candidates: int, embedder: Embedder, store: VectorStore, where: VectorFilter | None
) -> list[ChunkKey]:
    [vector] = await through_breaker(EMBEDDINGS, lambda: asyncio.to_thread(embedder.embed, [query]))
    matches = await through_breaker(
        PINECONE, lambda: store.query(vector, top_k=candidates, where=where)
    )
    return [(m.document_id, m.ordinal) for m in matches]


class Retrieved(list[KnowledgeSnippet]):
    """Retrieved snippets, best first; `fallback` says why the vector side was left out of a
    hybrid search (None: it was not)."""

    fallback: str | None = None


async def search_knowledge(
    query: str,
    *,
    limit: int,
    mode: RetrievalMode = "hybrid",
    candidates: int = DEFAULT_CANDIDATES,
    where: VectorFilter | None = None,
    embedder: Embedder | None = None,
    store: VectorStore | None = None,
) -> Retrieved:
    """The `limit` chunks of active documents that best answer `query`, best first (and why
    the vector side was left out when it failed).

    `where` narrows the vector side (full-text covers all active documents). `embedder` and
    `store` default to the backends the composition root provided.
    """
    if mode not in RETRIEVAL_MODES:
        raise ValueError(f"unknown retrieval mode {mode!r} (one of {', '.join(RETRIEVAL_MODES)})")
    if limit < 1 or candidates < 1:
        raise ValueError(f"limit and candidates must be positive, got {limit} and {candidates}")
    if not query.strip():
        return Retrieved()
    fallback = None
    rankings: dict[Ranker, list[ChunkKey]] = {}
    known: dict[ChunkKey, ChunkHit] = {}
    if mode in ("hybrid", "fulltext"):
        hits = await _fulltext(query, max(candidates, limit))
        known.update(((h.document_id, h.ordinal), h) for h in hits)
        rankings["fulltext"] = [(h.document_id, h.ordinal) for h in hits]
    if mode in ("hybrid", "vector"):
        if embedder is None or store is None:
            backends = get_backends()
            embedder, store = embedder or backends.embedder, store or backends.vectors
        try:
            rankings["vector"] = await _vector(
                query, max(candidates, limit), embedder, store, where
            )
        except VectorBackendError as exc:
            if mode == "vector":
                raise
            fallback = str(exc)
            _log.warning("vector search unavailable, full-text results only: %s", fallback)
    fused = reciprocal_rank_fusion(list(rankings.values()))
    found = Retrieved(await _snippets(fused, rankings, known, limit))
    found.fallback = fallback
    return found


async def _snippets(
    fused: Sequence[tuple[ChunkKey, float]],
    rankings: dict[Ranker, list[ChunkKey]],
    known: dict[ChunkKey, ChunkHit],
    limit: int,
) -> list[KnowledgeSnippet]:
    missing = [key for key, _ in fused if key not in known]
    if missing:
        async with unit_of_work() as uow:
            known.update(
                ((h.document_id, h.ordinal), h) for h in await uow.chunks.get_by_keys(missing)
            )
    found_by = {ranker: set(keys) for ranker, keys in rankings.items()}
    snippets = []
    for key, score in fused:
        hit = known.get(key)
        if hit is None:  # a vector whose chunk or document is gone
            continue
        sources = tuple(ranker for ranker, keys in found_by.items() if key in keys)
        snippets.append(
            KnowledgeSnippet(
                str(hit.document_id), hit.title, hit.content, hit.ordinal, score, sources
            )
        )
        if len(snippets) == limit:
            break
    return snippets
