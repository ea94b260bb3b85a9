"""The Job and Secret of one validation run, as the kubernetes client's models.

One Secret per run holds the Splunk admin password (random, never leaves the cluster), the
in-pod scripts and plan (`samples.tsv`: path, sourcetype, host per sample; `search-N.spl`: the
search of sample N) and either the inputs themselves (the TA and samples, when the Secret stays
under the API server's 1 MiB object limit) or presigned object-store URLs that an init container
downloads into an emptyDir. The Secret is owned by the Job, so the cluster deletes it with the
Job (by `ttlSecondsAfterFinished` if the runner is gone).

The main container runs the official `splunk/splunk` image with the license accepted
(SPLUNK_START_ARGS), the password from the Secret and the TA installed at provisioning
(SPLUNK_APPS_URL); its command is `run.sh`, which ingests each sample with `splunk add oneshot`
and prints each sample's events between markers (`pod_log.py` reads them).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from importlib import resources

from kubernetes import client

from tasks.validators.kubernetes.settings import KubernetesValidatorSettings

CONTAINER = "splunk"
FETCH_CONTAINER = "fetch-inputs"
PLAN_DIR = "/tagen/plan"
INPUT_DIR = "/tagen/input"
TA_FILE = "ta.tgz"
PASSWORD_KEY = "splunk-password"
JOB_LABEL = "tagen.io/validation-job"
RUN_LABEL = "tagen.io/validation-run"
BASE_LABELS = {
    "app.kubernetes.io/name": "tagen-validation",
    "app.kubernetes.io/managed-by": "tagen",
}
_SECRET_OVERHEAD_BYTES = 4096
"""Room for the Secret's metadata beside its data."""


@dataclass(frozen=True)
class PlannedSample:
    filename: str
    """Its name under INPUT_DIR/samples (letters, digits and `._-` only)."""
    sourcetype: str
    host: str

    @property
    def input_name(self) -> str:
        """Its file name under INPUT_DIR."""
        return f"samples/{self.filename}"

    @property
    def path(self) -> str:
        """Where Splunk reads it, which is also the events' `source`."""
        return f"{INPUT_DIR}/{self.input_name}"


@dataclass(frozen=True)
class JobPlan:
    name: str
    run_id: str
    samples: tuple[PlannedSample, ...]
    inline: dict[str, bytes] | None
    """File name under INPUT_DIR -> content, when the inputs travel in the Secret."""
    urls: dict[str, str] | None
    """File name under INPUT_DIR -> presigned URL, when an init container fetches them."""
    password: str


def job_name(run_id: str) -> str:
    """A DNS-1123 name unique per attempt (a retried task must not meet its own old Job)."""
    return f"tagen-validation-{run_id[:8]}-{secrets.token_hex(4)}"


def new_password() -> str:
    return secrets.token_urlsafe(24)


def _script(name: str) -> bytes:
    return resources.files("tasks.validators.kubernetes").joinpath(name).read_bytes()


def _spl_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sample_search(sample: PlannedSample, *, index: str, max_events: int) -> str:
    """The search printing one sample's events, oldest first, every field (one more than the
    cap, so the reader can tell the cap was hit)."""
    return (
        f"search index={_spl_string(index)} sourcetype={_spl_string(sample.sourcetype)} "
        f"source={_spl_string(sample.path)} earliest=0 latest=2147483647 "
        f"| fields * | reverse | head {max_events + 1}"
    )


def _tsv_field(value: str) -> str:
    if any(char in value for char in "\t\r\n"):
        raise ValueError(f"{value!r} holds a tab or line break: it cannot go into samples.tsv")
    return value


def plan_files(plan: JobPlan, settings: KubernetesValidatorSettings) -> dict[str, bytes]:
    """Everything the Secret carries, by key."""
    files = {
        PASSWORD_KEY: plan.password.encode(),
        "run.sh": _script("run.sh"),
        "samples.tsv": "".join(
            f"{_tsv_field(s.path)}\t{_tsv_field(s.sourcetype)}\t{_tsv_field(s.host)}\n"
            for s in plan.samples
        ).encode(),
    }
    for index, sample in enumerate(plan.samples):
        search = sample_search(
            sample, index=settings.index, max_events=settings.max_events_per_sample
        )
        files[f"search-{index}.spl"] = search.encode()
    if plan.urls is not None:
        files["fetch.sh"] = _script("fetch.sh")
        files["urls.tsv"] = "".join(
            f"{_tsv_field(name)}\t{_tsv_field(url)}\n" for name, url in plan.urls.items()
        ).encode()
    for name, content in (plan.inline or {}).items():
        files[input_key(name)] = content
    return files


def input_key(name: str) -> str:
    """Secret keys allow `[-._a-zA-Z0-9]`: `samples/x.log` becomes `input.samples.x.log`."""
    return "input." + name.replace("/", ".")


