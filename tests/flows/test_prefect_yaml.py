"""prefect.yaml names the real flows and schedules them as `tagen up` serves them, on a process
pool and on a kubernetes pool whose job variables the Kubernetes worker accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.flows import load_flow_from_entrypoint

ROOT = Path(__file__).resolve().parents[2]
PROCESS = {"request-lifecycle", "retention-nightly", "knowledge-indexing"}
KUBERNETES = {f"{name}-k8s" for name in PROCESS}


def _deployments() -> dict[str, dict[str, Any]]:
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    return {d["name"]: d for d in config["deployments"]}


def test_deployments_point_at_the_three_flows_with_schedules():
    from tagen.serve import INDEXING_INTERVAL_S, RETENTION_CRON

    deployments = _deployments()
    assert set(deployments) == PROCESS | KUBERNETES
    flow_names = {
        name: load_flow_from_entrypoint(str(ROOT / d["entrypoint"])).name
        for name, d in deployments.items()
    }
    for suffix in ("", "-k8s"):
        assert {
            name: flow_names[name + suffix]
            for name in ("request-lifecycle", "retention-nightly", "knowledge-indexing")
        } == {
            "request-lifecycle": "request-lifecycle",
            "retention-nightly": "retention",
            "knowledge-indexing": "knowledge-indexing",
        }
        retention = deployments["retention-nightly" + suffix]
        indexing = deployments["knowledge-indexing" + suffix]
        assert retention["schedules"][0]["cron"] == RETENTION_CRON
        assert retention["parameters"] == {"dry_run": False}
        assert indexing["schedules"][0]["interval"] == INDEXING_INTERVAL_S
    assert {deployments[name]["work_pool"]["name"] for name in PROCESS} == {"tagen-process"}
    assert {deployments[name]["work_pool"]["name"] for name in KUBERNETES} == {"tagen-kubernetes"}


def test_the_kubernetes_pool_runs_validation_as_jobs_with_its_service_account():
    from prefect_kubernetes.worker import KubernetesWorker

    accepted = KubernetesWorker.get_default_base_job_template()["variables"]["properties"]
    for name in KUBERNETES:
        deployment = _deployments()[name]
        variables = deployment["work_pool"]["job_variables"]
        assert set(variables) <= set(accepted), set(variables) - set(accepted)
        assert variables["service_account_name"] == "tagen-runner"
        assert variables["image"] == "{{ $TAGEN_IMAGE }}"
        env = variables["env"]
        assert env["VALIDATION_BACKEND"] == "kubernetes"
        assert env["TAGEN_K8S_NAMESPACE"] == variables["namespace"]
        assert env["DATABASE_URL"].startswith("{{ prefect.blocks.secret.")
        assert deployment["pull"] == [
            {"prefect.deployments.steps.set_working_directory": {"directory": "/opt/tagen"}}
        ]


@pytest.mark.parametrize("name", sorted(KUBERNETES))
def test_kubernetes_settings_in_the_pool_are_valid_tagen_settings(name: str, monkeypatch):
    from tagen.wiring import validation_kind
    from tasks.validators.kubernetes import KubernetesValidatorSettings

    env = _deployments()[name]["work_pool"]["job_variables"]["env"]
    for key, value in env.items():
        if key.startswith("TAGEN_K8S_"):
            monkeypatch.setenv(key, value)
    settings = KubernetesValidatorSettings()
    assert settings.namespace == env["TAGEN_K8S_NAMESPACE"]
    assert settings.image_ref == f"splunk/splunk:{env['TAGEN_K8S_SPLUNK_VERSION']}"
    assert validation_kind(env["VALIDATION_BACKEND"], source="prefect.yaml") == "kubernetes"
