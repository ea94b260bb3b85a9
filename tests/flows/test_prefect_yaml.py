"""prefect.yaml names the real flows and schedules them as `tagen up` serves them."""

from __future__ import annotations

from pathlib import Path

import yaml
from prefect.flows import load_flow_from_entrypoint

ROOT = Path(__file__).resolve().parents[2]


def test_deployments_point_at_the_three_flows_with_schedules():
    from tagen.serve import INDEXING_INTERVAL_S, RETENTION_CRON

    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    deployments = {d["name"]: d for d in config["deployments"]}
    assert set(deployments) == {"request-lifecycle", "retention-nightly", "knowledge-indexing"}
    flow_names = {
        name: load_flow_from_entrypoint(str(ROOT / d["entrypoint"])).name
        for name, d in deployments.items()
    }
    assert flow_names == {
        "request-lifecycle": "request-lifecycle",
        "retention-nightly": "retention",
        "knowledge-indexing": "knowledge-indexing",
    }
    assert deployments["retention-nightly"]["schedules"][0]["cron"] == RETENTION_CRON
    assert deployments["knowledge-indexing"]["schedules"][0]["interval"] == INDEXING_INTERVAL_S
    assert {d["work_pool"]["name"] for d in deployments.values()} == {"tagen-process"}
