"""VALIDATION_BACKEND=kubernetes end to end: the lifecycle's VALIDATING task runs a Job on the
fake Kubernetes API and PostgreSQL keeps the Job's name and the pod's log."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.settings import SandboxSettings
from storage.objects import ObjectStoreSettings
from tagen.wiring import (
    ConfiguredValidator,
    UnknownValidationBackendError,
    ValidationBackendSettings,
    build_backends,
)
from tests.flows.conftest import SAMPLE, FlowThread, decide, run
from tests.validators.fake_kubernetes import FakeCluster, fake_kubernetes, kubeconfig


async def _set_backend(value: str | None) -> None:
    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork() as uow:
        if value is None:
            entry = await uow.config.get_by_key("VALIDATION_BACKEND")
            if entry is not None:
                await uow.session.delete(entry)
        else:
            await uow.config.set_value("VALIDATION_BACKEND", value, "string")
        await uow.commit()


@pytest.fixture
def cluster(
    lifecycle_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeCluster]:
    """The fake cluster, reached the way a worker reaches a real one: a kubeconfig file."""
    with fake_kubernetes() as fake:
        fake.sandbox = SandboxSettings()  # the clock the local sandbox would use
        monkeypatch.setenv("TAGEN_K8S_KUBECONFIG", str(kubeconfig(tmp_path / "kube", fake)))
        monkeypatch.setenv("TAGEN_K8S_NAMESPACE", "tagen-ci")
        monkeypatch.setenv("TAGEN_K8S_POLL_SECONDS", "0.05")
        yield fake
        run(_set_backend(None))
    assert not fake.unexpected, fake.unexpected


def _wired(tmp_path: Path, *, env_backend: str) -> Any:
    from tasks import backends as task_backends

    built = build_backends(
        ObjectStoreSettings(url=str(tmp_path / "objects")),
        ValidationBackendSettings(validation_backend=env_backend),
    )
    task_backends.install(built)
    return built


async def _validation_rows(request_id: str):
    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork() as uow:
        request = await uow.requests.get_full_details(uuid.UUID(request_id))
        assert request is not None
        return request.validation_runs


def test_systemconfig_kubernetes_runs_validating_as_a_job_and_stores_its_name_and_log(
    cluster: FakeCluster, tmp_path: Path
):
    backends = _wired(tmp_path, env_backend="local")
    run(_set_backend("kubernetes"))  # SystemConfig wins over the environment's "local"
    flow = FlowThread(
        requester="req-ann",
        source_system="shop nginx",
        description="nginx access logs",
        cim_required=True,
        samples=[str(SAMPLE)],
    )
    request_id, flow_run_id = flow.request_and_run()
    flow.wait_paused(flow_run_id, key="approval-1")
    decide(request_id, approved=True, approver="appr-bob")
    result = flow.join()
    assert result["status"] == "COMPLETED", result

    [validation] = run(_validation_rows(request_id))
    assert str(validation.status) == "PASSED"
    [job] = cluster.created_jobs
    assert validation.splunk_container_id == job["metadata"]["name"]
    assert job["metadata"]["namespace"] == "tagen-ci"
    assert validation.validation_logs is not None
    assert "@@tagen-done@@" in validation.validation_logs
    assert "line(s) of events of sample 0" in validation.validation_logs
    assert validation.results_json["verdict"] == "PASSED"
    assert validation.results_json["samples"][0]["path"].startswith("/tagen/input/samples/")
    assert backends.objects.exists(validation.debug_bundle_key)
    assert ("Job", job["metadata"]["name"], "Background") in cluster.deleted


def test_environment_kubernetes_is_used_when_systemconfig_is_silent(
    cluster: FakeCluster, tmp_path: Path
):
    validator = _wired(tmp_path, env_backend="kubernetes").validator
    assert isinstance(validator, ConfiguredValidator)
    assert run(validator.kind()) == "kubernetes"
    run(_set_backend("local"))
    assert run(validator.kind()) == "local"


def test_unknown_backends_fail_fast_naming_the_value(cluster: FakeCluster, tmp_path: Path):
    with pytest.raises(UnknownValidationBackendError, match=r"VALIDATION_BACKEND='docker'"):
        _wired(tmp_path, env_backend="docker")
    validator = _wired(tmp_path, env_backend="local").validator
    run(_set_backend("nomad"))
    with pytest.raises(UnknownValidationBackendError, match=r"SystemConfig.*'nomad'.*local or"):
        run(validator.kind())
