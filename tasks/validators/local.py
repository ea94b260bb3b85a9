"""The local validator: the engine's Splunk emulator, in a worker thread of this process."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
from pathlib import Path

from engine.sandbox.validate import validate_package
from engine.settings import SandboxSettings
from storage.objects import ObjectStore
from tasks.validators.protocol import (
    ValidationInput,
    ValidationResult,
    fetch_inputs,
    store_bundle,
)


def local_runner_id() -> str:
    """Names the process running a local validation (what `splunk_container_id` records)."""
    return f"local-sandbox@{socket.gethostname()}:{os.getpid()}"


class LocalValidator:
    def __init__(self, *, objects: ObjectStore, settings: SandboxSettings) -> None:
        self._objects = objects
        self._settings = settings

    async def validate(self, job: ValidationInput) -> ValidationResult:
        return await asyncio.to_thread(self._validate, job)

    def _validate(self, job: ValidationInput) -> ValidationResult:
        """Fetch, sandbox, store the bundle: all blocking I/O or CPU."""
        with tempfile.TemporaryDirectory(prefix="tagen-validate-") as tmp:
            workdir = Path(tmp)
            archive, samples = fetch_inputs(self._objects, job, workdir)
            bundle_path = workdir / "bundle.zip"
            report = validate_package(
                archive,
                samples,
                sourcetype=job.sourcetype,
                source=None,
                host=None,
                settings=self._settings,
                bundle=bundle_path,
                input_route=job.input_route,
            )
            bundle = store_bundle(self._objects, job, bundle_path)
        return ValidationResult(report=report, runner=local_runner_id(), logs=None, bundle=bundle)
