"""The Job and Secret of a validation run, checked as the API server would receive them."""

from __future__ import annotations

import base64
import json
import subprocess

import pytest
from kubernetes import client

from tasks.validators.kubernetes import KubernetesValidatorSettings
from tasks.validators.kubernetes.manifest import (
    JOB_LABEL,
    PASSWORD_KEY,
    JobPlan,
    PlannedSample,
    build_job,
    build_secret,
    job_name,
    plan_files,
    sample_search,
    secret_size,
)
from tasks.validators.kubernetes.pod_log import BEGIN, DONE, END

SAMPLES = (
    PlannedSample(filename="00-auth.log", sourcetype="acme:auth", host="localhost"),
    PlannedSample(filename="01-more.log", sourcetype="acme:auth", host="localhost"),
)


def _plan(**overrides: object) -> JobPlan:
    values: dict[str, object] = {
        "name": "tagen-validation-1234abcd-0a0b0c0d",
        "run_id": "1234abcd-0000-4000-8000-000000000000",
        "samples": SAMPLES,
        "inline": {
            "ta.tgz": b"\x1f\x8bTA",
            "samples/00-auth.log": b"one\n",
            "samples/01-more.log": b"two\n",
        },
        "urls": None,
        "password": "s3cret-password-xyz",
    }
    values.update(overrides)
    return JobPlan(**values)  # type: ignore[arg-type]


def _json(model: object) -> dict:
    return client.ApiClient().sanitize_for_serialization(model)


SETTINGS = KubernetesValidatorSettings(
    namespace="validation",
    splunk_version="9.4.3",
    service_account="tagen-splunk",
    image_pull_secrets="regcred, mirror",
    active_deadline_seconds=900,
    ttl_seconds_after_finished=300,
    memory_limit="6Gi",
)


def test_job_runs_the_official_image_once_with_limits_deadline_and_ttl():
    job = _json(build_job(_plan(), SETTINGS))
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    assert job["metadata"]["namespace"] == "validation"
    spec = job["spec"]
    assert spec["backoffLimit"] == 0
    assert spec["activeDeadlineSeconds"] == 900
    assert spec["ttlSecondsAfterFinished"] == 300
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["serviceAccountName"] == "tagen-splunk"
    assert pod["automountServiceAccountToken"] is False
    assert pod["imagePullSecrets"] == [{"name": "regcred"}, {"name": "mirror"}]
    assert "initContainers" not in pod
    [splunk] = pod["containers"]
    assert splunk["image"] == "splunk/splunk:9.4.3"
    assert splunk["command"] == ["/bin/bash", "/tagen/plan/run.sh"]
    assert splunk["resources"] == {
        "requests": {"cpu": "1", "memory": "2Gi"},
        "limits": {"cpu": "2", "memory": "6Gi"},
    }
    env = {var["name"]: var for var in splunk["env"]}
    assert env["SPLUNK_START_ARGS"]["value"] == "--accept-license"
    assert env["SPLUNK_PASSWORD"] == {
        "name": "SPLUNK_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": job["metadata"]["name"], "key": PASSWORD_KEY}},
    }
    assert env["SPLUNK_APPS_URL"]["value"] == "/tagen/input/ta.tgz"
    assert all("s3cret" not in json.dumps(var) for var in splunk["env"])
    labels = spec["template"]["metadata"]["labels"]
    assert labels[JOB_LABEL] == job["metadata"]["name"]
    assert labels == job["metadata"]["labels"]


