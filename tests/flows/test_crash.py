"""kill -9 in the middle of a lifecycle step, a representative subset of `python -m bench.crash`:
the flow-run process while its validation ran (its debug bundle stored, its verdict not
committed), the same process once the verdict was committed, and the database server under a
validation about to commit. The request ends COMPLETED each time, and its rows, objects and audit
entries show nothing lost, orphaned or duplicated."""

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


@pytest.mark.parametrize(
    ("point", "target", "how", "swept"),
    [
        # resumed: the run left RUNNING is continued (not left holding its slot beside a new
        # one), and the bundle it stored without its row is removed
        ("commit", "flow", "resumed", 1),
        # resumed: the committed verdict completes the request (no v2 generated again)
        ("committed", "flow", "resumed", 0),
        # the same run: its commit fails, the bundle is compensated, the task retries
        ("commit", "database", "same run", 0),
    ],
)
def test_a_kill_in_the_middle_of_validation_loses_orphans_and_duplicates_nothing(
    lab: Lab, point: str, target: str, how: str, swept: int
):
    outcome = run(run_scenario(lab, Scenario("run_validation", point, target)))

    census = outcome.census
    assert (outcome.how, census.status, census.problems) == (how, "COMPLETED", [])
    assert (census.samples, census.revisions, census.validations) == (1, 1, 1)
    assert census.swept == swept
