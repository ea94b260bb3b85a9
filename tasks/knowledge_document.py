"""Knowledge documents: register (built-in pack, CLI uploads), then index: full-text chunks in
PostgreSQL and one vector per chunk in the configured vector store."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, cast

from prefect import task

from engine.knowledge.chunk import Chunk, chunk_sections
from engine.knowledge.documents import DocumentError, DocumentTooLargeError, check_document
from engine.knowledge.extract import (
    DOCUMENT_KINDS,
    KnowledgeExtractionError,
    Section,
    markdown_sections,
    pdf_sections,
    ta_directory_sections,
    text_sections,
)
from engine.packaging.unpack import UnsafeArchiveError, unpacked_ta
from engine.samples import open_regular, read_sample_text
from storage.breaker import EMBEDDINGS, PINECONE
from storage.db.enums import AuditAction, AuditEntity
from storage.db.repositories.knowledge_chunk import ChunkText
from storage.objects import ObjectStore, StoredObject
from storage.vectors import ChunkVector, Vector, VectorBackendError, VectorConfigurationError
from tasks.backends import Backends, get_backends, unit_of_work
from tasks.compensation import discard
from tasks.errors import LifecycleError
from tasks.provider_breakers import through_breaker
from tasks.runtime import (
    MAX_DOCUMENT_BYTES,
    RETRY_DELAYS_S,
    audit,
    read_config_int,
    retry_transient,
)

BUILTIN_PACK = Path(__file__).with_name("knowledge_pack")
MAX_DOCUMENT_CHARS = 5_000_000
_log = logging.getLogger(__name__)


def extract_sections(path: Path, *, kind: str, title: str) -> list[Section]:
    """Sections of a stored document according to its kind."""
    if kind == "pdf":
        return pdf_sections(path, title=title)
    if kind == "ta_archive":
        try:
            with unpacked_ta(path) as ta_dir:
                return ta_directory_sections(ta_dir.parent, title=title)
        except UnsafeArchiveError as exc:
            raise KnowledgeExtractionError(f"document {title}: {exc}") from exc
    text = read_sample_text(path, max_chars=MAX_DOCUMENT_CHARS)
    if kind == "markdown":
        return markdown_sections(text, title=title)
    if kind == "text":
        return text_sections(text, title=title)
    raise KnowledgeExtractionError(
        f"document {title}: unknown type {kind!r} (one of {', '.join(DOCUMENT_KINDS)})"
    )


class _CountingReader:
    """A binary stream that reports how many bytes were read through it (for progress)."""

    def __init__(self, raw: BinaryIO, on_read: Callable[[int], None] | None) -> None:
        self._raw = raw
        self._on_read = on_read

    def read(self, size: int = -1, /) -> bytes:
        data = self._raw.read(size)
        if self._on_read is not None:
            self._on_read(len(data))
        return data


def upload_document(
    path: Path,
    key: str,
    *,
    objects: ObjectStore,
    max_bytes: int,
    on_read: Callable[[int], None] | None,
) -> StoredObject:
    """Stream a checked document to ``objects`` under ``key`` (at most ``max_bytes``)."""
    with open_regular(path, what="document") as handle:
        stream = cast(BinaryIO, _CountingReader(handle, on_read))
        return objects.put_stream(key, stream, max_bytes=max_bytes)


async def register_document(
    path: Path,
    *,
    kind: str,
    title: str,
    uploaded_by: uuid.UUID | None = None,
    on_read: Callable[[int], None] | None = None,
) -> tuple[str, bool]:
    """Store a document and its row unless the same content is already registered.

    The file is checked (``engine.knowledge.documents.check_document``) and streamed to the
    object store, never read whole; ``on_read`` hears of every chunk read (twice the size:
    hashing, then storing).
    Idempotent in PostgreSQL (content_hash is unique). Each attempt uploads under its own key,
    with no transaction open, so the object of a losing or failed attempt can be deleted without
    touching the winner's.
    """
    max_bytes = await read_config_int(MAX_DOCUMENT_BYTES)
    try:
        digest = await asyncio.to_thread(
            check_document, path, kind=kind, max_bytes=max_bytes, on_read=on_read
        )
    except DocumentTooLargeError as exc:
        raise LifecycleError(f"{exc} (SystemConfig {MAX_DOCUMENT_BYTES[0]})") from exc
    except DocumentError as exc:
        raise LifecycleError(str(exc)) from exc
    async with unit_of_work() as uow:
        same = await uow.knowledge.get_all(0, 1, filters={"content_hash": digest})
    if same:
        return str(same[0].id), False
    backends = get_backends()
    key = f"knowledge/{digest[:16]}/{uuid.uuid4().hex[:12]}/{path.name}"
    stored = await asyncio.to_thread(
        upload_document,
        path,
        key,
        objects=backends.objects,
        max_bytes=max_bytes,
        on_read=on_read,
    )
    try:
        async with unit_of_work() as uow:
            document, created = await uow.knowledge.create_unless_known(
                {
                    "title": title,
                    "document_type": kind,
                    "storage_bucket": backends.bucket,
                    "storage_key": stored.key,
                    "file_size": stored.size,
                    "content_hash": digest,
                    "uploaded_by": uploaded_by,
                }
            )
            if created:
                await audit(
                    uow,
                    action=AuditAction.UPLOAD,
                    entity=AuditEntity.KNOWLEDGE_DOCUMENT,
                    entity_id=document.id,
                    user_id=uploaded_by,
                    details={"title": title, "type": kind, "key": stored.key},
                )
                await uow.commit()
    except BaseException:
        await discard(backends.objects, [stored.key])
        raise
    if not created:  # registered concurrently by another caller: keep theirs only
        await discard(backends.objects, [stored.key])
    return str(document.id), created


def builtin_pack() -> list[str]:
    """The documents of the knowledge pack shipped with tagen (markdown), in a stable order."""
    return [str(path) for path in sorted(BUILTIN_PACK.glob("*.md"))]


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def register_pack_document(path: str) -> str:
    """One document of the built-in pack, registered once (by content hash)."""
    document = Path(path)
    title = document.stem.replace("_", " ")
    document_id, _ = await register_document(document, kind="markdown", title=title)
    return document_id


def vector_index_name(backends: Backends) -> str:
    """What an indexed document records as its index: the vector store and the embedding
    namespace (`pgvector/hashing-v1-1024`), so that changing either re-indexes everything."""
    return f"{backends.vectors.name}/{backends.vectors.namespace}"


def embedding_text(chunk: Chunk) -> str:
    """What is embedded for a chunk: its section title (document, file, stanza) and its text."""
    return f"{chunk.title}\n{chunk.text}"


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def check_vector_index() -> dict[str, int | str | None]:
    """Fail fast when the vector store holds vectors of another length than the embedder's
    (a Pinecone index created for another model); returns the store's figures. A store that
    cannot be reached (down, its circuit open) is reported, not raised: indexing goes on with
    full-text chunks only (`index_document`)."""
    backends = get_backends()
    try:
        stats = await through_breaker(PINECONE, backends.vectors.stats)
    except VectorBackendError as exc:
        return {"index": vector_index_name(backends), "vectors": None, "unavailable": str(exc)}
    dimensions = await asyncio.to_thread(lambda: backends.embedder.dimensions)
    if stats.dimension is not None and stats.dimension != dimensions:
        raise VectorConfigurationError(
            f"vector store {backends.vectors.name} holds {stats.dimension}-dimension vectors but "
            f"embedder {backends.embedder.name} makes {dimensions}: use an index of "
            f"{dimensions} dimensions or an embedder of {stats.dimension}"
        )
    return {"index": vector_index_name(backends), "vectors": stats.vectors}


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def list_unindexed(limit: int = 100) -> list[str]:
    """Documents to index: never indexed, or indexed into another index than the current one."""
    index = vector_index_name(get_backends())
    async with unit_of_work() as uow:
        return [str(d.id) for d in await uow.knowledge.get_documents_to_index(index, limit)]


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def index_document(document_id: str) -> int:
    """Extract, chunk, embed and index one document; re-indexing replaces chunks and vectors.

    Fetching, extracting and embedding (blocking I/O, PDF parsing, an embeddings API) run in
    worker threads with no transaction open. The chunks are committed first; the vectors are
    then written (ids are (document, ordinal): a re-index overwrites them in place) and those
    beyond the new chunk count deleted; only then is the document marked indexed, so a failure
    at any step leaves it to the next run, which redoes every step idempotently. When the
    embeddings API or the vector store fails (after its client's retries) or its circuit is
    open, the chunks are still committed (full-text search finds them), the document stays
    unindexed for the next run, and the audit entry says why its vectors were skipped.
    """
    did = uuid.UUID(document_id)
    backends = get_backends()
    async with unit_of_work() as uow:
        document = await uow.knowledge.get(did)
        key, kind, title = document.storage_key, document.document_type, document.title
    chunks = await asyncio.to_thread(_fetch_and_chunk, key, kind=kind, title=title)
    texts = [embedding_text(c) for c in chunks]
    skipped: str | None = None
    try:
        vectors = await through_breaker(
            EMBEDDINGS, lambda: asyncio.to_thread(backends.embedder.embed, texts)
        )
    except VectorBackendError as exc:
        vectors, skipped = [], f"embeddings unavailable: {exc}"
    async with unit_of_work() as uow:
        count = await uow.chunks.replace_for_document(
            did, [ChunkText(c.ordinal, c.title, c.text) for c in chunks]
        )
        await uow.commit()
    written = 0
    if skipped is None:
        try:
            written = await _store_vectors(backends, did, kind, chunks, vectors)
        except VectorBackendError as exc:
            skipped = f"vector store unavailable: {exc}"
    index = vector_index_name(backends)
    async with unit_of_work() as uow:
        if skipped is None:
            await uow.knowledge.mark_as_indexed(did, index, written)
        await audit(
            uow,
            action=AuditAction.UPDATE,
            entity=AuditEntity.KNOWLEDGE_DOCUMENT,
            entity_id=did,
            details={
                "indexed": skipped is None,
                "chunks": count,
                "vectors": written,
                "index": index,
                "embedder": backends.embedder.name,
                **({"vectors_skipped": skipped} if skipped else {}),
            },
        )
        await uow.commit()
    if skipped:
        _log.warning("document %s: full-text chunks only, %s", document_id, skipped)
    return count


async def _store_vectors(
    backends: Backends,
    document_id: uuid.UUID,
    kind: str,
    chunks: list[Chunk],
    vectors: list[Vector],
) -> int:
    """Upsert the document's chunk vectors and delete its surplus ones; returns how many."""
    written = await through_breaker(
        PINECONE,
        lambda: backends.vectors.upsert(
            [
                ChunkVector(document_id, chunk.ordinal, values, {"document_type": kind})
                for chunk, values in zip(chunks, vectors, strict=True)
            ]
        ),
    )
    await through_breaker(
        PINECONE, lambda: backends.vectors.delete_document(document_id, from_ordinal=len(chunks))
    )
    return written


def _fetch_and_chunk(key: str, *, kind: str, title: str) -> list[Chunk]:
    with tempfile.TemporaryDirectory(prefix="tagen-knowledge-") as tmp:
        local = get_backends().objects.get(key, destination=Path(tmp) / Path(key).name)
        sections = extract_sections(local, kind=kind, title=title)
    return chunk_sections(sections)