def secret_size(sizes: dict[str, int]) -> int:
    """Bytes a Secret with data of these sizes (by key) takes in the API server: base64
    data plus metadata."""
    encoded = sum(len(key) + 4 * ((size + 2) // 3) + 8 for key, size in sizes.items())
    return encoded + _SECRET_OVERHEAD_BYTES


def _labels(plan: JobPlan) -> dict[str, str]:
    return {**BASE_LABELS, JOB_LABEL: plan.name, RUN_LABEL: plan.run_id}


def build_secret(
    plan: JobPlan, settings: KubernetesValidatorSettings, *, job_uid: str
) -> client.V1Secret:
    files = plan_files(plan, settings)
    return client.V1Secret(
        api_version="v1",
        kind="Secret",
        type="Opaque",
        metadata=client.V1ObjectMeta(
            name=plan.name,
            namespace=settings.namespace,
            labels=_labels(plan),
            owner_references=[
                client.V1OwnerReference(
                    api_version="batch/v1", kind="Job", name=plan.name, uid=job_uid
                )
            ],
        ),
        data={key: base64.b64encode(value).decode("ascii") for key, value in files.items()},
    )


def _secret_volume(
    name: str, plan: JobPlan, items: list[tuple[str, str]], mode: int
) -> client.V1Volume:
    return client.V1Volume(
        name=name,
        secret=client.V1SecretVolumeSource(
            secret_name=plan.name,
            default_mode=mode,
            items=[client.V1KeyToPath(key=key, path=path) for key, path in items],
        ),
    )


def build_job(plan: JobPlan, settings: KubernetesValidatorSettings) -> client.V1Job:
    plan_keys = [key for key in plan_files(plan, settings) if not key.startswith("input.")]
    plan_items = [(key, key) for key in plan_keys if key != PASSWORD_KEY]
    volumes = [_secret_volume("plan", plan, plan_items, 0o555)]
    mounts = [
        client.V1VolumeMount(name="plan", mount_path=PLAN_DIR, read_only=True),
        client.V1VolumeMount(name="input", mount_path=INPUT_DIR, read_only=plan.urls is None),
    ]
    init_containers: list[client.V1Container] | None = None
    if plan.urls is None:
        inputs = [(input_key(name), name) for name in (plan.inline or {})]
        volumes.append(_secret_volume("input", plan, inputs, 0o444))
    else:
        volumes.append(client.V1Volume(name="input", empty_dir=client.V1EmptyDirVolumeSource()))
        init_containers = [
            client.V1Container(
                name=FETCH_CONTAINER,
                image=settings.image_ref,
                image_pull_policy=settings.image_pull_policy,
                command=["/bin/bash", f"{PLAN_DIR}/fetch.sh"],
                volume_mounts=mounts,
                resources=_resources(settings),
            )
        ]
    splunk = client.V1Container(
        name=CONTAINER,
        image=settings.image_ref,
        image_pull_policy=settings.image_pull_policy,
        command=["/bin/bash", f"{PLAN_DIR}/run.sh"],
        env=[
            client.V1EnvVar(name="SPLUNK_START_ARGS", value="--accept-license"),
            client.V1EnvVar(
                name="SPLUNK_PASSWORD",
                value_from=client.V1EnvVarSource(
                    secret_key_ref=client.V1SecretKeySelector(name=plan.name, key=PASSWORD_KEY)
                ),
            ),
            client.V1EnvVar(name="SPLUNK_APPS_URL", value=f"{INPUT_DIR}/{TA_FILE}"),
            client.V1EnvVar(name="TAGEN_PLAN", value=PLAN_DIR),
            client.V1EnvVar(name="TAGEN_INDEX", value=settings.index),
        ],
        volume_mounts=mounts,
        resources=_resources(settings),
    )
    labels = _labels(plan)
    pod = client.V1PodSpec(
        restart_policy="Never",
        service_account_name=settings.service_account,
        automount_service_account_token=False,
        image_pull_secrets=[
            client.V1LocalObjectReference(name=name) for name in settings.pull_secret_names
        ]
        or None,
        init_containers=init_containers,
        containers=[splunk],
        volumes=volumes,
    )
    return client.V1Job(
        api_version="batch/v1",
        kind="Job",
        metadata=client.V1ObjectMeta(name=plan.name, namespace=settings.namespace, labels=labels),
        spec=client.V1JobSpec(
            backoff_limit=0,
            active_deadline_seconds=settings.active_deadline_seconds,
            ttl_seconds_after_finished=settings.ttl_seconds_after_finished,
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels), spec=pod
            ),
        ),
    )


def _resources(settings: KubernetesValidatorSettings) -> client.V1ResourceRequirements:
    return client.V1ResourceRequirements(
        requests={"cpu": settings.cpu_request, "memory": settings.memory_request},
        limits={"cpu": settings.cpu_limit, "memory": settings.memory_limit},
    )
