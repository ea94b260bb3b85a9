"""A loopback fake of the Kubernetes API for the kubernetes validator, spoken over real HTTP.

No cluster runs here, so this server answers the endpoints the runner uses, in the API's JSON,
and the real `kubernetes` client talks to it (Configuration(host=...) or a kubeconfig):

    POST   /apis/batch/v1/namespaces/{ns}/jobs                  create a Job
    GET    /apis/batch/v1/namespaces/{ns}/jobs/{name}[/status]  read a Job
    DELETE /apis/batch/v1/namespaces/{ns}/jobs/{name}           delete a Job (and its pods)
    GET    /api/v1/namespaces/{ns}/pods?labelSelector=k=v       list pods
    GET    /api/v1/namespaces/{ns}/pods/{name}/log?container=c  read a pod's log
    POST   /api/v1/namespaces/{ns}/secrets                      create a Secret
    DELETE /api/v1/namespaces/{ns}/secrets/{name}               delete a Secret

Anything else answers 404 and is recorded in `unexpected`. A "kubelet" moves the Job's one pod
along each time it is looked at, by `scenario`:

- `splunk`: the pod plays the splunk/splunk container running run.sh. It reads its inputs
  only through the Job's manifest (Secret volumes and items, or the init container's
  presigned URLs fetched over HTTP), refuses to start without the license accepted or a
  password, and "indexes" each sample as samples.tsv says with the engine's sandbox standing
  in for Splunk, then prints each search-N.spl's events as the export endpoint's JSON lines
  between run.sh's markers. Job Complete.
- `image_pull`: the container waits in ErrImagePull / ImagePullBackOff; the Job never ends.
- `oom`: the container is OOMKilled; Job Failed (BackoffLimitExceeded).
- `deadline`: the pod runs, then the Job fails with DeadlineExceeded and its pod is removed.
- `hang`: the pod runs forever (cancel and runner-timeout tests).
- `no_markers`: the container exits 0 after provisioning without printing any events.
- `script_error`: run.sh fails (a oneshot error), exit code 1; Job Failed.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from urllib.parse import parse_qs, urlparse

from engine.sandbox.pipeline import run_sandbox
from engine.sandbox.validate import opened_ta
from engine.settings import SandboxSettings

NOW = datetime(2024, 6, 1, tzinfo=UTC)
"""The fake Splunk's clock (index time of the events)."""

_JOBS = re.compile(r"^/apis/batch/v1/namespaces/([^/]+)/jobs(?:/([^/]+))?(/status)?$")
_PODS = re.compile(r"^/api/v1/namespaces/([^/]+)/pods(?:/([^/]+)/log)?$")
_SECRETS = re.compile(r"^/api/v1/namespaces/([^/]+)/secrets(?:/([^/]+))?$")
_SPL_VALUE = r'{}="((?:[^"\\]|\\.)*)"'


def _spl_value(search: str, name: str) -> str:
    found = re.search(_SPL_VALUE.format(name), search)
    assert found, f"{name}=... missing from the search {search!r}"
    return found.group(1).replace('\\"', '"').replace("\\\\", "\\")


@dataclass
class FakePod:
    name: str
    labels: dict[str, str]
    spec: dict[str, Any]
    phase: str = "Pending"
    reason: str | None = None
    container_state: dict[str, Any] = field(
        default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}}
    )
    log: str | None = None
    looks: int = 0

    def to_api(self, namespace: str) -> dict[str, Any]:
        container = self.spec["containers"][0]
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": self.name, "namespace": namespace, "labels": self.labels},
            "spec": self.spec,
            "status": {
                "phase": self.phase,
                **({"reason": self.reason} if self.reason else {}),
                "containerStatuses": [
                    {
                        "name": container["name"],
                        "image": container["image"],
                        "imageID": "",
                        "ready": self.phase == "Running",
                        "restartCount": 0,
                        "state": self.container_state,
                    }
                ],
            },
        }


