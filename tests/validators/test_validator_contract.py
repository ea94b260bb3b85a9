"""One contract, two validators: the local emulator and Splunk on Kubernetes (the fake API).

Both get the same TA and samples from the object store and must hand back the same report
shape and the same verdict, with the run's metadata and a stored debug bundle.
"""

from __future__ import annotations

import asyncio
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from engine.sandbox.report import ValidationReport
from engine.settings import SandboxSettings
from storage.objects import ObjectStore
from tasks.validators import LocalValidator, ValidationInput, ValidationResult, Validator
from tasks.validators.kubernetes import KubernetesValidator, KubernetesValidatorSettings
from tests.validators.conftest import GOOD, UNTIMED, stage
from tests.validators.fake_kubernetes import fake_kubernetes


@contextmanager
def _validator_factory(kind: str, sandbox: SandboxSettings) -> Iterator[Any]:
    if kind == "local":
        yield lambda objects: LocalValidator(objects=objects, settings=sandbox)
        return
    with fake_kubernetes() as cluster:
        yield lambda objects: KubernetesValidator(
            objects=objects,
            settings=KubernetesValidatorSettings(poll_seconds=0.02),
            api_client=client.ApiClient(client.Configuration(host=cluster.url)),
            sandbox_settings=sandbox,
        )
        assert not cluster.unexpected


@pytest.fixture(params=["local", "kubernetes"])
def make_validator(request: pytest.FixtureRequest, sandbox: SandboxSettings) -> Iterator[Any]:
    with _validator_factory(request.param, sandbox) as factory:
        yield factory


def _essence(report: ValidationReport) -> dict[str, Any]:
    """What both validators must agree on (paths and sources differ by where they ran)."""
    return {
        "verdict": report.verdict,
        "reasons": report.reasons,
        "ta": (report.ta, report.ta_version),
        "events": report.events,
        "samples": [(s.sourcetype, s.events) for s in report.samples],
        "timestamps": (report.timestamps.parsed, report.timestamps.ratio),
        "fields": [(f.name, f.events) for f in report.fields],
        "field_event_ratio": report.field_event_ratio,
        "truncated": report.truncated_events,
        "cim": (report.cim.tagged_events, report.cim.compliant_events, report.cim.stanza_models),
        "lint": [(item.file, item.code) for item in report.lint],
        "thresholds": report.thresholds if report.events else None,
    }


EXPECTED = {
    "good": {
        "verdict": "PASSED",
        "events": 5,
        "samples": [("acme:auth", 5)],
        "cim": (5, 5, {"eventtype=acme_auth": ["Authentication"]}),
    },
    "untimed": {
        "verdict": "FAILED",
        "events": 2,
        "reasons": [
            "timestamps parsed for 0.0% of events (minimum 95.0%)",
            "CIM: 0 of 2 mapped events compliant (0.0%, minimum 100.0%)",
        ],
    },
    "two samples, no sourcetype": {
        "verdict": "PASSED",
        "events": 10,
        "samples": [("acme:auth", 5), ("acme:auth", 5)],
    },
}
_SAMPLES = {
    "good": ({"00-auth.log": GOOD.encode()}, "acme:auth"),
    "untimed": ({"00-bad.log": UNTIMED.encode()}, "acme:auth"),
    "two samples, no sourcetype": ({"00-a.log": GOOD.encode(), "01-b.log": GOOD.encode()}, None),
}


def _run(
    validator: Validator, objects: ObjectStore, tmp_path: Path, case: str
) -> tuple[ValidationInput, ValidationResult]:
    samples, sourcetype = _SAMPLES[case]
    job = stage(objects, tmp_path, samples, sourcetype=sourcetype)
    return job, asyncio.run(validator.validate(job))


@pytest.mark.parametrize("case", list(_SAMPLES))
def test_the_validator_contract(
    make_validator: Any, objects: ObjectStore, tmp_path: Path, case: str
):
    validator = make_validator(objects)
    assert isinstance(validator, Validator)
    job, result = _run(validator, objects, tmp_path, case)

    essence = _essence(result.report)
    for key, value in EXPECTED[case].items():
        assert essence[key] == value, (key, essence)
    assert set(result.report.model_dump()) == set(ValidationReport.model_fields)
    assert result.runner
    assert result.bundle is not None and result.bundle.key == job.bundle_key
    with objects.open(job.bundle_key) as stored, zipfile.ZipFile(stored) as bundle:
        assert json.loads(bundle.read("report.json"))["verdict"] == essence["verdict"]
        assert "ta/props.conf" in bundle.namelist()


@pytest.mark.parametrize("case", list(_SAMPLES))
def test_local_and_kubernetes_agree_on_everything_but_where_they_ran(
    objects: ObjectStore, sandbox: SandboxSettings, tmp_path: Path, case: str
):
    essences = {}
    for kind in ("local", "kubernetes"):
        with _validator_factory(kind, sandbox) as factory:
            _, result = _run(factory(objects), objects, tmp_path, case)
        essences[kind] = _essence(result.report)
    assert essences["local"] == essences["kubernetes"]
