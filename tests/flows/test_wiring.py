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
from tests.unit.storage_objects.moto_s3 import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    moto_server,
    s3_client,
)


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


def test_s3_backends_store_objects_and_fetch_requester_samples(tmp_path: Path):
    from pydantic import SecretStr

    with moto_server() as endpoint:
        settings = ObjectStoreSettings(
            url="s3://tagen/objects",
            s3_endpoint_url=endpoint,
            s3_region=REGION,
            s3_access_key_id=SecretStr(ACCESS_KEY),
            s3_secret_access_key=SecretStr(SECRET_KEY),
        )
        client = s3_client(endpoint)
        client.create_bucket(Bucket="tagen")
        client.create_bucket(Bucket="uploads")
        client.put_object(Bucket="uploads", Key="team/app.log", Body=b"line one\nline two\n")

        backends = build_backends(settings)
        stored = backends.objects.put_file("samples/r/app.log", _write(tmp_path / "a.log"))
        assert stored.url == "s3://tagen/objects/samples/r/app.log"
        assert backends.objects.exists("samples/r/app.log")

        backends.download_s3("s3://uploads/team/app.log", tmp_path / "fetched.log")
        assert (tmp_path / "fetched.log").read_bytes() == b"line one\nline two\n"


def _write(path: Path) -> Path:
    path.write_text("2024-01-01 hello\n")
    return path


_FRESH_PROCESS = """
from prefect.flows import load_flow_from_entrypoint
from tasks.backends import BackendsNotProvidedError, get_backends

flow = load_flow_from_entrypoint(ENTRYPOINT)
try:
    get_backends()
except BackendsNotProvidedError:
    print("loading the entrypoint: no backends")
for hook in flow.on_running_hooks:  # what the flow engine calls as the run starts running
    hook(flow, None, None)
print(flow.name, get_backends().bucket, get_backends().objects.root)
"""


@pytest.mark.parametrize(
    "entrypoint", ["tagen.deployments.retention", "tagen/deployments.py:retention"]
)
def test_deployment_entrypoints_provide_the_backends_in_a_fresh_process(
    tmp_path: Path, entrypoint: str
):
    """What a flow-run process does: load the deployment's entrypoint (which provides nothing
    by being imported), start the run (its on_running hook provides the backends), run tasks.
    The served stack runs it for real (test_stack)."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "TAGEN_OBJECTS_URL": str(tmp_path / "objects")}
    done = subprocess.run(
        [sys.executable, "-c", f"ENTRYPOINT = {entrypoint!r}\n{_FRESH_PROCESS}"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "loading the entrypoint: no backends",
        f"retention local {(tmp_path / 'objects').resolve()}",
    ]
