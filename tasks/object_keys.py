"""Where a request's objects live: every object of a request is under one of its prefixes, so
recovery can list them and compare with the rows that name them."""

from __future__ import annotations

import uuid


def sample_key(request_id: uuid.UUID | str, filename: str) -> str:
    return f"samples/{request_id}/{filename}"


def revision_key(request_id: uuid.UUID | str, upload_id: str, filename: str) -> str:
    """A revision's package, under a key of its own attempt (`upload_id`)."""
    return f"tas/{request_id}/{upload_id}/{filename}"


def bundle_key(request_id: uuid.UUID | str, run_id: uuid.UUID | str) -> str:
    return f"validations/{request_id}/{run_id}/debug-bundle.zip"


def request_prefixes(request_id: uuid.UUID | str) -> tuple[str, ...]:
    """The prefixes of every key above for one request."""
    return (f"samples/{request_id}/", f"tas/{request_id}/", f"validations/{request_id}/")
