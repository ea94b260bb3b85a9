"""The circuit breaker's state machine (pure: an injected clock)."""

from __future__ import annotations

import pytest

from storage.breaker import BreakerPolicy, BreakerState, CircuitBreaker, CircuitOpenError


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_n_consecutive_failures_only() -> None:
    clock = Clock()
    breaker = CircuitBreaker("llm", BreakerPolicy(failures=3, open_seconds=30), clock=clock)
    breaker.record_failure("a")
    breaker.record_failure("b")
    breaker.record_success()  # the count is of consecutive failures
    breaker.record_failure("c")
    breaker.record_failure("d")
    breaker.check()
    breaker.record_failure("e")
    with pytest.raises(CircuitOpenError, match="llm circuit is open for another 30 s"):
        breaker.check()
    outcome = breaker.outcome()
    assert outcome.succeeded and outcome.trailing_failures == 3 and outcome.last_error == "e"


def test_after_the_open_time_one_trial_decides() -> None:
    clock = Clock()
    state = BreakerState(failures=3, open_until=clock.now + 10)
    breaker = CircuitBreaker("llm", BreakerPolicy(3, 10), state=state, clock=clock)
    assert breaker.seconds_open() == 10
    clock.now += 10
    breaker.check()  # the trial goes through
    breaker.record_failure("still down")
    assert breaker.seconds_open() == 10  # one failure re-opens it at once
    clock.now += 10
    assert breaker.call(lambda: "up") == "up"
    assert breaker.state == BreakerState()


def test_call_records_a_failure_and_re_raises() -> None:
    breaker = CircuitBreaker("pinecone", BreakerPolicy(1, 60), clock=Clock())
    with pytest.raises(ZeroDivisionError):
        breaker.call(lambda: 1 / 0)
    with pytest.raises(CircuitOpenError):
        breaker.call(lambda: "never called")
    assert breaker.outcome().last_error == "ZeroDivisionError: division by zero"
