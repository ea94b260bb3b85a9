"""The deployment runner started by `tagen up`: serves the three flows from one process.

`serve` needs no work pool, which is what a laptop wants; production uses prefect.yaml with a
process or Kubernetes work pool instead. Entrypoints and schedules match prefect.yaml: each
deployment runs its flow through `tagen.deployments`, which provides the tasks' backends.
"""

from __future__ import annotations

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

ENTRYPOINTS = "tagen.deployments"
RETENTION_CRON = "30 2 * * *"
INDEXING_INTERVAL_S = 900


def main() -> None:
    serve(
        RunnerDeployment.from_entrypoint(
            f"{ENTRYPOINTS}.request_lifecycle", name="request-lifecycle"
        ),
        RunnerDeployment.from_entrypoint(
            f"{ENTRYPOINTS}.retention",
            name="retention-nightly",
            cron=RETENTION_CRON,
            parameters={"dry_run": False},
        ),
        RunnerDeployment.from_entrypoint(
            f"{ENTRYPOINTS}.knowledge_indexing",
            name="knowledge-indexing",
            interval=INDEXING_INTERVAL_S,
        ),
        print_starting_message=False,
        limit=8,
    )


if __name__ == "__main__":
    main()
