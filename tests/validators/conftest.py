"""A synthetic TA and samples in an object store, as the VALIDATING task hands them over."""

from __future__ import annotations

import tarfile
import uuid
from pathlib import Path

import pytest

from engine.settings import SandboxSettings
from storage.objects import LocalObjectStore, ObjectStore
from tasks.validators import SampleInput, ValidationInput
from tests.validators.fake_kubernetes import NOW

APP_CONF = """\
[launcher]
version = 1.2.0

[package]
id = TA-acme

[id]
name = TA-acme
version = 1.2.0
"""
PROPS = """\
[acme:auth]
SHOULD_LINEMERGE = false
TIME_FORMAT = %Y-%m-%d %H:%M:%S
MAX_TIMESTAMP_LOOKAHEAD = 19
EXTRACT-user = user=(?<user>\\S+)
"""
EVENTTYPES = "[acme_auth]\nsearch = sourcetype=acme:auth\n"
TAGS = "[eventtype=acme_auth]\nauthentication = enabled\n"
GOOD = "".join(
    f"2024-05-0{day} 10:00:0{day} action=success app=sshd user=u{day} src=10.0.0.{day} dest=srv\n"
    for day in range(1, 6)
)
UNTIMED = "no time here user=a\nnor here user=b\n"


def package(tmp: Path, *, props: str = PROPS) -> Path:
    root = tmp / "TA-acme"
    (root / "default").mkdir(parents=True)
    for name, text in (
        ("app", APP_CONF),
        ("props", props),
        ("eventtypes", EVENTTYPES),
        ("tags", TAGS),
    ):
        (root / "default" / f"{name}.conf").write_text(text, encoding="utf-8")
    archive = tmp / "TA-acme-1.2.0.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root, arcname="TA-acme")
    return archive


def stage(
    objects: ObjectStore,
    tmp: Path,
    samples: dict[str, bytes],
    *,
    sourcetype: str | None = "acme:auth",
    props: str = PROPS,
) -> ValidationInput:
    """Store a package and samples the way ingestion and generation do; the input naming them."""
    run_id = str(uuid.uuid4())
    work = tmp / f"stage-{run_id[:8]}"
    work.mkdir()
    stored = objects.put_file(f"tas/{run_id}/TA-acme-1.2.0.tgz", package(work, props=props))
    inputs = []
    for filename, data in samples.items():
        key = f"samples/{run_id}/{filename}"
        path = work / filename
        path.write_bytes(data)
        objects.put_file(key, path)
        inputs.append(SampleInput(key=key, filename=filename))
    return ValidationInput(
        run_id=run_id,
        package_key=stored.key,
        samples=tuple(inputs),
        sourcetype=sourcetype,
        bundle_key=f"validations/{run_id}/debug-bundle.zip",
    )


@pytest.fixture
def objects(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(root=tmp_path / "objects")


@pytest.fixture
def sandbox() -> SandboxSettings:
    return SandboxSettings(now=NOW)
