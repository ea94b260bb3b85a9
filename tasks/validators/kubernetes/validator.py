"""The kubernetes validator: one Job running the official Splunk image per validation run.

The runner fetches the package and samples (to read the TA and write the debug bundle), creates
the Job and then its Secret (owned by the Job), polls the Job and its pod until it completes,
fails or runs out of time, reads the pod log into the engine's report and deletes the Job and
Secret. Whatever stops it midway (asyncio cancellation, Prefect's TerminationSignal on
SIGTERM, an error) deletes the Job too, with Foreground propagation so its pod goes first;
`activeDeadlineSeconds` and `ttlSecondsAfterFinished` bound what a killed runner leaves.

The cluster's own failures become a FAILED report naming them: image pull errors, OOMKilled,
the deadline, a runner-side timeout, a log without its markers. API errors (unreachable,
forbidden) raise: there is no verdict then.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from engine.conf.ta import TA
from engine.sandbox.bundle import write_bundle
from engine.sandbox.events import Event
from engine.sandbox.pipeline import DEFAULT_HOST, default_sourcetype
from engine.sandbox.report import SampleRun, ValidationReport
from engine.sandbox.routes import InputRoute
from engine.sandbox.splunk_results import SplunkResults
from engine.sandbox.validate import opened_ta
from engine.settings import SandboxSettings
from storage.objects import ObjectStore, SupportsPresignedUrls
from tasks.validators.kubernetes.manifest import (
    CONTAINER,
    JOB_LABEL,
    TA_FILE,
    JobPlan,
    PlannedSample,
    build_job,
    build_secret,
    input_key,
    job_name,
    new_password,
    plan_files,
    secret_size,
)
from tasks.validators.kubernetes.pod_log import PodLogReader
from tasks.validators.kubernetes.settings import KubernetesValidatorSettings
from tasks.validators.protocol import (
    ValidationInput,
    ValidationResult,
    failed_report,
    fetch_inputs,
    store_bundle,
)

log = logging.getLogger(__name__)

PULL_ERRORS = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
)
REQUEST_TIMEOUT_S = 30
LOG_CHUNK = 64 * 1024
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


class InputsTooLargeError(ValueError):
    """The inputs exceed the Secret limit and the object store cannot presign URLs."""


def load_api_client(settings: KubernetesValidatorSettings) -> client.ApiClient:
    """In-cluster credentials (the worker's ServiceAccount) or a kubeconfig, as configured."""
    configuration = client.Configuration()
    if settings.use_in_cluster:
        config.load_incluster_config(client_configuration=configuration)
    else:
        config.load_kube_config(
            config_file=str(settings.kubeconfig) if settings.kubeconfig else None,
            context=settings.context,
            client_configuration=configuration,
        )
    return client.ApiClient(configuration)


@dataclass(frozen=True)
class JobEnd:
    """How the Job ended: the pod whose log to read, and what went wrong (None: completed)."""

    pod: str | None
    failure: str | None


def _statuses(pod: client.V1Pod) -> list[Any]:
    status = pod.status
    if status is None:
        return []
    return [*(status.init_container_statuses or []), *(status.container_statuses or [])]


def pod_failure(pod: client.V1Pod, settings: KubernetesValidatorSettings) -> str | None:
    """A failure the pod shows before (or instead of) the Job: image pulls, OOM, eviction."""
    for status in _statuses(pod):
        waiting = status.state.waiting if status.state else None
        if waiting is not None and waiting.reason in PULL_ERRORS:
            return (
                f"image pull failed for {status.image or settings.image_ref} "
                f"({waiting.reason}): {waiting.message or 'no message'}"
            )
        for state in (status.state, status.last_state):
            terminated = state.terminated if state else None
            if terminated is not None and terminated.reason == "OOMKilled":
                return (
                    f"container {status.name} was OOMKilled (memory limit "
                    f"{settings.memory_limit}): raise TAGEN_K8S_MEMORY_LIMIT"
                )
    if pod.status is not None and pod.status.phase == "Failed" and pod.status.reason:
        return f"pod failed ({pod.status.reason}): {pod.status.message or 'no message'}"
    return None


def _exit_code(pod: client.V1Pod | None) -> str | None:
    for status in _statuses(pod) if pod is not None else []:
        terminated = status.state.terminated if status.state else None
        if terminated is not None and terminated.exit_code:
            return f"container {status.name} exited with code {terminated.exit_code}"
    return None


def job_outcome(
    job: client.V1Job, settings: KubernetesValidatorSettings
) -> tuple[bool, str | None]:
    """(finished, failure) from the Job's conditions."""
    status = job.status
    for condition in (status.conditions if status else None) or []:
        if condition.status != "True":
            continue
        if condition.type in ("Failed", "FailureTarget"):
            if condition.reason == "DeadlineExceeded":
                return True, (
                    f"the Job ran past its activeDeadlineSeconds "
                    f"({settings.active_deadline_seconds} s)"
                )
            return True, f"the Job failed ({condition.reason}): {condition.message or ''}".strip()
        if condition.type == "Complete":
            return True, None
    return bool(status and status.succeeded), None


class SigtermCancels:
    """While inside, SIGTERM cancels the running task, so the Job is deleted by the task itself.

    Prefect's flow-run processes turn SIGTERM into TerminationSignal raised from a signal
    handler. Raised while the event loop runs one of its callbacks (a sleep's wake-up, a
    thread's result), asyncio's callback runner logs it and carries on: the run then hangs
    polling the Job. A loop signal handler instead cancels the task; on the way out the signal
    goes to the handler that was there before (Prefect's, or the default one that ends the
    process). Outside the main thread the process's own handling stays as it is.
    """

    def __init__(self) -> None:
        self.received = False
        self._previous: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __enter__(self) -> SigtermCancels:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        previous = signal.getsignal(signal.SIGTERM)

        def cancel() -> None:
            self.received = True
            if task is not None:
                task.cancel()

        try:
            loop.add_signal_handler(signal.SIGTERM, cancel)
        except (RuntimeError, ValueError):  # not the main thread
            return self
        self._loop, self._previous = loop, previous
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is None:
            return
        self._loop.remove_signal_handler(signal.SIGTERM)
        signal.signal(signal.SIGTERM, self._previous)
        if self.received:
            signal.raise_signal(signal.SIGTERM)


class UnsupportedInputRouteError(ValueError):
    """The request asks for an ingestion route this validator cannot reproduce."""


class KubernetesValidator:
    def __init__(
        self,
        *,
        objects: ObjectStore,
        settings: KubernetesValidatorSettings,
        sandbox_settings: SandboxSettings,
        api_client: client.ApiClient | None = None,
    ) -> None:
        self.settings = settings
        self._objects = objects
        self._api_client = api_client
        self._sandbox_settings = sandbox_settings

    def _client(self) -> client.ApiClient:
        if self._api_client is None:
            self._api_client = load_api_client(self.settings)
        return self._api_client

    async def validate(self, job: ValidationInput) -> ValidationResult:
        if job.input_route is not InputRoute.MONITOR:
            raise UnsupportedInputRouteError(
                f"the kubernetes validator ingests samples with `splunk add oneshot` (the "
                f"monitor route); input route {job.input_route.value!r} needs "
                "VALIDATION_BACKEND=local"
            )
        settings = self.settings
        with tempfile.TemporaryDirectory(prefix="tagen-k8s-") as tmp:
            workdir = Path(tmp)
            archive, sample_paths = await asyncio.to_thread(
                fetch_inputs, self._objects, job, workdir
            )
            with opened_ta(archive) as ta:
                plan = self._plan(job, ta, archive, sample_paths, settings)
                runs = [
                    SampleRun(path=s.path, sourcetype=s.sourcetype, source=s.path, host=s.host)
                    for s in plan.samples
                ]
                results = SplunkResults(ta=ta, settings=self._sandbox_settings)
                reader = PodLogReader(
                    results=results,
                    runs=runs,
                    max_events=settings.max_events_per_sample,
                    max_log_bytes=settings.max_log_bytes,
                )
                with SigtermCancels():
                    failure = await self._run_job(plan, reader, settings)
                report, failing = self._judge(ta, results, reader, failure)
                bundle_path = workdir / "bundle.zip"
                write_bundle(
                    bundle_path, report=report, ta=ta, failing_events=failing, samples=sample_paths
                )
            bundle = await asyncio.to_thread(store_bundle, self._objects, job, bundle_path)
        return ValidationResult(
            report=report, runner=plan.name, logs=reader.log.text(), bundle=bundle
        )

    @staticmethod
    def _judge(
        ta: TA, results: SplunkResults, reader: PodLogReader, failure: str | None
    ) -> tuple[ValidationReport, list[Event]]:
        problem = failure or reader.problem()
        if problem is not None:
            return failed_report(ta=ta.app_id, ta_version=ta.version, reason=problem), []
        outcome = results.result()
        return outcome.report, outcome.failing_events

    def _plan(
        self,
        job: ValidationInput,
        ta: TA,
        archive: Path,
        sample_paths: Sequence[Path],
        settings: KubernetesValidatorSettings,
    ) -> JobPlan:
        """The Job's plan: inputs inline in the Secret when it stays under the limit, else
        presigned URLs for the init container."""
        names: list[str] = []
        for index, sample in enumerate(job.samples):
            name = _UNSAFE_NAME.sub("_", sample.filename).lstrip(".") or "sample.log"
            names.append(f"{index:02d}-{name}" if name in names else name)
        planned = tuple(
            PlannedSample(
                filename=name,
                sourcetype=job.sourcetype or default_sourcetype(ta, Path(sample.filename)),
                host=DEFAULT_HOST,
            )
            for name, sample in zip(names, job.samples, strict=True)
        )
        local = {TA_FILE: archive} | {
            s.input_name: path for s, path in zip(planned, sample_paths, strict=True)
        }
        keys = {TA_FILE: job.package_key} | {
            s.input_name: sample.key for s, sample in zip(planned, job.samples, strict=True)
        }
        bare = JobPlan(
            name=job_name(job.run_id),
            run_id=job.run_id,
            samples=planned,
            inline=None,
            urls=None,
            password=new_password(),
        )
        sizes = {key: len(value) for key, value in plan_files(bare, settings).items()}
        sizes |= {input_key(name): path.stat().st_size for name, path in local.items()}
        size = secret_size(sizes)
        if size <= settings.inline_max_bytes:
            inline = {name: path.read_bytes() for name, path in local.items()}
            return replace(bare, inline=inline)
        store = self._objects
        if not isinstance(store, SupportsPresignedUrls):
            raise InputsTooLargeError(
                f"the TA and samples need a {size}-byte Secret, more than "
                f"TAGEN_K8S_INLINE_MAX_BYTES={settings.inline_max_bytes}, and the object store "
                "cannot hand out URLs to an init container: use TAGEN_OBJECTS_URL=s3://..."
            )
        urls = {
            name: store.presigned_url(key, expires_in=settings.presign_seconds)
            for name, key in keys.items()
        }
        return replace(bare, urls=urls)

    async def _run_job(
        self, plan: JobPlan, reader: PodLogReader, settings: KubernetesValidatorSettings
    ) -> str | None:
        """Create, watch, read and delete the Job; the failure that ended it, if any."""
        batch = client.BatchV1Api(self._client())
        core = client.CoreV1Api(self._client())
        created = False
        try:
            job = await asyncio.to_thread(
                batch.create_namespaced_job,
                settings.namespace,
                build_job(plan, settings),
                _request_timeout=REQUEST_TIMEOUT_S,
            )
            created = True
            log.info("validation Job %s/%s created", settings.namespace, plan.name)
            uid = job.metadata.uid if job.metadata else None
            if not uid:
                raise RuntimeError(f"the API server returned Job {plan.name} without a uid")
            await asyncio.to_thread(
                core.create_namespaced_secret,
                settings.namespace,
                build_secret(plan, settings, job_uid=uid),
                _request_timeout=REQUEST_TIMEOUT_S,
            )
            end = await self._wait(plan, batch, core, settings)
            if end.pod is not None:
                await asyncio.to_thread(self._read_log, core, end.pod, reader, settings)
        except BaseException:
            if created:
                self._delete(plan, settings, propagation="Foreground")
            raise
        self._delete(plan, settings, propagation="Background")
        return end.failure

    async def _wait(
        self,
        plan: JobPlan,
        batch: client.BatchV1Api,
        core: client.CoreV1Api,
        settings: KubernetesValidatorSettings,
    ) -> JobEnd:
        limit_s = settings.active_deadline_seconds + settings.grace_seconds
        deadline = time.monotonic() + limit_s
        while True:
            job = await asyncio.to_thread(
                batch.read_namespaced_job_status,
                plan.name,
                settings.namespace,
                _request_timeout=REQUEST_TIMEOUT_S,
            )
            pods = await asyncio.to_thread(
                core.list_namespaced_pod,
                settings.namespace,
                label_selector=f"{JOB_LABEL}={plan.name}",
                _request_timeout=REQUEST_TIMEOUT_S,
            )
            pod = pods.items[0] if pods.items else None
            name = pod.metadata.name if pod is not None and pod.metadata else None
            failure = pod_failure(pod, settings) if pod is not None else None
            if failure is not None:
                return JobEnd(pod=name, failure=failure)
            finished, failure = job_outcome(job, settings)
            if finished:
                exited = _exit_code(pod)
                if failure is not None and exited is not None and "Deadline" not in failure:
                    failure = f"{failure}; {exited} (see validation_logs)"
                return JobEnd(pod=name, failure=failure)
            if time.monotonic() > deadline:
                return JobEnd(
                    pod=name, failure=f"no result from the Job within {limit_s} s (timed out)"
                )
            await asyncio.sleep(settings.poll_seconds)

    def _read_log(
        self,
        core: client.CoreV1Api,
        pod: str,
        reader: PodLogReader,
        settings: KubernetesValidatorSettings,
    ) -> None:
        try:
            response: Any = core.read_namespaced_pod_log(
                pod,
                settings.namespace,
                container=CONTAINER,
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT_S,
            )
        except ApiException as exc:
            reader.log.add(f"[no log from pod {pod}: {_api_message(exc)}]")
            return
        try:
            for line in _lines(response.stream(LOG_CHUNK)):
                reader.feed(line)
        finally:
            response.release_conn()

    def _delete(
        self, plan: JobPlan, settings: KubernetesValidatorSettings, *, propagation: str
    ) -> None:
        """Delete the Job (its pods with it) and the Secret; blocking on purpose, so it also
        runs while the loop is being torn down. Gone already is fine; other errors are
        logged: the Job's TTL and deadline still bound what is left."""
        api = self._client()
        body = client.V1DeleteOptions(propagation_policy=propagation)
        calls = (
            (client.BatchV1Api(api).delete_namespaced_job, "Job"),
            (client.CoreV1Api(api).delete_namespaced_secret, "Secret"),
        )
        for delete, kind in calls:
            try:
                delete(plan.name, settings.namespace, body=body, _request_timeout=REQUEST_TIMEOUT_S)
            except ApiException as exc:
                if exc.status != 404:
                    log.warning("could not delete %s %s: %s", kind, plan.name, _api_message(exc))
            except Exception as exc:
                log.warning("could not delete %s %s: %s", kind, plan.name, exc)


def _api_message(exc: ApiException) -> str:
    """The API server's own message (a Status object's), else the HTTP status."""
    try:
        message = json.loads(exc.body or "{}").get("message")
    except (TypeError, ValueError, AttributeError):
        message = None
    return f"{exc.status} {message or exc.reason}"


def _lines(chunks: Iterator[bytes]) -> Iterator[str]:
    """Text lines of a byte stream (a line split across chunks is joined)."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line.decode("utf-8", errors="replace")
    if pending:
        yield pending.decode("utf-8", errors="replace")
