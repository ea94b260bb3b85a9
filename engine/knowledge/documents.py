"""A knowledge document checked before it is stored: a regular file within the size limit that
its kind can read, and its SHA-256.

Nothing is read whole: the size comes from the file system, the digest from 1 MiB chunks, an
archive is unpacked through ``safe_unpack`` (size, ratio, link and traversal limits) and a
text document is sniffed from its head. So a 1 GB upload costs megabytes, and a zip bomb or a
FIFO is refused with a sentence instead of filling the memory or hanging.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from engine.conf.ta import InvalidTAError
from engine.knowledge.extract import DOCUMENT_KINDS
from engine.packaging.unpack import UnsafeArchiveError, unpacked_ta
from engine.samples import SampleError, open_regular, read_sample_text

CHUNK_BYTES = 1 << 20
PREVIEW_CHARS = 4096
PDF_MAGIC = b"%PDF-"


class DocumentError(ValueError):
    """A document that cannot be stored as knowledge (names it and says why)."""


class DocumentTooLargeError(DocumentError):
    """A document over the size limit (refused from its size, before a byte is read)."""


def _check_kind(path: Path, kind: str) -> None:
    """Refuse a document its kind cannot read (indexing would only fail later)."""
    if kind == "ta_archive":
        with unpacked_ta(path):
            return
    if kind == "pdf":
        with open_regular(path, what="document") as handle:
            if handle.read(len(PDF_MAGIC)) != PDF_MAGIC:
                raise DocumentError(f"document {path}: not a PDF (no %PDF- header)")
        return
    read_sample_text(path, max_chars=PREVIEW_CHARS)  # empty, binary or unreadable text


def check_document(
    path: Path, *, kind: str, max_bytes: int, on_read: Callable[[int], None] | None = None
) -> str:
    """The SHA-256 (hex) of a document fit to store, else :class:`DocumentError`.

    ``on_read`` hears of every chunk hashed (a progress display).
    """
    if kind not in DOCUMENT_KINDS:
        raise DocumentError(f"unknown document type {kind!r} (one of {', '.join(DOCUMENT_KINDS)})")
    try:
        with open_regular(path, what="document") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise DocumentTooLargeError(
                    f"document {path}: {size} bytes is more than the {max_bytes} allowed"
                )
            digest = hashlib.sha256()
            while chunk := handle.read(CHUNK_BYTES):
                digest.update(chunk)
                if on_read is not None:
                    on_read(len(chunk))
        _check_kind(path, kind)
    except SampleError as exc:  # names the document already
        raise DocumentError(str(exc)) from exc
    except (UnsafeArchiveError, InvalidTAError) as exc:
        raise DocumentError(f"document {path}: {exc}") from exc
    return digest.hexdigest()
