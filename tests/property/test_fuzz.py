"""A few hundred generated inputs for each fuzz target (``python -m bench.fuzz`` runs 10k)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings

from tests.property.targets import TARGETS

EXAMPLES = 300


@pytest.mark.parametrize("target", TARGETS.values(), ids=TARGETS.keys())
def test_untrusted_input_raises_only_typed_errors(target: Callable[[], None]) -> None:
    # The same examples on every run (the bench explores); the deadline catches a hang
    # (examples take milliseconds), not slowness; no example database in the checkout.
    run = settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=timedelta(seconds=10),
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )(target)
    run()
