"""Fuzz the readers of untrusted input at scale: examples/s and findings per target.

    python -m bench.fuzz [--examples 10000] [--target "safe_unpack"] [--seed N]

Runs each property of ``tests/property/targets.py`` (the conf parser, the sample reader, the
strptime emulator, safe_unpack) on freshly random inputs; the test suite runs a few hundred
fixed ones. A finding is the shrunk input hypothesis reports: fix it in the engine and pin it
with ``@example`` on the target. A 5 s deadline per example turns a hang into a finding.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, seed, settings

from tests.property.targets import TARGETS


@dataclass
class Outcome:
    target: str
    examples: int
    seconds: float
    finding: str | None


def run_target(name: str, target: Callable[[], None], examples: int, chosen: int | None) -> Outcome:
    """Run one target for ``examples`` generated inputs, counting the calls it gets."""
    hooks: Any = target.hypothesis  # type: ignore[attr-defined]
    inner = hooks.inner_test
    calls = 0

    def counting(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        inner(*args, **kwargs)

    hooks.inner_test = counting
    configured = settings(
        max_examples=examples,
        deadline=timedelta(seconds=5),
        database=None,
        suppress_health_check=list(HealthCheck),
    )(target)
    if chosen is not None:
        configured = seed(chosen)(configured)
    finding = None
    start = time.perf_counter()
    try:
        configured()
    except Exception as exc:  # the finding, after hypothesis shrank it
        finding = f"{type(exc).__name__}: {' '.join(str(exc).split())[:400]}"
    finally:
        hooks.inner_test = inner
    return Outcome(name, calls, time.perf_counter() - start, finding)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--target", choices=sorted(TARGETS), action="append")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    names = args.target or list(TARGETS)
    print(f"{'target':<24} {'examples':>9} {'seconds':>8} {'examples/s':>11}  findings")
    found = 0
    for name in names:
        outcome = run_target(name, TARGETS[name], args.examples, args.seed)
        rate = outcome.examples / outcome.seconds if outcome.seconds else 0.0
        print(
            f"{name:<24} {outcome.examples:>9} {outcome.seconds:>8.1f} {rate:>11.1f}  "
            f"{outcome.finding or 0}",
            flush=True,
        )
        found += outcome.finding is not None
    print(f"{found} finding(s) in {len(names)} target(s)")


if __name__ == "__main__":
    main()
