"""A synthetic TA (the one `tagen validate`'s tests use) and samples in an object store, as the
VALIDATING task hands them over."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from engine.settings import SandboxSettings
from storage.objects import LocalObjectStore, ObjectStore
from tasks.validators import SampleInput, ValidationInput
from tests.e2e.conftest import GOOD, acme_package
from tests.validators.fake_kubernetes import NOW

__all__ = ["GOOD", "UNTIMED", "package", "stage"]

UNTIMED = "no time here user=a\nnor here user=b\n"


def package(tmp: Path) -> Path:
    return acme_package(tmp)


def stage(
    objects: ObjectStore,
    tmp: Path,
    samples: dict[str, bytes],
    *,
    sourcetype: str | None = "acme:auth",
) -> ValidationInput:
    """Store a package and samples the way ingestion and generation do; the input naming them."""
    run_id = str(uuid.uuid4())
    work = tmp / f"stage-{run_id[:8]}"
    work.mkdir()
    stored = objects.put_file(f"tas/{run_id}/TA-acme-1.0.0.tgz", package(work))
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
