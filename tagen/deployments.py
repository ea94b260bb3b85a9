"""The deployment entrypoints: the three flows, with tagen's backends provided to their tasks.

prefect.yaml and `tagen up` (tagen.serve) point their deployments here, not at `flows/`: a flow
run that Prefect starts in a fresh process imports this module first, and importing it
registers the composition root's backend factory (nothing is built until a task asks). Tasks
thus get their backends from tagen without importing tagen.
"""

from __future__ import annotations

from flows.knowledge_indexing import knowledge_indexing
from flows.request_lifecycle import request_lifecycle
from flows.retention import retention
from tagen.wiring import install

install()

__all__ = ["knowledge_indexing", "request_lifecycle", "retention"]
