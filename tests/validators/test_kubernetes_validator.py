"""The kubernetes validator against a loopback fake of the Kubernetes API (real client, HTTP)."""

from __future__ import annotations

import asyncio
import base64
import time
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from engine.sandbox.routes import InputRoute
from engine.settings import SandboxSettings
from storage.objects import LocalObjectStore, ObjectStore
from tasks.validators import ValidationInput, ValidationResult
from tasks.validators.kubernetes import KubernetesValidator, KubernetesValidatorSettings
from tasks.validators.kubernetes.validator import InputsTooLargeError, UnsupportedInputRouteError
from tests.validators.conftest import GOOD, UNTIMED, stage
from tests.validators.fake_kubernetes import FakeCluster, fake_kubernetes

NAMESPACE = "tagen-validation"


@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    with fake_kubernetes() as fake:
        yield fake
    assert not fake.unexpected, fake.unexpected


def validator(
    cluster: FakeCluster, objects: ObjectStore, sandbox: SandboxSettings, **settings: Any
) -> KubernetesValidator:
    return KubernetesValidator(
        objects=objects,
        settings=KubernetesValidatorSettings(namespace=NAMESPACE, poll_seconds=0.02, **settings),
        api_client=client.ApiClient(client.Configuration(host=cluster.url)),
        sandbox_settings=sandbox,
    )


def _validate(
    cluster: FakeCluster,
    objects: ObjectStore,
    sandbox: SandboxSettings,
    job: ValidationInput,
    **settings: Any,
) -> ValidationResult:
    return asyncio.run(validator(cluster, objects, sandbox, **settings).validate(job))


def _cleaned_up(cluster: FakeCluster, name: str, propagation: str) -> None:
    assert ("Job", name, propagation) in cluster.deleted
    assert ("Secret", name, propagation) in cluster.deleted
    assert name not in cluster.jobs and name not in cluster.secrets and not cluster.pods


def test_splunk_results_in_the_pod_log_become_a_passed_report(cluster, objects, sandbox, tmp_path):
    job = stage(objects, tmp_path, {"00-auth.log": GOOD.encode()})
    result = _validate(cluster, objects, sandbox, job)

    report = result.report
    assert report.verdict == "PASSED", report.reasons
    assert (report.ta, report.ta_version, report.events) == ("TA-acme", "1.0.0", 5)
    assert report.timestamps.ratio == 1.0
    assert {"user", "src", "action"} <= {f.name for f in report.fields}
    assert (report.cim.tagged_events, report.cim.compliant_events) == (5, 5)
    assert report.samples[0].path == "/tagen/input/samples/00-auth.log"
    assert report.samples[0].sourcetype == "acme:auth"

    [created] = cluster.created_jobs
    assert result.runner == created["metadata"]["name"]
    assert created["metadata"]["namespace"] == NAMESPACE and cluster.namespaces_seen == {NAMESPACE}
    [secret] = cluster.created_secrets
    assert secret["metadata"]["ownerReferences"][0]["kind"] == "Job"
    assert base64.b64decode(secret["data"]["input.samples.00-auth.log"]) == GOOD.encode()
    assert result.logs is not None and "@@tagen-done@@" in result.logs
    assert "[5 line(s) of events of sample 0]" in result.logs and "user=u1" not in result.logs
    assert result.bundle is not None and result.bundle.key == job.bundle_key
    with objects.open(job.bundle_key) as stored, zipfile.ZipFile(stored) as bundle:
        assert {"report.json", "ta/props.conf"} <= set(bundle.namelist())
    _cleaned_up(cluster, result.runner, "Background")