def test_inline_inputs_are_mounted_from_the_secret_and_the_password_is_not():
    plan = _plan()
    pod = _json(build_job(plan, SETTINGS))["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    plan_items = {i["key"]: i["path"] for i in volumes["plan"]["secret"]["items"]}
    assert PASSWORD_KEY not in plan_items
    assert {"run.sh", "samples.tsv", "search-0.spl", "search-1.spl"} <= set(plan_items)
    inputs = {i["key"]: i["path"] for i in volumes["input"]["secret"]["items"]}
    assert inputs == {
        "input.ta.tgz": "ta.tgz",
        "input.samples.00-auth.log": "samples/00-auth.log",
        "input.samples.01-more.log": "samples/01-more.log",
    }
    assert volumes["input"]["secret"]["secretName"] == plan.name
    secret = _json(build_secret(plan, SETTINGS, job_uid="uid-1"))
    data = {key: base64.b64decode(value) for key, value in secret["data"].items()}
    assert data[PASSWORD_KEY] == b"s3cret-password-xyz"
    assert data["input.ta.tgz"] == b"\x1f\x8bTA"
    assert data["samples.tsv"] == (
        b"/tagen/input/samples/00-auth.log\tacme:auth\tlocalhost\n"
        b"/tagen/input/samples/01-more.log\tacme:auth\tlocalhost\n"
    )
    assert secret["metadata"]["ownerReferences"] == [
        {"apiVersion": "batch/v1", "kind": "Job", "name": plan.name, "uid": "uid-1"}
    ]


def test_fetched_inputs_come_from_presigned_urls_through_an_init_container():
    plan = _plan(
        inline=None,
        urls={"ta.tgz": "http://s3/ta?sig=1", "samples/00-auth.log": "http://s3/a?sig=2"},
    )
    pod = _json(build_job(plan, SETTINGS))["spec"]["template"]["spec"]
    [init] = pod["initContainers"]
    assert init["image"] == "splunk/splunk:9.4.3"
    assert init["command"] == ["/bin/bash", "/tagen/plan/fetch.sh"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["input"] == {"name": "input", "emptyDir": {}}
    mounts = {m["name"]: m for m in init["volumeMounts"]}
    assert mounts["input"].get("readOnly") is False
    data = {
        k: base64.b64decode(v)
        for k, v in _json(build_secret(plan, SETTINGS, job_uid="u"))["data"].items()
    }
    assert (
        data["urls.tsv"] == b"ta.tgz\thttp://s3/ta?sig=1\nsamples/00-auth.log\thttp://s3/a?sig=2\n"
    )
    assert not [key for key in data if key.startswith("input.")]


def test_secret_size_estimate_covers_what_the_api_server_stores():
    plan = _plan(inline={"ta.tgz": bytes(range(256)) * 700, "samples/00-auth.log": b"x" * 9999})
    files = plan_files(plan, SETTINGS)
    stored = len(json.dumps(_json(build_secret(plan, SETTINGS, job_uid="uid"))))
    estimate = secret_size({key: len(value) for key, value in files.items()})
    assert stored <= estimate < stored + 8192


def test_searches_select_each_sample_and_escape_spl_strings():
    sample = PlannedSample(filename="02-x.log", sourcetype='odd "type"\\x', host="h")
    search = sample_search(sample, index="main", max_events=10)
    assert search.startswith('search index="main" sourcetype="odd \\"type\\"\\\\x" ')
    assert 'source="/tagen/input/samples/02-x.log"' in search
    assert search.endswith("| fields * | reverse | head 11")


def test_a_value_with_a_tab_cannot_reach_samples_tsv():
    bad = PlannedSample(filename="00-a.log", sourcetype="a\tb", host="h")
    with pytest.raises(ValueError, match="tab or line break"):
        plan_files(_plan(samples=(bad,)), SETTINGS)


def test_job_names_are_dns_labels_unique_per_attempt():
    names = {job_name("1234abcd-0000-4000-8000-000000000000") for _ in range(20)}
    assert len(names) == 20
    for name in names:
        assert len(name) <= 63 and name.startswith("tagen-validation-1234abcd-")
        assert name.replace("-", "").isalnum() and name == name.lower()


def test_the_pod_scripts_parse_and_print_the_markers_the_reader_expects():
    files = plan_files(_plan(urls={"ta.tgz": "u"}, inline=None), SETTINGS)
    for script in ("run.sh", "fetch.sh"):
        done = subprocess.run(["bash", "-n"], input=files[script], capture_output=True, timeout=10)
        assert done.returncode == 0, done.stderr
    run = files["run.sh"].decode()
    assert "add oneshot" in run and "start-and-exit" in run
    assert 'echo "@@tagen-events-begin $n@@"' in run and 'echo "@@tagen-events-end $n@@"' in run
    assert f'echo "{DONE}"' in run
    assert BEGIN.fullmatch("@@tagen-events-begin 3@@") and END.fullmatch("@@tagen-events-end 3@@")
