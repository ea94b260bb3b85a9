"""The validator contract: what a validation is given and what it hands back.

Inputs are object-store keys, not files, so a validator that runs elsewhere (a Kubernetes Job)
can hand them on without this process reading them first. Whatever ran, the result is the
engine's `ValidationReport` plus the run's metadata: which container or Job ran it (stored as
`splunk_container_id`) and its log (`validation_logs`), and the debug bundle it stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from engine.sandbox.report import ValidationReport, Verdict
from engine.sandbox.routes import InputRoute
from storage.objects import ObjectStore, StoredObject


@dataclass(frozen=True)
class SampleInput:
    key: str
    """Object-store key of the sample."""
    filename: str
    """Its file name as ingested (`NN-name`: letters, digits, `._-`)."""


@dataclass(frozen=True)
class ValidationInput:
    run_id: str
    package_key: str
    """Object-store key of the packaged TA (.tgz)."""
    samples: tuple[SampleInput, ...]
    sourcetype: str | None
    """The request's sourcetype; None: the TA's only one, else each sample's stem."""
    bundle_key: str
    """Where the debug bundle goes in the object store."""
    input_route: InputRoute = InputRoute.MONITOR
    """How the samples reach Splunk (the request's `validation_input` option)."""


@dataclass(frozen=True)
class ValidationResult:
    report: ValidationReport
    runner: str
    """The container or Kubernetes Job that ran the validation."""
    logs: str | None
    """What the runner printed (size-capped), when it has a log."""
    bundle: StoredObject | None
    """The debug bundle stored under the input's bundle_key."""


@runtime_checkable
class Validator(Protocol):
    """Judges a packaged TA on samples; raises only when no verdict could be reached."""

    async def validate(self, job: ValidationInput) -> ValidationResult: ...


def failed_report(*, ta: str, ta_version: str, reason: str) -> ValidationReport:
    """A FAILED report for a run that produced no events to judge (the reason says why)."""
    return ValidationReport(ta=ta, ta_version=ta_version, verdict=Verdict.FAILED, reasons=[reason])


def fetch_inputs(
    objects: ObjectStore, job: ValidationInput, workdir: Path
) -> tuple[Path, list[Path]]:
    """The package and samples copied from the object store into ``workdir``."""
    archive = objects.get(job.package_key, destination=workdir / Path(job.package_key).name)
    (workdir / "samples").mkdir()
    samples = [
        objects.get(sample.key, destination=workdir / "samples" / sample.filename)
        for sample in job.samples
    ]
    return archive, samples


def store_bundle(objects: ObjectStore, job: ValidationInput, path: Path) -> StoredObject:
    return objects.put_file(job.bundle_key, path, content_type="application/zip")
