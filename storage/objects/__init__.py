"""Object storage behind one Protocol: a local directory (default) or S3."""

from __future__ import annotations

from storage.objects.errors import (
    InvalidObjectKeyError,
    ObjectNotFoundError,
    ObjectStoreError,
    ObjectTooLargeError,
    UnsupportedObjectStoreError,
)
from storage.objects.local import LocalObjectStore
from storage.objects.s3 import S3ObjectStore, parse_s3_url
from storage.objects.settings import ObjectStoreSettings, get_object_store_settings
from storage.objects.store import ObjectStore, StoredObject, SupportsPresignedUrls

__all__ = [
    "InvalidObjectKeyError",
    "LocalObjectStore",
    "ObjectNotFoundError",
    "ObjectStore",
    "ObjectStoreError",
    "ObjectStoreSettings",
    "ObjectTooLargeError",
    "S3ObjectStore",
    "StoredObject",
    "SupportsPresignedUrls",
    "UnsupportedObjectStoreError",
    "get_object_store_settings",
    "parse_s3_url",
]
