"""The object store contract shared by every backend (local directory, S3).

Objects are immutable blobs addressed by a relative key such as
``samples/<request>/<sample>/access.log``. Writers get back size and SHA-256 computed while
streaming, so callers never read an upload twice to checksum it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from storage.objects.errors import InvalidObjectKeyError, ObjectTooLargeError

CHUNK_SIZE = 1 << 20


@dataclass(frozen=True)
class StoredObject:
    """What a write produced: the key, the URL to fetch it again, its size and SHA-256 (hex)."""

    key: str
    url: str
    size: int
    sha256: str


@runtime_checkable
class ObjectStore(Protocol):
    """Store, fetch and delete immutable objects by key."""

    def put_stream(
        self,
        key: str,
        stream: BinaryIO,
        *,
        content_type: str = "application/octet-stream",
        max_bytes: int | None = None,
    ) -> StoredObject: ...

    def put_file(
        self, key: str, path: Path, *, content_type: str = "application/octet-stream"
    ) -> StoredObject: ...

    def get(self, key: str, *, destination: Path) -> Path: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> bool: ...

    def exists(self, key: str) -> bool: ...

    def keys(self, prefix: str) -> list[str]:
        """Every key under `prefix` (a folder-like key ending in "/"), sorted: what recovery
        compares with the rows that name objects."""
        ...

    def url(self, key: str) -> str: ...


@runtime_checkable
class SupportsPresignedUrls(Protocol):
    """A store that can hand out a time-limited URL to fetch an object without credentials
    (S3): what a Kubernetes init container downloads inputs with."""

    def presigned_url(self, key: str, *, expires_in: int) -> str: ...


def validate_key(key: str) -> str:
    """Return `key` if it is a safe relative key, else raise `InvalidObjectKeyError`."""
    if not key or key.startswith("/") or "\\" in key or "\x00" in key:
        raise InvalidObjectKeyError(f"invalid object key {key!r}: must be a relative path")
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise InvalidObjectKeyError(
            f"invalid object key {key!r}: empty, '.' or '..' path segments are not allowed"
        )
    return key


class HashingWriter:
    """Copies chunks to a binary sink while counting bytes and computing SHA-256."""

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._sink.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


def copy_hashed(
    stream: BinaryIO, sink: BinaryIO, *, key: str, max_bytes: int | None
) -> HashingWriter:
    """Copy `stream` to `sink` in chunks, counting and hashing as it goes; raise
    `ObjectTooLargeError` once it passes `max_bytes` (before the whole stream is read)."""
    writer = HashingWriter(sink)
    total = 0
    while chunk := stream.read(CHUNK_SIZE):
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise ObjectTooLargeError(
                f"object {key!r} is larger than the limit of {max_bytes} bytes"
            )
        writer.write(chunk)
    return writer


class StreamingObjectStore:
    """What every backend shares: a file is stored as the stream of its bytes."""

    def put_file(
        self: ObjectStore, key: str, path: Path, *, content_type: str = "application/octet-stream"
    ) -> StoredObject:
        with path.open("rb") as stream:
            return self.put_stream(key, stream, content_type=content_type)
