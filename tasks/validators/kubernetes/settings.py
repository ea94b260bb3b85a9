"""Settings of the kubernetes validator (env prefix TAGEN_K8S_); tagen's wiring builds them
when a kubernetes validation is first needed."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_LIMIT_BYTES = 1024 * 1024
"""What the API server accepts for one Secret or ConfigMap (etcd's object limit)."""


class KubernetesValidatorSettings(BaseSettings):
    """Where and how the Splunk validation Jobs run."""

    model_config = SettingsConfigDict(env_prefix="TAGEN_K8S_", extra="ignore")

    namespace: str = Field(default="tagen", description="namespace of the Jobs and Secrets")
    image: str = Field(default="splunk/splunk", description="the official Splunk image")
    splunk_version: str = Field(default="9.4", description="image tag (Splunk version)")
    image_pull_policy: str = Field(default="IfNotPresent")
    image_pull_secrets: str = Field(default="", description="comma-separated Secret names")
    service_account: str | None = Field(
        default=None, description="the pods' ServiceAccount (they need no API access)"
    )
    cpu_request: str = "1"
    memory_request: str = "2Gi"
    cpu_limit: str = "2"
    memory_limit: str = "4Gi"
    active_deadline_seconds: int = Field(
        default=1200, ge=1, description="the Job is killed after this long, pulls included"
    )
    ttl_seconds_after_finished: int = Field(
        default=600, ge=0, description="the cluster deletes a finished Job this long after"
    )
    grace_seconds: int = Field(
        default=60, ge=0, description="how long past the deadline the runner waits for the Job"
    )
    poll_seconds: float = Field(default=2.0, gt=0, description="Job and pod status polling")
    inline_max_bytes: int = Field(
        default=SECRET_LIMIT_BYTES - 64 * 1024,
        gt=0,
        le=SECRET_LIMIT_BYTES,
        description="inputs whose Secret would be larger are fetched by an init container",
    )
    presign_seconds: int = Field(
        default=3600, ge=60, description="lifetime of the init container's object-store URLs"
    )
    max_events_per_sample: int = Field(
        default=50_000, ge=1, description="events a search may print to the pod log"
    )
    max_log_bytes: int = Field(
        default=256 * 1024, ge=1024, description="pod log kept in validation_logs"
    )
    index: str = Field(default="main", description="the Splunk index the samples go to")
    kubeconfig: Path | None = Field(
        default=None, description="kubeconfig file (default: in-cluster, else ~/.kube/config)"
    )
    context: str | None = Field(default=None, description="kubeconfig context")
    in_cluster: bool | None = Field(
        default=None,
        description="use the pod's ServiceAccount; None: when KUBERNETES_SERVICE_HOST is set",
    )
    service_host: str | None = Field(
        default=None,
        validation_alias="KUBERNETES_SERVICE_HOST",
        description="set by Kubernetes in every pod (read, not configured)",
    )

    @property
    def use_in_cluster(self) -> bool:
        """in_cluster, or when unset: running in a pod with no kubeconfig given."""
        if self.in_cluster is not None:
            return self.in_cluster
        return self.kubeconfig is None and self.service_host is not None

    @property
    def image_ref(self) -> str:
        return f"{self.image}:{self.splunk_version}"

    @property
    def pull_secret_names(self) -> list[str]:
        return [name.strip() for name in self.image_pull_secrets.split(",") if name.strip()]
