"""The deployment runner started by `tagen up`: serves the three flows from one process.

`serve` needs no work pool, which is what a laptop wants; production uses prefect.yaml with a
process or Kubernetes work pool instead. Schedules match prefect.yaml.
"""

from __future__ import annotations

from typing import Any

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.knowledge_indexing import knowledge_indexing
from flows.request_lifecycle import request_lifecycle
from flows.retention import retention

RETENTION_CRON = "30 2 * * *"
INDEXING_INTERVAL_S = 900


def _sync(deployment: Any) -> RunnerDeployment:
    """`to_deployment` of an async flow is typed as maybe-a-coroutine; outside a loop it is not."""
    assert isinstance(deployment, RunnerDeployment)
    return deployment


def main() -> None:
    serve(
        _sync(request_lifecycle.to_deployment(name="request-lifecycle")),
        _sync(
            retention.to_deployment(
                name="retention-nightly", cron=RETENTION_CRON, parameters={"dry_run": False}
            )
        ),
        _sync(
            knowledge_indexing.to_deployment(
                name="knowledge-indexing", interval=INDEXING_INTERVAL_S
            )
        ),
        print_starting_message=False,
        limit=8,
    )


if __name__ == "__main__":
    main()
