"""Object store on S3 or any S3-compatible endpoint (MinIO, Ceph, moto) through boto3.

Uploads are spooled to a temporary file while hashed, so the size limit is enforced before a
single byte reaches the bucket and a rejected upload leaves no object behind.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import urlparse

from storage.objects.errors import ObjectNotFoundError, ObjectStoreError
from storage.objects.store import (
    StoredObject,
    StreamingObjectStore,
    copy_hashed,
    validate_key,
)

_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
_SPOOL_IN_MEMORY = 8 << 20


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split `s3://bucket/prefix` into (bucket, prefix without slashes at the ends)."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ObjectStoreError(f"not an S3 URL (expected s3://bucket/prefix): {url!r}")
    return parsed.netloc, parsed.path.strip("/")


def _is_missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code")) in _MISSING_CODES


class S3ObjectStore(StreamingObjectStore):
    """Objects under `prefix` in `bucket`; `client` is a boto3 S3 client."""

    def __init__(self, *, client: Any, bucket: str, prefix: str = "") -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def _object_key(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._object_key(key)}"

    def presigned_url(self, key: str, *, expires_in: int) -> str:
        """A GET URL for the object valid for ``expires_in`` seconds."""
        try:
            return str(
                self._client.generate_presigned_url(
                    "get_object",
                    Params={"Bucket": self.bucket, "Key": self._object_key(key)},
                    ExpiresIn=expires_in,
                )
            )
        except Exception as exc:
            raise ObjectStoreError(f"presigning {self.url(key)} failed: {exc}") from exc

    def put_stream(
        self,
        key: str,
        stream: BinaryIO,
        *,
        content_type: str = "application/octet-stream",
        max_bytes: int | None = None,
    ) -> StoredObject:
        object_key = self._object_key(key)
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
            writer = copy_hashed(stream, cast(BinaryIO, spool), key=key, max_bytes=max_bytes)
            spool.seek(0)
            try:
                self._client.upload_fileobj(
                    spool,
                    self.bucket,
                    object_key,
                    ExtraArgs={"ContentType": content_type, "Metadata": {"sha256": writer.sha256}},
                )
            except Exception as exc:
                raise ObjectStoreError(f"upload of {self.url(key)} failed: {exc}") from exc
        return StoredObject(key=key, url=self.url(key), size=writer.size, sha256=writer.sha256)

    def get(self, key: str, *, destination: Path) -> Path:
        try:
            self._client.download_file(self.bucket, self._object_key(key), str(destination))
        except Exception as exc:
            destination.unlink(missing_ok=True)
            if _is_missing(exc):
                raise ObjectNotFoundError(f"no object stored under {self.url(key)}") from exc
            raise ObjectStoreError(f"download of {self.url(key)} failed: {exc}") from exc
        return destination

    def open(self, key: str) -> BinaryIO:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._object_key(key))
        except Exception as exc:
            if _is_missing(exc):
                raise ObjectNotFoundError(f"no object stored under {self.url(key)}") from exc
            raise ObjectStoreError(f"reading {self.url(key)} failed: {exc}") from exc
        return cast(BinaryIO, response["Body"])

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._object_key(key))
        except Exception as exc:
            if _is_missing(exc):
                return False
            raise ObjectStoreError(f"checking {self.url(key)} failed: {exc}") from exc
        return True

    def keys(self, prefix: str) -> list[str]:
        folder = self._object_key(prefix.rstrip("/")) + "/"
        strip = len(self.prefix) + 1 if self.prefix else 0
        found: list[str] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=folder
            )
            for page in pages:
                found += [item["Key"][strip:] for item in page.get("Contents", [])]
        except Exception as exc:
            raise ObjectStoreError(f"listing {self.url(prefix.rstrip('/'))} failed: {exc}") from exc
        return sorted(found)

    def delete(self, key: str) -> bool:
        """Delete the object; False when it was already gone (retention must survive that)."""
        if not self.exists(key):
            return False
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._object_key(key))
        except Exception as exc:
            raise ObjectStoreError(f"deleting {self.url(key)} failed: {exc}") from exc
        return True
