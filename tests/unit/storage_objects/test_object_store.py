"""The object store contract, against a local directory and S3 (moto server: the real protocol)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.objects import (
    InvalidObjectKeyError,
    LocalObjectStore,
    ObjectNotFoundError,
    ObjectStore,
    ObjectTooLargeError,
    S3ObjectStore,
    parse_s3_url,
)
from tests.unit.storage_objects.moto_s3 import moto_server, s3_client


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


def _s3_store(endpoint: str, bucket: str) -> S3ObjectStore:
    client = s3_client(endpoint)
    client.create_bucket(Bucket=bucket)
    return S3ObjectStore(client=client, bucket=bucket, prefix="tagen/objects")


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjectStore(root=tmp_path / "objects")
    endpoint = request.getfixturevalue("moto_endpoint")
    return _s3_store(endpoint, bucket=f"b-{abs(hash(tmp_path)) % 10**8}")


def test_put_stream_reports_size_and_sha256_and_round_trips(store: ObjectStore, tmp_path: Path):
    data = b"2024-01-01 GET /index.html 200\n" * 5000
    stored = store.put_stream("samples/r1/access.log", io.BytesIO(data), content_type="text/plain")
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert store.exists("samples/r1/access.log")
    with store.open("samples/r1/access.log") as stream:
        assert stream.read() == data
    copy = store.get("samples/r1/access.log", destination=tmp_path / "copy.log")
    assert copy.read_bytes() == data


def test_put_file_and_url_scheme(store: ObjectStore, tmp_path: Path):
    source = tmp_path / "TA-demo.tgz"
    source.write_bytes(b"\x1f\x8b fake archive")
    stored = store.put_file("tas/r1/v1/TA-demo.tgz", source)
    assert stored.url == store.url("tas/r1/v1/TA-demo.tgz")
    assert stored.url.startswith(("file://", "s3://"))
    assert stored.url.endswith("tas/r1/v1/TA-demo.tgz")


def test_keys_lists_what_is_under_a_prefix_only(store: ObjectStore):
    for key in ("tas/r1/a/TA.tgz", "tas/r1/b/TA.tgz", "tas/r10/a/TA.tgz", "samples/r1/x.log"):
        store.put_stream(key, io.BytesIO(b"x"))
    assert store.keys("tas/r1/") == ["tas/r1/a/TA.tgz", "tas/r1/b/TA.tgz"]
    assert store.keys("tas/r2/") == []


def test_delete_is_idempotent_and_missing_objects_are_reported(store: ObjectStore, tmp_path: Path):
    store.put_stream("a/b.txt", io.BytesIO(b"x"))
    assert store.delete("a/b.txt") is True
    assert store.delete("a/b.txt") is False
    assert not store.exists("a/b.txt")
    with pytest.raises(ObjectNotFoundError):
        store.open("a/b.txt")
    with pytest.raises(ObjectNotFoundError):
        store.get("a/b.txt", destination=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_size_limit_rejects_and_leaves_nothing(store: ObjectStore):
    with pytest.raises(ObjectTooLargeError, match="limit of 10 bytes"):
        store.put_stream("big.bin", io.BytesIO(b"y" * 11), max_bytes=10)
    assert not store.exists("big.bin")


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../escape", "a/../../b", "a//b", "a\\b"])
def test_unsafe_keys_are_refused(store: ObjectStore, key: str):
    with pytest.raises(InvalidObjectKeyError):
        store.put_stream(key, io.BytesIO(b"x"))


def test_local_store_leaves_no_partial_file_on_failure(tmp_path: Path):
    store = LocalObjectStore(root=tmp_path)

    class Broken(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 1:
                raise OSError("disk went away")
            return b"partial"

    with pytest.raises(OSError, match="disk went away"):
        store.put_stream("x/partial.log", Broken())  # type: ignore[arg-type]
    assert list((tmp_path / "x").iterdir()) == []


def test_parse_s3_url():
    assert parse_s3_url("s3://bucket/some/prefix/") == ("bucket", "some/prefix")
    assert parse_s3_url("s3://bucket") == ("bucket", "")


def test_s3_presigned_url_fetches_the_object_without_credentials(moto_endpoint: str):
    import urllib.request

    from storage.objects import SupportsPresignedUrls

    store = _s3_store(moto_endpoint, bucket="presign")
    store.put_stream("ta/x.tgz", io.BytesIO(b"package bytes"))
    assert isinstance(store, SupportsPresignedUrls)
    assert not isinstance(LocalObjectStore(root=Path("/nonexistent")), SupportsPresignedUrls)
    url = store.presigned_url("ta/x.tgz", expires_in=300)
    assert "Signature=" in url and "tagen/objects/ta/x.tgz" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"package bytes"