def test_a_ta_splunk_cannot_timestamp_fails_with_the_engine_reasons(
    cluster, objects, sandbox, tmp_path
):
    job = stage(objects, tmp_path, {"00-bad.log": UNTIMED.encode()})
    result = _validate(cluster, objects, sandbox, job)
    assert result.report.verdict == "FAILED"
    assert "timestamps parsed for 0.0% of events (minimum 95.0%)" in result.report.reasons


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("image_pull", "image pull failed for splunk/splunk:9.4 (ErrImagePull)"),
        ("oom", "container splunk was OOMKilled (memory limit 4Gi)"),
        ("deadline", "the Job ran past its activeDeadlineSeconds (1200 s)"),
        ("no_markers", "no event markers in the pod log"),
        ("script_error", "container splunk exited with code 1"),
    ],
)
def test_cluster_failures_give_a_failed_verdict_naming_them(
    cluster, objects, sandbox, tmp_path, scenario: str, expected: str
):
    cluster.scenario = scenario
    job = stage(objects, tmp_path, {"00-auth.log": GOOD.encode()})
    result = _validate(cluster, objects, sandbox, job)
    assert result.report.verdict == "FAILED"
    [reason] = result.report.reasons
    assert expected in reason, reason
    assert result.bundle is not None and objects.exists(job.bundle_key)
    _cleaned_up(cluster, result.runner, "Background")
    if scenario == "script_error":
        assert result.logs is not None and "oneshotinput" in result.logs
    if scenario == "image_pull":
        assert result.logs is not None and "waiting to start" in result.logs


def test_a_job_the_cluster_never_finishes_times_out_on_the_runner_side(
    cluster, objects, sandbox, tmp_path
):
    cluster.scenario = "hang"
    job = stage(objects, tmp_path, {"00-auth.log": GOOD.encode()})
    result = _validate(cluster, objects, sandbox, job, active_deadline_seconds=1, grace_seconds=0)
    assert result.report.verdict == "FAILED"
    assert result.report.reasons == ["no result from the Job within 1 s (timed out)"]
    _cleaned_up(cluster, result.runner, "Background")


def test_cancelling_the_validation_deletes_the_job_in_the_foreground(
    cluster, objects, sandbox, tmp_path
):
    cluster.scenario = "hang"
    job = stage(objects, tmp_path, {"00-auth.log": GOOD.encode()})

    async def cancel_while_running() -> None:
        task = asyncio.create_task(validator(cluster, objects, sandbox).validate(job))
        deadline = time.monotonic() + 20
        while not any(pod.phase == "Running" for pod in cluster.pods.values()):
            assert time.monotonic() < deadline, "the pod never ran"
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_while_running())
    [created] = cluster.created_jobs
    _cleaned_up(cluster, created["metadata"]["name"], "Foreground")
    assert not objects.exists(job.bundle_key)


def test_inputs_over_the_secret_limit_need_an_object_store_that_presigns(
    cluster, objects, sandbox, tmp_path
):
    job = stage(objects, tmp_path, {"00-auth.log": GOOD.encode() * 50})
    with pytest.raises(InputsTooLargeError, match=r"TAGEN_K8S_INLINE_MAX_BYTES=6000.*s3://"):
        _validate(cluster, objects, sandbox, job, inline_max_bytes=6000)
    assert not cluster.created_jobs


def test_large_inputs_are_fetched_by_the_init_container_from_presigned_urls(
    cluster, sandbox, tmp_path
):
    from storage.objects import S3ObjectStore
    from tests.unit.storage_objects.moto_s3 import moto_server, s3_client

    with moto_server() as endpoint:
        s3 = s3_client(endpoint)
        s3.create_bucket(Bucket="tagen")
        objects = S3ObjectStore(client=s3, bucket="tagen", prefix="objects")
        job = stage(objects, tmp_path, {"00-auth.log": GOOD.encode(), "01-more.log": GOOD.encode()})
        result = _validate(cluster, objects, sandbox, job, inline_max_bytes=6000)
    assert result.report.verdict == "PASSED", result.report.reasons
    assert [s.events for s in result.report.samples] == [5, 5]
    [created] = cluster.created_jobs
    assert created["spec"]["template"]["spec"]["initContainers"][0]["name"] == "fetch-inputs"
    [secret] = cluster.created_secrets
    assert not [key for key in secret["data"] if key.startswith("input.")]
    urls = base64.b64decode(secret["data"]["urls.tsv"]).decode()
    assert urls.count("Signature=") == 3


