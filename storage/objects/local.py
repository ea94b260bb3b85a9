"""Object store in a local directory: the embedded default, no service needed.

Writes go to a temporary file beside the target and are renamed into place, so a reader never
sees a half-written object and a failed upload leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from storage.objects.errors import ObjectNotFoundError
from storage.objects.store import (
    StoredObject,
    StreamingObjectStore,
    copy_hashed,
    validate_key,
)


class LocalObjectStore(StreamingObjectStore):
    """Objects as files under `root` (created on first write)."""

    def __init__(self, *, root: Path) -> None:
        self.root = root.expanduser().resolve()

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def url(self, key: str) -> str:
        return self._path(key).as_uri()

    def put_stream(
        self,
        key: str,
        stream: BinaryIO,
        *,
        content_type: str = "application/octet-stream",
        max_bytes: int | None = None,
    ) -> StoredObject:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part"
        )
        try:
            with os.fdopen(fd, "wb") as sink:
                writer = copy_hashed(stream, sink, key=key, max_bytes=max_bytes)
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        return StoredObject(key=key, url=target.as_uri(), size=writer.size, sha256=writer.sha256)

    def get(self, key: str, *, destination: Path) -> Path:
        with self.open(key) as source, destination.open("wb") as sink:
            shutil.copyfileobj(source, sink)
        return destination

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise ObjectNotFoundError(f"no object stored under {key!r}") from exc

    def delete(self, key: str) -> bool:
        """Delete the object; False when it was already gone (retention must survive that)."""
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self, prefix: str) -> list[str]:
        """Files under `prefix`, the temporary files of uploads that never finished included
        (a process killed mid-upload leaves one: it is debris recovery removes)."""
        folder = self._path(prefix.rstrip("/"))
        if not folder.is_dir():
            return []
        return sorted(
            path.relative_to(self.root).as_posix() for path in folder.rglob("*") if path.is_file()
        )
