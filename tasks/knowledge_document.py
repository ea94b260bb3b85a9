"""Knowledge documents: register (built-in pack, CLI uploads) and index into full-text chunks."""

from __future__ import annotations

import asyncio
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
from storage.db.enums import AuditAction, AuditEntity
from storage.db.repositories.knowledge_chunk import ChunkText
from storage.objects import ObjectStore, StoredObject
from tasks.backends import get_backends, unit_of_work
from tasks.compensation import discard
from tasks.errors import LifecycleError
from tasks.runtime import (
    MAX_DOCUMENT_BYTES,
    RETRY_DELAYS_S,
    audit,
    read_config_int,
    retry_transient,
)

INDEX_NAME = "postgres-fts"
BUILTIN_PACK = Path(__file__).with_name("knowledge_pack")
MAX_DOCUMENT_CHARS = 5_000_000


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


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def list_unindexed(limit: int = 100) -> list[str]:
    async with unit_of_work() as uow:
        return [str(d.id) for d in await uow.knowledge.get_unindexed_documents(limit)]


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def index_document(document_id: str) -> int:
    """Extract, chunk and index one document; re-indexing replaces its chunks.

    Fetching and extracting (blocking I/O, PDF parsing) run in a worker thread with no
    transaction open; the chunks are written in one unit of work afterwards.
    """
    did = uuid.UUID(document_id)
    async with unit_of_work() as uow:
        document = await uow.knowledge.get(did)
        key, kind, title = document.storage_key, document.document_type, document.title
    chunks = await asyncio.to_thread(_fetch_and_chunk, key, kind=kind, title=title)
    async with unit_of_work() as uow:
        count = await uow.chunks.replace_for_document(
            did, [ChunkText(c.ordinal, c.title, c.text) for c in chunks]
        )
        await uow.knowledge.mark_as_indexed(did, INDEX_NAME, count)
        await audit(
            uow,
            action=AuditAction.UPDATE,
            entity=AuditEntity.KNOWLEDGE_DOCUMENT,
            entity_id=did,
            details={"indexed": True, "chunks": count, "index": INDEX_NAME},
        )
        await uow.commit()
        return count


def _fetch_and_chunk(key: str, *, kind: str, title: str) -> list[Chunk]:
    with tempfile.TemporaryDirectory(prefix="tagen-knowledge-") as tmp:
        local = get_backends().objects.get(key, destination=Path(tmp) / Path(key).name)
        sections = extract_sections(local, kind=kind, title=title)
    return chunk_sections(sections)