def test_an_ingestion_route_other_than_monitor_is_refused_before_any_job(
    cluster, objects, sandbox, tmp_path
):
    """`splunk add oneshot` is the monitor route; HEC and modinput routes need the emulator."""
    job = replace(
        stage(objects, tmp_path, {"00-auth.log": GOOD.encode()}), input_route=InputRoute.HEC_EVENT
    )
    with pytest.raises(UnsupportedInputRouteError, match=r"'hec-event'.*VALIDATION_BACKEND=local"):
        _validate(cluster, objects, sandbox, job)
    assert not cluster.created_jobs


def test_samples_without_a_sourcetype_get_the_tas_only_one(cluster, objects, sandbox, tmp_path):
    job = stage(
        objects, tmp_path, {"00-a.log": GOOD.encode(), "01-b.log": GOOD.encode()}, sourcetype=None
    )
    result = _validate(cluster, objects, sandbox, job)
    assert [(s.sourcetype, s.events) for s in result.report.samples] == [("acme:auth", 5)] * 2


def test_the_local_store_default_keeps_the_api_client_lazy(tmp_path: Path):
    """Building the validator opens no connection (only a kubernetes validation needs the
    cluster)."""
    built = KubernetesValidator(
        objects=LocalObjectStore(root=tmp_path),
        settings=KubernetesValidatorSettings(kubeconfig=tmp_path / "missing"),
        sandbox_settings=SandboxSettings(),
    )
    assert built._api_client is None


_TERMINATED_RUNNER = """
import asyncio, sys
from pathlib import Path

from kubernetes import client
from prefect.utilities.engine import capture_sigterm

from storage.objects import LocalObjectStore
from engine.settings import SandboxSettings
from tasks.validators.kubernetes import KubernetesValidator, KubernetesValidatorSettings
from tests.validators.conftest import GOOD, stage

url, root = sys.argv[1], Path(sys.argv[2])
objects = LocalObjectStore(root=root / "objects")
job = stage(objects, root, {"00-auth.log": GOOD.encode()})
validator = KubernetesValidator(
    objects=objects,
    settings=KubernetesValidatorSettings(namespace="tagen-validation", poll_seconds=0.02),
    sandbox_settings=SandboxSettings(),
    api_client=client.ApiClient(client.Configuration(host=url)),
)
with capture_sigterm():  # what Prefect's flow engine installs in a flow-run process
    asyncio.run(validator.validate(job))
"""


def test_sigterm_to_a_flow_run_process_deletes_the_job(cluster, tmp_path):
    """A cancelled Prefect flow run gets SIGTERM; Prefect turns it into TerminationSignal, and
    the validation it was running deletes its Job on the way out."""
    import os
    import signal
    import subprocess
    import sys

    cluster.scenario = "hang"
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", _TERMINATED_RUNNER, cluster.url, str(tmp_path)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(pod.phase == "Running" for pod in cluster.pods.values()):
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the pod never ran"
            time.sleep(0.05)
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == -signal.SIGTERM, stderr[-2000:]  # Prefect re-raises the signal
    [created] = cluster.created_jobs
    _cleaned_up(cluster, created["metadata"]["name"], "Foreground")


def _readme_role() -> set[tuple[str, str, str]]:
    """The (API group, resource, verb) triples the README's Role grants."""
    import re
    import textwrap

    import yaml

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = [
        textwrap.dedent(block) for block in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)
    ]
    documents = [doc for block in blocks for doc in yaml.safe_load_all(block) if doc]
    [role] = [doc for doc in documents if doc.get("kind") == "Role"]
    [binding] = [doc for doc in documents if doc.get("kind") == "RoleBinding"]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"][0]["name"] == "tagen-runner"
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_the_readme_role_grants_exactly_what_the_runner_calls(cluster, objects, sandbox, tmp_path):
    _validate(cluster, objects, sandbox, stage(objects, tmp_path, {"00-a.log": GOOD.encode()}))
    cluster.scenario = "image_pull"
    _validate(cluster, objects, sandbox, stage(objects, tmp_path, {"00-b.log": GOOD.encode()}))
    assert cluster.calls == _readme_role()
