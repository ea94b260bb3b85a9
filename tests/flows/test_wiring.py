"""The composition root picks the object store by URL scheme and refuses unknown ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.objects import (
    LocalObjectStore,
    ObjectStoreSettings,
    S3ObjectStore,
    UnsupportedObjectStoreError,
)
from tagen.wiring import build_backends


def test_local_directory_from_a_path_or_file_url(tmp_path: Path):
    for url in (str(tmp_path / "a"), (tmp_path / "b").as_uri()):
        backends = build_backends(ObjectStoreSettings(url=url))
        assert isinstance(backends.objects, LocalObjectStore)
        assert backends.bucket == "local"
        assert backends.objects.root == Path(url.removeprefix("file://")).resolve()


def test_s3_url_gives_bucket_and_prefix():
    backends = build_backends(
        ObjectStoreSettings(
            url="s3://tas/prod/", s3_endpoint_url="http://127.0.0.1:9", s3_region="eu-west-1"
        )
    )
    assert isinstance(backends.objects, S3ObjectStore)
    assert backends.bucket == "tas"
    assert backends.objects.url("x/y.tgz") == "s3://tas/prod/x/y.tgz"


def test_unknown_scheme_fails_fast():
    with pytest.raises(UnsupportedObjectStoreError, match="gs"):
        build_backends(ObjectStoreSettings(url="gs://bucket/x"))
