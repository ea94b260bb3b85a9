"""The composition root: which backend serves each concern, chosen by configuration only here.

Object store by URL scheme: unset, a path or `file://` -> a local directory (default
`<TAGEN_HOME>/objects`); `s3://bucket/prefix` -> S3 or any S3-compatible endpoint. Any other
scheme fails fast with the URL in the message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from storage.objects import (
    LocalObjectStore,
    ObjectStoreSettings,
    S3ObjectStore,
    UnsupportedObjectStoreError,
    get_object_store_settings,
    parse_s3_url,
)
from storage.settings import get_storage_settings
from tasks import backends as task_backends

LOCAL_BUCKET = "local"


def _s3_client(settings: ObjectStoreSettings) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=(
            settings.s3_access_key_id.get_secret_value() if settings.s3_access_key_id else None
        ),
        aws_secret_access_key=(
            settings.s3_secret_access_key.get_secret_value()
            if settings.s3_secret_access_key
            else None
        ),
    )


def build_backends(settings: ObjectStoreSettings | None = None) -> task_backends.Backends:
    settings = settings or get_object_store_settings()
    url = settings.url or str(get_storage_settings().home / "objects")
    scheme = urlparse(url).scheme

    def download_s3(uri: str, destination: Path) -> None:
        bucket, key = parse_s3_url(uri)
        _s3_client(settings).download_file(bucket, key, str(destination))

    if scheme == "s3":
        bucket, prefix = parse_s3_url(url)
        store = S3ObjectStore(client=_s3_client(settings), bucket=bucket, prefix=prefix)
        return task_backends.Backends(objects=store, bucket=bucket, download_s3=download_s3)
    if scheme in ("", "file"):
        root = Path(unquote(urlparse(url).path)) if scheme == "file" else Path(url)
        return task_backends.Backends(
            objects=LocalObjectStore(root=root), bucket=LOCAL_BUCKET, download_s3=download_s3
        )
    raise UnsupportedObjectStoreError(
        f"TAGEN_OBJECTS_URL {url!r}: unsupported scheme {scheme!r} (use a path, file:// or s3://)"
    )


def install() -> None:
    """Provide the configured backends to the tasks of this process (built on first use)."""
    task_backends.provide(build_backends)
