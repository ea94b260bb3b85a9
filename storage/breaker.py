"""Circuit breakers for the external providers (the LLM, embeddings, Pinecone).

After ``failures`` consecutive failed calls a provider's circuit opens for ``open_seconds``:
callers stop asking it (and fall back: the rules instead of the LLM, full-text instead of
vectors) instead of waiting out its timeouts again and again. When that time is over the next
call is a trial: a success closes the circuit, a failure opens it again at once.

:class:`CircuitBreaker` is the in-process state (thread-safe, with an injectable clock). Flow
runs are separate processes, so the lifecycle also keeps the state per provider in PostgreSQL
(``circuit_breakers``, :class:`storage.db.repositories.circuit_breaker.CircuitBreakerRepository`):
a run starts from the stored state and merges its :class:`BreakerOutcome` back when it ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

ResultT = TypeVar("ResultT")

LLM = "llm"
EMBEDDINGS = "embeddings"
PINECONE = "pinecone"
PROVIDERS = (LLM, EMBEDDINGS, PINECONE)


class CircuitOpenError(RuntimeError):
    """A call refused because the provider's circuit is open."""

    def __init__(self, provider: str, seconds_left: float) -> None:
        super().__init__(
            f"{provider} circuit is open for another {seconds_left:.0f} s after repeated failures"
        )
        self.provider = provider
        self.seconds_left = seconds_left


@dataclass(frozen=True)
class BreakerPolicy:
    failures: int = 3
    """Consecutive failures that open the circuit."""
    open_seconds: float = 300.0


@dataclass(frozen=True)
class BreakerState:
    failures: int = 0
    """Consecutive failures so far."""
    open_until: float | None = None
    """Epoch seconds until which calls are refused (None: closed)."""


@dataclass(frozen=True)
class BreakerOutcome:
    """What one process saw, to merge into the shared state: whether any call succeeded, the
    failures after the last success, the last error."""

    succeeded: bool
    trailing_failures: int
    state: BreakerState
    last_error: str | None = None

    @property
    def used(self) -> bool:
        return self.succeeded or self.trailing_failures > 0


class CircuitBreaker:
    def __init__(
        self,
        provider: str,
        policy: BreakerPolicy,
        *,
        state: BreakerState | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.provider = provider
        self.policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._state = state or BreakerState()
        self._succeeded = False
        self._trailing = 0
        self._last_error: str | None = None

    @property
    def state(self) -> BreakerState:
        return self._state

    def seconds_open(self) -> float:
        """How long calls are still refused (0: the circuit lets a call through)."""
        until = self._state.open_until
        return max(0.0, until - self._clock()) if until is not None else 0.0

    def check(self) -> None:
        """Raise :class:`CircuitOpenError` while the circuit is open."""
        left = self.seconds_open()
        if left > 0:
            raise CircuitOpenError(self.provider, left)

    def record_success(self) -> None:
        with self._lock:
            self._state = BreakerState()
            self._succeeded = True
            self._trailing = 0

    def record_failure(self, error: str = "") -> None:
        with self._lock:
            failures = self._state.failures + 1
            open_until = self._state.open_until
            if failures >= self.policy.failures:
                open_until = self._clock() + self.policy.open_seconds
            self._state = BreakerState(failures, open_until)
            self._trailing += 1
            self._last_error = error or self._last_error

    def call(self, fn: Callable[[], ResultT]) -> ResultT:
        """``fn()`` through the breaker: refused while open, its outcome recorded."""
        self.check()
        try:
            result = fn()
        except Exception as exc:
            self.record_failure(f"{type(exc).__name__}: {exc}")
            raise
        self.record_success()
        return result

    def outcome(self) -> BreakerOutcome:
        with self._lock:
            return BreakerOutcome(self._succeeded, self._trailing, self._state, self._last_error)
