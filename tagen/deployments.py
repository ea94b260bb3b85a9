"""The deployment entrypoints: the three flows, each providing tagen's backends when it runs.

prefect.yaml and `tagen up` (tagen.serve) point their deployments here, not at `flows/`. A flow
run that Prefect starts in a fresh process loads its flow from this module; the flow's
`on_running` hook registers the composition root's backend factory when the run starts (and
again when a suspended run resumes in a new process), before its first task. Importing this
module provides nothing, and nothing is built until a task asks. Tasks thus get their backends
from tagen without importing tagen.
"""

from __future__ import annotations

from typing import Any

from prefect import Flow

from flows.knowledge_indexing import knowledge_indexing as _knowledge_indexing
from flows.request_lifecycle import request_lifecycle as _request_lifecycle
from flows.retention import retention as _retention
from tagen.wiring import install


def provide_backends(flow: Flow[Any, Any], flow_run: Any, state: Any) -> None:
    """on_running hook: this process's tasks get the configured backends."""
    install()


knowledge_indexing = _knowledge_indexing.with_options(on_running=[provide_backends])
request_lifecycle = _request_lifecycle.with_options(on_running=[provide_backends])
retention = _retention.with_options(on_running=[provide_backends])

__all__ = ["knowledge_indexing", "request_lifecycle", "retention"]