@dataclass
class FakeJob:
    body: dict[str, Any]
    uid: str
    conditions: list[dict[str, Any]] = field(default_factory=list)
    succeeded: int = 0
    failed: int = 0

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    def to_api(self) -> dict[str, Any]:
        body = json.loads(json.dumps(self.body))
        body["metadata"]["uid"] = self.uid
        body["status"] = {
            "conditions": self.conditions,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "active": 0 if self.conditions else 1,
        }
        return body


class FakeCluster:
    """The state behind the fake API server, and what the tests inspect."""

    def __init__(self) -> None:
        self.scenario = "splunk"
        self.sandbox = SandboxSettings(now=NOW)
        self.namespaces_seen: set[str] = set()
        self.jobs: dict[str, FakeJob] = {}
        self.pods: dict[str, FakePod] = {}
        self.secrets: dict[str, dict[str, Any]] = {}
        self.created_jobs: list[dict[str, Any]] = []
        self.created_secrets: list[dict[str, Any]] = []
        self.deleted: list[tuple[str, str, str | None]] = []
        """(kind, name, propagationPolicy) of each DELETE."""
        self.unexpected: list[str] = []
        self.calls: set[tuple[str, str, str]] = set()
        """(API group, resource, verb) of each request served: what RBAC must allow."""
        self.url = ""
        self.lock = threading.Lock()

    # --- the API ---------------------------------------------------------------------------

    def create_job(self, namespace: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.namespaces_seen.add(namespace)
        name = body["metadata"]["name"]
        if name in self.jobs:
            return 409, _status(409, "AlreadyExists", f'jobs.batch "{name}" already exists')
        job = FakeJob(body=body, uid=str(uuid.uuid4()))
        self.jobs[name] = job
        self.created_jobs.append(body)
        template = body["spec"]["template"]
        pod = FakePod(
            name=f"{name}-{uuid.uuid4().hex[:5]}",
            labels={**template["metadata"]["labels"], "job-name": name},
            spec=template["spec"],
        )
        self.pods[pod.name] = pod
        return 201, job.to_api()

    def read_job(self, name: str) -> tuple[int, dict[str, Any]]:
        job = self.jobs.get(name)
        if job is None:
            return 404, _status(404, "NotFound", f'jobs.batch "{name}" not found')
        for pod in self._pods_of(name):
            self._advance(job, pod)
        return 200, job.to_api()

    def delete_job(self, name: str, propagation: str | None) -> tuple[int, dict[str, Any]]:
        self.deleted.append(("Job", name, propagation))
        job = self.jobs.pop(name, None)
        if job is None:
            return 404, _status(404, "NotFound", f'jobs.batch "{name}" not found')
        for pod in self._pods_of(name):
            del self.pods[pod.name]
        return 200, job.to_api()

    def list_pods(self, namespace: str, selector: str) -> dict[str, Any]:
        key, _, value = selector.partition("=")
        items = [p for p in self.pods.values() if p.labels.get(key) == value]
        return {
            "apiVersion": "v1",
            "kind": "PodList",
            "metadata": {},
            "items": [pod.to_api(namespace) for pod in items],
        }

    def pod_log(self, name: str, container: str | None) -> tuple[int, Any]:
        pod = self.pods.get(name)
        if pod is None:
            return 404, _status(404, "NotFound", f'pods "{name}" not found')
        if container != pod.spec["containers"][0]["name"]:
            return 400, _status(
                400, "BadRequest", f"container {container} is not valid for pod {name}"
            )
        if pod.log is None:
            return 400, _status(
                400, "BadRequest", f'container "{container}" in pod "{name}" is waiting to start'
            )
        return 200, pod.log

    def create_secret(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name = body["metadata"]["name"]
        if name in self.secrets:
            return 409, _status(409, "AlreadyExists", f'secrets "{name}" already exists')
        self.secrets[name] = body
        self.created_secrets.append(body)
        return 201, body

    def delete_secret(self, name: str, propagation: str | None) -> tuple[int, dict[str, Any]]:
        self.deleted.append(("Secret", name, propagation))
        body = self.secrets.pop(name, None)
        if body is None:
            return 404, _status(404, "NotFound", f'secrets "{name}" not found')
        return 200, body

    # --- the kubelet -----------------------------------------------------------------------

    def _pods_of(self, job: str) -> list[FakePod]:
        return [pod for pod in self.pods.values() if pod.labels.get("job-name") == job]

    def _advance(self, job: FakeJob, pod: FakePod) -> None:
        """One step of the pod's life per look, as the scenario says."""
        pod.looks += 1
        if job.conditions or pod.looks < 2:
            return
        scenario = self.scenario
        if scenario == "image_pull":
            reason = "ErrImagePull" if pod.looks == 2 else "ImagePullBackOff"
            image = pod.spec["containers"][0]["image"]
            pod.container_state = {
                "waiting": {
                    "reason": reason,
                    "message": f'Back-off pulling image "{image}": not found',
                }
            }
        elif scenario == "hang" or (scenario == "deadline" and pod.looks == 2):
            pod.phase, pod.log = "Running", "provisioning Splunk...\n"
            pod.container_state = {"running": {"startedAt": "2024-06-01T00:00:00Z"}}
        elif scenario == "deadline":
            job.conditions = [
                _condition(
                    "Failed", "DeadlineExceeded", "Job was active longer than specified deadline"
                )
            ]
            job.failed = 1
            del self.pods[pod.name]
        elif scenario == "oom":
            self._finish(
                job, pod, exit_code=137, reason="OOMKilled", log="provisioning Splunk...\n"
            )
        elif scenario == "script_error":
            self._finish(
                job,
                pod,
                exit_code=1,
                reason="Error",
                log="provisioning...\nIn handler 'oneshotinput': file not found\n",
            )
        elif scenario == "no_markers":
            self._finish(
                job,
                pod,
                exit_code=0,
                reason="Completed",
                log="provisioning Splunk...\nPLAY RECAP ok=42\n",
            )
        else:
            exit_code, log = self._run_splunk(pod)
            self._finish(
                job,
                pod,
                exit_code=exit_code,
                reason="Completed" if exit_code == 0 else "Error",
                log=log,
            )

    def _finish(self, job: FakeJob, pod: FakePod, *, exit_code: int, reason: str, log: str) -> None:
        pod.log = log
        pod.phase = "Succeeded" if exit_code == 0 else "Failed"
        pod.container_state = {"terminated": {"exitCode": exit_code, "reason": reason}}
        if exit_code == 0:
            job.succeeded = 1
            job.conditions = [_condition("Complete", None, None)]
        else:
            job.failed = 1
            job.conditions = [
                _condition(
                    "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"
                )
            ]

    # --- the splunk/splunk container running run.sh ------------------------------------------

    def _files(self, pod: FakePod) -> tuple[dict[str, bytes], dict[str, str]]:
        """The main container's files by path (its volumes) and its environment."""
        spec = pod.spec
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        container = spec["containers"][0]
        files: dict[str, bytes] = {}
        for mount in container["volumeMounts"]:
            volume = volumes[mount["name"]]
            if "secret" in volume:
                secret = self.secrets[volume["secret"]["secretName"]]
                for item in volume["secret"]["items"]:
                    data = base64.b64decode(secret["data"][item["key"]])
                    files[f"{mount['mountPath']}/{item['path']}"] = data
            else:
                assert "emptyDir" in volume, volume
                files.update(self._init_container(spec, mount["mountPath"], files))
        env: dict[str, str] = {}
        for var in container["env"]:
            if "value" in var:
                env[var["name"]] = var["value"]
            else:
                ref = var["valueFrom"]["secretKeyRef"]
                secret = self.secrets[ref["name"]]
                env[var["name"]] = base64.b64decode(secret["data"][ref["key"]]).decode()
        return files, env

    def _init_container(
        self, spec: dict[str, Any], target: str, files: dict[str, bytes]
    ) -> dict[str, bytes]:
        """What fetch.sh downloads into the emptyDir: urls.tsv's presigned URLs, over HTTP."""
        [init] = spec["initContainers"]
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        plan_mount = next(m for m in init["volumeMounts"] if "secret" in volumes[m["name"]])
        secret = self.secrets[volumes[plan_mount["name"]]["secret"]["secretName"]]
        urls = base64.b64decode(secret["data"]["urls.tsv"]).decode()
        assert init["command"][-1].endswith("/fetch.sh")
        fetched = {}
        for line in urls.splitlines():
            name, url = line.split("\t")
            with urllib.request.urlopen(url, timeout=10) as response:
                fetched[f"{target}/{name}"] = response.read()
        return fetched

    def _run_splunk(self, pod: FakePod) -> tuple[int, str]:
        files, env = self._files(pod)
        container = pod.spec["containers"][0]
        if "--accept-license" not in env.get("SPLUNK_START_ARGS", ""):
            return (
                1,
                "License not accepted, please ensure SPLUNK_START_ARGS contains --accept-license\n",
            )
        if len(env.get("SPLUNK_PASSWORD", "")) < 8:
            return 1, "ERROR: the admin password must be at least 8 characters\n"
        script = container["command"][-1]
        if script not in files or b"add oneshot" not in files[script]:
            return 127, f"/bin/bash: {script}: No such file or directory\n"
        plan_dir = script.rsplit("/", 1)[0]
        app = env.get("SPLUNK_APPS_URL", "")
        if app not in files:
            return 1, f"TASK [splunk_common : Install apps] FAILED: {app} not found\n"
        lines = ["PLAY [Run default Splunk provisioning] ***", "PLAY RECAP ok=42 failed=0"]
        with TemporaryDirectory(prefix="fake-splunk-") as tmp:
            root = Path(tmp)
            (root / "ta.tgz").write_bytes(files[app])
            indexed: list[tuple[str, str, list[dict[str, Any]]]] = []
            with opened_ta(root / "ta.tgz") as ta:
                for row in files[f"{plan_dir}/samples.tsv"].decode().splitlines():
                    path, sourcetype, host = row.split("\t")
                    if path not in files:
                        return 1, "\n".join(
                            [*lines, f"In handler 'oneshotinput': {path} not found"]
                        )
                    local = root / f"sample-{len(indexed)}"
                    local.write_bytes(files[path])
                    indexed.append(
                        (sourcetype, path, self._index(ta, local, sourcetype, path, host))
                    )
            n = 0
            while f"{plan_dir}/search-{n}.spl" in files:
                search = files[f"{plan_dir}/search-{n}.spl"].decode()
                lines.append(f"@@tagen-events-begin {n}@@")
                lines.extend(_export(search, indexed))
                lines.append(f"@@tagen-events-end {n}@@")
                n += 1
        lines.append("@@tagen-done@@")
        return 0, "\n".join(lines) + "\n"

    def _index(
        self, ta: Any, sample: Path, sourcetype: str, source: str, host: str
    ) -> list[dict[str, Any]]:
        """The events Splunk would return for one oneshot input, as export results."""
        collected = _Collect()
        run_sandbox(
            ta=ta,
            samples=[sample],
            sourcetype=sourcetype,
            source=source,
            host=host,
            settings=self.sandbox,
            sinks=[collected],
        )
        return collected.out


class _Collect:
    """An engine event sink turning each event into a Splunk search result."""

    def __init__(self) -> None:
        self.out: list[dict[str, Any]] = []

    def write(self, event: Any) -> None:
        result: dict[str, Any] = {
            "_raw": event.raw,
            "_time": (event.time or NOW).isoformat(timespec="milliseconds")
            if event.time_error is None
            else NOW.isoformat(timespec="milliseconds"),
            "_indextime": str(int(NOW.timestamp())),
            "_cd": f"0:{len(self.out)}",
            "_serial": str(len(self.out)),
            "source": event.source,
            "sourcetype": event.sourcetype,
            "host": event.host,
            "index": "main",
            "linecount": str(event.linecount),
            "splunk_server": "fake-splunk",
        }
        if event.time_error is None and event.time is not None:
            result["timestartpos"], result["timeendpos"] = "0", "19"
        for name, values in event.fields.items():
            if values:
                result[name] = values[0] if len(values) == 1 else list(values)
        if event.eventtypes:
            result["eventtype"] = list(event.eventtypes)
        if event.tags:
            result["tag"] = list(event.tags)
        self.out.append(result)


def _export(search: str, indexed: list[tuple[str, str, list[dict[str, Any]]]]) -> Iterator[str]:
    """The export endpoint's JSON lines for `search` (its sourcetype, source and head)."""
    assert search.startswith("search index="), search
    assert "| fields *" in search, search
    sourcetype, source = _spl_value(search, "sourcetype"), _spl_value(search, "source")
    head = int(re.search(r"\| head (\d+)", search).group(1))  # type: ignore[union-attr]
    results = [
        event
        for st, src, events in indexed
        if st == sourcetype and src == source
        for event in events
    ][:head]
    for offset, result in enumerate(results):
        row: dict[str, Any] = {"preview": False, "offset": offset, "result": result}
        if offset == len(results) - 1:
            row["lastrow"] = True
        yield json.dumps(row)


def _condition(kind: str, reason: str | None, message: str | None) -> dict[str, Any]:
    condition = {"type": kind, "status": "True", "lastTransitionTime": "2024-06-01T00:00:00Z"}
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Status",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
    }


class _Handler(BaseHTTPRequestHandler):
    cluster: FakeCluster

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}") if length else {}

    def _send(self, code: int, payload: Any) -> None:
        if isinstance(payload, str):
            data, kind = payload.encode(), "text/plain"
        else:
            data, kind = json.dumps(payload).encode(), "application/json"
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        cluster = self.cluster
        with cluster.lock:
            jobs, pods, secrets = (
                _JOBS.match(url.path),
                _PODS.match(url.path),
                _SECRETS.match(url.path),
            )
            if jobs and method == "POST" and not jobs.group(2):
                cluster.calls.add(("batch", "jobs", "create"))
                return self._send(*cluster.create_job(jobs.group(1), self._body()))
            if jobs and method == "GET" and jobs.group(2):
                cluster.calls.add(("batch", "jobs/status" if jobs.group(3) else "jobs", "get"))
                return self._send(*cluster.read_job(jobs.group(2)))
            if jobs and method == "DELETE" and jobs.group(2) and not jobs.group(3):
                cluster.calls.add(("batch", "jobs", "delete"))
                policy = self._body().get("propagationPolicy") or query.get("propagationPolicy")
                return self._send(*cluster.delete_job(jobs.group(2), policy))
            if pods and method == "GET" and not pods.group(2) and "labelSelector" in query:
                cluster.calls.add(("", "pods", "list"))
                return self._send(200, cluster.list_pods(pods.group(1), query["labelSelector"]))
            if pods and method == "GET" and pods.group(2):
                cluster.calls.add(("", "pods/log", "get"))
                return self._send(*cluster.pod_log(pods.group(2), query.get("container")))
            if secrets and method == "POST" and not secrets.group(2):
                cluster.calls.add(("", "secrets", "create"))
                return self._send(*cluster.create_secret(self._body()))
            if secrets and method == "DELETE" and secrets.group(2):
                cluster.calls.add(("", "secrets", "delete"))
                policy = self._body().get("propagationPolicy") or query.get("propagationPolicy")
                return self._send(*cluster.delete_secret(secrets.group(2), policy))
            cluster.unexpected.append(f"{method} {self.path}")
        return self._send(404, _status(404, "NotFound", f"{method} {url.path} is not served here"))

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")


@contextmanager
def fake_kubernetes() -> Iterator[FakeCluster]:
    """Serve a fresh fake cluster on 127.0.0.1 (a free port) for the duration."""
    cluster = FakeCluster()
    handler = type("Handler", (_Handler,), {"cluster": cluster})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    cluster.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield cluster
    finally:
        server.shutdown()
        server.server_close()


def kubeconfig(path: Path, cluster: FakeCluster, *, namespace: str = "tagen") -> Path:
    """A kubeconfig file pointing at the fake (what a platform team's would look like)."""
    import yaml

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": cluster.url}}],
        "users": [{"name": "tagen", "user": {"token": "fake-token"}}],
        "contexts": [
            {
                "name": "fake",
                "context": {"cluster": "fake", "user": "tagen", "namespace": namespace},
            }
        ],
        "current-context": "fake",
    }
    path.write_text(yaml.safe_dump(config))
    return path
