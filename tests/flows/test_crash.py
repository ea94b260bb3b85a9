"""kill -9 in the middle of lifecycle steps, a representative subset of `python -m bench.crash`:
the flow-run process while its validation ran (its verdict not committed, its debug bundle
stored), and the database server while samples were being recorded (uploaded, not committed).
The request ends COMPLETED either way, and its rows, objects and audit entries show nothing
lost, orphaned or duplicated."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bench.crash import Scenario, run_scenario
from bench.lifecycle_lab import Lab, open_lab
from tests.flows.conftest import run


@pytest.fixture(scope="module")
def lab(prefect_server: None, test_backends: Any) -> Iterator[Lab]:
    from tasks import backends as task_backends

    with open_lab() as opened:
        yield opened
    task_backends.install(test_backends)


def test_a_flow_run_killed_while_validating_is_resumed_and_its_validation_continued(lab: Lab):
    outcome = run(run_scenario(lab, Scenario("run_validation", "commit", "flow")))

    census = outcome.census
    assert (outcome.how, census.status, census.problems) == ("resumed", "COMPLETED", [])
    # one revision, one validation run (continued, not abandoned in RUNNING beside a new one)
    assert (census.revisions, census.validations) == (1, 1)
    assert census.swept == 1  # the bundle the killed run stored before its verdict's commit


def test_a_database_killed_while_samples_are_recorded_loses_nothing(lab: Lab):
    outcome = run(run_scenario(lab, Scenario("ingest_samples", "commit", "database")))

    census = outcome.census
    assert (outcome.how, census.status, census.problems) == ("same run", "COMPLETED", [])
    assert (census.samples, census.revisions, census.validations) == (1, 1, 1)
