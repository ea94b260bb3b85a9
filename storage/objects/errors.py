"""Errors raised by object stores; each names the key or URL at fault."""

from __future__ import annotations


class ObjectStoreError(RuntimeError):
    """An object store operation failed (the backend's own error is chained)."""


class InvalidObjectKeyError(ObjectStoreError, ValueError):
    """A key that could escape the store (absolute, `..`, backslashes, empty parts)."""


class ObjectNotFoundError(ObjectStoreError, LookupError):
    """No object is stored under the key."""


class ObjectTooLargeError(ObjectStoreError, ValueError):
    """A stream exceeded the size limit the caller set; nothing was stored."""


class UnsupportedObjectStoreError(ObjectStoreError, ValueError):
    """An object store URL whose scheme no backend handles."""
